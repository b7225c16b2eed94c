package diagnose

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// corpusDir is the folder of the real-looking artifact cases.
const corpusDir = "testdata/artifacts"

// tarFile is one entry of a test bundle: its name in the bundle and the
// corpus file it copies; text (a node name for a hostname file) when src
// is empty; link makes it a symbolic link to text.
type tarFile struct {
	name, src, text string
	link            bool
}

// bundleBytes builds a tar (gzipped when gz) of corpus files.
func bundleBytes(t *testing.T, gz bool, files ...tarFile) []byte {
	t.Helper()
	var buf bytes.Buffer
	var w io.Writer = &buf
	var zw *gzip.Writer
	if gz {
		zw = gzip.NewWriter(&buf)
		w = zw
	}
	tw := tar.NewWriter(w)
	for _, f := range files {
		if f.link {
			if err := tw.WriteHeader(&tar.Header{Name: f.name, Typeflag: tar.TypeSymlink, Linkname: f.text, Mode: 0o777}); err != nil {
				t.Fatal(err)
			}
			continue
		}
		data := []byte(f.text)
		if f.src != "" {
			var err error
			if data, err = os.ReadFile(filepath.Join(corpusDir, f.src)); err != nil {
				t.Fatal(err)
			}
		}
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(data)), ModTime: time.Unix(1714550400, 0)}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// writeBundle writes a bundle into dir and returns its path.
func writeBundle(t *testing.T, dir, name string, gz bool, files ...tarFile) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, bundleBytes(t, gz, files...), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// caseFiles lists a corpus case as bundle entries under prefix, node
// sub-folders kept (expected.json left out).
func caseFiles(t *testing.T, name, prefix string) []tarFile {
	t.Helper()
	var out []tarFile
	root := filepath.Join(corpusDir, name)
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == "expected.json" {
			return err
		}
		rel, _ := filepath.Rel(corpusDir, p)
		inCase, _ := filepath.Rel(root, p)
		out = append(out, tarFile{name: prefix + filepath.ToSlash(inCase), src: rel})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// findingKeys renders findings as "cause/confidence/node/peer", in rank order.
func findingKeys(r Report) []string {
	var out []string
	for _, f := range r.Findings {
		out = append(out, fmt.Sprintf("%s/%s/%s/%s", f.Cause, f.Confidence, f.Node, f.Peer))
	}
	return out
}

// nodeNames lists the cluster's node names, sorted.
func nodeNames(c *Cluster) []string {
	var out []string
	for _, n := range c.Nodes {
		out = append(out, n.Name)
	}
	slices.Sort(out)
	return out
}

// TestLoadArtifactsInputs checks that every way of handing over the same
// corpus case (folder, tar, tar.gz, calicoctl node diags tarballs, a
// support bundle of per-node diags folders, stdin) gives the findings the
// case's own folder gives, with the same node names.
func TestLoadArtifactsInputs(t *testing.T) {
	tmp := t.TempDir()
	// An extracted calicoctl node diags folder of peer-bird-down's node2.
	extracted := filepath.Join(tmp, "calico123")
	for name, src := range map[string]string{
		"diagnostics/ipv4_addr":             "peer-bird-down/node2/2.txt",
		"diagnostics/calicoctl_node_status": "peer-bird-down/node2/1.txt",
	} {
		data, err := os.ReadFile(filepath.Join(corpusDir, src))
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(extracted, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(extracted, "diagnostics", "hostname"), []byte("node2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	node3Diags := writeBundle(t, tmp, "diags-20240501_090000.tar.gz", true,
		tarFile{name: "diagnostics/hostname", text: "node3\n"},
		tarFile{name: "diagnostics/birdc_show_protocols", src: "peer-bird-down/node3/1.txt"})
	node2Diags := writeBundle(t, tmp, "diags-20240501_090001.tar.gz", true,
		tarFile{name: "diagnostics/hostname", text: "node2\n"},
		tarFile{name: "diagnostics/ipv4_addr", src: "peer-bird-down/node2/2.txt"},
		tarFile{name: "diagnostics/logs/bird/current", src: "peer-bird-down/node2/1.txt"})
	support := writeBundle(t, tmp, "support.tgz", true,
		tarFile{name: "support/worker3/diagnostics/hostname", text: "worker3-real-hostname\n"},
		tarFile{name: "support/worker3/diagnostics/ipv4_addr", src: "kubespray-proxy-down/worker3/5.txt"},
		tarFile{name: "support/worker3/diagnostics/logs/confd/current", src: "kubespray-proxy-down/worker3/1.txt"},
		tarFile{name: "support/worker3/birdc-show-protocols.txt", src: "kubespray-proxy-down/worker3/2.txt"},
		tarFile{name: "support/worker3/nginx.conf", src: "kubespray-proxy-down/worker3/3.txt"},
		tarFile{name: "support/worker3/ss-ltnp.txt", src: "kubespray-proxy-down/worker3/4.txt"},
		tarFile{name: "support/master1/describe-pod.txt", src: "kubespray-proxy-down/master1/1.txt"},
		tarFile{name: "support/master1/birdc-show-protocols.txt", src: "kubespray-proxy-down/master1/2.txt"},
		tarFile{name: "support/master1/diagnostics/hostname", text: "master1\n"},
		tarFile{name: "support/master1/diagnostics/ipv4_addr", src: "kubespray-proxy-down/master1/3.txt"})
	plainTar := writeBundle(t, tmp, "case.tar", false, caseFiles(t, "kubespray-proxy-down", "kubespray-proxy-down/")...)
	gzTar := writeBundle(t, tmp, "case.tar.gz", true, caseFiles(t, "as-mismatch-config", "./as-mismatch-config/")...)
	// A bundle whose name does not say so: found by its gzip and tar magic.
	unnamed := writeBundle(t, tmp, "evidence.bin", true, caseFiles(t, "as-mismatch-config", "")...)
	paste, err := os.ReadFile(filepath.Join(corpusDir, "as-mismatch-bird2", "q"))
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name      string
		paths     []string
		stdin     []byte
		sameAs    string // the corpus case whose folder must give the same findings
		wantNodes []string
	}{
		{"folder", []string{filepath.Join(corpusDir, "peer-bird-down")}, nil, "peer-bird-down", []string{"node2", "node3"}},
		{"node folders given side by side are named after them", []string{filepath.Join(corpusDir, "as-mismatch-config", "node1"), filepath.Join(corpusDir, "as-mismatch-config", "node2")}, nil, "as-mismatch-config", []string{"node1", "node2"}},
		{"files given one by one belong to the unnamed node", []string{filepath.Join(corpusDir, "as-mismatch-bird2", "q")}, nil, "as-mismatch-bird2", []string{""}},
		{"tar: the single top folder is no node", []string{plainTar}, nil, "kubespray-proxy-down", []string{"master1", "worker3"}},
		{"tar.gz with ./ names", []string{gzTar}, nil, "as-mismatch-config", []string{"node1", "node2"}},
		{"gzip tar found by content", []string{unnamed}, nil, "as-mismatch-config", []string{"node1", "node2"}},
		{"calicoctl node diags tarballs, one per node, named by hostname", []string{node2Diags, node3Diags}, nil, "peer-bird-down", []string{"node2", "node3"}},
		{"extracted calicoctl diags folder and a tarball", []string{extracted, node3Diags}, nil, "peer-bird-down", []string{"node2", "node3"}},
		{"support bundle of per-node folders holding diagnostics/", []string{support}, nil, "kubespray-proxy-down", []string{"master1", "worker3"}},
		{"stdin paste", []string{Stdin}, paste, "as-mismatch-bird2", []string{""}},
		{"stdin tar.gz", []string{Stdin}, bundleBytes(t, true, caseFiles(t, "peer-bird-down", "bundle/")...), "peer-bird-down", []string{"node2", "node3"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := diagnoseCase(t, filepath.Join(corpusDir, tc.sameAs))
			opts := ArtifactOptions{Skip: skipExpected, Stdin: bytes.NewReader(tc.stdin)}
			c, err := LoadArtifactsContext(context.Background(), tc.paths, opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := nodeNames(c); !slices.Equal(got, tc.wantNodes) {
				t.Errorf("nodes %q, want %q", got, tc.wantNodes)
			}
			rep, err := DiagnoseContext(context.Background(), c)
			if err != nil {
				t.Fatal(err)
			}
			if got, w := findingKeys(rep), findingKeys(want); !slices.Equal(got, w) || len(w) == 0 {
				t.Errorf("findings\n  %q\nwant (from the case folder)\n  %q\nunknowns: %q", got, w, rep.Unknowns)
			}
			if len(rep.Evidence) != len(want.Evidence) {
				t.Errorf("%d pieces of evidence, the folder gives %d", len(rep.Evidence), len(want.Evidence))
			}
		})
	}
}

// TestLoadArtifactsRefusals checks the bounds and refusals: each is an
// error naming the path, or a note in Unknowns for what a bundle skips.
func TestLoadArtifactsRefusals(t *testing.T) {
	tmp := t.TempDir()
	fifo := filepath.Join(tmp, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	notTar := filepath.Join(tmp, "notes.tar")
	if err := os.WriteFile(notTar, []byte(strings.Repeat("not a tar archive at all\n", 40)), 0o644); err != nil {
		t.Fatal(err)
	}
	big := writeBundle(t, tmp, "big.tgz", true, caseFiles(t, "kubespray-proxy-down", "b/")...)
	odd := writeBundle(t, tmp, "odd.tar", false,
		tarFile{name: "b/node2/status.txt", src: "peer-bird-down/node2/1.txt"},
		tarFile{name: "b/node2/current", text: "/var/log/calico/bird/current", link: true},
		tarFile{name: "../../etc/evil", src: "peer-bird-down/node2/1.txt"},
		tarFile{name: "b/.git/config", src: "peer-bird-down/node2/1.txt"},
		tarFile{name: "b/node2/._status.txt", src: "peer-bird-down/node2/1.txt"})
	nested := writeBundle(t, tmp, "nested.tar", false,
		tarFile{name: "b/node2/status.txt", src: "peer-bird-down/node2/1.txt"},
		tarFile{name: "b/node2/inner.bin", text: string(bundleBytes(t, true, tarFile{name: "x", src: "peer-bird-down/node2/1.txt"}))})

	for _, tc := range []struct {
		name    string
		paths   []string
		opts    ArtifactOptions
		wantErr []string // substrings of the error; none means success
		is      error
		notes   []string // substrings each of which some Unknowns entry has
	}{
		{"missing path", []string{filepath.Join(tmp, "nope")}, ArtifactOptions{}, []string{"nope", "no such file"}, os.ErrNotExist, nil},
		{"a FIFO is not a file", []string{fifo}, ArtifactOptions{}, []string{fifo, "not a regular file or folder"}, nil, nil},
		{"not a tar archive", []string{notTar}, ArtifactOptions{}, []string{notTar, "not a readable tar archive"}, nil, nil},
		{"bundle over the limit", []string{big}, ArtifactOptions{MaxBundle: 2048}, []string{big, "extract it"}, ErrTooLarge, nil},
		{"stdin twice", []string{Stdin, Stdin}, ArtifactOptions{Stdin: strings.NewReader("")}, []string{"stdin (-) given twice"}, nil, nil},
		{"long file cut at MaxFile", []string{filepath.Join(corpusDir, "peer-bird-down")}, ArtifactOptions{MaxFile: 64}, nil, nil,
			[]string{"longer than 64 bytes: only its first 64 bytes were read"}},
		{"links, escaping and hidden entries skipped", []string{odd}, ArtifactOptions{}, nil, nil,
			[]string{"odd.tar:b/node2/current: not a regular file (symbolic link), skipped", "odd.tar:../../etc/evil: path leaves the bundle, skipped"}},
		{"archive inside a bundle not opened", []string{nested}, ArtifactOptions{}, nil, nil,
			[]string{"nested.tar:b/node2/inner.bin: a tar archive inside a folder or bundle is not opened"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := LoadArtifacts(tc.paths, tc.opts)
			if len(tc.wantErr) > 0 {
				if err == nil {
					t.Fatalf("no error; unknowns %q", c.Unknowns)
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not say %q", err, w)
					}
				}
				if tc.is != nil && !errors.Is(err, tc.is) {
					t.Errorf("error %q is not %v", err, tc.is)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.notes {
				if !slices.ContainsFunc(c.Unknowns, func(u string) bool { return strings.Contains(u, w) }) {
					t.Errorf("no unknown says %q: %q", w, c.Unknowns)
				}
			}
			for _, e := range c.Evidence {
				if strings.Contains(e.Source, "evil") || strings.Contains(e.Source, ".git") || strings.Contains(e.Source, "._") {
					t.Errorf("skipped entry was read: %s", e.Source)
				}
			}
		})
	}
}

// countingRecognizer counts its calls and cancels a context at call n.
type countingRecognizer struct {
	calls  atomic.Int64
	n      int64
	cancel context.CancelFunc
}

func (r *countingRecognizer) Kind() string { return "counting" }
func (r *countingRecognizer) Whole() bool  { return true }
func (r *countingRecognizer) Recognize(string, []byte) (Observations, []string, bool) {
	if r.calls.Add(1) == r.n {
		r.cancel()
	}
	return Observations{}, nil, false
}

// TestLoadArtifactsCancel checks that a cancelled context stops loading
// between files and LoadArtifactsContext returns ctx.Err().
func TestLoadArtifactsCancel(t *testing.T) {
	dir := t.TempDir()
	const files = 1000
	writeSyntheticBundle(t, dir, files, false)
	bundle := writeBundle(t, t.TempDir(), "b.tgz", true, caseFiles(t, "kubespray-proxy-down", "b/")...)
	for _, tc := range []struct {
		name     string
		paths    []string
		cancelAt int64 // 0: cancelled before the call
		maxCalls int64
	}{
		{"cancelled before: nothing is read", []string{dir}, 0, 0},
		{"cancelled before, bundle", []string{bundle}, 0, 0},
		{"cancelled after 20 files of 1000", []string{dir}, 20, 20 + 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			rec := &countingRecognizer{n: tc.cancelAt, cancel: cancel}
			if tc.cancelAt == 0 {
				cancel()
			}
			reg := NewRegistry()
			if err := reg.Register(rec); err != nil {
				t.Fatal(err)
			}
			c, err := LoadArtifactsContext(ctx, tc.paths, ArtifactOptions{Registry: reg, Workers: 4})
			if !errors.Is(err, context.Canceled) || c != nil {
				t.Fatalf("got cluster %v, error %v; want context.Canceled", c != nil, err)
			}
			if got := rec.calls.Load(); got > tc.maxCalls {
				t.Errorf("%d files recognised after the cancel at %d, want at most %d", got, tc.cancelAt, tc.maxCalls)
			}
		})
	}
}

// TestDiagnoseContextCancel checks that DiagnoseContext and
// DiagnoseArtifacts return ctx.Err() for a done context.
func TestDiagnoseContextCancel(t *testing.T) {
	c, err := LoadArtifacts([]string{filepath.Join(corpusDir, "kubespray-proxy-down")}, ArtifactOptions{Skip: skipExpected})
	if err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()
	for _, tc := range []struct {
		name string
		ctx  context.Context
		want error
	}{
		{"cancelled", cancelled, context.Canceled},
		{"deadline passed", expired, context.DeadlineExceeded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if rep, err := DiagnoseContext(tc.ctx, c); !errors.Is(err, tc.want) || len(rep.Findings) != 0 {
				t.Errorf("DiagnoseContext: %d findings, error %v; want %v", len(rep.Findings), err, tc.want)
			}
			if _, err := DiagnoseArtifacts(tc.ctx, []string{filepath.Join(corpusDir, "kubespray-proxy-down")}, ArtifactOptions{}); !errors.Is(err, tc.want) {
				t.Errorf("DiagnoseArtifacts: error %v; want %v", err, tc.want)
			}
		})
	}
	// The same cluster still diagnoses with a live context.
	if rep, err := DiagnoseContext(context.Background(), c); err != nil || len(rep.Findings) == 0 {
		t.Fatalf("live context: %d findings, error %v", len(rep.Findings), err)
	}
}
