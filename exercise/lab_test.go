package exercise

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestExercisesEndToEnd plays every shipped exercise on a real lab, all at
// once: after start the check fails; after the wrong fix (the symptom
// treated on another node) it still fails; after the reference solution,
// run through `peerlab exec` only, it passes.
func TestExercisesEndToEnd(t *testing.T) {
	requireLab(t)
	all, err := LoadAll(os.DirFS(shipped), shipped)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) == 0 {
		t.Fatal("no exercises")
	}
	r := BinaryRunner{Path: buildPeerlab(t), StateDir: t.TempDir()}
	for _, e := range all {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			t.Cleanup(func() { _ = e.Stop(context.Background(), r) })
			if err := e.Start(ctx, r, filepath.Join(t.TempDir(), e.Lab()+".yaml")); err != nil {
				t.Fatal(err)
			}
			if res := e.CheckLab(ctx, r); res.OK {
				t.Fatal("check passes right after start")
			}
			if err := e.RunSteps(ctx, r, e.WrongFix); err != nil {
				t.Fatalf("wrong fix: %v", err)
			}
			time.Sleep(5 * time.Second)
			if res := e.CheckLab(ctx, r); res.OK {
				t.Fatal("check passes after the wrong fix")
			} else {
				t.Logf("after the wrong fix: %s", strings.Join(res.Problems, "; "))
			}
			if err := e.RunSteps(ctx, r, e.Solution); err != nil {
				t.Fatalf("solution: %v", err)
			}
			if res := e.WaitCheck(ctx, r, 90*time.Second); !res.OK {
				t.Fatalf("check fails after the solution: %s", strings.Join(res.Problems, "; "))
			}
		})
	}
}
