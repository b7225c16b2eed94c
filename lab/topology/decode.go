package topology

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// isExtension reports whether a top-level key is an `x-` extension key:
// ignored by the loader, it is where YAML anchors for reuse can live.
func isExtension(key string) bool { return strings.HasPrefix(key, "x-") }

// valueDecoder is implemented by the raw types that take more than one
// YAML form (rawNumber, rawDuration, rawNodeSet, rawWords). fromValue gets
// the value as nodeValue gives it; an *itemError is reported at the item.
type valueDecoder interface {
	fromValue(v any) error
}

var (
	rawPrefixType    = reflect.TypeFor[rawPrefix]()
	rawRoutesList    = reflect.TypeFor[[]rawRoutes]()
	valueDecoderType = reflect.TypeFor[valueDecoder]()
)

// decodeRaw decodes the document root (checked by checkExpansion) strictly
// into a rawTopology: unknown keys and type mismatches are errors, nothing
// is converted weakly. Nodes are decoded first, in name order, and a node
// with a bad field is still kept so that the peerings naming it do not
// report it unknown; their names in that order and lines come with it.
func decodeRaw(root *yaml.Node, c *collector, skip map[string]bool) (*rawTopology, nodeOrder) {
	d := &nodeDecoder{c: c, skip: skip, tables: map[reflect.Type]*fieldTable{}, valueDecoders: map[reflect.Type]bool{},
		merged: mergedEntries{}, plain: map[reflect.Type]bool{}, shared: map[sharedKey]reflect.Value{}}
	raw := &rawTopology{}
	var order nodeOrder
	top := entries(root, true)
	for i, e := range top {
		nodes := resolveAlias(e.val)
		if e.key != "nodes" || nodes.Kind != yaml.MappingNode {
			continue
		}
		top = slices.Delete(slices.Clone(top), i, i+1)
		list := entries(nodes, false)
		slices.SortFunc(list, func(a, b entry) int { return strings.Compare(a.key, b.key) })
		raw.Nodes = make(map[string]*rawNode, len(list))
		order.names, order.lines = make([]string, len(list)), make([]int, len(list))
		line := c.index.childLines("nodes", nodes)
		for i, n := range list {
			rn := &rawNode{}
			d.decodeAt(n.val, reflect.ValueOf(rn).Elem(), joinKey("nodes", n.key))
			raw.Nodes[n.key] = rn
			order.names[i], order.lines[i] = n.key, line(n)
		}
		break
	}
	d.base, d.segs = "", d.segs[:0]
	d.decodeStruct(top, reflect.ValueOf(raw).Elem())
	return raw, order
}

// nodeDecoder decodes yaml.Node values into the raw types by reflection,
// reporting every problem to the collector with its path.
type nodeDecoder struct {
	c      *collector
	skip   map[string]bool // paths the YAML walk already reported
	tables map[reflect.Type]*fieldTable
	// valueDecoders caches which types implement valueDecoder.
	valueDecoders map[reflect.Type]bool
	// merged holds the entries of the mappings merge keys bring in.
	merged mergedEntries
	// inShared is true while decoding a value reached through an alias or
	// a merge key: the same YAML node may be decoded again elsewhere.
	inShared bool
	// shared holds the values decoded without error from such nodes, for
	// the types plain allows, so that a node merged into many others is
	// decoded once.
	shared map[sharedKey]reflect.Value
	// plain caches isPlain per type.
	plain map[reflect.Type]bool
	// ents is reused for the entries of each mapping decoded into a
	// struct (decodeStruct is done with them before it decodes a field).
	ents []entry
	// base and segs are the path of the value being decoded.
	base string
	segs []pathSeg
}

// fieldTable is the YAML keys of a raw struct type, in field order.
type fieldTable struct {
	keys  []string
	index map[string]int
	// known lists the keys for messages.
	known string
}

// maxFields bounds the number of fields of a raw struct type.
const maxFields = 32

// table returns the field table of the struct type t, built once per
// decoder.
func (d *nodeDecoder) table(t reflect.Type) *fieldTable {
	if tab, ok := d.tables[t]; ok {
		return tab
	}
	tab := &fieldTable{index: map[string]int{}}
	for i := range t.NumField() {
		key := t.Field(i).Tag.Get("yaml")
		tab.keys = append(tab.keys, key)
		if key != "" {
			tab.index[key] = i
		}
	}
	if len(tab.keys) > maxFields {
		panic(fmt.Sprintf("%s has more than %d fields", t, maxFields))
	}
	var known []string
	for _, k := range tab.keys {
		if k != "" {
			known = append(known, k)
		}
	}
	tab.known = strings.Join(known, ", ")
	d.tables[t] = tab
	return tab
}

// isValueDecoder reports whether *t implements valueDecoder.
func (d *nodeDecoder) isValueDecoder(t reflect.Type) bool {
	is, ok := d.valueDecoders[t]
	if !ok {
		is = reflect.PointerTo(t).Implements(valueDecoderType)
		d.valueDecoders[t] = is
	}
	return is
}

// sharedKey is a YAML node decoded into a Go type.
type sharedKey struct {
	n *yaml.Node
	t reflect.Type
}

// isPlain reports whether values of type t can be shared between the
// places that decode the same YAML node: t holds nothing mutable that the
// loader could hand out twice (no slice, map or interface), only strings,
// numbers, booleans, and structs or pointers of those. The loader never
// writes to a decoded raw value, and a value decoded without error does
// not depend on where it was decoded (only messages name the path).
func (d *nodeDecoder) isPlain(t reflect.Type) bool {
	is, ok := d.plain[t]
	if ok {
		return is
	}
	switch t.Kind() {
	case reflect.String, reflect.Bool, reflect.Int, reflect.Int64, reflect.Uint64, reflect.Float64:
		is = true
	case reflect.Pointer:
		is = d.isPlain(t.Elem())
	case reflect.Struct:
		is = true
		for i := range t.NumField() {
			is = is && d.isPlain(t.Field(i).Type)
		}
	}
	d.plain[t] = is
	return is
}

// fail records that the value at path did not decode, and reports msg
// unless the YAML walk already reported that path.
func (d *nodeDecoder) fail(path, msg string) {
	d.c.failed(path)
	if !d.skip[path] {
		d.c.add(path, msg)
	}
}

// pathSeg is one step of a path: a mapping key, or a list index (index
// is -1 for a key).
type pathSeg struct {
	key   string
	index int
}

func keySeg(key string) pathSeg { return pathSeg{key: key, index: -1} }

func indexSeg(i int) pathSeg { return pathSeg{index: i} }

// segText spells seg as it follows a path of pathLen bytes.
func segText(pathLen int, seg pathSeg) string {
	switch {
	case seg.index >= 0:
		return "[" + strconv.Itoa(seg.index) + "]"
	case pathLen == 0:
		return seg.key
	}
	return "." + seg.key
}

// path returns the path of the value being decoded; the decoder builds it
// only when a message needs it.
func (d *nodeDecoder) path() string {
	p := d.base
	for _, s := range d.segs {
		p += segText(len(p), s)
	}
	return p
}

// child decodes n into v at the path so far followed by seg.
func (d *nodeDecoder) child(n *yaml.Node, v reflect.Value, seg pathSeg) bool {
	d.segs = append(d.segs, seg)
	ok := d.decode(n, v)
	d.segs = d.segs[:len(d.segs)-1]
	return ok
}

// sharedChild is child for a value that is shared when merged (a merge
// key brought it in).
func (d *nodeDecoder) sharedChild(n *yaml.Node, v reflect.Value, seg pathSeg, merged bool) bool {
	if !merged || d.inShared {
		return d.child(n, v, seg)
	}
	d.inShared = true
	ok := d.child(n, v, seg)
	d.inShared = false
	return ok
}

// decodeAt decodes n into v at path (a complete path).
func (d *nodeDecoder) decodeAt(n *yaml.Node, v reflect.Value, path string) bool {
	d.base, d.segs = path, d.segs[:0]
	return d.decode(n, v)
}

// decode decodes n into v (settable) at d.path(). A null leaves v as it is.
// It returns false when something failed: a pointer or map entry whose
// value failed is then left unset, as is the pointer above a struct with
// an unknown key.
func (d *nodeDecoder) decode(n *yaml.Node, v reflect.Value) bool {
	if n.Kind == yaml.AliasNode && !d.inShared {
		d.inShared = true
		defer func() { d.inShared = false }()
	}
	n = resolveAlias(n)
	if isNull(n) {
		return true
	}
	t := v.Type()
	if d.inShared && d.isPlain(t) {
		key := sharedKey{n, t}
		if val, ok := d.shared[key]; ok {
			v.Set(val)
			return true
		}
		if !d.decodeValue(n, v) {
			return false
		}
		d.shared[key] = v
		return true
	}
	return d.decodeValue(n, v)
}

// decodeValue is decode for n (alias followed, not null) of type
// v.Type().
func (d *nodeDecoder) decodeValue(n *yaml.Node, v reflect.Value) bool {
	t := v.Type()
	switch {
	case t == rawPrefixType && n.Kind == yaml.ScalarNode:
		// The short form `- 192.168.0.0/24` stands for {prefix: …}.
		if s, ok := scalarValue(n).(string); ok {
			v.Addr().Interface().(*rawPrefix).Prefix = &s
			return true
		}
	case t == rawRoutesList && n.Kind == yaml.MappingNode:
		// A single `routes:` mapping is a one-item list.
		list := reflect.MakeSlice(t, 1, 1)
		ok := d.child(n, list.Index(0), indexSeg(0))
		v.Set(list)
		return ok
	}
	if v.CanAddr() && d.isValueDecoder(t) {
		err := v.Addr().Interface().(valueDecoder).fromValue(nodeValue(n, false))
		if err == nil {
			return true
		}
		if item, ok := err.(*itemError); ok {
			d.c.failed(d.path())
			d.c.add(joinIndex(d.path(), item.index), item.msg)
		} else {
			d.fail(d.path(), err.Error())
		}
		return false
	}
	switch t.Kind() {
	case reflect.Pointer:
		elem := reflect.New(t.Elem())
		if !d.decode(n, elem.Elem()) {
			return false
		}
		v.Set(elem)
		return true
	case reflect.Interface:
		if val := nodeValue(n, true); val != nil {
			v.Set(reflect.ValueOf(val))
		}
		return true
	case reflect.String:
		if n.Kind == yaml.ScalarNode {
			if n.Tag == "!!str" {
				v.SetString(n.Value)
				return true
			}
			if s, ok := scalarValue(n).(string); ok {
				v.SetString(s)
				return true
			}
		}
		d.fail(d.path(), "expected a string, got "+describe(nodeValue(n, false)))
		return false
	case reflect.Bool:
		if b, ok := nodeValue(n, false).(bool); ok {
			v.SetBool(b)
			return true
		}
		d.fail(d.path(), "expected true or false, got "+describe(nodeValue(n, false)))
		return false
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			d.fail(d.path(), "expected a mapping, got "+kindWord(kindOf(n)))
			return false
		}
		d.ents = appendEntries(d.ents[:0], n, false, d.merged)
		return d.decodeStruct(d.ents, v)
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			d.fail(d.path(), "expected a mapping, got "+describe(nodeValue(n, false)))
			return false
		}
		return d.decodeMap(n, v)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.fail(d.path(), "expected a list, got "+kindWord(kindOf(n)))
			return false
		}
		list := reflect.MakeSlice(t, len(n.Content), len(n.Content))
		ok := true
		for i, item := range n.Content {
			if !d.child(item, list.Index(i), indexSeg(i)) {
				ok = false
			}
		}
		v.Set(list)
		return ok
	}
	d.fail(d.path(), "internal error: cannot decode into "+t.String())
	return false
}

// decodeStruct decodes the entries of a mapping into the struct v, field
// by field, then reports the keys no field takes. ents may be reused once
// the fields are matched.
func (d *nodeDecoder) decodeStruct(ents []entry, v reflect.Value) bool {
	tab := d.table(v.Type())
	var vals [maxFields]*yaml.Node
	var merged [maxFields]bool
	var unknown []string
	for _, e := range ents {
		if i, ok := tab.index[e.key]; ok {
			vals[i], merged[i] = e.val, e.merged
		} else {
			unknown = append(unknown, e.key)
		}
	}
	if len(unknown) > 0 {
		// Keys are matched to fields ignoring case (Unicode folding),
		// which lower-casing alone does not cover.
		for i, key := range tab.keys {
			for j, u := range unknown {
				if vals[i] == nil && key != "" && strings.EqualFold(u, key) {
					e := ents[slices.IndexFunc(ents, func(e entry) bool { return e.key == u })]
					vals[i], merged[i] = e.val, e.merged
					unknown = slices.Delete(unknown, j, j+1)
					break
				}
			}
		}
	}
	ok := true
	for i, val := range vals[:len(tab.keys)] {
		if val != nil && !d.sharedChild(val, v.Field(i), keySeg(tab.keys[i]), merged[i]) {
			ok = false
		}
	}
	if len(unknown) == 0 {
		return ok
	}
	slices.Sort(unknown)
	d.c.failed(d.path())
	for _, key := range unknown {
		p := joinKey(d.path(), key)
		if d.skip[p] {
			continue
		}
		line := d.c.index.line(p)
		if d.c.past(line) {
			continue
		}
		d.c.addLine(line, p, fmt.Sprintf("unknown key %q (expected one of: %s)", key, tab.known))
	}
	return false
}

// decodeMap decodes the mapping n into the map v. An entry whose value
// fails is left out; a null value becomes the zero value.
func (d *nodeDecoder) decodeMap(n *yaml.Node, v reflect.Value) bool {
	t := v.Type()
	ents := appendEntries(make([]entry, 0, len(n.Content)/2), n, false, d.merged)
	m := reflect.MakeMapWithSize(t, len(ents))
	ok := true
	for _, e := range ents {
		val := reflect.New(t.Elem()).Elem()
		if !d.child(e.val, val, keySeg(e.key)) {
			ok = false
			continue
		}
		m.SetMapIndex(reflect.ValueOf(e.key).Convert(t.Key()), val)
	}
	v.Set(m)
	return ok
}

// kindOf names the Go kind of n's value as the messages of kindWord expect.
func kindOf(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "map"
	case yaml.SequenceNode:
		return "slice"
	}
	return reflect.ValueOf(scalarValue(n)).Kind().String()
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
