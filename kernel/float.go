package kernel

import "fmt"

// Float is the set of element types the kernels compute in.
type Float interface {
	float32 | float64
}

// checkLengths panics unless every length equals the first, naming them.
func checkLengths(what string, n int, others ...int) {
	for _, m := range others {
		if m != n {
			panic(fmt.Sprintf("kernel: %s: slice lengths %d and %d: expected equal", what, n, m))
		}
	}
}
