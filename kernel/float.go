package kernel

// Float is the set of element types the kernels compute in.
type Float interface {
	float32 | float64
}
