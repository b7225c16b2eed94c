package capture

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/peerlab/peerlab/speaker"
)

// labTransferSpec describes a capture the lab produces for the decoding
// benchmark: two embedded GoBGP speakers peered on loopback, the first
// announcing Updates /24 prefixes (1.0.0.0/24, 1.0.1.0/24, ...) in Announce
// calls of Batch routes, every route with its own MED, so GoBGP cannot
// pack two prefixes into one UPDATE and sends one prefix per UPDATE.
type labTransferSpec struct {
	Updates int
	Batch   int
}

// labFormat versions the way labTransferSpec captures are made; bump it
// when the generator changes so cached files are not reused.
const labFormat = "gobgp-v4.8.0-med-per-prefix-v1"

// labMeta is what the generator learnt about a capture; it is cached
// beside the pcapng as JSON.
type labMeta struct {
	// Port is the BGP port the speakers used (derived per run).
	Port int `json:"port"`
	// Announced is the number of routes announced.
	Announced int `json:"announced"`
	// AdjRIBIn is the number of routes in the receiver's adj-RIB-in
	// when the capture stopped.
	AdjRIBIn int `json:"adj_rib_in"`
	// Messages and Updates are the decoder's counts on the file.
	Messages int64 `json:"messages"`
	Updates  int64 `json:"updates"`
	// Frames is the number of frames the capture kept.
	Frames int64 `json:"frames"`
	// Seconds is the wall time from the first Announce call until the
	// receiver held every route; TotalSeconds includes session setup,
	// the adj-RIB-in check and stopping the capture.
	Seconds      float64 `json:"seconds"`
	TotalSeconds float64 `json:"total_seconds"`
}

// labCachePath is where the capture of spec is cached:
// os.TempDir()/peerlab-bench-<count>-<hash of spec and labFormat>.pcapng,
// with its labMeta in the same name ending .json.
func labCachePath(spec labTransferSpec) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%s updates=%d batch=%d", labFormat, spec.Updates, spec.Batch))
	return filepath.Join(os.TempDir(), fmt.Sprintf("peerlab-bench-%s-%s.pcapng", countLabel(spec.Updates), hex.EncodeToString(sum[:6])))
}

// countLabel writes 1000000 as "1m" and 250000 as "250k".
func countLabel(n int) string {
	switch {
	case n%1_000_000 == 0:
		return strconv.Itoa(n/1_000_000) + "m"
	case n%1000 == 0:
		return strconv.Itoa(n/1000) + "k"
	}
	return strconv.Itoa(n)
}

// metaPath is the path of the labMeta cached beside a capture.
func metaPath(pcap string) string { return pcap[:len(pcap)-len(filepath.Ext(pcap))] + ".json" }

// loadLabCapture returns the cached capture of spec and its labMeta, or
// ok=false when there is none.
func loadLabCapture(spec labTransferSpec) (path string, meta labMeta, ok bool) {
	path = labCachePath(spec)
	data, err := os.ReadFile(metaPath(path))
	if err != nil {
		return path, meta, false
	}
	if err := json.Unmarshal(data, &meta); err != nil || meta.Port == 0 {
		return path, meta, false
	}
	if _, err := os.Stat(path); err != nil {
		return path, meta, false
	}
	return path, meta, true
}

// Environment of the lab-generator mode of the test binary: with
// PEERLAB_CAPTURE_LAB_GEN=N (and optionally PEERLAB_CAPTURE_LAB_BATCH=B)
// the binary makes the lab capture of N routes unless it is cached,
// prints its path and labMeta, and exits. BenchmarkDecodeVsTshark runs
// the generator this way, so that its own peak RSS, which a child
// inherits as the floor of its ru_maxrss, stays small. By hand (root):
//
//	PEERLAB_CAPTURE_LAB_GEN=1000000 go test ./capture -run '^$'
const (
	envLabGen   = "PEERLAB_CAPTURE_LAB_GEN"
	envLabBatch = "PEERLAB_CAPTURE_LAB_BATCH"
)

// defaultLabBatch is the number of routes per Announce call.
const defaultLabBatch = 50_000

// runLabGenerator is the lab-generator mode of the test binary.
func runLabGenerator(updates string) int {
	spec := labTransferSpec{Batch: defaultLabBatch}
	var err error
	if spec.Updates, err = strconv.Atoi(updates); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", envLabGen, err)
		return 2
	}
	if v := os.Getenv(envLabBatch); v != "" {
		if spec.Batch, err = strconv.Atoi(v); err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", envLabBatch, err)
			return 2
		}
	}
	path, meta, fresh, err := labCapture(spec)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	js, _ := json.Marshal(meta)
	fmt.Printf("%s (fresh=%v) %s\n", path, fresh, js)
	return 0
}

// labCapture returns the capture of spec, from the cache or made now
// (which needs root for the AF_PACKET capture on lo). fresh reports
// whether it was made by this call.
func labCapture(spec labTransferSpec) (path string, meta labMeta, fresh bool, err error) {
	if path, meta, ok := loadLabCapture(spec); ok {
		return path, meta, false, nil
	}
	path = labCachePath(spec)
	tmp := path + fmt.Sprintf(".tmp%d.pcapng", os.Getpid())
	defer os.Remove(tmp)
	meta, err = generateLabCapture(context.Background(), tmp, spec, path)
	if err != nil {
		return path, meta, false, fmt.Errorf("lab capture of %d routes: %w", spec.Updates, err)
	}
	js, err := json.Marshal(meta)
	if err != nil {
		return path, meta, false, err
	}
	if err := os.Rename(tmp, path); err != nil {
		return path, meta, false, err
	}
	if err := os.WriteFile(metaPath(path), js, 0o644); err != nil {
		return path, meta, false, err
	}
	return path, meta, true, nil
}

// labNet derives a 127.A.B.0/24 block and a free port from name and the
// process id, so the generator does not collide with parallel tests.
func labNet(name string) (a, b netip.Addr, port int, err error) {
	h := fnv.New32a()
	fmt.Fprintf(h, "%s/%d", name, os.Getpid())
	v := h.Sum32()
	a = netip.AddrFrom4([4]byte{127, byte(16 + v%224), byte(v >> 8), 1})
	b = netip.AddrFrom4([4]byte{127, byte(16 + v%224), byte(v >> 8), 2})
	l, err := net.Listen("tcp", netip.AddrPortFrom(a, 0).String())
	if err != nil {
		return a, b, 0, fmt.Errorf("pick a port on %v: %w", a, err)
	}
	port = l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	return a, b, port, nil
}

// labTimers are long enough that a hold timer cannot expire while both
// speakers are busy with a million routes on two cores.
var labTimers = speaker.Timers{Hold: 240 * time.Second, Keepalive: 80 * time.Second, ConnectRetry: time.Second}

// generateLabCapture captures on lo, filtered to a port of its own, a
// session between two speakers while the first announces spec.Updates
// routes; it returns once the receiver's adj-RIB-in holds all of them
// and the capture is stopped. The file at path is then decoded to count
// its messages.
func generateLabCapture(ctx context.Context, path string, spec labTransferSpec, name string) (labMeta, error) {
	if spec.Batch <= 0 {
		spec.Batch = defaultLabBatch
	}
	begin := time.Now()
	addrA, addrB, port, err := labNet(name)
	if err != nil {
		return labMeta{}, err
	}
	meta := labMeta{Port: port, Announced: spec.Updates}
	var c *Capture
	c, err = Start(ctx, Options{Interface: "lo", Ports: []int{port}, Path: path, RingSize: labRingSize})
	if err != nil {
		return meta, err
	}
	defer c.Stop()

	newSpeaker := func(name string, asn uint32, addr netip.Addr) (*speaker.Speaker, error) {
		s, err := speaker.New(speaker.Config{Name: name, ASN: asn, RouterID: addr, ListenAddress: addr, ListenPort: port})
		if err != nil {
			return nil, err
		}
		if err := s.Start(ctx); err != nil {
			_ = s.Close()
			return nil, err
		}
		return s, nil
	}
	sa, err := newSpeaker("sender", 65001, addrA)
	if err != nil {
		return meta, err
	}
	defer sa.Close()
	sb, err := newSpeaker("receiver", 65002, addrB)
	if err != nil {
		return meta, err
	}
	defer sb.Close()
	if err := sa.AddPeer(ctx, speaker.PeerConfig{Name: "receiver", Address: addrB, Port: port, LocalAddress: addrA, ASN: 65002, Timers: labTimers}); err != nil {
		return meta, err
	}
	if err := sb.AddPeer(ctx, speaker.PeerConfig{Name: "sender", Address: addrA, Port: port, LocalAddress: addrB, ASN: 65001, Timers: labTimers, Passive: true}); err != nil {
		return meta, err
	}
	if err := waitUntil(30*time.Second, "session Established", func() (bool, error) {
		st, err := sb.Peer(ctx, addrA)
		return st.State == speaker.StateEstablished, err
	}); err != nil {
		return meta, err
	}

	announceStart := time.Now()
	routes := make([]speaker.Route, 0, spec.Batch)
	for i := 0; i < spec.Updates; i += spec.Batch {
		routes = routes[:0]
		for j := i; j < min(i+spec.Batch, spec.Updates); j++ {
			p := uint32(1<<24 + j<<8) // 1.0.0.0/24, 1.0.1.0/24, ...
			routes = append(routes, speaker.Route{
				Prefix: netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(p >> 24), byte(p >> 16), byte(p >> 8), 0}), 24),
				MED:    uint32(j + 1), // distinct attributes: one prefix per UPDATE
			})
		}
		if err := sa.Announce(ctx, routes); err != nil {
			return meta, err
		}
	}
	routes = nil

	// The capture stops growing when the sender has written everything;
	// then the receiver's adj-RIB-in must hold every route (listing a
	// million paths is costly, so it is read only once the wire is quiet).
	deadline := time.Now().Add(time.Duration(spec.Updates/1000+120) * time.Second)
	for {
		if err := waitQuiet(c, 2*time.Second, deadline); err != nil {
			return meta, err
		}
		paths, err := sb.RIB(ctx, speaker.TableAdjIn, addrA, speaker.IPv4Unicast)
		if err != nil {
			return meta, err
		}
		meta.AdjRIBIn = len(paths)
		if meta.AdjRIBIn >= spec.Updates {
			break
		}
		if time.Now().After(deadline) {
			return meta, fmt.Errorf("receiver holds %d of %d routes at the deadline", meta.AdjRIBIn, spec.Updates)
		}
	}
	meta.Seconds = time.Since(announceStart).Seconds()
	time.Sleep(300 * time.Millisecond) // trailing ACKs
	if err := c.Stop(); err != nil {
		return meta, err
	}
	st := c.Stats()
	meta.Frames = st.Kept
	if st.Dropped > 0 {
		return meta, fmt.Errorf("the packet socket dropped %d frames (kept %d): the capture has gaps", st.Dropped, meta.Frames)
	}

	f, err := os.Open(path)
	if err != nil {
		return meta, err
	}
	defer f.Close()
	tl, err := Decode(f, DecodeOptions{Ports: []int{port}})
	if err != nil {
		return meta, fmt.Errorf("decode %s: %w", path, err)
	}
	meta.Messages = tl.Messages
	for _, s := range tl.Sessions {
		meta.Updates += s.Counts.Update
	}
	meta.TotalSeconds = time.Since(begin).Seconds()
	return meta, nil
}

// labRingSize is the capture ring of the generator. GoBGP and the
// capture share two cores, so the capture's reader is sometimes not
// scheduled for a while; a small ring then drops frames of the transfer.
const labRingSize = 64 << 20

// waitUntil polls cond every 100 ms until it holds or timeout passes.
func waitUntil(timeout time.Duration, what string, cond func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, err := cond()
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.Join(fmt.Errorf("timed out after %v waiting for %s", timeout, what), err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitQuiet waits until the capture has kept no frame for quiet.
func waitQuiet(c *Capture, quiet time.Duration, deadline time.Time) error {
	last, since := c.Stats().Kept, time.Now()
	for time.Since(since) < quiet {
		if time.Now().After(deadline) {
			return fmt.Errorf("capture still growing at the deadline (%d frames)", last)
		}
		time.Sleep(200 * time.Millisecond)
		if k := c.Stats().Kept; k != last {
			last, since = k, time.Now()
		}
	}
	return nil
}

// TestLabCaptureOnePrefixPerUpdate makes a small lab capture the way
// BenchmarkDecodeVsTshark's is made and checks that every route went out
// in an UPDATE of its own and that the capture lost nothing.
func TestLabCaptureOnePrefixPerUpdate(t *testing.T) {
	requireRoot(t)
	const routes = 3000
	path := filepath.Join(t.TempDir(), "lab.pcapng")
	meta, err := generateLabCapture(context.Background(), path, labTransferSpec{Updates: routes, Batch: 1000}, t.Name())
	if err != nil {
		t.Fatal(err)
	}
	if meta.AdjRIBIn != routes {
		t.Errorf("receiver's adj-RIB-in holds %d routes, want %d", meta.AdjRIBIn, routes)
	}
	if meta.Updates != routes {
		t.Errorf("decoder counted %d UPDATEs, want one per route (%d)", meta.Updates, routes)
	}
	tl := decodeFile(t, path, DecodeOptions{Ports: []int{meta.Port}})
	for _, s := range tl.Sessions {
		for _, e := range s.Events {
			if e.Kind == KindGap || e.Kind == KindMalformed {
				t.Errorf("%s event in the lab capture: %s", e.Kind, e.Summary())
			}
		}
	}
}

// TestLabCachePath checks the cache file names of lab captures.
func TestLabCachePath(t *testing.T) {
	tests := []struct {
		spec labTransferSpec
		want string
	}{
		{labTransferSpec{Updates: 1_000_000, Batch: 50_000}, "peerlab-bench-1m-"},
		{labTransferSpec{Updates: 250_000, Batch: 50_000}, "peerlab-bench-250k-"},
		{labTransferSpec{Updates: 1234, Batch: 50_000}, "peerlab-bench-1234-"},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			p := labCachePath(tt.spec)
			if filepath.Dir(p) != filepath.Clean(os.TempDir()) || !strings.HasPrefix(filepath.Base(p), tt.want) || filepath.Ext(p) != ".pcapng" {
				t.Errorf("labCachePath(%+v) = %s, want %s<hash>.pcapng in %s", tt.spec, p, tt.want, os.TempDir())
			}
			if seen[p] {
				t.Errorf("two specs share %s", p)
			}
			seen[p] = true
		})
	}
	a := labCachePath(labTransferSpec{Updates: 1000, Batch: 100})
	if b := labCachePath(labTransferSpec{Updates: 1000, Batch: 200}); a == b {
		t.Errorf("batch size does not change the cache path %s", a)
	}
	if got := metaPath(a); got != strings.TrimSuffix(a, ".pcapng")+".json" {
		t.Errorf("metaPath(%s) = %s", a, got)
	}
}
