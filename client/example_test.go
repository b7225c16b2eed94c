package client_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/peerlab/peerlab/client"
	pb "github.com/peerlab/peerlab/proto/peerlab/v1"
	"github.com/peerlab/peerlab/server"
)

// Example connects to a peerlab server on its Unix socket, lists its labs
// and asks for a diagnosis of one artifact file. (The server is started in
// this process here; normally it is `peerlab serve`.)
func Example() {
	dir, _ := os.MkdirTemp("", "peerlab-example-")
	defer os.RemoveAll(dir)
	socket := filepath.Join(dir, "serve.sock")
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	served := make(chan error, 1)
	listening := make(chan struct{})
	go func() {
		served <- server.Serve(ctx, server.ServeOptions{
			Listen:      server.ListenOptions{Unix: socket},
			Manager:     server.ManagerOptions{StateDir: dir},
			OnListening: func(_ net.Addr) { close(listening) },
		})
	}()
	<-listening

	c, err := client.NewUnix(socket)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	labs, err := c.Labs.ListLabs(cctx, &pb.ListLabsRequest{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("labs:", len(labs.GetLabs()))
	_, err = c.Labs.GetLab(cctx, &pb.GetLabRequest{Name: "nope"})
	fmt.Println(err)

	stop()
	if err := <-served; err != nil {
		fmt.Println(err)
	}
	// Output:
	// labs: 0
	// rpc error: code = NotFound desc = lab "nope": lab not found
}
