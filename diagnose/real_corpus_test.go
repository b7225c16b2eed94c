package diagnose

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// realExpectation is a real-world case's expected.json. Confirmed is what
// the thread established (a catalogue slug or "outside:<name>"); Causes
// are the top-1 causes the artifacts can support; MaxConfidence caps what
// the evidence can settle.
type realExpectation struct {
	Confirmed     string     `json:"confirmed"`
	Causes        []Cause    `json:"causes"`
	MaxConfidence Confidence `json:"max_confidence"`
	Peer          *string    `json:"peer"`
	Node          *string    `json:"node"`
}

// realCaseFile tells which files of a case folder are not evidence.
func realCaseFile(dir string) func(string) bool {
	return func(p string) bool {
		base := filepath.Base(p)
		if base == "SOURCE.md" || base == "expected.json" {
			return true
		}
		return base == "README.md" && filepath.Dir(p) == dir
	}
}

var sourceURLRE = regexp.MustCompile(`https?://\S+`)

// realVerdict is how one case went.
type realVerdict struct {
	right, confidentlyWrong bool
	why                     string
}

// judgeReal compares the top finding with the expectation.
func judgeReal(want realExpectation, rep Report) realVerdict {
	if len(rep.Findings) == 0 {
		return realVerdict{why: "no finding (the report says healthy)"}
	}
	top := rep.Findings[0]
	inCauses := slices.Contains(want.Causes, top.Cause)
	over := top.Confidence.rank() > want.MaxConfidence.rank()
	v := realVerdict{}
	switch {
	case !inCauses:
		v.why = "top cause " + string(top.Cause) + "/" + string(top.Confidence) + " not in " + joinCauses(want.Causes)
		v.confidentlyWrong = top.Confidence.rank() >= Medium.rank()
	case over:
		v.why = "top " + string(top.Cause) + " at " + string(top.Confidence) + " claims more than " + string(want.MaxConfidence)
		v.confidentlyWrong = true
	case want.Peer != nil && top.Peer != *want.Peer:
		v.why = "top peer " + top.Peer + ", want " + *want.Peer
	case want.Node != nil && top.Node != *want.Node:
		v.why = "top node " + top.Node + ", want " + *want.Node
	default:
		v.right = true
	}
	return v
}

func joinCauses(cs []Cause) string {
	s := make([]string, len(cs))
	for i, c := range cs {
		s[i] = string(c)
	}
	return "[" + strings.Join(s, " ") + "]"
}

// TestRealWorldCorpus diagnoses every case of testdata/real, artifacts
// copied verbatim from public threads, and requires the top finding to be
// right in at least 90% of them and never confidently wrong.
func TestRealWorldCorpus(t *testing.T) {
	files, err := filepath.Glob("testdata/real/*/expected.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no cases under testdata/real/*/expected.json")
	}
	right, wrong := 0, 0
	for _, f := range files {
		dir := filepath.Dir(f)
		name := filepath.Base(dir)
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var want realExpectation
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&want); err != nil {
			t.Errorf("%s: expected.json: %v", name, err)
			continue
		}
		if want.Confirmed == "" || len(want.Causes) == 0 || want.MaxConfidence.rank() == 0 {
			t.Errorf("%s: expected.json needs confirmed, causes and max_confidence", name)
			continue
		}
		src, err := os.ReadFile(filepath.Join(dir, "SOURCE.md"))
		if err != nil || !sourceURLRE.Match(src) {
			t.Errorf("%s: no SOURCE.md with an http(s) URL (%v)", name, err)
		}
		c, err := LoadArtifacts([]string{dir}, ArtifactOptions{Skip: realCaseFile(dir)})
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		rep := Diagnose(c)
		v := judgeReal(want, rep)
		if v.right {
			right++
			continue
		}
		if v.confidentlyWrong {
			wrong++
		}
		var text bytes.Buffer
		_ = WriteReport(&text, rep, "text")
		t.Logf("MISS %s (confirmed %s): %s\n%s", name, want.Confirmed, v.why, text.String())
	}
	n := len(files)
	t.Logf("real-world corpus: %d/%d top-1, %d confidently wrong", right, n, wrong)
	if wrong > 0 {
		t.Errorf("%d case(s) confidently wrong", wrong)
	}
	if right*10 < n*9 {
		t.Errorf("top-1 right in %d/%d, below 90%%", right, n)
	}
}

func TestJudgeReal(t *testing.T) {
	peer := "10.0.0.2"
	want := realExpectation{Confirmed: "as-mismatch", Causes: []Cause{CauseASMismatch, CauseUnknown}, MaxConfidence: Medium, Peer: &peer}
	rep := func(c Cause, conf Confidence, p string) Report {
		return Report{Findings: []Finding{{Cause: c, Confidence: conf, Peer: p}}}
	}
	tests := []struct {
		name         string
		rep          Report
		right, wrong bool
	}{
		{"right", rep(CauseASMismatch, Medium, peer), true, false},
		{"over the cap", rep(CauseASMismatch, High, peer), false, true},
		{"wrong at low", rep(CauseMD5Mismatch, Low, peer), false, false},
		{"wrong at medium", rep(CauseMD5Mismatch, Medium, peer), false, true},
		{"wrong peer", rep(CauseASMismatch, Low, "10.0.0.3"), false, false},
		{"healthy", Report{Healthy: true}, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := judgeReal(want, tc.rep)
			if v.right != tc.right || v.confidentlyWrong != tc.wrong {
				t.Fatalf("right=%v wrong=%v (%s), want %v %v", v.right, v.confidentlyWrong, v.why, tc.right, tc.wrong)
			}
		})
	}
}
