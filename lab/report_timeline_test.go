package lab

import (
	"bytes"
	"strings"
	"testing"
)

func TestWriteTimeline(t *testing.T) {
	entries := []TimelineEntry{
		{Type: TimelineSession, AtMS: 20, Local: "node1", Remote: "node2", From: "Idle", To: "Active"},
		{Type: TimelineSession, AtMS: 1804, Local: "node1", Remote: "node2", From: "Active", To: "Established"},
		{Type: TimelineSession, AtMS: 5300, Local: "node1", Remote: "node2", From: "Established", To: "Idle", Notification: "6/2 Cease / Administrative Shutdown (received)"},
		{Type: TimelineFault, AtMS: 5000, Fault: &FaultEvent{Action: "inject", Fault: "bird-down", Node: "node2", Label: "flap"}},
	}
	var buf bytes.Buffer
	if err := WriteTimeline(&buf, entries); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"AT  ", "EVENT", "0.0s  session Idle -> Active", "node1->node2", "1.8s", "session Established -> Idle",
		"NOTIFICATION 6/2 Cease", "inject bird-down [flap]"} {
		if !strings.Contains(buf.String(), w) {
			t.Errorf("timeline lacks %q:\n%s", w, buf.String())
		}
	}
}
