package kernel

import (
	"runtime"
	"testing"
)

// TestPackingBuffersSurviveCollections: a multiply after two garbage collections (a
// sync.Pool's content is gone after two) reuses the packing buffers of the one before;
// from a sync.Pool it allocated them again, 5–8 MiB per collection in a training step.
func TestPackingBuffersSurviveCollections(t *testing.T) {
	const m, n, k = 192, 256, 320
	a, b, c := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
	multiply := func() { Gemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n) }
	multiply()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&before)
	multiply()
	runtime.ReadMemStats(&after)
	if got, packed := after.TotalAlloc-before.TotalAlloc, uint64(4*k*n); got >= packed/4 {
		t.Errorf("a warm multiply after two collections allocated %d bytes; packing b alone takes %d", got, packed)
	}
}
