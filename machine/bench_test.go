package machine

import (
	"runtime"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The training step the issue measures: a 4-block SwiGLU MLP, T=1024 tokens, D=128,
// F=512, float64.
var benchMLP = swigluMLP(4, 1024, 128, 512)

var benchStats Stats

// heapInUse is the live heap after two collections (machines set finalizers).
func heapInUse() int64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// benchMachine times RunAll on a warm machine and reports its peak live bytes and the
// runtime's heap peak.
func benchMachine(b *testing.B, build builder, lin linearFunc, opts ...Option) {
	m := build(tensor.Float64, lin)
	vm, err := New(m.g, m.outputs(), opts...)
	if err != nil {
		b.Fatal(err)
	}
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		b.Fatal(err)
	}
	runtime.GC() // the first run's garbage would count in the heap peak
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := vm.RunAll(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	benchStats = vm.Stats()
	b.ReportMetric(float64(benchStats.PeakBytes), "peak-B")
	b.ReportMetric(float64(benchStats.RuntimeHeapPeak), "heap-peak-B")
}

// benchTape times RunAll on gorgonia's TapeMachine and reports the heap it retains after
// a step: everything the graph, its leaves and its bound values hold.
func benchTape(b *testing.B, build builder, lin linearFunc) {
	before := heapInUse()
	m := build(tensor.Float64, lin)
	vm := gorgonia.NewTapeMachine(m.g)
	defer vm.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := vm.RunAll(); err != nil {
			b.Fatal(err)
		}
		vm.Reset()
	}
	b.StopTimer()
	b.ReportMetric(float64(heapInUse()-before), "retained-B")
	runtime.KeepAlive(m)
}

func BenchmarkMLPMachine(b *testing.B) { benchMachine(b, benchMLP, mul) }
func BenchmarkMLPMachineFused(b *testing.B) {
	benchMachine(b, benchMLP, mul, WithFusedUpdate(func() gorgonia.Solver { return gorgonia.NewAdamSolver() }))
}
func BenchmarkMLPTape(b *testing.B) { benchTape(b, benchMLP, mul) }
