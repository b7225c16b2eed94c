package bench

import (
	"bufio"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// PrefixesPerLine is how many prefixes one ExaBGP API command announces.
const PrefixesPerLine = 500

// Prefixes returns the first n /24s of 16.0.0.0/4 in address order: the
// same table lab/routes.Generate carves for `generate: n, from:
// 16.0.0.0/4`.
func Prefixes(n int) []netip.Prefix {
	out := make([]netip.Prefix, n)
	for i := range n {
		v := uint32(16)<<24 + uint32(i)<<8
		out[i] = netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), 0}), 24)
	}
	return out
}

// peer is one injector session: the injector's address and AS and the
// target's.
type peer struct {
	local, remote     netip.Addr
	localAS, remoteAS uint32
}

// peerlabInjectArgs is the command line of `peerlab inject` sending the
// first n /24s of 16.0.0.0/4 to the target, in batches of live routes
// once Established when live > 0. Logs are JSON at info level.
func peerlabInjectArgs(p peer, n, live int, order string) []string {
	args := []string{"inject",
		"--address", p.local.String(), "--as", strconv.FormatUint(uint64(p.localAS), 10),
		"--peer", p.remote.String(), "--peer-as", strconv.FormatUint(uint64(p.remoteAS), 10),
		"--generate", strconv.Itoa(n), "--from", "16.0.0.0/4", "--length", "24",
		"--log-level", "info", "--log-format", "json"}
	if live > 0 {
		args = append(args, "--live-batch", strconv.Itoa(live))
	}
	if order != "" {
		args = append(args, "--order", order)
	}
	return args
}

// writeBIRDSource writes a BIRD 1.6 configuration that announces n static
// blackhole routes to the target over eBGP.
func writeBIRDSource(path string, p peer, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("bird source config: %w", err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintf(w, "router id %s;\nprotocol device { scan time 10; }\nprotocol static bench {\n", p.local)
	for _, pfx := range Prefixes(n) {
		fmt.Fprintf(w, "  route %s blackhole;\n", pfx)
	}
	fmt.Fprintf(w, "}\nprotocol bgp target {\n  local %s as %d;\n  neighbor %s as %d;\n  import none;\n  export all;\n  connect delay time 1;\n}\n",
		p.local, p.localAS, p.remote, p.remoteAS)
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("bird source config: %w", err)
	}
	return f.Close()
}

// writeExaBGP writes ExaBGP 4.2's configuration, the announce commands
// (PrefixesPerLine prefixes per `announce attributes ... nlri` line) and
// the process that feeds them to its API, all under dir; it returns the
// configuration's path.
func writeExaBGP(dir string, p peer, n int) (string, error) {
	cmds := filepath.Join(dir, "announce.txt")
	f, err := os.Create(cmds)
	if err != nil {
		return "", fmt.Errorf("exabgp commands: %w", err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	pfx := Prefixes(n)
	for i := 0; i < len(pfx); i += PrefixesPerLine {
		parts := make([]string, 0, PrefixesPerLine)
		for _, q := range pfx[i:min(i+PrefixesPerLine, len(pfx))] {
			parts = append(parts, q.String())
		}
		fmt.Fprintf(w, "announce attributes next-hop %s origin igp nlri %s\n", p.local, strings.Join(parts, " "))
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return "", fmt.Errorf("exabgp commands: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("exabgp commands: %w", err)
	}
	feed := filepath.Join(dir, "feed.sh")
	script := fmt.Sprintf("#!/bin/sh\ncat %s\nexec sleep 1000000\n", cmds)
	if err := os.WriteFile(feed, []byte(script), 0o755); err != nil {
		return "", fmt.Errorf("exabgp feed: %w", err)
	}
	conf := filepath.Join(dir, "exabgp.conf")
	cfg := fmt.Sprintf(`process feed {
  run %s;
  encoder text;
}
neighbor %s {
  router-id %s;
  local-address %s;
  local-as %d;
  peer-as %d;
  api {
    processes [ feed ];
  }
}
`, feed, p.remote, p.local, p.local, p.localAS, p.remoteAS)
	if err := os.WriteFile(conf, []byte(cfg), 0o644); err != nil {
		return "", fmt.Errorf("exabgp config: %w", err)
	}
	return conf, nil
}

// exaBGPEnv is the environment ExaBGP runs with: as root without dropping
// privileges, no acknowledgements to the feed, no CLI pipe.
func exaBGPEnv() []string {
	return append(os.Environ(),
		"exabgp.daemon.user=root", "exabgp.daemon.drop=false",
		"exabgp.api.ack=false", "exabgp.cli.enable=false",
		"exabgp.log.destination=stderr", "exabgp.log.level=INFO")
}
