package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// builtGrpcurl is grpcurl (a go.mod tool dependency) built once per test
// run into the folder of the peerlab binary, which TestMain removes.
var builtGrpcurl struct {
	once sync.Once
	path string
	err  error
}

// toolsDir builds peerlab and grpcurl and returns the folder holding both,
// for PATH.
func toolsDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Dir(peerlabBinary(t))
	builtGrpcurl.once.Do(func() {
		builtGrpcurl.path = filepath.Join(dir, "grpcurl")
		out, err := exec.Command("go", "build", "-o", builtGrpcurl.path, "github.com/fullstorydev/grpcurl/cmd/grpcurl").CombinedOutput()
		if err != nil {
			builtGrpcurl.err = fmt.Errorf("go build grpcurl: %v\n%s", err, out)
		}
	})
	if builtGrpcurl.err != nil {
		t.Fatal(builtGrpcurl.err)
	}
	return dir
}

// docShell runs documented command lines with bash, as a reader would
// paste them: peerlab and grpcurl on PATH, in a given folder, with the
// documentation's fixed paths (/run/peerlab, /tmp/pl) replaced by the
// test's own and the variables earlier lines set.
type docShell struct {
	t     *testing.T
	dir   string
	env   []string
	subst *strings.Replacer
}

// newDocShell runs in dir with state folder stateDir (PEERLAB_STATE_DIR)
// and extra environment; pairs are replacements old, new for the lines.
func newDocShell(t *testing.T, dir, stateDir string, extraEnv []string, pairs ...string) *docShell {
	t.Helper()
	env := append(os.Environ(), "PATH="+toolsDir(t)+string(os.PathListSeparator)+os.Getenv("PATH"),
		"PEERLAB_STATE_DIR="+stateDir)
	return &docShell{t: t, dir: dir, env: append(env, extraEnv...), subst: strings.NewReplacer(pairs...)}
}

// assignRE matches a line that only sets a shell variable.
var assignRE = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*)=(\S+)$`)

// run runs one documented line (a variable assignment is remembered).
func (s *docShell) run(line string, timeout time.Duration) result {
	s.t.Helper()
	line = s.subst.Replace(line)
	if m := assignRE.FindStringSubmatch(line); m != nil {
		s.env = append(s.env, m[1]+"="+m[2])
		return result{}
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-o", "pipefail", "-c", line)
	cmd.Dir, cmd.Env = s.dir, s.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		s.t.Fatalf("%s: %v", line, err)
	}
	if ctx.Err() != nil {
		s.t.Fatalf("%s: still running after %s", line, timeout)
	}
	return r
}

// background starts a documented `… &` line and stops it (SIGTERM, then
// waits) when the test ends.
func (s *docShell) background(line string) {
	s.t.Helper()
	line = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s.subst.Replace(stripComment(line))), "&"))
	cmd := exec.Command("bash", "-c", "exec "+line)
	cmd.Dir, cmd.Env = s.dir, s.env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("%s: %v", line, err)
	}
	s.t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(90 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		s.t.Logf("%s: %s", line, out.String())
	})
}

// stripComment drops a trailing "# …" comment outside quotes.
func stripComment(line string) string {
	if i := strings.Index(line, " #"); i >= 0 && !strings.ContainsAny(line[:i], `'"`) {
		return line[:i]
	}
	return line
}

// waitFile waits until path exists.
func waitFile(t *testing.T, path string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if _, err := os.Stat(path); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not appear within %s", path, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
