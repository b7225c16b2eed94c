package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/peerlab/peerlab/capture"
	"github.com/peerlab/peerlab/internal/userfile"
	"github.com/peerlab/peerlab/lab"
)

// newCaptureCommand groups the capture subcommands: decode a pcap or
// pcapng file into BGP session timelines, or record a host interface.
func newCaptureCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "capture [NAME] [--node N] [-w FILE] [--duration D]",
		Short: "Record BGP sessions on the wire and decode captures into timelines",
		Long: `capture records BGP traffic to pcapng and decodes pcap/pcapng files into one
timeline per pair of speakers: TCP handshake, RST/FIN, ICMP unreachable, TCP
MD5 option, OPEN, UPDATE, KEEPALIVE, NOTIFICATION (with its RFC name),
ROUTE-REFRESH, hold-time gaps and malformed messages.

'peerlab capture NAME' records a running namespace-mode lab (needs root): with
--node, that node's eth0 inside its namespace; without, the lab bridge br0 in
the hub namespace, every link at once. It writes -w (default NAME.pcapng or
NAME-NODE.pcapng) until Ctrl-C or --duration. To record a lab from its first
SYN, start it with 'peerlab up|run FILE --capture DIR' instead.

Exit status: 0 on success, 1 when the capture cannot run, 2 on bad flags or
an unknown lab or node.`,
		Example: `  peerlab capture calico-mesh --duration 30s
  peerlab capture calico-mesh --node node1 -w node1.pcapng
  peerlab capture decode calico-mesh.pcapng`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usageErrorf("peerlab capture: want at most one lab NAME (or a subcommand), got %q\nUsage: %s", args, cmd.UseLine())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmd.Help()
			}
			return a.captureLab(cmd, args[0])
		},
	}
	f := cmd.Flags()
	f.String("node", "", "capture this node's eth0 (default: the lab bridge, every link)")
	f.StringP("write", "w", "", "pcapng file to write (default NAME.pcapng or NAME-NODE.pcapng)")
	f.Duration("duration", 0, "stop after this long (0: on Ctrl-C)")
	addStateFlag(cmd)
	cmd.AddCommand(newCaptureDecodeCommand(a), newCaptureLiveCommand(a))
	return cmd
}

// captureLab carries out `peerlab capture NAME`.
func (a *app) captureLab(cmd *cobra.Command, name string) error {
	node, path, duration := a.v.GetString("node"), a.v.GetString("write"), a.v.GetDuration("duration")
	if duration < 0 {
		return usageErrorf("peerlab capture: --duration must not be negative")
	}
	st, err := lab.ReadState(a.stateDir(), name)
	if errors.Is(err, lab.ErrLabNotFound) {
		return usageErrorf("peerlab capture: %v (see 'peerlab status' for running labs)", err)
	}
	if err != nil {
		return err
	}
	target, err := lab.CaptureTargetOf(st, node)
	if err != nil {
		return usageErrorf("peerlab capture: %v", err)
	}
	if path == "" {
		path = name + ".pcapng"
		if node != "" {
			path = name + "-" + node + ".pcapng"
		}
	}
	ctx := cmd.Context()
	if duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, duration)
		defer cancel()
	}
	c, err := lab.StartCapture(ctx, target, capture.Options{Path: path, Logger: a.log})
	if err != nil {
		return fmt.Errorf("capture lab %s: %w", name, err)
	}
	where := "every link of lab " + name + " (" + target.Interface + ")"
	if node != "" {
		where = "node " + node + " of lab " + name + " (" + target.Interface + ")"
	}
	return a.waitCapture(ctx, cmd, c, where, path, duration)
}

// waitCapture runs a started capture until ctx ends and reports what it
// recorded on stderr.
func (a *app) waitCapture(ctx context.Context, cmd *cobra.Command, c *capture.Capture, where, path string, duration time.Duration) error {
	stderr := cmd.ErrOrStderr()
	until := "Ctrl-C"
	if duration > 0 {
		until = duration.String() + " or Ctrl-C"
	}
	fmt.Fprintf(stderr, "capturing BGP on %s to %s until %s\n", where, path, until)
	started := time.Now()
	<-ctx.Done()
	if err := c.Stop(); err != nil {
		return fmt.Errorf("capture on %s: %w", where, err)
	}
	st := c.Stats()
	fmt.Fprintf(stderr, "captured %d of %d frames (%d bytes) in %s to %s\n",
		st.Kept, st.Seen, st.Bytes, time.Since(started).Round(time.Millisecond), strings.Join(c.Files(), ", "))
	return nil
}

// newCaptureDecodeCommand decodes a capture file into timelines.
func newCaptureDecodeCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "decode FILE",
		Short: "Decode a pcap or pcapng file into per-session BGP timelines",
		Long: `decode reads a pcap or pcapng file (any size: it is streamed), reassembles
the TCP connections on the BGP ports and prints one timeline per pair of
speakers: a ladder diagram (text), stable JSON for tools, or a self-contained
HTML page with SVG ladders.

Every message is counted. Of each run of UPDATEs and KEEPALIVEs a speaker
sends between two other events, the first and last --sample are shown and the
rest summarised as one "N ELIDED" line; --all shows every message.

Exit status: 0 on success, 2 on bad flags or a file that cannot be read or
is not a capture.`,
		Example: `  peerlab capture decode session.pcapng
  peerlab capture decode lab.pcap --port 1179 --output html > timeline.html
  peerlab capture decode dump.pcap -o json | jq '.sessions[].counts'`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.captureDecode(cmd, args[0])
		},
	}
	f := cmd.Flags()
	f.StringP("output", "o", "text", "output format: "+strings.Join(capture.Formats, ", "))
	f.IntSlice("port", []int{capture.DefaultPort}, "TCP port carrying BGP (repeat or comma-separate for several)")
	f.Int("sample", capture.DefaultSample, "UPDATE/KEEPALIVE messages shown at each end of a run")
	f.Bool("all", false, "show every UPDATE and KEEPALIVE (memory grows with the capture)")
	f.Int("max-sessions", capture.DefaultMaxSessions, "decode at most this many sessions in full; later ones are only counted (-1: no limit)")
	return cmd
}

// captureDecode carries out `peerlab capture decode`.
func (a *app) captureDecode(cmd *cobra.Command, file string) error {
	output := a.v.GetString("output")
	if !slices.Contains(capture.Formats, output) {
		return usageErrorf("peerlab capture decode: --output: %q is not one of %s", output, strings.Join(capture.Formats, ", "))
	}
	ports, err := a.ports()
	if err != nil {
		return usageErrorf("peerlab capture decode: %v", err)
	}
	sample := a.v.GetInt("sample")
	if sample < 1 {
		return usageErrorf("peerlab capture decode: --sample: %d is not a positive number", sample)
	}
	f, err := userfile.Open(file)
	if err != nil {
		return usageErrorf("peerlab capture decode: %v", err)
	}
	defer f.Close()
	var size int64
	if fi, err := f.Stat(); err == nil {
		size = fi.Size()
	}
	prog := a.newProgress(cmd)
	in := &countingReader{r: f, onRead: func(n int64) {
		prog.Printf("decoding %s: %d of %d MB (%d%%)", file, n>>20, size>>20, percent(n, size))
	}}
	tl, err := capture.DecodeContext(cmd.Context(), in, capture.DecodeOptions{
		Ports: ports, Sample: sample, AllEvents: a.v.GetBool("all"),
		MaxSessions: a.v.GetInt("max-sessions"),
		Logger:      a.log.With(zap.String("file", file)),
	})
	prog.Done()
	if err != nil {
		return usageErrorf("peerlab capture decode: %s: %v", file, err)
	}
	if tl.Truncated {
		a.log.Warn("capture ends inside a packet record; decoded up to there", zap.String("file", file))
	}
	return capture.Render(cmd.OutOrStdout(), tl, output)
}

// percent is n of total in percent (0 when total is unknown).
func percent(n, total int64) int64 {
	if total <= 0 {
		return 0
	}
	return min(100, n*100/total)
}

// ports reads and checks --port. A PEERLAB_PORT variable or a config
// file key reaches viper as a string or a number, so those are parsed
// here: "1179", "1179,1180" or "1179 1180".
func (a *app) ports() ([]int, error) {
	ports := a.v.GetIntSlice("port")
	if len(ports) == 0 {
		raw := a.v.GetString("port")
		for _, f := range strings.FieldsFunc(raw, func(r rune) bool { return r == ',' || r == ' ' }) {
			p, err := strconv.Atoi(f)
			if err != nil {
				return nil, fmt.Errorf("--port: %q is not a list of TCP ports", raw)
			}
			ports = append(ports, p)
		}
	}
	if len(ports) == 0 {
		return nil, errors.New("--port: no port given")
	}
	for _, p := range ports {
		if p < 1 || p > 65535 {
			return nil, fmt.Errorf("--port: %d is not a TCP port", p)
		}
	}
	return ports, nil
}

// newCaptureLiveCommand records a host interface to pcapng.
func newCaptureLiveCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "live --interface IF -w FILE",
		Short: "Record BGP traffic on a host interface to pcapng",
		Long: `live captures on a network interface of the current network namespace (an
AF_PACKET socket; needs root or CAP_NET_RAW) and writes the TCP segments to or
from the BGP ports, plus every ICMP/ICMPv6 destination-unreachable, to a
pcapng file. Packets are flushed to disk at least every 100 ms, so the file is
readable while the capture runs and if it is killed. --max-bytes rotates to
FILE.1.pcapng, FILE.2.pcapng... It stops on Ctrl-C or after --duration.

Exit status: 0 on success, 1 when the capture cannot run, 2 on bad flags.`,
		Example: `  peerlab capture live -i eth0 -w bgp.pcapng
  peerlab capture live -i lo -w lab.pcapng --port 1179 --duration 30s
  peerlab capture live -i eth0 -w ring.pcapng --max-bytes 100000000`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.captureLive(cmd)
		},
	}
	f := cmd.Flags()
	f.StringP("interface", "i", "", "interface to capture on (required)")
	f.StringP("write", "w", "", "pcapng file to write (required)")
	f.IntSlice("port", []int{capture.DefaultPort}, "TCP port carrying BGP (repeat or comma-separate for several)")
	f.Int64("max-bytes", 0, "rotate to a new file when one would grow past this many bytes (0: never)")
	f.Duration("duration", 0, "stop after this long (0: on Ctrl-C)")
	return cmd
}

// captureLive carries out `peerlab capture live`.
func (a *app) captureLive(cmd *cobra.Command) error {
	iface, path := a.v.GetString("interface"), a.v.GetString("write")
	if iface == "" || path == "" {
		return usageErrorf("peerlab capture live: --interface and -w are required\nUsage: %s", cmd.UseLine())
	}
	if _, err := net.InterfaceByName(iface); err != nil {
		return usageErrorf("peerlab capture live: --interface %s: %v", iface, err)
	}
	ports, err := a.ports()
	if err != nil {
		return usageErrorf("peerlab capture live: %v", err)
	}
	maxBytes, duration := a.v.GetInt64("max-bytes"), a.v.GetDuration("duration")
	if maxBytes < 0 || duration < 0 {
		return usageErrorf("peerlab capture live: --max-bytes and --duration must not be negative")
	}
	ctx := cmd.Context()
	if duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, duration)
		defer cancel()
	}
	c, err := capture.Start(ctx, capture.Options{
		Interface: iface, Ports: ports, Path: path, MaxBytes: maxBytes, Logger: a.log,
	})
	if err != nil {
		return fmt.Errorf("capture on %s: %w", iface, err)
	}
	return a.waitCapture(ctx, cmd, c, fmt.Sprintf("%s ports %v", iface, ports), path, duration)
}
