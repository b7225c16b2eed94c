package topology

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/go-viper/mapstructure/v2"

	"github.com/peerlab/peerlab/internal/lazy"
)

// isExtension reports whether a top-level key is an `x-` extension key:
// ignored by the loader, it is where YAML anchors for reuse can live.
func isExtension(key string) bool { return strings.HasPrefix(key, "x-") }

// decodeRaw decodes viper's settings strictly into a rawTopology: unknown
// keys and type mismatches are errors, nothing is converted weakly. Nodes
// are decoded one by one so that a node with a bad field is still known to
// the peerings that name it (mapstructure drops failed map entries).
func decodeRaw(settings map[string]any, c *collector, skip map[string]bool) *rawTopology {
	raw := &rawTopology{}
	nodes, ok := settings["nodes"].(map[string]any)
	if ok {
		settings = maps.Clone(settings)
		delete(settings, "nodes")
		raw.Nodes = map[string]*rawNode{}
		for _, name := range slices.Sorted(maps.Keys(nodes)) {
			rn := &rawNode{}
			decodeInto(nodes[name], rn, joinKey("nodes", name), c, skip)
			raw.Nodes[name] = rn
		}
	}
	decodeInto(settings, raw, "", c, skip)
	return raw
}

// decodeInto decodes input into result, the raw type found at path base.
func decodeInto(input, result any, base string, c *collector, skip map[string]bool) {
	dec, err := mapstructure.NewDecoder(&mapstructure.DecoderConfig{
		ErrorUnused:      true,
		WeaklyTypedInput: false,
		DecodeHook:       prefixHook,
		Result:           result,
	})
	if err != nil {
		c.add(base, fmt.Sprintf("internal error: %v", err))
		return
	}
	if err := dec.Decode(input); err != nil {
		d := decodeReport{c: c, skip: skip, base: base, root: reflect.TypeOf(result).Elem().String()}
		d.report(err)
	}
}

var (
	rawPrefixType = reflect.TypeFor[rawPrefix]()
	rawRoutesList = reflect.TypeFor[[]rawRoutes]()
)

// prefixHook turns the short prefix form `- 192.168.0.0/24` into
// `- {prefix: 192.168.0.0/24}`, and a single `routes:` mapping into a
// one-item list.
func prefixHook(from, to reflect.Type, data any) (any, error) {
	if to == rawPrefixType && from.Kind() == reflect.String {
		return map[string]any{"prefix": data}, nil
	}
	if to == rawRoutesList && from.Kind() == reflect.Map {
		return []any{data}, nil
	}
	return data, nil
}

var invalidKeysRE = lazy.Regexp(`^has invalid keys: (.*)$`)

// decodeReport turns mapstructure's errors for one decode call into
// collector entries.
type decodeReport struct {
	c    *collector
	skip map[string]bool // paths the YAML walk already reported
	base string          // topology path of the decoded value
	root string          // Go type name mapstructure uses for the root
}

// report flattens mapstructure's joined errors into collector entries with
// paths in the topology's notation.
func (d *decodeReport) report(err error) {
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range joined.Unwrap() {
			d.report(e)
		}
		return
	}
	de, ok := err.(*mapstructure.DecodeError)
	if !ok {
		// Decode wraps the joined errors in "decoding failed due to…".
		if inner := errors.Unwrap(err); inner != nil {
			d.report(inner)
			return
		}
		d.c.add(d.base, err.Error())
		return
	}
	name := de.Name()
	if name == d.root {
		name = ""
	}
	path := decoderPath(d.base, name)
	d.c.decoded = append(d.c.decoded, path)
	inner := de.Unwrap()
	if m := invalidKeysRE().FindStringSubmatch(inner.Error()); m != nil {
		known := knownKeys(path)
		for _, key := range strings.Split(m[1], ", ") {
			p := joinKey(path, key)
			if d.skip[p] {
				continue
			}
			msg := fmt.Sprintf("unknown key %q", key)
			if len(known) > 0 {
				msg += " (expected one of: " + strings.Join(known, ", ") + ")"
			}
			d.c.add(p, msg)
		}
		return
	}
	var item *itemError
	if errors.As(inner, &item) {
		d.c.add(joinIndex(path, item.index), item.msg)
		return
	}
	if d.skip[path] {
		return
	}
	d.c.add(path, decodeMessage(inner))
}

// decodeMessage rewords mapstructure's type errors for YAML users.
func decodeMessage(err error) string {
	var ut *mapstructure.UnconvertibleTypeError
	if errors.As(err, &ut) {
		return fmt.Sprintf("expected %s, got %s", typeWord(ut.Expected.Type()), describe(ut.Value))
	}
	var pe *mapstructure.ParseError
	if errors.As(err, &pe) {
		return fmt.Sprintf("expected %s, got %s", typeWord(pe.Expected.Type()), describe(pe.Value))
	}
	msg := err.Error()
	if rest, ok := strings.CutPrefix(msg, "expected a map or struct, got "); ok {
		return "expected a mapping, got " + kindWord(strings.Trim(rest, `"`))
	}
	if rest, ok := strings.CutPrefix(msg, "source data must be an array or slice, got "); ok {
		return "expected a list, got " + kindWord(rest)
	}
	return msg
}

// typeWord names a raw field type the way the format documentation does.
func typeWord(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "a mapping"
	case reflect.Int, reflect.Int64, reflect.Uint32, reflect.Uint8, reflect.Uint64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	default:
		return t.String()
	}
}

// kindWord names a Go reflect.Kind as the YAML value it came from.
func kindWord(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "map":
		return "a mapping"
	case "slice", "array":
		return "a list"
	case "bool":
		return "true or false"
	case "int", "int64", "uint64", "float64", "float32":
		return "a number"
	default:
		return kind
	}
}

var rawTopologyType = reflect.TypeFor[rawTopology]()

// decoderPath converts a mapstructure field name (`[tor].prefixes[1]`)
// relative to base into a topology path (`nodes.tor.prefixes[1]`): map keys
// become dotted, list indexes stay bracketed.
func decoderPath(base, name string) string {
	var b strings.Builder
	b.WriteString(base)
	for name != "" {
		i := strings.IndexByte(name, '[')
		if i < 0 {
			b.WriteString(joinSep(b.Len(), name))
			break
		}
		j := strings.IndexByte(name[i:], ']')
		if j < 0 {
			b.WriteString(joinSep(b.Len(), name))
			break
		}
		key := name[i+1 : i+j]
		if i > 0 {
			b.WriteString(joinSep(b.Len(), name[:i]))
		}
		if _, err := strconv.Atoi(key); err == nil && !isMapField(b.String()) {
			b.WriteString("[" + key + "]")
		} else {
			b.WriteString(joinSep(b.Len(), key))
		}
		name = name[i+j+1:]
	}
	return b.String()
}

// joinSep prefixes seg with "." unless it starts the path or already
// starts with one.
func joinSep(n int, seg string) string {
	if n == 0 || strings.HasPrefix(seg, ".") {
		return seg
	}
	return "." + seg
}

// isMapField reports whether the field at path is a YAML mapping keyed by
// node names (nodes, peer-asn) rather than a list.
func isMapField(path string) bool {
	t := typeAt(path)
	return t != nil && t.Kind() == reflect.Map
}

// typeAt walks the raw types along a topology path and returns the Go type
// found there, or nil when the path leaves the format.
func typeAt(path string) reflect.Type {
	t := rawTopologyType
	for _, seg := range splitPath(path) {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch {
		case strings.HasPrefix(seg, "["):
			if t.Kind() != reflect.Slice {
				return nil
			}
			t = t.Elem()
		case t.Kind() == reflect.Map:
			t = t.Elem()
		case t.Kind() == reflect.Struct:
			f, ok := fieldByTag(t, seg)
			if !ok {
				return nil
			}
			t = f.Type
		default:
			return nil
		}
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// splitPath splits `a.b[2].c` into "a", "b", "[2]", "c".
func splitPath(path string) []string {
	var segs []string
	for _, dotted := range strings.Split(path, ".") {
		for dotted != "" {
			i := strings.IndexByte(dotted[1:], '[')
			if i < 0 {
				segs = append(segs, dotted)
				break
			}
			segs = append(segs, dotted[:i+1])
			dotted = dotted[i+1:]
		}
	}
	return segs
}

func fieldByTag(t reflect.Type, tag string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Tag.Get("mapstructure") == tag {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// knownKeys lists the keys allowed in the mapping at path, for "unknown key"
// messages.
func knownKeys(path string) []string {
	t := typeAt(path)
	if t == nil || t.Kind() != reflect.Struct {
		return nil
	}
	var keys []string
	for i := range t.NumField() {
		if tag := t.Field(i).Tag.Get("mapstructure"); tag != "" {
			keys = append(keys, tag)
		}
	}
	return keys
}
