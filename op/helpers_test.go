package op

import (
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	vinit "github.com/velora-go/velora/init"
)

// newProjection makes a projection with a random v from seed.
func newProjection(t testing.TB, g *gorgonia.ExprGraph, m int, dt tensor.Dtype, seed int64, opts ...ProjectionOption) *Projection {
	t.Helper()
	p, err := NewProjection(g, m, dt, vinit.Random(seed), "v", opts...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// compressByHand is z[t,k] = Σ_m x[t, kM+m]·v[m] over the entries that
// exist (zero padding), written out from the paper's definition.
func compressByHand(x []float64, d int, v []float64) []float64 {
	m := len(v)
	k := (d + m - 1) / m
	rows := len(x) / d
	z := make([]float64, rows*k)
	for t := 0; t < rows; t++ {
		for j := 0; j < d; j++ {
			z[t*k+j/m] += x[t*d+j] * v[j%m]
		}
	}
	return z
}

// reconstructByHand is x̂[t, j] = z[t, j/M]·v[j mod M] for j < d.
func reconstructByHand(z []float64, d int, v []float64) []float64 {
	m := len(v)
	k := (d + m - 1) / m
	rows := len(z) / k
	xhat := make([]float64, rows*d)
	for t := 0; t < rows; t++ {
		for j := 0; j < d; j++ {
			xhat[t*d+j] = z[t*k+j/m] * v[j%m]
		}
	}
	return xhat
}
