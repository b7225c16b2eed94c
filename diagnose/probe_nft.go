package diagnose

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/userdata"
	"github.com/vishvananda/netns"
)

// nftRule is one nftables rule that touches TCP port 179, translates
// source addresses (snat, masquerade) or lives in a peerlab table.
type nftRule struct {
	// Node is the node whose ruleset holds it.
	Node string
	// Text is "table FAMILY NAME chain CHAIN: MATCH VERDICT [comment]".
	Text string
	// Port179 is true when the rule compares a port with 179.
	Port179 bool
	// Drop, Reject and NAT say what the rule does; SNAT and Masq are the
	// source translations (SNATTo the address an snat sets, when the
	// rule loads it as a constant).
	Drop, Reject, NAT bool
	SNAT, Masq        bool
	SNATTo            netip.Addr
	// Match is what the rule matches.
	Match nftMatch
	// Peerlab is true for rules of peerlab's own tables (lab faults).
	Peerlab bool
}

// Affects reports whether the rule applies to a packet of the BGP session
// between a and b (either end connecting, either answering), as far as
// its understood conditions tell.
func (r nftRule) Affects(a, b netip.Addr) bool {
	for _, p := range sessionPackets(a, b, 179) {
		if r.Match.Matches(p) {
			return true
		}
	}
	return false
}

// Translates reports whether the rule source-NATs the connections node
// opens from src to the BGP port of peer to another address.
func (r nftRule) Translates(src, peer netip.Addr) bool {
	if !r.SNAT && !r.Masq {
		return false
	}
	if r.SNATTo.IsValid() && r.SNATTo == src {
		return false // translated to the address it already has
	}
	return r.Match.Matches(bgpPacket{Src: src, Dst: peer, Sport: 40000, Dport: 179})
}

// listNftRules lists, over netlink inside the namespace at nsPath ("" for
// the current one), the rules that compare a port with 179, the source
// NAT rules (snat, masquerade) and every rule of tables named "peerlab".
func listNftRules(nsPath string) ([]nftRule, error) {
	var opts []nftables.ConnOption
	if nsPath != "" {
		h, err := netns.GetFromPath(nsPath)
		if err != nil {
			return nil, fmt.Errorf("nftables: open namespace %s: %w", nsPath, err)
		}
		defer h.Close()
		opts = append(opts, nftables.WithNetNSFd(int(h)))
	}
	conn, err := nftables.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("nftables: %w", err)
	}
	defer conn.CloseLasting()
	chains, err := conn.ListChains()
	if err != nil {
		return nil, fmt.Errorf("nftables: list chains: %w", err)
	}
	var out []nftRule
	for _, ch := range chains {
		rules, err := conn.GetRules(ch.Table, ch)
		if err != nil {
			return nil, fmt.Errorf("nftables: rules of chain %s: %w", ch.Name, err)
		}
		for _, r := range rules {
			nr := describeNftRule(ch, r)
			if nr.Port179 || nr.Peerlab || nr.SNAT || nr.Masq {
				out = append(out, nr)
			}
		}
	}
	return out, nil
}

// port179 is 179 as a port appears in a cmp expression (network order).
var port179 = []byte{0, 179}

// describeNftRule classifies one rule.
func describeNftRule(ch *nftables.Chain, r *nftables.Rule) nftRule {
	nr := nftRule{Peerlab: ch.Table != nil && ch.Table.Name == "peerlab", Match: parseNftMatch(r.Exprs)}
	var what []string
	var imm []byte
	for _, e := range r.Exprs {
		switch x := e.(type) {
		case *expr.Cmp:
			if bytes.Equal(x.Data, port179) {
				nr.Port179 = true
			}
		case *expr.Immediate:
			imm = x.Data
		case *expr.Verdict:
			switch x.Kind {
			case expr.VerdictDrop:
				nr.Drop = true
				what = append(what, "drop")
			case expr.VerdictAccept:
				what = append(what, "accept")
			}
		case *expr.Reject:
			nr.Reject = true
			what = append(what, rejectText(x))
		case *expr.NAT:
			nr.NAT = true
			if x.Type == expr.NATTypeSourceNAT {
				nr.SNAT = true
				if a, ok := netip.AddrFromSlice(imm); ok && x.RegAddrMin != 0 {
					nr.SNATTo = a.Unmap()
					what = append(what, "snat to "+nr.SNATTo.String())
				} else {
					what = append(what, "snat")
				}
			} else {
				what = append(what, "dnat")
			}
		case *expr.Masq:
			nr.NAT, nr.Masq = true, true
			what = append(what, "masquerade")
		}
	}
	fam := map[nftables.TableFamily]string{
		nftables.TableFamilyINet: "inet", nftables.TableFamilyIPv4: "ip", nftables.TableFamilyIPv6: "ip6",
		nftables.TableFamilyBridge: "bridge", nftables.TableFamilyARP: "arp", nftables.TableFamilyNetdev: "netdev",
	}[ch.Table.Family]
	text := fmt.Sprintf("table %s %s chain %s:", fam, ch.Table.Name, ch.Name)
	if m := nr.Match.String(); m != "" {
		text += " " + m
	} else if nr.Port179 {
		text += " tcp port 179"
	}
	if len(what) > 0 {
		text += " " + strings.Join(what, " ")
	}
	if c, ok := userdata.GetString(r.UserData, userdata.TypeComment); ok {
		text += fmt.Sprintf(" comment %q", c)
	}
	nr.Text = text
	return nr
}

// rejectText names a reject expression as nft prints it.
func rejectText(r *expr.Reject) string {
	switch {
	case r.Type == 1: // NFT_REJECT_TCP_RST
		return "reject with tcp reset"
	case r.Type == 2 && r.Code == 3: // NFT_REJECT_ICMPX_ADMIN_PROHIBITED
		return "reject with icmpx admin-prohibited"
	}
	return fmt.Sprintf("reject (type %d code %d)", r.Type, r.Code)
}
