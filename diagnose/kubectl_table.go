package diagnose

import "strings"

// kubectlRow is one row of a `kubectl get … -o wide` table: its words
// and the heading's columns by name.
type kubectlRow struct {
	fields []string
	cols   map[string]int
}

// at is the row's word in the named column ("" when the heading has no
// such column or the row is shorter).
func (r kubectlRow) at(name string) string {
	if i, ok := r.cols[name]; ok && i < len(r.fields) {
		return r.fields[i]
	}
	return ""
}

// readKubectlTable walks the `kubectl get … -o wide` table in data: a line
// whose words heading accepts starts a table (and a later one a new
// table), each later non-empty line is handed to row, trimmed, with the
// heading's columns. It returns the headings and the lines row took, and
// whether a heading was found.
func readKubectlTable(data []byte, heading func(words []string) bool, row func(r kubectlRow, line string) bool) ([]string, bool) {
	var (
		lines []string
		cols  map[string]int
	)
	for _, l := range splitLines(data) {
		t := strings.TrimSpace(l)
		f := strings.Fields(t)
		if len(f) == 0 {
			continue
		}
		if heading(f) {
			cols = map[string]int{}
			for i, c := range f {
				cols[c] = i
			}
			lines = append(lines, t)
			continue
		}
		if cols != nil && row(kubectlRow{fields: f, cols: cols}, t) {
			lines = append(lines, t)
		}
	}
	return lines, cols != nil
}
