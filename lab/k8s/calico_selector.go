package k8s

import (
	"fmt"
	"strings"
	"unicode"
)

// CalicoSelector is a parsed Calico label selector (nodeSelector,
// peerSelector): all(), has(k), !has(k), k == 'v', k != 'v',
// k in {'a', 'b'}, k not in {...}, combined with &&, || and parentheses,
// && binding tighter, as in Calico's selector language.
type CalicoSelector func(labels map[string]string) bool

// ParseCalicoSelector parses s; an error names what is wrong where.
func ParseCalicoSelector(s string) (CalicoSelector, error) {
	p := &selParser{toks: tokenize(s)}
	if len(p.toks) == 0 {
		return nil, fmt.Errorf("empty selector")
	}
	sel, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.toks) {
		return nil, fmt.Errorf("unexpected %q", p.toks[p.pos])
	}
	return sel, nil
}

// selParser is a recursive-descent parser over selector tokens.
type selParser struct {
	toks []string
	pos  int
}

func (p *selParser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *selParser) next() string { t := p.peek(); p.pos++; return t }

func (p *selParser) expect(t string) error {
	if got := p.next(); got != t {
		if got == "" {
			got = "end of selector"
		}
		return fmt.Errorf("expected %q, got %q", t, got)
	}
	return nil
}

func (p *selParser) or() (CalicoSelector, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.peek() == "||" {
		p.next()
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		a, b := l, r
		l = func(m map[string]string) bool { return a(m) || b(m) }
	}
	return l, nil
}

func (p *selParser) and() (CalicoSelector, error) {
	l, err := p.term()
	if err != nil {
		return nil, err
	}
	for p.peek() == "&&" {
		p.next()
		r, err := p.term()
		if err != nil {
			return nil, err
		}
		a, b := l, r
		l = func(m map[string]string) bool { return a(m) && b(m) }
	}
	return l, nil
}

func (p *selParser) term() (CalicoSelector, error) {
	switch t := p.next(); {
	case t == "(":
		s, err := p.or()
		if err != nil {
			return nil, err
		}
		return s, p.expect(")")
	case t == "!":
		s, err := p.term()
		if err != nil {
			return nil, err
		}
		return func(m map[string]string) bool { return !s(m) }, nil
	case t == "all":
		if err := p.expect("("); err != nil {
			return nil, err
		}
		return func(map[string]string) bool { return true }, p.expect(")")
	case t == "has":
		if err := p.expect("("); err != nil {
			return nil, err
		}
		k := p.next()
		if !isLabelKey(k) {
			return nil, fmt.Errorf("has(): %q is not a label key", k)
		}
		return func(m map[string]string) bool { _, ok := m[k]; return ok }, p.expect(")")
	case isLabelKey(t):
		return p.comparison(t)
	case t == "":
		return nil, fmt.Errorf("unexpected end of selector")
	default:
		return nil, fmt.Errorf("unexpected %q", t)
	}
}

// comparison reads the operator and value after label key k.
func (p *selParser) comparison(k string) (CalicoSelector, error) {
	switch op := p.next(); op {
	case "==", "!=":
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		if op == "==" {
			return func(m map[string]string) bool { x, ok := m[k]; return ok && x == v }, nil
		}
		return func(m map[string]string) bool { x, ok := m[k]; return !ok || x != v }, nil
	case "in", "not":
		neg := op == "not"
		if neg {
			if err := p.expect("in"); err != nil {
				return nil, err
			}
		}
		if err := p.expect("{"); err != nil {
			return nil, err
		}
		set := map[string]bool{}
		for p.peek() != "}" {
			v, err := p.value()
			if err != nil {
				return nil, err
			}
			set[v] = true
			if p.peek() == "," {
				p.next()
			}
		}
		p.next()
		return func(m map[string]string) bool { x, ok := m[k]; return (ok && set[x]) != neg }, nil
	default:
		return nil, fmt.Errorf("expected ==, !=, in or not in after %q, got %q", k, op)
	}
}

// value reads a quoted string.
func (p *selParser) value() (string, error) {
	t := p.next()
	if len(t) >= 2 && (t[0] == '\'' || t[0] == '"') && t[len(t)-1] == t[0] {
		return t[1 : len(t)-1], nil
	}
	return "", fmt.Errorf("expected a quoted value, got %q", t)
}

// isLabelKey reports whether t can be a label key.
func isLabelKey(t string) bool {
	if t == "" || t == "in" || t == "not" {
		return false
	}
	for _, r := range t {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune("-_./", r) {
			return false
		}
	}
	return true
}

// tokenize splits a selector into operators, quoted strings and words.
func tokenize(s string) []string {
	var toks []string
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			i++
		case strings.HasPrefix(s[i:], "&&") || strings.HasPrefix(s[i:], "||") || strings.HasPrefix(s[i:], "==") || strings.HasPrefix(s[i:], "!="):
			toks = append(toks, s[i:i+2])
			i += 2
		case strings.ContainsRune("(){},!", rune(c)):
			toks = append(toks, string(c))
			i++
		case c == '\'' || c == '"':
			j := strings.IndexByte(s[i+1:], c)
			if j < 0 {
				toks = append(toks, s[i:])
				return toks
			}
			toks = append(toks, s[i:i+j+2])
			i += j + 2
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\n(){},!=&|'\"", rune(s[j])) {
				j++
			}
			if j == i {
				j++ // a lone & or |: an error for the parser
			}
			toks = append(toks, s[i:j])
			i = j
		}
	}
	return toks
}
