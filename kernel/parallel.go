package kernel

import (
	"runtime"
	"sync"
)

// minParallelWork is the number of elements below which a job runs on one
// goroutine: splitting smaller jobs costs more than it saves.
const minParallelWork = 1 << 16

// ParallelRows calls work on consecutive blocks of rows [lo, hi) that
// together cover [0, rows), on up to GOMAXPROCS goroutines when the job
// (rows × rowSize elements) is large enough. The blocks must be
// independent.
func ParallelRows(rows, rowSize int, work func(lo, hi int)) {
	workers := min(runtime.GOMAXPROCS(0), rows, max(1, rows*rowSize/minParallelWork))
	if workers <= 1 {
		work(0, rows)
		return
	}
	var wg sync.WaitGroup
	per := (rows + workers - 1) / workers
	for lo := 0; lo < rows; lo += per {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			work(lo, hi)
		}(lo, min(lo+per, rows))
	}
	wg.Wait()
}
