package server

import (
	"context"
	"os"
	"runtime"
	"time"

	"go.uber.org/zap"
)

// RuntimeStatsMessage is the log message of the periodic runtime report
// `peerlab serve --stats-every` writes; `peerlab bench soak` reads it.
const RuntimeStatsMessage = "runtime stats"

// logRuntimeStats logs the goroutines, heap and open file descriptors of
// this process every interval until ctx ends, so a long-running serve's
// growth can be watched from its log.
func logRuntimeStats(ctx context.Context, log *zap.Logger, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		fds := -1
		if ents, err := os.ReadDir("/proc/self/fd"); err == nil {
			fds = len(ents)
		}
		log.Info(RuntimeStatsMessage, zap.Int("goroutines", runtime.NumGoroutine()),
			zap.Uint64("heap_inuse", ms.HeapInuse), zap.Int("fds", fds))
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
