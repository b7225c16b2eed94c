package diagnose

import (
	"errors"
	"fmt"
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

// Recognize tries the whole-file recognizers in order and keeps the first
// that claims data; when none does, every line recognizer that claims it
// contributes. A recognizer that panics is treated as not claiming the
// input. An empty Evidence means the input was not recognised.
func (r *Registry) Recognize(source string, data []byte) Recognition {
	var res Recognition
	for _, rec := range r.recs {
		if !rec.Whole() {
			continue
		}
		if obs, lines, ok := safeRecognize(rec, source, data); ok {
			res.Obs = obs
			res.Evidence = []Evidence{{Source: source, Kind: rec.Kind(), Lines: nonNil(lines)}}
			return res
		}
	}
	for _, rec := range r.recs {
		if rec.Whole() {
			continue
		}
		if obs, lines, ok := safeRecognize(rec, source, data); ok {
			res.Obs.merge(obs)
			res.Evidence = append(res.Evidence, Evidence{Source: source, Kind: rec.Kind(), Lines: nonNil(lines)})
		}
	}
	return res
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
		calicoManifest{},
		ssListen{},
		ipAddr{},
		ipRoute{},
		readinessMessage{},
		calicoNodeLog{},
		birdLog{},
		kernelMD5{},
	} {
		if err := r.Register(rec); err != nil {
			panic(err) // a programming error: duplicate kinds in this list
		}
	}
	return r
}
