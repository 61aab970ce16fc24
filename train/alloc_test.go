package train_test

import (
	"math/rand"
	"runtime"
	"runtime/debug"
	"testing"

	"gorgonia.org/tensor"

	"github.com/velora-go/velora/layers"
	"github.com/velora-go/velora/optim"
	"github.com/velora-go/velora/train"
)

// TestWarmStepsAllocateLittle trains a small LLaMA with AdamW: once warm, a step's values
// live in the machine's arena and the kernels reuse their work buffers, so what a step
// allocates on the Go heap (headers, goroutines, gorgonia's small values: the garbage a
// long run leaves for the collector) stays under a tenth of the step's exact peak. The
// kernels' scratch used to be a quarter of it.
func TestWarmStepsAllocateLittle(t *testing.T) {
	c := layers.LLaMAConfig{Hidden: 64, Intermediate: 128, Heads: 2, Layers: 2, Vocab: 29, MaxSeq: 128, RMSNormEps: 1e-6, RopeTheta: 10000, InitializerRange: 0.02}
	const batch, seq = 2, 128
	b, err := layers.NewBuilder(nil, tensor.Float32, layers.Full{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	m, err := layers.NewLLaMA(b, c, batch, seq)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewSource(1))
	ids, targets := make([]int, batch*seq), make([]int, batch*seq)
	for i := range ids {
		ids[i], targets[i] = rng.Intn(c.Vocab), rng.Intn(c.Vocab)
	}
	if err := m.SetBatch(ids, targets); err != nil {
		t.Fatal(err)
	}
	solver, err := optim.NewAdamW(optim.AdamConfig{})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := train.New(b, m.Loss, solver)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	for range 3 {
		if _, err := tr.Step(); err != nil {
			t.Fatal(err)
		}
	}
	defer debug.SetGCPercent(debug.SetGCPercent(-1)) // a collection would empty the GEMM's sync.Pool
	const steps = 5
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range steps {
		if _, err := tr.Step(); err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	mem, err := tr.Memory()
	if err != nil {
		t.Fatal(err)
	}
	perStep := int64(after.TotalAlloc-before.TotalAlloc) / steps
	t.Logf("a warm step allocates %d bytes in %d objects; its exact peak is %d bytes", perStep, (after.Mallocs-before.Mallocs)/steps, mem.Peak)
	if perStep > mem.Peak/10 {
		t.Errorf("a warm step allocates %d bytes on the Go heap, over a tenth of its exact peak (%d bytes)", perStep, mem.Peak)
	}
}
