package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// BGP framing constants (RFC 4271 section 4.1).
const (
	bgpHeaderLen  = 19
	bgpMarkerLen  = 16
	bgpMaxMsgLen  = 65535 // RFC 8654 extended messages
	readChunkSize = 64 << 10
)

// ErrBadMarker reports bytes that do not start with the 16-octet all-ones marker.
var ErrBadMarker = errors.New("bgp: marker is not all ones")

// ErrBadLength reports a header whose length field is below the 19-octet minimum.
var ErrBadLength = errors.New("bgp: message length below header size")

// ErrTruncated reports bytes left at the end of a stream that do not make a whole message.
var ErrTruncated = errors.New("bgp: stream ended inside a message")

// StreamMessage is one BGP message, or one run of undecodable bytes, cut
// from a TCP byte stream.
type StreamMessage struct {
	// Offset is the position of the first byte in the stream.
	Offset int64
	// Bytes is the whole message including its header. It aliases the
	// splitter's input or buffer and is valid only during the callback.
	Bytes []byte
	// Err is non-nil when Bytes is not a framed message: ErrBadMarker,
	// ErrBadLength or ErrTruncated.
	Err error
}

// Splitter cuts a TCP byte stream into BGP messages by the 16×0xff marker
// and the length field. Feed it bytes in any chunking: it keeps a partial
// message between calls and never copies a message that arrives whole.
// After a framing error it resynchronises on the next marker. The zero
// value is ready to use.
type Splitter struct {
	buf []byte
	off int64 // stream offset of the next byte to examine
}

// Offset returns the stream offset of the first byte not yet emitted.
func (s *Splitter) Offset() int64 { return s.off }

// Buffered returns the number of bytes held back waiting for more data.
func (s *Splitter) Buffered() int { return len(s.buf) }

// Write feeds p and calls emit once per complete message or junk run.
func (s *Splitter) Write(p []byte, emit func(StreamMessage)) {
	if len(s.buf) == 0 {
		n := s.split(p, emit)
		s.buf = append(s.buf[:0], p[n:]...)
		return
	}
	s.buf = append(s.buf, p...)
	n := s.split(s.buf, emit)
	rest := copy(s.buf, s.buf[n:])
	s.buf = s.buf[:rest]
}

// Flush reports any held-back bytes as one ErrTruncated message and resets
// the buffer. Call it when the stream ends.
func (s *Splitter) Flush(emit func(StreamMessage)) {
	if len(s.buf) == 0 {
		return
	}
	emit(StreamMessage{Offset: s.off, Bytes: s.buf, Err: ErrTruncated})
	s.off += int64(len(s.buf))
	s.buf = s.buf[:0]
}

// split emits every complete unit at the start of d and returns how many
// bytes it consumed.
func (s *Splitter) split(d []byte, emit func(StreamMessage)) int {
	pos := 0
	for len(d)-pos >= bgpHeaderLen {
		m := d[pos:]
		if !isMarker(m[:bgpMarkerLen]) {
			skip := nextMarker(m)
			emit(StreamMessage{Offset: s.off, Bytes: m[:skip], Err: ErrBadMarker})
			s.off += int64(skip)
			pos += skip
			continue
		}
		l := int(binary.BigEndian.Uint16(m[16:18]))
		if l < bgpHeaderLen {
			// Skip the marker's first byte and look for the next one.
			skip := 1 + nextMarker(m[1:])
			emit(StreamMessage{Offset: s.off, Bytes: m[:skip], Err: ErrBadLength})
			s.off += int64(skip)
			pos += skip
			continue
		}
		if len(m) < l {
			break
		}
		emit(StreamMessage{Offset: s.off, Bytes: m[:l]})
		s.off += int64(l)
		pos += l
	}
	return pos
}

// isMarker reports whether b (16 bytes) is the all-ones marker.
func isMarker(b []byte) bool {
	return binary.BigEndian.Uint64(b[:8]) == ^uint64(0) && binary.BigEndian.Uint64(b[8:16]) == ^uint64(0)
}

// nextMarker returns the index of the first position after 0 where a
// marker starts, or could start in bytes not yet received; len(b) if none.
func nextMarker(b []byte) int {
	run := 0
	for i := 1; i < len(b); i++ {
		if b[i] != 0xff {
			run = 0
			continue
		}
		run++
		if run == bgpMarkerLen {
			return i - bgpMarkerLen + 1
		}
	}
	// A trailing run of 0xff may be the start of a marker.
	return len(b) - run
}

// SplitBGPStream splits a whole stream held in data, reporting a trailing
// partial message as ErrTruncated.
func SplitBGPStream(data []byte, emit func(StreamMessage)) {
	var s Splitter
	s.Write(data, emit)
	s.Flush(emit)
}

// SplitBGPReader splits the stream read from r until EOF.
func SplitBGPReader(r io.Reader, emit func(StreamMessage)) error {
	var s Splitter
	buf := make([]byte, readChunkSize)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			s.Write(buf[:n], emit)
		}
		if errors.Is(err, io.EOF) {
			s.Flush(emit)
			return nil
		}
		if err != nil {
			return fmt.Errorf("capture: reading BGP stream at offset %d: %w", s.Offset()+int64(s.Buffered()), err)
		}
	}
}
