package server

import (
	"os"
	"path/filepath"
	"testing"

	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestCaptureAdmission: StartCapture's admission refuses a capture when
// the lab's capture files hold the budget or the most captures run.
func TestCaptureAdmission(t *testing.T) {
	running := func() *liveCapture { return &liveCapture{done: make(chan struct{})} }
	stopped := func() *liveCapture { lc := running(); close(lc.done); return lc }
	tests := []struct {
		name   string
		files  int64 // bytes already in the capture folder
		caps   []*liveCapture
		limits CaptureLimits
		want   codes.Code
	}{
		{"room left", 1000, nil, CaptureLimits{Budget: 4096, Live: 2}, codes.OK},
		{"budget spent", 4096, nil, CaptureLimits{Budget: 4096, Live: 2}, codes.ResourceExhausted},
		{"most captures running", 0, []*liveCapture{running(), running()}, CaptureLimits{Budget: 4096, Live: 2}, codes.ResourceExhausted},
		{"stopped ones do not count", 0, []*liveCapture{running(), stopped()}, CaptureLimits{Budget: 4096, Live: 2}, codes.OK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "cap-1.pcapng"), make([]byte, tt.files), 0o600); err != nil {
				t.Fatal(err)
			}
			h := &hostCaptures{limits: tt.limits.withDefaults(), log: zap.NewNop(), caps: map[string]*liveCapture{}}
			for i, lc := range tt.caps {
				h.caps[string(rune('a'+i))] = lc
			}
			if got := status.Code(h.admit(dir)); got != tt.want {
				t.Errorf("admit: %v, want %v", got, tt.want)
			}
		})
	}
}
