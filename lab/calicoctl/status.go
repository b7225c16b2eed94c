// Package calicoctl is the lab's calicoctl: `calicoctl node status` and
// `calicoctl get nodes [-o wide]` as projectcalico/calico's calicoctl
// prints them, run inside a lab node (the lab links it onto the node's
// PATH; the executable dispatches on argv[0]).
//
// node status follows calicoctl's own steps: the node must run a process
// called calico-node (or calico-felix), BIRD must be a process whose
// argv[0] is bird, and the peers come from "show protocols" on
// /var/run/calico/bird.ctl (else /var/run/bird/bird.ctl), rendered in
// calicoctl's table (olekukonko/tablewriter's default layout, cells over
// 30 columns wrapped with minimal raggedness). Like calicoctl, it accepts
// only BIRD 1.x's lower-case "show protocols" headings: against BIRD 2 it
// fails with calicoctl's "unknown BIRD table output format".
package calicoctl

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/peerlab/peerlab/internal/lazy"
)

// Name is the program name the lab's executable dispatches on.
const Name = "calicoctl"

// The BIRD control sockets calicoctl tries, in order.
var birdSockets = []string{"/var/run/calico/bird.ctl", "/var/run/bird/bird.ctl"}

// birdTimeout bounds each read from BIRD, as calicoctl's does.
const birdTimeout = 2 * time.Second

// peerName is a Calico BGP protocol name and its type.
var peerName = lazy.Regexp(`^(Global|Node|Mesh)_(.+)$`)

// peerTypes maps the name's type to calicoctl's display type.
var peerTypes = map[string]string{"Global": "global", "Mesh": "node-to-node mesh", "Node": "node specific"}

// birdHeadings are the "show protocols" headings calicoctl accepts.
var birdHeadings = []string{"name", "proto", "table", "state", "since", "info"}

// peer is one BGP peer row.
type peer struct {
	IP, Type, State, Since, BGPState, Info string
}

// nodeStatus is `calicoctl node status`; procs are the command lines of
// the node's processes.
func nodeStatus(w io.Writer, procs [][]string) error {
	if !psContains(procs, "calico-felix") && !psContains(procs, "calico-node", "-felix") {
		return errors.New("Calico process is not running.")
	}
	fmt.Fprintf(w, "Calico process is running.\n")
	hasBird, hasBird6 := psContains(procs, "bird"), psContains(procs, "bird6")
	if hasBird || hasBird6 {
		if hasBird {
			if err := printBIRDPeers(w, "4"); err != nil {
				return err
			}
		} else {
			fmt.Fprintf(w, "\nINFO: BIRDv4 process: 'bird' is not running.\n")
		}
		if hasBird6 {
			if err := printBIRDPeers(w, "6"); err != nil {
				return err
			}
		} else {
			fmt.Fprintf(w, "\nINFO: BIRDv6 process: 'bird6' is not running.\n")
		}
	} else {
		fmt.Fprintf(w, "\nNone of the BGP backend processes (BIRD or GoBGP) are running.\n")
	}
	fmt.Fprintln(w)
	return nil
}

// psContains is calicoctl's process match: a process matches when any of
// want[i] equals its argv[i] (calicoctl's own, loose, rule).
func psContains(procs [][]string, want ...string) bool {
	for _, argv := range procs {
		for i, w := range want {
			if i >= len(argv) {
				break
			}
			if argv[i] == w {
				return true
			}
		}
	}
	return false
}

// processes lists the argv of every process /proc shows.
func processes() [][]string {
	entries, _ := os.ReadDir("/proc")
	var out [][]string
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		data, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || len(data) == 0 {
			continue
		}
		out = append(out, strings.Split(strings.TrimRight(string(data), "\x00"), "\x00"))
	}
	return out
}

// printBIRDPeers asks BIRD (IPv4 or 6) for its protocols and prints the
// Calico peers.
func printBIRDPeers(w io.Writer, ipv string) error {
	suffix := ""
	if ipv == "6" {
		suffix = "6"
	}
	fmt.Fprintf(w, "\nIPv%s BGP status\n", ipv)
	var c net.Conn
	var err error
	for _, s := range birdSockets {
		s = strings.Replace(s, "bird.ctl", "bird"+suffix+".ctl", 1)
		if c, err = net.Dial("unix", s); err == nil {
			break
		}
	}
	if err != nil {
		fmt.Fprintf(w, "Error querying BIRD: unable to connect to BIRDv%s socket: %v", ipv, err)
		return nil
	}
	defer c.Close()
	if _, err := c.Write([]byte("show protocols\n")); err != nil {
		return fmt.Errorf("Error executing command: unable to write to BIRD socket: %s", err)
	}
	return printReply(w, ipv, c)
}

// printReply prints the peers of BIRD's reply on conn.
func printReply(w io.Writer, ipv string, conn deadliner) error {
	peers, err := scanBIRDPeers(ipv, conn)
	if err != nil {
		return fmt.Errorf("Error executing command: %v", err)
	}
	if len(peers) == 0 {
		fmt.Fprintf(w, "No IPv%s peers found.\n", ipv)
		return nil
	}
	printPeers(w, peers)
	return nil
}

// deadliner is a connection with a read deadline.
type deadliner interface {
	io.Reader
	SetReadDeadline(time.Time) error
}

// scanBIRDPeers reads BIRD's reply to "show protocols" (after its
// greeting) and returns the Calico BGP peers in it.
func scanBIRDPeers(ipv string, conn deadliner) ([]peer, error) {
	sep := "."
	if ipv == "6" {
		sep = ":"
	}
	sc := bufio.NewScanner(conn)
	peers := []peer{}
	if err := conn.SetReadDeadline(time.Now().Add(birdTimeout)); err != nil {
		return nil, errors.New("failed to set time-out")
	}
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "0000"):
			return peers, nil
		case strings.HasPrefix(line, "0001"):
		case strings.HasPrefix(line, "2002"):
			if !slices.Equal(strings.Fields(line[5:]), birdHeadings) {
				return nil, errors.New("unknown BIRD table output format")
			}
		case strings.HasPrefix(line, "1002"):
			if p, ok := parsePeer(line[5:], sep); ok {
				peers = append(peers, p)
			}
		case strings.HasPrefix(line, " "):
			if p, ok := parsePeer(line[1:], sep); ok {
				peers = append(peers, p)
			}
		default:
			return nil, errors.New("unexpected output line from BIRD")
		}
		if err := conn.SetReadDeadline(time.Now().Add(birdTimeout)); err != nil {
			return nil, errors.New("failed to adjust time-out")
		}
	}
	return peers, sc.Err()
}

// parsePeer reads one "show protocols" row: name proto table state since
// info...; only BGP protocols named like Calico's peers count.
func parsePeer(line, sep string) (peer, bool) {
	cols := strings.Fields(line)
	if len(cols) < 6 || cols[1] != "BGP" {
		return peer{}, false
	}
	m := peerName().FindStringSubmatch(cols[0])
	if len(m) != 3 {
		return peer{}, false
	}
	typ, ok := peerTypes[m[1]]
	if !ok {
		return peer{}, false
	}
	p := peer{IP: strings.ReplaceAll(m[2], "_", sep), Type: typ, State: cols[3], Since: cols[4], BGPState: cols[5]}
	if len(cols) > 6 {
		p.Info = strings.Join(cols[6:], " ")
	}
	return p, true
}

// printPeers prints the peer table.
func printPeers(w io.Writer, peers []peer) {
	rows := make([][]string, len(peers))
	for i, p := range peers {
		info := p.BGPState
		if p.Info != "" {
			info += " " + p.Info
		}
		rows[i] = []string{p.IP, p.Type, p.State, p.Since, info}
	}
	renderTable(w, []string{"Peer address", "Peer type", "State", "Since", "Info"}, rows)
}
