package kernel

// swiglu32, swigluGradGate32 and swigluGradUp32 are the float32 paths of
// SwiGLU and its gradients (see vec_amd64.go).
var (
	swiglu32         = swigluGo
	swigluGradGate32 = swigluGradGateGo
	swigluGradUp32   = swigluGradUpGo
)

// SwiGLU writes LLaMA's gated activation out[i] = silu(a[i])·b[i]. The
// three SwiGLU functions panic if their slices differ in length. float32
// uses Sigmoid's float32 σ; float64 computes in float64 with math.Exp.
func SwiGLU[T Float](out, a, b []T) {
	checkLengths("swiglu", len(out), len(a), len(b))
	if o32, ok := any(out).([]float32); ok {
		swiglu32(o32, any(a).([]float32), any(b).([]float32))
		return
	}
	for i, ai := range a {
		out[i] = T(float64(ai)*sigmoid64(float64(ai))) * b[i]
	}
}

// SwiGLUGradGate writes the gradient of SwiGLU for the gate a, given the
// output's gradient g: out[i] = g[i]·b[i]·σ(a[i])·(1 + a[i]·(1 − σ(a[i]))).
func SwiGLUGradGate[T Float](out, a, b, g []T) {
	checkLengths("swiglu", len(out), len(a), len(b), len(g))
	if o32, ok := any(out).([]float32); ok {
		swigluGradGate32(o32, any(a).([]float32), any(b).([]float32), any(g).([]float32))
		return
	}
	for i, ai := range a {
		x := float64(ai)
		sig := sigmoid64(x)
		out[i] = g[i] * b[i] * T(sig*(1+x*(1-sig)))
	}
}

// SwiGLUGradUp writes the gradient of SwiGLU for the up projection b,
// given the output's gradient g: out[i] = g[i]·silu(a[i]).
func SwiGLUGradUp[T Float](out, a, g []T) {
	checkLengths("swiglu", len(out), len(a), len(g))
	if o32, ok := any(out).([]float32); ok {
		swigluGradUp32(o32, any(a).([]float32), any(g).([]float32))
		return
	}
	for i, ai := range a {
		out[i] = g[i] * T(float64(ai)*sigmoid64(float64(ai)))
	}
}

func swigluGo(out, a, b []float32) {
	out, b = out[:len(a)], b[:len(a)]
	for i, ai := range a {
		out[i] = ai * sigmoidF32(ai) * b[i]
	}
}

func swigluGradGateGo(out, a, b, g []float32) {
	out, b, g = out[:len(a)], b[:len(a)], g[:len(a)]
	for i, ai := range a {
		s := sigmoidF32(ai)
		out[i] = g[i] * (b[i] * (s * (1 + ai*(1-s))))
	}
}

func swigluGradUpGo(out, a, g []float32) {
	out, g = out[:len(a)], g[:len(a)]
	for i, ai := range a {
		out[i] = g[i] * (ai * sigmoidF32(ai))
	}
}
