package k8s

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// jsonPatch applies an RFC 6902 JSON patch (add, remove, replace, test)
// to a copy of target.
func jsonPatch(target obj, data []byte) (obj, error) {
	var ops []struct {
		Op    string `json:"op"`
		Path  string `json:"path"`
		Value any    `json:"value"`
	}
	if err := json.Unmarshal(data, &ops); err != nil {
		return nil, fmt.Errorf("json patch: %w", err)
	}
	var doc any = deepCopy(target)
	for i, op := range ops {
		parts, err := pointer(op.Path)
		if err != nil || len(parts) == 0 {
			return nil, fmt.Errorf("json patch: operation %d: path %q is not a JSON pointer below the root", i, op.Path)
		}
		if doc, err = applyOp(doc, parts, op.Op, op.Value); err != nil {
			return nil, fmt.Errorf("json patch: operation %d (%s %s): %w", i, op.Op, op.Path, err)
		}
	}
	o, _ := doc.(map[string]any)
	return o, nil
}

// pointer splits an RFC 6901 JSON pointer.
func pointer(p string) ([]string, error) {
	if !strings.HasPrefix(p, "/") {
		return nil, fmt.Errorf("not a pointer")
	}
	parts := strings.Split(p[1:], "/")
	for i, s := range parts {
		parts[i] = strings.ReplaceAll(strings.ReplaceAll(s, "~1", "/"), "~0", "~")
	}
	return parts, nil
}

// applyOp applies one operation at path parts inside doc and returns doc.
func applyOp(doc any, parts []string, op string, value any) (any, error) {
	key := parts[0]
	if len(parts) > 1 {
		var child any
		switch d := doc.(type) {
		case map[string]any:
			c, ok := d[key]
			if !ok {
				return nil, fmt.Errorf("%q does not exist", key)
			}
			child = c
			nc, err := applyOp(child, parts[1:], op, value)
			if err != nil {
				return nil, err
			}
			d[key] = nc
			return d, nil
		case []any:
			i, err := strconv.Atoi(key)
			if err != nil || i < 0 || i >= len(d) {
				return nil, fmt.Errorf("index %q out of range", key)
			}
			nc, err := applyOp(d[i], parts[1:], op, value)
			if err != nil {
				return nil, err
			}
			d[i] = nc
			return d, nil
		}
		return nil, fmt.Errorf("%q is not inside an object or array", key)
	}
	switch d := doc.(type) {
	case map[string]any:
		_, exists := d[key]
		switch op {
		case "add":
			d[key] = value
		case "replace":
			if !exists {
				return nil, fmt.Errorf("%q does not exist", key)
			}
			d[key] = value
		case "remove":
			if !exists {
				return nil, fmt.Errorf("%q does not exist", key)
			}
			delete(d, key)
		case "test":
			if !reflect.DeepEqual(d[key], value) {
				return nil, fmt.Errorf("test failed")
			}
		default:
			return nil, fmt.Errorf("unsupported operation %q", op)
		}
		return d, nil
	case []any:
		if key == "-" && op == "add" {
			return append(d, value), nil
		}
		i, err := strconv.Atoi(key)
		if err != nil || i < 0 || i > len(d) || (op != "add" && i == len(d)) {
			return nil, fmt.Errorf("index %q out of range", key)
		}
		switch op {
		case "add":
			return append(d[:i], append([]any{value}, d[i:]...)...), nil
		case "replace":
			d[i] = value
		case "remove":
			return append(d[:i], d[i+1:]...), nil
		case "test":
			if !reflect.DeepEqual(d[i], value) {
				return nil, fmt.Errorf("test failed")
			}
		default:
			return nil, fmt.Errorf("unsupported operation %q", op)
		}
		return d, nil
	}
	return nil, fmt.Errorf("%q is not inside an object or array", key)
}
