package main

import (
	"bytes"
	"context"
	"encoding/json"
	"hash/fnv"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// runCLI runs peerlab in-process with args and returns stdout, stderr and
// the exit status main would use.
func runCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := newRootCommand(context.Background())
	cmd.SetArgs(args)
	cmd.SetOut(&stdout)
	cmd.SetErr(&stderr)
	err := cmd.Execute()
	code := 0
	if err != nil {
		code = exitCodeQuiet(err)
		stderr.WriteString(err.Error())
	}
	return stdout.String(), stderr.String(), code
}

// exitCodeQuiet is exitCode without printing.
func exitCodeQuiet(err error) int {
	if ee, ok := err.(*exitError); ok {
		return ee.code
	}
	return exitFailed
}

// testPort derives a port from the test name so tests never share one.
func testPort(t *testing.T) string {
	h := fnv.New32a()
	h.Write([]byte("cmd/" + t.Name()))
	return strconv.Itoa(40000 + int(h.Sum32()%15000))
}

// jsonReport mirrors the fields of `run --output json` the tests read.
type jsonReport struct {
	Lab       string `json:"lab"`
	OK        bool   `json:"ok"`
	ElapsedMS int64  `json:"elapsed_ms"`
	Sessions  []struct {
		Local, Remote, State string
		LastError            string `json:"last_error"`
		Notification         string `json:"notification"`
	} `json:"sessions"`
	Expectations []struct {
		Description string `json:"description"`
		OK          bool   `json:"ok"`
		Detail      string `json:"detail"`
	} `json:"expectations"`
}

func TestRunQuickstartJSONShowsASMismatch(t *testing.T) {
	out, errOut, code := runCLI(t, "run", "../../topologies/quickstart.yaml", "--output", "json",
		"--port", testPort(t), "--state-dir", t.TempDir(), "--mode", "loopback")
	if code != 0 {
		t.Fatalf("exit %d, stderr: %s\nstdout: %s", code, errOut, out)
	}
	var r jsonReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("output is not one JSON object: %v\n%s", err, out)
	}
	if r.Lab != "quickstart" || !r.OK || r.ElapsedMS <= 0 || len(r.Expectations) != 3 {
		t.Errorf("report header: lab=%q ok=%v elapsed=%d expectations=%d", r.Lab, r.OK, r.ElapsedMS, len(r.Expectations))
	}
	found := 0
	for _, s := range r.Sessions {
		if s.Local == "node2" && s.Remote == "tor" {
			found++
			if !strings.HasPrefix(s.Notification, "2/2 ") || !strings.Contains(s.Notification, "Bad Peer AS") {
				t.Errorf("node2->tor notification = %q, want 2/2 Bad Peer AS", s.Notification)
			}
			if !strings.Contains(s.LastError, "bad peer as") {
				t.Errorf("node2->tor last_error = %q, want GoBGP's bad peer as reason", s.LastError)
			}
		}
	}
	if found != 1 {
		t.Errorf("node2->tor found %d times in sessions", found)
	}
}

func TestRunExitsOneWhenAnExpectationFails(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "fails.yaml")
	writeFile(t, file, `name: t-fails
nodes:
  a: {address: 10.0.0.1}
  b: {address: 10.0.0.2, asn: 65002}
peerings:
  - between: [a, b]
    peer-asn: {b: 65099}
expect:
  - established: [a, b]
    within: 3s
`)
	out, _, code := runCLI(t, "run", file, "--port", testPort(t), "--state-dir", dir, "--mode", "loopback")
	if code != exitFailed {
		t.Fatalf("exit %d, want %d\n%s", code, exitFailed, out)
	}
	if !strings.Contains(out, "FAIL") || !strings.Contains(out, "Bad Peer AS") {
		t.Errorf("table report does not show the failure and its reason:\n%s", out)
	}
}

func TestValidate(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	writeFile(t, bad, "name: bad\nnodes:\n  a: {address: 10.0.0.1, asn: 4294967296}\n")
	for _, tc := range []struct {
		name     string
		args     []string
		code     int
		contains string
	}{
		{"shipped topology", []string{"validate", "../../topologies/calico-rr.yaml"}, 0, "valid: lab calico-rr, 8 nodes, 12 sessions"},
		{"bad AS names file, line and field", []string{"validate", bad}, exitUsage, "bad.yaml:3: nodes.a.asn"},
		{"missing file", []string{"validate", filepath.Join(dir, "nope.yaml")}, exitUsage, "nope.yaml"},
		{"no argument", []string{"validate"}, exitUsage, "accepts 1 arg"},
		{"unknown flag", []string{"validate", "--bogus", bad}, exitUsage, "unknown flag"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := runCLI(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d (stderr %s)", code, tc.code, errOut)
			}
			if !strings.Contains(out+errOut, tc.contains) {
				t.Errorf("output %q does not contain %q", out+errOut, tc.contains)
			}
		})
	}
}

func TestSettingsFromEnvironmentAndConfigFile(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("PEERLAB_OUTPUT", "xml")
	_, errOut, code := runCLI(t, "run", "../../topologies/quickstart.yaml")
	if code != exitUsage || !strings.Contains(errOut, `"xml" is not table or json`) {
		t.Errorf("PEERLAB_OUTPUT=xml: exit %d, stderr %q", code, errOut)
	}
	cfg := filepath.Join(dir, "peerlab.yaml")
	writeFile(t, cfg, "outptu: json\n")
	_, errOut, code = runCLI(t, "--config", cfg, "version")
	if code != exitUsage || !strings.Contains(errOut, "unknown key(s): outptu") {
		t.Errorf("config typo: exit %d, stderr %q", code, errOut)
	}
}

func TestVersion(t *testing.T) {
	out, _, code := runCLI(t, "version")
	if code != 0 || !strings.HasPrefix(out, "peerlab ") || !strings.Contains(out, "gobgp ") {
		t.Errorf("version: exit %d, %q", code, out)
	}
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}
