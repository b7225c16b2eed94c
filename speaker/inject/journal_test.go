package inject

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/peerlab/peerlab/speaker"
)

// TestJournalLimit checks that a batch that would grow the journal past
// MaxJournal is refused whole with ErrJournalFull and the journal kept.
func TestJournalLimit(t *testing.T) {
	in, err := New(Config{
		Address: netip.MustParseAddr("127.0.0.1"), AS: 65001, MaxJournal: 8 << 10,
		Peers: []Peer{{Address: netip.MustParseAddr("127.0.0.2"), AS: 65002}},
	})
	if err != nil {
		t.Fatal(err)
	}
	batch := func(second byte) []speaker.Route {
		var rs []speaker.Route
		for i := range 256 {
			rs = append(rs, speaker.Route{Prefix: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, second, byte(i), 0}), 24)})
		}
		return rs
	}
	if err := in.Announce(batch(0)); err != nil {
		t.Fatalf("first batch (about 1 KiB) refused: %v", err)
	}
	_, before, _ := in.journal.size()
	var full error
	for i := 1; i < 64 && full == nil; i++ {
		full = in.Announce(batch(byte(i)))
	}
	if !errors.Is(full, ErrJournalFull) {
		t.Fatalf("announcing 64 batches into an 8 KiB journal: err = %v, want ErrJournalFull", full)
	}
	_, after, _ := in.journal.size()
	if after > 8<<10 || after <= before {
		t.Fatalf("journal holds %d bytes after the refusal (limit 8192, %d after the first batch)", after, before)
	}
}
