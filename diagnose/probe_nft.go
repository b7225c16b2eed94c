package diagnose

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/userdata"
	"github.com/vishvananda/netns"
)

// nftRule is one nftables rule that touches TCP port 179 or lives in a
// peerlab table.
type nftRule struct {
	// Text is "table FAMILY NAME chain CHAIN: VERDICT [comment]".
	Text string
	// Port179 is true when the rule compares a port with 179.
	Port179 bool
	// Drop, Reject and NAT say what the rule does.
	Drop, Reject, NAT bool
	// Peerlab is true for rules of peerlab's own tables (lab faults).
	Peerlab bool
}

// listNftRules lists, over netlink inside the namespace at nsPath ("" for
// the current one), the rules that compare a port with 179 and every rule
// of tables named "peerlab".
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
			if nr.Port179 || nr.Peerlab {
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
	nr := nftRule{Peerlab: ch.Table != nil && ch.Table.Name == "peerlab"}
	var what []string
	for _, e := range r.Exprs {
		switch x := e.(type) {
		case *expr.Cmp:
			if bytes.Equal(x.Data, port179) {
				nr.Port179 = true
			}
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
			what = append(what, "nat")
		}
	}
	fam := map[nftables.TableFamily]string{
		nftables.TableFamilyINet: "inet", nftables.TableFamilyIPv4: "ip", nftables.TableFamilyIPv6: "ip6",
		nftables.TableFamilyBridge: "bridge", nftables.TableFamilyARP: "arp", nftables.TableFamilyNetdev: "netdev",
	}[ch.Table.Family]
	text := fmt.Sprintf("table %s %s chain %s:", fam, ch.Table.Name, ch.Name)
	if nr.Port179 {
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
