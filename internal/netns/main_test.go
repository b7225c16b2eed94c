package netns

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// crashEnv, set to "<lab>:<stage>[:<i>]", turns the test binary into a
// child that builds starSpec(<lab>, 6) and SIGKILLs itself right after that
// build stage (see stageHook); stage "all" builds the whole lab, starts a
// detached sleep in node n1 and then dies.
const crashEnv = "PEERLAB_NETNS_CRASH_CHILD"

func TestMain(m *testing.M) {
	if v := os.Getenv(crashEnv); v != "" {
		crashChild(v)
		os.Exit(3) // not reached unless the kill failed
	}
	os.Exit(m.Run())
}

// crashChild builds a lab and kills itself without any clean-up.
func crashChild(v string) {
	parts := strings.Split(v, ":")
	name, stage := parts[0], parts[1]
	at := 0
	if len(parts) > 2 {
		at, _ = strconv.Atoi(parts[2])
	}
	die := func() { _ = syscall.Kill(os.Getpid(), syscall.SIGKILL) }
	hook := func(s string, i int) error {
		if s == stage && i == at {
			die()
		}
		return nil
	}
	lab, err := create(context.Background(), starSpec(name, 6, 3), nil, hook)
	if err != nil {
		fmt.Fprintln(os.Stderr, "create:", err)
		os.Exit(2)
	}
	cmd := exec.Command("sleep", "300")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := lab.StartProcess("n1", cmd); err != nil {
		fmt.Fprintln(os.Stderr, "start:", err)
		os.Exit(2)
	}
	die()
}
