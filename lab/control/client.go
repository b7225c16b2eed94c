package control

import (
	"context"
	"fmt"
	"net"
	"net/rpc"
	"net/rpc/jsonrpc"

	"github.com/peerlab/peerlab/lab"
)

// Client calls a lab owner's control socket.
type Client struct {
	rpc *rpc.Client
}

// Dial connects to the control socket at path.
func Dial(ctx context.Context, path string) (*Client, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, fmt.Errorf("connect to lab control socket %s: %w", path, err)
	}
	return &Client{rpc: jsonrpc.NewClient(conn)}, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.rpc.Close() }

// call runs one method, giving up when ctx ends.
func (c *Client) call(ctx context.Context, method string, args, reply any) error {
	call := c.rpc.Go(serviceName+"."+method, args, reply, make(chan *rpc.Call, 1))
	select {
	case <-ctx.Done():
		return fmt.Errorf("%s: %w", method, ctx.Err())
	case done := <-call.Done:
		if done.Error != nil {
			return fmt.Errorf("%s: %w", method, done.Error)
		}
		return nil
	}
}

// Status returns the lab's report.
func (c *Client) Status(ctx context.Context) (lab.Report, error) {
	var r lab.Report
	err := c.call(ctx, "Status", StatusArgs{}, &r)
	return r, err
}

// Inject applies a fault now.
func (c *Client) Inject(ctx context.Context, f FaultArgs) error {
	return c.call(ctx, "Inject", f, &Empty{})
}

// Heal undoes a fault.
func (c *Client) Heal(ctx context.Context, f FaultArgs) error {
	return c.call(ctx, "Heal", f, &Empty{})
}

// Down asks the owner to tear the lab down.
func (c *Client) Down(ctx context.Context) error {
	return c.call(ctx, "Down", Empty{}, &Empty{})
}
