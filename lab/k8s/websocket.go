package k8s

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// A minimal WebSocket server (RFC 6455) for the Kubernetes streaming
// protocols kubectl exec speaks (v5.channel.k8s.io, v4.channel.k8s.io):
// every binary message starts with a channel byte, 0 stdin, 1 stdout,
// 2 stderr, 3 the error channel (a meta/v1 Status once the command has
// ended), 4 terminal resize and, in v5, 255 "close stream <id>".

// Channels of the Kubernetes streaming protocols.
const (
	chanStdout byte = 1
	chanStderr byte = 2
	chanError  byte = 3
)

// streamProtocols are the subprotocols the stand-in accepts, preferred first.
var streamProtocols = []string{"v5.channel.k8s.io", "v4.channel.k8s.io"}

// websocketGUID is RFC 6455's key suffix.
const websocketGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// WebSocket opcodes.
const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xa
)

// maxFramePayload bounds a frame the client sends.
const maxFramePayload = 1 << 20

// wsConn is one server-side WebSocket connection.
type wsConn struct {
	conn net.Conn
	r    *bufio.Reader
	wmu  sync.Mutex
}

// isWebSocket reports whether r asks for a WebSocket upgrade.
func isWebSocket(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket") &&
		strings.Contains(strings.ToLower(r.Header.Get("Connection")), "upgrade")
}

// upgrade answers the handshake with one of streamProtocols and hijacks
// the connection. On failure it has written an HTTP error.
func upgrade(w http.ResponseWriter, r *http.Request) (*wsConn, error) {
	key := r.Header.Get("Sec-WebSocket-Key")
	if key == "" || r.Header.Get("Sec-WebSocket-Version") != "13" {
		http.Error(w, "bad WebSocket handshake", http.StatusBadRequest)
		return nil, errors.New("bad WebSocket handshake")
	}
	var offered []string
	for _, v := range r.Header.Values("Sec-WebSocket-Protocol") {
		for _, p := range strings.Split(v, ",") {
			offered = append(offered, strings.TrimSpace(p))
		}
	}
	proto := ""
	for _, p := range streamProtocols {
		if slices.Contains(offered, p) {
			proto = p
			break
		}
	}
	if proto == "" {
		http.Error(w, fmt.Sprintf("no supported stream protocol among %v (want %v)", offered, streamProtocols), http.StatusBadRequest)
		return nil, errors.New("no supported stream protocol")
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		http.Error(w, "streaming needs HTTP/1.1", http.StatusBadRequest)
		return nil, errors.New("connection cannot be hijacked")
	}
	conn, brw, err := hj.Hijack()
	if err != nil {
		return nil, fmt.Errorf("hijack: %w", err)
	}
	sum := sha1.Sum([]byte(key + websocketGUID))
	resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: " + base64.StdEncoding.EncodeToString(sum[:]) + "\r\n" +
		"Sec-WebSocket-Protocol: " + proto + "\r\n\r\n"
	if _, err := conn.Write([]byte(resp)); err != nil {
		conn.Close()
		return nil, fmt.Errorf("write handshake: %w", err)
	}
	return &wsConn{conn: conn, r: brw.Reader}, nil
}

// writeFrame writes one unmasked, unfragmented frame.
func (c *wsConn) writeFrame(op byte, payload []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	hdr := []byte{0x80 | op}
	switch n := len(payload); {
	case n < 126:
		hdr = append(hdr, byte(n))
	case n <= 0xffff:
		hdr = append(hdr, 126, byte(n>>8), byte(n))
	default:
		hdr = append(hdr, 127)
		hdr = binary.BigEndian.AppendUint64(hdr, uint64(n))
	}
	_ = c.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.conn.Write(append(hdr, payload...)); err != nil {
		return fmt.Errorf("websocket write: %w", err)
	}
	return nil
}

// readFrame reads one frame and unmasks it.
func (c *wsConn) readFrame() (op byte, payload []byte, err error) {
	var h [2]byte
	if _, err := io.ReadFull(c.r, h[:]); err != nil {
		return 0, nil, err
	}
	op = h[0] & 0x0f
	masked := h[1]&0x80 != 0
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		if _, err := io.ReadFull(c.r, b[:]); err != nil {
			return 0, nil, err
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err := io.ReadFull(c.r, b[:]); err != nil {
			return 0, nil, err
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	if n > maxFramePayload {
		return 0, nil, fmt.Errorf("websocket frame of %d bytes is too large", n)
	}
	var mask [4]byte
	if masked {
		if _, err := io.ReadFull(c.r, mask[:]); err != nil {
			return 0, nil, err
		}
	}
	payload = make([]byte, n)
	if _, err := io.ReadFull(c.r, payload); err != nil {
		return 0, nil, err
	}
	if masked {
		for i := range payload {
			payload[i] ^= mask[i%4]
		}
	}
	return op, payload, nil
}

// serveControl reads the client's frames until the connection ends,
// answering pings and closes; data frames (stdin, resize, stream close)
// are dropped: the lab's commands take no input.
func (c *wsConn) serveControl() {
	for {
		op, payload, err := c.readFrame()
		if err != nil {
			return
		}
		switch op {
		case opPing:
			_ = c.writeFrame(opPong, payload)
		case opClose:
			_ = c.writeFrame(opClose, payload)
			return
		}
	}
}

// channelWriter writes to one channel of the connection.
type channelWriter struct {
	c  *wsConn
	ch byte
}

func (w channelWriter) Write(p []byte) (int, error) {
	for off := 0; off < len(p); off += 32 << 10 {
		end := min(off+32<<10, len(p))
		if err := w.c.writeFrame(opBinary, append([]byte{w.ch}, p[off:end]...)); err != nil {
			return off, err
		}
	}
	return len(p), nil
}

// finish sends the command's outcome on the error channel, as kubelet
// does, and closes the connection normally.
func (c *wsConn) finish(argv []string, code int, err error) {
	var st obj
	switch {
	case err != nil:
		st = statusObject(500, "InternalError", err.Error(), nil)
	case code != 0:
		st = statusObject(500, "NonZeroExitCode",
			fmt.Sprintf("command terminated with non-zero exit code: error executing command %v, exit code %d", argv, code),
			obj{"causes": []obj{{"reason": "ExitCode", "message": itoa(code)}}})
	default:
		st = obj{"metadata": obj{}, "status": "Success"}
	}
	data, _ := json.Marshal(st)
	_ = c.writeFrame(opBinary, append([]byte{chanError}, data...))
	_ = c.writeFrame(opClose, []byte{0x03, 0xe8}) // 1000 normal closure
	time.Sleep(50 * time.Millisecond)             // let the client read before the close
	_ = c.conn.Close()
}
