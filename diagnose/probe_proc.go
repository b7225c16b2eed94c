package diagnose

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// procListener is one listening TCP socket read from /proc/net/tcp{,6}.
type procListener struct {
	Addr    netip.Addr
	Port    int
	Inode   string
	Process string
	PID     int
}

// readListeners reads the listening TCP sockets of the network namespace
// of the calling thread (/proc/thread-self/net/tcp and tcp6). Call it
// inside inNamespace.
func readListeners() ([]procListener, error) {
	var out []procListener
	for _, f := range []string{"tcp", "tcp6"} {
		data, err := os.ReadFile(filepath.Join("/proc/thread-self/net", f))
		if err != nil {
			if f == "tcp6" && os.IsNotExist(err) {
				continue
			}
			return nil, fmt.Errorf("read listening sockets: %w", err)
		}
		out = append(out, parseProcNetTCP(data)...)
	}
	return out, nil
}

// parseProcNetTCP returns the LISTEN rows of a /proc/net/tcp or tcp6 file.
func parseProcNetTCP(data []byte) []procListener {
	var out []procListener
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 10 || f[3] != "0A" {
			continue
		}
		addrHex, portHex, ok := strings.Cut(f[1], ":")
		if !ok {
			continue
		}
		addr, ok := procAddr(addrHex)
		port, err := strconv.ParseUint(portHex, 16, 16)
		if !ok || err != nil {
			continue
		}
		out = append(out, procListener{Addr: addr, Port: int(port), Inode: f[9]})
	}
	return out
}

// procAddr decodes /proc/net/tcp's address: 32-bit words in host (little
// endian) byte order.
func procAddr(h string) (netip.Addr, bool) {
	b, err := hex.DecodeString(h)
	if err != nil || (len(b) != 4 && len(b) != 16) {
		return netip.Addr{}, false
	}
	for i := 0; i+4 <= len(b); i += 4 {
		b[i], b[i+1], b[i+2], b[i+3] = b[i+3], b[i+2], b[i+1], b[i]
	}
	a, ok := netip.AddrFromSlice(b)
	return a.Unmap(), ok
}

// socketOwners maps socket inodes to the process holding them, by scanning
// /proc/*/fd; processes it may not read are skipped.
func socketOwners(inodes map[string]bool) map[string]procOwner {
	out := map[string]procOwner{}
	if len(inodes) == 0 {
		return out
	}
	pids, _ := filepath.Glob("/proc/[0-9]*")
	for _, p := range pids {
		fds, err := os.ReadDir(filepath.Join(p, "fd"))
		if err != nil {
			continue
		}
		for _, fd := range fds {
			link, err := os.Readlink(filepath.Join(p, "fd", fd.Name()))
			if err != nil || !strings.HasPrefix(link, "socket:[") {
				continue
			}
			ino := strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")
			if !inodes[ino] {
				continue
			}
			if _, seen := out[ino]; seen {
				continue
			}
			comm, _ := os.ReadFile(filepath.Join(p, "comm"))
			pid, _ := strconv.Atoi(filepath.Base(p))
			fdn, _ := strconv.Atoi(fd.Name())
			out[ino] = procOwner{Name: strings.TrimSpace(string(comm)), PID: pid, FD: fdn}
		}
	}
	return out
}

// procOwner is the process holding a socket.
type procOwner struct {
	Name    string
	PID, FD int
}

// listenersText renders listeners as `ss -ltnp` prints them, so the
// ss-listen recognizer reads them and the text can be saved as an artifact.
func listenersText(ls []procListener) []byte {
	inodes := map[string]bool{}
	for _, l := range ls {
		inodes[l.Inode] = true
	}
	owners := socketOwners(inodes)
	sort.SliceStable(ls, func(i, j int) bool {
		if ls[i].Port != ls[j].Port {
			return ls[i].Port < ls[j].Port
		}
		return ls[i].Addr.Less(ls[j].Addr)
	})
	var b strings.Builder
	b.WriteString("State  Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n")
	for _, l := range ls {
		local := netip.AddrPortFrom(l.Addr, uint16(l.Port)).String()
		peer := "0.0.0.0:*"
		if l.Addr.Is6() {
			peer = "[::]:*"
		}
		if l.Addr.IsUnspecified() && l.Addr.Is6() {
			local = fmt.Sprintf("[::]:%d", l.Port)
		}
		users := ""
		if o, ok := owners[l.Inode]; ok {
			users = fmt.Sprintf(" users:((%q,pid=%d,fd=%d))", o.Name, o.PID, o.FD)
		}
		fmt.Fprintf(&b, "LISTEN 0      128    %s %s%s\n", local, peer, users)
	}
	return []byte(b.String())
}

// md5Counters are the kernel's TCP MD5 counters of a namespace.
type md5Counters struct {
	NotFound, Unexpected, Failure int64
	Seen                          bool
}

// readMD5Counters reads TcpExt TCPMD5NotFound, TCPMD5Unexpected and
// TCPMD5Failure of the calling thread's namespace. Call it inside
// inNamespace.
func readMD5Counters() (md5Counters, error) {
	data, err := os.ReadFile("/proc/thread-self/net/netstat")
	if err != nil {
		return md5Counters{}, fmt.Errorf("read TCP counters: %w", err)
	}
	return parseNetstatMD5(data), nil
}

// parseNetstatMD5 reads the MD5 counters of a /proc/net/netstat file:
// pairs of "TcpExt:" lines, names then values.
func parseNetstatMD5(data []byte) md5Counters {
	var c md5Counters
	lines := strings.Split(string(data), "\n")
	for i := 0; i+1 < len(lines); i++ {
		if !strings.HasPrefix(lines[i], "TcpExt:") || !strings.HasPrefix(lines[i+1], "TcpExt:") {
			continue
		}
		names, vals := strings.Fields(lines[i]), strings.Fields(lines[i+1])
		for j := 1; j < len(names) && j < len(vals); j++ {
			v, err := strconv.ParseInt(vals[j], 10, 64)
			if err != nil {
				continue
			}
			switch names[j] {
			case "TCPMD5NotFound":
				c.NotFound, c.Seen = v, true
			case "TCPMD5Unexpected":
				c.Unexpected, c.Seen = v, true
			case "TCPMD5Failure":
				c.Failure, c.Seen = v, true
			}
		}
		i++
	}
	return c
}

// Total is the sum of the counters.
func (c md5Counters) Total() int64 { return c.NotFound + c.Unexpected + c.Failure }

// String renders the counters as one evidence line.
func (c md5Counters) String() string {
	return fmt.Sprintf("TcpExt TCPMD5NotFound %d TCPMD5Unexpected %d TCPMD5Failure %d", c.NotFound, c.Unexpected, c.Failure)
}
