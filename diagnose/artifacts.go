package diagnose

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ErrNoArtifacts is returned by LoadArtifacts when it is given no path.
var ErrNoArtifacts = errors.New("diagnose: no artifact paths given")

// ArtifactOptions tunes LoadArtifacts.
type ArtifactOptions struct {
	// Registry recognises the files; nil means DefaultRegistry().
	Registry *Registry
	// Skip, when set, leaves out files it returns true for (tests use it
	// for their expected.json).
	Skip func(path string) bool
}

// LoadArtifacts reads files and folders of collected evidence and
// recognises each file by its content. A file given by itself, or lying
// directly in a given folder, belongs to an unnamed node; a file under a
// sub-folder of a given folder belongs to the node named after that
// sub-folder (e.g. artifacts/worker3/ss.txt is worker3's). Unreadable
// paths are errors; unrecognised files are listed in Cluster.Unknowns.
func LoadArtifacts(paths []string, opts ArtifactOptions) (*Cluster, error) {
	if len(paths) == 0 {
		return nil, ErrNoArtifacts
	}
	reg := opts.Registry
	if reg == nil {
		reg = DefaultRegistry()
	}
	c := &Cluster{}
	for _, root := range paths {
		info, err := os.Stat(root)
		if err != nil {
			return nil, fmt.Errorf("diagnose: artifacts: %w", err)
		}
		if !info.IsDir() {
			if err := loadFile(c, reg, "", root, opts); err != nil {
				return nil, err
			}
			continue
		}
		err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return fmt.Errorf("walk %s: %w", path, err)
			}
			if d.IsDir() {
				if path != root && strings.HasPrefix(d.Name(), ".") {
					return filepath.SkipDir
				}
				return nil
			}
			if !d.Type().IsRegular() {
				return nil
			}
			rel, err := filepath.Rel(root, path)
			if err != nil {
				return fmt.Errorf("walk %s: %w", path, err)
			}
			node := ""
			if parts := strings.Split(filepath.ToSlash(rel), "/"); len(parts) > 1 {
				node = parts[0]
			}
			return loadFile(c, reg, node, path, opts)
		})
		if err != nil {
			return nil, fmt.Errorf("diagnose: artifacts: %w", err)
		}
	}
	return c, nil
}

// loadFile recognises one file for node.
func loadFile(c *Cluster, reg *Registry, node, path string, opts ArtifactOptions) error {
	if opts.Skip != nil && opts.Skip(path) {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("diagnose: artifacts: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxInput))
	if err != nil {
		return fmt.Errorf("diagnose: artifacts: read %s: %w", path, err)
	}
	if bytes.IndexByte(data, 0) >= 0 {
		c.Unknowns = append(c.Unknowns, path+": binary file, not recognised (pcap files go to 'peerlab capture decode')")
		return nil
	}
	c.Add(node, path, reg.Recognize(path, data))
	return nil
}
