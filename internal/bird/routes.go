package bird

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"strings"
)

// CodeNetworkNotFound is BIRD's reply to `show route PREFIX` for a network
// the table does not hold ("Network not in table" in BIRD 1.6, "Network
// not found" in BIRD 2).
const CodeNetworkNotFound = 8001

// ParseRouteNetworks parses `show route` output of BIRD 1.6 or 2.x (raw from
// the control socket, or as birdc prints it) and returns the networks it
// lists, in order, each once. BIRD 1.6 starts each network's first route
// line with the network; BIRD 2 prints a "Table master4:" heading and then
// the same lines indented. Further routes of a network, next-hop lines and
// attribute lines (show route all) start with blanks or a non-prefix word
// and are skipped.
func ParseRouteNetworks(r io.Reader) ([]netip.Prefix, error) {
	lines, err := textLines(r)
	if err != nil {
		return nil, err
	}
	var out []netip.Prefix
	seen := map[netip.Prefix]bool{}
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		p, err := netip.ParsePrefix(f[0])
		if err != nil || seen[p] {
			continue
		}
		seen[p] = true
		out = append(out, p)
	}
	return out, nil
}

// HasPrimaryRoute runs `show route PREFIX primary` and reports whether the
// table holds a best route for exactly prefix.
func (c *Client) HasPrimaryRoute(ctx context.Context, prefix netip.Prefix) (bool, error) {
	if !prefix.IsValid() {
		return false, fmt.Errorf("bird: show route: invalid prefix %v", prefix)
	}
	prefix = prefix.Masked()
	lines, err := c.Cmd(ctx, "show route "+prefix.String()+" primary")
	if ErrorCode(err) == CodeNetworkNotFound {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	nets, err := ParseRouteNetworks(strings.NewReader(Text(lines)))
	if err != nil {
		return false, fmt.Errorf("bird: show route %s: %w", prefix, err)
	}
	for _, n := range nets {
		if n == prefix {
			return true, nil
		}
	}
	return false, nil
}
