package agent

import (
	"net/netip"
	"time"

	"go.uber.org/zap"

	"github.com/peerlab/peerlab/speaker"
)

// ServiceName is the net/rpc service the agent registers its methods under.
const ServiceName = "Agent"

// StartConfig is speaker.Config without its Logger: the agent logs
// through its own.
type StartConfig struct {
	Name          string
	ASN           uint32
	RouterID      netip.Addr
	ListenAddress netip.Addr
	ListenPort    int
	ClusterID     netip.Addr
	Families      []speaker.Family
}

// speakerConfig is c with log as the speaker's logger.
func (c StartConfig) speakerConfig(log *zap.Logger) speaker.Config {
	return speaker.Config{
		Name:          c.Name,
		ASN:           c.ASN,
		RouterID:      c.RouterID,
		ListenAddress: c.ListenAddress,
		ListenPort:    c.ListenPort,
		ClusterID:     c.ClusterID,
		Families:      c.Families,
		Logger:        log,
	}
}

// Event is a speaker's session state change with its place in the agent's
// event log.
type Event struct {
	// Seq numbers events from 1, without gaps, in the order the speaker
	// reported them.
	Seq uint64
	speaker.Event
}

// Empty is the argument or reply of methods that have none.
type Empty struct{}

// RIBQuery is the argument of RIB: speaker.RIB's parameters.
type RIBQuery struct {
	Table speaker.Table
	// Peer is required for the adj-RIB tables, ignored for TableBest.
	Peer   netip.Addr
	Family speaker.Family
}

// EventsQuery is the argument of Events.
type EventsQuery struct {
	// Since is the sequence number of the first event wanted; 0 and 1 both
	// mean from the first event still buffered.
	Since uint64
	// MaxWait is how long the call waits for an event when none is
	// buffered at Since; the agent caps it at MaxEventsWait.
	MaxWait time.Duration
}

// EventBatch is the reply of Events.
type EventBatch struct {
	// Events are in sequence order, at most MaxEventsBatch of them.
	Events []Event
	// Next is the Since of the following call.
	Next uint64
	// Missed counts events between Since and the first one returned that
	// fell out of the agent's buffer (it keeps the last EventBufferSize).
	Missed uint64
}

// Limits of the event log.
const (
	// EventBufferSize is how many of the latest events an agent keeps.
	EventBufferSize = 10000
	// MaxEventsBatch is the most events one Events call returns.
	MaxEventsBatch = 1000
	// MaxEventsWait caps EventsQuery.MaxWait.
	MaxEventsWait = 30 * time.Second
)
