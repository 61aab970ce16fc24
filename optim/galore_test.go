package optim

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/internal/testutil"
)

// stubOrthonormal returns an n × k matrix (k ≤ n) with orthonormal columns: the Q of
// the QR factorisation of a matrix drawn from N(0, 1) by rng.
func stubOrthonormal(rng *rand.Rand, n, k int) *mat.Dense {
	a := mat.NewDense(n, k, nil)
	for i := range n {
		for j := range k {
			a.Set(i, j, rng.NormFloat64())
		}
	}
	var qr mat.QR
	qr.Factorize(a)
	var q mat.Dense
	qr.QTo(&q)
	return mat.DenseCopyOf(q.Slice(0, n, 0, k))
}

// stubSetMatrix copies the rows × cols matrix a into the tensor t.
func stubSetMatrix(t *tensor.Dense, a mat.Matrix) {
	rows, cols := a.Dims()
	for i := range rows {
		for j := range cols {
			switch d := t.Data().(type) {
			case []float32:
				d[i*cols+j] = float32(a.At(i, j))
			case []float64:
				d[i*cols+j] = a.At(i, j)
			}
		}
	}
}

// stubDescending returns k distinct positive numbers in decreasing order, drawn by rng.
func stubDescending(rng *rand.Rand, k int) []float64 {
	s := make([]float64, k)
	for i := range s {
		s[i] = 0.1 + float64(i) + rng.Float64()
	}
	slices.Reverse(s)
	return s
}

// TestGaLoreFullRankWithGapOneIsAdam checks that GaLore with rank equal to the smaller
// side, T = 1 and α = 1 takes AdamW's steps, to 1e-6, for a tall and a wide matrix and
// a vector. The exact reduction needs the singular vectors that span the gradient's
// smaller side to be the standard basis: a full-rank P is orthogonal, and Adam in a
// rotated basis is another optimizer, because Adam normalises element by element. So the
// gradients are Q·diag(s) (tall) and diag(s)·Qᵀ (wide) with a fresh random orthonormal
// Q and fresh decreasing s at every step, whose SVD gives P = I.
func TestGaLoreFullRankWithGapOneIsAdam(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		rng := rand.New(rand.NewPCG(11, 12))
		adam := []*stubParam{newStubParam(rng, "tall", dt, 6, 4), newStubParam(rng, "wide", dt, 4, 7), newStubParam(rng, "b", dt, 4)}
		galore := stubClone(adam)
		cfg := AdamConfig{LearningRate: 0.01, WeightDecay: 0.1}
		as, err := NewAdamW(cfg)
		if err != nil {
			t.Fatal(err)
		}
		gs, err := NewGaLore(GaLoreConfig{AdamConfig: cfg, Rank: 4, UpdateGap: 1, Scale: 1})
		if err != nil {
			t.Fatal(err)
		}
		for step := range 6 {
			stubSetMatrix(adam[0].g, stubTimesDiag(stubOrthonormal(rng, 6, 4), stubDescending(rng, 4)))
			var wide mat.Dense
			wide.CloneFrom(stubTimesDiag(stubOrthonormal(rng, 7, 4), stubDescending(rng, 4)).T())
			stubSetMatrix(adam[1].g, &wide)
			stubFill(rng, adam[2].g)
			for k := range adam {
				galore[k].g = adam[k].g.Clone().(*tensor.Dense)
			}
			if err := as.Step(stubModel(adam...)); err != nil {
				t.Fatal(err)
			}
			if err := gs.Step(stubModel(galore...)); err != nil {
				t.Fatal(err)
			}
			for k := range adam {
				if d := testutil.MaxAbsDiff(testutil.Float64s(adam[k].w), testutil.Float64s(galore[k].w)); d > 1e-6 {
					t.Errorf("%v step %d, %s: GaLore and AdamW differ by %g", dt, step, adam[k].name, d)
				}
			}
		}
		if !gs.state[0].projected || !gs.state[1].projected || gs.state[2].projected {
			t.Fatalf("%v: projected %v %v %v, want the two matrices only", dt, gs.state[0].projected, gs.state[1].projected, gs.state[2].projected)
		}
	}
}

// stubTimesDiag returns q·diag(s).
func stubTimesDiag(q *mat.Dense, s []float64) *mat.Dense {
	var out mat.Dense
	out.Mul(q, mat.NewDiagDense(len(s), s))
	return &out
}

// TestGaLoreProjectsOntoTheTopSingularSubspace builds gradients U·diag(s)·Vᵀ with known
// orthonormal U, V and decreasing s, and checks that P has orthonormal rows (columns
// when wide) whose span holds the first r right (left when wide) singular vectors, so
// that it is the top-r subspace; with a gradient of rank exactly r, projecting onto P
// and back gives the gradient itself.
func TestGaLoreProjectsOntoTheTopSingularSubspace(t *testing.T) {
	const r = 3
	for _, c := range []struct {
		rows, cols int
		rankOfG    int
	}{
		{12, 8, 8}, {8, 12, 8}, // full rank: P must pick the top 3 of 8
		{12, 8, r}, {8, 12, r}, // rank r
	} {
		rng := rand.New(rand.NewPCG(13, uint64(c.rows*100+c.rankOfG)))
		k := c.rankOfG
		u, v := stubOrthonormal(rng, c.rows, k), stubOrthonormal(rng, c.cols, k)
		var g mat.Dense
		g.Mul(stubTimesDiag(u, stubDescending(rng, k)), v.T())
		p := newStubParam(rng, "w", tensor.Float64, c.rows, c.cols)
		stubSetMatrix(p.g, &g)
		s, err := NewGaLore(GaLoreConfig{Rank: r})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Step(stubModel(p)); err != nil {
			t.Fatal(err)
		}
		wide := c.rows < c.cols
		var proj *mat.Dense // as a matrix with orthonormal columns: P (wide) or Pᵀ (tall)
		var top mat.Matrix  // the top r singular vectors on the projected side
		if wide {
			proj = mat.NewDense(c.rows, r, s.state[0].proj.([]float64))
			top = u.Slice(0, c.rows, 0, r)
		} else {
			proj = mat.DenseCopyOf(mat.NewDense(r, c.cols, s.state[0].proj.([]float64)).T())
			top = v.Slice(0, c.cols, 0, r)
		}
		var gram mat.Dense
		gram.Mul(proj.T(), proj)
		if !mat.EqualApprox(&gram, stubIdentity(r), 1e-12) {
			t.Errorf("%d × %d: P is not orthonormal: PᵀP = %v", c.rows, c.cols, mat.Formatted(&gram))
		}
		var inSpan, back mat.Dense // P·Pᵀ·top, and the gradient projected and back
		inSpan.Mul(proj, stubMulT(proj, top))
		if !mat.EqualApprox(&inSpan, top, 1e-10) {
			t.Errorf("%d × %d, G of rank %d: the top %d singular vectors are not in P's span", c.rows, c.cols, k, r)
		}
		if k == r {
			if wide {
				back.Mul(proj, stubMulT(proj, &g))
			} else {
				var gp mat.Dense
				gp.Mul(&g, proj)
				back.Mul(&gp, proj.T())
			}
			if !mat.EqualApprox(&back, &g, 1e-10) {
				t.Errorf("%d × %d, G of rank %d: projecting onto P and back changes G", c.rows, c.cols, k)
			}
		}
	}
}

// stubMulT returns aᵀ·b.
func stubMulT(a, b mat.Matrix) *mat.Dense {
	var out mat.Dense
	out.Mul(a.T(), b)
	return &out
}

func stubIdentity(n int) *mat.Dense {
	d := mat.NewDense(n, n, nil)
	for i := range n {
		d.Set(i, i, 1)
	}
	return d
}

// TestGaLoreStepsMatchTheUpdateWrittenOut checks three GaLore steps of a tall and a
// wide matrix against GaLore's update written out with gonum: P from the SVD of the
// first gradient (the gap is longer than the run), Adam on R, back-projection, α and
// weight decay. The signs of singular vectors are arbitrary, and the update does not
// depend on them when P stays fixed: flipping a row of P flips a column of R and of N.
func TestGaLoreStepsMatchTheUpdateWrittenOut(t *testing.T) {
	const r, lr, wd, alpha, b1, b2, eps = 2, 0.05, 0.1, 0.25, 0.9, 0.999, 1e-8
	for _, shape := range [][2]int{{6, 4}, {4, 6}} {
		rows, cols := shape[0], shape[1]
		rng := rand.New(rand.NewPCG(15, uint64(rows)))
		p := newStubParam(rng, "w", tensor.Float64, rows, cols)
		s, err := NewGaLore(GaLoreConfig{AdamConfig: AdamConfig{LearningRate: lr, WeightDecay: wd}, Rank: r, UpdateGap: 10, Scale: alpha})
		if err != nil {
			t.Fatal(err)
		}
		want := mat.DenseCopyOf(mat.NewDense(rows, cols, testutil.Float64s(p.w)))
		var proj *mat.Dense // P: (r, cols) when tall, (rows, r) when wide
		var m, v *mat.Dense
		for step := 1; step <= 3; step++ {
			stubFill(rng, p.g)
			g := mat.NewDense(rows, cols, testutil.Float64s(p.g))
			if step == 1 {
				var svd mat.SVD
				svd.Factorize(g, mat.SVDThin)
				var vecs mat.Dense
				if rows < cols {
					svd.UTo(&vecs)
					proj = mat.DenseCopyOf(vecs.Slice(0, rows, 0, r))
				} else {
					svd.VTo(&vecs)
					proj = mat.DenseCopyOf(vecs.Slice(0, cols, 0, r).T())
				}
			}
			var rg mat.Dense
			if rows < cols {
				rg.Mul(proj.T(), g)
			} else {
				rg.Mul(g, proj.T())
			}
			if m == nil {
				m, v = mat.NewDense(rg.RawMatrix().Rows, rg.RawMatrix().Cols, nil), mat.NewDense(rg.RawMatrix().Rows, rg.RawMatrix().Cols, nil)
			}
			n := mat.DenseCopyOf(&rg)
			n.Apply(func(i, j int, x float64) float64 {
				m.Set(i, j, b1*m.At(i, j)+(1-b1)*x)
				v.Set(i, j, b2*v.At(i, j)+(1-b2)*x*x)
				mhat := m.At(i, j) / (1 - math.Pow(b1, float64(step)))
				vhat := v.At(i, j) / (1 - math.Pow(b2, float64(step)))
				return mhat / (math.Sqrt(vhat) + eps)
			}, n)
			var back mat.Dense
			if rows < cols {
				back.Mul(proj, n)
			} else {
				back.Mul(n, proj)
			}
			want.Scale(1-lr*wd, want)
			back.Scale(lr*alpha, &back)
			want.Sub(want, &back)
			if err := s.Step(stubModel(p)); err != nil {
				t.Fatal(err)
			}
		}
		if d := testutil.MaxAbsDiff(testutil.Float64s(p.w), want.RawMatrix().Data); d > 1e-12 {
			t.Errorf("%d × %d: after 3 steps the weights differ from the written-out update by %g", rows, cols, d)
		}
	}
}

// TestGaLoreRecomputesTheProjectionEveryTSteps checks that P changes at steps 0, T, 2T
// (0-based) and nowhere else, with a new gradient at every step.
func TestGaLoreRecomputesTheProjectionEveryTSteps(t *testing.T) {
	const gap = 3
	rng := rand.New(rand.NewPCG(17, 18))
	p := newStubParam(rng, "w", tensor.Float64, 6, 4)
	s, err := NewGaLore(GaLoreConfig{Rank: 2, UpdateGap: gap})
	if err != nil {
		t.Fatal(err)
	}
	var prev []float64
	for step := range 7 {
		stubFill(rng, p.g)
		if err := s.Step(stubModel(p)); err != nil {
			t.Fatal(err)
		}
		proj := s.state[0].proj.([]float64)
		if changed := !slices.Equal(proj, prev); changed != (step%gap == 0) {
			t.Errorf("step %d: P changed = %v, want %v", step, changed, step%gap == 0)
		}
		prev = slices.Clone(proj)
	}
}

// TestGaLoreStateIsSmallerThanAdamsByTheFormula compares GaLore's state bytes with
// AdamW's: for an m × n matrix with m ≥ n GaLore keeps P (r × n) and two moments
// (m × r) where Adam keeps two m × n moments, so Adam/GaLore = 2mn / (rn + 2mr); wide
// matrices mirror it. Vectors, matrices with a side under r and the ones Select leaves
// out cost what they cost under AdamW.
func TestGaLoreStateIsSmallerThanAdamsByTheFormula(t *testing.T) {
	const r = 8
	bytes := func(dt tensor.Dtype) int64 { return int64(dt.Size()) }
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		for _, c := range []struct {
			name  string
			shape []int
			proj  int64 // GaLore's state in elements
		}{
			{"tall", []int{64, 32}, r*32 + 2*64*r},
			{"wide", []int{16, 48}, 16*r + 2*r*48},
			{"bias", []int{32}, 2 * 32},
			{"small", []int{4, 6}, 2 * 4 * 6},
			{"lm_head", []int{40, 16}, 2 * 40 * 16}, // left out by Select
		} {
			rng := rand.New(rand.NewPCG(19, 20))
			p := newStubParam(rng, c.name, dt, c.shape...)
			as, _ := NewAdamW(AdamConfig{})
			gs, err := NewGaLore(GaLoreConfig{Rank: r, Select: func(name string, _ tensor.Shape) bool { return name != "lm_head" }})
			if err != nil {
				t.Fatal(err)
			}
			if err := as.Step(stubModel(p)); err != nil {
				t.Fatal(err)
			}
			if err := gs.Step(stubModel(stubClone([]*stubParam{p})...)); err != nil {
				t.Fatal(err)
			}
			if got, want := gs.StateBytes(), c.proj*bytes(dt); got != want {
				t.Errorf("%v %s %v: GaLore state %d bytes, want %d", dt, c.name, c.shape, got, want)
			}
			ratio := float64(as.StateBytes()) / float64(gs.StateBytes())
			if c.name == "tall" {
				m, n := 64.0, 32.0
				if want := 2 * m * n / (r*n + 2*m*r); math.Abs(ratio-want) > 1e-12 {
					t.Errorf("%v tall: Adam/GaLore = %v, want 2mn/(rn+2mr) = %v", dt, ratio, want)
				}
			}
			t.Logf("%v %s %v: Adam %d bytes, GaLore %d bytes, ratio %.3f", dt, c.name, c.shape, as.StateBytes(), gs.StateBytes(), ratio)
		}
	}
}

func TestGaLoreConfigValidateNamesTheField(t *testing.T) {
	for _, c := range []struct {
		cfg  GaLoreConfig
		want string
	}{
		{GaLoreConfig{}, "GaLore Rank 0, expected a positive rank"},
		{GaLoreConfig{Rank: -2}, "GaLore Rank -2, expected a positive rank"},
		{GaLoreConfig{Rank: 4, UpdateGap: -1}, "GaLore UpdateGap -1, expected a count ≥ 0"},
		{GaLoreConfig{Rank: 4, Scale: -0.5}, "GaLore Scale is -0.5"},
		{GaLoreConfig{Rank: 4, Scale: math.NaN()}, "GaLore Scale is NaN"},
		{GaLoreConfig{Rank: 4, AdamConfig: AdamConfig{Beta2: 1}}, "GaLore Beta2 is 1"},
	} {
		_, err := NewGaLore(c.cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "optim: ") {
			t.Errorf("%+v: got %v, want an error saying %q", c.cfg, err, c.want)
		}
	}
}
