package machine

import (
	"runtime"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The training steps these benchmarks measure, in float64: a 4-block SwiGLU MLP on T=1024
// tokens with D=128, F=512, and one attention block of the same width.
var (
	benchMLP       = swigluMLP(4, 1024, 128, 512)
	benchAttention = attention(512, 128)
)

// heapInUse is the live heap after two collections (machines set finalizers).
func heapInUse() int64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// benchMachine times RunAll on a warm machine. It reports the peak live bytes, the
// runtime's heap peak during the last run, and their ratio. Every run starts from a
// collected heap, untimed, so the heap peak is what the run itself needs.
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
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		runtime.GC()
		b.StartTimer()
		if err := vm.RunAll(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	s := vm.Stats()
	b.ReportMetric(float64(s.PeakBytes), "peak-B")
	b.ReportMetric(float64(s.RuntimeHeapPeak), "heap-peak-B")
	b.ReportMetric(float64(s.RuntimeHeapPeak)/float64(s.PeakBytes), "heap/peak")
}

// benchTape times RunAll on gorgonia's TapeMachine. It reports the bytes of the values
// bound to the graph's nodes after a step (each buffer once), which TapeMachine keeps
// alive to the end of the step, and the growth of the live heap from before the graph was
// built to after the last step.
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
	b.ReportMetric(float64(retainedBytes(m.g)), "retained-B")
	b.ReportMetric(float64(heapInUse()-before), "heap-retained-B")
	runtime.KeepAlive(vm)
}

func newDefaultAdam() gorgonia.Solver { return gorgonia.NewAdamSolver() }

func BenchmarkMLPMachine(b *testing.B) { benchMachine(b, benchMLP, mul) }
func BenchmarkMLPMachineFused(b *testing.B) {
	benchMachine(b, benchMLP, mul, WithFusedUpdate(newDefaultAdam))
}
func BenchmarkMLPMachineVeLoRA(b *testing.B) { benchMachine(b, benchMLP, veloraLinear(16)) }
func BenchmarkMLPTape(b *testing.B)          { benchTape(b, benchMLP, mul) }
func BenchmarkMLPTapeVeLoRA(b *testing.B)    { benchTape(b, benchMLP, veloraLinear(16)) }

func BenchmarkAttentionMachine(b *testing.B) { benchMachine(b, benchAttention, mul) }
func BenchmarkAttentionTape(b *testing.B)    { benchTape(b, benchAttention, mul) }
