package server

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
	"golang.org/x/sys/unix"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/peerlab/peerlab/client"
	pb "github.com/peerlab/peerlab/proto/peerlab/v1"
)

// serveTCP runs Serve on 127.0.0.1 with a token file in a fresh state
// folder and returns the address and the token file.
func serveTCP(t *testing.T, mopts ManagerOptions) (addr, tokenFile string) {
	t.Helper()
	dir := shortTempDir(t)
	tokenFile = filepath.Join(dir, "serve.token")
	mopts.StateDir = dir
	if mopts.HostCommand == nil {
		mopts.HostCommand = func([]string) *exec.Cmd { return exec.Command("false") }
	}
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan net.Addr, 1)
	served := make(chan error, 1)
	go func() {
		served <- Serve(ctx, ServeOptions{
			Listen:      ListenOptions{TCP: "127.0.0.1:0", TokenFile: tokenFile},
			Manager:     mopts,
			OnListening: func(a net.Addr) { addrc <- a },
		})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	select {
	case a := <-addrc:
		return a.String(), tokenFile
	case err := <-served:
		t.Fatalf("serve: %v", err)
	}
	return "", ""
}

// TestTCPNeedsToken: on loopback TCP every call, unary, streaming and
// health alike, is refused without the bearer token or with a wrong one,
// and served with the token from the generated 0600 file.
func TestTCPNeedsToken(t *testing.T) {
	addr, tokenFile := serveTCP(t, ManagerOptions{})
	fi, err := os.Stat(tokenFile)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("token file mode %04o, want 0600", fi.Mode().Perm())
	}
	token, err := client.ReadToken(tokenFile)
	if err != nil {
		t.Fatal(err)
	}
	if len(token) != 2*tokenBytes {
		t.Fatalf("token %d characters, want %d", len(token), 2*tokenBytes)
	}
	tests := []struct {
		name string
		opts []grpc.DialOption
		want codes.Code // of ListLabs; the stream and health follow suit
	}{
		{"no token", nil, codes.Unauthenticated},
		{"wrong token", []grpc.DialOption{client.WithToken(strings.Repeat("0", len(token)))}, codes.Unauthenticated},
		{"token without Bearer", []grpc.DialOption{grpc.WithUnaryInterceptor(rawAuth(token)), grpc.WithStreamInterceptor(rawAuthStream(token))}, codes.Unauthenticated},
		{"right token", []grpc.DialOption{client.WithToken(token)}, codes.OK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := client.New(addr, tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			ctx := ctxFor(t, 10*time.Second)
			_, err = c.Labs.ListLabs(ctx, &pb.ListLabsRequest{})
			if got := status.Code(err); got != tt.want {
				t.Errorf("ListLabs: %v, want %v", err, tt.want)
			}
			if tt.want == codes.Unauthenticated && !strings.Contains(status.Convert(err).Message(), tokenFile) {
				t.Errorf("refusal %q does not name the token file", status.Convert(err).Message())
			}
			_, err = healthpb.NewHealthClient(c.Conn().(*grpc.ClientConn)).Check(ctx, &healthpb.HealthCheckRequest{})
			if got := status.Code(err); got != tt.want {
				t.Errorf("health Check: %v, want %v", err, tt.want)
			}
			wantStream := tt.want
			if wantStream == codes.OK {
				wantStream = codes.NotFound // no such lab: admitted, then answered
			}
			stream, err := c.Labs.WatchLab(ctx, &pb.WatchLabRequest{Name: "nosuchlab"})
			if err == nil {
				_, err = stream.Recv()
			}
			if got := status.Code(err); got != wantStream {
				t.Errorf("WatchLab: %v, want %v", err, wantStream)
			}
		})
	}
}

// rawAuth sends the token as the whole authorization value, without
// "Bearer ".
func rawAuth(token string) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		return invoker(metadata.AppendToOutgoingContext(ctx, "authorization", token), method, req, reply, cc, opts...)
	}
}

// rawAuthStream is rawAuth for streams.
func rawAuthStream(token string) grpc.StreamClientInterceptor {
	return func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
		return streamer(metadata.AppendToOutgoingContext(ctx, "authorization", token), desc, cc, method, opts...)
	}
}

// TestLoadOrCreateToken: a generated token is kept and reused; a token
// file others can read, a symlink or a short token is refused.
func TestLoadOrCreateToken(t *testing.T) {
	dir := shortTempDir(t)
	gen := filepath.Join(dir, "gen.token")
	first, err := LoadOrCreateToken(gen)
	if err != nil {
		t.Fatal(err)
	}
	again, err := LoadOrCreateToken(gen)
	if err != nil || again != first {
		t.Fatalf("second load: %q, %v; want the same token", again, err)
	}
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	link := filepath.Join(dir, "link.token")
	if err := os.Symlink(gen, link); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, want string
	}{
		{"group readable", write("open.token", first, 0o640), "mode 0640"},
		{"world readable", write("world.token", first, 0o644), "mode 0644"},
		{"symlink", link, "not a regular file"},
		{"too short", write("short.token", "abc", 0o600), "at least 16"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := LoadOrCreateToken(tt.path)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("token %q, err %v; want an error with %q", tok, err, tt.want)
			}
		})
	}
}

// TestUnixPolicy checks who may call on the Unix socket.
func TestUnixPolicy(t *testing.T) {
	groups := func(pid int) ([]int, error) {
		if pid == 42 {
			return []int{10, 2000}, nil
		}
		return nil, errors.New("no such process")
	}
	tests := []struct {
		name  string
		pol   unixPolicy
		cred  unix.Ucred
		allow bool
	}{
		{"root", unixPolicy{UID: 1000, GID: -1}, unix.Ucred{Uid: 0, Gid: 0}, true},
		{"server's user", unixPolicy{UID: 1000, GID: -1}, unix.Ucred{Uid: 1000, Gid: 1000}, true},
		{"other user, no group", unixPolicy{UID: 0, GID: -1}, unix.Ucred{Uid: 65534, Gid: 65534, Pid: 42}, false},
		{"other user, primary group", unixPolicy{UID: 0, GID: 2000}, unix.Ucred{Uid: 1001, Gid: 2000}, true},
		{"other user, supplementary group", unixPolicy{UID: 0, GID: 2000}, unix.Ucred{Uid: 1001, Gid: 1001, Pid: 42}, true},
		{"other user, other groups", unixPolicy{UID: 0, GID: 3000}, unix.Ucred{Uid: 1001, Gid: 1001, Pid: 42}, false},
		{"other user, groups unknown", unixPolicy{UID: 0, GID: 2000}, unix.Ucred{Uid: 1001, Gid: 1001, Pid: 7}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.pol.Path, tt.pol.groupsOf = "/run/peerlab/serve.sock", groups
			err := tt.pol.allow(tt.cred)
			if (err == nil) != tt.allow {
				t.Fatalf("allow: %v, want allowed=%v", err, tt.allow)
			}
			if err != nil && status.Code(err) != codes.PermissionDenied {
				t.Errorf("refusal %v, want PermissionDenied", err)
			}
		})
	}
}

// TestPeerCredOfSocketpair reads SO_PEERCRED through peerCredOf on a real
// socket pair: the peer is this process.
func TestPeerCredOfSocketpair(t *testing.T) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(fds[0]), "pair0")
	defer f.Close()
	defer unix.Close(fds[1])
	conn, err := net.FileConn(f)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	cred, err := peerCredOf(conn)
	if err != nil {
		t.Fatal(err)
	}
	if int(cred.Uid) != os.Geteuid() || int(cred.Pid) != os.Getpid() {
		t.Errorf("peer cred uid %d pid %d, want %d %d", cred.Uid, cred.Pid, os.Geteuid(), os.Getpid())
	}
}

// TestUnixSocketRefusesOtherUser serves on a Unix socket made reachable
// by anyone (so the kernel lets the connection through) and calls it with
// grpcurl running as nobody: the call is refused by the SO_PEERCRED check,
// while root is served. It also checks the socket's default mode, 0600.
func TestUnixSocketRefusesOtherUser(t *testing.T) {
	requireRoot(t)
	_, grpcurlBin := tools(t)
	dir := shortTempDir(t)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "grpcurl")
	data, err := os.ReadFile(grpcurlBin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	socket := filepath.Join(dir, "serve.sock")
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	listening := make(chan struct{})
	go func() {
		served <- Serve(ctx, ServeOptions{
			Listen:      ListenOptions{Unix: socket},
			Manager:     ManagerOptions{StateDir: filepath.Join(dir, "state"), HostCommand: func([]string) *exec.Cmd { return exec.Command("false") }},
			OnListening: func(net.Addr) { close(listening) },
		})
	}()
	defer func() { cancel(); <-served }()
	select {
	case <-listening:
	case err := <-served:
		t.Fatal(err)
	}
	fi, err := os.Stat(socket)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode %04o, want 0600", fi.Mode().Perm())
	}
	if err := os.Chmod(socket, 0o666); err != nil {
		t.Fatal(err)
	}
	run := func(cred *syscall.Credential) (string, error) {
		cctx, ccancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer ccancel()
		cmd := exec.CommandContext(cctx, bin, "-plaintext", "-unix", "-d", "{}", socket, "peerlab.v1.LabService/ListLabs")
		cmd.Dir = dir
		cmd.Env = []string{"HOME=" + dir, "PATH=/usr/bin:/bin"}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := run(&syscall.Credential{Uid: 65534, Gid: 65534})
	if err == nil || !strings.Contains(out, "PermissionDenied") || !strings.Contains(out, "uid 65534") {
		t.Errorf("grpcurl as nobody: err %v, output %s; want PermissionDenied naming uid 65534", err, out)
	}
	if out, err := run(nil); err != nil {
		t.Errorf("grpcurl as root: %v: %s", err, out)
	}
}

// panickyHealth panics in Check with a message that must not reach the
// caller.
type panickyHealth struct {
	healthpb.UnimplementedHealthServer
}

// Check panics.
func (panickyHealth) Check(context.Context, *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	panic("secret_token=hunter2")
}

// TestPanicAnswersInternalWithID: a panicking handler answers Internal
// "internal error (id …)" without the panic text, and the log holds the
// panic under that id.
func TestPanicAnswersInternalWithID(t *testing.T) {
	core, logs := observer.New(zap.ErrorLevel)
	s := grpc.NewServer(grpc.ChainUnaryInterceptor(recoverUnary(zap.New(core))))
	healthpb.RegisterHealthServer(s, panickyHealth{})
	ln, err := net.Listen("unix", filepath.Join(shortTempDir(t), "p.sock"))
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(ln)
	defer s.Stop()
	conn, err := grpc.NewClient("unix://"+ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, err = healthpb.NewHealthClient(conn).Check(ctxFor(t, 10*time.Second), &healthpb.HealthCheckRequest{})
	st := status.Convert(err)
	if st.Code() != codes.Internal || strings.Contains(st.Message(), "hunter2") || !strings.HasPrefix(st.Message(), "internal error (id ") {
		t.Fatalf("panic answered %v %q; want Internal \"internal error (id …)\" without the panic text", st.Code(), st.Message())
	}
	id := strings.TrimSuffix(strings.TrimPrefix(st.Message(), "internal error (id "), ")")
	entries := logs.FilterField(zap.String("panic_id", id)).All()
	if len(entries) != 1 || !strings.Contains(entries[0].ContextMap()["panic"].(string), "hunter2") {
		t.Errorf("log entries with panic_id %s: %v; want one holding the panic", id, entries)
	}
}
