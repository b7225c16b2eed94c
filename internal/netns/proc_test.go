package netns

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
)

// threadNetns returns the network namespace of the calling OS thread as
// the kernel prints it, "net:[inode]".
func threadNetns() (string, error) { return os.Readlink("/proc/thread-self/ns/net") }

func TestStartProcessRunsInNodeNamespace(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	name := labName(t)
	lab := mustCreate(t, threeNodes(name))
	host, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		node string
		opts []StartOption
	}{
		{"a", nil},
		{"c", []StartOption{DieWithParent()}},
	} {
		t.Run(tt.node, func(t *testing.T) {
			path, err := lab.NamespacePath(tt.node)
			if err != nil {
				t.Fatal(err)
			}
			ino, ok := nsInode(path)
			if !ok {
				t.Fatalf("%s is not a mounted namespace", path)
			}
			var out strings.Builder
			cmd := exec.Command("/bin/sh", "-c", "readlink /proc/self/ns/net")
			cmd.Stdout = &out
			if err := lab.StartProcess(tt.node, cmd, tt.opts...); err != nil {
				t.Fatal(err)
			}
			if err := cmd.Wait(); err != nil {
				t.Fatal(err)
			}
			got, want := strings.TrimSpace(out.String()), fmt.Sprintf("net:[%d]", ino)
			if got != want {
				t.Fatalf("child's namespace is %s, want %s (host's is %s)", got, want, host)
			}
			if tt.opts != nil && cmd.SysProcAttr.Pdeathsig == 0 {
				t.Fatal("DieWithParent did not set Pdeathsig")
			}
		})
	}
	if err := lab.StartProcess("nobody", exec.Command("/bin/true")); err == nil {
		t.Fatal("StartProcess in a missing node succeeded")
	}
}

func TestDoSwitchesOnlyItsOwnThread(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	lab := mustCreate(t, threeNodes(labName(t)))
	path, _ := lab.NamespacePath("b")
	ino, _ := nsInode(path)
	want := fmt.Sprintf("net:[%d]", ino)

	// Many concurrent Do calls, each seeing node b's namespace...
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := 0; i < 32; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- lab.Do("b", func() error {
				got, err := threadNetns()
				if err == nil && got != want {
					err = fmt.Errorf("inside Do the thread is in %s, want %s", got, want)
				}
				return err
			})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	// ...and afterwards no thread of this process is left in it.
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil || len(tasks) == 0 {
		t.Fatalf("list threads: %d, %v", len(tasks), err)
	}
	for _, task := range tasks {
		got, err := os.Readlink("/proc/self/task/" + task.Name() + "/ns/net")
		if err == nil && got == want {
			t.Errorf("thread %s is still in node b's namespace after Do returned", task.Name())
		}
	}

	// A panic in fn reaches the caller, and the thread is still restored.
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Fatalf("recovered %v, want boom", r)
			}
		}()
		_ = lab.Do("b", func() error { panic("boom") })
		t.Fatal("Do returned after fn panicked")
	}()
}
