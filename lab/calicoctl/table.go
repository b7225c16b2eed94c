package calicoctl

import (
	"io"
	"math"
	"strings"
	"unicode/utf8"
)

// The layout of github.com/olekukonko/tablewriter's default table, which
// calicoctl node status prints: borders of + and -, headings upper-case
// and centred, cells left-aligned with one space of padding, a cell wider
// than maxCellWidth wrapped into lines of minimal raggedness.

// maxCellWidth is the widest a cell line gets before it is wrapped.
const maxCellWidth = 30

// wrapPenalty is the raggedness penalty of a line longer than the limit.
const wrapPenalty = 1e5

// renderTable writes headings and rows.
func renderTable(w io.Writer, headings []string, rows [][]string) {
	n := len(headings)
	widths := make([]int, n)
	heads := make([][]string, n)
	for i, h := range headings {
		heads[i] = wrapCell(strings.ToUpper(strings.TrimSpace(strings.ReplaceAll(h, "_", " "))))
		widths[i] = maxWidth(heads[i], widths[i])
	}
	cells := make([][][]string, len(rows))
	for r, row := range rows {
		cells[r] = make([][]string, n)
		for i := 0; i < n && i < len(row); i++ {
			cells[r][i] = wrapCell(row[i])
			widths[i] = maxWidth(cells[r][i], widths[i])
		}
	}
	var b strings.Builder
	border := func() {
		b.WriteString("+")
		for _, wd := range widths {
			b.WriteString(strings.Repeat("-", wd+2) + "+")
		}
		b.WriteString("\n")
	}
	line := func(lines [][]string, pad func(string, int) string) {
		height := 1
		for _, l := range lines {
			height = max(height, len(l))
		}
		for y := 0; y < height; y++ {
			for i := range widths {
				s := ""
				if i < len(lines) && y < len(lines[i]) {
					s = lines[i][y]
				}
				b.WriteString("| " + pad(s, widths[i]) + " ")
			}
			b.WriteString("|\n")
		}
	}
	border()
	line(heads, center)
	border()
	for _, row := range cells {
		line(row, left)
	}
	border()
	_, _ = io.WriteString(w, b.String())
}

// maxWidth is the widest of lines and w.
func maxWidth(lines []string, w int) int {
	for _, l := range lines {
		w = max(w, utf8.RuneCountInString(l))
	}
	return w
}

// center pads s on both sides to width, the extra space on the right.
func center(s string, width int) string {
	gap := width - utf8.RuneCountInString(s)
	if gap <= 0 {
		return s
	}
	l := gap / 2
	return strings.Repeat(" ", l) + s + strings.Repeat(" ", gap-l)
}

// left pads s on the right to width.
func left(s string, width int) string {
	gap := width - utf8.RuneCountInString(s)
	if gap <= 0 {
		return s
	}
	return s + strings.Repeat(" ", gap)
}

// wrapCell splits a cell into its lines, each paragraph wrapped when
// the cell is wider than maxCellWidth.
func wrapCell(s string) []string {
	paras := strings.Split(s, "\n")
	limit := 0
	for _, p := range paras {
		limit = max(limit, utf8.RuneCountInString(p))
	}
	limit = min(limit, maxCellWidth)
	var out []string
	for _, p := range paras {
		out = append(out, wrapString(p, limit)...)
	}
	return out
}

// wrapString wraps s into lines of at most lim runes (more when a word is
// longer), splitting at single spaces, with minimal raggedness: the sum
// over all lines but the last of the square of what each line leaves
// free.
func wrapString(s string, lim int) []string {
	words := strings.Split(s, " ")
	for _, w := range words {
		lim = max(lim, utf8.RuneCountInString(w))
	}
	n := len(words)
	length := func(i, j int) int { // words[i..j] joined by single spaces
		l := j - i
		for k := i; k <= j; k++ {
			l += utf8.RuneCountInString(words[k])
		}
		return l
	}
	next := make([]int, n)
	cost := make([]int, n)
	for i := range cost {
		cost[i] = math.MaxInt32
	}
	for i := n - 1; i >= 0; i-- {
		if length(i, n-1) <= lim {
			cost[i], next[i] = 0, n
			continue
		}
		for j := i + 1; j < n; j++ {
			d := lim - length(i, j-1)
			c := d*d + cost[j]
			if length(i, j-1) > lim {
				c += wrapPenalty
			}
			if c < cost[i] {
				cost[i], next[i] = c, j
			}
		}
	}
	var lines []string
	for i := 0; i < n; i = next[i] {
		lines = append(lines, strings.Join(words[i:next[i]], " "))
	}
	return lines
}
