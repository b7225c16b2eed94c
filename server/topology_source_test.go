package server

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/peerlab/peerlab/client"
	pb "github.com/peerlab/peerlab/proto/peerlab/v1"
)

// TestCreateLabPathConfined calls CreateLab over TCP with the token (a
// caller other than the server's own user on the Unix socket): a path
// outside --topology-dir is refused without being opened (a FIFO there
// would block the call) and without a byte of the file in the answer;
// escapes by "..", by symlink and by an mrt: path are refused too; a file
// inside the folder is read (its error quotes it: it was read).
func TestCreateLabPathConfined(t *testing.T) {
	outside := shortTempDir(t)
	allowed := shortTempDir(t)
	secret := filepath.Join(outside, "secret.yaml")
	if err := os.WriteFile(secret, []byte("secret_token: hunter2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(outside, "fifo.yaml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(secret, filepath.Join(allowed, "link.yaml")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(allowed, "bad.yaml"), []byte("name: inside\nunknown_inside_key: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	addr, tokenFile := serveTCP(t, ManagerOptions{TopologyDirs: []string{allowed}})
	token, err := client.ReadToken(tokenFile)
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(addr, client.WithToken(token))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	mrtTopology := fmt.Sprintf(`name: mrtlab
nodes:
  n1: {asn: 64512, address: 10.0.0.1, routes: [{mrt: %s}]}
  n2: {asn: 64512, address: 10.0.0.2}
peerings:
  - between: [n1, n2]
`, secret)
	tests := []struct {
		name     string
		req      *pb.CreateLabRequest
		code     codes.Code
		mention  string
		mustNot  string
		notQuote bool
	}{
		{"file outside", &pb.CreateLabRequest{Source: &pb.CreateLabRequest_Path{Path: secret}}, codes.PermissionDenied, "--topology-dir", "hunter2", true},
		{"FIFO outside (never opened)", &pb.CreateLabRequest{Source: &pb.CreateLabRequest_Path{Path: fifo}}, codes.PermissionDenied, "--topology-dir", "", true},
		{"dot-dot escape", &pb.CreateLabRequest{Source: &pb.CreateLabRequest_Path{Path: filepath.Join(allowed, "..", filepath.Base(outside), "secret.yaml")}}, codes.PermissionDenied, "--topology-dir", "hunter2", true},
		{"relative escape", &pb.CreateLabRequest{Source: &pb.CreateLabRequest_Path{Path: "../" + filepath.Base(outside) + "/secret.yaml"}}, codes.PermissionDenied, "--topology-dir", "hunter2", true},
		{"symlink out of the folder", &pb.CreateLabRequest{Source: &pb.CreateLabRequest_Path{Path: filepath.Join(allowed, "link.yaml")}}, codes.InvalidArgument, "escapes", "hunter2", true},
		{"mrt: outside", &pb.CreateLabRequest{Source: &pb.CreateLabRequest_Yaml{Yaml: mrtTopology}}, codes.PermissionDenied, "routes[0].mrt", "hunter2", true},
		{"file inside is read", &pb.CreateLabRequest{Source: &pb.CreateLabRequest_Path{Path: filepath.Join(allowed, "bad.yaml")}}, codes.InvalidArgument, "unknown_inside_key", "", false},
		{"relative file inside is read", &pb.CreateLabRequest{Source: &pb.CreateLabRequest_Path{Path: "bad.yaml"}}, codes.InvalidArgument, "unknown_inside_key", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Labs.CreateLab(ctxFor(t, 10*time.Second), tt.req)
			st := status.Convert(err)
			if st.Code() != tt.code || !strings.Contains(st.Message(), tt.mention) {
				t.Fatalf("CreateLab: %v %q; want %v mentioning %q", st.Code(), st.Message(), tt.code, tt.mention)
			}
			if tt.mustNot != "" && strings.Contains(st.Message(), tt.mustNot) {
				t.Errorf("answer quotes the file: %q", st.Message())
			}
			if tt.notQuote && strings.Contains(st.Message(), "secret_token") {
				t.Errorf("answer quotes the file's key: %q", st.Message())
			}
		})
	}
}
