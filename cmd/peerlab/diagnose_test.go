package main

import (
	"encoding/json"
	"strings"
	"testing"
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
