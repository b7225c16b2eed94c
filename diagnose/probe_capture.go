package diagnose

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/peerlab/peerlab/capture"
)

// captureSummary is what a short capture of BGP on the node's interface
// showed about one peer.
type captureSummary struct {
	SYN, SYNACK, RST, Open, Notification int
	// ICMP lists the ICMP destination-unreachable reasons seen.
	ICMP []string
	// Notifications are "code/subcode name" texts.
	Notifications []string
}

// captureResult is a short capture's decoded text and per-peer summaries.
type captureResult struct {
	Text  []byte
	Peers map[string]*captureSummary
	Err   error
}

// runCapture records BGP (and ICMP unreachables) on iface inside the
// namespace at nsPath for window, then decodes it. start is closed once
// the capture runs, so probes started after it are seen.
func runCapture(ctx context.Context, nsPath, iface string, window time.Duration, started chan<- struct{}) captureResult {
	defer close(started)
	dir, err := os.MkdirTemp("", "peerlab-diagnose-")
	if err != nil {
		return captureResult{Err: fmt.Errorf("capture: %w", err)}
	}
	defer os.RemoveAll(dir)
	opts := capture.Options{Interface: iface, Path: filepath.Join(dir, "bgp.pcapng"), FlushInterval: 20 * time.Millisecond}
	var c *capture.Capture
	if nsPath == "" {
		c, err = capture.Start(ctx, opts)
	} else {
		c, err = capture.StartIn(ctx, nsPath, opts)
	}
	if err != nil {
		return captureResult{Err: fmt.Errorf("capture on %s: %w", iface, err)}
	}
	started <- struct{}{}
	select {
	case <-time.After(window):
	case <-ctx.Done():
	}
	if err := c.Stop(); err != nil {
		return captureResult{Err: fmt.Errorf("capture on %s: %w", iface, err)}
	}
	res := captureResult{Peers: map[string]*captureSummary{}}
	var text bytes.Buffer
	for _, f := range c.Files() {
		data, err := os.ReadFile(f)
		if err != nil {
			return captureResult{Err: fmt.Errorf("capture: %w", err)}
		}
		tl, err := capture.Decode(bytes.NewReader(data), capture.DecodeOptions{})
		if err != nil {
			return captureResult{Err: fmt.Errorf("capture: decode: %w", err)}
		}
		summarizeTimeline(tl, res.Peers)
		if err := capture.Render(&text, tl, "text"); err != nil {
			return captureResult{Err: fmt.Errorf("capture: render: %w", err)}
		}
	}
	res.Text = text.Bytes()
	return res
}

// summarizeTimeline counts per peer address (both ends of each session
// are keyed, so the caller looks its peer up).
func summarizeTimeline(tl *capture.Timeline, out map[string]*captureSummary) {
	for _, s := range tl.Sessions {
		sum := &captureSummary{}
		for _, e := range s.Events {
			switch e.Kind {
			case capture.KindSYN, capture.KindSYNRetransmit:
				sum.SYN++
			case capture.KindSYNACK:
				sum.SYNACK++
			case capture.KindRST:
				sum.RST++
			case capture.KindOpen:
				sum.Open++
			case capture.KindNotification:
				sum.Notification++
				if e.Notification != nil {
					sum.Notifications = appendUnique(sum.Notifications, fmt.Sprintf("%d/%d %s", e.Notification.Code, e.Notification.Subcode, e.Notification.Name))
				}
			case capture.KindICMPUnreachable:
				if e.ICMP != nil {
					sum.ICMP = appendUnique(sum.ICMP, e.ICMP.Reason)
				}
			}
		}
		out[s.A.String()] = sum
		out[s.B.String()] = sum
	}
}

// Line renders the summary as one evidence line.
func (s *captureSummary) Line(peer string) string {
	parts := []string{fmt.Sprintf("SYN %d, SYN-ACK %d, RST %d, OPEN %d, NOTIFICATION %d", s.SYN, s.SYNACK, s.RST, s.Open, s.Notification)}
	if len(s.ICMP) > 0 {
		parts = append(parts, "ICMP unreachable: "+strings.Join(s.ICMP, "; "))
	}
	if len(s.Notifications) > 0 {
		parts = append(parts, "NOTIFICATIONs: "+strings.Join(s.Notifications, "; "))
	}
	return fmt.Sprintf("capture with %s: %s", peer, strings.Join(parts, "; "))
}
