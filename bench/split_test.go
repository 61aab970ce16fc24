package main

import (
	"bytes"
	"runtime/pprof"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestStepPartsClaim gives each part stacks (leaf first) it must claim
// before the parts after it.
func TestStepPartsClaim(t *testing.T) {
	for _, c := range []struct {
		stack []string
		want  int // index in stepParts
	}{
		{[]string{"github.com/velora-go/velora/kernel.sgemmKernelAVX2", "github.com/velora-go/velora/kernel.(*packedGemm[go.shape.float32]).run.func1"}, 0},
		{[]string{"gonum.org/v1/gonum/blas/gonum.sgemmSerial", "gorgonia.org/tensor.(*StdEng).MatMul", "gorgonia.org/gorgonia.(*linAlgBinOp).Do"}, 0},
		{[]string{"github.com/velora-go/velora/kernel.Gemm[...]", "github.com/velora-go/velora/op.(*attentionOp).UsePreallocDo", "github.com/velora-go/velora/machine.(*Machine).do"}, 0},
		{[]string{"math.archExp", "github.com/velora-go/velora/op.swiglu[go.shape.float32].func1", "github.com/velora-go/velora/op.parallelRows.func1"}, 1},
		{[]string{"github.com/velora-go/velora/kernel.swigluAVX2", "github.com/velora-go/velora/kernel.SwiGLU[...]", "github.com/velora-go/velora/op.swiglu[go.shape.float32].func1"}, 1},
		{[]string{"github.com/velora-go/velora/kernel.(*barrier).wait", "github.com/velora-go/velora/kernel.(*gemmJob[go.shape.float32]).work"}, 0},
		{[]string{"gorgonia.org/vecf32.Add", "gorgonia.org/gorgonia.(*elemBinOp).UnsafeDo", "github.com/velora-go/velora/machine.(*Machine).do"}, 1},
		{[]string{"runtime.mallocgc", "gorgonia.org/gorgonia.(*elemBinOp).Do"}, 1},
		{[]string{"github.com/velora-go/velora/peft.adamWUpdate[go.shape.float32]", "github.com/velora-go/velora/peft.(*AdamW).Step", "github.com/velora-go/velora/train.(*Trainer).Step"}, 2},
		{[]string{"runtime.scanobject", "runtime.gcDrain", "runtime.gcBgMarkWorker"}, 3},
		{[]string{"runtime.memclrNoHeapPointers", "github.com/velora-go/velora/machine.(*pool).take", "sync.(*Once).Do"}, 4},
		{[]string{"gorgonia.org/vecf32.Add", "github.com/velora-go/velora/machine.(*Machine).accumulate"}, 4},
	} {
		got := slices.IndexFunc(stepParts, func(p stepPart) bool { return p.claim(c.stack) })
		if got != c.want {
			t.Errorf("stack %q goes to part %d, want %d (%s)", c.stack, got, c.want, stepParts[c.want].name)
		}
	}
}

// sinkSpin keeps spin's work.
var sinkSpin float64

//go:noinline
func spin() {
	x := 1.0
	for i := 0; i < 1e6; i++ {
		x = x*1.0000001 + 1e-9
	}
	sinkSpin += x
}

// TestReadProfileFindsTheBusyFunction profiles a loop and checks that the
// decoded stacks name it, and that samples carry counts and nanoseconds.
func TestReadProfileFindsTheBusyFunction(t *testing.T) {
	var buf bytes.Buffer
	if err := pprof.StartCPUProfile(&buf); err != nil {
		t.Skip("the CPU profiler is in use:", err)
	}
	for start := time.Now(); time.Since(start) < 500*time.Millisecond; {
		spin()
	}
	pprof.StopCPUProfile()
	samples, err := readProfile(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if len(samples) == 0 {
		t.Skip("no samples in half a second of spinning: a starved machine")
	}
	found := false
	for _, s := range samples {
		if s.count <= 0 || s.nanos <= 0 {
			t.Errorf("sample %+v: want a positive count and nanoseconds", s)
		}
		found = found || slices.ContainsFunc(s.stack, func(f string) bool { return strings.HasSuffix(f, "/bench.spin") }) // package main's import path, under go test
	}
	if !found {
		t.Errorf("no sample names bench.spin in %d samples; first stack %q", len(samples), samples[0].stack)
	}
}
