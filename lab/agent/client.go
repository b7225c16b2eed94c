package agent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/rpc"
	"net/rpc/jsonrpc"
	"strings"
	"time"

	"github.com/peerlab/peerlab/speaker"
)

// DefaultTimeout bounds a call whose context has no deadline (for Events:
// on top of its MaxWait).
const DefaultTimeout = 15 * time.Second

// Client is the lab's end of one agent connection. Its methods are safe for
// concurrent use and mirror the speaker's; each error names the socket and
// the method.
type Client struct {
	path string
	rc   *rpc.Client
}

// Dial connects to the agent serving the Unix socket at path.
func Dial(ctx context.Context, path string) (*Client, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, fmt.Errorf("agent %s: dial: %w", path, err)
	}
	return &Client{path: path, rc: rpc.NewClientWithCodec(jsonrpc.NewClientCodec(conn))}, nil
}

// Ping returns once the agent serves its socket, with an error when the
// agent speaks another protocol than this program (Protocol).
func (c *Client) Ping(ctx context.Context) error {
	return c.call(ctx, "Ping", Hello{Protocol: Protocol()}, &Empty{})
}

// Start creates and starts the agent's speaker.
func (c *Client) Start(ctx context.Context, cfg StartConfig) error {
	return c.call(ctx, "Start", cfg, &Empty{})
}

// Restart closes the agent's speaker and starts a new one from cfg, for
// settings fixed at start such as the router id. The new speaker has no
// peers and no routes; events keep flowing through the same log.
func (c *Client) Restart(ctx context.Context, cfg StartConfig) error {
	return c.call(ctx, "Restart", cfg, &Empty{})
}

// AddPeer configures a neighbor of the speaker.
func (c *Client) AddPeer(ctx context.Context, p speaker.PeerConfig) error {
	return c.call(ctx, "AddPeer", p, &Empty{})
}

// DeletePeer removes the neighbor at addr.
func (c *Client) DeletePeer(ctx context.Context, addr netip.Addr) error {
	return c.call(ctx, "DeletePeer", addr, &Empty{})
}

// ResetPeer hard-resets the session with the neighbor at addr.
func (c *Client) ResetPeer(ctx context.Context, addr netip.Addr) error {
	return c.call(ctx, "ResetPeer", addr, &Empty{})
}

// MaxRoutesPerCall is the most routes (or prefixes) one Announce or
// Withdraw RPC carries: larger tables are streamed in calls of this size,
// so a million-route table never becomes one giant message. GoBGP packs
// each call's routes into full UPDATEs, and routes sent before the session
// is up go out packed as one table whatever the call size.
const MaxRoutesPerCall = 50000

// Announce originates routes from the speaker, in calls of at most
// MaxRoutesPerCall routes.
func (c *Client) Announce(ctx context.Context, routes []speaker.Route) error {
	return inBatches(routes, func(b []speaker.Route) error { return c.call(ctx, "Announce", b, &Empty{}) })
}

// Withdraw withdraws the speaker's routes for prefixes, in calls of at
// most MaxRoutesPerCall prefixes.
func (c *Client) Withdraw(ctx context.Context, prefixes []netip.Prefix) error {
	return inBatches(prefixes, func(b []netip.Prefix) error { return c.call(ctx, "Withdraw", b, &Empty{}) })
}

// inBatches calls fn on consecutive slices of items of at most
// MaxRoutesPerCall each (once with an empty slice when items is empty).
func inBatches[T any](items []T, fn func([]T) error) error {
	if len(items) == 0 {
		return fn(items)
	}
	for start := 0; start < len(items); start += MaxRoutesPerCall {
		end := min(start+MaxRoutesPerCall, len(items))
		if err := fn(items[start:end]); err != nil {
			return fmt.Errorf("items %d-%d of %d: %w", start, end-1, len(items), err)
		}
	}
	return nil
}

// Peers reports every neighbor's session.
func (c *Client) Peers(ctx context.Context) ([]speaker.PeerStatus, error) {
	var out []speaker.PeerStatus
	err := c.call(ctx, "Peers", Empty{}, &out)
	return out, err
}

// RIB reads one of the speaker's RIB tables (see speaker.Speaker.RIB).
func (c *Client) RIB(ctx context.Context, t speaker.Table, peer netip.Addr, f speaker.Family) ([]speaker.Path, error) {
	var out []speaker.Path
	err := c.call(ctx, "RIB", RIBQuery{Table: t, Peer: peer, Family: f}, &out)
	return out, err
}

// Events returns the agent's events from seq since on (0 for the first
// one buffered), waiting up to maxWait for one when there are none yet,
// and the since of the next call. missed counts events that fell out of
// the agent's buffer before they could be read.
func (c *Client) Events(ctx context.Context, since uint64, maxWait time.Duration) (events []Event, next, missed uint64, err error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, maxWait+DefaultTimeout)
		defer cancel()
	}
	var b EventBatch
	if err := c.call(ctx, "Events", EventsQuery{Since: since, MaxWait: maxWait}, &b); err != nil {
		return nil, since, 0, err
	}
	return b.Events, b.Next, b.Missed, nil
}

// Close asks the agent to close its speaker and exit, then closes the
// connection. The agent answers before it exits.
func (c *Client) Close(ctx context.Context) error {
	err := c.call(ctx, "Close", Empty{}, &Empty{})
	_ = c.rc.Close()
	return err
}

// Disconnect closes the connection and leaves the agent running.
func (c *Client) Disconnect() error {
	if err := c.rc.Close(); err != nil && !errors.Is(err, rpc.ErrShutdown) {
		return fmt.Errorf("agent %s: disconnect: %w", c.path, err)
	}
	return nil
}

// call runs one method, bounded by ctx or else by DefaultTimeout.
func (c *Client) call(ctx context.Context, method string, args, reply any) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultTimeout)
		defer cancel()
	}
	call := c.rc.Go(ServiceName+"."+method, args, reply, make(chan *rpc.Call, 1))
	var err error
	select {
	case <-call.Done:
		err = call.Error
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		return fmt.Errorf("agent %s: %s: %w", c.path, method, remoteError(err))
	}
	return nil
}

// RemoteError is an error the agent returned. It unwraps to the speaker's
// sentinel error (speaker.ErrPeerNotFound, ErrNotStarted, ErrClosed) that
// its message carries, so errors.Is works across the socket.
type RemoteError struct {
	Message  string
	sentinel error
}

// Error returns the agent's message.
func (e *RemoteError) Error() string { return e.Message }

// Unwrap returns the speaker sentinel named in the message, or nil.
func (e *RemoteError) Unwrap() error { return e.sentinel }

// remoteError turns an rpc.ServerError into a RemoteError; other errors
// (transport, context) are returned as they are.
func remoteError(err error) error {
	var se rpc.ServerError
	if !errors.As(err, &se) {
		return err
	}
	re := &RemoteError{Message: string(se)}
	for _, s := range []error{speaker.ErrPeerNotFound, speaker.ErrNotStarted, speaker.ErrClosed} {
		if strings.Contains(re.Message, s.Error()) {
			re.sentinel = s
			break
		}
	}
	return re
}
