package control

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/rpc"
	"net/rpc/jsonrpc"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/peerlab/peerlab/lab"
	"github.com/peerlab/peerlab/lab/topology"
)

// serviceName is the RPC service name; methods are "Lab.Status" and so on.
const serviceName = "Lab"

// StatusArgs asks for a lab's status (no fields yet; kept for evolution).
type StatusArgs struct{}

// FaultArgs names a fault to inject or heal.
type FaultArgs struct {
	Name   string            `json:"name"`
	Node   string            `json:"node"`
	Peer   string            `json:"peer,omitempty"`
	Params map[string]string `json:"params,omitempty"`
}

// Empty is the reply of calls that return nothing.
type Empty struct{}

// service is the RPC receiver; its exported methods are the API.
type service struct {
	lab    *lab.Lab
	onDown func()
	log    *zap.Logger
}

// Status returns the lab's report: sessions, timeline and faults.
func (s *service) Status(_ StatusArgs, reply *lab.Report) error {
	*reply = s.lab.Report(context.Background(), nil)
	return nil
}

// Inject applies a fault now.
func (s *service) Inject(a FaultArgs, _ *Empty) error {
	return s.lab.InjectFault(context.Background(), a.fault())
}

// Heal undoes a fault.
func (s *service) Heal(a FaultArgs, _ *Empty) error {
	return s.lab.HealFault(context.Background(), a.fault())
}

// Down asks the owner to tear the lab down; it returns at once and the
// owner exits once the lab is down.
func (s *service) Down(_ Empty, _ *Empty) error {
	s.log.Info("tear-down requested over the control socket")
	s.onDown()
	return nil
}

func (a FaultArgs) fault() *topology.Fault {
	return &topology.Fault{Name: a.Name, Node: a.Node, Peer: a.Peer, Params: a.Params}
}

// closeGrace is how long Serve, once it stops accepting, lets open
// connections finish (the reply to Down among them) before it closes them.
const closeGrace = 2 * time.Second

// Serve answers control calls for l on ln until ctx ends or ln is closed.
// onDown is called (once) when a client asks for the lab to go down. When
// it returns, no connection is left open: a client that keeps one open
// (idle, or stuck) cannot hold the lab's tear-down up.
func Serve(ctx context.Context, ln net.Listener, l *lab.Lab, onDown func(), log *zap.Logger) error {
	var once sync.Once
	srv := rpc.NewServer()
	if err := srv.RegisterName(serviceName, &service{lab: l, onDown: func() { once.Do(onDown) }, log: log}); err != nil {
		return fmt.Errorf("register control service: %w", err)
	}
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns = map[net.Conn]bool{}
	)
	defer func() {
		finished := make(chan struct{})
		go func() {
			wg.Wait()
			close(finished)
		}()
		select {
		case <-finished:
			return
		case <-time.After(closeGrace):
		}
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		<-finished
	}()
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("accept control connection: %w", err)
		}
		mu.Lock()
		conns[conn] = true
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			srv.ServeCodec(jsonrpc.NewServerCodec(conn))
			mu.Lock()
			delete(conns, conn)
			mu.Unlock()
		}()
	}
}
