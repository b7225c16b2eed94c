package lab

import (
	"bytes"
	"strings"
	"testing"
)

func TestWriteTimeline(t *testing.T) {
	r := Report{Timeline: []TimelineEntry{
		{Type: TimelineSession, AtMS: 20, Local: "node1", Remote: "node2", From: "Idle", To: "Active"},
		{Type: TimelineSession, AtMS: 1804, Local: "node1", Remote: "node2", From: "Active", To: "Established"},
		{Type: TimelineSession, AtMS: 5300, Local: "node1", Remote: "node2", From: "Established", To: "Idle", Notification: "6/2 Cease / Administrative Shutdown (received)"},
	}}
	cases := []struct {
		name string
		last int
		want []string
		not  []string
	}{
		{"all", 0, []string{"AT  ", "0.0s  session Idle -> Active", "node1->node2", "1.8s", "session Established -> Idle", "NOTIFICATION 6/2 Cease"}, []string{"earlier"}},
		{"last two", 2, []string{"(1 earlier entries not shown", "session Active -> Established", "5.3s"}, []string{"Idle -> Active"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := r.WriteTimeline(&buf, c.last); err != nil {
				t.Fatal(err)
			}
			for _, w := range c.want {
				if !strings.Contains(buf.String(), w) {
					t.Errorf("timeline lacks %q:\n%s", w, buf.String())
				}
			}
			for _, w := range c.not {
				if strings.Contains(buf.String(), w) {
					t.Errorf("timeline has %q:\n%s", w, buf.String())
				}
			}
		})
	}
	var empty bytes.Buffer
	if err := (Report{}).WriteTimeline(&empty, 0); err != nil || empty.Len() != 0 {
		t.Errorf("empty timeline wrote %q, %v", empty.String(), err)
	}
}
