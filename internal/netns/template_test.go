package netns

import (
	"bytes"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// TestMountTemplate checks that a process started from the template in a
// new mount namespace is in the node's network namespace and sees the
// host's mounts except the lab's namespace files, and that the template
// leaves the host's mount table as it was.
func TestMountTemplate(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	lab := mustCreate(t, threeNodes(labName(t)))
	before, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(before, []byte(RunDir+"/plab-")) {
		t.Fatalf("the host shows no namespace mount under %s: %s", RunDir, before)
	}
	tmpl, err := NewMountTemplate()
	if err != nil {
		t.Fatal(err)
	}
	defer tmpl.Close()
	var out bytes.Buffer
	cmd := exec.Command("/bin/sh", "-c", "cat /proc/self/mountinfo; echo NETNS; readlink /proc/self/ns/net")
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWNS}
	if err := lab.StartFromTemplate("a", tmpl, cmd); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	mounts, netns, _ := strings.Cut(out.String(), "NETNS\n")
	if strings.Contains(mounts, RunDir+"/plab-") {
		t.Errorf("a process cloned from the template sees the lab's namespace files:\n%s", mounts)
	}
	if !strings.Contains(mounts, " / / ") {
		t.Errorf("a process cloned from the template does not see the host's root:\n%s", mounts)
	}
	path, err := lab.NamespacePath("a")
	if err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	if want := "net:[" + strconv.FormatUint(st.Ino, 10) + "]"; strings.TrimSpace(netns) != want {
		t.Errorf("the process ran in network namespace %q, want node a's %s", strings.TrimSpace(netns), want)
	}
	after, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	// Other tests add and remove namespace files meanwhile: compare the
	// rest.
	if b, a := withoutRunDir(before), withoutRunDir(after); b != a {
		t.Errorf("the template changed the host's mount table:\nbefore:\n%s\nafter:\n%s", b, a)
	}
}

// withoutRunDir is mountinfo without the lines of mounts under RunDir.
func withoutRunDir(mountinfo []byte) string {
	var keep []string
	for _, l := range strings.Split(string(mountinfo), "\n") {
		if !strings.Contains(l, RunDir+"/") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}
