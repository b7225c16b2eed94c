package main

import (
	"bytes"
	"context"
	"fmt"
	"hash/fnv"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/peerlab/peerlab/speaker"
)

func TestInjectFlagErrors(t *testing.T) {
	base := []string{"inject", "--address", "127.0.0.1", "--peer", "127.0.0.2", "--peer-as", "65002"}
	// with copies: appending to base or gen in place would share their arrays.
	with := func(args []string, extra ...string) []string { return append(append([]string{}, args...), extra...) }
	gen := with(base, "--generate", "10", "--from", "16.0.0.0/4")
	without := func(args []string, flag string) []string {
		var out []string
		for i := 0; i < len(args); i++ {
			if args[i] == flag {
				i++
				continue
			}
			out = append(out, args[i])
		}
		return out
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no address", without(gen, "--address"), "--address is required"},
		{"bad address", with(without(gen, "--address"), "--address", "10.0.0.300"), "--address"},
		{"no peer", without(gen, "--peer"), "--peer is required"},
		{"no peer as", without(gen, "--peer-as"), "--peer-as is required"},
		{"peer is address", with(without(gen, "--peer"), "--peer", "127.0.0.1"), "is --address"},
		{"zero as", with(gen, "--as", "0"), "--as"},
		{"bad port", with(gen, "--port", "70000"), "--port 70000"},
		{"short hold", with(gen, "--hold", "2s"), "--hold 2s"},
		{"no routes", base, "no routes"},
		{"generate without from", with(base, "--generate", "10"), "--generate needs --from"},
		{"from without generate", with(base, "--from", "16.0.0.0/4", "--mrt", "x"), "--from is only valid with --generate"},
		{"order without generate", with(base, "--order", "bird-fib", "--mrt", "x"), "--order is only valid with --generate"},
		{"unknown order", with(gen, "--order", "random"), `order "random"`},
		{"range too small", with(base, "--generate", "300", "--from", "10.1.0.0/16"), "--generate"},
		{"limit without mrt", with(gen, "--limit", "5"), "--limit is only valid with --mrt"},
		{"missing mrt", with(base, "--mrt", "/nonexistent/rib.mrt"), "--mrt"},
		{"negative batch", with(gen, "--live-batch", "-1"), "--live-batch -1"},
		{"rate without batch", with(gen, "--live-rate", "1000"), "--live-rate needs --live-batch"},
		{"bad next hop", with(gen, "--next-hop", "nope"), "--next-hop"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, code := runCLI(t, tc.args...)
			if code != exitUsage {
				t.Fatalf("exit %d, want %d (usage); stderr: %s", code, exitUsage, errOut)
			}
			if !strings.Contains(errOut, tc.want) {
				t.Errorf("stderr %q does not mention %q", errOut, tc.want)
			}
		})
	}
}

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// loopbackPair derives two 127.x addresses and a port from the test name.
func loopbackPair(t *testing.T) (netip.Addr, netip.Addr, int) {
	h := fnv.New32a()
	h.Write([]byte("cmd/inject/" + t.Name()))
	v := h.Sum32()
	a, b := byte(16+v%224), byte(v>>8)
	return netip.AddrFrom4([4]byte{127, a, b, 1}), netip.AddrFrom4([4]byte{127, a, b, 2}), 20000 + int(v>>16)%20000
}

// TestInjectIntoGoBGP runs `peerlab inject` in-process against a GoBGP
// speaker on loopback, with the table loaded before the session and in
// live batches, and checks that the speaker receives every route, that
// the progress says the table was synced and that cancelling (SIGINT)
// ends the command with no error.
func TestInjectIntoGoBGP(t *testing.T) {
	const total = 5000
	tests := []struct {
		name  string
		extra []string
		logs  []string
	}{
		{"loaded", nil, []string{"table loaded", "session established", "table synced"}},
		{"live", []string{"--live-batch", "1000"}, []string{"session established", "live routes announced", "table synced"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			local, remote, port := loopbackPair(t)
			rx, err := speaker.New(speaker.Config{
				Name: "receiver", ASN: 65002, RouterID: remote, ListenAddress: remote, ListenPort: port,
				Families: []speaker.Family{speaker.IPv4Unicast},
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { rx.Close() })
			if err := rx.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			err = rx.AddPeer(context.Background(), speaker.PeerConfig{
				Name: "injector", Address: local, Port: port, LocalAddress: remote, ASN: 65001, Passive: true,
				Families: []speaker.Family{speaker.IPv4Unicast},
				Timers:   speaker.Timers{Hold: 9 * time.Second, Keepalive: 3 * time.Second, ConnectRetry: time.Second},
			})
			if err != nil {
				t.Fatal(err)
			}

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var stderr syncBuffer
			cmd := newRootCommand(ctx)
			cmd.SetArgs(append([]string{"inject", "--address", local.String(), "--peer", remote.String(),
				"--peer-as", "65002", "--port", strconv.Itoa(port), "--hold", "9s", "--log-format", "json",
				"--generate", fmt.Sprint(total), "--from", "16.0.0.0/4"}, tc.extra...))
			cmd.SetOut(&bytes.Buffer{})
			cmd.SetErr(&stderr)
			done := make(chan error, 1)
			go func() { done <- cmd.Execute() }()

			deadline := time.Now().Add(30 * time.Second)
			for {
				paths, err := rx.RIB(context.Background(), speaker.TableAdjIn, local, speaker.IPv4Unicast)
				if err == nil && len(paths) == total && strings.Contains(stderr.String(), "table synced") {
					if paths[0].NextHop != local {
						t.Errorf("route %s has next hop %s, want %s", paths[0].Prefix, paths[0].NextHop, local)
					}
					break
				}
				select {
				case err := <-done:
					t.Fatalf("inject ended early: %v\n%s", err, stderr.String())
				default:
				}
				if time.Now().After(deadline) {
					t.Fatalf("receiver holds %d of %d routes after 30 s (err %v); log:\n%s", len(paths), total, err, stderr.String())
				}
				time.Sleep(50 * time.Millisecond)
			}
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("inject after cancel: %v (want nil: exit 0)", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("inject did not stop within 10 s of cancel")
			}
			for _, want := range append(tc.logs, "injector stopped") {
				if !strings.Contains(stderr.String(), `"msg":"`+want+`"`) {
					t.Errorf("log lacks %q:\n%s", want, stderr.String())
				}
			}
			t.Logf("log:\n%s", stderr.String())
		})
	}
}
