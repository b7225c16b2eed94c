package diagnose

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden reports under testdata/golden")

// expectation is a case's expected.json. A case whose evidence settles
// its cause names it (cause, confidence); one whose text cannot tell
// (a silent drop looks like several things) lists the acceptable top
// causes instead and caps the confidence: the honest answer is a low
// guess, and a rule claiming more fails the case.
type expectation struct {
	Healthy    bool   `json:"healthy"`
	Cause      Cause  `json:"cause"`
	Confidence string `json:"confidence"`
	// Causes are the acceptable top causes, when Cause is empty.
	Causes []Cause `json:"causes"`
	// MaxConfidence caps the top finding's confidence ("low", "medium").
	MaxConfidence Confidence `json:"max_confidence"`
	Node          *string    `json:"node"`
	Peer          *string    `json:"peer"`
	Also          []Cause    `json:"also"`
}

// check returns what is wrong with top against the expectation, or "".
func (e expectation) check(top Finding) string {
	if e.Cause != "" && (top.Cause != e.Cause || string(top.Confidence) != e.Confidence) {
		return fmt.Sprintf("top finding %s/%s, want %s/%s", top.Cause, top.Confidence, e.Cause, e.Confidence)
	}
	if len(e.Causes) > 0 && !slices.Contains(e.Causes, top.Cause) {
		return fmt.Sprintf("top finding %s/%s, want one of %v", top.Cause, top.Confidence, e.Causes)
	}
	if e.MaxConfidence != "" && top.Confidence.rank() > e.MaxConfidence.rank() {
		return fmt.Sprintf("top finding %s/%s claims more than %s confidence: the evidence cannot settle it", top.Cause, top.Confidence, e.MaxConfidence)
	}
	return ""
}

// corpusCases returns the case folders; it fails when there are none.
func corpusCases(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob("testdata/artifacts/*/expected.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no cases under testdata/artifacts/*/expected.json")
	}
	var dirs []string
	for _, f := range files {
		dirs = append(dirs, filepath.Dir(f))
	}
	return dirs
}

func skipExpected(p string) bool { return filepath.Base(p) == "expected.json" }

// diagnoseCase runs the artifacts diagnosis of one case folder.
func diagnoseCase(t testing.TB, dir string) Report {
	t.Helper()
	c, err := LoadArtifacts([]string{dir}, ArtifactOptions{Skip: skipExpected})
	if err != nil {
		t.Fatal(err)
	}
	return Diagnose(c)
}

func TestCorpus(t *testing.T) {
	for _, dir := range corpusCases(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(dir, "expected.json"))
			if err != nil {
				t.Fatal(err)
			}
			var want expectation
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&want); err != nil {
				t.Fatalf("expected.json: %v", err)
			}
			rep := diagnoseCase(t, dir)
			var text bytes.Buffer
			if err := WriteReport(&text, rep, "text"); err != nil {
				t.Fatal(err)
			}
			if rep.Healthy != want.Healthy {
				t.Fatalf("healthy = %v, want %v\n%s", rep.Healthy, want.Healthy, text.String())
			}
			if want.Healthy {
				if len(rep.Findings) != 0 || rep.ExitCode() != ExitHealthy {
					t.Fatalf("healthy report with findings or exit %d", rep.ExitCode())
				}
				return
			}
			if rep.ExitCode() != ExitFindings || len(rep.Findings) == 0 {
				t.Fatalf("exit %d with %d findings", rep.ExitCode(), len(rep.Findings))
			}
			top := rep.Findings[0]
			if want.Cause == "" && len(want.Causes) == 0 {
				t.Fatal("expected.json names neither cause nor causes")
			}
			if msg := want.check(top); msg != "" {
				t.Fatalf("%s\n%s", msg, text.String())
			}
			if want.Node != nil && top.Node != *want.Node {
				t.Errorf("top finding node %q, want %q\n%s", top.Node, *want.Node, text.String())
			}
			if want.Peer != nil && top.Peer != *want.Peer {
				t.Errorf("top finding peer %q, want %q\n%s", top.Peer, *want.Peer, text.String())
			}
			if top.Cause != CauseUnknown && len(top.Evidence) == 0 {
				t.Errorf("top finding quotes no evidence")
			}
			if len(top.Remediation) == 0 {
				t.Errorf("top finding has no remediation")
			}
			for _, c := range want.Also {
				if !slices.ContainsFunc(rep.Findings, func(f Finding) bool { return f.Cause == c }) {
					t.Errorf("no finding of cause %s\n%s", c, text.String())
				}
			}
			checkGolden(t, filepath.Join("testdata", "golden", filepath.Base(dir)+".txt"), text.Bytes())
		})
	}
}

// checkGolden compares got with the golden file, or rewrites it with -update.
func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./diagnose -run TestCorpus -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("report differs from %s (run with -update to accept):\n%s", path, got)
	}
}

// TestCorpusCoversCatalogue asserts that every cause of the catalogue is
// the top finding of at least one case.
func TestCorpusCoversCatalogue(t *testing.T) {
	top := map[Cause]bool{}
	for _, dir := range corpusCases(t) {
		raw, err := os.ReadFile(filepath.Join(dir, "expected.json"))
		if err != nil {
			t.Fatal(err)
		}
		var want expectation
		if err := json.Unmarshal(raw, &want); err != nil {
			t.Fatal(err)
		}
		top[want.Cause] = true
	}
	for _, ci := range Catalogue() {
		if !top[ci.Cause] {
			t.Errorf("no corpus case has %s as its top cause", ci.Cause)
		}
	}
}

func BenchmarkArtifacts(b *testing.B) {
	dir := filepath.Join("testdata", "artifacts", "kubespray-proxy-down")
	b.ReportAllocs()
	for b.Loop() {
		rep := diagnoseCase(b, dir)
		if len(rep.Findings) == 0 {
			b.Fatal("no findings")
		}
	}
}
