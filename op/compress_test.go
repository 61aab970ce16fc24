package op

import (
	"math"
	"math/rand"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	vinit "github.com/velora-go/velora/init"
	"github.com/velora-go/velora/internal/testutil"
)

// Widths cover M dividing D, a padded last sub-token, and D < M.
var subTokenCases = []struct{ t, d, m int }{
	{3, 12, 4},
	{4, 10, 4},
	{2, 3, 5},
	{5, 16, 1},
}

func TestCompressAndReconstructMatchTheDefinition(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		for _, c := range subTokenCases {
			rng := rand.New(rand.NewSource(1))
			g := gorgonia.NewGraph()
			x := testutil.Input(g, "x", testutil.RandomDense(rng, dt, c.t, c.d))
			p := newProjection(t, g, c.m, dt, 7)
			z, err := Compress(x, p)
			if err != nil {
				t.Fatal(err)
			}
			xhat, err := Reconstruct(z, p)
			if err != nil {
				t.Fatal(err)
			}
			if want := (tensor.Shape{c.t, c.d}); !xhat.Shape().Eq(want) {
				t.Fatalf("%v %+v: reconstruct shape %v, want %v", dt, c, xhat.Shape(), want)
			}
			testutil.Run(t, g)
			tol := 1e-12
			if dt == tensor.Float32 {
				tol = 1e-5
			}
			wantZ := compressByHand(testutil.Float64s(x.Value()), c.d, p.Vector())
			testutil.CloseTo(t, "z", testutil.Float64s(z.Value()), wantZ, tol)
			testutil.CloseTo(t, "x̂", testutil.Float64s(xhat.Value()), reconstructByHand(wantZ, c.d, p.Vector()), tol)
		}
	}
}

func TestReconstructIsTheProjectionOntoV(t *testing.T) {
	// Projecting twice changes nothing, and what is removed is orthogonal to v.
	rng := rand.New(rand.NewSource(2))
	g := gorgonia.NewGraph()
	x := testutil.Input(g, "x", testutil.RandomDense(rng, tensor.Float64, 3, 8))
	p := newProjection(t, g, 4, tensor.Float64, 3)
	xhat := gorgonia.Must(Reconstruct(gorgonia.Must(Compress(x, p)), p))
	xhat2 := gorgonia.Must(Reconstruct(gorgonia.Must(Compress(xhat, p)), p))
	testutil.Run(t, g)
	testutil.CloseTo(t, "x̂ twice", testutil.Float64s(xhat2.Value()), testutil.Float64s(xhat.Value()), 1e-12)
	xs, hs, v := testutil.Float64s(x.Value()), testutil.Float64s(xhat.Value()), p.Vector()
	for s := 0; s < len(xs)/4; s++ {
		var dot float64
		for m := range v {
			dot += (xs[4*s+m] - hs[4*s+m]) * v[m]
		}
		testutil.CloseTo(t, "residual·v", []float64{dot}, []float64{0}, 1e-12)
	}
}

func TestCompressAndReconstructGradientsMatchFiniteDifferences(t *testing.T) {
	for _, c := range subTokenCases {
		rng := rand.New(rand.NewSource(4))
		g := gorgonia.NewGraph()
		x := testutil.Input(g, "x", testutil.RandomDense(rng, tensor.Float64, c.t, c.d))
		p := newProjection(t, g, c.m, tensor.Float64, 5)
		z := gorgonia.Must(Compress(x, p))
		// A second input enters through Reconstruct, so both gradients are checked.
		zIn := testutil.Input(g, "zin", testutil.RandomDense(rng, tensor.Float64, z.Shape()...))
		sum := gorgonia.Must(gorgonia.Add(z, zIn))
		cost, _ := testutil.WeightedSum(t, rng, gorgonia.Must(Reconstruct(sum, p)))
		grads, err := gorgonia.Grad(cost, x, zIn)
		if err != nil {
			t.Fatal(err)
		}
		testutil.Run(t, g)
		gx, gz := testutil.Float64s(grads[0].Value()), testutil.Float64s(grads[1].Value())
		testutil.CloseTo(t, "grad x", gx, testutil.NumericGrad(t, g, cost, x), 1e-7)
		testutil.CloseTo(t, "grad z", gz, testutil.NumericGrad(t, g, cost, zIn), 1e-7)
	}
}

func TestCompressShowsEveryForwardBatchToTheStrategy(t *testing.T) {
	// With the first-batch mean v is the normalised mean sub-token of the first
	// batch and stays frozen; with the batch mean it follows each batch.
	for _, c := range []struct {
		s      vinit.Strategy
		follow bool
	}{{vinit.FirstBatchMean(), false}, {vinit.BatchMean(), true}} {
		rng := rand.New(rand.NewSource(6))
		g := gorgonia.NewGraph()
		x := testutil.Input(g, "x", testutil.RandomDense(rng, tensor.Float64, 5, 6))
		p, err := NewProjection(g, 3, tensor.Float64, c.s, "v")
		if err != nil {
			t.Fatal(err)
		}
		if p.Initialised() {
			t.Fatalf("%v: initialised before any batch", c.s)
		}
		gorgonia.Must(Compress(x, p))
		m := gorgonia.NewTapeMachine(g)
		if err := m.RunAll(); err != nil {
			t.Fatal(err)
		}
		first := testutil.Float64s(x.Value())
		testutil.CloseTo(t, "v after batch 1", p.Vector(), meanDirection(first, 3), 1e-12)
		next := testutil.RandomDense(rng, tensor.Float64, 5, 6)
		if err := gorgonia.Let(x, next); err != nil {
			t.Fatal(err)
		}
		m.Reset()
		if err := m.RunAll(); err != nil {
			t.Fatal(err)
		}
		want := meanDirection(first, 3)
		if c.follow {
			want = meanDirection(testutil.Float64s(next), 3)
		}
		testutil.CloseTo(t, "v after batch 2", p.Vector(), want, 1e-12)
		m.Close()
	}
}

// meanDirection is the normalised mean of the sub-tokens of length m.
func meanDirection(x []float64, m int) []float64 {
	mean := make([]float64, m)
	for i, xi := range x {
		mean[i%m] += xi
	}
	var n float64
	for _, a := range mean {
		n += a * a
	}
	for i := range mean {
		mean[i] /= math.Sqrt(n)
	}
	return mean
}

func TestCompressAndReconstructLispMachineMatchesTapeMachine(t *testing.T) {
	grads := make([][]float64, 2)
	for i, lisp := range []bool{false, true} {
		rng := rand.New(rand.NewSource(8))
		g := gorgonia.NewGraph()
		x := testutil.Input(g, "x", testutil.RandomDense(rng, tensor.Float64, 3, 10))
		p := newProjection(t, g, 4, tensor.Float64, 9)
		cost, _ := testutil.WeightedSum(t, rng, gorgonia.Must(Reconstruct(gorgonia.Must(Compress(x, p)), p)))
		if lisp {
			m := gorgonia.NewLispMachine(g)
			if err := m.RunAll(); err != nil {
				t.Fatal(err)
			}
			m.Close()
			gx, err := x.Grad()
			if err != nil {
				t.Fatal(err)
			}
			grads[i] = testutil.Float64s(gx)
			continue
		}
		gx, err := gorgonia.Grad(cost, x)
		if err != nil {
			t.Fatal(err)
		}
		testutil.Run(t, g)
		grads[i] = testutil.Float64s(gx[0].Value())
	}
	testutil.CloseTo(t, "grad x", grads[1], grads[0], 1e-12)
}
