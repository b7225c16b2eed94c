package topology

import (
	"cmp"
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

// collector gathers errors for one file, resolving paths to lines.
type collector struct {
	file  string
	index *lineIndex
	errs  ErrorList
	seen  map[string]bool
	// failedAt holds the paths where decoding failed and every prefix of
	// them that ends before a '.' or '[', so that later checks do not add
	// "is required" noise about the same values.
	failedAt map[string]bool
	// dropped counts the errors past maxErrors.
	dropped int
	// reports counts the messages added, repeats included.
	reports int
}

func newCollector(file string, index *lineIndex) *collector {
	return &collector{file: file, index: index, seen: map[string]bool{}, failedAt: map[string]bool{}}
}

// add records msg at path, looking up the line of path (or of its nearest
// ancestor present in the file). An identical path+message is recorded once.
func (c *collector) add(path, msg string) {
	c.addLine(c.index.line(path), path, msg)
}

// addLine records msg at an explicit line. Paths and messages are cut to
// an excerpt (they can quote a value of any length from the file), and
// after maxErrors errors the rest are only counted.
func (c *collector) addLine(line int, path, msg string) {
	c.addExcerpt(line, excerpt(path, maxPath), msg)
}

// addExcerpt is addLine for a path already cut to an excerpt.
func (c *collector) addExcerpt(line int, path, msg string) {
	c.reports++
	msg = excerpt(msg, maxMessage)
	key := path + "\x00" + msg
	if c.seen[key] {
		return
	}
	c.seen[key] = true
	if len(c.errs) >= maxErrors {
		c.dropped++
		return
	}
	c.errs = append(c.errs, &Error{File: c.file, Line: line, Path: path, Msg: msg})
}

// maxErrors is how many errors one file reports; maxPath and maxMessage
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
// and path (so the order does not depend on map iteration).
func (c *collector) err() error {
	if c.dropped > 0 {
		c.errs = append(c.errs, &Error{File: c.file, Msg: fmt.Sprintf("and %d more errors", c.dropped)})
		c.dropped = 0
	}
	switch len(c.errs) {
	case 0:
		return nil
	case 1:
		return c.errs[0]
	}
	list := slices.Clone(c.errs)
	slices.SortStableFunc(list, func(a, b *Error) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Path, b.Path))
	})
	return list
}
