// Package rotatelog is a size-capped log file for long-running processes
// (a lab host of `peerlab serve` may run for weeks): when the file at PATH
// would grow past a size, it is renamed PATH.1 (PATH.1 becomes PATH.2 and
// so on) and a new PATH is started; only a given number of old files is
// kept. Every file is created with mode 0600. Rotation is synchronous, in
// the Write that needs it, so the caps hold whenever Write returns.
package rotatelog

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Options size a Writer.
type Options struct {
	// MaxSize is the most bytes one file holds; it must be positive.
	MaxSize int64
	// Keep is how many old files (PATH.1 … PATH.Keep) are kept; 0 keeps
	// none: a full file is removed.
	Keep int
	// OnRotate, when not nil, is called after each rotation (the lab host
	// trims its crash-output file there).
	OnRotate func()
}

// Writer appends to a size-capped log file. It is safe for concurrent
// use and is a zapcore.WriteSyncer.
type Writer struct {
	path string
	opts Options

	mu   sync.Mutex
	f    *os.File
	size int64
}

// Open opens (or creates, mode 0600) the log file at path for appending,
// and removes old files beyond opts.Keep that an earlier run with a
// larger Keep left.
func Open(path string, opts Options) (*Writer, error) {
	if opts.MaxSize <= 0 {
		return nil, fmt.Errorf("log file %s: maximum size %d: must be positive", path, opts.MaxSize)
	}
	if opts.Keep < 0 {
		return nil, fmt.Errorf("log file %s: keep %d old files: must not be negative", path, opts.Keep)
	}
	w := &Writer{path: path, opts: opts}
	if err := w.open(os.O_APPEND); err != nil {
		return nil, err
	}
	old, err := Backups(path)
	if err != nil {
		w.f.Close()
		return nil, err
	}
	for _, b := range old {
		if b.N > opts.Keep {
			if err := os.Remove(b.Path); err != nil && !errors.Is(err, os.ErrNotExist) {
				w.f.Close()
				return nil, fmt.Errorf("remove old log file: %w", err)
			}
		}
	}
	return w, nil
}

// open opens w.path with mode 0600 (a file that exists is made 0600) and
// the extra flag (os.O_APPEND or os.O_TRUNC).
func (w *Writer) open(flag int) error {
	f, err := os.OpenFile(w.path, os.O_CREATE|os.O_WRONLY|flag, 0o600)
	if err != nil {
		return fmt.Errorf("open log file: %w", err)
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("stat log file %s: %w", w.path, err)
	}
	if info.Mode().Perm() != 0o600 {
		if err := f.Chmod(0o600); err != nil {
			f.Close()
			return fmt.Errorf("chmod log file %s: %w", w.path, err)
		}
	}
	w.f, w.size = f, info.Size()
	return nil
}

// Write appends p, rotating first when p would take the file past
// MaxSize. A p larger than MaxSize on its own is cut to MaxSize bytes: no
// single record makes a file exceed the cap. It reports len(p) written.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return 0, fmt.Errorf("write log file %s: %w", w.path, os.ErrClosed)
	}
	rec := p
	if int64(len(rec)) > w.opts.MaxSize {
		rec = rec[:w.opts.MaxSize]
	}
	var rerr error
	if w.size > 0 && w.size+int64(len(rec)) > w.opts.MaxSize {
		rerr = w.rotate()
		if w.f == nil {
			return 0, rerr
		}
	}
	n, err := w.f.Write(rec)
	w.size += int64(n)
	if err != nil {
		return n, fmt.Errorf("write log file %s: %w", w.path, err)
	}
	return len(p), rerr
}

// rotate shifts PATH.i to PATH.i+1 (dropping PATH.Keep), PATH to PATH.1,
// and starts an empty PATH. When a rename fails the current file is
// emptied in place instead, so the cap holds; the error is returned.
func (w *Writer) rotate() error {
	var errs []error
	if err := w.f.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close log file %s: %w", w.path, err))
	}
	w.f = nil
	if w.opts.Keep == 0 {
		if err := os.Remove(w.path); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove full log file: %w", err))
		}
	}
	for i := w.opts.Keep; i >= 1; i-- {
		from := w.path
		if i > 1 {
			from = backupName(w.path, i-1)
		}
		if err := os.Rename(from, backupName(w.path, i)); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("rotate log file: %w", err))
		}
	}
	// O_TRUNC: a PATH that could not be moved away is emptied.
	if err := w.open(os.O_TRUNC); err != nil {
		errs = append(errs, err)
		return errors.Join(errs...)
	}
	if w.opts.OnRotate != nil {
		w.opts.OnRotate()
	}
	return errors.Join(errs...)
}

// Sync flushes the current file to disk.
func (w *Writer) Sync() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return nil
	}
	return w.f.Sync()
}

// Close closes the current file; later writes fail.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	w.f = nil
	return err
}

// backupName is the i-th old file of path.
func backupName(path string, i int) string { return path + "." + strconv.Itoa(i) }

// Backup is one old file of a log.
type Backup struct {
	// Path is the file, PATH.N.
	Path string
	// N is its number: 1 is the newest.
	N int
}

// Backups lists the old files of the log at path (PATH.N, N a positive
// number), newest first.
func Backups(path string) ([]Backup, error) {
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("list old log files of %s: %w", path, err)
	}
	prefix := filepath.Base(path) + "."
	var out []Backup
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok || rest == "" || strings.TrimLeft(rest, "0123456789") != "" {
			continue
		}
		n, err := strconv.Atoi(rest)
		if err != nil || n < 1 {
			continue
		}
		out = append(out, Backup{Path: filepath.Join(filepath.Dir(path), e.Name()), N: n})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].N < out[j].N })
	return out, nil
}

// Remove removes the log at path and all its old files; missing files are
// not an error.
func Remove(path string) error {
	var errs []error
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, fmt.Errorf("remove log file: %w", err))
	}
	old, err := Backups(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, err)
	}
	for _, b := range old {
		if err := os.Remove(b.Path); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove old log file: %w", err))
		}
	}
	return errors.Join(errs...)
}

// TrimFile empties f (opened with O_APPEND, so its writers go on at the
// new end) when it is a regular file larger than max bytes. It bounds a
// file a process cannot rotate, such as its own standard error.
func TrimFile(f *os.File, max int64) error {
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("stat %s: %w", f.Name(), err)
	}
	if !info.Mode().IsRegular() || info.Size() <= max {
		return nil
	}
	if err := f.Truncate(0); err != nil {
		return fmt.Errorf("trim %s: %w", f.Name(), err)
	}
	return nil
}
