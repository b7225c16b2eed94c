package diagnose

import (
	"errors"
	"fmt"
	"strings"
)

// ErrDuplicateKind is returned by Registry.Register for a kind registered twice.
var ErrDuplicateKind = errors.New("diagnose: recognizer kind already registered")

// Recognizer recognises one format of evidence by its content and extracts
// what it says.
type Recognizer interface {
	// Kind names the format, e.g. "bird-protocols".
	Kind() string
	// Whole is true for formats that make up a whole file (a command's
	// output, a config file); false for line formats (log lines, kernel
	// messages) that may be mixed with others in one file.
	Whole() bool
	// Recognize returns what data says and the lines it rests on, or
	// ok false when data is not in this format. It never panics.
	Recognize(source string, data []byte) (obs Observations, lines []string, ok bool)
}

// Registry holds the recognizers an evidence source tries, in order.
type Registry struct {
	recs []Recognizer
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{} }

// Register adds r; it refuses a kind already present.
func (r *Registry) Register(rec Recognizer) error {
	for _, have := range r.recs {
		if have.Kind() == rec.Kind() {
			return fmt.Errorf("register %q: %w", rec.Kind(), ErrDuplicateKind)
		}
	}
	r.recs = append(r.recs, rec)
	return nil
}

// Kinds lists the registered kinds in order.
func (r *Registry) Kinds() []string {
	out := make([]string, len(r.recs))
	for i, rec := range r.recs {
		out[i] = rec.Kind()
	}
	return out
}

// Recognition is what a registry made of one input.
type Recognition struct {
	// Evidence has one entry per recognizer that claimed the input.
	Evidence []Evidence
	// Obs merges what they extracted.
	Obs Observations
}

// Recognize splits data into the outputs it holds (see splitPaste) and
// recognises each piece: the whole-file recognizers are tried in order
// and the first that claims a piece keeps it; the lines of a claimed
// piece that its recognizer did not quote, and every piece no whole
// recognizer claims, go to the line recognizers, each of which
// contributes what it claims. A recognizer that panics is treated as not
// claiming the input. An empty Evidence means the input was not
// recognised. The work is linear in the input.
func (r *Registry) Recognize(source string, data []byte) Recognition {
	var res Recognition
	var rest []string
	for _, p := range splitPaste(splitLines(data)) {
		if h := promptHost(p.prompt); h != "" {
			res.Obs.Hostnames = append(res.Obs.Hostnames, HostnameObs{h, Line{source, p.prompt}})
		}
		claimed := false
		for _, rec := range r.recs {
			if !rec.Whole() {
				continue
			}
			obs, lines, ok := safeRecognize(rec, source, p.data())
			if !ok {
				continue
			}
			res.Obs.merge(obs)
			res.Evidence = append(res.Evidence, Evidence{Source: source, Kind: rec.Kind(), Lines: nonNil(lines)})
			rest = append(rest, unquoted(p.lines, lines)...)
			claimed = true
			break
		}
		if !claimed {
			rest = append(rest, p.lines...)
		}
	}
	if len(rest) == 0 {
		return res
	}
	text := []byte(strings.Join(rest, "\n") + "\n")
	for _, rec := range r.recs {
		if rec.Whole() {
			continue
		}
		if obs, lines, ok := safeRecognize(rec, source, text); ok {
			res.Obs.merge(obs)
			res.Evidence = append(res.Evidence, Evidence{Source: source, Kind: rec.Kind(), Lines: nonNil(lines)})
		}
	}
	return res
}

// unquoted returns the lines of a piece that its recognizer did not
// quote, so line formats inside it (a log line pasted under a table) are
// not lost and quoted lines are not counted twice.
func unquoted(piece, quoted []string) []string {
	q := make(map[string]bool, len(quoted))
	for _, l := range quoted {
		q[strings.TrimSpace(l)] = true
	}
	var out []string
	for _, l := range piece {
		if t := strings.TrimSpace(l); t != "" && !q[t] {
			out = append(out, l)
		}
	}
	return out
}

func safeRecognize(rec Recognizer, source string, data []byte) (obs Observations, lines []string, ok bool) {
	defer func() {
		if recover() != nil {
			obs, lines, ok = Observations{}, nil, false
		}
	}()
	return rec.Recognize(source, data)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// DefaultRegistry returns a registry with every recognizer of this package,
// whole-file formats first, most specific first.
func DefaultRegistry() *Registry {
	r := NewRegistry()
	for _, rec := range []Recognizer{
		calicoctlStatus{},
		birdProtocols{},
		birdConfig{},
		nginxConfig{},
		kubectlNodes{},
		kubectlPods{},
		calicoManifest{},
		calicoResourcesYAML{},
		nodeAddressesYAML{},
		ssListen{},
		ipAddr{},
		ipRoute{},
		readinessMessage{},
		calicoNodeLog{},
		calicoAutodetect{},
		routerLog{},
		routerSessionLog{},
		birdLog{},
		kernelMD5{},
	} {
		if err := r.Register(rec); err != nil {
			panic(err) // a programming error: duplicate kinds in this list
		}
	}
	return r
}
