package nf4

import (
	"math/rand"
	"strings"
	"testing"
	"time"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/internal/testutil"
	"github.com/velora-go/velora/kernel"
	"github.com/velora-go/velora/op/internal/opkit"
)

// nf4LinearCases: a weight whose size is not a multiple of 64 (407
// weights), and one dequantised in three tiles (65536/1100 = 59 columns a
// tile: 59, 59 and 32).
var nf4LinearCases = []struct{ t, d, dout int }{
	{5, 37, 11},
	{3, 1100, 150},
}

// nf4Result holds the output and input gradient of one graph.
type nf4Result struct{ out, gradX []float64 }

// buildNF4 runs x @ w and its input gradient on a TapeMachine, either
// through NF4Linear or through gorgonia's Mul with the dequantised weight.
func buildNF4(t *testing.T, xv *tensor.Dense, q *Weight, plain bool) nf4Result {
	t.Helper()
	g := gorgonia.NewGraph()
	x := testutil.Input(g, "x", xv)
	var out *gorgonia.Node
	var err error
	if plain {
		out, err = gorgonia.Mul(x, testutil.Input(g, "w", q.Dequantize()))
	} else {
		out, err = Linear(x, q)
	}
	if err != nil {
		t.Fatal(err)
	}
	cost, _ := testutil.WeightedSum(t, rand.New(rand.NewSource(127)), out)
	grads, err := gorgonia.Grad(cost, x)
	if err != nil {
		t.Fatal(err)
	}
	testutil.Run(t, g)
	return nf4Result{testutil.Float64s(out.Value()), testutil.Float64s(grads[0].Value())}
}

func TestNF4LinearMatchesMulWithTheDequantisedWeight(t *testing.T) {
	for _, c := range nf4LinearCases {
		for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
			tol := 1e-12
			if dt == tensor.Float32 {
				tol = 1e-5 // float32 sums of up to 1100 products
			}
			rng := rand.New(rand.NewSource(131))
			xv := testutil.RandomDense(rng, dt, c.t, c.d)
			q := mustQuantize(t, testutil.RandomDense(rng, dt, c.d, c.dout))
			got, want := buildNF4(t, xv, q, false), buildNF4(t, xv, q, true)
			testutil.CloseTo(t, "out", got.out, want.out, tol)
			testutil.CloseTo(t, "grad x", got.gradX, want.gradX, tol)
		}
	}
}

// TestNF4LinearComputesInTheInputDtype multiplies a float32 input by a
// weight quantised from float64: the dequantised values are float32 numbers
// in either case, so the float32 product matches Mul with them.
func TestNF4LinearComputesInTheInputDtype(t *testing.T) {
	rng := rand.New(rand.NewSource(137))
	q := mustQuantize(t, testutil.RandomDense(rng, tensor.Float64, 37, 11))
	w32 := make([]float32, 37*11)
	for i, v := range q.Dequantize().Data().([]float64) {
		w32[i] = float32(v)
	}
	g := gorgonia.NewGraph()
	x := testutil.Input(g, "x", testutil.RandomDense(rng, tensor.Float32, 5, 37))
	got, err := Linear(x, q)
	if err != nil {
		t.Fatal(err)
	}
	want, err := gorgonia.Mul(x, testutil.Input(g, "w", tensor.New(tensor.WithShape(37, 11), tensor.WithBacking(w32))))
	if err != nil {
		t.Fatal(err)
	}
	testutil.Run(t, g)
	if got.Dtype() != tensor.Float32 {
		t.Fatalf("output dtype %v, want float32", got.Dtype())
	}
	testutil.CloseTo(t, "out", testutil.Float64s(got.Value()), testutil.Float64s(want.Value()), 1e-6)
}

func TestNF4LinearGradientMatchesFiniteDifferences(t *testing.T) {
	rng := rand.New(rand.NewSource(139))
	q := mustQuantize(t, testutil.RandomDense(rng, tensor.Float64, 37, 11))
	g := gorgonia.NewGraph()
	x := testutil.Input(g, "x", testutil.RandomDense(rng, tensor.Float64, 3, 37))
	cost, _ := testutil.WeightedSum(t, rng, gorgonia.Must(Linear(x, q)))
	grads, err := gorgonia.Grad(cost, x)
	if err != nil {
		t.Fatal(err)
	}
	testutil.Run(t, g)
	testutil.CloseTo(t, "grad x", testutil.Float64s(grads[0].Value()), testutil.NumericGrad(t, g, cost, x), 1e-7)
}

// TestNF4LinearBackwardNeverReadsX walks the nodes gorgonia.Grad adds and
// checks that none has x as a child.
func TestNF4LinearBackwardNeverReadsX(t *testing.T) {
	rng := rand.New(rand.NewSource(149))
	q := mustQuantize(t, testutil.RandomDense(rng, tensor.Float64, 8, 3))
	g := gorgonia.NewGraph()
	x := testutil.Input(g, "x", testutil.RandomDense(rng, tensor.Float64, 4, 8))
	cost := gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.Square(gorgonia.Must(Linear(x, q))))))
	testutil.BackwardNeverReads(t, cost, x, x)
}

// TestNF4LinearLispMachineMatchesTapeMachine runs the same graph under
// LispMachine's DoDiff path and TapeMachine's SymDiff path.
func TestNF4LinearLispMachineMatchesTapeMachine(t *testing.T) {
	for _, c := range nf4LinearCases {
		rng := rand.New(rand.NewSource(151))
		xv := testutil.RandomDense(rng, tensor.Float64, c.t, c.d)
		q := mustQuantize(t, testutil.RandomDense(rng, tensor.Float64, c.d, c.dout))
		tape := buildNF4(t, xv, q, false)

		g := gorgonia.NewGraph()
		x := testutil.Input(g, "x", xv)
		out := gorgonia.Must(Linear(x, q))
		testutil.WeightedSum(t, rand.New(rand.NewSource(127)), out)
		m := gorgonia.NewLispMachine(g)
		if err := m.RunAll(); err != nil {
			t.Fatal(err)
		}
		m.Close()
		gx, err := x.Grad()
		if err != nil {
			t.Fatal(err)
		}
		testutil.CloseTo(t, "out", testutil.Float64s(out.Value()), tape.out, 1e-12)
		testutil.CloseTo(t, "grad x", testutil.Float64s(gx), tape.gradX, 1e-12)
	}
}

// TestNF4LinearNodesMergeOnlyForTheSameWeight: the graph merges nodes with
// the same op hash and children, so the hash must tell weights apart.
func TestNF4LinearNodesMergeOnlyForTheSameWeight(t *testing.T) {
	rng := rand.New(rand.NewSource(157))
	wv := testutil.RandomDense(rng, tensor.Float64, 8, 3)
	q1, q2 := mustQuantize(t, wv), mustQuantize(t, wv)
	g := gorgonia.NewGraph()
	x := testutil.Input(g, "x", testutil.RandomDense(rng, tensor.Float64, 4, 8))
	a, b, c := gorgonia.Must(Linear(x, q1)), gorgonia.Must(Linear(x, q1)), gorgonia.Must(Linear(x, q2))
	if a != b {
		t.Error("two NF4Linear nodes of one weight and one input were not merged")
	}
	if a == c {
		t.Error("NF4Linear nodes of two weights were merged")
	}
}

func TestNF4LinearRejectsBadInputs(t *testing.T) {
	rng := rand.New(rand.NewSource(163))
	q := mustQuantize(t, testutil.RandomDense(rng, tensor.Float64, 37, 11))
	g := gorgonia.NewGraph()
	x := testutil.Input(g, "x", testutil.RandomDense(rng, tensor.Float64, 4, 37))
	narrow := testutil.Input(g, "narrow", testutil.RandomDense(rng, tensor.Float64, 4, 36))
	vec := testutil.Input(g, "vec", testutil.RandomDense(rng, tensor.Float64, 37))
	cube := gorgonia.NewTensor(g, tensor.Float64, 3, gorgonia.WithShape(2, 2, 37), gorgonia.WithName("cube"))
	ints := gorgonia.NewMatrix(g, tensor.Int, gorgonia.WithShape(4, 37), gorgonia.WithName("ints"))
	cases := []struct {
		name string
		x    *gorgonia.Node
		q    *Weight
		want []string
	}{
		{"nil weight", x, nil, []string{"NF4 weight is nil"}},
		{"nil input", nil, q, []string{"input is nil"}},
		{"vector", vec, q, []string{`"vec"`, "(37)"}},
		{"rank 3", cube, q, []string{`"cube"`, "(2, 2, 37)"}},
		{"integers", ints, q, []string{"dtype int"}},
		{"width", narrow, q, []string{`"narrow"`, "(4, 36)", "(37, 11)", "inner dimensions 36 and 37"}},
	}
	for _, c := range cases {
		_, err := Linear(c.x, c.q)
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) || !testutil.Prefixed(err.Error(), "nf4") {
				t.Errorf("%s: error %q, want one containing %q", c.name, err, w)
			}
		}
	}
}

// benchNF4Linear times NF4Linear's forward (or its input gradient, with
// transB) and the plain product with the dequantised float32 weight on the
// same input in one run, and reports both and their ratio.
// benchT, benchD, benchDout are the sizes of package op's benchmarks.
const benchT, benchD, benchDout = 2048, 1024, 1024

func benchNF4Linear(b *testing.B, transB bool) {
	rng := rand.New(rand.NewSource(4))
	q := mustQuantize(b, testutil.RandomDense(rng, tensor.Float32, benchD, benchDout))
	w := q.Dequantize()
	rows, cols := benchD, benchDout
	if transB {
		rows, cols = cols, rows
	}
	a, c := testutil.RandomDense(rng, tensor.Float32, benchT, rows), opkit.Zeros(tensor.Float32, benchT, cols)
	var nf4 gorgonia.UsePreallocDoer = &nf4LinearOp{nf4MatMulOp{q: q}}
	if transB {
		nf4 = &nf4MatMulOp{q: q, transB: true}
	}
	ad, wd, cd := a.Data().([]float32), w.Data().([]float32), c.Data().([]float32)
	b.ReportAllocs()
	b.ResetTimer()
	var nf4Time, plainTime time.Duration
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if _, err := nf4.UsePreallocDo(c, a); err != nil {
			b.Fatal(err)
		}
		mid := time.Now()
		kernel.Gemm(false, transB, benchT, cols, rows, 1, ad, rows, wd, benchDout, 0, cd, cols)
		nf4Time += mid.Sub(start)
		plainTime += time.Since(mid)
	}
	b.ReportMetric(float64(nf4Time.Nanoseconds())/float64(b.N), "nf4-ns/op")
	b.ReportMetric(float64(plainTime.Nanoseconds())/float64(b.N), "matmul-ns/op")
	b.ReportMetric(float64(nf4Time)/float64(plainTime), "nf4/matmul")
}

func BenchmarkNF4LinearForward(b *testing.B)   { benchNF4Linear(b, false) }
func BenchmarkNF4LinearInputGrad(b *testing.B) { benchNF4Linear(b, true) }
