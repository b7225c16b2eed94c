package lab

import (
	"slices"
	"testing"
)

func TestAgentEnv(t *testing.T) {
	base := []string{"PATH=/usr/bin", "HOME=/root"}
	for _, tc := range []struct {
		name     string
		env      []string
		sessions int
		want     []string
	}{
		{"few sessions get one P and GOGC", base, 1, append(slices.Clone(base), "GOMAXPROCS=1", "GOGC=400")},
		{"at the limit too", base, agentLightSessions, append(slices.Clone(base), "GOMAXPROCS=1", "GOGC=400")},
		{"many sessions keep the defaults", base, agentLightSessions + 1, base},
		{"the user's GOMAXPROCS wins", append(slices.Clone(base), "GOMAXPROCS=4"), 1,
			append(slices.Clone(base), "GOMAXPROCS=4", "GOGC=400")},
		{"the user's GOGC wins", append(slices.Clone(base), "GOGC=off"), 1,
			append(slices.Clone(base), "GOGC=off", "GOMAXPROCS=1")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := slices.Clone(tc.env)
			got := agentProcessEnv(env, tc.sessions)
			if !slices.Equal(got, tc.want) {
				t.Errorf("agentProcessEnv(%q, %d) = %q, want %q", tc.env, tc.sessions, got, tc.want)
			}
			if !slices.Equal(env, tc.env) {
				t.Errorf("agentProcessEnv changed its input to %q", env)
			}
		})
	}
}
