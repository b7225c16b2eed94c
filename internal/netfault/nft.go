package netfault

import (
	"errors"
	"fmt"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/userdata"
	"golang.org/x/sys/unix"
)

// TableName names the nftables tables (families inet, ip and ip6) that hold
// every rule this package adds.
const TableName = "peerlab"

// CommentPrefix starts the comment on every rule this package adds; the
// fault name follows.
const CommentPrefix = "peerlab:"

// chainSpec is one base chain a fault owns, with its rules.
type chainSpec struct {
	family nftables.TableFamily
	name   string
	typ    nftables.ChainType
	hook   *nftables.ChainHook
	prio   *nftables.ChainPriority
	rules  [][]expr.Any
}

// table returns the peerlab table of family.
func table(family nftables.TableFamily) *nftables.Table {
	return &nftables.Table{Name: TableName, Family: family}
}

// chainName returns the name of fault's chain on hook.
func chainName(fault, hook string) string { return fault + "-" + hook }

// ruleComment returns the user data tagging a rule with fault.
func ruleComment(fault string) []byte {
	return userdata.AppendString(nil, userdata.TypeComment, CommentPrefix+fault)
}

// chainKey identifies a chain across families.
type chainKey struct {
	family nftables.TableFamily
	name   string
}

// peerlabChains returns the chains of the peerlab tables of families.
func peerlabChains(conn *nftables.Conn, families ...nftables.TableFamily) (map[chainKey]*nftables.Chain, error) {
	out := map[chainKey]*nftables.Chain{}
	for _, fam := range families {
		chains, err := conn.ListChainsOfTableFamily(fam)
		if err != nil {
			return nil, fmt.Errorf("list chains: %w", err)
		}
		for _, c := range chains {
			if c.Table != nil && c.Table.Name == TableName {
				out[chainKey{fam, c.Name}] = c
			}
		}
	}
	return out, nil
}

// families returns the distinct families of specs.
func families(specs []chainSpec) []nftables.TableFamily {
	var fams []nftables.TableFamily
	seen := map[nftables.TableFamily]bool{}
	for _, s := range specs {
		if !seen[s.family] {
			seen[s.family] = true
			fams = append(fams, s.family)
		}
	}
	return fams
}

// installChains adds the peerlab tables and specs' chains and rules in one
// netlink batch: the kernel applies all of it or nothing. It fails with
// ErrAlreadyInjected if any of the chains exists.
func installChains(conn *nftables.Conn, fault string, specs []chainSpec) error {
	existing, err := peerlabChains(conn, families(specs)...)
	if err != nil {
		return err
	}
	for _, s := range specs {
		if _, ok := existing[chainKey{s.family, s.name}]; ok {
			return fmt.Errorf("%w: chain %s exists in table %s %s", ErrAlreadyInjected, s.name, familyName(s.family), TableName)
		}
	}
	for _, fam := range families(specs) {
		conn.AddTable(table(fam))
	}
	comment := ruleComment(fault)
	for _, s := range specs {
		policy := nftables.ChainPolicyAccept
		c := conn.AddChain(&nftables.Chain{
			Name: s.name, Table: table(s.family), Type: s.typ,
			Hooknum: s.hook, Priority: s.prio, Policy: &policy,
		})
		for _, exprs := range s.rules {
			conn.AddRule(&nftables.Rule{Table: c.Table, Chain: c, Exprs: exprs, UserData: comment})
		}
	}
	if err := conn.Flush(); err != nil {
		return fmt.Errorf("install chains: %w", err)
	}
	return nil
}

// removeChains deletes those of the named chains that exist, in one batch,
// and then every peerlab table of those families left without chains. It
// reports whether it removed anything.
func removeChains(conn *nftables.Conn, keys []chainKey) (bool, error) {
	var fams []nftables.TableFamily
	seen := map[nftables.TableFamily]bool{}
	for _, k := range keys {
		if !seen[k.family] {
			seen[k.family] = true
			fams = append(fams, k.family)
		}
	}
	existing, err := peerlabChains(conn, fams...)
	if err != nil {
		return false, err
	}
	removed := false
	for _, k := range keys {
		c, ok := existing[k]
		if !ok {
			continue
		}
		conn.FlushChain(c)
		conn.DelChain(c)
		delete(existing, k)
		removed = true
	}
	if !removed {
		return false, nil
	}
	if err := conn.Flush(); err != nil {
		return false, fmt.Errorf("delete chains: %w", err)
	}
	return true, dropEmptyTables(conn, fams, existing)
}

// dropEmptyTables deletes the peerlab table of each of fams that has no
// chain left in left. A table that gained a chain meanwhile (EBUSY) or is
// already gone (ENOENT) is left alone.
func dropEmptyTables(conn *nftables.Conn, fams []nftables.TableFamily, left map[chainKey]*nftables.Chain) error {
	busy := map[nftables.TableFamily]bool{}
	for k := range left {
		busy[k.family] = true
	}
	for _, fam := range fams {
		if busy[fam] {
			continue
		}
		conn.DelTable(table(fam))
		err := conn.Flush()
		if err != nil && !errors.Is(err, unix.EBUSY) && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("delete empty table %s %s: %w", familyName(fam), TableName, err)
		}
	}
	return nil
}

// familyName returns the nft(8) keyword of family.
func familyName(f nftables.TableFamily) string {
	switch f {
	case nftables.TableFamilyINet:
		return "inet"
	case nftables.TableFamilyIPv4:
		return "ip"
	case nftables.TableFamilyIPv6:
		return "ip6"
	default:
		return fmt.Sprintf("family(%d)", f)
	}
}
