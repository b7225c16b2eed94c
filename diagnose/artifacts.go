package diagnose

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
)

// ErrNoArtifacts is returned by LoadArtifacts when it is given no path.
var ErrNoArtifacts = errors.New("diagnose: no artifact paths given")

// Stdin is the artifact path that reads standard input (a paste).
const Stdin = "-"

// ArtifactOptions tunes LoadArtifacts.
type ArtifactOptions struct {
	// Registry recognises the files; nil means DefaultRegistry(). Files
	// are recognised concurrently, so its recognizers must be safe for
	// concurrent use (those of this package are).
	Registry *Registry
	// Skip, when set, leaves out files it returns true for (tests use it
	// for their expected.json). Files of a bundle are passed as
	// "BUNDLE:PATH-IN-BUNDLE".
	Skip func(path string) bool
	// Stdin is read for the path "-"; nil means os.Stdin.
	Stdin io.Reader
	// MaxFile bounds how much of one file is read (default 16 MiB); the
	// rest of a longer file is left out and noted in Cluster.Unknowns.
	MaxFile int64
	// MaxBundle bounds the uncompressed size of one tar bundle (default
	// 512 MiB); a larger bundle is an error wrapping ErrTooLarge.
	MaxBundle int64
	// Workers is how many files are recognised at once; 0 means one per
	// CPU.
	Workers int
}

func (o *ArtifactOptions) defaults() {
	if o.Registry == nil {
		o.Registry = DefaultRegistry()
	}
	if o.Stdin == nil {
		o.Stdin = os.Stdin
	}
	if o.MaxFile <= 0 {
		o.MaxFile = maxInput
	}
	if o.MaxBundle <= 0 {
		o.MaxBundle = defaultMaxBundle
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
}

// LoadArtifacts is LoadArtifactsContext without a deadline.
func LoadArtifacts(paths []string, opts ArtifactOptions) (*Cluster, error) {
	return LoadArtifactsContext(context.Background(), paths, opts)
}

// LoadArtifactsContext reads evidence people collected and recognises
// each file by its content. A path is a file, a folder, "-" for standard
// input (a paste, read as one input named "stdin") or a tar bundle
// (.tar, .tar.gz, .tgz, or any file or stdin starting with tar or gzip
// magic), read in-process.
//
// A file given by itself, or lying directly in the one folder given,
// belongs to an unnamed node; when several paths are given, files lying
// directly in a given folder belong to the node named after that folder
// (diagnose node1/ node2/). A file under a sub-folder belongs to the node
// named after that sub-folder (artifacts/worker3/ss.txt is worker3's). Files of
// a bundle follow the same rule, after the single top folder every path
// of the bundle may share ("bundle/", "diagnostics/"). The folder
// `calicoctl node diags` writes (hostname, ipv4_addr, ipv4_route,
// netstat, ... and logs/) is one node, named by its hostname file.
//
// Unreadable paths, paths that are neither regular files nor folders and
// bundles over ArtifactOptions.MaxBundle are errors naming the path;
// unrecognised, binary, skipped and cut files are listed in
// Cluster.Unknowns. It checks ctx between files and returns ctx.Err()
// when it is done.
func LoadArtifactsContext(ctx context.Context, paths []string, opts ArtifactOptions) (*Cluster, error) {
	if len(paths) == 0 {
		return nil, ErrNoArtifacts
	}
	opts.defaults()
	l := &loader{ctx: ctx, opts: opts, several: len(paths) > 1}
	for _, root := range paths {
		if err := l.collect(root); err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return nil, ctxErr
			}
			return nil, fmt.Errorf("diagnose: artifacts: %w", err)
		}
	}
	c, err := l.recognize()
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, ctxErr
		}
		return nil, fmt.Errorf("diagnose: artifacts: %w", err)
	}
	return c, nil
}

// DiagnoseArtifacts loads the artifacts and diagnoses them: what
// `peerlab diagnose FILE|DIR|-...` runs.
func DiagnoseArtifacts(ctx context.Context, paths []string, opts ArtifactOptions) (Report, error) {
	c, err := LoadArtifactsContext(ctx, paths, opts)
	if err != nil {
		return Report{}, err
	}
	return DiagnoseContext(ctx, c)
}

// artifactJob is one input to recognise.
type artifactJob struct {
	node, source string
	// path is read by the worker when data is nil; decoded says data is
	// already uncompressed text.
	path    string
	data    []byte
	decoded bool
	// notes are said about the input whatever its recognition.
	notes []string
}

// loader collects the inputs of LoadArtifactsContext.
type loader struct {
	ctx       context.Context
	opts      ArtifactOptions
	jobs      []artifactJob
	notes     []string
	stdinRead bool
	// several: more than one path was given, so each folder's own files
	// are its node's.
	several bool
}

// collect adds the inputs of one path.
func (l *loader) collect(root string) error {
	if root == Stdin {
		if l.stdinRead {
			return errors.New("stdin (-) given twice")
		}
		l.stdinRead = true
		res, err := readInput(l.ctx, "stdin", l.opts.Stdin, true, l.opts.MaxFile, l.opts.MaxBundle)
		if err != nil {
			return err
		}
		l.addRead("stdin", "", res)
		return nil
	}
	info, err := os.Stat(root)
	if err != nil {
		return err
	}
	switch {
	case info.IsDir():
		fallback := ""
		if l.several {
			fallback = filepath.Base(filepath.Clean(root))
		}
		return l.walk(root, fallback)
	case !info.Mode().IsRegular():
		return fmt.Errorf("%s: not a regular file or folder (%s)", root, info.Mode().Type())
	}
	if l.opts.Skip != nil && l.opts.Skip(root) {
		return nil
	}
	return l.readFile(root, "")
}

// readFile reads a file given by itself or a bundle found in a folder,
// now, for node fallback.
func (l *loader) readFile(path, fallback string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	res, err := readInput(l.ctx, path, f, true, l.opts.MaxFile, l.opts.MaxBundle)
	if err != nil {
		return err
	}
	l.addRead(path, fallback, res)
	return nil
}

// addRead adds what readInput made of input name.
func (l *loader) addRead(name, fallback string, res readResult) {
	l.notes = append(l.notes, res.notes...)
	if !res.bundle {
		j := artifactJob{node: fallback, source: name, data: res.data, decoded: true}
		if res.truncated {
			j.notes = append(j.notes, l.cutNote(name))
		}
		l.jobs = append(l.jobs, j)
		return
	}
	rels := make([]string, len(res.entries))
	byRel := make(map[string][]byte, len(res.entries))
	for i, e := range res.entries {
		rels[i] = e.name
	}
	rels = stripTopFolder(rels)
	for i, e := range res.entries {
		byRel[rels[i]] = e.data
	}
	nodes := assignNodes(rels, fallback, func(dir string) string {
		return cleanHostname(byRel[joinRel(dir, "hostname")])
	})
	if len(res.entries) == 0 {
		l.notes = append(l.notes, name+": bundle holds no regular file")
	}
	for i, e := range res.entries {
		src := name + ":" + e.name
		if l.opts.Skip != nil && l.opts.Skip(src) {
			continue
		}
		j := artifactJob{node: nodes[i], source: src, data: e.data}
		if e.truncated {
			j.notes = append(j.notes, l.cutNote(src))
		}
		l.jobs = append(l.jobs, j)
	}
}

func joinRel(dir, base string) string {
	if dir == "" {
		return base
	}
	return dir + "/" + base
}

func (l *loader) cutNote(source string) string {
	return fmt.Sprintf("%s: longer than %s: only its first %s were read", source, sizeText(l.opts.MaxFile), sizeText(l.opts.MaxFile))
}

// sizeText renders a byte count for people: "16 MiB" or "64 bytes".
func sizeText(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// walk adds the files under folder root; tar bundles found in it are read
// now, each file's node following assignNodes; files lying directly in
// root belong to node fallback.
func (l *loader) walk(root, fallback string) error {
	var rels, paths []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("walk %s: %w", path, err)
		}
		if cerr := l.ctx.Err(); cerr != nil {
			return cerr
		}
		if d.IsDir() {
			if path != root && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			what := "not a regular file"
			if d.Type()&fs.ModeSymlink != 0 {
				what = "a symbolic link, not followed"
			}
			l.notes = append(l.notes, path+": "+what+", skipped")
			return nil
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return fmt.Errorf("walk %s: %w", path, err)
		}
		rels = append(rels, filepath.ToSlash(rel))
		paths = append(paths, path)
		return nil
	})
	if err != nil {
		return err
	}
	nodes := assignNodes(rels, fallback, func(dir string) string {
		f, err := os.Open(filepath.Join(root, filepath.FromSlash(dir), "hostname"))
		if err != nil {
			return ""
		}
		defer f.Close()
		data, _, _ := readBounded(f, 4096)
		return cleanHostname(data)
	})
	for i, p := range paths {
		if l.opts.Skip != nil && l.opts.Skip(p) {
			continue
		}
		if bundleName(p) {
			if err := l.readFile(p, nodes[i]); err != nil {
				return err
			}
			continue
		}
		l.jobs = append(l.jobs, artifactJob{node: nodes[i], source: p, path: p})
	}
	return nil
}

// jobResult is what a worker made of one job.
type jobResult struct {
	rec   Recognition
	notes []string
	err   error
}

// recognize reads and recognises the jobs, Workers at a time, and adds
// them to a new cluster in the order they were collected, so the report
// does not depend on scheduling.
func (l *loader) recognize() (*Cluster, error) {
	results := make([]jobResult, len(l.jobs))
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(l.opts.Workers, max(len(l.jobs), 1)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				results[i] = l.recognizeJob(&l.jobs[i])
			}
		}()
	}
	var err error
feed:
	for i := range l.jobs {
		select {
		case next <- i:
		case <-l.ctx.Done():
			err = l.ctx.Err()
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err != nil {
		return nil, err
	}
	c := &Cluster{Unknowns: append([]string{}, l.notes...)}
	for i, j := range l.jobs {
		if err := l.ctx.Err(); err != nil {
			return nil, err
		}
		r := results[i]
		if r.err != nil {
			return nil, r.err
		}
		c.Unknowns = append(c.Unknowns, j.notes...)
		c.Unknowns = append(c.Unknowns, r.notes...)
		if len(r.notes) == 0 {
			c.Add(j.node, j.source, r.rec)
		}
	}
	return c, nil
}

// recognizeJob reads one job's input, when it was not read yet, and
// recognises it.
func (l *loader) recognizeJob(j *artifactJob) jobResult {
	if err := l.ctx.Err(); err != nil {
		return jobResult{err: err}
	}
	data := j.data
	if !j.decoded {
		var (
			res readResult
			err error
		)
		if j.data == nil {
			res, err = l.readPath(j.path)
		} else if isGzip(data) || isTar(data) {
			res, err = readInput(l.ctx, j.source, bytes.NewReader(data), false, l.opts.MaxFile, l.opts.MaxBundle)
		} else {
			res = readResult{data: data}
		}
		if err != nil {
			return jobResult{err: err}
		}
		if res.notes != nil {
			return jobResult{notes: res.notes}
		}
		data = res.data
		if res.truncated {
			j.notes = append(j.notes, l.cutNote(j.source))
		}
	}
	if bytes.IndexByte(data, 0) >= 0 {
		return jobResult{notes: []string{j.source + ": binary file, not recognised (pcap files go to 'peerlab capture decode')"}}
	}
	return jobResult{rec: l.opts.Registry.Recognize(j.source, data)}
}

// readPath reads a file found in a folder.
func (l *loader) readPath(path string) (readResult, error) {
	f, err := os.Open(path)
	if err != nil {
		return readResult{}, err
	}
	defer f.Close()
	return readInput(l.ctx, path, f, false, l.opts.MaxFile, l.opts.MaxBundle)
}
