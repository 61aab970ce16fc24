package optim

import (
	"cmp"
	"math"

	"github.com/pkg/errors"
	"gonum.org/v1/gonum/blas/gonum"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/internal/check"
	"github.com/velora-go/velora/kernel"
)

// GaLoreConfig holds the hyper-parameters of GaLore (Zhao et al., "GaLore: Memory-
// Efficient LLM Training by Gradient Low-Rank Projection", arXiv 2403.03507). The zero
// value of each field but Rank means its default; the defaults are the paper's C4
// settings.
type GaLoreConfig struct {
	// AdamConfig holds Adam's hyper-parameters, used in the projected space and for
	// the parameters GaLore leaves to plain AdamW.
	AdamConfig
	// Rank is r, the dimension of the projected space. It is required: zero is an
	// error. The paper uses 128 for the 60M model and 256 for the 130M one.
	Rank int
	// UpdateGap is T (update_proj_gap): the projections are recomputed at steps
	// 0, T, 2T, ... (0-based); zero means the default, 200.
	UpdateGap int
	// Scale is α (galore_scale), multiplying the projected-back update; zero means
	// the default, 0.25, the paper's C4 value (the GaLore library's default is 1).
	Scale float64
	// Select chooses which of the 2-D parameters whose shorter side is at least Rank
	// GaLore projects, from the parameter's name ("" when its ValueGrad has no Name
	// method) and shape; nil chooses them all. The paper's C4 runs project the
	// attention and MLP projections, not the embedding or the head. Every other
	// parameter takes plain AdamW steps.
	Select func(name string, shape tensor.Shape) bool
}

// Validate reports the first field outside its range, naming it and its value.
func (c GaLoreConfig) Validate() error {
	if err := c.AdamConfig.validate("GaLore"); err != nil {
		return err
	}
	switch {
	case c.Rank <= 0:
		return errors.Errorf("optim: GaLore Rank %d, expected a positive rank", c.Rank)
	case c.UpdateGap < 0:
		return errors.Errorf("optim: GaLore UpdateGap %d, expected a count ≥ 0 (0 means 200)", c.UpdateGap)
	}
	return check.Float("optim", "GaLore Scale", c.Scale, c.Scale >= 0, "a finite number ≥ 0")
}

// GaLore is a gorgonia.Solver that runs Adam on gradients projected onto a low-rank
// subspace (arXiv 2403.03507; galore_projector.py's "std" projection and GaLore's
// AdamW). For a chosen parameter with an m × n gradient G, at steps 0, T, 2T, ... it
// takes the SVD G = U·S·Vᵀ and keeps, on the smaller side,
//
//	m ≥ n:  P = the first r rows of Vᵀ (r × n),     R = G·Pᵀ (m × r),  back(N) = N·P
//	m < n:  P = the first r columns of U (m × r),   R = Pᵀ·G (r × n),  back(N) = P·N
//
// Adam's moments live in R's shape, and the step is
//
//	N = m̂/(√v̂ + ε) from R,   w ← w·(1 - lr·λ) - lr·α·back(N)
//
// Every other parameter takes AdamW's step (see AdamW). The SVD runs in float64 and
// each kept singular vector is signed so that its largest entry is positive; P, the
// moments and the update are in the parameter's dtype. Step checks its parameters as
// AdamW's does and changes nothing when it returns an error.
//
// Two details follow torch.optim.AdamW rather than GaLore's code, for one update rule in
// this package: ε is added to the bias-corrected √v̂ (GaLore adds it to √v, which
// amounts to ε/√(1-β2ᵗ) here), and weight decay shrinks the weights before the update
// rather than after; the differences are of order ε and lr²·λ.
type GaLore struct {
	stepState[galoreState]
	cfg GaLoreConfig
}

// galoreState is a parameter's state: its projection P ([]float32 or []float64, nil
// for a parameter GaLore does not project) and its Adam moments, shaped like R when
// projected and like the parameter otherwise.
type galoreState struct {
	adamMoments
	projected bool
	proj      any
}

// NewGaLore returns a GaLore solver with cfg's hyper-parameters (zero fields but Rank
// take their defaults), or the error of cfg.Validate.
func NewGaLore(cfg GaLoreConfig) (*GaLore, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.AdamConfig = cfg.AdamConfig.withDefaults()
	cfg.UpdateGap = cmp.Or(cfg.UpdateGap, 200)
	cfg.Scale = cmp.Or(cfg.Scale, 0.25)
	return &GaLore{cfg: cfg, stepState: stepState[galoreState]{lr: cfg.LearningRate}}, nil
}

// Step updates every parameter of model in place by one GaLore step.
func (s *GaLore) Step(model []gorgonia.ValueGrad) error {
	return runStep(s, &s.stepState, galoreSteps, model)
}

var galoreSteps = stepRule[*GaLore, galoreState]{
	name: "GaLore",
	newState: func(s *GaLore, _ int, p paramID) galoreState {
		return galoreState{projected: s.projects(p)}
	},
	prepare:  (*GaLore).newProjections,
	update32: galoreStep[float32],
	update64: galoreStep[float64],
}

// newProjections computes the projections of a step that recomputes them, all of
// them before it stores any, so that a failed SVD leaves everything as it was.
func (s *GaLore) newProjections(ps []optParam, state []galoreState) error {
	if s.t%s.cfg.UpdateGap != 0 {
		return nil
	}
	projs := make([]any, len(ps))
	for k, p := range ps {
		if !state[k].projected {
			continue
		}
		var err error
		if projs[k], err = galoreProjection(p, s.cfg.Rank); err != nil {
			return err
		}
	}
	for k := range state {
		if state[k].projected {
			state[k].proj = projs[k]
		}
	}
	return nil
}

// galoreStep is one step of a parameter of s: GaLore's when projected, AdamW's if not.
func galoreStep[T optFloat](s *GaLore, w, g []T, shape tensor.Shape, st *galoreState) {
	if !st.projected {
		adamWUpdate(w, g, &st.adamMoments, s.cfg.AdamConfig, s.lr, s.t)
		return
	}
	galoreUpdate(w, g, shape[0], shape[1], st.proj.([]T), &st.adamMoments, s.cfg, s.lr, s.t)
}

// projects reports whether GaLore projects the parameter p.
func (s *GaLore) projects(p paramID) bool {
	return len(p.shape) == 2 && min(p.shape[0], p.shape[1]) >= s.cfg.Rank &&
		(s.cfg.Select == nil || s.cfg.Select(p.name, p.shape))
}

// StateBytes is the memory of the solver's state: per projected parameter its
// projection and two moments shaped like R, per other parameter two moments shaped like
// it, all in the parameter's dtype; 0 before the first step.
func (s *GaLore) StateBytes() int64 {
	var n int64
	for _, st := range s.state {
		n += st.bytes() + floatsBytes(st.proj)
	}
	return n
}

// galoreUpdate is one GaLore step of the weights w (rows × cols) with gradient g and
// projection p at step t.
func galoreUpdate[T optFloat](w, g []T, rows, cols int, p []T, a *adamMoments, cfg GaLoreConfig, lr float64, t int) {
	r := cfg.Rank
	left := rows < cols
	var n []T
	if left {
		n = make([]T, r*cols) // R = Pᵀ·G: (r, cols)
		matMul(true, false, r, cols, rows, 1, p, g, 0, n)
	} else {
		n = make([]T, rows*r) // R = G·Pᵀ: (rows, r)
		matMul(false, true, rows, r, cols, 1, g, p, 0, n)
	}
	m, v := momentsOf[T](a, len(n))
	c := newAdamCoef[T](cfg.AdamConfig, t)
	for i := range n {
		n[i] = c.dir(n[i], &m[i], &v[i])
	}
	decay := T(1 - lr*cfg.WeightDecay)
	for i := range w {
		w[i] *= decay
	}
	step := T(-lr * cfg.Scale / (1 - math.Pow(cfg.Beta1, float64(t))))
	if left {
		matMul(false, false, rows, cols, r, step, p, n, 1, w) // w += step·P·N
	} else {
		matMul(false, false, rows, cols, r, step, n, p, 1, w) // w += step·N·P
	}
}

// galoreProjection returns P for the gradient of p (see GaLore) as a []float32 or
// []float64 like the gradient.
func galoreProjection(p optParam, r int) (any, error) {
	rows, cols := p.shape[0], p.shape[1]
	var g []float64
	switch pg := p.g.(type) {
	case []float32:
		g = make([]float64, len(pg))
		for i, x := range pg {
			g[i] = float64(x)
		}
	case []float64:
		g = append([]float64(nil), pg...)
	}
	var svd mat.SVD
	if !svd.Factorize(mat.NewDense(rows, cols, g), mat.SVDThin) {
		return nil, errors.Errorf("optim: GaLore: the SVD of the gradient of %v did not converge", p.paramID)
	}
	// The kept singular vectors, each with its largest entry made positive: the SVD
	// leaves the signs open, and fixed signs keep the moments' axes from flipping
	// when the subspace is recomputed but has not moved.
	var vecs mat.Dense
	if rows < cols {
		svd.UTo(&vecs) // (rows, rows)
	} else {
		svd.VTo(&vecs) // (cols, cols)
	}
	n, _ := vecs.Dims()
	proj := make([]float64, r*n)
	for j := range r {
		v := mat.Col(nil, j, &vecs)
		if v[gonum.Implementation{}.Idamax(n, v, 1)] < 0 {
			floats.Scale(-1, v)
		}
		for i, x := range v {
			if rows < cols {
				proj[i*r+j] = x // P = U[:, :r]: (rows, r)
			} else {
				proj[j*n+i] = x // P = Vᵀ[:r, :]: (r, cols)
			}
		}
	}
	if _, ok := p.g.([]float32); ok {
		return toFloat32(proj), nil
	}
	return proj, nil
}

func toFloat32(x []float64) []float32 {
	y := make([]float32, len(x))
	for i, v := range x {
		y[i] = float32(v)
	}
	return y
}

// matMul sets c = alpha·op(a)·op(b) + beta·c for row-major matrices, where op(a) is
// m × k (a is k × m when transA) and op(b) is k × n (b is n × k when transB).
func matMul[T optFloat](transA, transB bool, m, n, k int, alpha T, a, b []T, beta T, c []T) {
	lda, ldb := k, n
	if transA {
		lda = m
	}
	if transB {
		ldb = k
	}
	kernel.Gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, n)
}
