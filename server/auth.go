package server

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// Caller is who made a call, as the listener established it.
type Caller struct {
	// Unix is true for a call on the Unix socket; UID, GID and PID are
	// then the caller's credentials (SO_PEERCRED).
	Unix          bool
	UID, GID, PID int
	// Cert is true for a TCP call with a verified client certificate;
	// Token for a TCP call that presented the bearer token.
	Cert, Token bool
}

// callerKey keys the Caller in a call's context.
type callerKey struct{}

// CallerFrom returns the caller the auth interceptor admitted; ok is false
// for a call that did not pass through it (a lab host's own socket, an
// in-process test).
func CallerFrom(ctx context.Context) (Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(Caller)
	return c, ok
}

// isServerUser reports whether the caller is the user `peerlab serve` runs
// as (root when it runs as root), on the Unix socket: a caller who could
// read the server's files anyway.
func (c Caller) isServerUser() bool { return c.Unix && c.UID == os.Geteuid() }

// peerCredInfo is the AuthInfo of a Unix socket connection: the peer's
// credentials as the kernel recorded them at connect.
type peerCredInfo struct {
	credentials.CommonAuthInfo
	cred unix.Ucred
}

// AuthType names the mechanism.
func (peerCredInfo) AuthType() string { return "peercred" }

// peerCreds is the transport "security" of the Unix socket: no bytes on
// the wire, only the kernel's SO_PEERCRED of the connecting process.
type peerCreds struct{}

// ClientHandshake is not used: these credentials are for servers.
func (peerCreds) ClientHandshake(context.Context, string, net.Conn) (net.Conn, credentials.AuthInfo, error) {
	return nil, nil, errors.New("peercred credentials are server-side only")
}

// ServerHandshake reads the connecting process's credentials.
func (peerCreds) ServerHandshake(conn net.Conn) (net.Conn, credentials.AuthInfo, error) {
	cred, err := peerCredOf(conn)
	if err != nil {
		return nil, nil, err
	}
	return conn, peerCredInfo{CommonAuthInfo: credentials.CommonAuthInfo{SecurityLevel: credentials.PrivacyAndIntegrity}, cred: *cred}, nil
}

// Info describes the protocol.
func (peerCreds) Info() credentials.ProtocolInfo {
	return credentials.ProtocolInfo{SecurityProtocol: "peercred"}
}

// Clone returns a copy.
func (peerCreds) Clone() credentials.TransportCredentials { return peerCreds{} }

// OverrideServerName does nothing.
func (peerCreds) OverrideServerName(string) error { return nil }

// peerCredOf returns SO_PEERCRED of a Unix socket connection.
func peerCredOf(conn net.Conn) (*unix.Ucred, error) {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return nil, fmt.Errorf("peer credentials: %T is not a socket", conn)
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("peer credentials: %w", err)
	}
	var (
		cred *unix.Ucred
		gerr error
	)
	if err := raw.Control(func(fd uintptr) {
		cred, gerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return nil, fmt.Errorf("peer credentials: %w", err)
	}
	if gerr != nil {
		return nil, fmt.Errorf("peer credentials: %w", gerr)
	}
	return cred, nil
}

// unixPolicy says who may call on the Unix socket: root, the server's own
// user, and, when GID >= 0, members of that group (the socket's group).
type unixPolicy struct {
	UID int
	GID int
	// Path names the socket in refusals.
	Path string
	// groupsOf returns a process's supplementary groups; nil reads
	// /proc/PID/status.
	groupsOf func(pid int) ([]int, error)
}

// allow returns nil when the peer may call, else a PermissionDenied status.
func (p unixPolicy) allow(cred unix.Ucred) error {
	uid, gid := int(cred.Uid), int(cred.Gid)
	if uid == 0 || uid == p.UID || (p.GID >= 0 && gid == p.GID) {
		return nil
	}
	if p.GID >= 0 {
		groupsOf := p.groupsOf
		if groupsOf == nil {
			groupsOf = procGroups
		}
		if groups, err := groupsOf(int(cred.Pid)); err == nil {
			for _, g := range groups {
				if g == p.GID {
					return nil
				}
			}
		}
	}
	who := "root or the server's user"
	if p.GID >= 0 {
		who += fmt.Sprintf(" or group %d", p.GID)
	}
	return status.Errorf(codes.PermissionDenied, "%s: uid %d (gid %d) may not call peerlab serve: only %s", p.Path, uid, gid, who)
}

// procGroups reads the supplementary groups of a process.
func procGroups(pid int) ([]int, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		rest, ok := strings.CutPrefix(line, "Groups:")
		if !ok {
			continue
		}
		var out []int
		for _, f := range strings.Fields(rest) {
			if g, err := strconv.Atoi(f); err == nil {
				out = append(out, g)
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("/proc/%d/status: no Groups line", pid)
}

// authPolicy admits calls: on the Unix socket by the peer's credentials,
// on TCP by a verified client certificate or the bearer token.
type authPolicy struct {
	// Unix is set for a Unix socket listener.
	Unix *unixPolicy
	// Token, when set, is the bearer token TCP calls without a verified
	// client certificate must present; TokenFile names it in refusals.
	Token, TokenFile string
}

// authorize returns the caller of ctx's call, or the status that refuses it.
func (p authPolicy) authorize(ctx context.Context) (Caller, error) {
	pr, ok := peer.FromContext(ctx)
	if !ok {
		return Caller{}, status.Error(codes.Unauthenticated, "no peer information")
	}
	switch ai := pr.AuthInfo.(type) {
	case peerCredInfo:
		if p.Unix == nil {
			return Caller{}, status.Error(codes.Unauthenticated, "unexpected Unix socket credentials")
		}
		if err := p.Unix.allow(ai.cred); err != nil {
			return Caller{}, err
		}
		return Caller{Unix: true, UID: int(ai.cred.Uid), GID: int(ai.cred.Gid), PID: int(ai.cred.Pid)}, nil
	case credentials.TLSInfo:
		if len(ai.State.VerifiedChains) > 0 {
			return Caller{Cert: true, UID: -1, GID: -1}, nil
		}
	}
	if p.Unix != nil {
		return Caller{}, status.Error(codes.Unauthenticated, "Unix socket call without peer credentials")
	}
	if p.Token == "" {
		return Caller{}, status.Error(codes.Unauthenticated, "this server admits only clients with a certificate from its client CA")
	}
	for _, v := range metadata.ValueFromIncomingContext(ctx, "authorization") {
		got, ok := strings.CutPrefix(v, "Bearer ")
		if ok && subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(p.Token)) == 1 {
			return Caller{Token: true, UID: -1, GID: -1}, nil
		}
	}
	return Caller{}, status.Errorf(codes.Unauthenticated,
		"missing or wrong bearer token: send metadata \"authorization: Bearer <token>\" with the token from %s", p.TokenFile)
}

// unary is the policy as a unary interceptor.
func (p authPolicy) unary() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		c, err := p.authorize(ctx)
		if err != nil {
			return nil, err
		}
		return h(context.WithValue(ctx, callerKey{}, c), req)
	}
}

// stream is the policy as a stream interceptor.
func (p authPolicy) stream() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
		c, err := p.authorize(ss.Context())
		if err != nil {
			return err
		}
		return h(srv, &callerStream{ServerStream: ss, ctx: context.WithValue(ss.Context(), callerKey{}, c)})
	}
}

// callerStream is a server stream whose context carries the Caller.
type callerStream struct {
	grpc.ServerStream
	ctx context.Context
}

// Context returns the context with the Caller.
func (s *callerStream) Context() context.Context { return s.ctx }
