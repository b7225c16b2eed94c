package speaker

// Scale benchmarks: one route reflector with 999 client speakers in one
// process, each speaker on its own 127.x.y.z address and all on one port.
// Peak RSS (VmHWM) is per process, so each variant must run in a process
// of its own; the -raw-gobgp flag picks the variant:
//
//	go test -run '^$' -bench Establish1000 -benchtime 1x ./speaker/
//	go test -run '^$' -bench Establish1000 -benchtime 1x ./speaker/ -args -raw-gobgp
//
// The first runs BenchmarkEstablish1000 (peerlab speakers), the second
// BenchmarkEstablish1000RawGoBGP (the same topology straight on GoBGP's
// API, for comparison); each skips when the flag selects the other.
// Both report s-to-established (from the first Start until the RR sees
// all 999 sessions Established) and MB-peak-rss.

import (
	"context"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/osrg/gobgp/v4/api"
	"github.com/osrg/gobgp/v4/pkg/apiutil"
	"github.com/osrg/gobgp/v4/pkg/config/oc"
	"github.com/osrg/gobgp/v4/pkg/packet/bgp"
	"github.com/osrg/gobgp/v4/pkg/server"

	"github.com/peerlab/peerlab/internal/procstat"
)

var rawGoBGP = flag.Bool("raw-gobgp", false, "run BenchmarkEstablish1000RawGoBGP instead of BenchmarkEstablish1000 (they need separate processes for peak RSS)")

const (
	scaleClients = 999
	scaleASN     = 64512
)

// scaleTimers keep keepalive traffic low enough for 1000 sessions on two
// cores while connect retries stay fast.
var scaleTimers = Timers{Hold: 30 * time.Second, Keepalive: 10 * time.Second, ConnectRetry: time.Second}

// scaleNet derives this run's address block and port from the process id,
// so concurrent runs do not collide. Node 0 is the RR.
type scaleNet struct {
	a    byte
	port int
}

func newScaleNet() scaleNet {
	pid := os.Getpid()
	return scaleNet{a: byte(200 + pid%50), port: 30000 + pid%20000}
}

func (n scaleNet) addr(i int) netip.Addr {
	return netip.AddrFrom4([4]byte{127, n.a, byte(i / 250), byte(i%250 + 1)})
}

// raiseNoFile lifts the open-file limit to its hard maximum: the run holds
// about 3000 sockets.
func raiseNoFile(b *testing.B) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		b.Fatalf("getrlimit: %v", err)
	}
	if lim.Max < 8192 && os.Geteuid() == 0 {
		lim.Max = 8192
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		b.Fatalf("setrlimit: %v", err)
	}
	if lim.Cur < 4096 {
		b.Skipf("open-file limit %d is too low for %d sessions", lim.Cur, scaleClients)
	}
}

// stopAll calls stop for every index on a few goroutines.
func stopAll(count int, stop func(i int)) {
	var wg sync.WaitGroup
	work := make(chan int)
	for range 8 {
		wg.Go(func() {
			for i := range work {
				stop(i)
			}
		})
	}
	for i := range count {
		work <- i
	}
	close(work)
	wg.Wait()
}

func BenchmarkEstablish1000(b *testing.B) {
	if *rawGoBGP {
		b.Skip("-raw-gobgp selects BenchmarkEstablish1000RawGoBGP")
	}
	raiseNoFile(b)
	ctx := context.Background()
	for range b.N {
		n := newScaleNet()
		speakers := make([]*Speaker, scaleClients+1)
		for i := range speakers {
			s, err := New(Config{
				Name: fmt.Sprintf("node%d", i), ASN: scaleASN,
				RouterID: n.addr(i), ListenAddress: n.addr(i), ListenPort: n.port,
			})
			if err != nil {
				b.Fatalf("New: %v", err)
			}
			speakers[i] = s
		}
		rr := speakers[0]
		established := make(map[netip.Addr]bool)
		all := make(chan struct{})
		rr.Subscribe(func(e Event) {
			if e.To == StateEstablished && !established[e.Address] {
				established[e.Address] = true
				if len(established) == scaleClients {
					close(all)
				}
			}
		})

		b.ResetTimer()
		start := time.Now()
		for i, s := range speakers {
			if err := s.Start(ctx); err != nil {
				b.Fatalf("Start node%d: %v", i, err)
			}
		}
		started := time.Since(start)
		for i := 1; i <= scaleClients; i++ {
			p := PeerConfig{Address: n.addr(i), Port: n.port, ASN: scaleASN, RouteReflectorClient: true, Passive: true, Timers: scaleTimers}
			if err := rr.AddPeer(ctx, p); err != nil {
				b.Fatalf("rr.AddPeer: %v", err)
			}
			if err := speakers[i].AddPeer(ctx, PeerConfig{Address: n.addr(0), Port: n.port, ASN: scaleASN, Timers: scaleTimers}); err != nil {
				b.Fatalf("node%d.AddPeer: %v", i, err)
			}
		}
		configured := time.Since(start)
		select {
		case <-all:
		case <-time.After(5 * time.Minute):
			b.Fatalf("only %d of %d sessions established after 5 minutes", establishedCount(rr), scaleClients)
		}
		elapsed := time.Since(start)
		b.StopTimer()
		b.Logf("started after %v, peers configured after %v, all established after %v", started, configured, elapsed)
		b.ReportMetric(elapsed.Seconds(), "s-to-established")
		b.ReportMetric(selfPeakMB(b), "MB-peak-rss")
		stopAll(len(speakers), func(i int) { speakers[i].Close() })
	}
}

// establishedCount asks the RR how many sessions are up (for failures).
func establishedCount(rr *Speaker) int {
	ps, _ := rr.Peers(context.Background())
	up := 0
	for _, p := range ps {
		if p.State == StateEstablished {
			up++
		}
	}
	return up
}

func BenchmarkEstablish1000RawGoBGP(b *testing.B) {
	if !*rawGoBGP {
		b.Skip("pass -args -raw-gobgp to run the raw GoBGP comparison in its own process")
	}
	raiseNoFile(b)
	ctx := context.Background()
	timers := &api.Timers{Config: &api.TimersConfig{
		HoldTime:               uint64(scaleTimers.Hold / time.Second),
		KeepaliveInterval:      uint64(scaleTimers.Keepalive / time.Second),
		ConnectRetry:           uint64(scaleTimers.ConnectRetry / time.Second),
		IdleHoldTimeAfterReset: 1,
	}}
	v4 := []*api.AfiSafi{{Config: &api.AfiSafiConfig{Family: &api.Family{Afi: api.Family_AFI_IP, Safi: api.Family_SAFI_UNICAST}, Enabled: true}}}
	// IPv4 unicast only, as a peerlab speaker keeps by default.
	families := []uint32{uint32(oc.AfiSafiTypeToIntMap[oc.AFI_SAFI_TYPE_IPV4_UNICAST])}
	for range b.N {
		n := newScaleNet()
		servers := make([]*server.BgpServer, scaleClients+1)
		for i := range servers {
			servers[i] = server.NewBgpServer()
		}
		rr := servers[0]
		var mu sync.Mutex
		established := make(map[netip.Addr]bool)
		all := make(chan struct{})
		watchCtx, cancelWatch := context.WithCancel(ctx)

		b.ResetTimer()
		start := time.Now()
		for i, s := range servers {
			go s.Serve()
			err := s.StartBgp(ctx, &api.StartBgpRequest{Global: &api.Global{
				Asn: scaleASN, RouterId: n.addr(i).String(), ListenPort: int32(n.port),
				ListenAddresses: []string{n.addr(i).String()}, Families: families,
			}})
			if err != nil {
				b.Fatalf("StartBgp node%d: %v", i, err)
			}
		}
		started := time.Since(start)
		err := rr.WatchEvent(watchCtx, server.WatchEventMessageCallbacks{
			OnPeerUpdate: func(ev *apiutil.WatchEventMessage_PeerEvent, _ time.Time) {
				if ev.Type != apiutil.PEER_EVENT_STATE || ev.Peer.State.SessionState != bgp.BGP_FSM_ESTABLISHED {
					return
				}
				mu.Lock()
				defer mu.Unlock()
				if a := ev.Peer.State.NeighborAddress; !established[a] {
					established[a] = true
					if len(established) == scaleClients {
						close(all)
					}
				}
			},
		}, server.WatchPeer())
		if err != nil {
			b.Fatalf("WatchEvent: %v", err)
		}
		for i := 1; i <= scaleClients; i++ {
			err := rr.AddPeer(ctx, &api.AddPeerRequest{Peer: &api.Peer{
				Conf:           &api.PeerConf{NeighborAddress: n.addr(i).String(), PeerAsn: scaleASN},
				Transport:      &api.Transport{LocalAddress: n.addr(0).String(), RemotePort: uint32(n.port), PassiveMode: true},
				Timers:         timers,
				RouteReflector: &api.RouteReflector{RouteReflectorClient: true, RouteReflectorClusterId: n.addr(0).String()},
				AfiSafis:       v4,
			}})
			if err != nil {
				b.Fatalf("rr.AddPeer: %v", err)
			}
			err = servers[i].AddPeer(ctx, &api.AddPeerRequest{Peer: &api.Peer{
				Conf:      &api.PeerConf{NeighborAddress: n.addr(0).String(), PeerAsn: scaleASN},
				Transport: &api.Transport{LocalAddress: n.addr(i).String(), RemotePort: uint32(n.port)},
				Timers:    timers,
				AfiSafis:  v4,
			}})
			if err != nil {
				b.Fatalf("node%d.AddPeer: %v", i, err)
			}
		}
		configured := time.Since(start)
		select {
		case <-all:
		case <-time.After(5 * time.Minute):
			b.Fatal("not all sessions established after 5 minutes")
		}
		elapsed := time.Since(start)
		b.StopTimer()
		b.Logf("started after %v, peers configured after %v, all established after %v", started, configured, elapsed)
		b.ReportMetric(elapsed.Seconds(), "s-to-established")
		b.ReportMetric(selfPeakMB(b), "MB-peak-rss")
		cancelWatch()
		stopAll(len(servers), func(i int) { servers[i].Stop() })
	}
}

// selfPeakMB is this process's peak RSS in MB.
func selfPeakMB(b *testing.B) float64 {
	n, err := procstat.PeakRSS(procstat.Self)
	if err != nil {
		b.Fatal(err)
	}
	return float64(n) / (1 << 20)
}
