package topology

// maxNesting is how deep flow collections (`[…]`, `{…}`) may nest. A
// topology needs a few levels; the YAML parser's time per byte grows with
// the depth, so deeper files are refused before parsing.
const maxNesting = 64

// tooDeep scans data once for flow collections nested deeper than
// maxNesting, outside quoted strings and comments, and returns the line
// where the limit is passed. Brackets inside plain scalars count too, which
// can only make it refuse a file holding more than maxNesting unbalanced
// brackets in its values.
func tooDeep(data []byte) (line int, deep bool) {
	line = 1
	depth := 0
	var quote byte // '"' or '\'' while inside a quoted string
	comment := false
	prev := byte('\n')
	for i := 0; i < len(data); i++ {
		ch := data[i]
		if ch == '\n' {
			line++
			comment = false
			prev = ch
			continue
		}
		switch {
		case comment:
		case quote == '"':
			if ch == '\\' {
				i++ // skip the escaped character
			} else if ch == '"' {
				quote = 0
			}
		case quote == '\'':
			if ch == '\'' {
				quote = 0 // '' re-enters at once on the next quote
			}
		case ch == '#' && (prev == ' ' || prev == '\t' || prev == '\n'):
			comment = true
		case ch == '"' || ch == '\'':
			quote = ch
		case ch == '[' || ch == '{':
			depth++
			if depth > maxNesting {
				return line, true
			}
		case ch == ']' || ch == '}':
			if depth > 0 {
				depth--
			}
		}
		prev = ch
	}
	return 0, false
}
