package kernel

// axpy32 and scale32 are Axpy's and Scale's float32 paths (see
// vec_amd64.go).
var (
	axpy32  = axpyGo[float32]
	scale32 = scaleGo[float32]
)

// Axpy adds alpha·x[i] to y[i]. It panics if x and y differ in length.
func Axpy[T Float](alpha T, x, y []T) {
	checkLengths("axpy", len(x), len(y))
	if x32, ok := any(x).([]float32); ok {
		axpy32(float32(alpha), x32, any(y).([]float32))
		return
	}
	axpyGo(alpha, x, y)
}

// Scale multiplies every x[i] by alpha.
func Scale[T Float](alpha T, x []T) {
	if x32, ok := any(x).([]float32); ok {
		scale32(float32(alpha), x32)
		return
	}
	scaleGo(alpha, x)
}

func axpyGo[T Float](alpha T, x, y []T) {
	y = y[:len(x)]
	for i, xi := range x {
		y[i] += alpha * xi
	}
}

func scaleGo[T Float](alpha T, x []T) {
	for i := range x {
		x[i] *= alpha
	}
}
