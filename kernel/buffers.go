package kernel

import "sync"

// buffers recycles the packing buffers of the GEMM, one pool per element
// type: once warm, a multiply allocates only a few small headers, not its
// panels.
var buffers [2]sync.Pool

func pool[T Float]() *sync.Pool {
	var zero T
	if _, ok := any(zero).(float32); ok {
		return &buffers[0]
	}
	return &buffers[1]
}

// getBuffer returns a slice of n elements with undefined contents.
func getBuffer[T Float](n int) []T {
	if b, ok := pool[T]().Get().(*[]T); ok && cap(*b) >= n {
		return (*b)[:n]
	}
	return make([]T, n)
}

// putBuffer hands b back for reuse.
func putBuffer[T Float](b []T) { pool[T]().Put(&b) }
