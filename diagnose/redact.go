package diagnose

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"

	"github.com/peerlab/peerlab/internal/lazy"
)

// secretRE finds the secrets a saved artifact may hold: BIRD's
// `password "…";`, YAML `password: …` and JSON `"password": "…"`.
var secretRE = lazy.Regexp(`(?i)(\bpassword\s+")([^"]*)(")|(\bpassword:\s*)("[^"]*"|'[^']*'|[^\s#,}]+)|("password"\s*:\s*")([^"]*)(")`)

// redactor replaces secrets by a keyed fingerprint: the same password
// gives the same "redacted-…" text within one redactor, so a later
// diagnosis of the saved files still sees that two nodes' MD5 passwords
// differ, but the password itself cannot be read or guessed from it.
type redactor struct{ key []byte }

// newRedactor returns a redactor with a fresh random key.
func newRedactor() redactor {
	key := make([]byte, 32)
	_, _ = rand.Read(key) // crypto/rand never fails on Linux
	return redactor{key: key}
}

// fingerprint is the stand-in for secret s.
func (r redactor) fingerprint(s string) string {
	m := hmac.New(sha256.New, r.key)
	m.Write([]byte(s))
	return "redacted-" + hex.EncodeToString(m.Sum(nil))[:12]
}

// redact returns data with every secret replaced by its fingerprint.
func (r redactor) redact(data []byte) []byte {
	return secretRE().ReplaceAllFunc(data, func(m []byte) []byte {
		g := secretRE().FindSubmatch(m)
		switch {
		case g[1] != nil:
			return joinBytes(g[1], []byte(r.fingerprint(string(g[2]))), g[3])
		case g[4] != nil:
			v := string(g[5])
			if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') {
				return joinBytes(g[4], []byte{v[0]}, []byte(r.fingerprint(v[1:len(v)-1])), []byte{v[0]})
			}
			return joinBytes(g[4], []byte(r.fingerprint(v)))
		default:
			return joinBytes(g[6], []byte(r.fingerprint(string(g[7]))), g[8])
		}
	})
}

func joinBytes(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
