package main

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// This file reads the commands and outputs the documentation shows, for
// the doc tests (docs_test.go): a ```sh block holds commands, and a plain
// ``` block right after it holds what they print.

// docExample is one ```sh block of a Markdown file and the output block
// that follows it, if any.
type docExample struct {
	// Line is the block's first line in the file.
	Line int
	// Commands are the block's logical lines: continuation lines (ending
	// in a backslash) joined, comment-only and blank lines dropped.
	Commands []string
	// Output is the plain block right after the sh block ("" when none).
	Output string
}

// repoFile is a path under the repository's root.
func repoFile(rel string) string { return filepath.Join("..", "..", rel) }

// docExamples reads every ```sh block of the Markdown file rel (relative
// to the repository's root).
func docExamples(t *testing.T, rel string) []docExample {
	t.Helper()
	f, err := os.Open(repoFile(rel))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		out     []docExample
		cur     *docExample
		inBlock string // "sh", "out" or ""
		buf     []string
		pending string // a continued line
		lastSh  = -1   // index in out of the sh block an output block may follow
		gap     bool   // prose between the sh block and the next fence
	)
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case inBlock == "" && strings.HasPrefix(line, "```sh"):
			inBlock, cur = "sh", &docExample{Line: n}
		case inBlock == "" && line == "```":
			inBlock, buf = "out", nil
		case inBlock == "" && strings.HasPrefix(line, "```"):
			inBlock = "other"
		case inBlock == "" && strings.TrimSpace(line) != "":
			gap = true
		case inBlock == "sh" && line == "```":
			out = append(out, *cur)
			lastSh, gap, inBlock = len(out)-1, false, ""
		case inBlock == "sh":
			l := strings.TrimSpace(line)
			if pending != "" {
				l = pending + " " + l
				pending = ""
			}
			if c, ok := strings.CutSuffix(l, `\`); ok {
				pending = strings.TrimSpace(c)
				continue
			}
			if l != "" && !strings.HasPrefix(l, "#") {
				cur.Commands = append(cur.Commands, l)
			}
		case inBlock == "out" && line == "```":
			if lastSh >= 0 && !gap && out[lastSh].Output == "" {
				out[lastSh].Output = strings.Join(buf, "\n") + "\n"
			}
			lastSh, inBlock = -1, ""
		case inBlock == "out":
			buf = append(buf, line)
		case inBlock == "other" && strings.HasPrefix(line, "```"):
			inBlock, lastSh = "", -1
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatalf("%s: no ```sh block found", rel)
	}
	return out
}

// commandsMatching lists the commands of examples that match re.
func commandsMatching(examples []docExample, re *regexp.Regexp) []string {
	var out []string
	for _, e := range examples {
		for _, c := range e.Commands {
			if re.MatchString(c) {
				out = append(out, c)
			}
		}
	}
	return out
}

// exampleRunning finds the one example whose commands include a command
// starting with prefix.
func exampleRunning(t *testing.T, examples []docExample, prefix string) docExample {
	t.Helper()
	var found []docExample
	for _, e := range examples {
		for _, c := range e.Commands {
			if strings.HasPrefix(c, prefix) {
				found = append(found, e)
				break
			}
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d documented blocks run %q, want exactly 1", len(found), prefix)
	}
	return found[0]
}

// matchesDocOutput compares what a command printed with the documented
// output: line by line, where a documented line "..." or "…" stands for
// any number of lines, "..." within a line for any text, and trailing
// spaces do not count.
func matchesDocOutput(doc, got string) bool {
	want := strings.Split(strings.TrimRight(doc, "\n"), "\n")
	have := strings.Split(strings.TrimRight(got, "\n"), "\n")
	var match func(w, h []string) bool
	match = func(w, h []string) bool {
		if len(w) == 0 {
			return len(h) == 0
		}
		if t := strings.TrimSpace(w[0]); t == "..." || t == "…" {
			for i := 0; i <= len(h); i++ {
				if match(w[1:], h[i:]) {
					return true
				}
			}
			return false
		}
		return len(h) > 0 && lineMatches(w[0], h[0]) && match(w[1:], h[1:])
	}
	return match(want, have)
}

// lineMatches compares one documented line with one printed line: equal
// but for trailing spaces, where "..." or "…" inside the documented line
// stands for any text (a shortened line).
func lineMatches(doc, got string) bool {
	doc, got = strings.TrimRight(doc, " "), strings.TrimRight(got, " ")
	if !strings.Contains(doc, "...") && !strings.Contains(doc, "…") {
		return doc == got
	}
	parts := regexp.MustCompile(`\.\.\.|…`).Split(doc, -1)
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return regexp.MustCompile("^" + strings.Join(parts, ".*") + "$").MatchString(got)
}

func TestMatchesDocOutput(t *testing.T) {
	cases := []struct {
		doc, got string
		want     bool
	}{
		{"a\nb\n", "a\nb\n", true},
		{"a\nb\n", "a\nc\n", false},
		{"a\n...\nd\n", "a\nb\nc\nd\n", true},
		{"a\n...\n", "a\n", true},
		{"x (NOTIFICATION 2/2 ...): y\n", "x (NOTIFICATION 2/2 OPEN Message Error): y\n", true},
		{"x (NOTIFICATION 2/2 ...): y\n", "x (NOTIFICATION 6/2 Cease): y\n", false},
		{"a  \n", "a\n", true},
	}
	for _, c := range cases {
		if got := matchesDocOutput(c.doc, c.got); got != c.want {
			t.Errorf("matchesDocOutput(%q, %q) = %v", c.doc, c.got, got)
		}
	}
}
