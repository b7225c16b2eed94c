package lab

import (
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/peerlab/peerlab/internal/testgate"
)

// TestSameBuild checks which build facts make a peerlab-gobgpd beside
// peerlab count as another build, and that one using fewer modules does
// not.
func TestSameBuild(t *testing.T) {
	base := func() *debug.BuildInfo {
		return &debug.BuildInfo{
			GoVersion: "go1.26.8",
			Main:      debug.Module{Path: "github.com/peerlab/peerlab", Version: "v0.0.0-20261206-abcdef+dirty"},
			Deps: []*debug.Module{
				{Path: "github.com/osrg/gobgp/v4", Version: "v4.8.0", Sum: "h1:gobgp"},
				{Path: "github.com/spf13/cobra", Version: "v1.9.1", Sum: "h1:cobra"},
			},
			Settings: []debug.BuildSetting{
				{Key: "vcs.revision", Value: "abcdef"},
				{Key: "vcs.time", Value: "2026-12-06T07:00:00Z"},
				{Key: "vcs.modified", Value: "true"},
				{Key: "CGO_ENABLED", Value: "1"},
			},
		}
	}
	for _, tc := range []struct {
		name   string
		change func(*debug.BuildInfo)
		want   string // "" means the same build
	}{
		{"identical", func(*debug.BuildInfo) {}, ""},
		{"fewer modules", func(b *debug.BuildInfo) { b.Deps = b.Deps[:1] }, ""},
		{"other cgo setting", func(b *debug.BuildInfo) { b.Settings[3].Value = "0" }, ""},
		{"other Go", func(b *debug.BuildInfo) { b.GoVersion = "go1.26.7" }, "built with go1.26.7"},
		{"other main module", func(b *debug.BuildInfo) { b.Main.Path = "example.com/hello" }, "module example.com/hello"},
		{"other revision", func(b *debug.BuildInfo) { b.Settings[0].Value = "012345" }, `vcs.revision "012345"`},
		{"clean tree", func(b *debug.BuildInfo) { b.Settings[2].Value = "false" }, `vcs.modified "false"`},
		{"no VCS stamp", func(b *debug.BuildInfo) { b.Settings = nil }, `vcs.revision ""`},
		{"other GoBGP", func(b *debug.BuildInfo) { b.Deps[0].Version = "v4.7.0" }, "dependency github.com/osrg/gobgp/v4@v4.7.0"},
		{"a module peerlab lacks", func(b *debug.BuildInfo) {
			b.Deps = append(b.Deps, &debug.Module{Path: "example.com/extra", Version: "v1.0.0"})
		}, "dependency example.com/extra@v1.0.0"},
		{"replaced GoBGP", func(b *debug.BuildInfo) {
			b.Deps[0].Replace = &debug.Module{Path: "../gobgp", Version: "(devel)"}
		}, "dependency ../gobgp@(devel)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			other := base()
			tc.change(other)
			err := sameBuild(base(), other)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("sameBuild = %v, want the same build", err)
			case tc.want != "" && err == nil:
				t.Fatalf("sameBuild = nil, want an error saying %q", tc.want)
			case tc.want != "" && !strings.Contains(err.Error(), tc.want):
				t.Fatalf("sameBuild = %q, want it to say %q", err, tc.want)
			}
		})
	}
}

// TestTrustedBeside checks which agent programs beside peerlab may run in
// its stead: a regular file of peerlab's owner that nobody else may write
// or replace (its folder is not writable by others either).
func TestTrustedBeside(t *testing.T) {
	// writeProgram writes the agent program p as its owner would.
	writeProgram := func(p string) error { return os.WriteFile(p, []byte("x"), 0o755) }
	// chmodProgram writes p, then gives it mode.
	chmodProgram := func(mode os.FileMode) func(dir, p string) error {
		return func(_, p string) error {
			if err := writeProgram(p); err != nil {
				return err
			}
			return os.Chmod(p, mode)
		}
	}
	for _, tc := range []struct {
		name string
		// setup makes the agent program p in dir, beside peerlab.
		setup func(dir, p string) error
		want  string // "" means trusted
		root  bool   // needs root (chown)
	}{
		{"owner only", func(_, p string) error { return writeProgram(p) }, "", false},
		{"group writable", chmodProgram(0o775), "writable by others than its owner (mode 0775)", false},
		{"world writable", chmodProgram(0o757), "writable by others than its owner (mode 0757)", false},
		{"a folder", func(_, p string) error { return os.Mkdir(p, 0o755) }, "not a regular file", false},
		{"folder writable by others", func(dir, p string) error {
			if err := writeProgram(p); err != nil {
				return err
			}
			return os.Chmod(dir, 0o777)
		}, "its folder is writable by others than its owner (mode 0777)", false},
		{"another owner", func(_, p string) error {
			if err := writeProgram(p); err != nil {
				return err
			}
			return os.Chown(p, 65534, 65534)
		}, "owned by uid 65534", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.root {
				testgate.RequireRoot(t, "chown")
			}
			dir := t.TempDir()
			self, p := filepath.Join(dir, "peerlab"), filepath.Join(dir, AgentProgram)
			if err := writeProgram(self); err != nil {
				t.Fatal(err)
			}
			if err := tc.setup(dir, p); err != nil {
				t.Fatal(err)
			}
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			err = trustedBeside(self, fi)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("trustedBeside = %v, want trusted", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("trustedBeside = %v, want an error saying %q", err, tc.want)
			}
		})
	}
}
