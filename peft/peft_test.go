package peft

import (
	"math"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/layers"
	"github.com/velora-go/velora/machine"
)

var (
	tinyViT   = layers.ViTConfig{ImageSize: 4, PatchSize: 2, Channels: 2, Hidden: 8, Layers: 1, Heads: 2, MLP: 12, Classes: 3}
	tinyLLaMA = layers.LLaMAConfig{Hidden: 8, Intermediate: 12, Heads: 2, Layers: 1, Vocab: 11, MaxSeq: 8, RMSNormEps: 1e-6, RopeTheta: 10000, InitializerRange: 0.3}
)

// built is a tiny model built with a config, with its batch set.
type built struct {
	b    *layers.Builder
	loss *gorgonia.Node
}

func build(t *testing.T, cfg Config, arch layers.Architecture, dt tensor.Dtype) built {
	t.Helper()
	m := buildAdapted(t, nil, cfg, arch, dt)
	return built{m.b, m.loss}
}

func TestEachMethodTrainsExactlyItsParameters(t *testing.T) {
	cases := []struct {
		cfg  Config
		arch layers.Architecture
		want string // every trainable name matches this, and each alternative occurs
	}{
		{Config{Method: MethodFull}, tinyViT, `.*`},
		{Config{Method: MethodLinearProbe}, tinyViT, `^head\.(weight|bias)$`},
		{Config{Method: MethodLoRA, Rank: 2}, tinyViT, `^(blocks\.0\.attn\.qkv\.lora_[AB]\.weight|head\.(weight|bias))$`},
		{Config{Method: MethodQLoRA, Rank: 2, Targets: []string{"qkv", "fc1"}}, tinyViT, `^(blocks\.0\.(attn\.qkv|mlp\.fc1)\.lora_[AB]\.weight|head\.(weight|bias))$`},
		{Config{Method: MethodSSF}, tinyViT, `^(.*\.ssf_(scale|shift)|head\.(weight|bias))$`},
		{Config{Method: MethodHydra, Rank: 2}, tinyViT, `^(blocks\.0\.(attn\.proj|mlp\.fc2)\.hydra_(par|seq)\.(down|up)\.(weight|bias)|head\.(weight|bias))$`},
		{Config{Method: MethodLoRA, Rank: 2}, tinyLLaMA, `^model\.layers\.0\.self_attn\.[qv]_proj\.lora_[AB]\.weight$`},
		{Config{Method: MethodHydra, Rank: 2}, tinyLLaMA, `^model\.layers\.0\.(self_attn\.o_proj|mlp\.down_proj)\.hydra_(par|seq)\.(down|up)\.(weight|bias)$`},
	}
	for _, c := range cases {
		m := build(t, c.cfg, c.arch, tensor.Float64)
		s := Summarize(m.b)
		re := regexp.MustCompile(c.want)
		for _, name := range s.Trainable {
			if !re.MatchString(name) {
				t.Errorf("%s on %T: %q trains", c.cfg.Method, c.arch, name)
			}
		}
		if len(s.Trainable) == 0 {
			t.Errorf("%s on %T: nothing trains", c.cfg.Method, c.arch)
		}
		if c.cfg.Method == MethodFull && len(s.Trainable) != len(m.b.Params.Names()) {
			t.Errorf("full: %d of %d parameters train", len(s.Trainable), len(m.b.Params.Names()))
		}
		t.Logf("%s on %T: %v", c.cfg.Method, c.arch, s)
	}
}

func TestSSFAndHydraCountsMatchTheirDefinitions(t *testing.T) {
	// SSF: γ and β after patch embed (D), per block norm1, qkv (3D), proj,
	// norm2, fc1 (MLP), fc2, and the final norm; plus the head.
	c := tinyViT
	d, mlp := c.Hidden, c.MLP
	head := d*c.Classes + c.Classes
	ssf := 2*(d+d) + 2*c.Layers*(d+3*d+d+d+mlp+d) + head
	if got := Summarize(build(t, Config{Method: MethodSSF}, c, tensor.Float64).b).TrainableParams; got != ssf {
		t.Errorf("ssf: %d trainable parameters, want %d", got, ssf)
	}
	// Hydra rank r: per block, Par and Seq on proj (D → D) and on fc2
	// (MLP → D, Par; D → D, Seq); each branch in·r + r + r·out + out.
	r := 2
	branch := func(in, out int) int { return in*r + r + r*out + out }
	hydra := c.Layers*(branch(d, d)+branch(d, d)+branch(mlp, d)+branch(d, d)) + head
	if got := Summarize(build(t, Config{Method: MethodHydra, Rank: r}, c, tensor.Float64).b).TrainableParams; got != hydra {
		t.Errorf("hydra: %d trainable parameters, want %d", got, hydra)
	}
}

func TestEachMethodsGradientsMatchFiniteDifferences(t *testing.T) {
	for _, method := range methods {
		for _, arch := range []layers.Architecture{tinyViT, tinyLLaMA} {
			if method == MethodQLoRA || (method == MethodLinearProbe && arch == layers.Architecture(tinyLLaMA)) {
				continue // QLoRA's adapters are LoRA's; LLaMA's probe trains nothing without a head to save
			}
			m := build(t, Config{Method: method, Rank: 2}, arch, tensor.Float64)
			checkFiniteDifferences(t, method, m)
		}
	}
}

// checkFiniteDifferences compares the gradient of three entries of every
// trainable parameter with central differences of the loss.
func checkFiniteDifferences(t *testing.T, method string, m built) {
	t.Helper()
	params := m.b.Learnables()
	if len(params) == 0 {
		t.Fatalf("%s: nothing trains", method)
	}
	grads, err := gorgonia.Grad(m.loss, params...)
	if err != nil {
		t.Fatal(err)
	}
	vm, err := machine.New(m.b.G, append(gorgonia.Nodes{m.loss}, grads...))
	if err != nil {
		t.Fatal(err)
	}
	defer vm.Close()
	run := func() float64 {
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		return m.loss.Value().Data().(float64)
	}
	run()
	analytic := make([][]float64, len(grads))
	for i, g := range grads {
		analytic[i] = append([]float64(nil), g.Value().Data().([]float64)...)
	}
	for i, p := range params {
		data := p.Value().Data().([]float64)
		for _, j := range []int{0, len(data) / 2, len(data) - 1} {
			orig := data[j]
			data[j] = orig + 1e-6
			plus := run()
			data[j] = orig - 1e-6
			minus := run()
			data[j] = orig
			numeric := (plus - minus) / 2e-6
			if d := math.Abs(numeric - analytic[i][j]); d > 1e-6*math.Max(1, math.Abs(numeric)) {
				t.Errorf("%s: %s[%d]: gradient %.10g, finite difference %.10g", method, p.Name(), j, analytic[i][j], numeric)
			}
		}
	}
}

// TestVeLoRABackwardReadsZNotX walks every node that gorgonia.Grad adds to a
// whole model, for every method that takes VeLoRA on LLaMA and on ViT, and
// fails if one of them reads the input x of a compressed projection: x must
// be free to die after the forward pass, whichever op of the backward it is.
// The compressed inputs are found from the graph alone: x is the first child
// of every forward node that reads a projection's v (the compression z =
// Compress(x, v) and the op that keeps z). The selections compress every
// consumer of x that trains (q, k and v share LLaMA's attention input), so
// no uncompressed weight gradient reads it either.
func TestVeLoRABackwardReadsZNotX(t *testing.T) {
	for _, c := range []struct {
		cfg  Config
		arch layers.Architecture
	}{
		{Config{Method: MethodFull, VeLoRA: &VeLoRAConfig{Layers: "qkvd", SubTokenSize: 4}}, tinyLLaMA},
		{Config{Method: MethodFull, VeLoRA: &VeLoRAConfig{SubTokenSize: 4}}, tinyViT},
		{Config{Method: MethodLoRA, Rank: 2, Dropout: 0.1, Targets: []string{"v", "down"}, VeLoRA: &VeLoRAConfig{SubTokenSize: 4}}, tinyLLaMA},
		{Config{Method: MethodLoRA, Rank: 2, Targets: []string{"qkv", "fc2"}, VeLoRA: &VeLoRAConfig{SubTokenSize: 4}}, tinyViT},
		{Config{Method: MethodQLoRA, Rank: 2, Targets: []string{"v", "down"}, VeLoRA: &VeLoRAConfig{SubTokenSize: 4}}, tinyLLaMA},
		{Config{Method: MethodQLoRA, Rank: 2, Targets: []string{"qkv", "fc2"}, VeLoRA: &VeLoRAConfig{SubTokenSize: 4}}, tinyViT},
		{Config{Method: MethodSSF, VeLoRA: &VeLoRAConfig{SubTokenSize: 4}}, tinyLLaMA},
		{Config{Method: MethodSSF, VeLoRA: &VeLoRAConfig{SubTokenSize: 4}}, tinyViT},
		{Config{Method: MethodHydra, Rank: 2, VeLoRA: &VeLoRAConfig{SubTokenSize: 4}}, tinyLLaMA},
		{Config{Method: MethodHydra, Rank: 2, VeLoRA: &VeLoRAConfig{SubTokenSize: 4}}, tinyViT},
	} {
		m := build(t, c.cfg, c.arch, tensor.Float32)
		g := m.b.G
		forward := map[int64]bool{}
		for _, n := range g.AllNodes() {
			forward[n.ID()] = true
		}
		compressed := map[int64]string{} // x's id → the module that compresses it
		for module, p := range m.b.Projections() {
			readers := 0
			for _, n := range g.AllNodes() {
				children := childrenOf(g, n)
				if !slices.Contains(children, p.V()) {
					continue
				}
				if children[0] == p.V() {
					t.Fatalf("%s on %T: %v reads %s's v but has no input before it", c.cfg.Method, c.arch, n.Op(), module)
				}
				compressed[children[0].ID()] = module
				readers++
			}
			if readers == 0 {
				t.Fatalf("%s on %T: no node reads %s's v", c.cfg.Method, c.arch, module)
			}
		}
		if len(compressed) == 0 {
			t.Fatalf("%s on %T: nothing is compressed", c.cfg.Method, c.arch)
		}
		if _, err := gorgonia.Grad(m.loss, m.b.Learnables()...); err != nil {
			t.Fatal(err)
		}
		backward, reads := 0, 0
		for _, n := range g.AllNodes() {
			if forward[n.ID()] {
				continue
			}
			backward++
			for _, child := range childrenOf(g, n) {
				if module, ok := compressed[child.ID()]; ok {
					t.Errorf("%s on %T: backward node %v reads %s, the input %s compresses", c.cfg.Method, c.arch, n, child.Name(), module)
					reads++
				}
			}
		}
		t.Logf("%s on %T: %d of %d backward nodes read one of the %d compressed inputs", c.cfg.Method, c.arch, reads, backward, len(compressed))
	}
}

// childrenOf returns n's inputs in order.
func childrenOf(g *gorgonia.ExprGraph, n *gorgonia.Node) []*gorgonia.Node {
	var out []*gorgonia.Node
	for it := g.From(n.ID()); it.Next(); {
		out = append(out, it.Node().(*gorgonia.Node))
	}
	return out
}

func TestBadConfigsNameTheFieldAndValue(t *testing.T) {
	cases := []struct {
		cfg  Config
		arch layers.Architecture
		want string
	}{
		{Config{Method: "prefix-tuning"}, tinyLLaMA, `method "prefix-tuning"`},
		{Config{Rank: -1}, tinyLLaMA, "rank -1"},
		{Config{Rank: 9}, tinyLLaMA, "rank 9 is above the width"},
		{Config{Alpha: -2}, tinyLLaMA, "lora_alpha is -2"},
		{Config{Dropout: 1}, tinyLLaMA, "lora_dropout is 1"},
		{Config{Alpha: math.NaN()}, tinyLLaMA, "peft: lora_alpha is NaN, expected a finite number ≥ 0"},
		{Config{Alpha: math.Inf(1)}, tinyLLaMA, "peft: lora_alpha is +Inf, expected a finite number ≥ 0"},
		{Config{Dropout: math.NaN()}, tinyLLaMA, "peft: lora_dropout is NaN"},
		{Config{Method: MethodHydra, Scale: math.Inf(1)}, tinyLLaMA, "peft: scale is +Inf"},
		{Config{Method: MethodHydra, Scale: math.NaN()}, tinyLLaMA, "peft: scale is NaN"},
		{Config{Method: MethodFull, VeLoRA: &VeLoRAConfig{Scale: math.NaN()}}, tinyLLaMA, "peft: velora_scale is NaN, expected a finite number ≥ 0"},
		{Config{Method: MethodFull, VeLoRA: &VeLoRAConfig{Scale: math.Inf(1)}}, tinyLLaMA, "peft: velora_scale is +Inf"},
		{Config{Method: MethodFull, VeLoRA: &VeLoRAConfig{Layers: " , "}}, tinyLLaMA, `peft: velora_layers " , " selects no projection`},
		{Config{VeLoRA: &VeLoRAConfig{Layers: ","}}, tinyLLaMA, `peft: velora_layers "," selects no projection`},
		{Config{Targets: []string{"q", "value"}}, tinyLLaMA, `"value"`},
		{Config{Method: MethodLinearProbe, VeLoRA: &VeLoRAConfig{}}, tinyViT, "linear-probe"},
		{Config{Targets: []string{"q"}, VeLoRA: &VeLoRAConfig{Layers: "vd"}}, tinyLLaMA, `selects "v"`},
		{Config{Method: MethodFull, VeLoRA: &VeLoRAConfig{SubTokenSize: -4}}, tinyLLaMA, "sub_token_size -4"},
		{Config{Method: MethodFull, VeLoRA: &VeLoRAConfig{SubTokenSizes: map[string]int{"v": 0}}}, tinyLLaMA, `sub_token_sizes["v"] = 0`},
		{Config{Method: MethodFull, VeLoRA: &VeLoRAConfig{NumGroups: []int{2}}}, tinyLLaMA, "num_groups has 1 entries"},
		{Config{Method: MethodFull, VeLoRA: &VeLoRAConfig{Init: "kmeans"}}, tinyLLaMA, `"kmeans"`},
		{Config{Method: MethodFull, VeLoRA: &VeLoRAConfig{ZDtype: "bfloat16"}}, tinyLLaMA, `peft: z_dtype "bfloat16", expected "" (the model's dtype), "bf16" or "fp16"`},
		{Config{ModulesToSave: []string{"classifier"}}, tinyViT, `modules_to_save "classifier"`},
		{Config{Method: MethodFull, VeLoRA: &VeLoRAConfig{Init: "bogus"}}, tinyLLaMA, `peft: velora init: unknown strategy "bogus"`},
		{Config{}, nil, "peft: model config is nil"}, // it panicked
		{Config{}, layers.LLaMAConfig{Hidden: -1, Intermediate: 4, Heads: 1, Layers: 1, Vocab: 3, MaxSeq: 4}, "peft: model config: llama hidden_size -1, expected a positive size"},
	}
	for _, c := range cases {
		err := c.cfg.Validate(c.arch)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, expected %q", c.cfg, err, c.want)
		}
	}
}

func TestNumGroupsConvertToSubTokenSizes(t *testing.T) {
	// The paper's 60M run: "vd" with 64 and 86 groups over 512 and 1376.
	c, err := layers.LLaMAConfigNamed("llama_60m")
	if err != nil {
		t.Fatal(err)
	}
	a, err := Apply(Config{Method: MethodFull, VeLoRA: &VeLoRAConfig{Layers: "vd", NumGroups: []int{64, 86}}}, c)
	if err != nil {
		t.Fatal(err)
	}
	v := a.(layers.Full).VeLoRA
	if v.Size("v") != 8 || v.Size("down") != 16 {
		t.Fatalf("sub-token sizes v %d, down %d; want 8 and 16", v.Size("v"), v.Size("down"))
	}
}

func TestLoRAsDefaultVeLoRASelectionFollowsItsTargets(t *testing.T) {
	for _, c := range []struct {
		arch    layers.Architecture
		targets []string
		want    string
	}{
		{tinyViT, nil, "qkv"},                  // ViT's default target: "vd" has qkv among them
		{tinyLLaMA, nil, "v"},                  // LLaMA's default targets q, v: "vd" ∩ {q, v}
		{tinyLLaMA, []string{"q", "k"}, "q k"}, // none of "vd": every target
		{tinyLLaMA, []string{"v", "up", "down"}, "v down"},
	} {
		a, err := Apply(Config{Method: MethodLoRA, Rank: 2, Targets: c.targets, VeLoRA: &VeLoRAConfig{}}, c.arch)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(a.(*layers.LoRA).VeLoRA.Projections, " "); got != c.want {
			t.Errorf("%T, targets %v: VeLoRA on %q, want %q", c.arch, c.targets, got, c.want)
		}
	}
}

// TestSSFVeLoRAScaleMultipliesTheCompressedScaleGradients checks that
// velora_scale acts on SSF as in the reference's VeLoRAScaleAndShift,
// which returns scale · grad_γ and leaves grad_x and grad_β alone: with
// Scale 3 the γ gradient of every compressed scale-shift is 3 times that
// with Scale 1, and every other gradient is the same.
func TestSSFVeLoRAScaleMultipliesTheCompressedScaleGradients(t *testing.T) {
	for _, arch := range []layers.Architecture{tinyViT, tinyLLaMA} {
		grads := func(scale float64) (map[string][]float64, map[string]bool) {
			m := build(t, Config{Method: MethodSSF, VeLoRA: &VeLoRAConfig{SubTokenSize: 4, Scale: scale}}, arch, tensor.Float64)
			params := m.b.Learnables()
			gs, err := gorgonia.Grad(m.loss, params...)
			if err != nil {
				t.Fatal(err)
			}
			vm, err := machine.New(m.b.G, append(gorgonia.Nodes{m.loss}, gs...))
			if err != nil {
				t.Fatal(err)
			}
			defer vm.Close()
			if err := vm.RunAll(); err != nil {
				t.Fatal(err)
			}
			out := map[string][]float64{}
			for i, p := range params {
				out[p.Name()] = append([]float64(nil), gs[i].Value().Data().([]float64)...)
			}
			compressed := map[string]bool{}
			for module := range m.b.Projections() {
				compressed[module+".ssf_scale"] = true
			}
			return out, compressed
		}
		one, compressed := grads(1)
		three, _ := grads(3)
		if len(compressed) == 0 {
			t.Fatalf("%T: SSF with VeLoRA compressed nothing", arch)
		}
		for name, g := range one {
			factor := 1.0
			if compressed[name] {
				factor = 3
				if slices.Max(g) == 0 && slices.Min(g) == 0 {
					t.Errorf("%T: %s has a zero gradient, so its scale cannot be seen", arch, name)
				}
			}
			for j, x := range g {
				// 1e-12: the same sums in the same order, one product by 3 apart.
				if d := math.Abs(three[name][j] - factor*x); !(d <= 1e-12*math.Max(1, math.Abs(x))) {
					t.Errorf("%T: %s[%d]: gradient %.15g with scale 3, want %g × %.15g (scale 1)", arch, name, j, three[name][j], factor, x)
					break
				}
			}
		}
	}
}

// TestLoRADefaultsAgreeWithLayers: a Config's zero Rank and Alpha mean the
// same as a layers.LoRA's, PEFT's r = 8 and lora_alpha = 8, so a model built
// through Apply and one built on layers.LoRA directly scale the update alike.
func TestLoRADefaultsAgreeWithLayers(t *testing.T) {
	for _, c := range []Config{{}, {Rank: 4}, {Alpha: 2}, {Rank: 2, Alpha: 16}} {
		a, err := Apply(c, tinyLLaMA)
		if err != nil {
			t.Fatal(err)
		}
		got := a.(*layers.LoRA)
		direct := &layers.LoRA{Rank: c.Rank, Alpha: c.Alpha}
		if got.Scaling() != direct.Scaling() {
			t.Errorf("%+v: Apply's LoRA scales by %g, layers.LoRA with the same fields by %g", c, got.Scaling(), direct.Scaling())
		}
	}
}
