package lab

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"text/tabwriter"
	"time"
)

// Report is the outcome of a lab run, as `peerlab run` prints it.
type Report struct {
	Lab          string              `json:"lab"`
	Mode         Mode                `json:"mode"`
	OK           bool                `json:"ok"`
	ElapsedMS    int64               `json:"elapsed_ms"`
	Sessions     []SessionReport     `json:"sessions"`
	Expectations []ExpectationResult `json:"expectations"`
	// Timeline holds, oldest first, every session state change seen,
	// every fault injected or healed and every expectation verdict.
	Timeline []TimelineEntry `json:"timeline"`
	// Faults lists every fault injected and healed, oldest first.
	Faults []FaultEvent `json:"faults"`
	// Readiness is each calico-node's BIRD readiness at report time
	// (role calico-node, docs/kubespray.md).
	Readiness []NodeReadiness `json:"readiness,omitempty"`
}

// SessionReport is one end's view of a session.
type SessionReport struct {
	Local         string `json:"local"`
	Remote        string `json:"remote"`
	LocalAddress  string `json:"local_address"`
	RemoteAddress string `json:"remote_address"`
	State         string `json:"state"`
	LastError     string `json:"last_error"`
	Notification  string `json:"notification,omitempty"`
}

// Kinds of timeline entries.
const (
	TimelineSession     = "session"
	TimelineFault       = "fault"
	TimelineExpectation = "expectation"
)

// TimelineEntry is one thing that happened in a run, timed from lab
// start: a session state change (Local … Notification), a fault event
// (Fault) or an expectation verdict (Expectation), as Type says.
type TimelineEntry struct {
	AtMS int64 `json:"at_ms"`
	// Type is session, fault or expectation.
	Type         string `json:"type"`
	Local        string `json:"local,omitempty"`
	Remote       string `json:"remote,omitempty"`
	From         string `json:"from,omitempty"`
	To           string `json:"to,omitempty"`
	Reason       string `json:"reason,omitempty"`
	Notification string `json:"notification,omitempty"`
	// Fault is the fault event of a fault entry.
	Fault *FaultEvent `json:"fault,omitempty"`
	// Expectation is the verdict of an expectation entry.
	Expectation *ExpectationResult `json:"expectation,omitempty"`
}

// Report builds the run report from the expectation results and the lab's
// current sessions.
func (l *Lab) Report(ctx context.Context, results []ExpectationResult) Report {
	r := Report{
		Lab:          l.topo.Name,
		Mode:         l.mode,
		OK:           true,
		ElapsedMS:    time.Since(l.started).Milliseconds(),
		Expectations: results,
		Sessions:     []SessionReport{},
		Timeline:     []TimelineEntry{},
		Faults:       l.FaultLog(),
		Readiness:    l.Readiness(ctx),
	}
	if r.Faults == nil {
		r.Faults = []FaultEvent{}
	}
	for _, e := range results {
		r.OK = r.OK && e.OK
	}
	ss, err := l.Sessions(ctx)
	if err != nil {
		l.log.Warn("some nodes did not report their sessions")
	}
	for _, s := range ss {
		r.Sessions = append(r.Sessions, SessionReport{
			Local:         s.Local,
			Remote:        s.Remote,
			LocalAddress:  l.labAddress(s.Local),
			RemoteAddress: l.labAddress(s.Remote),
			State:         s.State,
			LastError:     s.LastError,
			Notification:  s.Notification.String(),
		})
	}
	r.Timeline = BuildTimeline(l.started, l.Events(), r.Faults, results)
	return r
}

// BuildTimeline merges session changes, fault events and expectation
// verdicts into one list, oldest first (at equal times: sessions, faults,
// then verdicts), timed from started.
func BuildTimeline(started time.Time, events []SessionEvent, faults []FaultEvent, results []ExpectationResult) []TimelineEntry {
	out := make([]TimelineEntry, 0, len(events)+len(faults)+len(results))
	for _, e := range events {
		out = append(out, TimelineEntry{
			AtMS: e.Time.Sub(started).Milliseconds(), Type: TimelineSession,
			Local: e.Local, Remote: e.Remote, From: e.From, To: e.To,
			Reason: e.Reason, Notification: e.Notification.String(),
		})
	}
	for i := range faults {
		out = append(out, TimelineEntry{AtMS: faults[i].AtMS, Type: TimelineFault, Fault: &faults[i]})
	}
	for i := range results {
		out = append(out, TimelineEntry{AtMS: results[i].AfterMS, Type: TimelineExpectation, Expectation: &results[i]})
	}
	rank := map[string]int{TimelineSession: 0, TimelineFault: 1, TimelineExpectation: 2}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].AtMS != out[j].AtMS {
			return out[i].AtMS < out[j].AtMS
		}
		return rank[out[i].Type] < rank[out[j].Type]
	})
	return out
}

// labAddress is a node's address inside the lab, or "" for an unknown name.
func (l *Lab) labAddress(node string) string {
	if n := l.topo.Node(node); n != nil {
		return n.Address.String()
	}
	return ""
}

// WriteJSON writes the report as one indented JSON object.
func (r Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("write JSON report: %w", err)
	}
	return nil
}

// WriteTable writes the report for people: sessions, then expectations.
func (r Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "lab %s  (%s mode, %d ms)\n\n", r.Lab, r.Mode, r.ElapsedMS)
	fmt.Fprintln(tw, "LOCAL\tREMOTE\tSTATE\tLAST ERROR")
	for _, s := range r.Sessions {
		why := s.LastError
		if s.Notification != "" {
			why = "NOTIFICATION " + s.Notification
		}
		if why == "" {
			why = "-"
		}
		fmt.Fprintf(tw, "%s (%s)\t%s (%s)\t%s\t%s\n", s.Local, s.LocalAddress, s.Remote, s.RemoteAddress, s.State, why)
	}
	if len(r.Timeline) > 0 {
		fmt.Fprintln(tw)
		if err := flush(tw); err != nil {
			return err
		}
		if err := WriteTimeline(w, r.Timeline); err != nil {
			return err
		}
	}
	if len(r.Readiness) > 0 {
		fmt.Fprintln(tw)
		fmt.Fprintln(tw, "CALICO-NODE\tBIRD READINESS")
		for _, n := range r.Readiness {
			msg := n.Message
			if n.Ready {
				msg = "ready"
			}
			fmt.Fprintf(tw, "%s\t%s\n", n.Node, msg)
		}
	}
	if len(r.Expectations) == 0 {
		return flush(tw)
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "RESULT\tDECIDED\tEXPECTATION\tON\tDETAIL")
	for _, e := range r.Expectations {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", verdictMark(e), seconds(e.AfterMS), e.Description, e.Basis, e.Detail)
		for _, f := range e.Findings {
			fmt.Fprintf(tw, "\t\t  finding: %s\t\t%s\n", findingLine(f), f.Summary)
		}
	}
	verdict := "all expectations hold"
	if !r.OK {
		verdict = "some expectations failed"
	}
	fmt.Fprintf(tw, "\n%s\n", verdict)
	return flush(tw)
}

// flush ends a table.
func flush(tw *tabwriter.Writer) error {
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}
