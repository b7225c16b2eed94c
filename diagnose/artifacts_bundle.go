package diagnose

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
)

// Limits of reading a bundle, unless ArtifactOptions says otherwise.
const (
	// defaultMaxBundle bounds the bytes one tar bundle holds, uncompressed.
	defaultMaxBundle = 512 << 20
	// maxBundleFiles bounds the entries of one bundle.
	maxBundleFiles = 200000
)

// ErrTooLarge is returned when an input exceeds a reading limit
// (ArtifactOptions.MaxBundle, or more than maxBundleFiles entries).
var ErrTooLarge = errors.New("input too large")

// bundleEntry is one regular file of a bundle.
type bundleEntry struct {
	// name is its path inside the bundle (slash-separated, cleaned).
	name      string
	data      []byte
	truncated bool
}

// readResult is what readInput made of one input: a plain file's data or
// a bundle's regular files.
type readResult struct {
	data      []byte
	truncated bool
	bundle    bool
	entries   []bundleEntry
	// notes say what was skipped or cut.
	notes []string
}

// bundleName reports whether a file name says it is a tar bundle.
func bundleName(name string) bool {
	n := strings.ToLower(name)
	return strings.HasSuffix(n, ".tar") || strings.HasSuffix(n, ".tar.gz") || strings.HasSuffix(n, ".tgz")
}

func isGzip(head []byte) bool { return len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b }

func isTar(head []byte) bool { return len(head) >= 262 && string(head[257:262]) == "ustar" }

// readInput reads one input named name from r: a gzip stream is
// uncompressed; a tar archive (by its magic or its name) is read as a
// bundle when allowBundle, else refused; anything else is one file, read
// up to maxFile bytes.
func readInput(ctx context.Context, name string, r io.Reader, allowBundle bool, maxFile, maxBundle int64) (readResult, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(512)
	var src io.Reader
	lim := &limitReader{r: br, max: maxBundle}
	if isGzip(head) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return readResult{}, fmt.Errorf("%s: gzip: %w", name, err)
		}
		defer zr.Close()
		lim.r = zr
		zbr := bufio.NewReaderSize(lim, 64<<10)
		head, _ = zbr.Peek(512)
		src = zbr
	} else {
		lim.r = br
		src = lim
	}
	if isTar(head) || bundleName(name) {
		if !allowBundle {
			return readResult{notes: []string{name + ": a tar archive inside a folder or bundle is not opened: pass it by itself or extract it"}}, nil
		}
		res, err := readTar(ctx, name, src, maxFile)
		if lim.exceeded {
			return readResult{}, fmt.Errorf("%s: more than %s uncompressed: extract it and pass the folder: %w", name, sizeText(maxBundle), ErrTooLarge)
		}
		return res, err
	}
	data, truncated, err := readBounded(src, maxFile)
	if lim.exceeded {
		return readResult{}, fmt.Errorf("%s: more than %s uncompressed: %w", name, sizeText(maxBundle), ErrTooLarge)
	}
	if err != nil {
		return readResult{}, fmt.Errorf("read %s: %w", name, err)
	}
	return readResult{data: data, truncated: truncated}, nil
}

// readBounded reads r up to max bytes; truncated says there was more.
func readBounded(r io.Reader, max int64) (data []byte, truncated bool, err error) {
	data, err = io.ReadAll(io.LimitReader(r, max+1))
	if int64(len(data)) > max {
		return data[:max], true, err
	}
	return data, false, err
}

// readTar reads the regular files of the tar stream r (the bundle name)
// into memory, each up to maxFile bytes. Folders are implied; hidden
// folders (".git") and macOS metadata ("._x", "__MACOSX") are skipped; links,
// devices and FIFOs are skipped with a note; a name leaving the bundle
// ("../x", "/etc/x") is refused with a note. It checks ctx between entries.
func readTar(ctx context.Context, name string, r io.Reader, maxFile int64) (readResult, error) {
	res := readResult{bundle: true}
	tr := tar.NewReader(r)
	for n := 0; ; n++ {
		if err := ctx.Err(); err != nil {
			return readResult{}, err
		}
		if n >= maxBundleFiles {
			return readResult{}, fmt.Errorf("%s: more than %d entries: %w", name, maxBundleFiles, ErrTooLarge)
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return readResult{}, fmt.Errorf("%s: not a readable tar archive (after %d entries): %w", name, len(res.entries), err)
		}
		p := strings.TrimPrefix(hdr.Name, "./")
		if strings.HasPrefix(p, "/") || p == ".." || strings.HasPrefix(p, "../") || strings.Contains(p, "/../") {
			res.notes = append(res.notes, fmt.Sprintf("%s:%s: path leaves the bundle, skipped", name, hdr.Name))
			continue
		}
		p = path.Clean(p)
		if hiddenPath(p) {
			continue
		}
		switch hdr.Typeflag {
		case tar.TypeDir:
			continue
		case tar.TypeReg, tar.TypeRegA:
		default:
			res.notes = append(res.notes, fmt.Sprintf("%s:%s: not a regular file (%s), skipped", name, hdr.Name, tarTypeName(hdr.Typeflag)))
			continue
		}
		data, truncated, err := readBounded(tr, maxFile)
		if err != nil {
			return readResult{}, fmt.Errorf("%s:%s: %w", name, hdr.Name, err)
		}
		res.entries = append(res.entries, bundleEntry{name: p, data: data, truncated: truncated})
	}
	return res, nil
}

// hiddenPath reports whether a slash path lies in a hidden folder (".git/")
// or is macOS metadata ("__MACOSX/", "._name"), which a folder walk skips
// too (or never sees).
func hiddenPath(p string) bool {
	parts := strings.Split(p, "/")
	for _, dir := range parts[:len(parts)-1] {
		if strings.HasPrefix(dir, ".") || dir == "__MACOSX" {
			return true
		}
	}
	return strings.HasPrefix(parts[len(parts)-1], "._")
}

func tarTypeName(t byte) string {
	switch t {
	case tar.TypeSymlink:
		return "symbolic link"
	case tar.TypeLink:
		return "hard link"
	case tar.TypeChar, tar.TypeBlock:
		return "device"
	case tar.TypeFifo:
		return "FIFO"
	}
	return fmt.Sprintf("type %q", t)
}

// limitReader reads up to max bytes from r and then fails, remembering
// that it did.
type limitReader struct {
	r        io.Reader
	max, n   int64
	exceeded bool
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.exceeded {
		return 0, ErrTooLarge
	}
	k, err := l.r.Read(p)
	l.n += int64(k)
	if l.n > l.max {
		l.exceeded = true
		return 0, ErrTooLarge
	}
	return k, err
}
