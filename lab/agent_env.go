package lab

import (
	"strings"
)

// agentLightSessions is the most sessions an agent may have and still run
// with one P (GOMAXPROCS=1): a speaker with a few sessions has no use for
// a second one, and a large namespace lab runs one agent per node.
const agentLightSessions = 16

// agentGOGC is the GOGC of an agent with few sessions: its heap is a few
// MB, so collecting less often costs little memory and saves the
// collections Go runs while the agent starts.
const agentGOGC = "400"

// agentProcessEnv is the environment of a gobgp node's agent: env, plus
// GOMAXPROCS=1 and GOGC=400 when the node has at most agentLightSessions
// sessions and env sets neither. Each agent is a Go program of its own, and
// in a lab of 1,000 nodes the Go runtime's own work (a second P's
// scheduler and spinning, early garbage collections) was a fifth of the
// CPU time the agents took to start (docs/benchmarks.md).
func agentProcessEnv(env []string, sessions int) []string {
	if sessions > agentLightSessions {
		return env
	}
	out := append([]string(nil), env...)
	for _, kv := range []struct{ key, value string }{{"GOMAXPROCS", "1"}, {"GOGC", agentGOGC}} {
		if !hasEnv(env, kv.key) {
			out = append(out, kv.key+"="+kv.value)
		}
	}
	return out
}

// hasEnv reports whether env sets key.
func hasEnv(env []string, key string) bool {
	for _, e := range env {
		if strings.HasPrefix(e, key+"=") {
			return true
		}
	}
	return false
}
