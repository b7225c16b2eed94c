package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/peerlab/peerlab/lab/topology"
	pb "github.com/peerlab/peerlab/proto/peerlab/v1"
)

// maxTopologyBytes bounds a topology CreateLab accepts, as text or file.
const maxTopologyBytes = 16 << 20

// The policy for files a request names (CreateLab's path, a topology's
// mrt: dumps), documented in docs/grpc.md: the server's own user calling
// on the Unix socket (root, when serve runs as root) may name any file it
// could read anyway; every other caller only files inside the folders given
// with --topology-dir (none by default), reached without leaving them
// (os.Root: no "..", no symlink out). A refused path is never opened, and
// no refusal quotes a byte of a file.

// loadTopology reads and parses the topology of a CreateLab request.
func (m *Manager) loadTopology(ctx context.Context, req *pb.CreateLabRequest) (*topology.Topology, []byte, error) {
	caller, _ := CallerFrom(ctx)
	var (
		t    *topology.Topology
		data []byte
		err  error
	)
	switch src := req.GetSource().(type) {
	case *pb.CreateLabRequest_Yaml:
		if len(src.Yaml) > maxTopologyBytes {
			return nil, nil, status.Errorf(codes.InvalidArgument, "yaml: %d bytes, more than the %d a topology may have", len(src.Yaml), maxTopologyBytes)
		}
		data = []byte(src.Yaml)
		t, err = topology.Parse("yaml", data)
	case *pb.CreateLabRequest_Path:
		if data, err = m.readRequestFile(caller, src.Path); err != nil {
			return nil, nil, err
		}
		if t, err = topology.Parse(filepath.Base(src.Path), data); err == nil {
			t.Source = src.Path
		}
	default:
		return nil, nil, status.Error(codes.InvalidArgument, "source: yaml or path required")
	}
	if err != nil {
		return nil, nil, status.Errorf(codes.InvalidArgument, "topology: %v", err)
	}
	if err := m.checkDataFiles(caller, t); err != nil {
		return nil, nil, err
	}
	return t, data, nil
}

// readRequestFile reads a topology file a request names, if the caller may
// name it.
func (m *Manager) readRequestFile(caller Caller, path string) ([]byte, error) {
	if path == "" {
		return nil, status.Error(codes.InvalidArgument, "path: required")
	}
	if caller.isServerUser() {
		f, err := os.Open(path)
		if err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "path: %v", err)
		}
		defer f.Close()
		return readBounded(f, path)
	}
	root, _, rel, err := m.confine(path)
	if err != nil {
		return nil, status.Errorf(codes.PermissionDenied, "path: %v; send the topology's text in the yaml field instead", err)
	}
	defer root.Close()
	f, err := root.Open(rel)
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "path %s: %v", path, err)
	}
	defer f.Close()
	return readBounded(f, path)
}

// readBounded reads a regular file of at most maxTopologyBytes.
func readBounded(f *os.File, path string) ([]byte, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "path %s: %v", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, status.Errorf(codes.InvalidArgument, "path %s: not a regular file", path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxTopologyBytes+1))
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "path %s: %v", path, err)
	}
	if len(data) > maxTopologyBytes {
		return nil, status.Errorf(codes.InvalidArgument, "path %s: more than the %d bytes a topology may have", path, maxTopologyBytes)
	}
	return data, nil
}

// ErrOutsideTopologyDirs is why a caller may not name a file.
var ErrOutsideTopologyDirs = errors.New("outside the folders this server reads files from for callers other than its own user (--topology-dir)")

// confine finds the allowed folder holding path and returns it opened as a
// root, its absolute name, and path relative to it. A relative path is
// taken relative to the allowed folders, in order.
func (m *Manager) confine(path string) (*os.Root, string, string, error) {
	if len(m.opts.TopologyDirs) == 0 {
		return nil, "", "", fmt.Errorf("%s: %w: none given", path, ErrOutsideTopologyDirs)
	}
	for _, dir := range m.opts.TopologyDirs {
		dir, err := filepath.Abs(dir)
		if err != nil {
			continue
		}
		rel := filepath.Clean(path)
		if filepath.IsAbs(path) {
			if rel, err = filepath.Rel(dir, path); err != nil {
				continue
			}
		}
		if rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
			continue
		}
		root, err := os.OpenRoot(dir)
		if err != nil {
			continue
		}
		if _, err := root.Lstat(rel); err != nil {
			root.Close()
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			return nil, "", "", fmt.Errorf("%s: %w", path, ErrOutsideTopologyDirs)
		}
		return root, dir, rel, nil
	}
	return nil, "", "", fmt.Errorf("%s: %w (%s)", path, ErrOutsideTopologyDirs, strings.Join(m.opts.TopologyDirs, ", "))
}

// checkDataFiles applies the same policy to the files a topology names
// (mrt: dumps), which the lab host opens later. Such a path must be
// absolute and, symlinks resolved, inside an allowed folder.
func (m *Manager) checkDataFiles(caller Caller, t *topology.Topology) error {
	if caller.isServerUser() {
		return nil
	}
	for _, n := range t.Nodes {
		for i, rs := range n.Routes {
			if rs.MRT == "" {
				continue
			}
			field := fmt.Sprintf("nodes.%s.routes[%d].mrt", n.Name, i)
			if !filepath.IsAbs(rs.MRT) {
				return status.Errorf(codes.PermissionDenied, "%s: %s: give an absolute path inside a --topology-dir folder", field, rs.MRT)
			}
			root, dir, _, err := m.confine(rs.MRT)
			if err != nil {
				return status.Errorf(codes.PermissionDenied, "%s: %v", field, err)
			}
			// The host opens the path as written: it must not leave the
			// folder through a symlink either.
			real, err := filepath.EvalSymlinks(rs.MRT)
			root.Close()
			if err != nil || !inside(real, dir) {
				return status.Errorf(codes.PermissionDenied, "%s: %s: %v", field, rs.MRT, ErrOutsideTopologyDirs)
			}
		}
	}
	return nil
}

// inside reports whether path lies in dir (both absolute, symlinks resolved
// for dir here).
func inside(path, dir string) bool {
	if d, err := filepath.EvalSymlinks(dir); err == nil {
		dir = d
	}
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}
