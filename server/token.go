package server

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
)

// tokenBytes is the size of a generated bearer token (hex-encoded in its file).
const tokenBytes = 32

// LoadOrCreateToken returns the bearer token kept in path, generating it
// (32 random bytes, hex, file mode 0600) when the file does not exist. An
// existing file must be a regular file owned by this user and readable by
// no one else, or it is refused: a token others can read or replace
// protects nothing.
func LoadOrCreateToken(path string) (string, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o600)
	if err == nil {
		buf := make([]byte, tokenBytes)
		if _, err := rand.Read(buf); err != nil {
			f.Close()
			os.Remove(path)
			return "", fmt.Errorf("generate token: %w", err)
		}
		tok := hex.EncodeToString(buf)
		if _, err := f.WriteString(tok + "\n"); err != nil {
			f.Close()
			os.Remove(path)
			return "", fmt.Errorf("write token %s: %w", path, err)
		}
		if err := f.Close(); err != nil {
			return "", fmt.Errorf("write token %s: %w", path, err)
		}
		return tok, nil
	}
	if !errors.Is(err, os.ErrExist) {
		return "", fmt.Errorf("create token %s: %w", path, err)
	}
	fi, err := os.Lstat(path)
	if err != nil {
		return "", fmt.Errorf("token %s: %w", path, err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	switch {
	case !fi.Mode().IsRegular():
		return "", fmt.Errorf("token %s: not a regular file", path)
	case !ok || int(st.Uid) != os.Geteuid():
		return "", fmt.Errorf("token %s: owned by uid %d, not by this user (%d)", path, st.Uid, os.Geteuid())
	case fi.Mode().Perm()&0o077 != 0:
		return "", fmt.Errorf("token %s: mode %04o lets others read or change it; chmod 600 it or remove it to generate a new one", path, fi.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read token %s: %w", path, err)
	}
	tok := strings.TrimSpace(string(data))
	if len(tok) < 16 || strings.ContainsAny(tok, " \t\r\n") {
		return "", fmt.Errorf("token %s: want one line of at least 16 characters", path)
	}
	return tok, nil
}
