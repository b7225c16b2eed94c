package lab

import (
	"errors"
	"runtime"
	"sync"
)

// forEachNode runs fn for every name, handed out in the order given, with
// a worker pool of eight per CPU (starting a node is mostly waiting on its
// process) and returns every error, joined. It runs all of them even after a failure,
// so the caller knows the state of each node.
func forEachNode(names []string, fn func(name string) error) error {
	workers := 8 * runtime.GOMAXPROCS(0)
	if workers > len(names) {
		workers = len(names)
	}
	errs := make([]error, len(names))
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				errs[i] = fn(names[i])
			}
		}()
	}
	for i := range names {
		next <- i
	}
	close(next)
	wg.Wait()
	return errors.Join(errs...)
}
