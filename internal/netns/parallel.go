package netns

import (
	"context"
	"sync"
)

// defaultWorkers is how many namespaces are built or removed at once. The
// kernel serialises most of the work under the RTNL lock, so a few workers
// overlap the rest (namespace setup, mounts, syscalls) and more gain nothing.
const defaultWorkers = 4

// parallel runs fn(0..n-1) on up to workers goroutines. After the first
// error, or when ctx is done, it starts no new calls, waits for those
// running, and returns that error.
func parallel(ctx context.Context, n, workers int, fn func(i int) error) error {
	if workers > n {
		workers = n
	}
	var (
		mu    sync.Mutex
		first error
		next  int
		wg    sync.WaitGroup
	)
	take := func() (int, bool) {
		mu.Lock()
		defer mu.Unlock()
		if first == nil {
			first = ctx.Err()
		}
		if first != nil || next >= n {
			return 0, false
		}
		next++
		return next - 1, true
	}
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if first == nil {
			first = err
		}
	}
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i, ok := take()
				if !ok {
					return
				}
				if err := fn(i); err != nil {
					fail(err)
				}
			}
		}()
	}
	wg.Wait()
	return first
}
