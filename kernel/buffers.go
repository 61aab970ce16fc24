package kernel

import "sync"

// buffers keeps the packing buffers of the GEMM, one free list per element
// type: once warm, a multiply allocates only a few small headers, not its
// panels. Unlike a sync.Pool the lists survive garbage collections, so a
// process that collects every few steps does not allocate them again; a
// list holds at most as many buffers as were in use at once.
var buffers struct {
	sync.Mutex
	f32 [][]float32
	f64 [][]float64
}

func freeList[T Float]() *[][]T {
	var zero T
	if _, ok := any(zero).(float32); ok {
		return any(&buffers.f32).(*[][]T)
	}
	return any(&buffers.f64).(*[][]T)
}

// getBuffer returns a slice of n elements with undefined contents.
func getBuffer[T Float](n int) []T {
	buffers.Lock()
	list := freeList[T]()
	best := -1 // the smallest buffer that holds n
	for i, b := range *list {
		if cap(b) >= n && (best < 0 || cap(b) < cap((*list)[best])) {
			best = i
		}
	}
	if best < 0 {
		buffers.Unlock()
		return make([]T, n)
	}
	b := (*list)[best]
	last := len(*list) - 1
	(*list)[best], (*list)[last] = (*list)[last], nil
	*list = (*list)[:last]
	buffers.Unlock()
	return b[:n]
}

// putBuffer hands b back for reuse.
func putBuffer[T Float](b []T) {
	buffers.Lock()
	list := freeList[T]()
	*list = append(*list, b)
	buffers.Unlock()
}
