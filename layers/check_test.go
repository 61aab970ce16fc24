package layers

import (
	"math"
	"strings"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/internal/testutil"
)

// TestFloatFieldsMustBeFiniteAndInRange: every float field of the layers'
// configurations is refused when NaN, ±Inf or out of its range, by an error
// naming the field, the value and the range.
func TestFloatFieldsMustBeFiniteAndInRange(t *testing.T) {
	llama := LLaMAConfig{Hidden: 8, Intermediate: 12, Heads: 2, Layers: 1, Vocab: 11, MaxSeq: 8}
	vit := ViTConfig{ImageSize: 4, PatchSize: 2, Channels: 2, Hidden: 8, Layers: 1, Heads: 2, MLP: 12, Classes: 3}
	lora := func(l LoRA) func() error {
		return func() error { l.Rank, l.Targets = 2, []string{"q"}; return l.Validate(llamaProjections) }
	}
	velora := func(v VeLoRA) func() error { return func() error { return v.Validate(llamaProjections) } }
	nan, inf := math.NaN(), math.Inf(1)
	cases := []struct {
		name     string
		validate func() error
		want     string
	}{
		{"rms eps NaN", func() error { c := llama; c.RMSNormEps = nan; return c.Validate() }, "layers: llama rms_norm_eps is NaN, expected a finite number ≥ 0 (0 means 1e-06)"},
		{"rms eps +Inf", func() error { c := llama; c.RMSNormEps = inf; return c.Validate() }, "rms_norm_eps is +Inf"},
		{"rms eps negative", func() error { c := llama; c.RMSNormEps = -1; return c.Validate() }, "rms_norm_eps is -1"},
		{"rope theta NaN", func() error { c := llama; c.RopeTheta = nan; return c.Validate() }, "layers: llama rope_theta is NaN, expected a finite number > 1 (0 means 10000)"},
		{"rope theta -Inf", func() error { c := llama; c.RopeTheta = -inf; return c.Validate() }, "rope_theta is -Inf"},
		{"rope theta 0.5", func() error { c := llama; c.RopeTheta = 0.5; return c.Validate() }, "rope_theta is 0.5, expected a finite number > 1"}, // RoPE refused it only when the model was built
		{"initializer range NaN", func() error { c := llama; c.InitializerRange = nan; return c.Validate() }, "layers: llama initializer_range is NaN, expected a finite number ≥ 0 (0 means 0.02)"},
		{"initializer range +Inf", func() error { c := llama; c.InitializerRange = inf; return c.Validate() }, "initializer_range is +Inf"},
		{"layer norm eps NaN", func() error { c := vit; c.LayerNormE = nan; return c.Validate() }, "layers: vit layer_norm_eps is NaN, expected a finite number ≥ 0 (0 means 1e-06)"},
		{"layer norm eps +Inf", func() error { c := vit; c.LayerNormE = inf; return c.Validate() }, "vit layer_norm_eps is +Inf"},
		{"layer norm eps negative", func() error { c := vit; c.LayerNormE = -1e-6; return c.Validate() }, "vit layer_norm_eps is -1e-06"},
		{"lora alpha NaN", lora(LoRA{Alpha: nan}), "layers: lora_alpha is NaN, expected a finite number ≥ 0 (0 means 8)"},
		{"lora alpha +Inf", lora(LoRA{Alpha: inf}), "layers: lora_alpha is +Inf"},
		{"lora alpha negative", lora(LoRA{Alpha: -2}), "layers: lora_alpha is -2"},
		{"lora dropout NaN", lora(LoRA{Dropout: nan}), "layers: lora_dropout is NaN, expected a value in [0, 1)"},
		{"lora dropout 1", lora(LoRA{Dropout: 1}), "layers: lora_dropout is 1"},
		{"velora scale NaN", velora(VeLoRA{Scale: nan}), "layers: velora_scale is NaN, expected a finite number ≥ 0 (0 means 1)"},
		{"velora scale +Inf", velora(VeLoRA{Scale: inf}), "layers: velora_scale is +Inf"},
		{"velora scale negative", velora(VeLoRA{Scale: -1}), "layers: velora_scale is -1"},
	}
	for _, c := range cases {
		if err := c.validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, expected %q", c.name, err, c.want)
		}
	}
	// The defaults and ordinary values pass.
	for name, err := range map[string]error{
		"llama":  llama.Validate(),
		"vit":    vit.Validate(),
		"lora":   lora(LoRA{Alpha: 16, Dropout: 0.1})(),
		"velora": velora(VeLoRA{Scale: 1.5})(),
	} {
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestConfigsNameTheSizeThatIsWrong: a size ≤ 0 is named with its config key;
// the message dumped the whole struct.
func TestConfigsNameTheSizeThatIsWrong(t *testing.T) {
	llama := LLaMAConfig{Hidden: 8, Intermediate: 12, Heads: 2, Layers: 1, Vocab: -3, MaxSeq: 8}
	if err := llama.Validate(); err == nil || err.Error() != "layers: llama vocab_size -3, expected a positive size" {
		t.Errorf("llama: %v", err)
	}
	vit := ViTConfig{ImageSize: 4, PatchSize: 2, Channels: 2, Hidden: 8, Layers: 1, Heads: 2, MLP: 12}
	if err := vit.Validate(); err == nil || err.Error() != "layers: vit classes 0, expected a positive size" {
		t.Errorf("vit: %v", err)
	}
}

// TestModelsValidateTheirAdapter: an adapter given to NewBuilder is checked
// against the model when it is built. A LoRA of rank -1 panicked (makeslice),
// and selections of unknown projections adapted or compressed nothing.
func TestModelsValidateTheirAdapter(t *testing.T) {
	llama := LLaMAConfig{Hidden: 8, Intermediate: 12, Heads: 2, Layers: 1, Vocab: 11, MaxSeq: 8}
	for _, c := range []struct {
		adapter Adapter
		want    string
	}{
		{&LoRA{Rank: -1, Targets: []string{"v"}}, "layers: lora rank -1, expected a positive rank"},
		{&LoRA{Targets: []string{"zz"}}, `layers: lora targets: projection "zz", expected one of`},
		{&LoRA{Targets: []string{"v"}, Alpha: math.Inf(-1)}, "lora_alpha is -Inf"},
		{Full{VeLoRA: &VeLoRA{Projections: []string{"zz"}}}, `layers: velora projection "zz", expected one of`},
	} {
		b, err := NewBuilder(nil, tensor.Float32, c.adapter, 1)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := NewLLaMA(b, llama, 1, 4); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, expected one containing %q", c.adapter, err, c.want)
		}
	}
}

// TestBuildErrorsNameTheModuleOnce: an op's error while a projection is built
// names the module once ("layers: model.layers.0.self_attn.v_proj:
// model.layers.0.self_attn.v_proj: …" was real).
func TestBuildErrorsNameTheModuleOnce(t *testing.T) {
	llama := LLaMAConfig{Hidden: 8, Intermediate: 12, Heads: 2, Layers: 1, Vocab: 11, MaxSeq: 8}
	b, err := NewBuilder(nil, tensor.Float32, unchecked{&VeLoRA{Projections: []string{"v"}, Scale: math.NaN()}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	_, err = NewLLaMA(b, llama, 1, 4)
	const module = "model.layers.0.self_attn.v_proj"
	if err == nil || strings.Contains(err.Error(), module+": "+module) || !strings.HasPrefix(err.Error(), "layers: "+module+": ") || !testutil.Prefixed(err.Error(), "layers") {
		t.Errorf("error %v, expected one naming %s once after one \"layers: \"", err, module)
	}
}

// unchecked is Full without Validate: its VeLoRA reaches the ops as it is.
type unchecked struct{ v *VeLoRA }

func (u unchecked) Linear(b *Builder, s Site, x *gorgonia.Node) (*gorgonia.Node, error) {
	return b.Linear(s, x, u.v, true)
}
func (unchecked) Trains(Role) bool { return true }
func (unchecked) Feature(_ *Builder, _ string, x *gorgonia.Node) (*gorgonia.Node, error) {
	return x, nil
}
