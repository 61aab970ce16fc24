package optim

import (
	"cmp"
	"math"
	"math/rand/v2"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/internal/check"
)

// Adafactor's constants, as flora_opt.Flora sets them by default.
const (
	floraEps1      = 1e-30 // added to g² before averaging (eps[0])
	floraEps2      = 1e-3  // least parameter RMS that scales the learning rate (eps[1])
	floraClip      = 1.0   // clip_threshold: an update's RMS is cut down to at most this
	floraDecayRate = -0.8  // decay_rate: at step t the second moment keeps 1 - t^-0.8 of itself
)

// FLoRAConfig holds the hyper-parameters of Flora (Hao, Cao and Mou, "Flora: Low-Rank
// Adapters Are Secretly Gradient Compressors", ICML 2024, arXiv 2402.03293) as its
// optimizer flora_opt.Flora names them. The zero value of each field but Rank means its
// default. The VeLoRA paper gives no Flora hyper-parameters.
type FLoRAConfig struct {
	// LearningRate is lr, at least 0; zero means the default, 1e-3. As in Adafactor,
	// each step multiplies it by the parameter's root mean square, or by 1e-3 if that
	// is smaller.
	LearningRate float64
	// Rank is r, the dimension of the compressed momentum. It is required: zero is an
	// error.
	Rank int
	// Kappa is κ: the random projections are resampled after every κ steps; zero
	// means the default, 1000.
	Kappa int
	// Beta1 is the momentum's decay, below 1; zero means the default, 0.9. Flora
	// compresses the momentum, so it needs one: flora_opt's default, no momentum, is
	// plain Adafactor, which is what VeLoRA's code ran as "flora".
	Beta1 float64
	// WeightDecay λ multiplies every weight by 1 - lr'·λ each step, lr' being the scaled
	// learning rate. Zero means no decay.
	WeightDecay float64
	// Seed seeds the random projections; zero is a seed like any other.
	Seed int64
	// Select chooses which of the 2-D parameters whose shorter side is at least Rank
	// have their momentum compressed, from the parameter's name ("" when its ValueGrad
	// has no Name method) and shape; nil chooses those whose longer side is at most 4
	// times the shorter, Flora's rule that leaves embeddings out. Every other parameter
	// keeps a full momentum.
	Select func(name string, shape tensor.Shape) bool
}

// Validate reports the first field outside its range, naming it and its value.
func (c FLoRAConfig) Validate() error {
	switch {
	case c.Rank <= 0:
		return errors.Errorf("optim: FLoRA Rank %d, expected a positive rank", c.Rank)
	case c.Kappa < 0:
		return errors.Errorf("optim: FLoRA Kappa %d, expected a count ≥ 0 (0 means 1000)", c.Kappa)
	}
	return check.First(
		check.Float("optim", "FLoRA LearningRate", c.LearningRate, c.LearningRate >= 0, "a finite number ≥ 0"),
		check.Float("optim", "FLoRA Beta1", c.Beta1, c.Beta1 >= 0 && c.Beta1 < 1, "a value in [0, 1)"),
		check.Float("optim", "FLoRA WeightDecay", c.WeightDecay, c.WeightDecay >= 0, "a finite number ≥ 0"),
	)
}

// FLoRA is a gorgonia.Solver with Flora's update (arXiv 2402.03293; flora_opt.Flora with
// a rank and a momentum): Adafactor whose momentum, for a chosen m × n parameter, is kept
// compressed by a random projection that is regenerated from a seed at every step, never
// stored. The projection works on the smaller side,
//
//	m < n:  A (r × m), down(X) = A·X (r × n),  up(C) = Aᵀ·C
//	m ≥ n:  B (n × r), down(X) = X·B (m × r),  up(C) = C·Bᵀ
//
// with entries drawn from N(0, 1/r). A step t = 1, 2, ... with gradient G is
//
//	U = G / √V̂, V̂ Adafactor's second moment (factored by rows and columns
//	    for 2-D parameters) with decay 1 - t^-0.8 and ε₁ = 1e-30 added to G²
//	update = (1-β1)·U + β1·up(C)
//	every κ-th step: draw a new projection and move C into it, C ← down'(up(C))
//	C ← β1·C + (1-β1)·down(U)
//	update /= max(1, RMS(update));  lr' = lr · max(1e-3, RMS(w))
//	w ← w - lr'·λ·w - lr'·update
//
// Other parameters keep a full momentum (update = (1-β1)·U + β1·M; M ← update). Weights
// are float32 or float64 tensors, updated in place in their own precision. Step checks
// its parameters as AdamW's does and changes nothing when it returns an error.
type FLoRA struct {
	stepState[floraState]
	cfg FLoRAConfig
}

// floraState is a parameter's state; the slices are []float32 or []float64 like the
// parameter, nil until the first step.
type floraState struct {
	compressed bool
	seed       uint64 // the current projection's seed, when compressed
	m          any    // momentum: C when compressed, else shaped like the parameter
	row, col   any    // factored second moment of a 2-D parameter (m and n long)
	v          any    // second moment of any other parameter, shaped like it
}

func (st *floraState) bytes() int64 {
	n := floatsBytes(st.m) + floatsBytes(st.row) + floatsBytes(st.col) + floatsBytes(st.v)
	if st.compressed {
		n += 8 // the seed
	}
	return n
}

// NewFLoRA returns a FLoRA solver with cfg's hyper-parameters (zero fields but Rank take
// their defaults), or the error of cfg.Validate.
func NewFLoRA(cfg FLoRAConfig) (*FLoRA, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.LearningRate = cmp.Or(cfg.LearningRate, 1e-3)
	cfg.Kappa = cmp.Or(cfg.Kappa, 1000)
	cfg.Beta1 = cmp.Or(cfg.Beta1, 0.9)
	return &FLoRA{cfg: cfg, stepState: stepState[floraState]{lr: cfg.LearningRate}}, nil
}

// Step updates every parameter of model in place by one Flora step.
func (s *FLoRA) Step(model []gorgonia.ValueGrad) error {
	return runStep(s, &s.stepState, floraSteps, model)
}

var floraSteps = stepRule[*FLoRA, floraState]{
	name: "FLoRA",
	newState: func(s *FLoRA, k int, p paramID) floraState {
		return floraState{compressed: s.compresses(p), seed: floraSeed(uint64(s.cfg.Seed), uint64(k))}
	},
	update32: floraStep[float32],
	update64: floraStep[float64],
}

// compresses reports whether FLoRA compresses the momentum of the parameter p.
func (s *FLoRA) compresses(p paramID) bool {
	if len(p.shape) != 2 {
		return false
	}
	short, long := min(p.shape[0], p.shape[1]), max(p.shape[0], p.shape[1])
	if short < s.cfg.Rank {
		return false
	}
	if s.cfg.Select == nil {
		return long <= 4*short
	}
	return s.cfg.Select(p.name, p.shape)
}

// StateBytes is the memory of the solver's state: per parameter its momentum (r × n or
// m × r when compressed, plus the 8-byte seed; else shaped like it) and its second
// moment (m + n numbers for a 2-D parameter, else shaped like it), in the parameter's
// dtype; 0 before the first step.
func (s *FLoRA) StateBytes() int64 {
	var n int64
	for k := range s.state {
		n += s.state[k].bytes()
	}
	return n
}

// floraStep is one Flora step of the weights w with gradient g.
func floraStep[T optFloat](s *FLoRA, w, g []T, shape tensor.Shape, st *floraState) {
	u := make([]T, len(w))
	rho := 1 - math.Pow(float64(s.t), floraDecayRate)
	if len(shape) == 2 {
		floraFactored(u, g, shape[0], shape[1], st, rho)
	} else {
		v := zerosOf[T](&st.v, len(w))
		for i, x := range g {
			v[i] = T(rho)*v[i] + T(1-rho)*(x*x+floraEps1)
			u[i] = x / T(math.Sqrt(float64(v[i])))
		}
	}
	b1 := T(s.cfg.Beta1)
	if st.compressed {
		floraMomentum(u, shape[0], shape[1], s.cfg.Rank, st, b1, s.t%s.cfg.Kappa == 0)
	} else {
		m := zerosOf[T](&st.m, len(w))
		for i := range u {
			u[i] = (1-b1)*u[i] + b1*m[i]
			m[i] = u[i]
		}
	}
	lr := s.lr * math.Max(floraEps2, rootMeanSquare(w))
	decay := T(1 - lr*s.cfg.WeightDecay)
	step := T(lr / math.Max(1, rootMeanSquare(u)/floraClip))
	for i := range w {
		w[i] = w[i]*decay - step*u[i]
	}
}

// floraFactored updates Adafactor's factored second moment of the rows × cols gradient g
// and sets u to g divided by its estimated root.
func floraFactored[T optFloat](u, g []T, rows, cols int, st *floraState, rho float64) {
	row, col := zerosOf[T](&st.row, rows), zerosOf[T](&st.col, cols)
	rowSum, colSum := make([]float64, rows), make([]float64, cols)
	for i := range rows {
		for j := range cols {
			x := float64(g[i*cols+j])
			rowSum[i] += x*x + floraEps1
			colSum[j] += x*x + floraEps1
		}
	}
	var rowMean float64
	for i := range row {
		row[i] = T(rho)*row[i] + T((1-rho)*rowSum[i]/float64(cols))
		rowMean += float64(row[i]) / float64(rows)
	}
	for j := range col {
		col[j] = T(rho)*col[j] + T((1-rho)*colSum[j]/float64(rows))
	}
	for i := range rows {
		rf := 1 / math.Sqrt(float64(row[i])/rowMean)
		for j := range cols {
			u[i*cols+j] = g[i*cols+j] * T(rf/math.Sqrt(float64(col[j])))
		}
	}
}

// floraMomentum turns the normalised update u of a rows × cols parameter into
// (1-β1)·u + β1·up(C) and moves the compressed momentum C on, resampling the projection
// first when asked.
func floraMomentum[T optFloat](u []T, rows, cols, r int, st *floraState, b1 T, resample bool) {
	left := rows < cols
	side := cols
	if left {
		side = rows
	}
	cur := floraProjection[T](st.seed, r, side) // left: (r, rows); right: (cols, r)
	next, nextSeed := cur, st.seed
	if resample {
		nextSeed = floraSeed(st.seed, floraResampleStream)
		next = floraProjection[T](nextSeed, r, side)
	}
	d := make([]T, r*max(rows, cols)) // down'(u): (r, cols) or (rows, r)
	c := zerosOf[T](&st.m, len(d))
	if left {
		matMul(false, false, r, cols, rows, 1, next, u, 0, d)
	} else {
		matMul(false, false, rows, r, cols, 1, u, next, 0, d)
	}
	for i := range u {
		u[i] *= 1 - b1
	}
	if left {
		matMul(true, false, rows, cols, r, b1, cur, c, 1, u) // u += β1·Aᵀ·C
	} else {
		matMul(false, true, rows, cols, r, b1, c, cur, 1, u) // u += β1·C·Bᵀ
	}
	if resample {
		// C ← down'(up(C)) through an r × r matrix: A'·Aᵀ·C or C·Bᵀ·B'.
		k, moved := make([]T, r*r), make([]T, len(c))
		if left {
			matMul(false, true, r, r, rows, 1, next, cur, 0, k)
			matMul(false, false, r, cols, r, 1, k, c, 0, moved)
		} else {
			matMul(true, false, r, r, cols, 1, cur, next, 0, k)
			matMul(false, false, rows, r, r, 1, c, k, 0, moved)
		}
		copy(c, moved)
		st.seed = nextSeed
	}
	for i := range c {
		c[i] = b1*c[i] + (1-b1)*d[i]
	}
}

// floraResampleStream separates the seeds of resampled projections from those of the
// first ones.
const floraResampleStream = 1 << 32

// floraSeed derives a seed from a and b.
func floraSeed(a, b uint64) uint64 { return rand.NewPCG(a, b).Uint64() }

// floraProjection draws the r·side entries of a projection from N(0, 1/r) with seed.
func floraProjection[T optFloat](seed uint64, r, side int) []T {
	rng := rand.New(rand.NewPCG(seed, 0))
	p := make([]T, r*side)
	scale := 1 / math.Sqrt(float64(r))
	for i := range p {
		p[i] = T(rng.NormFloat64() * scale)
	}
	return p
}

// rootMeanSquare is the root mean square of x, accumulated in float64.
func rootMeanSquare[T optFloat](x []T) float64 {
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s / float64(len(x)))
}
