package topology

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// isNodeName reports whether name is what a node name must look like,
// `[a-z][a-z0-9-]{0,31}`: it becomes part of namespace, interface and log
// names, so it stays short and plain. (A regexp took a tenth of the time
// of loading a file of 28,000 nodes.)
func isNodeName(name string) bool {
	if len(name) == 0 || len(name) > 32 || name[0] < 'a' || name[0] > 'z' {
		return false
	}
	for i := 1; i < len(name); i++ {
		if c := name[i]; (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

// lineIndex finds the 1-based line where a field path (`nodes.worker1.asn`,
// `peerings[2].between[1]`) appears in the source, by walking the YAML tree
// along the path. It sees the tree as written: keys lower-cased, the first
// of duplicate keys, no merge keys, aliases and top-level `x-` values not
// entered. It keeps no path strings, so its cost does not grow with the
// depth of the file or the length of its keys; the keys of large mappings
// are indexed on first use.
type lineIndex struct {
	root *yaml.Node
	keys map[*yaml.Node]map[string]int // key to its position in Content
}

func newLineIndex(root *yaml.Node) *lineIndex {
	return &lineIndex{root: root, keys: map[*yaml.Node]map[string]int{}}
}

// line returns the line of path, or of its nearest ancestor that appears in
// the file (a missing field is reported where its parent is), or 0.
func (x *lineIndex) line(path string) int {
	if x == nil {
		return 0
	}
	for p := path; p != ""; p = parentPath(p) {
		steps := maxLineSteps
		if l, ok := x.find(x.root, p, true, &steps); ok {
			return l
		}
	}
	return 0
}

// childLines returns a function that gives, for an entry of m, the mapping
// the decoder reads under the document's key top, the line
// x.line(joinKey(top, e.key)) gives, without a search when it can: when
// the key holds no '.' or '[' and no key of the document starts with top
// followed by one of them, that path can only name the key in top's own
// mapping (its first plain key of that name: the one entries keeps), or
// top itself for a key merged in (merge keys are not indexed).
func (x *lineIndex) childLines(top string, m *yaml.Node) func(e entry) int {
	if x == nil {
		return func(entry) int { return 0 }
	}
	tk, tv := x.lookup(x.root, top)
	ambiguous := false
	for i := 0; i+1 < len(x.root.Content); i += 2 {
		if c := x.root.Content[i]; indexedKey(c) {
			lower := strings.ToLower(c.Value)
			if len(lower) > len(top) && strings.HasPrefix(lower, top) && (lower[len(top)] == '.' || lower[len(top)] == '[') {
				ambiguous = true
			}
		}
	}
	return func(e entry) int {
		switch {
		case ambiguous || strings.ContainsAny(e.key, ".["):
			return x.line(joinKey(top, e.key))
		case tk == nil:
			return 0
		case e.merged:
			return tk.Line
		case tv != m || e.k.Kind != yaml.ScalarNode:
			return x.line(joinKey(top, e.key))
		}
		return e.k.Line
	}
}

// maxLineSteps bounds the search for one path: keys holding '.' or '['
// can make a path read several ways, and each is tried.
const maxLineSteps = 1000

// find follows rest, the path below n (the document's mapping when top),
// to its end and returns the line there.
func (x *lineIndex) find(n *yaml.Node, rest string, top bool, steps *int) (int, bool) {
	if *steps--; *steps < 0 {
		return 0, false
	}
	switch n.Kind {
	case yaml.SequenceNode:
		j := strings.IndexByte(rest, ']')
		if rest[0] != '[' || j < 0 {
			return 0, false
		}
		i, err := strconv.Atoi(rest[1:j])
		if err != nil || i < 0 || i >= len(n.Content) || rest[1:j] != strconv.Itoa(i) {
			return 0, false
		}
		if j+1 == len(rest) {
			return n.Content[i].Line, true
		}
		return x.find(n.Content[i], rest[j+1:], false, steps)
	case yaml.MappingNode:
		if !top {
			if rest[0] != '.' {
				return 0, false
			}
			rest = rest[1:]
		}
		// The longest key first: `a.b` names key "a.b" before key "a"'s b.
		for i := len(rest); i >= 0; i-- {
			if i < len(rest) && rest[i] != '.' && rest[i] != '[' {
				continue
			}
			k, v := x.lookup(n, rest[:i])
			switch {
			case k == nil:
			case i == len(rest):
				return k.Line, true
			case top && isExtension(strings.ToLower(k.Value)):
				// Nothing below an `x-` key is indexed.
			default:
				if l, ok := x.find(v, rest[i:], false, steps); ok {
					return l, true
				}
			}
		}
	}
	return 0, false
}

// lookup returns the first key of mapping n that lower-cases to key (a
// plain scalar, not a merge key), and its value.
func (x *lineIndex) lookup(n *yaml.Node, key string) (k, v *yaml.Node) {
	if len(n.Content) <= 2*smallMapping {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if c := n.Content[i]; indexedKey(c) && strings.ToLower(c.Value) == key {
				return c, n.Content[i+1]
			}
		}
		return nil, nil
	}
	keys, ok := x.keys[n]
	if !ok {
		keys = make(map[string]int, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			if c := n.Content[i]; indexedKey(c) {
				lower := strings.ToLower(c.Value)
				if _, dup := keys[lower]; !dup {
					keys[lower] = i
				}
			}
		}
		x.keys[n] = keys
	}
	i, ok := keys[key]
	if !ok {
		return nil, nil
	}
	return n.Content[i], n.Content[i+1]
}

// indexedKey reports whether a mapping key is one paths can name.
func indexedKey(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && k.Tag != "!!merge"
}

// parentPath strips the last `.key` or `[i]` segment of path.
func parentPath(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}

// joinKey appends a mapping key to path.
func joinKey(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// joinIndex appends a sequence index to path.
func joinIndex(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

// maxSkipPath bounds the paths the key check tells the decoder to stay quiet
// about: no path the decoder builds is longer (it passes at most two keys
// of the file, see maxKeyBytes).
const maxSkipPath = 4*maxKeyBytes + 256

// keyChecker walks a yaml.Node tree for the problems lower-casing keys
// would hide: upper-case keys, keys that differ only in case, duplicate
// keys and badly spelled node names. It keeps the path as a stack of
// segments, with its length and its first maxPath+1 bytes, so that a
// problem's path costs the same however deep and long the path is.
type keyChecker struct {
	segs  []pathSeg
	lens  []int  // length of the path up to each segment
	head  []byte // the path's first maxPath+1 bytes
	heads []int  // len(head) before each segment
	// c gets the problems; skip the lower-cased paths they are at, as the
	// decoder names them.
	c    *collector
	skip map[string]bool
	// scratch is reused to spell a problem's path.
	scratch []byte
	// last is the path of the last problem: its head, length and
	// excerpt.
	last struct {
		head  []byte
		total int
		path  string
	}
}

// checkKeys reports the key problems of the document's mapping root to c
// and returns the paths the decoder must stay quiet about.
func checkKeys(root *yaml.Node, c *collector) map[string]bool {
	kc := &keyChecker{c: c, skip: map[string]bool{}}
	kc.walk(root)
	return kc.skip
}

func (kc *keyChecker) pathLen() int {
	if len(kc.lens) == 0 {
		return 0
	}
	return kc.lens[len(kc.lens)-1]
}

func (kc *keyChecker) push(seg pathSeg) {
	n := kc.pathLen()
	kc.segs = append(kc.segs, seg)
	kc.lens = append(kc.lens, n+segLen(n, seg))
	kc.heads = append(kc.heads, len(kc.head))
	kc.head = appendSeg(kc.head, n, seg)
}

func (kc *keyChecker) pop() {
	last := len(kc.segs) - 1
	kc.head = kc.head[:kc.heads[last]]
	kc.segs, kc.lens, kc.heads = kc.segs[:last], kc.lens[:last], kc.heads[:last]
}

// segLen is len(segText(pathLen, seg)).
func segLen(pathLen int, seg pathSeg) int {
	switch {
	case seg.index >= 0:
		return len(strconv.Itoa(seg.index)) + 2
	case pathLen == 0:
		return len(seg.key)
	}
	return len(seg.key) + 1
}

// appendSeg appends segText(pathLen, seg) to head, keeping at most
// maxPath+1 bytes.
func appendSeg(head []byte, pathLen int, seg pathSeg) []byte {
	room := maxPath + 1 - len(head)
	if room <= 0 {
		return head
	}
	if seg.index >= 0 {
		var buf [24]byte
		b := append(strconv.AppendInt(append(buf[:0], '['), int64(seg.index), 10), ']')
		return append(head, b[:min(len(b), room)]...)
	}
	if pathLen > 0 {
		head = append(head, '.')
		room--
	}
	return append(head, seg.key[:min(len(seg.key), room)]...)
}

// problem reports msg at line, at the path so far followed by key:
// spelled (as written) in the message's path, lower (lower-cased) where
// the decoder is told to stay quiet; self reports at the path so far.
// msg is spelled only when the collector may still show it.
func (kc *keyChecker) problem(line int, spelled, lower string, self bool, msg func() string) {
	kc.quiet(lower, self)
	if kc.c.past(line) {
		return
	}
	n := kc.pathLen()
	total := n
	kc.scratch = append(kc.scratch[:0], kc.head...)
	if !self {
		total += segLen(n, keySeg(spelled))
		kc.scratch = appendSeg(kc.scratch, n, keySeg(spelled))
	}
	// The excerpt depends on the head and the length only: the siblings
	// of a long path often share it.
	if total != kc.last.total || !bytes.Equal(kc.scratch, kc.last.head) {
		kc.last.head = append(kc.last.head[:0], kc.scratch...)
		kc.last.total, kc.last.path = total, excerptHead(string(kc.scratch), total, maxPath)
	}
	kc.c.addExcerpt(line, kc.last.path, msg())
}

// quiet tells the decoder to stay quiet about the path so far followed by
// lower (or the path so far, with self), which the walk reported, unless
// it is too long for a path the decoder builds.
func (kc *keyChecker) quiet(lower string, self bool) {
	n := kc.pathLen()
	lowerTotal := n
	if !self {
		lowerTotal += segLen(n, keySeg(lower))
	}
	if lowerTotal > maxSkipPath {
		return
	}
	var at string
	switch {
	case self && n <= maxPath:
		at = string(kc.head)
	case n <= maxPath:
		kc.scratch = append(kc.scratch[:0], kc.head...)
		at = string(appendSeg(kc.scratch, n, keySeg(lower)))
		if len(at) < lowerTotal {
			at = joinKey(string(kc.head), lower) // past the head's room
		}
	default:
		p := ""
		for _, s := range kc.segs {
			p += segText(len(p), s)
		}
		if !self {
			p += segText(len(p), keySeg(lower))
		}
		at = p
	}
	kc.skip[at] = true
}

func (kc *keyChecker) walk(n *yaml.Node) {
	switch n.Kind {
	case yaml.SequenceNode:
		for i, item := range n.Content {
			kc.push(indexSeg(i))
			kc.walk(item)
			kc.pop()
		}
	case yaml.MappingNode:
		kc.walkMapping(n)
	}
	// Scalars carry no paths; aliases are not followed (their target is
	// checked where it is defined, and following them could explode).
}

func (kc *keyChecker) walkMapping(n *yaml.Node) {
	top := len(kc.segs) == 0
	inNodes := len(kc.segs) == 1 && kc.segs[0] == keySeg("nodes")
	var seen keySet
	seen.expect(len(n.Content) / 2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			kc.problem(k.Line, "", "", true, func() string { return "keys must be plain strings" })
			continue
		}
		if k.Tag == "!!merge" {
			continue
		}
		lower := strings.ToLower(k.Value)
		if first, isNew := seen.add(lower, i); !isNew {
			prev := n.Content[first]
			kc.problem(k.Line, lower, lower, false, func() string {
				if prev.Value != k.Value {
					return fmt.Sprintf("key %q clashes with %q at line %d (keys are case-insensitive)", k.Value, prev.Value, prev.Line)
				}
				return fmt.Sprintf("duplicate key %q (first at line %d)", k.Value, prev.Line)
			})
			continue
		}
		if top && isExtension(lower) {
			continue
		}
		switch {
		case inNodes:
			if !isNodeName(k.Value) {
				kc.problem(k.Line, k.Value, lower, false, func() string {
					return fmt.Sprintf("node name %q is invalid: use 1 to 32 lower-case letters, digits and '-', starting with a letter", k.Value)
				})
			}
		case k.Value != lower:
			kc.problem(k.Line, k.Value, lower, false, func() string { return fmt.Sprintf("key %q must be lower-case", k.Value) })
		}
		kc.push(keySeg(lower))
		kc.walk(v)
		kc.pop()
	}
}
