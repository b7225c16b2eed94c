package netfault

import (
	"encoding/binary"
	"math"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// Loss is done by nftables, not by the netem qdisc, so that it works on
// kernels built without CONFIG_NET_SCH_NETEM (CONFIG_NFT_NUMGEN is enough)
// and has one implementation everywhere.

// lossChainName is the base chain netem's loss rule lives in, in the inet
// peerlab table.
var lossChainName = chainName(NameNetem, "output")

// lossKey returns the key of netem's loss chain.
func lossKey() chainKey { return chainKey{nftables.TableFamilyINet, lossChainName} }

// lossThreshold returns the modulus and threshold of the random draw that
// drops percent of the packets: a draw in [0, mod) below the threshold
// drops. Whole percentages use mod 100, so `nft list ruleset` reads
// "numgen random mod 100 < 25"; others use mod 10000, a resolution of
// 0.01%. percent must be in (0, 100].
func lossThreshold(percent float64) (mod, below uint32) {
	if percent == math.Trunc(percent) {
		return 100, uint32(percent)
	}
	return 10000, uint32(math.Round(percent * 100))
}

// lossChain returns the chain that drops percent of the IPv4 and IPv6
// packets the node sends on ifname:
//
//	oifname "eth0" numgen random mod 100 < 25 counter drop
//
// on the inet output hook. It sees packets the node itself sends, not
// forwarded ones, and not ARP (which has no inet hook); IPv6 neighbour
// discovery is IP and is dropped like the rest.
func lossChain(ifname string, percent float64) chainSpec {
	mod, below := lossThreshold(percent)
	rule := []expr.Any{
		&expr.Meta{Key: expr.MetaKeyOIFNAME, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: ifnameData(ifname)},
		&expr.Numgen{Register: 1, Type: unix.NFT_NG_RANDOM, Modulus: mod},
		// numgen writes the register in host byte order and cmp
		// compares bytes, so convert to network order first, as
		// nft(8) does for "<".
		&expr.Byteorder{SourceRegister: 1, DestRegister: 1, Op: expr.ByteorderHton, Len: 4, Size: 4},
		&expr.Cmp{Op: expr.CmpOpLt, Register: 1, Data: binary.BigEndian.AppendUint32(nil, below)},
		&expr.Counter{},
		&expr.Verdict{Kind: expr.VerdictDrop},
	}
	return chainSpec{
		family: nftables.TableFamilyINet, name: lossChainName,
		typ: nftables.ChainTypeFilter, hook: nftables.ChainHookOutput, prio: nftables.ChainPriorityFilter,
		rules: [][]expr.Any{rule},
	}
}

// ifnameData returns name as meta iifname/oifname hold it: NUL-padded to
// IFNAMSIZ.
func ifnameData(name string) []byte {
	b := make([]byte, unix.IFNAMSIZ)
	copy(b, name)
	return b
}
