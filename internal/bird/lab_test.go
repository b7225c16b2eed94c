package bird

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// labNode is a real bird started by a test, cleaned up by t.Cleanup.
type labNode struct {
	version Version
	cfg     Config
	daemon  *Daemon
	client  *Client
	birdc   string
}

// startNode renders cfg for v, starts the daemon in a fresh temp directory
// and connects a client. The daemon is stopped when the test ends.
func startNode(t *testing.T, v Version, cfg Config) *labNode {
	t.Helper()
	requireRoot(t)
	_, birdc := requireBinaries(t, v)
	dir, err := os.MkdirTemp("", "bird")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	cfgPath := filepath.Join(dir, "bird.cfg")
	var buf bytes.Buffer
	if err := RenderConfig(&buf, cfg, v); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfgPath, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var stderr bytes.Buffer
	d, err := StartDaemon(ctx, DaemonOptions{Version: v, ConfigPath: cfgPath, SocketPath: filepath.Join(dir, "ctl"), Stderr: &stderr})
	if err != nil {
		t.Fatalf("start %s: %v\nstderr:\n%s\nconfig:\n%s", v, err, stderr.String(), buf.String())
	}
	t.Cleanup(func() { _ = d.Stop() })
	c, err := d.Dial(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &labNode{version: v, cfg: cfg, daemon: d, client: c, birdc: birdc}
}

// waitDetail polls `show protocols all name` until ok accepts it.
func waitDetail(t *testing.T, n *labNode, name string, timeout time.Duration, what string, ok func(ProtocolDetail) bool) ProtocolDetail {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var last ProtocolDetail
	for {
		d, err := n.client.ShowProtocolAll(ctx, name)
		if err == nil {
			last = d
			if ok(d) {
				return d
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s %s: timed out after %v waiting for %s; last: state=%q info=%q bgp=%q lastError=%q (err %v)",
				n.version, name, timeout, what, last.State, last.Info, last.BGPState, last.LastError, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// rawCmd sends cmd on a fresh control connection and returns the reply
// exactly as the socket carried it, greeting included.
func rawCmd(t *testing.T, socket, cmd string) string {
	t.Helper()
	conn, err := net.DialTimeout("unix", socket, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(conn)
	var out strings.Builder
	readOne := func() {
		prev := -1
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("raw read: %v", err)
			}
			out.WriteString(line)
			code, _, kind, err := parseRawLine(strings.TrimSuffix(line, "\n"), prev)
			if err != nil {
				t.Fatal(err)
			}
			prev = code
			if kind == lineFinal {
				return
			}
		}
	}
	readOne()
	fmt.Fprintf(conn, "%s\n", cmd)
	readOne()
	return out.String()
}

// labAddrs returns three loopback addresses in a 127.x.y.0/24 derived from
// the test name and time, so parallel runs do not collide.
func labAddrs() (netip.Addr, netip.Addr, netip.Addr) {
	n := time.Now().UnixNano()
	b := byte(100 + n%100)
	c := byte(1 + (n/100)%250)
	base := [4]byte{127, b, c, 1}
	a1 := netip.AddrFrom4(base)
	base[3] = 2
	a2 := netip.AddrFrom4(base)
	base[3] = 3
	return a1, a2, netip.AddrFrom4(base)
}

// labPorts returns two distinct high ports.
func labPorts() (uint16, uint16) {
	p := uint16(20000 + time.Now().UnixNano()%20000)
	return p, p + 1 + uint16(time.Now().UnixNano()%1000)
}
