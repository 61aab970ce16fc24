package optim

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/velora-go/velora/internal/testutil"
)

// floraRef is Flora's update for one parameter written out in float64 with plain loops,
// following flora_opt.Flora's step; it takes the projections from the seed the way the
// solver defines them (floraProjection, floraSeed).
type floraRef struct {
	rows, cols  int // cols is 0 for a vector
	rank, kappa int
	lr, wd, b1  float64
	compressed  bool
	seed        uint64
	c, m, v     []float64
	row, col    []float64
	steps       int
}

// refAt returns element (i, j) of the row-major matrix a with n columns.
func refAt(a []float64, n, i, j int) float64 { return a[i*n+j] }

// refMul returns the a × b product of the row-major matrices x (a × k) and y (k × b).
func refMul(x, y []float64, a, k, b int) []float64 {
	out := make([]float64, a*b)
	for i := range a {
		for j := range b {
			for l := range k {
				out[i*b+j] += refAt(x, k, i, l) * refAt(y, b, l, j)
			}
		}
	}
	return out
}

// refT returns the transpose of the row-major a × b matrix x.
func refT(x []float64, a, b int) []float64 {
	out := make([]float64, a*b)
	for i := range a {
		for j := range b {
			out[j*a+i] = x[i*b+j]
		}
	}
	return out
}

func refRMS(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v * v
	}
	return math.Sqrt(s / float64(len(x)))
}

func (f *floraRef) step(w, g []float64) {
	f.steps++
	t := float64(f.steps)
	rho := 1 - math.Pow(t, -0.8)
	n := len(w)
	u := make([]float64, n)
	if f.cols == 0 {
		if f.v == nil {
			f.v = make([]float64, n)
		}
		for i := range g {
			f.v[i] = rho*f.v[i] + (1-rho)*(g[i]*g[i]+1e-30)
			u[i] = g[i] / math.Sqrt(f.v[i])
		}
	} else {
		if f.row == nil {
			f.row, f.col = make([]float64, f.rows), make([]float64, f.cols)
		}
		for i := range f.rows {
			var s float64
			for j := range f.cols {
				s += refAt(g, f.cols, i, j)*refAt(g, f.cols, i, j) + 1e-30
			}
			f.row[i] = rho*f.row[i] + (1-rho)*s/float64(f.cols)
		}
		for j := range f.cols {
			var s float64
			for i := range f.rows {
				s += refAt(g, f.cols, i, j)*refAt(g, f.cols, i, j) + 1e-30
			}
			f.col[j] = rho*f.col[j] + (1-rho)*s/float64(f.rows)
		}
		var mean float64
		for _, x := range f.row {
			mean += x / float64(f.rows)
		}
		for i := range f.rows {
			for j := range f.cols {
				u[i*f.cols+j] = refAt(g, f.cols, i, j) / math.Sqrt(f.row[i]/mean) / math.Sqrt(f.col[j])
			}
		}
	}
	upd := make([]float64, n)
	if f.compressed {
		left := f.rows < f.cols
		r := f.rank
		proj := func(seed uint64) []float64 {
			if left {
				return floraProjection[float64](seed, r, f.rows) // A: (r, rows)
			}
			return floraProjection[float64](seed, r, f.cols) // B: (cols, r)
		}
		up := func(a, c []float64) []float64 {
			if left {
				return refMul(refT(a, r, f.rows), c, f.rows, r, f.cols) // Aᵀ·C
			}
			return refMul(c, refT(a, f.cols, r), f.rows, r, f.cols) // C·Bᵀ
		}
		down := func(a, x []float64) []float64 {
			if left {
				return refMul(a, x, r, f.rows, f.cols) // A·X
			}
			return refMul(x, a, f.rows, f.cols, r) // X·B
		}
		a := proj(f.seed)
		if f.c == nil {
			f.c = make([]float64, r*max(f.rows, f.cols))
		}
		upC := up(a, f.c)
		for i := range upd {
			upd[i] = (1-f.b1)*u[i] + f.b1*upC[i]
		}
		if f.steps%f.kappa == 0 {
			f.seed = floraSeed(f.seed, floraResampleStream)
			a = proj(f.seed)
			f.c = down(a, upC)
		}
		d := down(a, u)
		for i := range f.c {
			f.c[i] = f.b1*f.c[i] + (1-f.b1)*d[i]
		}
	} else {
		if f.m == nil {
			f.m = make([]float64, n)
		}
		for i := range upd {
			upd[i] = (1-f.b1)*u[i] + f.b1*f.m[i]
			f.m[i] = upd[i]
		}
	}
	clip := math.Max(1, refRMS(upd))
	lr := f.lr * math.Max(1e-3, refRMS(w))
	for i := range w {
		w[i] = w[i] - lr*f.wd*w[i] - lr*upd[i]/clip
	}
}

// TestFLoRAMatchesItsUpdateWrittenOut runs four Flora steps with κ = 2, so that the
// projections are resampled twice, on a tall and a wide matrix with compressed momentum,
// an embedding-shaped matrix (longer side over 4 times the shorter: full momentum,
// factored second moment) and a vector, against floraRef.
func TestFLoRAMatchesItsUpdateWrittenOut(t *testing.T) {
	const rank, kappa, lr, wd, b1, seed = 2, 2, 0.05, 0.1, 0.9, 42
	rng := rand.New(rand.NewPCG(21, 22))
	ps := []*stubParam{
		newStubParam(rng, "tall", tensor.Float64, 5, 3),
		newStubParam(rng, "wide", tensor.Float64, 3, 4),
		newStubParam(rng, "emb", tensor.Float64, 2, 9),
		newStubParam(rng, "b", tensor.Float64, 3),
	}
	refs := make([]*floraRef, len(ps))
	weights := make([][]float64, len(ps))
	for k, p := range ps {
		shape := p.w.Shape()
		refs[k] = &floraRef{rows: shape[0], rank: rank, kappa: kappa, lr: lr, wd: wd, b1: b1,
			compressed: k < 2, seed: floraSeed(seed, uint64(k))}
		if len(shape) == 2 {
			refs[k].cols = shape[1]
		}
		weights[k] = testutil.Float64s(p.w)
	}
	s, err := NewFLoRA(FLoRAConfig{LearningRate: lr, Rank: rank, Kappa: kappa, Beta1: b1, WeightDecay: wd, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	for step := range 4 {
		for k, p := range ps {
			stubFill(rng, p.g)
			refs[k].step(weights[k], testutil.Float64s(p.g))
		}
		if err := s.Step(stubModel(ps...)); err != nil {
			t.Fatal(err)
		}
		for k, p := range ps {
			if d := testutil.MaxAbsDiff(testutil.Float64s(p.w), weights[k]); d > 1e-12 {
				t.Errorf("step %d, %s: FLoRA and the written-out update differ by %g", step, p.name, d)
			}
		}
	}
	for k, want := range []bool{true, true, false, false} {
		if s.state[k].compressed != want {
			t.Errorf("%s: compressed = %v, want %v", ps[k].name, s.state[k].compressed, want)
		}
	}
}

// TestFLoRAProjectionIsReproducibleFromItsSeed steps three solvers on equal models and
// gradients: two with one seed end with bit-equal weights, through a resampling; one
// with another seed ends elsewhere on the compressed matrix, and equal on the vector,
// whose momentum is not compressed.
func TestFLoRAProjectionIsReproducibleFromItsSeed(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	base := []*stubParam{newStubParam(rng, "w", tensor.Float32, 8, 6), newStubParam(rng, "b", tensor.Float32, 6)}
	models := [][]*stubParam{stubClone(base), stubClone(base), stubClone(base)}
	var solvers []*FLoRA
	for _, seed := range []int64{1, 1, 2} {
		s, err := NewFLoRA(FLoRAConfig{LearningRate: 0.1, Rank: 2, Kappa: 2, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		solvers = append(solvers, s)
	}
	for range 3 {
		for _, p := range base {
			stubFill(rng, p.g)
		}
		for k, s := range solvers {
			for j, p := range models[k] {
				p.g = base[j].g.Clone().(*tensor.Dense)
			}
			if err := s.Step(stubModel(models[k]...)); err != nil {
				t.Fatal(err)
			}
		}
	}
	w := func(k, j int) []float32 { return models[k][j].w.Data().([]float32) }
	if !slices.Equal(w(0, 0), w(1, 0)) || !slices.Equal(w(0, 1), w(1, 1)) {
		t.Error("the same seed gave different weights")
	}
	if slices.Equal(w(0, 0), w(2, 0)) {
		t.Error("another seed gave the same weights of the compressed matrix")
	}
	if !slices.Equal(w(0, 1), w(2, 1)) {
		t.Error("another seed changed the vector, whose momentum is not compressed")
	}
	if solvers[0].state[0].seed != solvers[1].state[0].seed || solvers[0].state[0].seed == floraSeed(1, 0) {
		t.Error("the seeds do not follow each other or were not resampled")
	}
}

// TestFLoRAStateIsSmallerThanAdamsByTheFormula compares FLoRA's state bytes with
// AdamW's: for an m × n matrix with compressed momentum FLoRA keeps C (m × r when
// m ≥ n, r × n otherwise), the factored second moment (m + n) and an 8-byte seed, where
// Adam keeps 2mn; so Adam/FLoRA = 2mn·b / ((m·r + m + n)·b + 8) for b-byte elements.
// An embedding-shaped matrix keeps a full momentum (mn) and m + n; a vector 2n.
func TestFLoRAStateIsSmallerThanAdamsByTheFormula(t *testing.T) {
	const r = 8
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		b := int64(dt.Size())
		for _, c := range []struct {
			name  string
			shape []int
			want  int64 // FLoRA's state in bytes
		}{
			{"tall", []int{64, 32}, (64*r+64+32)*b + 8},
			{"wide", []int{32, 96}, (r*96+32+96)*b + 8},
			{"emb", []int{200, 16}, (200*16 + 200 + 16) * b},
			{"bias", []int{32}, 2 * 32 * b},
		} {
			rng := rand.New(rand.NewPCG(25, 26))
			p := newStubParam(rng, c.name, dt, c.shape...)
			as, _ := NewAdamW(AdamConfig{})
			fs, err := NewFLoRA(FLoRAConfig{Rank: r})
			if err != nil {
				t.Fatal(err)
			}
			if err := as.Step(stubModel(p)); err != nil {
				t.Fatal(err)
			}
			if err := fs.Step(stubModel(stubClone([]*stubParam{p})...)); err != nil {
				t.Fatal(err)
			}
			if got := fs.StateBytes(); got != c.want {
				t.Errorf("%v %s %v: FLoRA state %d bytes, want %d", dt, c.name, c.shape, got, c.want)
			}
			ratio := float64(as.StateBytes()) / float64(fs.StateBytes())
			if c.name == "tall" {
				m, n := 64.0, 32.0
				if want := 2 * m * n * float64(b) / ((m*r+m+n)*float64(b) + 8); math.Abs(ratio-want) > 1e-12 {
					t.Errorf("%v tall: Adam/FLoRA = %v, want %v", dt, ratio, want)
				}
			}
			t.Logf("%v %s %v: Adam %d bytes, FLoRA %d bytes, ratio %.3f", dt, c.name, c.shape, as.StateBytes(), fs.StateBytes(), ratio)
		}
	}
}

// TestFLoRASelectChoosesTheCompressedMatrices checks that Select replaces Flora's
// aspect-ratio rule but not the rank bound.
func TestFLoRASelectChoosesTheCompressedMatrices(t *testing.T) {
	rng := rand.New(rand.NewPCG(27, 28))
	ps := []*stubParam{
		newStubParam(rng, "emb", tensor.Float64, 40, 4),
		newStubParam(rng, "q", tensor.Float64, 8, 8),
		newStubParam(rng, "thin", tensor.Float64, 8, 1),
	}
	s, err := NewFLoRA(FLoRAConfig{Rank: 2, Select: func(name string, _ tensor.Shape) bool { return name != "q" }})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Step(stubModel(ps...)); err != nil {
		t.Fatal(err)
	}
	for k, want := range []bool{true, false, false} {
		if s.state[k].compressed != want {
			t.Errorf("%s: compressed = %v, want %v", ps[k].name, s.state[k].compressed, want)
		}
	}
}

func TestFLoRAConfigValidateNamesTheField(t *testing.T) {
	for _, c := range []struct {
		cfg  FLoRAConfig
		want string
	}{
		{FLoRAConfig{}, "FLoRA Rank 0, expected a positive rank"},
		{FLoRAConfig{Rank: -1}, "FLoRA Rank -1, expected a positive rank"},
		{FLoRAConfig{Rank: 4, Kappa: -5}, "FLoRA Kappa -5, expected a count ≥ 0"},
		{FLoRAConfig{Rank: 4, Beta1: 1.5}, "FLoRA Beta1 is 1.5"},
		{FLoRAConfig{Rank: 4, LearningRate: -1}, "FLoRA LearningRate is -1"},
		{FLoRAConfig{Rank: 4, WeightDecay: math.Inf(1)}, "FLoRA WeightDecay is +Inf"},
	} {
		_, err := NewFLoRA(c.cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "optim: ") {
			t.Errorf("%+v: got %v, want an error saying %q", c.cfg, err, c.want)
		}
	}
}
