package optim

import (
	"cmp"
	"math"
	"strconv"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/internal/check"
)

// AdamConfig holds the hyper-parameters of Adam with decoupled weight decay as
// torch.optim.AdamW defines them (Loshchilov and Hutter, arXiv 1711.05101). The zero
// value of each field means its default, so AdamConfig{} is torch's AdamW without
// weight decay, the paper's full-rank C4 baseline.
type AdamConfig struct {
	// LearningRate is the step size lr, at least 0; zero means the default, 1e-3
	// (torch's). A schedule changes it between steps through SetLearningRate.
	LearningRate float64
	// Beta1 is the decay of the first moment, below 1; zero means the default, 0.9.
	Beta1 float64
	// Beta2 is the decay of the second moment, below 1; zero means the default, 0.999.
	Beta2 float64
	// Eps is added to the bias-corrected root of the second moment; zero means the
	// default, 1e-8.
	Eps float64
	// WeightDecay λ multiplies every weight by 1 - lr·λ each step, apart from the
	// gradient. Zero means no decay, the paper's recipe (torch's default is 0.01).
	WeightDecay float64
}

// Validate reports the first field outside its range, naming it and its value.
func (c AdamConfig) Validate() error { return c.validate("Adam") }

// validate is Validate with the solver's name in the messages.
func (c AdamConfig) validate(solver string) error {
	return check.First(
		check.Float("optim", solver+" LearningRate", c.LearningRate, c.LearningRate >= 0, "a finite number ≥ 0"),
		check.Float("optim", solver+" Beta1", c.Beta1, c.Beta1 >= 0 && c.Beta1 < 1, "a value in [0, 1)"),
		check.Float("optim", solver+" Beta2", c.Beta2, c.Beta2 >= 0 && c.Beta2 < 1, "a value in [0, 1)"),
		check.Float("optim", solver+" Eps", c.Eps, c.Eps >= 0, "a finite number ≥ 0"),
		check.Float("optim", solver+" WeightDecay", c.WeightDecay, c.WeightDecay >= 0, "a finite number ≥ 0"),
	)
}

func (c AdamConfig) withDefaults() AdamConfig {
	c.LearningRate = cmp.Or(c.LearningRate, 1e-3)
	c.Beta1 = cmp.Or(c.Beta1, 0.9)
	c.Beta2 = cmp.Or(c.Beta2, 0.999)
	c.Eps = cmp.Or(c.Eps, 1e-8)
	return c
}

// AdamW is a gorgonia.Solver with torch.optim.AdamW's update: for step t = 1, 2, ...
//
//	m ← β1·m + (1-β1)·g,  v ← β2·v + (1-β2)·g²
//	w ← w·(1 - lr·λ) - lr · (m/(1-β1ᵗ)) / (√(v/(1-β2ᵗ)) + ε)
//
// It replaces gorgonia v0.9.18's AdamW, which panics unless its ValueGrads are
// *gorgonia.Node and never writes the new weights back. Weights are float32 or float64
// tensors, updated in place in their own precision; gradients are read, never changed.
// The moments are kept per parameter by its index in the slice passed to Step, so every
// step must pass the same parameters in the same order: Step checks their number,
// names, shapes and dtypes against the first step and returns an error, changing
// nothing, when they differ or a gradient holds a NaN or an infinity.
type AdamW struct {
	stepState[adamMoments]
	cfg AdamConfig
}

// NewAdamW returns an AdamW solver with cfg's hyper-parameters (zero fields take their
// defaults), or the error of cfg.Validate.
func NewAdamW(cfg AdamConfig) (*AdamW, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	return &AdamW{cfg: cfg, stepState: stepState[adamMoments]{lr: cfg.LearningRate}}, nil
}

// Step updates every parameter of model in place by one AdamW step.
func (s *AdamW) Step(model []gorgonia.ValueGrad) error {
	return runStep(s, &s.stepState, adamWSteps, model)
}

var adamWSteps = stepRule[*AdamW, adamMoments]{
	name:     "AdamW",
	newState: func(*AdamW, int, paramID) adamMoments { return adamMoments{} },
	update32: adamWStep[float32],
	update64: adamWStep[float64],
}

// adamWStep is one AdamW step of a parameter of s.
func adamWStep[T optFloat](s *AdamW, w, g []T, _ tensor.Shape, a *adamMoments) {
	adamWUpdate(w, g, a, s.cfg, s.lr, s.t)
}

// StateBytes is the memory of the solver's state: two moments shaped like each
// parameter, in its dtype; 0 before the first step.
func (s *AdamW) StateBytes() int64 {
	var n int64
	for _, m := range s.state {
		n += m.bytes()
	}
	return n
}

// adamMoments are Adam's first and second moments of one tensor: []float32 or
// []float64 like the parameter, nil before the first step.
type adamMoments struct {
	m, v any
}

func (a *adamMoments) bytes() int64 { return floatsBytes(a.m) + floatsBytes(a.v) }

// adamWUpdate is one AdamW step of the weights w with gradient g at step t.
func adamWUpdate[T optFloat](w, g []T, a *adamMoments, cfg AdamConfig, lr float64, t int) {
	m, v := momentsOf[T](a, len(w))
	c := newAdamCoef[T](cfg, t)
	decay := T(1 - lr*cfg.WeightDecay)
	step := T(lr / (1 - math.Pow(cfg.Beta1, float64(t))))
	for i := range w {
		w[i] = w[i]*decay - step*c.dir(g[i], &m[i], &v[i])
	}
}

// momentsOf returns a's moments, allocating zeros of length n on first use.
func momentsOf[T optFloat](a *adamMoments, n int) (m, v []T) {
	return zerosOf[T](&a.m, n), zerosOf[T](&a.v, n)
}

// zerosOf returns the []T that *x holds, first storing n zeros there if it holds nil.
func zerosOf[T optFloat](x *any, n int) []T {
	if *x == nil {
		*x = make([]T, n)
	}
	return (*x).([]T)
}

// adamCoef holds the Adam coefficients of step t in the parameter's precision.
type adamCoef[T optFloat] struct {
	beta1, beta2, sqrtBC2, eps T
}

func newAdamCoef[T optFloat](cfg AdamConfig, t int) adamCoef[T] {
	return adamCoef[T]{
		beta1:   T(cfg.Beta1),
		beta2:   T(cfg.Beta2),
		sqrtBC2: T(math.Sqrt(1 - math.Pow(cfg.Beta2, float64(t)))),
		eps:     T(cfg.Eps),
	}
}

// dir moves the moments m and v by the gradient g and returns m / (√(v/(1-β2ᵗ)) + ε):
// divided by 1-β1ᵗ it is Adam's normalised update m̂/(√v̂+ε).
func (c adamCoef[T]) dir(g T, m, v *T) T {
	*m = c.beta1**m + (1-c.beta1)*g
	*v = c.beta2**v + (1-c.beta2)*g*g
	return *m / (T(math.Sqrt(float64(*v)))/c.sqrtBC2 + c.eps)
}

// optFloat is the element type of the weights the solvers of this package update.
type optFloat interface{ float32 | float64 }

// paramID is what a solver remembers of a parameter from its first step.
type paramID struct {
	index int
	name  string
	shape tensor.Shape
	dtype tensor.Dtype
}

func (p paramID) String() string {
	if p.name == "" {
		return "parameter " + strconv.Itoa(p.index)
	}
	return "parameter " + strconv.Itoa(p.index) + " " + strconv.Quote(p.name)
}

// optParam is one parameter of a step: its identity, and its weights and gradient as
// []float32 or []float64 of the same type.
type optParam struct {
	paramID
	w, g any
}

func idsOf(ps []optParam) []paramID {
	ids := make([]paramID, len(ps))
	for k, p := range ps {
		ids[k] = p.paramID
	}
	return ids
}

// stepParams reads and checks the parameters of a step of the named solver before it
// changes anything: known, the parameters of the first step (nil on the first step), must
// match in number, names, shapes and dtypes; the gradients must exist, match their
// weights and hold finite numbers; the learning rate must be finite and ≥ 0.
func stepParams(solver string, model []gorgonia.ValueGrad, known []paramID, lr float64) ([]optParam, error) {
	if err := check.Float("optim", solver+" learning rate", lr, lr >= 0, "a finite number ≥ 0"); err != nil {
		return nil, err
	}
	if known != nil && len(model) != len(known) {
		return nil, errors.Errorf("optim: %s step got %d parameters, expected %d as at the first step: the solver keeps its state by parameter index", solver, len(model), len(known))
	}
	ps := make([]optParam, len(model))
	for k, vg := range model {
		p, err := readParam(k, vg)
		if err != nil {
			return nil, check.Wrapf(err, "optim: %s", solver)
		}
		if known != nil {
			if err := sameParam(p.paramID, known[k]); err != nil {
				return nil, check.Wrapf(err, "optim: %s", solver)
			}
		}
		ps[k] = p
	}
	return ps, nil
}

func readParam(k int, vg gorgonia.ValueGrad) (optParam, error) {
	p := optParam{paramID: paramID{index: k}}
	if n, ok := vg.(gorgonia.Namer); ok {
		p.name = n.Name()
	}
	w, ok := vg.Value().(*tensor.Dense)
	if !ok {
		return p, errors.Errorf("%v holds %T, expected a *tensor.Dense", p.paramID, vg.Value())
	}
	gv, err := vg.Grad()
	if err != nil {
		return p, check.Wrapf(err, "gradient of %v", p.paramID)
	}
	g, ok := gv.(*tensor.Dense)
	if !ok {
		return p, errors.Errorf("gradient of %v is %T, expected a *tensor.Dense", p.paramID, gv)
	}
	p.shape, p.dtype = w.Shape().Clone(), w.Dtype()
	if !g.Shape().Eq(w.Shape()) || g.Dtype() != w.Dtype() {
		return p, errors.Errorf("gradient of %v is %v %v, expected %v %v like the weights", p.paramID, g.Shape(), g.Dtype(), p.shape, p.dtype)
	}
	n := p.shape.TotalSize()
	switch wd := w.Data().(type) {
	case []float32:
		p.w, p.g = wd, g.Data()
		if len(wd) != n {
			return p, errors.Errorf("%v holds %d numbers, expected %d for shape %v: a view is not a parameter", p.paramID, len(wd), n, p.shape)
		}
		return p, finite(p.paramID, p.g.([]float32))
	case []float64:
		p.w, p.g = wd, g.Data()
		if len(wd) != n {
			return p, errors.Errorf("%v holds %d numbers, expected %d for shape %v: a view is not a parameter", p.paramID, len(wd), n, p.shape)
		}
		return p, finite(p.paramID, p.g.([]float64))
	}
	return p, errors.Errorf("%v has dtype %v, expected float32 or float64", p.paramID, p.dtype)
}

func sameParam(got, want paramID) error {
	switch {
	case got.name != want.name:
		return errors.Errorf("parameter %d is named %q, expected %q as at the first step: the solver keeps its state by parameter index", got.index, got.name, want.name)
	case !got.shape.Eq(want.shape) || got.dtype != want.dtype:
		return errors.Errorf("%v is %v %v, expected %v %v as at the first step", got, got.shape, got.dtype, want.shape, want.dtype)
	}
	return nil
}

func finite[T optFloat](p paramID, g []T) error {
	for i, x := range g {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return errors.Errorf("gradient of %v holds %v at element %d", p, x, i)
		}
	}
	return nil
}

// floatsBytes is the size of a []float32 or []float64 held in an any; 0 for nil.
func floatsBytes(x any) int64 {
	switch x := x.(type) {
	case []float32:
		return 4 * int64(len(x))
	case []float64:
		return 8 * int64(len(x))
	}
	return 0
}
