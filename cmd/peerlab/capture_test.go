package main

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/peerlab/peerlab/capture"
	"github.com/peerlab/peerlab/internal/testgate"
)

// captureTestdata is the folder of committed captures.
const captureTestdata = "../../capture/testdata/"

// jsonTimeline mirrors the fields of `capture decode --output json` the tests read.
type jsonTimeline struct {
	Messages int64 `json:"messages"`
	Sessions []struct {
		A, B   string
		Counts struct {
			Open         int64 `json:"open"`
			Notification int64 `json:"notification"`
		} `json:"counts"`
		Events []struct {
			Kind         string `json:"kind"`
			Notification *struct {
				Code, Subcode int
				Name          string
			} `json:"notification"`
		} `json:"events"`
	} `json:"sessions"`
}

func TestCaptureDecodeASMismatch(t *testing.T) {
	file := captureTestdata + "as-mismatch.pcap"
	t.Run("text", func(t *testing.T) {
		out, errOut, code := runCLI(t, "capture", "decode", file)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		for _, want := range []string{"3 BGP messages, 1 sessions", "NOTIFICATION 2/2 OPEN Message Error / Bad Peer AS", "OPEN v4 AS 65009"} {
			if !strings.Contains(out, want) {
				t.Errorf("text output lacks %q:\n%s", want, out)
			}
		}
	})
	t.Run("json", func(t *testing.T) {
		out, errOut, code := runCLI(t, "capture", "decode", file, "--output", "json")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		var tl jsonTimeline
		if err := json.Unmarshal([]byte(out), &tl); err != nil {
			t.Fatalf("output is not JSON: %v\n%s", err, out)
		}
		if tl.Messages != 3 || len(tl.Sessions) != 1 || tl.Sessions[0].Counts.Notification != 1 {
			t.Fatalf("timeline: %d messages, %d sessions: %+v", tl.Messages, len(tl.Sessions), tl.Sessions)
		}
		found := false
		for _, e := range tl.Sessions[0].Events {
			if e.Kind == "notification" && e.Notification != nil && e.Notification.Code == 2 && e.Notification.Subcode == 2 {
				found = true
			}
		}
		if !found {
			t.Errorf("no notification 2/2 event in %+v", tl.Sessions[0].Events)
		}
	})
	t.Run("html", func(t *testing.T) {
		out, errOut, code := runCLI(t, "capture", "decode", file, "-o", "html")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		svgs := checkHTML(t, out)
		if svgs != 1 {
			t.Errorf("%d complete svg elements, want 1 (one session)", svgs)
		}
		if !strings.Contains(out, "NOTIFICATION 2/2") {
			t.Error("html lacks the NOTIFICATION 2/2 label")
		}
	})
}

// checkHTML parses page leniently as HTML (void elements, entities) and
// each inline svg element strictly as XML, which is what an SVG must be;
// it returns the number of svg elements. A lenient parser alone would not
// do: it silently closes what the page leaves open.
func checkHTML(t *testing.T, page string) int {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(page))
	d.Strict = false
	d.AutoClose = xml.HTMLAutoClose
	d.Entity = xml.HTMLEntity
	for {
		_, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("html does not parse: %v", err)
		}
	}
	n := 0
	for rest := page; ; n++ {
		start := strings.Index(rest, "<svg")
		if start < 0 {
			return n
		}
		end := strings.Index(rest[start:], "</svg>")
		if end < 0 {
			t.Fatalf("svg element %d is never closed", n+1)
		}
		svg := rest[start : start+end+len("</svg>")]
		rest = rest[start+end+len("</svg>"):]
		sd := xml.NewDecoder(strings.NewReader(svg))
		sd.Entity = xml.HTMLEntity
		depth := 0
		for {
			tok, err := sd.Token()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("svg element %d is not well-formed XML: %v\n%s", n+1, err, svg)
			}
			switch tok.(type) {
			case xml.StartElement:
				depth++
			case xml.EndElement:
				depth--
			}
		}
		if depth != 0 {
			t.Fatalf("svg element %d leaves %d elements open", n+1, depth)
		}
	}
}

func TestCaptureDecodeFlags(t *testing.T) {
	dir := t.TempDir()
	notCapture := filepath.Join(dir, "notes.txt")
	writeFile(t, notCapture, "this is not a capture\n")
	clean := captureTestdata + "clean-session.pcapng"
	for _, tc := range []struct {
		name     string
		args     []string
		code     int
		contains string
	}{
		{"default port", []string{clean}, 0, "9 BGP messages, 1 sessions"},
		{"other port finds nothing", []string{clean, "--port", "1179"}, 0, "0 BGP messages, 0 sessions"},
		{"repeated port", []string{clean, "--port", "1179", "--port", "179"}, 0, "9 BGP messages"},
		{"comma-separated ports", []string{clean, "--port", "1179,179"}, 0, "9 BGP messages"},
		{"all messages", []string{captureTestdata + "table-transfer.pcap", "--all"}, 0, "announce 10.2.15.0/24"},
		{"sample elides", []string{captureTestdata + "table-transfer.pcap", "--sample", "2"}, 0, "27 ELIDED"},
		{"missing file", []string{filepath.Join(dir, "nope.pcap")}, exitUsage, "nope.pcap"},
		{"not a capture", []string{notCapture}, exitUsage, "notes.txt: capture: not a pcap or pcapng file"},
		{"bad output", []string{clean, "-o", "xml"}, exitUsage, `"xml" is not one of text, json, html`},
		{"bad port", []string{clean, "--port", "70000"}, exitUsage, "70000 is not a TCP port"},
		{"bad sample", []string{clean, "--sample", "0"}, exitUsage, "--sample"},
		{"no file", nil, exitUsage, "accepts 1 arg"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := runCLI(t, append([]string{"capture", "decode"}, tc.args...)...)
			if code != tc.code {
				t.Errorf("exit %d, want %d (stderr %s)", code, tc.code, errOut)
			}
			if !strings.Contains(out+errOut, tc.contains) {
				t.Errorf("output does not contain %q:\n%s%s", tc.contains, out, errOut)
			}
		})
	}
}

func TestCaptureDecodePortFromEnvironment(t *testing.T) {
	t.Setenv("PEERLAB_PORT", "1179")
	out, errOut, code := runCLI(t, "capture", "decode", captureTestdata+"as-mismatch.pcap")
	if code != 0 || !strings.Contains(out, "0 BGP messages") {
		t.Errorf("PEERLAB_PORT=1179: exit %d, stderr %q, output %q", code, errOut, out)
	}
}

func TestCaptureLiveBadFlags(t *testing.T) {
	for _, tc := range []struct {
		name     string
		args     []string
		contains string
	}{
		{"no interface", []string{"-w", "x.pcapng"}, "--interface and -w are required"},
		{"no file", []string{"-i", "lo"}, "--interface and -w are required"},
		{"unknown interface", []string{"-i", "nope-if0", "-w", "x.pcapng"}, "nope-if0"},
		{"bad port", []string{"-i", "lo", "-w", "x.pcapng", "--port", "0"}, "0 is not a TCP port"},
		{"extra argument", []string{"-i", "lo", "-w", "x.pcapng", "extra"}, "accepts 0 arg"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, code := runCLI(t, append([]string{"capture", "live"}, tc.args...)...)
			if code != exitUsage || !strings.Contains(errOut, tc.contains) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errOut, exitUsage, tc.contains)
			}
		})
	}
}

// requireCaptureRoot skips a test that needs CAP_NET_RAW unless CI=true,
// where it fails instead.
func requireCaptureRoot(t *testing.T) {
	t.Helper()
	testgate.RequireRoot(t, "live capture")
}

// TestCaptureLiveLoopback captures on lo for a second while a client
// sends a BGP KEEPALIVE to a listener, then decodes the file.
func TestCaptureLiveLoopback(t *testing.T) {
	requireCaptureRoot(t)
	port := testPort(t)
	ln, err := net.Listen("tcp", "127.0.0.1:"+port)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			_, _ = io.Copy(io.Discard, c)
			_ = c.Close()
		}
	}()
	go func() {
		time.Sleep(300 * time.Millisecond) // let the capture start
		c, err := net.Dial("tcp", "127.0.0.1:"+port)
		if err != nil {
			return
		}
		keepalive := append([]byte(strings.Repeat("\xff", 16)), 0, 19, 4)
		_, _ = c.Write(keepalive)
		time.Sleep(50 * time.Millisecond)
		_ = c.Close()
	}()
	path := filepath.Join(t.TempDir(), "live.pcapng")
	_, errOut, code := runCLI(t, "capture", "live", "-i", "lo", "-w", path, "--port", port, "--duration", "1s")
	if code != 0 || !strings.Contains(errOut, "captured ") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	tl, err := capture.Decode(f, capture.DecodeOptions{Ports: []int{p}})
	if err != nil {
		t.Fatal(err)
	}
	if len(tl.Sessions) != 1 || tl.Sessions[0].Counts.Keepalive != 1 || tl.Sessions[0].Events[0].Kind != capture.KindSYN {
		t.Fatalf("live capture decoded to %d sessions: %+v", len(tl.Sessions), tl.Sessions)
	}
}
