package bird

import (
	"bufio"
	"context"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeBird serves canned raw replies on a Unix socket, one per command, the
// way BIRD's CLI does. A command missing from replies gets no answer.
func fakeBird(t *testing.T, greeting string, replies map[string]string) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "ctl")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				if _, err := conn.Write([]byte(greeting)); err != nil {
					return
				}
				r := bufio.NewReader(conn)
				for {
					cmd, err := r.ReadString('\n')
					if err != nil {
						return
					}
					reply, ok := replies[strings.TrimSuffix(cmd, "\n")]
					if !ok {
						continue
					}
					if _, err := conn.Write([]byte(reply)); err != nil {
						return
					}
				}
			}()
		}
	}()
	return sock
}

// stripGreeting drops the first line of a raw capture.
func stripGreeting(raw string) string {
	_, rest, _ := strings.Cut(raw, "\n")
	return rest
}

func TestClientAgainstCannedReplies(t *testing.T) {
	rawAll := readFixture(t, "bird1", "established", "show-protocols-all", "raw")
	rawList := readFixture(t, "bird2", "refused", "show-protocols", "raw")
	sock := fakeBird(t, "0001 BIRD 1.6.8 ready.\n", map[string]string{
		"show protocols all Mesh_127_100_1_2_port_17902": stripGreeting(rawAll),
		"show protocols":         stripGreeting(rawList),
		"show route count":       "+log line that is not part of the reply\n0014 3 of 3 routes for 3 networks\n",
		"show protocols bogus":   "9001 syntax error\n",
		"disable Mesh_x":         "0009-Mesh_x: disabled\n0000 \n",
		"enable nosuch":          "9002 nosuch is not a protocol\n",
		"configure":              "0002-Reading configuration from /etc/bird.conf\n8002 /etc/bird.conf:3:1 syntax error\n",
		`configure "/tmp/b.cfg"`: "0002-Reading configuration from /tmp/b.cfg\n0003 Reconfigured\n",
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Dial(ctx, sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Version() != "1.6.8" || c.Major() != Bird1 {
		t.Errorf("Version() = %q, Major() = %v", c.Version(), c.Major())
	}

	t.Run("Cmd keeps codes and continuation codes", func(t *testing.T) {
		lines, err := c.Cmd(ctx, "show protocols all Mesh_127_100_1_2_port_17902")
		if err != nil {
			t.Fatal(err)
		}
		if lines[0].Code != 2002 || lines[1].Code != 1002 || lines[2].Code != 1006 || lines[3].Code != 1006 {
			t.Errorf("first codes = %v", lines[:4])
		}
		if lines[3].Text != "  Preference:     100" {
			t.Errorf("continuation text = %q, want the line without its one-space marker", lines[3].Text)
		}
		if last := lines[len(lines)-1]; last.Code != 0 {
			t.Errorf("last line %v, want code 0", last)
		}
	})
	t.Run("ShowProtocolAll", func(t *testing.T) {
		d, err := c.ShowProtocolAll(ctx, "Mesh_127_100_1_2_port_17902")
		if err != nil {
			t.Fatal(err)
		}
		if d.BGPState != "Established" || d.NeighborAS != 64512 || d.SourceAddress != "127.100.1.1" {
			t.Errorf("detail = %+v", d)
		}
	})
	t.Run("ShowProtocols", func(t *testing.T) {
		ps, err := c.ShowProtocols(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(ps) != 5 || ps[len(ps)-1].InfoDetail != "Socket: Connection refused" {
			t.Errorf("protocols = %+v", ps)
		}
	})
	t.Run("ShowRouteCount skips async lines", func(t *testing.T) {
		n, err := c.ShowRouteCount(ctx)
		if err != nil || n != 3 {
			t.Errorf("ShowRouteCount = %d, %v; want 3", n, err)
		}
	})
	t.Run("syntax error is a typed error", func(t *testing.T) {
		_, err := c.Cmd(ctx, "show protocols bogus")
		var be *Error
		if !errors.As(err, &be) || be.Code != CodeParseError || be.Text != "syntax error" || !be.Syntax() || be.Runtime() {
			t.Fatalf("err = %#v", err)
		}
		if ErrorCode(err) != 9001 {
			t.Errorf("ErrorCode = %d", ErrorCode(err))
		}
	})
	t.Run("Disable ok", func(t *testing.T) {
		if err := c.Disable(ctx, "Mesh_x"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("Enable unknown protocol", func(t *testing.T) {
		if err := c.Enable(ctx, "nosuch"); ErrorCode(err) != CodeInvalidSymbol {
			t.Fatalf("err = %v, want code 9002", err)
		}
	})
	t.Run("Configure error", func(t *testing.T) {
		err := c.Configure(ctx)
		var be *Error
		if !errors.As(err, &be) || be.Code != CodeConfigFileError || !be.Runtime() {
			t.Fatalf("err = %v, want 8002", err)
		}
	})
	t.Run("ConfigureFile", func(t *testing.T) {
		if err := c.ConfigureFile(ctx, "/tmp/b.cfg"); err != nil {
			t.Fatal(err)
		}
		if err := c.ConfigureFile(ctx, `/tmp/"x`); err == nil {
			t.Error("path with a quote accepted")
		}
	})
	t.Run("invalid names and lines are refused locally", func(t *testing.T) {
		if err := c.Disable(ctx, "x; restart all"); err == nil {
			t.Error("name with spaces accepted")
		}
		if _, err := c.Cmd(ctx, "show status\nshutdown"); err == nil {
			t.Error("two-line command accepted")
		}
	})
	t.Run("still usable after errors", func(t *testing.T) {
		if _, err := c.ShowRouteCount(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

func TestClientContextCancelBreaksClient(t *testing.T) {
	sock := fakeBird(t, "0001 BIRD 2.0.12 ready.\n", map[string]string{})
	c, err := Dial(context.Background(), sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Major() != Bird2 {
		t.Errorf("Major() = %v", c.Major())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = c.Cmd(ctx, "show protocols")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
	if time.Since(start) > 3*time.Second {
		t.Errorf("Cmd took %v after its context expired", time.Since(start))
	}
	if _, err := c.Cmd(context.Background(), "show status"); !errors.Is(err, ErrClosed) {
		t.Errorf("after a broken exchange err = %v, want ErrClosed", err)
	}
}

func TestDialRejectsNonBird(t *testing.T) {
	tests := []struct{ name, greeting string }{
		{"not a code", "SSH-2.0-OpenSSH\n"},
		{"wrong code", "0000 hello\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sock := fakeBird(t, tc.greeting, nil)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			if c, err := Dial(ctx, sock); !errors.Is(err, ErrProtocol) {
				if c != nil {
					c.Close()
				}
				t.Fatalf("err = %v, want ErrProtocol", err)
			}
		})
	}
	if _, err := Dial(context.Background(), filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("dial of a missing socket succeeded")
	}
}

func TestReadReply(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []Line
		wantErr error
		code    int
	}{
		{"single final", "0003 Reconfigured\n", []Line{{3, "Reconfigured"}}, nil, 0},
		{"continuation inherits code", "1007-a\n b\n0000 \n", []Line{{1007, "a"}, {1007, "b"}, {0, ""}}, nil, 0},
		{"bare code", "0000\n", []Line{{0, ""}}, nil, 0},
		{"crlf", "0013 Daemon is up and running\r\n", []Line{{13, "Daemon is up and running"}}, nil, 0},
		{"async dropped", "+2024 log\n0000 \n", []Line{{0, ""}}, nil, 0},
		{"runtime error", "8003 No protocols match\n", []Line{{8003, "No protocols match"}}, nil, 8003},
		{"continuation first", " orphan\n", nil, ErrProtocol, 0},
		{"bad separator", "0001xBIRD\n", nil, ErrProtocol, 0},
		{"truncated", "1002-row\n", []Line{{1002, "row"}}, ErrProtocol, 0},
		{"not digits", "hello world\n", nil, ErrProtocol, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadReply(bufio.NewReader(strings.NewReader(tc.in)))
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if tc.code != 0 && ErrorCode(err) != tc.code {
				t.Fatalf("err = %v, want code %d", err, tc.code)
			}
			if tc.wantErr == nil && tc.code == 0 && err != nil {
				t.Fatalf("err = %v", err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("lines = %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("line %d = %v, want %v", i, got[i], tc.want[i])
				}
			}
		})
	}
}
