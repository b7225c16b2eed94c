package netfault

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// Clean removes every peerlab nftables table (families inet, ip and ip6)
// from the namespace at nsPath, and with them every rule any fault of this
// package added there; tables of other owners are left alone. It is
// idempotent. netem's loss rule goes with the inet table; link-down and
// netem's delay qdisc are not touched: heal them, or delete the namespace.
func Clean(ctx context.Context, nsPath string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("clean %s: %w", nsPath, err)
	}
	conn, err := openNFT(nsPath)
	if err != nil {
		return fmt.Errorf("clean %s: %w", nsPath, err)
	}
	defer conn.CloseLasting()
	tables, err := conn.ListTables()
	if err != nil {
		return fmt.Errorf("clean %s: list tables: %w", nsPath, err)
	}
	var errs []error
	for _, t := range tables {
		if t.Name != TableName {
			continue
		}
		conn.DelTable(t)
		if err := conn.Flush(); err != nil && !errors.Is(err, unix.ENOENT) {
			errs = append(errs, fmt.Errorf("delete table %s %s: %w", familyName(t.Family), TableName, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("clean %s: %w", nsPath, err)
	}
	return nil
}
