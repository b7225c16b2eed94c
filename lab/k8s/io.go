package k8s

import (
	"bytes"
	"io"
	"net/http"
)

// maxBody bounds what the client reads of one response.
const maxBody = 1 << 20

// readLimited reads at most maxBody bytes of resp's body.
func readLimited(resp *http.Response) ([]byte, error) {
	return io.ReadAll(io.LimitReader(resp.Body, maxBody))
}

// bytesReader wraps b for decoders that take an io.Reader.
func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }
