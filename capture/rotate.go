package capture

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// RotatedPath returns the name of the n-th file of a rotated capture:
// path itself for n == 0, then "file.1.pcapng", "file.2.pcapng"...
func RotatedPath(path string, n int) string {
	if n == 0 {
		return path
	}
	ext := filepath.Ext(path)
	return strings.TrimSuffix(path, ext) + "." + strconv.Itoa(n) + ext
}

// countingWriter counts the bytes written to a file.
type countingWriter struct {
	f *os.File
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.f.Write(p)
	c.n += int64(n)
	return n, err
}

// rotatingWriter writes pcapng files, starting a new one when the next
// packet would take the current file past maxBytes (0: no limit).
type rotatingWriter struct {
	path     string
	iface    string
	maxBytes int64
	index    int
	file     *countingWriter
	ng       *pcapgo.NgWriter
	bytes    int64 // written by closed files
	buf      int64 // bytes buffered since the last flush
}

func newRotatingWriter(path, iface string, maxBytes int64) (*rotatingWriter, error) {
	r := &rotatingWriter{path: path, iface: iface, maxBytes: maxBytes}
	if err := r.open(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *rotatingWriter) open() error {
	name := RotatedPath(r.path, r.index)
	f, err := os.OpenFile(name, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("capture: create %s: %w", name, err)
	}
	r.file = &countingWriter{f: f}
	intf := pcapgo.DefaultNgInterface
	intf.Name, intf.LinkType = r.iface, layers.LinkTypeEthernet
	opts := pcapgo.DefaultNgWriterOptions
	opts.SectionInfo.Application = "peerlab capture"
	r.ng, err = pcapgo.NewNgWriterInterface(r.file, intf, opts)
	if err != nil {
		_ = f.Close()
		return fmt.Errorf("capture: write pcapng header to %s: %w", name, err)
	}
	return r.flush()
}

// write adds one packet, rotating first when the limit would be passed.
func (r *rotatingWriter) write(ci gopacket.CaptureInfo, data []byte) error {
	block := int64(32 + (len(data)+3)&^3)
	if r.maxBytes > 0 && r.file.n > 0 && r.file.n+r.buf+block > r.maxBytes {
		if err := r.rotate(); err != nil {
			return err
		}
	}
	ci.InterfaceIndex = 0 // the file has one interface; ci carries the kernel's ifindex
	if err := r.ng.WritePacket(ci, data); err != nil {
		return fmt.Errorf("capture: write packet to %s: %w", RotatedPath(r.path, r.index), err)
	}
	r.buf += block
	return nil
}

// flush pushes buffered packets to the file.
func (r *rotatingWriter) flush() error {
	if err := r.ng.Flush(); err != nil {
		return fmt.Errorf("capture: flush %s: %w", RotatedPath(r.path, r.index), err)
	}
	r.buf = 0
	return nil
}

func (r *rotatingWriter) rotate() error {
	if err := r.close(); err != nil {
		return err
	}
	r.index++
	return r.open()
}

// close flushes and closes the current file.
func (r *rotatingWriter) close() error {
	ferr := r.flush()
	r.bytes += r.file.n
	// The closed file's bytes now count in r.bytes: written() must not
	// count them a second time through r.file.
	r.file.n = 0
	cerr := r.file.f.Close()
	if ferr != nil {
		return ferr
	}
	if cerr != nil {
		return fmt.Errorf("capture: close %s: %w", RotatedPath(r.path, r.index), cerr)
	}
	return nil
}

// written is the total number of bytes written to all files.
func (r *rotatingWriter) written() int64 { return r.bytes + r.file.n }
