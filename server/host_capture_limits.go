package server

import (
	"os"
	"path/filepath"
	"time"

	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Defaults of CaptureLimits (docs/grpc.md).
const (
	DefaultCaptureFileLimit = 256 << 20
	DefaultCaptureBudget    = 1 << 30
	DefaultCapturesLive     = 8
)

// CaptureLimits cap what the captures started through the API may take
// on one lab, so a long-running serve does not fill its disk.
type CaptureLimits struct {
	// PerCapture stops a capture once its file reaches this many bytes;
	// 0 means DefaultCaptureFileLimit.
	PerCapture int64
	// Budget is the most bytes the lab's API capture files may hold
	// together: StartCapture is refused (RESOURCE_EXHAUSTED) once they do,
	// and running captures are stopped when they reach it; 0 means
	// DefaultCaptureBudget.
	Budget int64
	// Live is the most captures running at once; 0 means
	// DefaultCapturesLive.
	Live int
	// CheckEvery is how often running captures are measured; 0 means 1 s
	// (a capture may overshoot its cap by what it records in that time).
	CheckEvery time.Duration
}

// withDefaults fills the zero fields.
func (c CaptureLimits) withDefaults() CaptureLimits {
	if c.PerCapture <= 0 {
		c.PerCapture = DefaultCaptureFileLimit
	}
	if c.Budget <= 0 {
		c.Budget = DefaultCaptureBudget
	}
	if c.Live <= 0 {
		c.Live = DefaultCapturesLive
	}
	if c.CheckEvery <= 0 {
		c.CheckEvery = time.Second
	}
	return c
}

// admit refuses a new capture when too many run or the budget is spent.
func (h *hostCaptures) admit(dir string) error {
	h.mu.Lock()
	live := 0
	for _, lc := range h.caps {
		select {
		case <-lc.done:
		default:
			live++
		}
	}
	h.mu.Unlock()
	if live >= h.limits.Live {
		return status.Errorf(codes.ResourceExhausted, "%d captures already run on this lab (the most at once): stop one first", live)
	}
	if used := dirBytes(dir); used >= h.limits.Budget {
		return status.Errorf(codes.ResourceExhausted, "the lab's API captures hold %d bytes, its budget is %d", used, h.limits.Budget)
	}
	return nil
}

// enforce stops a running capture once its file reaches PerCapture or the
// lab's capture files the Budget.
func (h *hostCaptures) enforce(id string, lc *liveCapture, dir string) {
	tick := time.NewTicker(h.limits.CheckEvery)
	defer tick.Stop()
	for {
		select {
		case <-lc.done:
			return
		case <-tick.C:
		}
		var why string
		if n := lc.c.Stats().Bytes; n >= h.limits.PerCapture {
			why = "its file reached the per-capture limit"
		} else if dirBytes(dir) >= h.limits.Budget {
			why = "the lab's capture files reached their budget"
		}
		if why == "" {
			continue
		}
		h.log.Warn("capture stopped: "+why, zap.String("capture", id),
			zap.Int64("per_capture", h.limits.PerCapture), zap.Int64("budget", h.limits.Budget))
		if err := lc.stop(); err != nil {
			h.log.Warn("stop capture", zap.String("capture", id), zap.Error(err))
		}
		return
	}
}

// dirBytes is the size of the files in dir.
func dirBytes(dir string) int64 {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	var n int64
	for _, e := range entries {
		if fi, err := os.Stat(filepath.Join(dir, e.Name())); err == nil && fi.Mode().IsRegular() {
			n += fi.Size()
		}
	}
	return n
}
