package op

import (
	"math"
	"math/rand"
	"slices"
	"strings"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	vinit "github.com/velora-go/velora/init"
	"github.com/velora-go/velora/internal/testutil"
)

// TestBadInputsGiveClearErrors checks that each bad input is refused with
// an error that names the offending value.
func TestBadInputsGiveClearErrors(t *testing.T) {
	rng := rand.New(rand.NewSource(83))
	g := gorgonia.NewGraph()
	x := testutil.Input(g, "x", testutil.RandomDense(rng, tensor.Float64, 4, 8))
	x32 := testutil.Input(g, "x32", testutil.RandomDense(rng, tensor.Float32, 4, 8))
	w := testutil.Input(g, "w", testutil.RandomDense(rng, tensor.Float64, 8, 3))
	w32 := testutil.Input(g, "w32", testutil.RandomDense(rng, tensor.Float32, 8, 3))
	wide := testutil.Input(g, "wide", testutil.RandomDense(rng, tensor.Float64, 9, 3))
	vec := testutil.Input(g, "vec", testutil.RandomDense(rng, tensor.Float64, 8))
	cube := gorgonia.NewTensor(g, tensor.Float64, 3, gorgonia.WithShape(2, 2, 8), gorgonia.WithName("cube"))
	p := newProjection(t, g, 4, tensor.Float64, 1)
	pb, err := NewProjection(g, 4, tensor.Float64, vinit.Random(1), "vb", WithZFormat(ZBFloat16))
	if err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name string
		err  func() error
		want string
	}{
		{"sub-token size 0", func() error {
			_, err := NewProjection(g, 0, tensor.Float64, nil, "p0")
			return err
		}, "sub-token size 0"},
		{"sub-token size -3", func() error {
			_, err := NewProjection(g, -3, tensor.Float64, nil, "p1")
			return err
		}, "sub-token size -3"},
		{"integer dtype", func() error {
			_, err := NewProjection(g, 4, tensor.Int, nil, "p2")
			return err
		}, "dtype int"},
		{"duplicate name", func() error {
			_, err := NewProjection(g, 4, tensor.Float64, nil, "x")
			return err
		}, `"x"`},
		{"bad running-mean decay", func() error {
			_, err := NewProjection(g, 4, tensor.Float64, vinit.RunningMean(1.5), "p3")
			return err
		}, "1.5"},
		{"rank 3 input", func() error { _, err := Compress(cube, p); return err }, "(2, 2, 8)"},
		{"rank 1 input", func() error { _, err := Linear(vec, w, p); return err }, "(8)"},
		{"x and w dtypes differ", func() error { _, err := Linear(x, w32, p); return err }, "float32"},
		{"x and v dtypes differ", func() error { _, err := Compress(x32, p); return err }, "float32"},
		{"Linear's x and v dtypes differ", func() error { _, err := Linear(x32, w32, p); return err }, `op: Linear: "x32" has dtype float32 and "v" float64`}, // it said op: Compress
		{"w of another graph", func() error {
			other := testutil.Input(gorgonia.NewGraph(), "w2", testutil.RandomDense(rng, tensor.Float64, 8, 3))
			_, err := Linear(x, other, p)
			return err
		}, `"x" and "w2" belong to different graphs`},
		{"inner dimensions differ", func() error { _, err := Linear(x, wide, p); return err }, "inner dimensions 8 and 9"},
		{"frozen inner dimensions differ", func() error { _, err := FrozenLinear(x, wide); return err }, "inner dimensions 8 and 9"},
		{"v of the wrong length", func() error { return p.SetVector([]float64{1, 2, 3}) }, "length 3, expected the sub-token size 4"},
		{"NaN in v", func() error { return p.SetVector([]float64{1, math.NaN(), 0, 0}) }, "v[1] = NaN"},
		{"zero v", func() error { return p.SetVector(make([]float64, 4)) }, "v is zero"},
		{"scale-shift weight of the wrong width", func() error { _, err := ScaleShift(x, wide, vec, p); return err }, "(9, 3)"},
		{"gradient scale 0", func() error { _, err := Linear(x, w, p, WithGradScale(0)); return err }, "gradient scale 0"},
		{"reconstruct of mismatched z", func() error { _, err := reconstruct(x, p, 5); return err }, "z has 8 sub-tokens per row, expected 2"},
		{"float z for a bf16 projection", func() error { _, err := Reconstruct(x, pb); return err }, `dtype float64, expected uint16: projection "vb" keeps z as bf16 bits`},
		{"bf16 z for a full projection", func() error { _, err := Reconstruct(gorgonia.Must(Compress(x, pb)), p); return err }, "dtype uint16, expected float64"},
		{"weight gradient of a float32 g", func() error {
			_, err := WeightGrad(gorgonia.Must(Compress(x, pb)), x32, pb, 8)
			return err
		}, "float32"},
		{"unknown z format", func() error {
			_, err := NewProjection(g, 4, tensor.Float64, nil, "p4", WithZFormat(3))
			return err
		}, "z format 3"},
	}
	for _, c := range cases {
		err := c.err()
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		if !strings.Contains(err.Error(), c.want) || !testutil.Prefixed(err.Error(), "op") {
			t.Errorf("%s: error %q does not name %q after one \"op: \"", c.name, err, c.want)
		}
	}
}

func TestNaNInTheInitialisingBatchIsAnError(t *testing.T) {
	g := gorgonia.NewGraph()
	xv := testutil.RandomDense(rand.New(rand.NewSource(89)), tensor.Float64, 3, 8)
	xv.Data().([]float64)[13] = math.NaN()
	x := testutil.Input(g, "x", xv)
	p, err := NewProjection(g, 4, tensor.Float64, vinit.FirstBatchMean(), "v")
	if err != nil {
		t.Fatal(err)
	}
	gorgonia.Must(Compress(x, p))
	m := gorgonia.NewTapeMachine(g)
	defer m.Close()
	err = m.RunAll()
	if err == nil || !strings.Contains(err.Error(), "NaN") || !strings.Contains(err.Error(), `"v"`) {
		t.Fatalf("error %v, expected one naming the NaN and the projection", err)
	}
	if p.Initialised() {
		t.Fatal("a NaN batch initialised v")
	}
}

func TestReconstructBeforeInitialisationIsAnError(t *testing.T) {
	g := gorgonia.NewGraph()
	z := testutil.Input(g, "z", testutil.RandomDense(rand.New(rand.NewSource(97)), tensor.Float64, 3, 2))
	p, err := NewProjection(g, 4, tensor.Float64, vinit.FirstBatchMean(), "v")
	if err != nil {
		t.Fatal(err)
	}
	gorgonia.Must(Reconstruct(z, p))
	m := gorgonia.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err == nil || !strings.Contains(err.Error(), "has no v yet") {
		t.Fatalf("error %v, expected one saying v is not initialised", err)
	}
}

func TestSetVectorNormalisesAndResetForgets(t *testing.T) {
	g := gorgonia.NewGraph()
	p, err := NewProjection(g, 2, tensor.Float32, vinit.FirstBatchMean(), "v")
	if err != nil {
		t.Fatal(err)
	}
	if err := p.SetVector([]float64{3, 4}); err != nil {
		t.Fatal(err)
	}
	testutil.CloseTo(t, "v", p.Vector(), []float64{0.6, 0.8}, 1e-15)
	testutil.CloseTo(t, "node value", testutil.Float64s(p.V().Value()), []float64{0.6, 0.8}, 1e-7)
	if err := p.Reset(); err != nil {
		t.Fatal(err)
	}
	if p.Initialised() {
		t.Fatal("v survived Reset")
	}
}

func TestSetTrainingFalseHidesBatchesFromTheStrategy(t *testing.T) {
	g := gorgonia.NewGraph()
	rng := rand.New(rand.NewSource(211))
	x := testutil.Input(g, "x", testutil.RandomDense(rng, tensor.Float64, 4, 8))
	p, err := NewProjection(g, 4, tensor.Float64, vinit.BatchMean(), "v")
	if err != nil {
		t.Fatal(err)
	}
	gorgonia.Must(Compress(x, p))
	m := gorgonia.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	trained := p.Vector()
	p.SetTraining(false)
	if err := gorgonia.Let(x, testutil.RandomDense(rng, tensor.Float64, 4, 8)); err != nil {
		t.Fatal(err)
	}
	m.Reset()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	testutil.CloseTo(t, "v after an evaluation batch", p.Vector(), trained, 0)
	p.SetTraining(true)
	m.Reset()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	if slices.Equal(p.Vector(), trained) {
		t.Fatal("v did not follow the batch after training resumed")
	}
}
