package topology

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/peerlab/peerlab/internal/lazy"
	"github.com/peerlab/peerlab/internal/userfile"
)

// MaxSize is the largest topology file Load and Parse accept. The largest
// shipped topology is a few kilobytes; a 1,000-node lab about 100 KiB.
const MaxSize = 16 << 20

// Load reads and validates the topology file at path. Errors in the file are
// returned as *Error or ErrorList naming the file's base name; the returned
// Topology has Source set to path. It refuses paths that are not regular
// files and files over MaxSize before reading them whole.
func Load(path string) (*Topology, error) {
	data, err := userfile.ReadFile(path, MaxSize)
	if err != nil {
		return nil, fmt.Errorf("load topology: %w", err)
	}
	t, err := Parse(filepath.Base(path), data)
	if err != nil {
		return nil, err
	}
	t.Source = path
	return t, nil
}

// Parse validates the topology in data. name identifies the text in error
// messages (usually a file name). It returns nil and an *Error when there is
// one problem, or an ErrorList holding every problem found.
func Parse(name string, data []byte) (t *Topology, err error) {
	defer func() {
		// The YAML and decoding libraries must not take the caller down
		// on hostile input; report it as an error instead.
		if r := recover(); r != nil {
			t, err = nil, &Error{File: name, Msg: fmt.Sprintf("internal error (please report): panic: %v", r)}
		}
	}()
	if len(data) > MaxSize {
		return nil, &Error{File: name, Msg: fmt.Sprintf("file is %d bytes, the limit is %d", len(data), MaxSize)}
	}
	root, synErr := parseTree(name, data)
	if synErr != nil {
		return nil, synErr
	}
	nodes, err := checkTree(root)
	if err != nil {
		e := err.(*Error)
		e.File = name
		return nil, e
	}
	c := newCollector(name, newLineIndex(root))
	skip := checkKeys(root, c)
	if err := checkExpansion(root, nodes); err != nil {
		var e *Error
		if errors.As(err, &e) {
			c.addLine(e.Line, e.Path, e.Msg)
		} else {
			c.add("", err.Error())
		}
		return nil, c.err()
	}
	raw, order := decodeRaw(root, c, skip)
	t = build(raw, order, c)
	if err := c.err(); err != nil {
		return nil, err
	}
	return t, nil
}

// parseTree parses data into a yaml.Node tree and returns the top-level
// mapping, or an error for an empty file, a syntax error, several
// documents, or a top level that is not a mapping.
func parseTree(name string, data []byte) (*yaml.Node, error) {
	empty := &Error{File: name, Msg: "file is empty: a topology needs at least name and nodes"}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, empty
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, empty
		}
		return nil, yamlErrors(name, err)[0]
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		return nil, &Error{File: name, Line: extra.Line, Msg: "only one YAML document is allowed per file"}
	case !errors.Is(err, io.EOF):
		return nil, yamlErrors(name, err)[0]
	}
	if len(doc.Content) == 0 {
		return nil, empty
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return nil, empty
	}
	if root.Kind != yaml.MappingNode {
		return nil, &Error{File: name, Line: root.Line,
			Msg: "the top level must be a mapping with keys name, defaults, nodes, peerings, expect, faults, links, duration"}
	}
	return root, nil
}

var yamlLineRE = lazy.Regexp(`line (\d+): (.*)`)

// yamlErrors turns a YAML library error ("yaml: line 3: did not find
// expected key", possibly several lines of unmarshal errors) into Errors
// carrying the line yaml reported. It always returns at least one.
func yamlErrors(name string, err error) []*Error {
	var out []*Error
	for _, ln := range strings.Split(err.Error(), "\n") {
		if m := yamlLineRE().FindStringSubmatch(ln); m != nil {
			line, _ := strconv.Atoi(m[1])
			out = append(out, &Error{File: name, Line: fixParserLine(line, m[2]), Msg: yamlMessage(m[2])})
		}
	}
	if len(out) == 0 {
		msg := err.Error()
		if i := strings.LastIndex(msg, "yaml: "); i >= 0 {
			msg = msg[i+len("yaml: "):]
		}
		out = append(out, &Error{File: name, Line: fixParserLine(0, msg), Msg: yamlMessage(msg)})
	}
	return out
}

// yamlMessage words a YAML library message for the user. Nesting past
// yaml.v3's own limit (10,000) gets the message of the loader's lower one
// (see checkTree).
func yamlMessage(msg string) string {
	if strings.HasPrefix(msg, "exceeded max depth") {
		return fmt.Sprintf("values are nested more than %d levels deep", maxNesting)
	}
	return "invalid YAML: " + msg
}

// fixParserLine corrects yaml/v3's line for parser (not scanner) errors,
// which it reports 0-based: "did not find expected ',' or '}'" then names
// the line where the unclosed collection starts, as the user counts lines.
func fixParserLine(line int, msg string) int {
	if strings.HasPrefix(msg, "did not find expected") {
		return line + 1
	}
	return line
}
