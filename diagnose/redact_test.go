package diagnose

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	r := newRedactor()
	cases := []struct{ name, in, secret string }{
		{"bird", "  password \"s3cret\";\n", "s3cret"},
		{"yaml", "password: s3cret\n", "s3cret"},
		{"yaml quoted", "  password: 's3cret'\n", "s3cret"},
		{"json", `{"password": "s3cret", "asNumber": 65001}`, "s3cret"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := string(r.redact([]byte(tc.in)))
			if strings.Contains(out, tc.secret) || !strings.Contains(out, "redacted-") {
				t.Fatalf("redact(%q) = %q", tc.in, out)
			}
		})
	}
	a, b := r.redact([]byte(`password "x";`)), r.redact([]byte(`password "y";`))
	if string(a) == string(b) || string(a) != string(r.redact([]byte(`password "x";`))) {
		t.Fatalf("fingerprints must keep equal passwords equal and different ones apart: %s %s", a, b)
	}
}

// TestSaveArtifactsRedactsAndStillDiagnoses saves two bird.cfg files whose
// MD5 passwords differ and checks that the saved folder holds no password,
// is private, and still shows the two passwords as different.
func TestSaveArtifactsRedactsAndStillDiagnoses(t *testing.T) {
	cfg := func(pw string) []byte {
		return []byte("router id 10.0.0.1;\nprotocol bgp Mesh_10_0_0_2 {\n  local as 64512;\n  neighbor 10.0.0.2 as 64512;\n  password \"" + pw + "\";\n}\n")
	}
	dir := filepath.Join(t.TempDir(), "saved")
	arts := []Artifact{{Node: "node1", File: "bird.cfg", Data: cfg("alpha")}, {Node: "node2", File: "bird.cfg", Data: cfg("beta")}}
	if err := SaveArtifacts(dir, arts); err != nil {
		t.Fatal(err)
	}
	var pws []string
	for _, n := range []string{"node1", "node2"} {
		p := filepath.Join(dir, n, "bird.cfg")
		info, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != 0o600 {
			t.Fatalf("%s is %v, want 0600", p, info.Mode().Perm())
		}
		data, _ := os.ReadFile(p)
		if strings.Contains(string(data), "alpha") || strings.Contains(string(data), "beta") {
			t.Fatalf("%s still holds a password:\n%s", p, data)
		}
		rec := DefaultRegistry().Recognize(p, data)
		if len(rec.Obs.BirdConfigs) != 1 || len(rec.Obs.BirdConfigs[0].Peers) != 1 {
			t.Fatalf("saved bird.cfg not recognised: %+v", rec.Evidence)
		}
		pws = append(pws, rec.Obs.BirdConfigs[0].Peers[0].Password)
	}
	if pws[0] == pws[1] || pws[0] == "" {
		t.Fatalf("redacted passwords %q and %q should differ as the originals do", pws[0], pws[1])
	}
}
