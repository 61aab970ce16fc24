package layers

import (
	"math"
	"math/rand"
	"strings"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/machine"
	"github.com/velora-go/velora/op/plain"
)

// tinyLLaMA is small enough for finite differences.
var tinyLLaMA = LLaMAConfig{Hidden: 8, Intermediate: 12, Heads: 2, Layers: 2, Vocab: 11, MaxSeq: 8, RMSNormEps: 1e-6, RopeTheta: 10000, InitializerRange: 0.5}

// trainer is a model's loss and gradients under machine.
type trainer struct {
	loss   *gorgonia.Node
	params gorgonia.Nodes
	grads  gorgonia.Nodes
	m      *machine.Machine
}

func newTrainer(t *testing.T, b *Builder, loss *gorgonia.Node) *trainer {
	t.Helper()
	params := b.Learnables()
	grads, err := gorgonia.Grad(loss, params...)
	if err != nil {
		t.Fatal(err)
	}
	m, err := machine.New(b.G, append(gorgonia.Nodes{loss}, grads...))
	if err != nil {
		t.Fatal(err)
	}
	return &trainer{loss: loss, params: params, grads: grads, m: m}
}

func (tr *trainer) run(t *testing.T) float64 {
	t.Helper()
	if err := tr.m.RunAll(); err != nil {
		t.Fatal(err)
	}
	switch v := tr.loss.Value().Data().(type) {
	case float64:
		return v
	case float32:
		return float64(v)
	}
	t.Fatalf("loss is a %T", tr.loss.Value().Data())
	return 0
}

// fixedBatch is a deterministic batch of ids and next-token targets.
func fixedBatch(vocab, n int) (ids, targets []int) {
	rng := rand.New(rand.NewSource(5))
	ids, targets = make([]int, n), make([]int, n)
	for i := range ids {
		ids[i] = rng.Intn(vocab)
		targets[i] = (ids[i]*3 + 1) % vocab // a learnable rule
	}
	targets[n-1] = IgnoreIndex
	return ids, targets
}

// checkGradientsByFiniteDifferences perturbs a few entries of every
// trainable parameter and compares the loss change with the gradient.
func checkGradientsByFiniteDifferences(t *testing.T, tr *trainer) {
	t.Helper()
	tr.run(t)
	analytic := make([][]float64, len(tr.grads))
	for i, g := range tr.grads {
		analytic[i] = append([]float64(nil), g.Value().Data().([]float64)...)
	}
	const h = 1e-6
	for i, p := range tr.params {
		data := p.Value().Data().([]float64)
		for _, j := range []int{0, len(data) / 2, len(data) - 1} {
			orig := data[j]
			data[j] = orig + h
			plus := tr.run(t)
			data[j] = orig - h
			minus := tr.run(t)
			data[j] = orig
			numeric := (plus - minus) / (2 * h)
			if d := math.Abs(numeric - analytic[i][j]); d > 1e-6*math.Max(1, math.Abs(numeric)) {
				t.Errorf("%s[%d]: gradient %.10g, finite difference %.10g", p.Name(), j, analytic[i][j], numeric)
			}
		}
	}
}

func TestLLaMAGradientsMatchFiniteDifferences(t *testing.T) {
	b, err := NewBuilder(nil, tensor.Float64, Full{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewLLaMA(b, tinyLLaMA, 2, 4)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.SetBatch(fixedBatch(tinyLLaMA.Vocab, 8)); err != nil {
		t.Fatal(err)
	}
	checkGradientsByFiniteDifferences(t, newTrainer(t, b, m.Loss))
}

func TestLLaMALossFallsOnAFixedBatch(t *testing.T) {
	for _, v := range []*VeLoRA{nil, {Projections: []string{"v", "down"}, SubTokenSize: 4}} {
		b, err := NewBuilder(nil, tensor.Float32, Full{VeLoRA: v}, 1)
		if err != nil {
			t.Fatal(err)
		}
		c := tinyLLaMA
		c.InitializerRange = 0.02
		m, err := NewLLaMA(b, c, 2, 8)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.SetBatch(fixedBatch(c.Vocab, 16)); err != nil {
			t.Fatal(err)
		}
		tr := newTrainer(t, b, m.Loss)
		solver := gorgonia.NewAdamSolver(gorgonia.WithLearnRate(0.01))
		first := tr.run(t)
		var last float64
		for step := 0; step < 50; step++ {
			last = tr.run(t)
			if err := solver.Step(tr.m.ValueGrads(tr.params)); err != nil {
				t.Fatal(err)
			}
		}
		t.Logf("velora %v: loss %.4f → %.4f", v, first, last)
		if !(last < 0.5*first) {
			t.Errorf("velora %v: loss %g after 50 steps, started at %g: expected it to halve", v, last, first)
		}
	}
}

func TestLLaMAWithPlainKernelsGivesTheSameLossAndGradients(t *testing.T) {
	var results [2][]float64
	for i, kernels := range []Kernels{{}, {RMSNorm: plain.RMSNorm, Attention: plain.Attention, SwiGLU: plain.SwiGLU}} {
		b, err := NewBuilder(nil, tensor.Float64, Full{}, 1)
		if err != nil {
			t.Fatal(err)
		}
		b.Kernels = kernels
		m, err := NewLLaMA(b, tinyLLaMA, 2, 4)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.SetBatch(fixedBatch(tinyLLaMA.Vocab, 8)); err != nil {
			t.Fatal(err)
		}
		tr := newTrainer(t, b, m.Loss)
		results[i] = append(results[i], tr.run(t))
		for _, g := range tr.grads {
			results[i] = append(results[i], g.Value().Data().([]float64)...)
		}
	}
	same(t, "loss and gradients", results[1], results[0], 1e-10)
}

// TestHugeConfigsAreRefused: a config whose parameters overflow a slice, or would fill
// terabytes, is refused by Validate; hidden_size 2^40 panicked in makeslice and 100000
// layers of 4096 ran out of memory without a word.
func TestHugeConfigsAreRefused(t *testing.T) {
	base := LLaMAConfig{Hidden: 64, Intermediate: 128, Heads: 4, Layers: 2, Vocab: 100, MaxSeq: 16}
	if err := base.Validate(); err != nil {
		t.Fatal(err)
	}
	wide, deep := base, base
	wide.Hidden, wide.Heads = 1<<40, 1<<20
	deep.Layers, deep.Hidden, deep.Intermediate, deep.Heads = 100000, 4096, 11008, 32
	for _, c := range []LLaMAConfig{wide, deep} {
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "parameters, expected at most") {
			t.Errorf("%+v: err = %v, want a refusal naming the parameter count", c, err)
		}
	}
}

// TestHiddenActMustBeSiLU: a config.json asking for another activation is refused; the
// model would have trained SwiGLU anyway.
func TestHiddenActMustBeSiLU(t *testing.T) {
	base := `{"hidden_size": 64, "intermediate_size": 128, "num_attention_heads": 4, "num_hidden_layers": 2, "vocab_size": 100, "max_position_embeddings": 16`
	if _, err := ParseLLaMAConfig([]byte(base+`, "hidden_act": "silu"}`), "ok.json"); err != nil {
		t.Fatal(err)
	}
	_, err := ParseLLaMAConfig([]byte(base+`, "hidden_act": "relu"}`), "relu.json")
	if err == nil || !strings.Contains(err.Error(), `relu.json: key "hidden_act" is "relu", expected "silu"`) {
		t.Errorf("err = %v, want one naming the file, the key and silu", err)
	}
}
