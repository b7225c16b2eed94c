package lab

import (
	"debug/buildinfo"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"syscall"

	"go.uber.org/zap"
)

// AgentProgram is the agent program `make build` puts beside peerlab
// (cmd/peerlab-gobgpd): the agent alone, which starts in about two thirds
// of the CPU time peerlab takes, because it does not load the CLI's, the
// diagnosis engine's and the Kubernetes client's packages. A 1,000-node
// lab starts a thousand of them.
const AgentProgram = "peerlab-gobgpd"

// selfExe is the running program, which is an agent too when started
// under the agent's name (RunBuiltin). Not os.Executable(): /proc/self/exe
// still works when the binary was replaced on disk while the lab runs.
const selfExe = "/proc/self/exe"

// agentExecutable picks the program gobgp nodes run their agent from, in
// this order: $PEERLAB_AGENT_EXE when set; AgentProgram beside the running
// executable when it is from the same build and no one but the running
// executable's owner can have written it; the running executable. An
// AgentProgram from another build is passed over with a warning, as a
// stale one would speak another protocol.
func agentExecutable(log *zap.Logger) string {
	if exe := os.Getenv(AgentExeEnv); exe != "" {
		return exe
	}
	self, err := os.Executable()
	if err != nil {
		return selfExe
	}
	beside := filepath.Join(filepath.Dir(self), AgentProgram)
	fi, err := os.Stat(beside)
	if err != nil {
		log.Debug("no agent program beside peerlab; agents run peerlab itself", zap.String("looked_for", beside))
		return selfExe
	}
	err = trustedBeside(self, fi)
	if err == nil {
		err = sameBuildAs(beside)
	}
	if err != nil {
		log.Warn("agent program passed over; agents run peerlab itself (rebuild both with make build)",
			zap.String("program", beside), zap.Error(err))
		return selfExe
	}
	return beside
}

// trustedBeside reports why the agent program beside the running
// executable self may not run in its stead: a program that someone other
// than self's owner may have written or replaced (another owner, group or
// world write permission on it or on the folder) would run as whoever
// runs peerlab, root included.
func trustedBeside(self string, beside os.FileInfo) error {
	si, err := os.Stat(self)
	if err != nil {
		return fmt.Errorf("stat the running program: %w", err)
	}
	if !beside.Mode().IsRegular() {
		return fmt.Errorf("not a regular file (%s)", beside.Mode().Type())
	}
	if perm := beside.Mode().Perm(); perm&0o022 != 0 {
		return fmt.Errorf("writable by others than its owner (mode %#o)", perm)
	}
	// Whoever may write the folder may replace the program after this check.
	di, err := os.Stat(filepath.Dir(self))
	if err != nil {
		return fmt.Errorf("stat the running program's folder: %w", err)
	}
	if perm := di.Mode().Perm(); perm&0o022 != 0 {
		return fmt.Errorf("its folder is writable by others than its owner (mode %#o)", perm)
	}
	bs, ok1 := beside.Sys().(*syscall.Stat_t)
	ss, ok2 := si.Sys().(*syscall.Stat_t)
	if ok1 && ok2 && bs.Uid != ss.Uid {
		return fmt.Errorf("owned by uid %d, the running program by uid %d", bs.Uid, ss.Uid)
	}
	return nil
}

// sameBuildAs reports how the Go program at path differs from the running
// one in the build facts both carry: Go version, main module and its
// version-control state, and the version of every module path uses.
func sameBuildAs(path string) error {
	self, ok := debug.ReadBuildInfo()
	if !ok {
		return fmt.Errorf("the running program carries no build information")
	}
	other, err := buildinfo.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read build information of %s: %w", path, err)
	}
	return sameBuild(self, other)
}

// sameBuild reports the first build fact other does not share with self.
// other may use fewer modules than self, not other versions of them.
func sameBuild(self, other *debug.BuildInfo) error {
	if self.GoVersion != other.GoVersion {
		return fmt.Errorf("built with %s, not %s", other.GoVersion, self.GoVersion)
	}
	if a, b := moduleID(&self.Main), moduleID(&other.Main); a != b {
		return fmt.Errorf("module %s, not %s", b, a)
	}
	for _, key := range []string{"vcs.revision", "vcs.time", "vcs.modified"} {
		if a, b := setting(self, key), setting(other, key); a != b {
			return fmt.Errorf("%s %q, not %q", key, b, a)
		}
	}
	mine := make(map[string]string, len(self.Deps))
	for _, d := range self.Deps {
		mine[d.Path] = moduleID(d)
	}
	for _, d := range other.Deps {
		if got, want := moduleID(d), mine[d.Path]; got != want {
			return fmt.Errorf("dependency %s, not %q", got, want)
		}
	}
	return nil
}

// moduleID is a module's path, version and checksum, those of its
// replacement when it has one.
func moduleID(m *debug.Module) string {
	if m.Replace != nil {
		m = m.Replace
	}
	return m.Path + "@" + m.Version + " " + m.Sum
}

// setting is the value of a build setting, "" when absent.
func setting(bi *debug.BuildInfo, key string) string {
	for _, s := range bi.Settings {
		if s.Key == key {
			return s.Value
		}
	}
	return ""
}
