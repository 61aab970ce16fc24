package op

import (
	"fmt"
	"math"
	"math/big"
	"math/rand"
	"strings"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	vinit "github.com/velora-go/velora/init"
	"github.com/velora-go/velora/internal/testutil"
	"github.com/velora-go/velora/machine"
	"github.com/velora-go/velora/op/internal/opkit"
	"github.com/velora-go/velora/op/nn"
)

var halfFormats = []ZFormat{ZBFloat16, ZFloat16}

// roundByHand is x rounded to format f from the formats' definitions, with
// math/big doing the rounding to nearest, ties to even: bf16 has 8
// significant bits down to 2⁻¹²⁶ and steps of 2⁻¹³³ below, fp16 11 bits
// down to 2⁻¹⁴ and steps of 2⁻²⁴ below; past the largest finite value
// plus half a step, ±Inf.
func roundByHand(x float64, f ZFormat) float64 {
	bits, minNormal, step, overflow := uint(8), math.Ldexp(1, -126), math.Ldexp(1, -133), math.Ldexp(511, 119)
	if f == ZFloat16 {
		bits, minNormal, step, overflow = 11, math.Ldexp(1, -14), math.Ldexp(1, -24), 65520
	}
	switch a := math.Abs(x); {
	case a >= overflow:
		return math.Copysign(math.Inf(1), x)
	case a < minNormal:
		return math.Copysign(math.RoundToEven(a/step)*step, x)
	}
	r, _ := new(big.Float).SetPrec(bits).SetMode(big.ToNearestEven).SetFloat64(x).Float64()
	return r
}

// roundAllByHand applies roundByHand to every value.
func roundAllByHand(xs []float64, f ZFormat) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = roundByHand(x, f)
	}
	return out
}

// widened returns a 16-bit z's values.
func widened(t testing.TB, v gorgonia.Value, f ZFormat) []float64 {
	t.Helper()
	h, ok := v.Data().([]uint16)
	if !ok {
		t.Fatalf("z holds %T, want []uint16", v.Data())
	}
	out := make([]float64, len(h))
	widen(out, h, f)
	return out
}

func TestParseZFormat(t *testing.T) {
	for _, f := range []ZFormat{ZFull, ZBFloat16, ZFloat16} {
		got, err := ParseZFormat(f.String())
		if err != nil || got != f {
			t.Errorf("ParseZFormat(%q) = %v, %v; want %v", f.String(), got, err, f)
		}
	}
	for _, name := range []string{"bfloat16", "f16", "BF16", "float32", "full"} {
		if _, err := ParseZFormat(name); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%q", name)) || !strings.Contains(err.Error(), `"bf16"`) {
			t.Errorf("ParseZFormat(%q): error %v, want one naming the value and the formats", name, err)
		}
	}
	_, err := NewProjection(gorgonia.NewGraph(), 4, tensor.Float32, nil, "v", WithZFormat(ZFormat(7)))
	if err == nil || !strings.Contains(err.Error(), "z format 7") || !strings.Contains(err.Error(), `"v"`) {
		t.Errorf("WithZFormat(7): error %v, want one naming the projection and the format", err)
	}
}

func TestHalfZIsTheFullZRounded(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		for _, f := range halfFormats {
			// The last case spans several chunks of zChunkRows rows on each of
			// two goroutines.
			for _, c := range append(subTokenCases, struct{ t, d, m int }{1700, 48, 4}) {
				rng := rand.New(rand.NewSource(1))
				g := gorgonia.NewGraph()
				x := testutil.Input(g, "x", testutil.RandomDense(rng, dt, c.t, c.d))
				p := newProjection(t, g, c.m, dt, 7, WithZFormat(f))
				z := gorgonia.Must(Compress(x, p))
				if z.Dtype() != tensor.Uint16 || p.ZDtype() != tensor.Uint16 || p.ZFormat() != f {
					t.Fatalf("%v %v: z's node has dtype %v, the projection says %v (%v)", dt, f, z.Dtype(), p.ZDtype(), p.ZFormat())
				}
				full := gorgonia.NewGraph()
				pf := newProjection(t, full, c.m, dt, 7)
				zf := gorgonia.Must(Compress(testutil.Input(full, "x", x.Value().(*tensor.Dense)), pf))
				testutil.Run(t, g)
				testutil.Run(t, full)
				testutil.CloseTo(t, fmt.Sprintf("%v %v %+v: z", dt, f, c), widened(t, z.Value(), f), roundAllByHand(testutil.Float64s(zf.Value()), f), 0)
			}
		}
	}
}

func TestLinearWithHalfZ(t *testing.T) {
	// The forward pass and grad_x never read z: they equal the full format's
	// exactly. grad_w is VeLoRA's formula with z rounded by hand.
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		tol := 1e-12
		if dt == tensor.Float32 {
			tol = 1e-5
		}
		for _, f := range halfFormats {
			for _, c := range append(linearCases, linearCase{64, 96, 40, 16}) {
				x := testutil.RandomDense(rand.New(rand.NewSource(23)), dt, c.t, c.d)
				full := buildLinear(t, c, dt, x, false, WithGradScale(2))
				what := fmt.Sprintf("%v %v %+v", dt, f, c)
				for _, opts := range [][]LinearOption{{WithGradScale(2)}, {WithGradScale(2), WithReconstruct()}} {
					half := buildLinearZ(t, c, dt, x, false, f, opts...)
					testutil.CloseTo(t, what+": out", testutil.Float64s(half.out.Value()), testutil.Float64s(full.out.Value()), 0)
					testutil.CloseTo(t, what+": grad x", testutil.Float64s(half.gradX.Value()), testutil.Float64s(full.gradX.Value()), 0)

					v := half.p.Vector()
					z := roundAllByHand(fullZ(t, x, c, dt), f)
					want := transposeTimes(reconstructByHand(z, c.d, v), testutil.Float64s(half.r.Value()), c.t, c.d, c.dout)
					for i := range want {
						want[i] *= 2
					}
					testutil.CloseTo(t, what+": grad w", testutil.Float64s(half.gradW.Value()), want, tol)
				}
				if dt == tensor.Float64 && c.t*c.d <= 60 { // the small cases: one run per entry and side
					half := buildLinearZ(t, c, dt, x, false, f)
					testutil.CloseTo(t, what+": grad x by finite differences", testutil.Float64s(half.gradX.Value()), testutil.NumericGrad(t, half.g, half.cost, half.x), 1e-7)
				}
			}
		}
	}
}

// fullZ is z = Compress(x) of buildLinear's projection in the full format,
// as the op computes it.
func fullZ(t *testing.T, x *tensor.Dense, c linearCase, dt tensor.Dtype) []float64 {
	t.Helper()
	g := gorgonia.NewGraph()
	z := gorgonia.Must(Compress(testutil.Input(g, "x", x), newProjection(t, g, c.m, dt, 13)))
	testutil.Run(t, g)
	return testutil.Float64s(z.Value())
}

func TestWeightGradReadsHalfZ(t *testing.T) {
	// WeightGrad on a z the test rounds and stores itself, against the
	// formula on the rounded values; a z of the wrong dtype is refused.
	rng := rand.New(rand.NewSource(5))
	// T = 1541 spans three chunks of zChunkRows rows.
	for _, fc := range []struct {
		f ZFormat
		c linearCase
	}{{ZBFloat16, linearCase{40, 96, 24, 8}}, {ZFloat16, linearCase{40, 96, 24, 8}}, {ZBFloat16, linearCase{2*zChunkRows + 5, 20, 6, 8}}} {
		f, c := fc.f, fc.c
		g := gorgonia.NewGraph()
		p := newProjection(t, g, c.m, tensor.Float32, 13, WithZFormat(f))
		k := opkit.Groups(c.d, c.m)
		zr := make([]float64, c.t*k)
		bits := make([]uint16, len(zr))
		for i := range zr {
			zr[i] = roundByHand(rng.NormFloat64()*10, f)
			narrow(bits[i:i+1], zr[i:i+1], f) // exact: zr is representable
		}
		z := gorgonia.NewMatrix(g, tensor.Uint16, gorgonia.WithShape(c.t, k), gorgonia.WithName("z"),
			gorgonia.WithValue(tensor.New(tensor.WithShape(c.t, k), tensor.WithBacking(bits))))
		gv := testutil.RandomDense(rng, tensor.Float32, c.t, c.dout)
		gw, err := WeightGrad(z, testutil.Input(g, "g", gv), p, c.d, WithGradScale(0.5))
		if err != nil {
			t.Fatal(err)
		}
		testutil.Run(t, g)
		want := transposeTimes(reconstructByHand(zr, c.d, p.Vector()), testutil.Float64s(gv), c.t, c.d, c.dout)
		for i := range want {
			want[i] *= 0.5
		}
		testutil.CloseTo(t, f.String()+": grad w", testutil.Float64s(gw.Value()), want, 1e-5)

		wrong := testutil.Input(g, "z32", testutil.RandomDense(rng, tensor.Float32, c.t, k))
		if _, err := WeightGrad(wrong, testutil.Input(g, "g2", gv), p, c.d); err == nil || !strings.Contains(err.Error(), "dtype float32, expected uint16") {
			t.Errorf("%v: WeightGrad of a float32 z: error %v, want one naming both dtypes", f, err)
		}
		if _, err := (&weightGradOp{p: p, width: c.d, scale: 1}).Do(wrong.Value(), gv, p.V().Value()); err == nil || !strings.Contains(err.Error(), "uint16") {
			t.Errorf("%v: the weight-gradient op on a float32 z: error %v, want one naming uint16", f, err)
		}
	}
}

func TestReconstructAndScaleShiftWidenHalfZ(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		tol := 1e-12
		if dt == tensor.Float32 {
			tol = 1e-5
		}
		for _, f := range halfFormats {
			for _, c := range subTokenCases {
				what := fmt.Sprintf("%v %v %+v", dt, f, c)
				xv := testutil.RandomDense(rand.New(rand.NewSource(3)), dt, c.t, c.d)
				zr := roundAllByHand(fullZ(t, xv, linearCase{t: c.t, d: c.d, m: c.m}, dt), f)

				g := gorgonia.NewGraph()
				p := newProjection(t, g, c.m, dt, 13, WithZFormat(f))
				xhat := gorgonia.Must(Reconstruct(gorgonia.Must(Compress(testutil.Input(g, "x", xv), p)), p))
				testutil.Run(t, g)
				if xhat.Dtype() != dt {
					t.Fatalf("%s: x̂ has dtype %v", what, xhat.Dtype())
				}
				testutil.CloseTo(t, what+": x̂", testutil.Float64s(xhat.Value()), reconstructByHand(zr, c.d, p.Vector()), tol)

				// ScaleShift's grad_w = scale · Σ_t r ⊙ x̂ with x̂ from the rounded z.
				sg := gorgonia.NewGraph()
				rng := rand.New(rand.NewSource(41))
				x := testutil.Input(sg, "x", xv)
				w, b := testutil.Input(sg, "w", testutil.RandomDense(rng, dt, c.d)), testutil.Input(sg, "b", testutil.RandomDense(rng, dt, c.d))
				ps := newProjection(t, sg, c.m, dt, 13, WithZFormat(f))
				out := gorgonia.Must(ScaleShift(x, w, b, ps, WithGradScale(3)))
				cost, r := testutil.WeightedSum(t, rng, out)
				grads, err := gorgonia.Grad(cost, x, w, b)
				if err != nil {
					t.Fatal(err)
				}
				testutil.Run(t, sg)
				xr, rs := reconstructByHand(zr, c.d, ps.Vector()), testutil.Float64s(r.Value())
				want := make([]float64, c.d)
				for i := range xr {
					want[i%c.d] += 3 * rs[i] * xr[i]
				}
				testutil.CloseTo(t, what+": scale-shift grad w", testutil.Float64s(grads[1].Value()), want, tol)
			}
		}
	}
}

func TestHalfZLispMachineMatchesTapeMachine(t *testing.T) {
	c := linearCases[1]
	x := testutil.RandomDense(rand.New(rand.NewSource(37)), tensor.Float64, c.t, c.d)
	tape := buildLinearZ(t, c, tensor.Float64, x, false, ZBFloat16)
	g := gorgonia.NewGraph()
	rng := rand.New(rand.NewSource(11))
	xn := testutil.Input(g, "x", x)
	w := testutil.Input(g, "w", testutil.RandomDense(rng, tensor.Float64, c.d, c.dout))
	p := newProjection(t, g, c.m, tensor.Float64, 13, WithZFormat(ZBFloat16))
	testutil.WeightedSum(t, rng, gorgonia.Must(Linear(xn, w, p)))
	m := gorgonia.NewLispMachine(g)
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	m.Close()
	gw, err := w.Grad()
	if err != nil {
		t.Fatal(err)
	}
	testutil.CloseTo(t, "grad w", testutil.Float64s(gw), testutil.Float64s(tape.gradW.Value()), 1e-12)
}

func TestHalfZHasNoGradient(t *testing.T) {
	// Differentiating through a 16-bit z is refused, naming the projection,
	// the format and the way out; under LispMachine as well.
	for _, lisp := range []bool{false, true} {
		g := gorgonia.NewGraph()
		rng := rand.New(rand.NewSource(2))
		x := testutil.Input(g, "x", testutil.RandomDense(rng, tensor.Float64, 3, 8))
		p := newProjection(t, g, 4, tensor.Float64, 3, WithZFormat(ZBFloat16))
		cost, _ := testutil.WeightedSum(t, rng, gorgonia.Must(Reconstruct(gorgonia.Must(Compress(x, p)), p)))
		var err error
		if lisp {
			m := gorgonia.NewLispMachine(g)
			err = m.RunAll()
			m.Close()
		} else {
			_, err = gorgonia.Grad(cost, x)
		}
		if err == nil || !strings.Contains(err.Error(), `projection "v" keeps z as bf16 bits`) || !strings.Contains(err.Error(), "full format") {
			t.Errorf("lisp=%t: error %v, want one naming the projection, bf16 and the full format", lisp, err)
		}
	}
}

// TestHalfZHalvesTheBytesVeLoRAKeeps runs a chain of VeLoRA linears, each
// followed by GELU, under package machine. The step's peak comes at the
// start of the backward pass, with every block's z alive: a 16-bit z must
// take 2 bytes a value, half of float32's and a quarter of float64's, and
// the peak must fall by exactly what the z's save.
func TestHalfZHalvesTheBytesVeLoRAKeeps(t *testing.T) {
	const blocks, T, D, M = 4, 64, 64, 8
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		type result struct{ zBytes, peak, planned, activations int64 }
		results := map[ZFormat]result{}
		for _, f := range []ZFormat{ZFull, ZBFloat16, ZFloat16} {
			rng := rand.New(rand.NewSource(1))
			g := gorgonia.NewGraph()
			h := testutil.Input(g, "x", testutil.RandomDense(rng, dt, T, D))
			var ws gorgonia.Nodes
			for l := range blocks {
				w := testutil.Input(g, fmt.Sprintf("w%d", l), testutil.RandomDense(rng, dt, D, D))
				p, err := NewProjection(g, M, dt, vinit.Random(int64(l)), fmt.Sprintf("v%d", l), WithZFormat(f))
				if err != nil {
					t.Fatal(err)
				}
				h = gorgonia.Must(nn.GELU(gorgonia.Must(Linear(h, w, p))))
				ws = append(ws, w)
			}
			wantDtype := tensor.Uint16
			if f == ZFull {
				wantDtype = dt
			}
			var zs gorgonia.Nodes
			for _, n := range g.AllNodes() {
				if _, ok := n.Op().(*compressOp); ok {
					zs = append(zs, n)
				}
			}
			if len(zs) != blocks {
				t.Fatalf("%v %v: %d compressions in a graph of %d blocks", dt, f, len(zs), blocks)
			}
			cost := gorgonia.Must(gorgonia.Sum(h))
			grads, err := gorgonia.Grad(cost, ws...)
			if err != nil {
				t.Fatal(err)
			}
			m, err := machine.New(g, append(gorgonia.Nodes{cost}, grads...))
			if err != nil {
				t.Fatal(err)
			}
			r := result{planned: m.PlannedPeak()}
			if err := m.RunAll(); err != nil {
				t.Fatal(err)
			}
			s := m.Stats()
			m.Close()
			r.peak, r.activations = s.PeakBytes, s.ActivationBytes
			for _, z := range zs {
				if z.Dtype() != wantDtype {
					t.Fatalf("%v %v: z has dtype %v, want %v", dt, f, z.Dtype(), wantDtype)
				}
				r.zBytes += int64(z.Shape().TotalSize()) * int64(z.Dtype().Size())
			}
			if r.planned != r.peak {
				t.Errorf("%v %v: planned peak %d bytes, measured %d", dt, f, r.planned, r.peak)
			}
			t.Logf("%v z=%-4v: z %6d bytes, activations at the peak %6d, peak %6d", dt, f, r.zBytes, r.activations, r.peak)
			results[f] = r
		}
		full := results[ZFull]
		if want := int64(blocks*T*(D/M)) * int64(dt.Size()); full.zBytes != want {
			t.Fatalf("%v: the full z's take %d bytes, want %d", dt, full.zBytes, want)
		}
		for _, f := range halfFormats {
			half := results[f]
			if half.zBytes*int64(dt.Size()) != full.zBytes*2 {
				t.Errorf("%v %v: z takes %d bytes, want %d (2 of %d bytes a value)", dt, f, half.zBytes, full.zBytes*2/int64(dt.Size()), dt.Size())
			}
			if saved := full.peak - half.peak; saved != full.zBytes-half.zBytes {
				t.Errorf("%v %v: the peak fell by %d bytes, want %d, what the z's save", dt, f, saved, full.zBytes-half.zBytes)
			}
		}
	}
}

// relativeError is ‖a − b‖_F / ‖b‖_F.
func relativeError(a, b []float64) float64 {
	var d, n float64
	for i := range a {
		d += (a[i] - b[i]) * (a[i] - b[i])
		n += b[i] * b[i]
	}
	return math.Sqrt(d / n)
}

// TestHalfZErrorIsFarBelowVeLoRAs measures, on random float32 data, the
// weight gradient's relative Frobenius error from VeLoRA's projection
// (against the exact xᵀg; about sqrt(1 − 1/M) when v has no relation to
// the data) and the extra error of a 16-bit z (against the float32 z's
// gradient). The extra must stay below 1% of VeLoRA's own. Rounding to
// bfloat16's 8 significant bits moves each z by at most 2⁻⁸ of itself, about
// 0.16% in root mean square, and the gradient's error is about the same:
// 1.7e-3 for bf16 and, 3 bits finer, 2.1e-4 for fp16, against VeLoRA's 0.94
// (M = 8) to 0.98 (M = 32): 0.18% and 0.02% of it.
func TestHalfZErrorIsFarBelowVeLoRAs(t *testing.T) {
	const T, D, Dout = 1024, 512, 64
	rng := rand.New(rand.NewSource(7))
	x, g := testutil.RandomDense(rng, tensor.Float32, T, D), testutil.RandomDense(rng, tensor.Float32, T, Dout)
	exact := transposeTimes(testutil.Float64s(x), testutil.Float64s(g), T, D, Dout)
	for _, m := range []int{8, 16, 32} {
		grads := map[ZFormat][]float64{}
		for _, f := range []ZFormat{ZFull, ZBFloat16, ZFloat16} {
			p := newProjection(t, gorgonia.NewGraph(), m, tensor.Float32, int64(m), WithZFormat(f))
			z, err := (&compressOp{p: p, width: D}).Do(x, p.V().Value())
			if err != nil {
				t.Fatal(err)
			}
			gw, err := (&weightGradOp{p: p, width: D, scale: 1}).Do(z, g, p.V().Value())
			if err != nil {
				t.Fatal(err)
			}
			grads[f] = testutil.Float64s(gw)
		}
		velora, bound := relativeError(grads[ZFull], exact), math.Sqrt(1-1/float64(m))
		if math.Abs(velora-bound) > 0.05*bound {
			t.Errorf("M=%d: VeLoRA's own error %.4f, expected about sqrt(1 − 1/M) = %.4f", m, velora, bound)
		}
		for _, f := range halfFormats {
			extra := relativeError(grads[f], grads[ZFull])
			t.Logf("M=%2d: VeLoRA's error %.4f (sqrt(1 − 1/M) = %.4f); %v z adds %.2e, %.3f%% of it", m, velora, bound, f, extra, 100*extra/velora)
			if extra >= 0.01*velora {
				t.Errorf("M=%d: %v z adds a relative error of %.3g to the weight gradient, not below 1%% of VeLoRA's %.3g", m, f, extra, velora)
			}
		}
	}
}
