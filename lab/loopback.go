package lab

import (
	"fmt"
	"hash/fnv"
	"net/netip"
	"path/filepath"
	"strconv"

	"github.com/peerlab/peerlab/lab/topology"
)

// nodesPerThirdOctet is how many node addresses one 127.A.B.0/24 gives: .1 to .250.
const nodesPerThirdOctet = 250

// addressPlan maps each node's lab address to the address it really binds.
type addressPlan struct {
	// block is A in 127.A.0.0/16, claimed by a lock file for the life of the lab.
	block uint8
	bind  map[string]netip.Addr // node name -> bind address
	lock  *fileLock
}

// bindAddress returns the address node binds.
func (p *addressPlan) bindAddress(node string) netip.Addr { return p.bind[node] }

// planLoopback claims a free 127.A.0.0/16 block (A derived from the lab name,
// then the next free one) and gives node i the address 127.A.(i/250).(i%250+1).
func planLoopback(stateDir string, topo *topology.Topology) (*addressPlan, error) {
	if len(topo.Nodes) > 256*nodesPerThirdOctet {
		return nil, fmt.Errorf("loopback mode holds at most %d nodes, topology has %d", 256*nodesPerThirdOctet, len(topo.Nodes))
	}
	h := fnv.New32a()
	h.Write([]byte(topo.Name))
	start := int(h.Sum32()%253) + 1 // 1..253; 127.0.x.x is left to the host
	for i := 0; i < 253; i++ {
		block := uint8((start+i-1)%253 + 1)
		lock, err := tryLock(filepath.Join(stateDir, "loopback", strconv.Itoa(int(block))+".lock"))
		if err != nil {
			return nil, fmt.Errorf("claim loopback block: %w", err)
		}
		if lock == nil {
			continue
		}
		p := &addressPlan{block: block, bind: make(map[string]netip.Addr, len(topo.Nodes)), lock: lock}
		for idx, n := range topo.Nodes {
			p.bind[n.Name] = netip.AddrFrom4([4]byte{127, block, byte(idx / nodesPerThirdOctet), byte(idx%nodesPerThirdOctet + 1)})
		}
		return p, nil
	}
	return nil, fmt.Errorf("no free loopback block in 127.1.0.0-127.253.255.255: too many labs running")
}

// release frees the block for other labs.
func (p *addressPlan) release() { p.lock.release() }
