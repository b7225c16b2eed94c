package k8s

import (
	"bytes"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// golden compares got with testdata/name, rewriting it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run go test -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs:\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

func TestRenderNginxConf(t *testing.T) {
	masters := []netip.AddrPort{netip.MustParseAddrPort("10.0.0.1:6443"), netip.MustParseAddrPort("10.0.0.4:6443")}
	tests := []struct {
		name string
		cfg  NginxConfig
	}{
		{"nginx-kubespray.conf", NginxConfig{Upstreams: masters, HealthPort: DefaultHealthPort}},
		{"nginx-lab.conf", NginxConfig{
			Upstreams: masters[:1], HealthPort: DefaultHealthPort,
			StreamModule: "/usr/lib/nginx/modules/ngx_stream_module.so",
			PIDFile:      "/run/peerlab/labs/x/nodes/worker1/run/nginx.pid",
			ErrorLog:     "/run/peerlab/labs/x/nodes/worker1/var/log/nginx/error.log",
			TempDir:      "/run/peerlab/labs/x/nodes/worker1/var/lib/nginx",
		}},
		{"nginx-no-healthcheck.conf", NginxConfig{Upstreams: masters[:1], ListenPort: 16443, KeepaliveTimeout: "75s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := RenderNginxConf(&buf, tt.cfg); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.name, buf.Bytes())
		})
	}
}

func TestRenderNginxConfRejects(t *testing.T) {
	tests := []struct {
		name string
		cfg  NginxConfig
	}{
		{"no upstream", NginxConfig{}},
		{"space in path", NginxConfig{Upstreams: []netip.AddrPort{netip.MustParseAddrPort("10.0.0.1:6443")}, PIDFile: "/tmp/a b/nginx.pid"}},
		{"semicolon in path", NginxConfig{Upstreams: []netip.AddrPort{netip.MustParseAddrPort("10.0.0.1:6443")}, ErrorLog: "/tmp/x;evil"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := RenderNginxConf(&bytes.Buffer{}, tt.cfg); err == nil {
				t.Error("RenderNginxConf succeeded, want an error")
			}
		})
	}
}

func TestRenderManifest(t *testing.T) {
	tests := []struct {
		name string
		cfg  ManifestConfig
	}{
		{"nginx-proxy.yml", ManifestConfig{HealthPort: DefaultHealthPort, NginxConf: []byte("stream {}\n")}},
		{"nginx-proxy-lab.yml", ManifestConfig{HealthPort: DefaultHealthPort, ConfigDir: "/run/peerlab/labs/x/nodes/worker1/etc/nginx", NginxConf: []byte("other\n")}},
		{"nginx-proxy-noprobe.yml", ManifestConfig{Image: "registry.local/nginx:1.27", NginxConf: nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := RenderManifest(&buf, tt.cfg); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.name, buf.Bytes())
		})
	}
	if err := RenderManifest(&bytes.Buffer{}, ManifestConfig{ConfigDir: "/a b"}); err == nil {
		t.Error("RenderManifest accepted a config dir with a space")
	}
}
