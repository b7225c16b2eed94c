package lab

import (
	"runtime/debug"
	"strings"
	"testing"
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
