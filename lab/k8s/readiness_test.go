package k8s

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/peerlab/peerlab/internal/bird"
)

// protocols builds `show protocols` rows: name, proto, info.
func protocols(rows ...[3]string) []bird.Protocol {
	var out []bird.Protocol
	for _, r := range rows {
		out = append(out, bird.Protocol{Name: r[0], Proto: r[1], State: "up", Info: r[2]})
	}
	return out
}

func TestCalicoPeers(t *testing.T) {
	got := CalicoPeers(protocols(
		[3]string{"static1", "Static", ""},
		[3]string{"kernel1", "Kernel", ""},
		[3]string{"Mesh_10_0_0_2", "BGP", "Active"},
		[3]string{"Node_10_0_0_9_port_1179", "BGP", "Established"},
		[3]string{"Global_fd00__1", "BGP", "Connect"},
		[3]string{"upstream", "BGP", "Established"},
		[3]string{"Mesh_10_0_0_3", "Device", "up"},
	))
	want := []Peer{
		{Name: "Mesh_10_0_0_2", PeerIP: "10.0.0.2", BGPState: "Active"},
		{Name: "Node_10_0_0_9_port_1179", PeerIP: "10.0.0.9", BGPState: "Established"},
		{Name: "Global_fd00__1", PeerIP: "fd00::1", BGPState: "Connect"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("CalicoPeers = %+v, want %+v", got, want)
	}
}

func TestBIRDReadinessMessage(t *testing.T) {
	const prefix = "calico/node is not ready: BIRD is not ready: "
	mesh := func(states ...string) []bird.Protocol {
		var rows [][3]string
		rows = append(rows, [3]string{"device1", "Device", ""}, [3]string{"direct1", "Direct", ""})
		for i, s := range states {
			rows = append(rows, [3]string{"Mesh_10_0_0_" + string(rune('2'+i)), "BGP", s})
		}
		return protocols(rows...)
	}
	tests := []struct {
		name       string
		protos     []bird.Protocol
		sinceStart time.Duration
		want       string // "" for ready
	}{
		{"no peers at all", mesh(), time.Second, ""},
		{"all established", mesh("Established", "Established"), time.Second, ""},
		{"one down at start", mesh("Active", "Established"), time.Second, prefix + "BGP not established with 10.0.0.2"},
		{"two down at start", mesh("Active", "Connect"), time.Second, prefix + "BGP not established with 10.0.0.2,10.0.0.3"},
		{"one down after the grace", mesh("Active", "Established"), time.Minute, ""},
		{"all down after the grace", mesh("Passive", "Idle"), time.Minute, prefix + "BGP not established with 10.0.0.2,10.0.0.3"},
		{"non-Calico BGP protocol ignored", protocols([3]string{"rr1", "BGP", "Active"}), time.Second, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ""
			if err := CheckPeers(CalicoPeers(tt.protos), tt.sinceStart, DefaultThreshold); err != nil {
				got = NotReadyMessage(err)
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNotReadyMessage(t *testing.T) {
	got := NotReadyMessage(errors.New("BGP not established with 10.0.0.2,10.0.0.3"))
	want := "calico/node is not ready: BIRD is not ready: BGP not established with 10.0.0.2,10.0.0.3"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
