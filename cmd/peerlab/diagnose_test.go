package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/peerlab/peerlab/internal/testgate"
)

func TestDiagnoseArtifactsExitCodesAndOutput(t *testing.T) {
	const corpus = "../../diagnose/testdata/artifacts/"
	for _, tc := range []struct {
		name      string
		args      []string
		code      int
		contains  string
		wantCause string
	}{
		{"healthy cluster exits 0", []string{"diagnose", "--artifacts", corpus + "healthy", "-o", "json"}, 0, `"healthy": true`, ""},
		{"kubespray outage exits 1 with the proxy as top cause", []string{"diagnose", "--artifacts", corpus + "kubespray-proxy-down", "-o", "json"}, 1, "", "apiserver-proxy-down"},
		{"as mismatch in text", []string{"diagnose", "--artifacts", corpus + "as-mismatch-bird2"}, 1, "as-mismatch", ""},
		{"missing path is a usage error", []string{"diagnose", "--artifacts", corpus + "no-such-case"}, exitUsage, "no-such-case", ""},
		{"positional folder", []string{"diagnose", corpus + "kubespray-proxy-down", "-o", "json"}, 1, "", "apiserver-proxy-down"},
		{"positional files of two nodes", []string{"diagnose", corpus + "as-mismatch-config/node1", corpus + "as-mismatch-config/node2", "-o", "json"}, 1, "", "as-mismatch"},
		{"--artifacts comma-separated and repeated", []string{"diagnose", "--artifacts", corpus + "as-mismatch-config/node1," + corpus + "healthy", "--artifacts", corpus + "as-mismatch-config/node2", "-o", "json"}, 1, "", "as-mismatch"},
		{"positional and --artifacts together", []string{"diagnose", corpus + "as-mismatch-config/node1", "--artifacts", corpus + "as-mismatch-config/node2", "-o", "json"}, 1, "", "as-mismatch"},
		{"evidence and --lab exclude each other", []string{"diagnose", corpus + "healthy", "--lab", "x", "--node", "n"}, exitUsage, "exclude each other", ""},
		{"bad output format is a usage error", []string{"diagnose", "--artifacts", corpus + "healthy", "-o", "xml"}, exitUsage, "xml", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := runCLI(t, tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, out, errOut)
			}
			if !strings.Contains(out+errOut, tc.contains) {
				t.Errorf("output does not contain %q:\n%s%s", tc.contains, out, errOut)
			}
			if tc.wantCause == "" {
				return
			}
			var r struct {
				Findings []struct {
					Cause string `json:"cause"`
				} `json:"findings"`
			}
			if err := json.Unmarshal([]byte(out), &r); err != nil {
				t.Fatalf("not JSON: %v\n%s", err, out)
			}
			if len(r.Findings) == 0 || r.Findings[0].Cause != tc.wantCause {
				t.Errorf("findings = %+v, want top cause %s", r.Findings, tc.wantCause)
			}
		})
	}
}

// runCLIStdin runs the root command in-process with stdin.
func runCLIStdin(t *testing.T, stdin []byte, args ...string) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := newRootCommand(context.Background())
	cmd.SetArgs(args)
	cmd.SetIn(bytes.NewReader(stdin))
	cmd.SetOut(&stdout)
	cmd.SetErr(&stderr)
	code := 0
	if err := cmd.Execute(); err != nil {
		code = exitCodeQuiet(err)
		stderr.WriteString(err.Error())
	}
	return stdout.String(), stderr.String(), code
}

// tarGzOf packs the files of a corpus case folder into a .tar.gz under
// the top folder "bundle/".
func tarGzOf(t *testing.T, dir string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == "expected.json" {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if err := tw.WriteHeader(&tar.Header{Name: "bundle/" + filepath.ToSlash(rel), Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		_, err = tw.Write(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// topCause returns the first finding's cause of a JSON report.
func topCause(t *testing.T, out string) string {
	t.Helper()
	var r struct {
		Findings []struct {
			Cause string `json:"cause"`
			Node  string `json:"node"`
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if len(r.Findings) == 0 {
		t.Fatalf("no findings:\n%s", out)
	}
	return r.Findings[0].Cause + "@" + r.Findings[0].Node
}

// TestDiagnoseBundlesAndStdin runs `peerlab diagnose` on a .tar.gz given
// as an argument, on a paste and on a bundle piped into "-".
func TestDiagnoseBundlesAndStdin(t *testing.T) {
	const corpus = "../../diagnose/testdata/artifacts/"
	bundle := filepath.Join(t.TempDir(), "support.tar.gz")
	if err := os.WriteFile(bundle, tarGzOf(t, corpus+"kubespray-proxy-down"), 0o644); err != nil {
		t.Fatal(err)
	}
	paste, err := os.ReadFile(corpus + "as-mismatch-bird2/q")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		stdin []byte
		args  []string
		want  string
	}{
		{"tar.gz argument", nil, []string{"diagnose", bundle, "-o", "json"}, "apiserver-proxy-down@worker3"},
		{"paste on stdin", paste, []string{"diagnose", "-", "-o", "json"}, "as-mismatch@"},
		{"tar.gz on stdin", tarGzOf(t, corpus+"kubespray-proxy-down"), []string{"diagnose", "-", "-o", "json"}, "apiserver-proxy-down@worker3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := runCLIStdin(t, tc.stdin, tc.args...)
			if code != 1 {
				t.Fatalf("exit %d, want 1\nstdout: %s\nstderr: %s", code, out, errOut)
			}
			if got := topCause(t, out); got != tc.want {
				t.Errorf("top finding %s, want %s", got, tc.want)
			}
		})
	}
}

// TestDiagnoseHostNotCalicoNode runs host mode on this machine, which
// runs no Calico: the verdict says so, names what was looked for and
// exits 2, and no peer fault is reported for the host itself.
func TestDiagnoseHostNotCalicoNode(t *testing.T) {
	var present []string
	for _, p := range []string{"/var/run/calico/bird.ctl", "/var/run/bird/bird.ctl", "/etc/calico/confd/config/bird.cfg"} {
		if _, err := os.Stat(p); err == nil {
			present = append(present, p)
		}
	}
	if names, _ := os.ReadDir("/etc/calico"); len(names) > 0 {
		present = append(present, "/etc/calico/*")
	}
	if len(present) > 0 {
		testgate.SkipOrFail(t, "this host has Calico files (%v), not the host this test needs", present)
	}
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			out, errOut, code := runCLI(t, "diagnose", "-o", format)
			if code != exitUsage {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, exitUsage, out, errOut)
			}
			for _, w := range []string{"does not look like a Calico node", "/var/run/calico/bird.ctl", "/etc/calico/confd/config/bird.cfg", "calico-node process"} {
				if !strings.Contains(out, w) {
					t.Errorf("output does not say %q:\n%s", w, out)
				}
			}
			if strings.Contains(out, "peer-bird-down") {
				t.Errorf("host blamed as a peer fault:\n%s", out)
			}
			if format == "json" {
				var v struct {
					CalicoNode *bool `json:"calico_node"`
				}
				if err := json.Unmarshal([]byte(out), &v); err != nil || v.CalicoNode == nil || *v.CalicoNode {
					t.Errorf("json calico_node not false (%v):\n%s", err, out)
				}
			}
		})
	}
}
