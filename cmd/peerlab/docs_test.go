package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// docRun runs one documented command line and fails unless its exit
// status is one of codes (0 when none given).
func docRun(t *testing.T, sh *docShell, line string, timeout time.Duration, codes ...int) result {
	t.Helper()
	if len(codes) == 0 {
		codes = []int{0}
	}
	r := sh.run(line, timeout)
	for _, c := range codes {
		if r.code == c {
			return r
		}
	}
	t.Fatalf("documented command %q: exit %d, want %v\nstdout:\n%s\nstderr:\n%s", line, r.code, codes, r.stdout, r.stderr)
	return r
}

// plainBlockContaining is the plain ``` block of rel that holds text.
func plainBlockContaining(t *testing.T, rel, text string) string {
	t.Helper()
	data, err := os.ReadFile(repoFile(rel))
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	i := strings.Index(s, text)
	if i < 0 {
		t.Fatalf("%s does not show %q", rel, text)
	}
	start := strings.LastIndex(s[:i], "```\n")
	end := strings.Index(s[i:], "\n```")
	if start < 0 || end < 0 {
		t.Fatalf("%s: %q is not inside a ``` block", rel, text)
	}
	return s[start+4:i+end] + "\n"
}

// msRE matches the run time in a report's header.
var msRE = regexp.MustCompile(`\d+ ms\)`)

// TestDocsReadme runs the README's commands that need no root and no long
// lab, from the repository's folder as the README shows them, and compares
// `make run`'s report with the README's; as root it also plays the
// calico-bird-mesh lines (up, exec, fault, diagnose, capture, down).
func TestDocsReadme(t *testing.T) {
	examples := docExamples(t, "README.md")
	root, err := filepath.Abs(repoFile("."))
	if err != nil {
		t.Fatal(err)
	}
	e := newLabEnv(t)
	e.names = append(e.names, "calico-bird-mesh")
	port := strconv.Itoa(21000 + os.Getpid()%20000)
	// Loopback mode on a port of this test's own: no namespace or port
	// another test (or helper) uses at the same time.
	sh := newDocShell(t, root, e.dir, []string{"PEERLAB_MODE=loopback", "PEERLAB_PORT=" + port}, "bin/peerlab ", "peerlab ")
	plain := newDocShell(t, root, e.dir, nil, "bin/peerlab ", "peerlab ")

	t.Run("make run report", func(t *testing.T) {
		want := plainBlockContaining(t, "README.md", "RESULT  DECIDED  EXPECTATION")
		if !strings.Contains(commandsOf(examples), "make run") {
			t.Fatal("README no longer shows make run")
		}
		// make run is `bin/peerlab run topologies/quickstart.yaml`.
		r := docRun(t, sh, "peerlab run topologies/quickstart.yaml", 2*time.Minute)
		if !matchesDocOutput(msRE.ReplaceAllString(want, "N ms)"), msRE.ReplaceAllString(r.stdout, "N ms)")) {
			t.Errorf("make run prints:\n%s\nthe README shows:\n%s", r.stdout, want)
		}
		if r.stderr != "" {
			t.Errorf("a normal run wrote to stderr (a WARN at tear-down?):\n%s", r.stderr)
		}
	})

	ex := exampleRunning(t, examples, "bin/peerlab validate ")
	var rootOnly []string
	t.Run("without root", func(t *testing.T) {
		checks := map[string]*regexp.Regexp{
			"bin/peerlab validate topologies/calico-rr.yaml":               regexp.MustCompile(`valid: lab calico-rr`),
			"bin/peerlab run topologies/calico-rr.yaml":                    regexp.MustCompile(`all expectations hold`),
			"bin/peerlab run topologies/calico-mesh.yaml -o json":          regexp.MustCompile(`"ok": true`),
			"bin/peerlab capture decode capture/testdata/as-mismatch.pcap": regexp.MustCompile(`NOTIFICATION`),
		}
		for _, c := range ex.Commands {
			cmd := strings.TrimSpace(stripComment(c))
			if strings.Contains(cmd, "calico-bird-mesh") {
				rootOnly = append(rootOnly, cmd)
				continue
			}
			re, ok := checks[cmd]
			if !ok {
				t.Logf("not run here (needs root, a long lab or the reader's files): %s", cmd)
				continue
			}
			delete(checks, cmd)
			run := sh
			if strings.Contains(cmd, "capture decode") {
				run = plain // PEERLAB_PORT would set decode's --port too
			}
			r := docRun(t, run, cmd, 3*time.Minute)
			if !re.MatchString(r.stdout) {
				t.Errorf("%s: output does not match %s:\n%s", cmd, re, r.stdout)
			}
		}
		for c := range checks {
			t.Errorf("the README no longer shows %q: update the test", c)
		}
	})

	t.Run("calico-bird-mesh as root", func(t *testing.T) {
		requireRoot(t, append(birdBinaries, "nft", "tshark")...)
		if len(rootOnly) < 5 {
			t.Fatalf("README shows %d calico-bird-mesh commands, want the up … down sequence", len(rootOnly))
		}
		rsh := newDocShell(t, root, e.dir, nil, "bin/peerlab ", "peerlab ", "/tmp/n1.pcapng", filepath.Join(e.dir, "n1.pcapng"))
		for _, c := range rootOnly {
			codes := []int{0}
			if strings.HasPrefix(c, "bin/peerlab diagnose ") {
				codes = []int{0, 1} // 1: findings
			}
			r := docRun(t, rsh, c, 3*time.Minute, codes...)
			t.Logf("%s:\n%s%s", c, r.stdout, r.stderr)
			if strings.HasPrefix(c, "bin/peerlab up -d") && !strings.Contains(r.stdout, "peerlab status calico-bird-mesh") {
				t.Errorf("up -d does not say how to watch the sessions:\n%s", r.stdout)
			}
			if strings.HasPrefix(c, "bin/peerlab capture ") {
				checkCaptureBytes(t, r.stderr, filepath.Join(e.dir, "n1.pcapng"))
			}
			if strings.HasPrefix(c, "bin/peerlab down ") && r.stderr != "" {
				t.Errorf("a normal tear-down wrote to stderr:\n%s", r.stderr)
			}
		}
	})
}

// capturedRE reads the summary `peerlab capture` prints.
var capturedRE = regexp.MustCompile(`captured \d+ of \d+ frames \((\d+) bytes\)`)

// checkCaptureBytes compares the bytes `peerlab capture` reports with the
// file it wrote.
func checkCaptureBytes(t *testing.T, stderr, file string) {
	t.Helper()
	m := capturedRE.FindStringSubmatch(stderr)
	if m == nil {
		t.Errorf("capture printed no summary:\n%s", stderr)
		return
	}
	st, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if m[1] != strconv.FormatInt(st.Size(), 10) {
		t.Errorf("capture reports %s bytes, the file holds %d", m[1], st.Size())
	}
}

// commandsOf joins every command of examples, one per line.
func commandsOf(examples []docExample) string {
	var b strings.Builder
	for _, e := range examples {
		for _, c := range e.Commands {
			b.WriteString(c + "\n")
		}
	}
	return b.String()
}

// versionRE is the form of `peerlab version`.
var versionRE = regexp.MustCompile(`^peerlab \S+ \(gobgp v\d+\.\d+\.\d+, go\d\S* \S+/\S+\)$`)

// TestDocsTutorial replays the tutorial: section 2's commands and the
// exercise list from a folder outside the repository (the exercises are in
// the binary), and, as root, section 4's exercise as written, which
// includes checking right after the fix with no sleep.
func TestDocsTutorial(t *testing.T) {
	examples := docExamples(t, "docs/tutorial.md")
	root, err := filepath.Abs(repoFile("."))
	if err != nil {
		t.Fatal(err)
	}
	e := newLabEnv(t)
	e.names = append(e.names, "ex-as-mismatch")

	t.Run("version", func(t *testing.T) {
		ex := exampleRunning(t, examples, "peerlab version")
		if !versionRE.MatchString(strings.TrimSpace(ex.Output)) {
			t.Errorf("the tutorial shows %q, not the form peerlab version prints", ex.Output)
		}
		sh := newDocShell(t, t.TempDir(), e.dir, nil)
		if r := docRun(t, sh, "peerlab version", time.Minute); !versionRE.MatchString(strings.TrimSpace(r.stdout)) {
			t.Errorf("peerlab version prints %q", r.stdout)
		}
	})

	outside := t.TempDir() // not the repository: the binary carries what it needs
	for _, prefix := range []string{"peerlab graph topologies/kubespray-nginx-proxy-down.yaml --format mermaid", "peerlab exercise list"} {
		t.Run(prefix, func(t *testing.T) {
			ex := exampleRunning(t, examples, prefix)
			sh := newDocShell(t, outside, e.dir, nil)
			r := docRun(t, sh, ex.Commands[0], time.Minute)
			if !matchesDocOutput(ex.Output, r.stdout) {
				t.Errorf("%s prints:\n%s\nthe tutorial shows:\n%s", ex.Commands[0], r.stdout, ex.Output)
			}
		})
	}

	t.Run("exercise as root", func(t *testing.T) {
		requireRoot(t, append(birdBinaries, "nft")...)
		sh := newDocShell(t, root, e.dir, nil, "/run/peerlab", e.dir)
		start := exampleRunning(t, examples, "peerlab exercise start as-mismatch")
		r := docRun(t, sh, start.Commands[0], 3*time.Minute)
		if !matchesDocOutput(start.Output, r.stdout) {
			t.Errorf("start prints:\n%s\nthe tutorial shows:\n%s", r.stdout, start.Output)
		}
		// A reader takes a few seconds to type it: BIRD has then retried
		// and been refused with Bad Peer AS.
		status := exampleRunning(t, examples, "peerlab exercise status as-mismatch")
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(2 * time.Second) {
			r := docRun(t, sh, status.Commands[0], time.Minute)
			if strings.Contains(r.stdout, "Bad Peer AS (sent)") && strings.Contains(r.stdout, "EVENT") && strings.Contains(r.stdout, "session ") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("exercise status shows no Bad Peer AS or no timeline:\n%s", r.stdout)
			}
		}
		check := exampleRunning(t, examples, "peerlab exercise check as-mismatch; echo")
		r = docRun(t, sh, check.Commands[0], 2*time.Minute)
		for _, w := range []string{"FAIL as-mismatch:", "  - node2: etc/bird/bird.cfg: node2 still expects another AS than node1's", "exit 1"} {
			if !strings.Contains(r.stdout, w) || !strings.Contains(check.Output, w) {
				t.Errorf("check prints (tutorial and output must both have %q):\n%s", w, r.stdout)
			}
		}
		if strings.Contains(r.stdout, "64512") {
			t.Errorf("a FAIL gives the answer away:\n%s", r.stdout)
		}
		fix := exampleRunning(t, examples, "peerlab exec ex-as-mismatch node2 -- sh -c 'grep")
		var out strings.Builder
		for _, c := range fix.Commands {
			out.WriteString(docRun(t, sh, c, 2*time.Minute).stdout)
		}
		if !strings.HasSuffix(out.String(), "PASS as-mismatch: the cause is repaired and every session is Established\n") ||
			!strings.HasPrefix(out.String(), "76:  neighbor 10.0.0.1 as 64513;\n") {
			t.Errorf("the fix as the tutorial writes it prints:\n%s", out.String())
		}
		end := exampleRunning(t, examples, "peerlab graph ex-as-mismatch --format dot")
		out.Reset()
		for _, c := range end.Commands {
			out.WriteString(docRun(t, sh, c, 2*time.Minute).stdout)
		}
		if !matchesDocOutput(end.Output, out.String()) {
			t.Errorf("graph and stop print:\n%s\nthe tutorial shows:\n%s", out.String(), end.Output)
		}
		for _, left := range []string{"labs/ex-as-mismatch", "topologies/ex-as-mismatch.yaml", "logs/ex-as-mismatch.log"} {
			if _, err := os.Stat(filepath.Join(e.dir, left)); err == nil {
				t.Errorf("%s left after exercise stop", left)
			}
		}
	})
}
