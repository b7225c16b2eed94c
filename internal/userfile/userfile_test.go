package userfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small")
	if err := os.WriteFile(small, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		path    string
		limit   int64
		want    string
		wantErr error
		inMsg   string
	}{
		{name: "regular", path: small, limit: 5, want: "hello"},
		{name: "over the limit", path: small, limit: 4, wantErr: ErrTooLarge, inMsg: "the limit is 4"},
		{name: "character device", path: "/dev/zero", limit: 1 << 20, wantErr: ErrNotRegular, inMsg: "character device"},
		{name: "folder", path: dir, limit: 1 << 20, wantErr: ErrNotRegular, inMsg: "folder"},
		{name: "missing", path: filepath.Join(dir, "nope"), limit: 10, wantErr: os.ErrNotExist},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadFile(tc.path, tc.limit)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				if !strings.Contains(err.Error(), tc.inMsg) || !strings.Contains(err.Error(), tc.path) {
					t.Fatalf("error %q should name %q and say %q", err, tc.path, tc.inMsg)
				}
				return
			}
			if err != nil || string(got) != tc.want {
				t.Fatalf("ReadFile = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
