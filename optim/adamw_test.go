package optim

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/internal/testutil"
	"github.com/velora-go/velora/machine"
)

// stubParam is a parameter as a test hands it to a solver: weights and a gradient.
type stubParam struct {
	name string
	w, g *tensor.Dense
}

func (p *stubParam) Value() gorgonia.Value         { return p.w }
func (p *stubParam) Grad() (gorgonia.Value, error) { return p.g, nil }
func (p *stubParam) Name() string                  { return p.name }

// newStubParam makes a parameter of the given shape with weights and gradient drawn
// from N(0, 1) by rng.
func newStubParam(rng *rand.Rand, name string, dt tensor.Dtype, shape ...int) *stubParam {
	p := &stubParam{
		name: name,
		w:    tensor.New(tensor.WithShape(shape...), tensor.Of(dt)),
		g:    tensor.New(tensor.WithShape(shape...), tensor.Of(dt)),
	}
	stubFill(rng, p.w)
	stubFill(rng, p.g)
	return p
}

// stubFill sets every element of t to a draw from N(0, 1).
func stubFill(rng *rand.Rand, t *tensor.Dense) {
	switch d := t.Data().(type) {
	case []float32:
		for i := range d {
			d[i] = float32(rng.NormFloat64())
		}
	case []float64:
		for i := range d {
			d[i] = rng.NormFloat64()
		}
	}
}

func stubModel(ps ...*stubParam) []gorgonia.ValueGrad {
	out := make([]gorgonia.ValueGrad, len(ps))
	for k, p := range ps {
		out[k] = p
	}
	return out
}

// stubClone copies the parameters, weights and gradients, so two solvers can step
// equal models.
func stubClone(ps []*stubParam) []*stubParam {
	out := make([]*stubParam, len(ps))
	for k, p := range ps {
		out[k] = &stubParam{name: p.name, w: p.w.Clone().(*tensor.Dense), g: p.g.Clone().(*tensor.Dense)}
	}
	return out
}

// TestAdamWMatchesTwoStepsWrittenOut checks two AdamW steps against torch.optim.AdamW's
// update written out in float64, with weight decay.
func TestAdamWMatchesTwoStepsWrittenOut(t *testing.T) {
	const lr, wd, b1, b2, eps = 0.1, 0.01, 0.9, 0.999, 1e-8
	w0 := []float64{1, -2, 0.5}
	g1 := []float64{0.5, 0.1, -3}
	g2 := []float64{-0.25, 0.1, 1e-3}
	s, err := NewAdamW(AdamConfig{LearningRate: lr, WeightDecay: wd})
	if err != nil {
		t.Fatal(err)
	}
	p := &stubParam{
		name: "w",
		w:    tensor.New(tensor.WithBacking(append([]float64(nil), w0...))),
		g:    tensor.New(tensor.WithBacking(append([]float64(nil), g1...))),
	}
	if err := s.Step(stubModel(p)); err != nil {
		t.Fatal(err)
	}
	copy(p.g.Data().([]float64), g2)
	if err := s.Step(stubModel(p)); err != nil {
		t.Fatal(err)
	}
	for i := range w0 {
		m1 := (1 - b1) * g1[i]
		v1 := (1 - b2) * g1[i] * g1[i]
		w1 := w0[i]*(1-lr*wd) - lr*(m1/(1-b1))/(math.Sqrt(v1/(1-b2))+eps)
		m2 := b1*m1 + (1-b1)*g2[i]
		v2 := b2*v1 + (1-b2)*g2[i]*g2[i]
		w2 := w1*(1-lr*wd) - lr*(m2/(1-b1*b1))/(math.Sqrt(v2/(1-b2*b2))+eps)
		if got := p.w.Data().([]float64)[i]; math.Abs(got-w2) > 1e-14 {
			t.Errorf("w[%d] after two steps = %.17g, want %.17g", i, got, w2)
		}
	}
	// By hand for w[0]: step 1 moves it by about lr·sign(g) = -0.1 after the decay to
	// 0.999; step 2 has m̂ = 0.02/0.19 and v̂ = 0.00031225/0.001999, so it moves by
	// 0.1·0.10526/0.39523 = 0.026633 after the decay.
	if got, want := p.w.Data().([]float64)[0], (0.999-0.1)*0.999-0.026633; math.Abs(got-want) > 1e-6 {
		t.Errorf("w[0] = %v, by hand %v", got, want)
	}
}

// TestAdamWMatchesGorgoniaAdamWithoutDecay compares AdamW without weight decay with
// gorgonia's AdamSolver, which is plain Adam. gorgonia's AdamSolver applies
// w -= η·m̂/(√v̂ + ε) with m̂ = m/(1-β1ᵗ), v̂ = v/(1-β2ᵗ): ε after the square root of
// the bias-corrected v̂, as torch does, so the updates agree up to rounding. gorgonia's
// solver squares and then zeroes the gradients it is given, so it gets copies.
func TestAdamWMatchesGorgoniaAdamWithoutDecay(t *testing.T) {
	const lr = 0.01
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		rng := rand.New(rand.NewPCG(1, 2))
		mine := []*stubParam{newStubParam(rng, "w", dt, 4, 3), newStubParam(rng, "b", dt, 3)}
		theirs := stubClone(mine)
		s, err := NewAdamW(AdamConfig{LearningRate: lr})
		if err != nil {
			t.Fatal(err)
		}
		ref := gorgonia.NewAdamSolver(gorgonia.WithLearnRate(lr))
		for step := range 5 {
			for k, p := range mine {
				stubFill(rng, p.g)
				theirs[k].g = p.g.Clone().(*tensor.Dense)
			}
			before := testutil.Float64s(mine[0].g)
			if err := s.Step(stubModel(mine...)); err != nil {
				t.Fatal(err)
			}
			if err := ref.Step(stubModel(theirs...)); err != nil {
				t.Fatal(err)
			}
			if testutil.MaxAbsDiff(before, testutil.Float64s(mine[0].g)) != 0 {
				t.Fatalf("%v step %d changed the gradient", dt, step)
			}
			for k := range mine {
				// The weights are O(1); the float32 updates differ in rounding only.
				if d := testutil.MaxAbsDiff(testutil.Float64s(mine[k].w), testutil.Float64s(theirs[k].w)); d > 1e-6 {
					t.Errorf("%v step %d, %s: AdamW and gorgonia's Adam differ by %g", dt, step, mine[k].name, d)
				}
			}
		}
	}
}

func TestAdamWStateBytesAreTwoCopiesOfTheParameters(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	ps := []*stubParam{newStubParam(rng, "w", tensor.Float32, 5, 7), newStubParam(rng, "b", tensor.Float64, 7)}
	s, err := NewAdamW(AdamConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.StateBytes(); got != 0 {
		t.Fatalf("before a step: %d bytes, want 0", got)
	}
	if err := s.Step(stubModel(ps...)); err != nil {
		t.Fatal(err)
	}
	if got, want := s.StateBytes(), int64(2*(5*7*4+7*8)); got != want {
		t.Fatalf("StateBytes = %d, want %d", got, want)
	}
}

func TestAdamConfigValidateNamesTheField(t *testing.T) {
	for _, c := range []struct {
		cfg  AdamConfig
		want string
	}{
		{AdamConfig{LearningRate: -1}, "LearningRate is -1"},
		{AdamConfig{LearningRate: math.NaN()}, "LearningRate is NaN"},
		{AdamConfig{Beta1: 1}, "Beta1 is 1"},
		{AdamConfig{Beta2: -0.5}, "Beta2 is -0.5"},
		{AdamConfig{Eps: math.Inf(1)}, "Eps is +Inf"},
		{AdamConfig{WeightDecay: -0.1}, "WeightDecay is -0.1"},
	} {
		_, err := NewAdamW(c.cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "optim: ") {
			t.Errorf("%+v: got %v, want an error naming %q", c.cfg, err, c.want)
		}
	}
}

// stepper is what the tests need of every solver of this package.
type stepper interface {
	gorgonia.Solver
	SetLearningRate(lr float64)
	StateBytes() int64
}

// solverCases makes one of each solver for a model of a 6 × 4 matrix and a 4-vector,
// with rank 2 where there is one.
var solverCases = []struct {
	name string
	make func(lr float64) (stepper, error)
}{
	{"AdamW", func(lr float64) (stepper, error) { return NewAdamW(AdamConfig{LearningRate: lr}) }},
	{"GaLore", func(lr float64) (stepper, error) {
		return NewGaLore(GaLoreConfig{AdamConfig: AdamConfig{LearningRate: lr}, Rank: 2, UpdateGap: 10})
	}},
	{"FLoRA", func(lr float64) (stepper, error) { return NewFLoRA(FLoRAConfig{LearningRate: lr, Rank: 2, Kappa: 10}) }},
}

// TestSolversReduceAQuadraticLoss trains W (6 × 4) and b (4) towards fixed targets,
// loss = Σ(W-A)² + Σ(b-c)², for 100 steps under machine, in float64 and float32.
func TestSolversReduceAQuadraticLoss(t *testing.T) {
	for _, sc := range solverCases {
		for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
			rng := rand.New(rand.NewPCG(5, 6))
			g := gorgonia.NewGraph()
			target := func(name string, shape ...int) *gorgonia.Node {
				v := tensor.New(tensor.WithShape(shape...), tensor.Of(dt))
				stubFill(rng, v)
				return gorgonia.NodeFromAny(g, v, gorgonia.WithName(name))
			}
			param := func(name string, shape ...int) *gorgonia.Node {
				v := tensor.New(tensor.WithShape(shape...), tensor.Of(dt))
				stubFill(rng, v)
				return gorgonia.NewTensor(g, dt, len(shape), gorgonia.WithShape(shape...), gorgonia.WithName(name), gorgonia.WithValue(v))
			}
			w, b := param("W", 6, 4), param("b", 4)
			a, c := target("A", 6, 4), target("c", 4)
			sq := func(x, y *gorgonia.Node) *gorgonia.Node {
				return gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.Square(gorgonia.Must(gorgonia.Sub(x, y))))))
			}
			loss := gorgonia.Must(gorgonia.Add(sq(w, a), sq(b, c)))
			params := gorgonia.Nodes{w, b}
			grads, err := gorgonia.Grad(loss, params...)
			if err != nil {
				t.Fatal(err)
			}
			m, err := machine.New(g, append(gorgonia.Nodes{loss}, grads...))
			if err != nil {
				t.Fatal(err)
			}
			s, err := sc.make(0.1)
			if err != nil {
				t.Fatal(err)
			}
			var first, last float64
			for step := range 100 {
				if err := m.RunAll(); err != nil {
					t.Fatal(err)
				}
				last = testutil.Scalar(loss.Value())
				if step == 0 {
					first = last
				}
				if err := s.Step(m.ValueGrads(params)); err != nil {
					t.Fatal(err)
				}
			}
			// Measured: AdamW ends at about 1e-5 of the start, FLoRA at 0.2%, GaLore
			// (rank 2 of 4, α = 0.25) at 14%. A wrong sign or a lost projection
			// would not get under a quarter.
			if last > first/4 {
				t.Errorf("%s %v: loss went from %v to %v in 100 steps", sc.name, dt, first, last)
			}
			t.Logf("%s %v: loss %v → %v", sc.name, dt, first, last)
			m.Close()
		}
	}
}

// TestAdamWStepsGorgoniaNodesAsTapeMachineLeavesThem runs the same training under
// TapeMachine, handing the solver gorgonia's own nodes, and under machine, and checks
// that the weights agree after every step.
func TestAdamWStepsGorgoniaNodesAsTapeMachineLeavesThem(t *testing.T) {
	build := func() (*gorgonia.ExprGraph, gorgonia.Nodes, *gorgonia.Node) {
		rng := rand.New(rand.NewPCG(7, 8))
		g := gorgonia.NewGraph()
		xv := tensor.New(tensor.WithShape(5, 3), tensor.Of(tensor.Float64))
		wv := tensor.New(tensor.WithShape(3, 2), tensor.Of(tensor.Float64))
		stubFill(rng, xv)
		stubFill(rng, wv)
		x := gorgonia.NodeFromAny(g, xv, gorgonia.WithName("x"))
		w := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(3, 2), gorgonia.WithName("w"), gorgonia.WithValue(wv))
		loss := gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.Square(gorgonia.Must(gorgonia.Mul(x, w))))))
		return g, gorgonia.Nodes{w}, loss
	}
	tg, tparams, tloss := build()
	mg, mparams, mloss := build()
	if _, err := gorgonia.Grad(tloss, tparams...); err != nil {
		t.Fatal(err)
	}
	mgrads, err := gorgonia.Grad(mloss, mparams...)
	if err != nil {
		t.Fatal(err)
	}
	tvm := gorgonia.NewTapeMachine(tg)
	defer tvm.Close()
	mvm, err := machine.New(mg, append(gorgonia.Nodes{mloss}, mgrads...))
	if err != nil {
		t.Fatal(err)
	}
	defer mvm.Close()
	ts, _ := NewAdamW(AdamConfig{LearningRate: 0.05})
	ms, _ := NewAdamW(AdamConfig{LearningRate: 0.05})
	for step := range 10 {
		if err := tvm.RunAll(); err != nil {
			t.Fatal(err)
		}
		if err := ts.Step(gorgonia.NodesToValueGrads(tparams)); err != nil {
			t.Fatal(err)
		}
		tvm.Reset()
		if err := mvm.RunAll(); err != nil {
			t.Fatal(err)
		}
		if err := ms.Step(mvm.ValueGrads(mparams)); err != nil {
			t.Fatal(err)
		}
		tw, mw := testutil.Float64s(tparams[0].Value().(*tensor.Dense)), testutil.Float64s(mparams[0].Value().(*tensor.Dense))
		if d := testutil.MaxAbsDiff(tw, mw); d > 1e-12 {
			t.Fatalf("step %d: weights under TapeMachine and machine differ by %g", step, d)
		}
	}
}

// TestSolversRejectAChangedOrBadStepAndChangeNothing checks each solver's errors: the
// parameter list changing between steps (number, order, shape), a NaN or infinite
// gradient, a negative learning rate; each names what is wrong, and the failed step
// leaves the weights and the solver's state as they were.
func TestSolversRejectAChangedOrBadStepAndChangeNothing(t *testing.T) {
	bad := []struct {
		name  string
		model func(w, b *stubParam) []gorgonia.ValueGrad
		lr    float64
		want  string
	}{
		{"one parameter fewer", func(w, b *stubParam) []gorgonia.ValueGrad { return stubModel(w) }, 0.1,
			"got 1 parameters, expected 2 as at the first step"},
		{"order swapped", func(w, b *stubParam) []gorgonia.ValueGrad { return stubModel(b, w) }, 0.1,
			`parameter 0 is named "b", expected "W" as at the first step`},
		{"shape changed", func(w, b *stubParam) []gorgonia.ValueGrad {
			return stubModel(w, &stubParam{name: "b", w: tensor.New(tensor.Of(tensor.Float64), tensor.WithShape(5)), g: tensor.New(tensor.Of(tensor.Float64), tensor.WithShape(5))})
		}, 0.1, `parameter 1 "b" is (5) float64, expected (4) float64 as at the first step`},
		{"NaN gradient", func(w, b *stubParam) []gorgonia.ValueGrad {
			b.g.Data().([]float64)[2] = math.NaN()
			return stubModel(w, b)
		}, 0.1, `gradient of parameter 1 "b" holds NaN at element 2`},
		{"infinite gradient", func(w, b *stubParam) []gorgonia.ValueGrad {
			w.g.Data().([]float64)[7] = math.Inf(-1)
			return stubModel(w, b)
		}, 0.1, `gradient of parameter 0 "W" holds -Inf at element 7`},
		{"negative learning rate", func(w, b *stubParam) []gorgonia.ValueGrad { return stubModel(w, b) }, -0.1,
			"learning rate is -0.1, expected a finite number ≥ 0"},
	}
	for _, sc := range solverCases {
		for _, c := range bad {
			rng := rand.New(rand.NewPCG(9, 10))
			w, b := newStubParam(rng, "W", tensor.Float64, 6, 4), newStubParam(rng, "b", tensor.Float64, 4)
			twin := stubClone([]*stubParam{w, b}) // steps the same, without the bad step
			s, err := sc.make(0.1)
			if err != nil {
				t.Fatal(err)
			}
			ts, _ := sc.make(0.1)
			if err := s.Step(stubModel(w, b)); err != nil {
				t.Fatal(err)
			}
			if err := ts.Step(stubModel(twin...)); err != nil {
				t.Fatal(err)
			}

			s.SetLearningRate(c.lr)
			err = s.Step(c.model(w, b))
			if err == nil || !strings.HasPrefix(err.Error(), "optim: "+sc.name) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s, %s: got %v, want an error from %s saying %q", sc.name, c.name, err, sc.name, c.want)
				continue
			}

			s.SetLearningRate(0.1)
			for k, p := range []*stubParam{w, b} {
				stubFill(rng, p.g)
				twin[k].g = p.g.Clone().(*tensor.Dense)
			}
			if err := s.Step(stubModel(w, b)); err != nil {
				t.Fatal(err)
			}
			if err := ts.Step(stubModel(twin...)); err != nil {
				t.Fatal(err)
			}
			if testutil.MaxAbsDiff(testutil.Float64s(w.w), testutil.Float64s(twin[0].w)) != 0 || testutil.MaxAbsDiff(testutil.Float64s(b.w), testutil.Float64s(twin[1].w)) != 0 {
				t.Errorf("%s, %s: the failed step changed the weights or the state", sc.name, c.name)
			}
		}
	}
}
