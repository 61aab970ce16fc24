package train

import (
	"math/rand"
	"strings"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/layers"
)

var tiny = layers.LLaMAConfig{Hidden: 16, Intermediate: 32, Heads: 2, Layers: 2, Vocab: 13, MaxSeq: 16, RMSNormEps: 1e-6, RopeTheta: 10000, InitializerRange: 0.02}

func newModel(t *testing.T, adapter layers.Adapter) (*layers.Builder, *layers.LLaMA) {
	t.Helper()
	b, err := layers.NewBuilder(nil, tensor.Float32, adapter, 1)
	if err != nil {
		t.Fatal(err)
	}
	m, err := layers.NewLLaMA(b, tiny, 2, 8)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewSource(1))
	ids, targets := make([]int, 16), make([]int, 16)
	for i := range ids {
		ids[i] = rng.Intn(tiny.Vocab)
		targets[i] = (ids[i] + 1) % tiny.Vocab
	}
	if err := m.SetBatch(ids, targets); err != nil {
		t.Fatal(err)
	}
	return b, m
}

func TestTrainerStepsAndAccountsMemory(t *testing.T) {
	b, m := newModel(t, layers.Full{})
	tr, err := New(b, m.Loss, gorgonia.NewAdamSolver(gorgonia.WithLearnRate(0.01)))
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	first, err := tr.Step()
	if err != nil {
		t.Fatal(err)
	}
	var last float64
	for i := 0; i < 30; i++ {
		if last, err = tr.Step(); err != nil {
			t.Fatal(err)
		}
	}
	if !(last < first) {
		t.Fatalf("loss %g after 30 steps, %g at first", last, first)
	}
	eval, err := tr.Eval()
	if err != nil {
		t.Fatal(err)
	}
	if eval >= first {
		t.Fatalf("evaluation loss %g, first training loss %g", eval, first)
	}
	mem, err := tr.Memory()
	if err != nil {
		t.Fatal(err)
	}
	paramBytes := int64(4 * b.Params.Count())
	// Adam keeps two copies of every trainable parameter; here all of them train.
	if mem.Optimizer != 2*paramBytes {
		t.Errorf("optimizer state %d bytes, want 2 × %d", mem.Optimizer, paramBytes)
	}
	if mem.Params < paramBytes || mem.Activations <= 0 || mem.Peak != mem.Params+mem.Grads+mem.Optimizer+mem.Activations {
		t.Errorf("memory %+v does not add up (parameters %d bytes)", mem, paramBytes)
	}
	if !strings.Contains(mem.String(), "MiB") {
		t.Errorf("String() = %q", mem.String())
	}
}

func TestTrainerRejectsAModelWithNothingToTrain(t *testing.T) {
	b, m := newModel(t, &layers.LoRA{Rank: 2, Alpha: 2})
	if _, err := New(b, m.Loss, gorgonia.NewAdamSolver()); err == nil || !strings.Contains(err.Error(), "no trainable parameters") {
		t.Fatalf("error %v", err)
	}
}

// TestNewRejectsNil: a nil builder or loss is an error, not a nil-pointer panic.
func TestNewRejectsNil(t *testing.T) {
	b, err := layers.NewBuilder(nil, tensor.Float64, nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	solver := gorgonia.NewVanillaSolver()
	if _, err := New(nil, nil, solver); err == nil || !strings.Contains(err.Error(), "expected both") {
		t.Errorf("nil builder: err = %v", err)
	}
	if _, err := New(b, nil, solver); err == nil || !strings.Contains(err.Error(), "loss false") {
		t.Errorf("nil loss: err = %v", err)
	}
	if _, err := layers.NewLLaMA(nil, layers.LLaMAConfig{}, 1, 1); err == nil {
		t.Error("NewLLaMA(nil builder): no error")
	}
	if _, err := layers.NewViT(nil, layers.ViTConfig{}, 1); err == nil {
		t.Error("NewViT(nil builder): no error")
	}
}
