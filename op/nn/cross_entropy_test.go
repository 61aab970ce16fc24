package nn

import (
	"math/rand"
	"strings"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/internal/testutil"
	"github.com/velora-go/velora/machine"
)

// ignored is PyTorch's default ignore index.
const ignored = -100

// ints is a tensor.Int vector.
func ints(xs ...int) *tensor.Dense {
	return tensor.New(tensor.WithShape(len(xs)), tensor.WithBacking(append([]int(nil), xs...)))
}

// randomTargets draws n targets in [0, v), each replaced by ignore with
// probability 1/4 (the first row never is, so count ≥ 1).
func randomTargets(rng *rand.Rand, n, v, ignore int) []int {
	ts := make([]int, n)
	for i := range ts {
		ts[i] = rng.Intn(v)
		if i > 0 && rng.Intn(4) == 0 {
			ts[i] = ignore
		}
	}
	return ts
}

// plainCrossEntropy is the composition CrossEntropy replaces, from
// gorgonia's own ops: −mean of LogSoftMax(logits) at the flat indices
// i·V + targets[i] of the rows not ignored (at least one).
func plainCrossEntropy(t *testing.T, logits *gorgonia.Node, targets []int, ignore int) *gorgonia.Node {
	t.Helper()
	n, v := logits.Shape()[0], logits.Shape()[1]
	var idx []int
	for i, tg := range targets {
		if tg != ignore {
			idx = append(idx, i*v+tg)
		}
	}
	g := logits.Graph()
	at := gorgonia.NewVector(g, tensor.Int, gorgonia.WithShape(len(idx)), gorgonia.WithName("flat targets"), gorgonia.WithValue(ints(idx...)))
	logp := gorgonia.Must(gorgonia.Reshape(gorgonia.Must(gorgonia.LogSoftMax(logits)), tensor.Shape{n * v, 1})) // (N·V, 1)
	return gorgonia.Must(gorgonia.Neg(gorgonia.Must(gorgonia.Mean(gorgonia.Must(gorgonia.ByIndices(logp, at, 0))))))
}

// ceGraph is cost = 3·loss for a loss over logits: (N, V); 3 makes the
// loss's gradient g differ from 1.
type ceGraph struct {
	g                   *gorgonia.ExprGraph
	logits, targets     *gorgonia.Node
	loss, cost, gradLog *gorgonia.Node
}

// buildCrossEntropy builds ceGraph with CrossEntropy, or with the plain
// composition when plain is set (targets then fixed), and the gradient of
// the logits unless lisp is set.
func buildCrossEntropy(t *testing.T, logits *tensor.Dense, targets []int, ignore int, plain, lisp bool) *ceGraph {
	t.Helper()
	c := &ceGraph{g: gorgonia.NewGraph()}
	c.logits = testutil.Input(c.g, "logits", logits)
	c.targets = testutil.Input(c.g, "targets", ints(targets...))
	var err error
	if plain {
		c.loss = plainCrossEntropy(t, c.logits, targets, ignore)
	} else if c.loss, err = CrossEntropy(c.logits, c.targets, ignore); err != nil {
		t.Fatal(err)
	}
	c.cost = gorgonia.Must(gorgonia.Mul(c.loss, scalarLike(c.g, logits.Dtype(), 3)))
	if !lisp {
		grads, err := gorgonia.Grad(c.cost, c.logits)
		if err != nil {
			t.Fatal(err)
		}
		c.gradLog = grads[0]
	}
	return c
}

// run runs c and returns the loss and the logits' gradient.
func (c *ceGraph) run(t *testing.T, vm gorgonia.VM) (loss float64, grad []float64) {
	t.Helper()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	gv := c.gradLog
	if gv == nil {
		v, err := c.logits.Grad()
		if err != nil {
			t.Fatal(err)
		}
		return lossValue(t, c.loss.Value()), testutil.Float64s(v)
	}
	return lossValue(t, c.loss.Value()), testutil.Float64s(gv.Value())
}

// lossValue returns a scalar value as a float64.
func lossValue(t *testing.T, v gorgonia.Value) float64 {
	t.Helper()
	switch x := v.Data().(type) {
	case float64:
		return x
	case float32:
		return float64(x)
	}
	t.Fatalf("loss is a %T", v)
	return 0
}

// crossEntropyRun builds and runs a graph on a TapeMachine (a LispMachine
// when lisp is set).
func crossEntropyRun(t *testing.T, logits *tensor.Dense, targets []int, ignore int, plain, lisp bool) (*ceGraph, float64, []float64) {
	t.Helper()
	c := buildCrossEntropy(t, logits, targets, ignore, plain, lisp)
	var vm gorgonia.VM = gorgonia.NewTapeMachine(c.g)
	if lisp {
		vm = gorgonia.NewLispMachine(c.g)
	}
	defer vm.Close()
	loss, grad := c.run(t, vm)
	return c, loss, grad
}

var crossEntropyCases = []struct {
	n, v, ignore int
}{
	{1, 2, ignored},
	{5, 7, ignored},
	{8, 3, 0}, // the ignore index is a class
	{12, 16, ignored},
}

// TestCrossEntropyMatchesPlainGraph compares CrossEntropy with the
// gorgonia composition (loss and gradient to 1e-10), with finite
// differences, with itself under LispMachine and in float32.
func TestCrossEntropyMatchesPlainGraph(t *testing.T) {
	for i, tc := range crossEntropyCases {
		rng := rand.New(rand.NewSource(int64(61 + i)))
		logits := testutil.RandomDense(rng, tensor.Float64, tc.n, tc.v)
		targets := randomTargets(rng, tc.n, tc.v, tc.ignore)
		_, wantLoss, wantGrad := crossEntropyRun(t, logits, targets, tc.ignore, true, false)
		c, loss, grad := crossEntropyRun(t, logits, targets, tc.ignore, false, false)
		testutil.CloseTo(t, "loss", []float64{loss}, []float64{wantLoss}, 1e-10)
		testutil.CloseTo(t, "gradient", grad, wantGrad, 1e-10)
		testutil.CloseTo(t, "gradient by finite differences", grad, testutil.NumericGrad(t, c.g, c.cost, c.logits), 1e-7)

		_, lispLoss, lispGrad := crossEntropyRun(t, logits, targets, tc.ignore, false, true)
		testutil.CloseTo(t, "LispMachine loss", []float64{lispLoss}, []float64{loss}, 1e-12)
		testutil.CloseTo(t, "LispMachine gradient", lispGrad, grad, 1e-12)

		_, loss32, grad32 := crossEntropyRun(t, toFloat32(logits), targets, tc.ignore, false, false)
		testutil.CloseTo(t, "float32 loss", []float64{loss32}, []float64{loss}, 1e-5)
		testutil.CloseTo(t, "float32 gradient", grad32, grad, 1e-5)
	}
}

// TestCrossEntropyTargetsChangeEveryStep trains one graph on three batches,
// binding each batch's targets with gorgonia.Let, and compares every step
// with a plain graph built for that batch.
func TestCrossEntropyTargetsChangeEveryStep(t *testing.T) {
	const n, v = 6, 5
	rng := rand.New(rand.NewSource(67))
	logits := testutil.RandomDense(rng, tensor.Float64, n, v)
	c := buildCrossEntropy(t, logits, randomTargets(rng, n, v, ignored), ignored, false, false)
	vm := gorgonia.NewTapeMachine(c.g)
	defer vm.Close()
	for step := 0; step < 3; step++ {
		targets := randomTargets(rng, n, v, ignored)
		if err := gorgonia.Let(c.targets, ints(targets...)); err != nil {
			t.Fatal(err)
		}
		vm.Reset()
		loss, grad := c.run(t, vm)
		_, wantLoss, wantGrad := crossEntropyRun(t, logits, targets, ignored, true, false)
		testutil.CloseTo(t, "loss", []float64{loss}, []float64{wantLoss}, 1e-12)
		testutil.CloseTo(t, "gradient", grad, wantGrad, 1e-12)
	}
}

// TestCrossEntropyAllIgnored checks the documented choice: no counted row,
// loss 0 and gradient 0.
func TestCrossEntropyAllIgnored(t *testing.T) {
	logits := testutil.RandomDense(rand.New(rand.NewSource(71)), tensor.Float64, 3, 4)
	for _, lisp := range []bool{false, true} {
		_, loss, grad := crossEntropyRun(t, logits, []int{ignored, ignored, ignored}, ignored, false, lisp)
		testutil.CloseTo(t, "loss", []float64{loss}, []float64{0}, 0)
		testutil.CloseTo(t, "gradient", grad, make([]float64, 12), 0)
	}
}

// TestCrossEntropyBackwardKeepsNoProbabilities checks that the gradient
// reads the logits, the targets, lse and the loss's gradient only, and that
// no forward node but the logits holds (N, V) values.
func TestCrossEntropyBackwardKeepsNoProbabilities(t *testing.T) {
	const n, v = 4, 6
	rng := rand.New(rand.NewSource(73))
	g := gorgonia.NewGraph()
	logits := testutil.Input(g, "logits", testutil.RandomDense(rng, tensor.Float64, n, v))
	targets := testutil.Input(g, "targets", ints(randomTargets(rng, n, v, ignored)...))
	loss := gorgonia.Must(CrossEntropy(logits, targets, ignored))
	forward := map[int64]bool{}
	for _, nd := range g.AllNodes() {
		forward[nd.ID()] = true
		if nd != logits && nd.Shape().TotalSize() >= n*v {
			t.Errorf("forward node %v (%v) has shape %v", nd.Name(), nd.Op(), nd.Shape())
		}
	}
	grads, err := gorgonia.Grad(loss, logits)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := grads[0].Op().(*crossEntropyGradOp); !ok {
		t.Fatalf("the logits' gradient is %v", grads[0].Op())
	}
	children := g.From(grads[0].ID())
	for children.Next() {
		c := children.Node().(*gorgonia.Node)
		if _, isLSE := c.Op().(crossEntropyLSEOp); forward[c.ID()] && c != logits && c != targets && !isLSE {
			t.Errorf("the gradient reads the forward node %v (%v)", c.Name(), c.Op())
		}
	}
}

func TestCrossEntropyBadInputs(t *testing.T) {
	rng := rand.New(rand.NewSource(79))
	g := gorgonia.NewGraph()
	logits := testutil.Input(g, "logits", testutil.RandomDense(rng, tensor.Float64, 3, 5))
	targets := testutil.Input(g, "targets", ints(1, 4, ignored))
	short := testutil.Input(g, "short", ints(1, 4))
	outside := testutil.Input(g, "outside", ints(1, 5, 0))
	negative := testutil.Input(g, "negative", ints(1, 2, -1))
	floats := testutil.Input(g, "floats", testutil.RandomDense(rng, tensor.Float64, 3))
	cube := gorgonia.NewTensor(g, tensor.Float64, 3, gorgonia.WithShape(3, 5, 2), gorgonia.WithName("cube"))
	vec := testutil.Input(g, "vec", testutil.RandomDense(rng, tensor.Float64, 5))
	cases := []struct {
		name string
		err  error
		want []string
	}{
		{"target equal to V", second(CrossEntropy(logits, outside, ignored)), []string{"target 5 of row 1", "[0, 5)", "-100"}},
		{"negative target", second(CrossEntropy(logits, negative, ignored)), []string{"target -1 of row 2", "[0, 5)"}},
		{"ignore index of another run", second(CrossEntropy(logits, targets, -1)), []string{"target -100 of row 2", "[0, 5)"}},
		{"too few targets", second(CrossEntropy(logits, short, ignored)), []string{"2 targets", `"short"`, "3 rows", "(3, 5)"}},
		{"float targets", second(CrossEntropy(logits, floats, ignored)), []string{`"floats"`, "float64", "int"}},
		{"rank 3 logits", second(CrossEntropy(cube, targets, ignored)), []string{`"cube"`, "(3, 5, 2)", "(N, V)"}},
		{"rank 1 logits", second(CrossEntropy(vec, targets, ignored)), []string{`"vec"`, "(5)", "(N, V)"}},
		{"nil targets", second(CrossEntropy(logits, nil, ignored)), []string{"nil"}},
	}
	for _, c := range cases {
		if c.err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(c.err.Error(), w) || !testutil.Prefixed(c.err.Error(), "nn") {
				t.Errorf("%s: error %q does not name %q", c.name, c.err, w)
			}
		}
	}
}

// TestCrossEntropyBadTargetsWhenRunning binds an out-of-range target after
// building: the run fails naming the row, the value and V.
func TestCrossEntropyBadTargetsWhenRunning(t *testing.T) {
	logits := testutil.RandomDense(rand.New(rand.NewSource(83)), tensor.Float64, 3, 5)
	c := buildCrossEntropy(t, logits, []int{0, 1, 2}, ignored, false, false)
	if err := gorgonia.Let(c.targets, ints(0, 1, 7)); err != nil {
		t.Fatal(err)
	}
	vm := gorgonia.NewTapeMachine(c.g)
	defer vm.Close()
	err := vm.RunAll()
	if err == nil || !strings.Contains(err.Error(), "target 7 of row 2, expected a class in [0, 5)") {
		t.Fatalf("error %v, expected one naming target 7, row 2 and V = 5", err)
	}
}

// crossEntropyStep is a training step of a classifier head,
// logits = x W: (N, V), with the loss built by plain or CrossEntropy, under
// package machine. It returns the peak and W's gradient.
func crossEntropyStep(t *testing.T, n, d, v int, plain bool) (int64, []float64) {
	t.Helper()
	rng := rand.New(rand.NewSource(89))
	g := gorgonia.NewGraph()
	x := testutil.Input(g, "x", testutil.RandomDense(rng, tensor.Float32, n, d))
	w := testutil.Input(g, "w", testutil.RandomDense(rng, tensor.Float32, d, v))
	targets := randomTargets(rng, n, v, ignored)
	logits := gorgonia.Must(gorgonia.Mul(x, w)) // (N, V)
	var loss *gorgonia.Node
	if plain {
		loss = plainCrossEntropy(t, logits, targets, ignored)
	} else {
		loss = gorgonia.Must(CrossEntropy(logits, testutil.Input(g, "targets", ints(targets...)), ignored))
	}
	grads, err := gorgonia.Grad(loss, w)
	if err != nil {
		t.Fatal(err)
	}
	m, err := machine.New(g, gorgonia.Nodes{loss, grads[0]})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for run := 0; run < 2; run++ { // the second run writes into recycled buffers
		if err := m.RunAll(); err != nil {
			t.Fatal(err)
		}
	}
	return m.Stats().PeakBytes, testutil.Float64s(grads[0].Value())
}

// TestCrossEntropyPeakUnderMachine measures a training step's peak live
// bytes with CrossEntropy and with the plain composition under package
// machine.
func TestCrossEntropyPeakUnderMachine(t *testing.T) {
	const n, d, v = 64, 16, 512
	fused, got := crossEntropyStep(t, n, d, v, false)
	plain, want := crossEntropyStep(t, n, d, v, true)
	testutil.CloseTo(t, "weight gradient", got, want, 1e-5) // float32
	t.Logf("peak of a float32 training step, N=%d D=%d V=%d: fused %d bytes, plain %d bytes (%.2fx)", n, d, v, fused, plain, float64(plain)/float64(fused))
	if fused >= plain {
		t.Fatalf("fused cross entropy peaks at %d bytes, the plain graph at %d", fused, plain)
	}
}
