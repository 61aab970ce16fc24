package main

import (
	"math/rand"
	"time"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	vinit "github.com/velora-go/velora/init"
	"github.com/velora-go/velora/op"
)

// OpSizes is the op-level problem: T tokens, D → Dout, float32.
type OpSizes struct{ T, D, Dout, Repeats int }

var (
	defaultOps = OpSizes{T: 2048, D: 1024, Dout: 1024, Repeats: 1}
	quickOps   = OpSizes{T: 128, D: 64, Dout: 64, Repeats: 2}
)

// OpRow is one sub-token size's op-level figures.
type OpRow struct {
	SubTokenSize     int
	CompressGBps     float64 // bytes of x read per second by Compress
	CopyGBps         float64 // a plain copy of the same bytes
	FusedSeconds     float64 // fused weight gradient
	ReconstructSecs  float64 // reconstruct x̂ then x̂ᵀ g
	WeightGradFactor float64 // ReconstructSecs / FusedSeconds
}

// opRow times Compress, a copy, and both weight-gradient paths through
// small graphs run by TapeMachine (the ops are timed, not the graphs: each
// graph holds one op).
func opRow(s OpSizes, m int) (OpRow, error) {
	rng := rand.New(rand.NewSource(int64(m)))
	x := random(rng, s.T, s.D)
	g := random(rng, s.T, s.Dout)
	row := OpRow{SubTokenSize: m}
	bytes := float64(s.T * s.D * 4)

	compress, err := opGraph(m, func(gr *gorgonia.ExprGraph, p *op.Projection) (*gorgonia.Node, error) {
		return op.Compress(constant(gr, "x", x), p)
	})
	if err != nil {
		return row, err
	}
	if row.CompressGBps, err = timeRuns(compress, s.Repeats); err != nil {
		return row, err
	}
	row.CompressGBps = bytes / row.CompressGBps / 1e9
	row.CopyGBps = bytes / timeCopy(x, s.Repeats) / 1e9

	k := (s.D + m - 1) / m
	z := random(rng, s.T, k)
	for _, path := range []struct {
		dst     *float64
		options []op.LinearOption
	}{{&row.FusedSeconds, nil}, {&row.ReconstructSecs, []op.LinearOption{op.WithReconstruct()}}} {
		vm, err := opGraph(m, func(gr *gorgonia.ExprGraph, p *op.Projection) (*gorgonia.Node, error) {
			return op.WeightGrad(constant(gr, "z", z), constant(gr, "g", g), p, s.D, path.options...)
		})
		if err != nil {
			return row, err
		}
		if *path.dst, err = timeRuns(vm, s.Repeats); err != nil {
			return row, err
		}
	}
	row.WeightGradFactor = ratio(row.ReconstructSecs, row.FusedSeconds)
	return row, nil
}

// opGraph builds a graph around a projection with a frozen random v.
func opGraph(m int, build func(*gorgonia.ExprGraph, *op.Projection) (*gorgonia.Node, error)) (gorgonia.VM, error) {
	g := gorgonia.NewGraph()
	p, err := op.NewProjection(g, m, tensor.Float32, vinit.Random(1), "v")
	if err != nil {
		return nil, err
	}
	if _, err := build(g, p); err != nil {
		return nil, err
	}
	return gorgonia.NewTapeMachine(g), nil
}

// timeRuns is the best wall time of repeats runs, after one warm-up run.
func timeRuns(vm gorgonia.VM, repeats int) (float64, error) {
	best := 0.0
	for i := 0; i <= repeats; i++ {
		start := time.Now()
		if err := vm.RunAll(); err != nil {
			return 0, err
		}
		vm.Reset()
		if d := time.Since(start).Seconds(); i > 0 && (best == 0 || d < best) {
			best = d
		}
	}
	return best, nil
}

// timeCopy is the best time to copy x's bytes into another buffer.
func timeCopy(x *tensor.Dense, repeats int) float64 {
	src := x.Data().([]float32)
	dst := make([]float32, len(src))
	best := 0.0
	for i := 0; i <= repeats; i++ {
		start := time.Now()
		copy(dst, src)
		if d := time.Since(start).Seconds(); i > 0 && (best == 0 || d < best) {
			best = d
		}
	}
	sinkFloat = dst[len(dst)-1]
	return best
}

// sinkFloat keeps the copy from being optimised away.
var sinkFloat float32

func random(rng *rand.Rand, shape ...int) *tensor.Dense {
	data := make([]float32, tensor.Shape(shape).TotalSize())
	for i := range data {
		data[i] = float32(rng.NormFloat64())
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(data))
}

func constant(g *gorgonia.ExprGraph, name string, v *tensor.Dense) *gorgonia.Node {
	return gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithShape(v.Shape()...), gorgonia.WithName(name), gorgonia.WithValue(v))
}
