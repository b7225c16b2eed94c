package server

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/peerlab/peerlab/internal/rotatelog"
)

// HostLogLimits bound the log each lab host process writes (lab.HostLog):
// it is rotated at MaxSize bytes and Keep old files are kept. The lab
// host's standard error (lab.HostStderr, where a Go panic lands) is
// emptied at a rotation once it is larger than MaxSize, so a lab running
// for weeks cannot fill the disk either way.
type HostLogLimits struct {
	// MaxSize is the most bytes one log file holds; 0 means
	// DefaultHostLogLimits (both fields).
	MaxSize int64
	// Keep is how many old log files are kept (0: none).
	Keep int
}

// DefaultHostLogLimits are the host log limits of `peerlab serve`: 16 MiB
// per file, three old files.
var DefaultHostLogLimits = HostLogLimits{MaxSize: 16 << 20, Keep: 3}

// check says why the limits cannot work.
func (l HostLogLimits) check() error {
	if l.MaxSize < 0 {
		return fmt.Errorf("host log maximum size %d: must be positive", l.MaxSize)
	}
	if l.Keep < 0 {
		return fmt.Errorf("host log keep %d old files: must not be negative", l.Keep)
	}
	return nil
}

// args are the lab-host flags that make the host write its own log at
// path within the limits.
func (l HostLogLimits) args(path string) []string {
	return []string{"--log-file", path, "--log-file-max-size", fmt.Sprint(l.MaxSize), "--log-file-keep", fmt.Sprint(l.Keep)}
}

// ResetHostFiles removes an earlier run's log (and its old files) and
// opens a fresh crash-output file, mode 0600, in append mode (so that the
// host can empty it under its writers: rotatelog.TrimFile). serve calls it
// for each lab host, `peerlab up -d` for its background owner.
func ResetHostFiles(logPath, stderrPath string) (*os.File, error) {
	if err := rotatelog.Remove(logPath); err != nil {
		return nil, err
	}
	_ = os.Remove(stderrPath) // a file of an older run keeps its mode otherwise
	f, err := os.OpenFile(stderrPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open host stderr: %w", err)
	}
	return f, nil
}

// crashMarkers start what the Go runtime writes when a process dies of a
// panic or a fatal error.
var crashMarkers = []string{"panic: ", "fatal error: "}

// HostEndNote says where to read why a host process (a lab host of serve,
// or the background owner of `peerlab up -d`) ended and quotes it (at most
// n bytes, on one line): its crash output when there is some, from the
// last panic or fatal error on, else the end of its log.
func HostEndNote(stderrPath, logPath string, n int64) string {
	if data := fileTail(stderrPath, 64<<10); len(bytes.TrimSpace(data)) > 0 {
		at := -1
		for _, m := range crashMarkers {
			if i := bytes.LastIndex(data, []byte(m)); i > at && (i == 0 || data[i-1] == '\n') {
				at = i
			}
		}
		if at >= 0 {
			data = data[at:]
			if int64(len(data)) > n {
				data = data[:n]
			}
		} else if int64(len(data)) > n {
			data = data[int64(len(data))-n:]
		}
		return fmt.Sprintf("log %s ends: %s", stderrPath, oneLine(data))
	}
	return fmt.Sprintf("log %s ends: %s", logPath, oneLine(fileTail(logPath, n)))
}

// fileTail returns the last n bytes of a file (nothing when it cannot be
// read).
func fileTail(path string, n int64) []byte {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > n {
		_, _ = f.Seek(fi.Size()-n, 0)
	}
	buf := make([]byte, n)
	k, _ := io.ReadFull(f, buf)
	return buf[:k]
}

// oneLine folds text onto one line.
func oneLine(data []byte) string { return strings.Join(strings.Fields(string(data)), " ") }
