// Package userfile opens files whose paths come from users (a topology, an
// MRT table, a pcap) so that a wrong path cannot make peerlab read without
// end: only regular files are opened, and reads stop at a size limit the
// error names.
package userfile

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// ErrNotRegular is returned for a path that is a device, a FIFO, a socket
// or a folder where a file is expected (e.g. /dev/zero).
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge is returned when a file is larger than the limit given.
var ErrTooLarge = errors.New("file too large")

// Open opens path for reading after checking that it is a regular file.
func Open(path string) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("stat %s: %w", path, err)
	}
	if !info.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s: %w (%s)", path, ErrNotRegular, modeWord(info.Mode()))
	}
	return f, nil
}

// ReadFile reads the regular file at path, refusing one of more than limit
// bytes (checked before reading and again while reading, for a file that
// grows).
func ReadFile(path string, limit int64) ([]byte, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if info, err := f.Stat(); err == nil && info.Size() > limit {
		return nil, fmt.Errorf("%s: %w: %d bytes, the limit is %d", path, ErrTooLarge, info.Size(), limit)
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: %w: more than %d bytes", path, ErrTooLarge, limit)
	}
	return data, nil
}

// modeWord names the kind of a file that is not regular.
func modeWord(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a folder"
	case m&os.ModeCharDevice != 0:
		return "a character device"
	case m&os.ModeDevice != 0:
		return "a device"
	case m&os.ModeNamedPipe != 0:
		return "a named pipe"
	case m&os.ModeSocket != 0:
		return "a socket"
	case m&os.ModeSymlink != 0:
		return "a link"
	}
	return "not a regular file"
}
