package opkit

import "sync"

// scratch lends kernels work buffers and takes them back, so that a training step,
// once warm, allocates none: the machine's pool holds every result, and a buffer a
// kernel needs only inside its Do comes from here. It keeps at most as many buffers as
// were lent at once. Unlike a sync.Pool it keeps them across garbage collections: a
// training process that collects every few steps (a low GOGC, which a steady live heap
// makes cheap) would otherwise allocate them again after each collection.
type scratch[T Float] struct {
	mu   sync.Mutex
	free [][]T
}

var (
	scratch32 scratch[float32]
	scratch64 scratch[float64]
)

func scratchOf[T Float]() *scratch[T] {
	var zero T
	if _, ok := any(zero).(float32); ok {
		return any(&scratch32).(*scratch[T])
	}
	return any(&scratch64).(*scratch[T])
}

// getScratch returns n values with undefined contents; give them back with putScratch.
// It lends the smallest kept buffer that holds n; when none does, it drops one, so that
// the kept ones follow the sizes in use.
func GetScratch[T Float](n int) []T {
	s := scratchOf[T]()
	s.mu.Lock()
	k := len(s.free) - 1 // the buffer taken from the list: the smallest that fits, else the last
	for i, b := range s.free {
		if cap(b) >= n && (cap(s.free[k]) < n || cap(b) < cap(s.free[k])) {
			k = i
		}
	}
	var b []T
	if k >= 0 {
		b = s.free[k]
		last := len(s.free) - 1
		s.free[k], s.free[last] = s.free[last], nil
		s.free = s.free[:last]
	}
	s.mu.Unlock()
	if cap(b) < n {
		return make([]T, n)
	}
	return b[:n]
}

// putScratch takes back a buffer getScratch lent.
func PutScratch[T Float](b []T) {
	s := scratchOf[T]()
	s.mu.Lock()
	s.free = append(s.free, b)
	s.mu.Unlock()
}
