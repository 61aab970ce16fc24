package layers

import (
	"math/rand"
	"sort"
	"strings"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/machine"
)

// llamaLogits builds a tiny LLaMA on params with adapter a and returns its
// logits on the fixed batch, and the builder.
func llamaLogits(t *testing.T, params *Params, a Adapter) ([]float64, *Builder) {
	t.Helper()
	b, err := NewBuilder(params, tensor.Float64, a, 1)
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
	vm, err := machine.New(b.G, gorgonia.Nodes{m.Logits})
	if err != nil {
		t.Fatal(err)
	}
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	return append([]float64(nil), m.Logits.Value().Data().([]float64)...), b
}

func same(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	for i := range want {
		if d := got[i] - want[i]; d > tol || d < -tol {
			t.Fatalf("%s[%d] = %.15g, want %.15g", what, i, got[i], want[i])
		}
	}
}

func TestLoRAStartsAsTheBaseModel(t *testing.T) {
	params := NewParams()
	base, _ := llamaLogits(t, params, Full{})
	lora := &LoRA{Rank: 2, Alpha: 4, Targets: []string{"q", "v", "down"}}
	got, b := llamaLogits(t, params, lora)
	same(t, "logits", got, base, 1e-12)

	var names []string
	for _, n := range b.Learnables() {
		names = append(names, n.Name())
	}
	sort.Strings(names)
	want := []string{}
	for _, layer := range []string{"0", "1"} {
		for _, m := range []string{"mlp.down_proj", "self_attn.q_proj", "self_attn.v_proj"} {
			for _, ab := range []string{"A", "B"} {
				want = append(want, "model.layers."+layer+"."+m+".lora_"+ab+".weight")
			}
		}
	}
	sort.Strings(want)
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Fatalf("trainable parameters %v, want %v", names, want)
	}
}

func TestLoRAMergeEqualsAdapterAndUnmergeRestores(t *testing.T) {
	params := NewParams()
	lora := &LoRA{Rank: 2, Alpha: 3, Targets: []string{"k", "up"}}
	llamaLogits(t, params, lora) // creates the adapters
	rng := rand.New(rand.NewSource(3))
	var modules []string
	for _, name := range params.Names() {
		if strings.HasSuffix(name, ".lora_B.weight") {
			data := params.Get(name).Data().([]float64)
			for i := range data {
				data[i] = rng.NormFloat64()
			}
			modules = append(modules, strings.TrimSuffix(name, ".lora_B.weight"))
		}
	}
	withAdapters, _ := llamaLogits(t, params, lora)
	before := map[string][]float64{}
	for _, m := range modules {
		before[m] = append([]float64(nil), params.Get(m+".weight").Data().([]float64)...)
	}
	if err := lora.Merge(params, modules); err != nil {
		t.Fatal(err)
	}
	merged, _ := llamaLogits(t, params, Full{})
	same(t, "merged logits", merged, withAdapters, 1e-12)
	if err := lora.Unmerge(params, modules); err != nil {
		t.Fatal(err)
	}
	for _, m := range modules {
		same(t, m, params.Get(m+".weight").Data().([]float64), before[m], 1e-12)
	}
	if err := (&LoRA{Rank: 2, Alpha: 2, NF4: true}).Merge(params, modules); err == nil || !strings.Contains(err.Error(), "NF4") {
		t.Errorf("merging into NF4: error %v", err)
	}
}

func TestQLoRATrainsAStep(t *testing.T) {
	params := NewParams()
	base, _ := llamaLogits(t, params, Full{})
	qlora := &LoRA{Rank: 2, Alpha: 2, Targets: []string{"v", "down"}, NF4: true, VeLoRA: &VeLoRA{Projections: []string{"v", "down"}, SubTokenSize: 4}}
	got, _ := llamaLogits(t, params, qlora)
	// 4-bit weights change the logits, but not by much at B = 0.
	same(t, "qlora logits", got, base, 0.5)

	b, err := NewBuilder(params, tensor.Float64, qlora, 1)
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
	tr := newTrainer(t, b, m.Loss)
	if len(tr.params) != 8 || len(b.Projections()) != 4 {
		t.Fatalf("%d trainable parameters and %d VeLoRA projections, want 8 (A, B of v and down in 2 layers) and 4", len(tr.params), len(b.Projections()))
	}
	before := tr.run(t)
	if err := gorgonia.NewAdamSolver(gorgonia.WithLearnRate(0.05)).Step(tr.m.ValueGrads(tr.params)); err != nil {
		t.Fatal(err)
	}
	if after := tr.run(t); !(after < before) {
		t.Fatalf("loss %g after one step, %g before", after, before)
	}
}

func TestBuildingOnParamsOfAnotherDtypeIsAnError(t *testing.T) {
	params := NewParams()
	llamaLogits(t, params, Full{})
	b, err := NewBuilder(params, tensor.Float32, Full{}, 1)
	if err == nil {
		_, err = NewLLaMA(b, tinyLLaMA, 2, 4)
	}
	if err == nil || !strings.Contains(err.Error(), "model.embed_tokens.weight") || !strings.Contains(err.Error(), "float64") {
		t.Fatalf("error %v, expected one naming the parameter and both dtypes", err)
	}
}

func TestLoRAValidateNamesTheBadField(t *testing.T) {
	cases := []struct {
		l    LoRA
		want string
	}{
		{LoRA{Rank: -1, Targets: []string{"q"}}, "rank -1"},
		{LoRA{Rank: 2, Alpha: -1, Targets: []string{"q"}}, "lora_alpha is -1"},
		{LoRA{Rank: 2, Dropout: 1, Targets: []string{"q"}}, "lora_dropout is 1"},
		{LoRA{Rank: 2, Targets: []string{"query"}}, `lora targets: projection "query", expected one of`},
		{LoRA{Rank: 2, Targets: []string{"q"}, VeLoRA: &VeLoRA{Projections: []string{"v"}}}, `"v" has no adapter`},
		{LoRA{Rank: 2, Targets: []string{"v"}, VeLoRA: &VeLoRA{Projections: []string{"v"}, Sizes: map[string]int{"v": 0}}}, `sub-token size 0 for "v"`},
	}
	for _, c := range cases {
		if err := c.l.Validate(llamaProjections); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, expected %q", c.l, err, c.want)
		}
	}
}

func TestResolveSelections(t *testing.T) {
	for _, c := range []struct {
		sel       string
		available []string
		aliases   map[string]string
		want      string
	}{
		{"vd", llamaProjections, llamaAliases, "v down"},
		{"qkvd", llamaProjections, llamaAliases, "q k v down"},
		{"q, k, up", llamaProjections, llamaAliases, "q k up"},
		{"vd", vitProjections, vitAliases, "qkv fc2"},
		{"qkv,proj", vitProjections, vitAliases, "qkv proj"},
	} {
		got, err := Resolve(c.sel, c.available, c.aliases)
		if err != nil || strings.Join(got, " ") != c.want {
			t.Errorf("Resolve(%q) = %v, %v; want %s", c.sel, got, err, c.want)
		}
	}
	if _, err := Resolve("v, gate2", llamaProjections, llamaAliases); err == nil || !strings.Contains(err.Error(), `"gate2"`) {
		t.Errorf("unknown name: error %v", err)
	}
	// A name or letter given twice is a typo more often than not ("qq" for "qk").
	for _, sel := range []string{"qq", "v, up, v"} {
		if _, err := Resolve(sel, llamaProjections, llamaAliases); err == nil || !strings.Contains(err.Error(), "named twice, expected each once") {
			t.Errorf("Resolve(%q): error %v, expected one naming the repeat", sel, err)
		}
	}
	if got, err := Resolve("qkv", vitProjections, vitAliases); err != nil || strings.Join(got, " ") != "qkv" {
		t.Errorf(`ViT's "qkv" letters all name qkv: %v, %v`, got, err)
	}
}

// TestLoRAZeroMeansPEFTDefaults: a zero Rank or Alpha means PEFT's
// LoraConfig default, r = 8 and lora_alpha = 8 (package peft's too), so the
// update is scaled by 8/r when only the rank is given.
func TestLoRAZeroMeansPEFTDefaults(t *testing.T) {
	for _, c := range []struct {
		l    LoRA
		want float64
	}{
		{LoRA{}, 1},                   // 8/8
		{LoRA{Rank: 4}, 2},            // 8/4
		{LoRA{Alpha: 4}, 0.5},         // 4/8
		{LoRA{Rank: 2, Alpha: 2}, 1},  // both given
		{LoRA{Rank: 4, Alpha: 32}, 8}, // both given
	} {
		if got := c.l.Scaling(); got != c.want {
			t.Errorf("%+v: scaling %g, expected %g", c.l, got, c.want)
		}
	}
	_, b := llamaLogits(t, NewParams(), &LoRA{Targets: []string{"v"}})
	a := b.Params.Get("model.layers.0.self_attn.v_proj.lora_A.weight")
	if a == nil || !a.Shape().Eq(tensor.Shape{tinyLLaMA.Hidden, DefaultLoRARank}) {
		t.Errorf("lora_A of the zero-rank LoRA: %v, expected shape (%d, %d)", a, tinyLLaMA.Hidden, DefaultLoRARank)
	}
}
