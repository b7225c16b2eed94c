package topology

import (
	"cmp"
	"container/heap"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Error is one problem found in a topology file. It names the file, the
// line (when known) and the field path, e.g. `nodes.worker1.asn` or
// `peerings[2].between[1]`.
type Error struct {
	// File is the base name of the loaded file, or the name given to Parse.
	File string
	// Line is the 1-based line in the file; 0 when unknown.
	Line int
	// Path is the field path inside the document; "" for the whole file.
	Path string
	// Msg says what is wrong.
	Msg string
}

// Error renders "file:line: path: msg", leaving out the parts that are empty
// (the line when it is 0).
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(":")
	}
	if e.Line > 0 {
		b.WriteString(strconv.Itoa(e.Line))
		b.WriteString(":")
	}
	if b.Len() > 0 {
		b.WriteString(" ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// As lets errors.As extract an ErrorList from a lone *Error, so callers can
// always ask for the list whatever Parse returned.
func (e *Error) As(target any) bool {
	if l, ok := target.(*ErrorList); ok {
		*l = ErrorList{e}
		return true
	}
	return false
}

// ErrorList is returned when a topology has several problems: Parse collects
// all of them rather than stopping at the first.
type ErrorList []*Error

// Error joins the messages of all errors with newlines.
func (l ErrorList) Error() string {
	msgs := make([]string, len(l))
	for i, e := range l {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// Unwrap exposes the individual errors to errors.Is and errors.As; errors.As
// with a **Error target finds the first one.
func (l ErrorList) Unwrap() []error {
	errs := make([]error, len(l))
	for i, e := range l {
		errs[i] = e
	}
	return errs
}

// collector gathers errors for one file, resolving paths to lines. It
// keeps the first maxErrors errors in line order (then path, then the
// order they came in) and leaves out the others, so that the list a file
// gets does not depend on the order the checks run in.
type collector struct {
	file  string
	index *lineIndex
	// kept is a heap of at most maxErrors errors, the last to report
	// (by kept.less) on top.
	kept keptErrors
	seen map[errorKey]bool
	// failedAt holds the paths where decoding failed and every prefix of
	// them that ends before a '.' or '[', so that later checks do not add
	// "is required" noise about the same values.
	failedAt map[string]bool
	// more is set once an error is left out past maxErrors.
	more bool
	// reports counts the messages added, repeats included.
	reports int
}

// errorKey is what makes two errors the same: one is reported.
type errorKey struct {
	path, msg string
}

// keptError is an error with the order it came in.
type keptError struct {
	*Error
	seq int
}

// keptErrors is a max-heap (container/heap) of errors in report order:
// the last to report on top.
type keptErrors []keptError

// compare orders a before b when a is reported first: by line, then path,
// then the order they came in.
func (a keptError) compare(b keptError) int {
	return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Path, b.Path), cmp.Compare(a.seq, b.seq))
}

// Len, Less, Swap, Push and Pop make keptErrors a heap.Interface.
func (h keptErrors) Len() int           { return len(h) }
func (h keptErrors) Less(i, j int) bool { return h[i].compare(h[j]) > 0 }
func (h keptErrors) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *keptErrors) Push(x any)        { *h = append(*h, x.(keptError)) }
func (h *keptErrors) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

func newCollector(file string, index *lineIndex) *collector {
	return &collector{file: file, index: index, seen: map[errorKey]bool{}, failedAt: map[string]bool{}}
}

// add records msg at path, looking up the line of path (or of its nearest
// ancestor present in the file). An identical path+message is recorded once.
func (c *collector) add(path, msg string) {
	c.addLine(c.index.line(path), path, msg)
}

// addLine records msg at an explicit line. Paths and messages are cut to
// an excerpt (they can quote a value of any length from the file); past
// maxErrors errors only the first ones (see collector) are kept.
func (c *collector) addLine(line int, path, msg string) {
	c.addExcerpt(line, excerpt(path, maxPath), msg)
}

// addExcerpt is addLine for a path already cut to an excerpt.
func (c *collector) addExcerpt(line int, path, msg string) {
	c.reports++
	if c.past(line) {
		return
	}
	msg = excerpt(msg, maxMessage)
	key := errorKey{path, msg}
	if c.seen[key] {
		return
	}
	c.seen[key] = true
	e := keptError{&Error{File: c.file, Line: line, Path: path, Msg: msg}, c.reports}
	switch {
	case len(c.kept) < maxErrors:
		heap.Push(&c.kept, e)
	case e.compare(c.kept[0]) < 0:
		c.kept[0] = e
		heap.Fix(&c.kept, 0)
		c.more = true
	default:
		c.more = true
	}
}

// past reports whether an error at line would be left out: the collector
// holds maxErrors errors, all on earlier lines. It then records that an
// error was left out. A check may ask it before it spells a message.
func (c *collector) past(line int) bool {
	if len(c.kept) < maxErrors || line <= c.kept[0].Line {
		return false
	}
	c.more = true
	return true
}

// maxErrors is how many errors one file reports (a file with more gets
// the first ones by line and a last line saying the loader stopped there);
// maxPath and maxMessage
// how many bytes of a path and a message an error keeps.
const (
	maxErrors  = 100
	maxPath    = 240
	maxMessage = 1024
)

// excerpt returns s, or its first max bytes (cut at a character boundary)
// followed by how much was left out.
func excerpt(s string, max int) string {
	return excerptHead(s, len(s), max)
}

// excerptHead returns what excerpt would for a text of total bytes that
// starts with head; head holds at least max+1 bytes of it, or all of it.
// It lets a caller excerpt a text it never spells out whole.
func excerptHead(head string, total, max int) string {
	if total <= max {
		return head
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(head[cut]) {
		cut--
	}
	return head[:cut] + "… (" + strconv.Itoa(total-cut) + " more bytes)"
}

// failed records that decoding failed at path.
func (c *collector) failed(path string) {
	if c.failedAt[path] {
		return
	}
	c.failedAt[path] = true
	for i := len(path) - 1; i > 0; i-- {
		if path[i] == '.' || path[i] == '[' {
			if c.failedAt[path[:i]] {
				return // and so are the shorter prefixes
			}
			c.failedAt[path[:i]] = true
		}
	}
}

// failedUnder reports whether decoding failed at path or below it.
func (c *collector) failedUnder(path string) bool {
	return c.failedAt[path]
}

// err returns nil, the single *Error, or the ErrorList sorted by line
// and path (so the order does not depend on map iteration), ending with a
// line saying the loader stopped when it left errors out.
func (c *collector) err() error {
	switch {
	case len(c.kept) == 0:
		return nil
	case len(c.kept) == 1 && !c.more:
		return c.kept[0].Error
	}
	kept := slices.Clone(c.kept)
	slices.SortFunc(kept, keptError.compare)
	list := make(ErrorList, 0, len(kept)+1)
	for _, e := range kept {
		list = append(list, e.Error)
	}
	if c.more {
		list = append(list, &Error{File: c.file, Msg: fmt.Sprintf("and more errors: stopped after the first %d (by line)", maxErrors)})
	}
	return list
}
