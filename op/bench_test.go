package op

import (
	"math/rand"
	"testing"
	"time"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/internal/testutil"
	"github.com/velora-go/velora/op/internal/opkit"
)

// A paper-scale layer: 2048 tokens, 1024 → 1024, float32.
const benchT, benchD, benchDout = 2048, 1024, 1024

// Sinks keep the compiler from discarding the benchmarked work.
var sinkValue gorgonia.Value

func benchProjection(b *testing.B, m int) *Projection {
	p := newProjection(b, gorgonia.NewGraph(), m, tensor.Float32, 1)
	return p
}

func benchCompress(b *testing.B, m int) {
	rng := rand.New(rand.NewSource(1))
	x := testutil.RandomDense(rng, tensor.Float32, benchT, benchD)
	o := &compressOp{p: benchProjection(b, m), width: benchD}
	z := opkit.Zeros(tensor.Float32, benchT, opkit.Groups(benchD, m))
	b.SetBytes(int64(benchT * benchD * 4))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var err error
		if sinkValue, err = o.UsePreallocDo(z, x, o.p.V().Value()); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	compressNs := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	copyNs := copyTime(x.Data().([]float32), max(b.N, 10))
	b.ReportMetric(float64(benchT*benchD*4)/copyNs, "copy-GB/s")
	b.ReportMetric(copyNs/compressNs, "of-copy")
}

// copyTime is the mean time in ns of n plain copies of src, the bytes that
// Compress reads, which the Compress benchmarks report their throughput
// against.
func copyTime(src []float32, n int) float64 {
	dst := make([]float32, len(src))
	start := time.Now()
	for range n {
		copy(dst, src)
	}
	sinkFloat32 = dst
	return float64(time.Since(start).Nanoseconds()) / float64(n)
}

// sinkFloat32 keeps the copy from being optimised away.
var sinkFloat32 []float32

func BenchmarkCompress_M8(b *testing.B)  { benchCompress(b, 8) }
func BenchmarkCompress_M16(b *testing.B) { benchCompress(b, 16) }
func BenchmarkCompress_M32(b *testing.B) { benchCompress(b, 32) }

// benchWeightGrad times the fused weight gradient and the reconstruct-then-
// multiply reference on the same z and g in one run, and reports both and
// their ratio.
func benchWeightGrad(b *testing.B, m int) {
	rng := rand.New(rand.NewSource(2))
	p := benchProjection(b, m)
	k := opkit.Groups(benchD, m)
	z, g := testutil.RandomDense(rng, tensor.Float32, benchT, k), testutil.RandomDense(rng, tensor.Float32, benchT, benchDout)
	v := p.V().Value()
	fused := &weightGradOp{p: p, width: benchD, scale: 1}
	rec := &reconstructOp{p: p, width: benchD}
	mul := &matMulOp{transA: true, alpha: 1}
	gw, xhat := opkit.Zeros(tensor.Float32, benchD, benchDout), opkit.Zeros(tensor.Float32, benchT, benchD)
	b.ReportAllocs()
	b.ResetTimer()
	var fusedTime, refTime time.Duration
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if _, err := fused.UsePreallocDo(gw, z, g, v); err != nil {
			b.Fatal(err)
		}
		mid := time.Now()
		if _, err := rec.UsePreallocDo(xhat, z, v); err != nil {
			b.Fatal(err)
		}
		var err error
		if sinkValue, err = mul.UsePreallocDo(gw, xhat, g); err != nil {
			b.Fatal(err)
		}
		fusedTime += mid.Sub(start)
		refTime += time.Since(mid)
	}
	b.ReportMetric(float64(fusedTime.Nanoseconds())/float64(b.N), "fused-ns/op")
	b.ReportMetric(float64(refTime.Nanoseconds())/float64(b.N), "reconstruct-ns/op")
	b.ReportMetric(float64(refTime)/float64(fusedTime), "speedup")
}

func BenchmarkWeightGrad_M8(b *testing.B)  { benchWeightGrad(b, 8) }
func BenchmarkWeightGrad_M16(b *testing.B) { benchWeightGrad(b, 16) }
func BenchmarkWeightGrad_M32(b *testing.B) { benchWeightGrad(b, 32) }

// benchHalfZ times what a 16-bit z changes in a training step, compress in
// the forward pass and the fused weight gradient in the backward, for z in
// float32, bfloat16 and float16, the three in turn in every iteration, and
// reports each format's time and its ratio to float32's.
func benchHalfZ(b *testing.B, m int) {
	rng := rand.New(rand.NewSource(3))
	x, g := testutil.RandomDense(rng, tensor.Float32, benchT, benchD), testutil.RandomDense(rng, tensor.Float32, benchT, benchDout)
	formats := []ZFormat{ZFull, ZBFloat16, ZFloat16}
	type step struct {
		compress   *compressOp
		weightGrad *weightGradOp
		z          *tensor.Dense
	}
	steps := make([]step, len(formats))
	for i, f := range formats {
		p := newProjection(b, gorgonia.NewGraph(), m, tensor.Float32, 1, WithZFormat(f))
		steps[i] = step{&compressOp{p: p, width: benchD}, &weightGradOp{p: p, width: benchD, scale: 1}, opkit.Zeros(p.ZDtype(), benchT, opkit.Groups(benchD, m))}
	}
	gw := opkit.Zeros(tensor.Float32, benchD, benchDout)
	times := make([]time.Duration, len(formats))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j, s := range steps {
			v := s.compress.p.V().Value()
			start := time.Now()
			if _, err := s.compress.UsePreallocDo(s.z, x, v); err != nil {
				b.Fatal(err)
			}
			var err error
			if sinkValue, err = s.weightGrad.UsePreallocDo(gw, s.z, g, v); err != nil {
				b.Fatal(err)
			}
			times[j] += time.Since(start)
		}
	}
	for j, f := range formats {
		name := "f32"
		if f != ZFull {
			name = f.String()
			b.ReportMetric(float64(times[j])/float64(times[0]), name+"/f32")
		}
		b.ReportMetric(float64(times[j].Nanoseconds())/float64(b.N), name+"-ns/op")
	}
}

func BenchmarkHalfZ_M8(b *testing.B)  { benchHalfZ(b, 8) }
func BenchmarkHalfZ_M16(b *testing.B) { benchHalfZ(b, 16) }
func BenchmarkHalfZ_M32(b *testing.B) { benchHalfZ(b, 32) }
