package peft

import (
	"encoding/json"
	"fmt"
	"maps"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/checkpoint"
	"github.com/velora-go/velora/internal/testutil"
	"github.com/velora-go/velora/layers"
	"github.com/velora-go/velora/machine"
	"github.com/velora-go/velora/op/nf4"
)

// Two layers, so that every key exists per layer; widths divisible by the
// sub-token sizes below.
var (
	adapterLLaMA = layers.LLaMAConfig{Hidden: 8, Intermediate: 12, Heads: 2, Layers: 2, Vocab: 11, MaxSeq: 8, RMSNormEps: 1e-6, RopeTheta: 10000, InitializerRange: 0.3}
	adapterViT   = layers.ViTConfig{ImageSize: 4, PatchSize: 2, Channels: 2, Hidden: 8, Layers: 2, Heads: 2, MLP: 12, Classes: 3}
)

// adaptedModel is a tiny model built with an adapter on params, its batch set.
type adaptedModel struct {
	b            *layers.Builder
	logits, loss *gorgonia.Node
}

// buildAdapted builds arch with cfg's adapter on params (new when nil).
func buildAdapted(t *testing.T, params *layers.Params, cfg Config, arch layers.Architecture, dt tensor.Dtype) adaptedModel {
	t.Helper()
	adapter, err := Apply(cfg, arch)
	if err != nil {
		t.Fatal(err)
	}
	return buildWith(t, params, adapter, arch, dt)
}

func buildWith(t *testing.T, params *layers.Params, adapter layers.Adapter, arch layers.Architecture, dt tensor.Dtype) adaptedModel {
	t.Helper()
	b, err := layers.NewBuilder(params, dt, adapter, 1)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewSource(2))
	switch c := arch.(type) {
	case layers.ViTConfig:
		m, err := layers.NewViT(b, c, 3)
		if err != nil {
			t.Fatal(err)
		}
		images := make([]float64, 3*c.ImageSize*c.ImageSize*c.Channels)
		for i := range images {
			images[i] = rng.NormFloat64()
		}
		if err := m.SetBatch(images, []int{0, 2, 1}); err != nil {
			t.Fatal(err)
		}
		return adaptedModel{b, m.Logits, m.Loss}
	case layers.LLaMAConfig:
		m, err := layers.NewLLaMA(b, c, 2, 4)
		if err != nil {
			t.Fatal(err)
		}
		ids, targets := make([]int, 8), make([]int, 8)
		for i := range ids {
			ids[i], targets[i] = rng.Intn(c.Vocab), rng.Intn(c.Vocab)
		}
		if err := m.SetBatch(ids, targets); err != nil {
			t.Fatal(err)
		}
		return adaptedModel{b, m.Logits, m.Loss}
	}
	t.Fatalf("architecture %T", arch)
	return adaptedModel{}
}

// forward runs the model and returns its logits and loss as float64.
func (a adaptedModel) forward(t *testing.T) ([]float64, float64) {
	t.Helper()
	vm, err := machine.New(a.b.G, gorgonia.Nodes{a.logits, a.loss})
	if err != nil {
		t.Fatal(err)
	}
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	return testutil.Float64s(a.logits.Value().(*tensor.Dense)), testutil.Scalar(a.loss.Value())
}

// perturb gives every trainable parameter of a random values, as training
// would, so that adapters and saved modules differ from their initial ones.
func perturb(a adaptedModel, seed int64) {
	rng := rand.New(rand.NewSource(seed))
	for _, n := range a.b.Learnables() {
		switch data := a.b.Params.Get(n.Name()).Data().(type) {
		case []float64:
			for i := range data {
				data[i] = rng.NormFloat64()
			}
		case []float32:
			for i := range data {
				data[i] = float32(rng.NormFloat64())
			}
		}
	}
}

// baseOf copies the parameters of a that do not train: the base model a
// fresh run starts from.
func baseOf(t *testing.T, a adaptedModel) *layers.Params {
	t.Helper()
	trained := map[string]bool{}
	for _, n := range a.b.Learnables() {
		trained[n.Name()] = true
	}
	base := layers.NewParams()
	for _, n := range a.b.Params.Names() {
		if !trained[n] {
			if err := base.Set(n, a.b.Params.Get(n).Clone().(*tensor.Dense)); err != nil {
				t.Fatal(err)
			}
		}
	}
	return base
}

// sameValues fails unless got and want are equal within tol.
func sameValues(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	if d := testutil.MaxAbsDiff(got, want); d > tol || d != d {
		t.Fatalf("%s differ by %g (tolerance %g)", what, d, tol)
	}
}

// roundTripCases are adapters of each kind: LoRA with VeLoRA and the
// c4 example's modules to save, QLoRA, and a ViT classifier's LoRA with its
// head.
var roundTripCases = []struct {
	name string
	cfg  Config
	arch layers.Architecture
}{
	{"llama lora+velora", Config{Method: MethodLoRA, Rank: 2, Alpha: 3, Dropout: 0.1, Targets: []string{"q", "v", "down"},
		ModulesToSave: []string{"embedding", "norm", "head"},
		VeLoRA:        &VeLoRAConfig{Layers: "vd", SubTokenSizes: map[string]int{"v": 4}, Init: "ema_0.9", Scale: 1.5, ZDtype: "bf16"}}, adapterLLaMA},
	{"llama qlora", Config{Method: MethodQLoRA, Rank: 3, Alpha: 16, Targets: []string{"k", "up"}}, adapterLLaMA},
	{"vit lora", Config{Method: MethodLoRA, Rank: 2, Targets: []string{"qkv", "proj", "fc2"},
		ModulesToSave: []string{"head", "position", "embedding"},
		VeLoRA:        &VeLoRAConfig{Layers: "qkv", NumGroups: []int{2}}}, adapterViT},
}

// TestAdapterRoundTrip saves a trained adapter and loads it into a model
// built afresh from the saved adapter_config.json on the same base: the
// configuration resolves alike, every trainable parameter is equal, and so
// are the logits and the loss, bit for bit.
func TestAdapterRoundTrip(t *testing.T) {
	for _, c := range roundTripCases {
		for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
			t.Run(c.name+" "+dt.String(), func(t *testing.T) {
				trained := buildAdapted(t, nil, c.cfg, c.arch, dt)
				perturb(trained, 7)
				logits, loss := trained.forward(t)
				dir := filepath.Join(t.TempDir(), "adapter")
				if err := SaveAdapter(dir, trained.b, c.arch, "tiny-base"); err != nil {
					t.Fatal(err)
				}

				cfg, err := LoadAdapterConfig(dir)
				if err != nil {
					t.Fatal(err)
				}
				want, err := c.cfg.resolve(c.arch)
				if err != nil {
					t.Fatal(err)
				}
				got, err := cfg.resolve(c.arch)
				if err != nil {
					t.Fatal(err)
				}
				if got.Method != want.Method || got.Rank != want.Rank || got.Alpha != want.Alpha || got.Dropout != want.Dropout ||
					!slices.Equal(got.Targets, want.Targets) || !slices.Equal(got.roles, want.roles) {
					t.Fatalf("loaded config %+v, want %+v", got, want)
				}
				if !sameVeLoRA(got.velora, want.velora) {
					t.Fatalf("loaded VeLoRA %+v, want %+v", got.velora, want.velora)
				}

				fresh := buildAdapted(t, baseOf(t, trained), cfg, c.arch, dt)
				if err := LoadAdapter(dir, fresh.b, c.arch); err != nil {
					t.Fatal(err)
				}
				for _, n := range trained.b.Learnables() {
					sameValues(t, n.Name(), testutil.Float64s(fresh.b.Params.Get(n.Name())), testutil.Float64s(trained.b.Params.Get(n.Name())), 0)
				}
				gotLogits, gotLoss := fresh.forward(t)
				sameValues(t, "logits", gotLogits, logits, 0)
				sameValues(t, "loss", []float64{gotLoss}, []float64{loss}, 0)
			})
		}
	}
}

// sameVeLoRA reports whether two resolved VeLoRA selections compress the
// same projections alike: sizes, scale and strategy ("" is
// batch_average_once).
func sameVeLoRA(a, b *layers.VeLoRA) bool {
	if a == nil || b == nil {
		return a == b
	}
	init := func(v *layers.VeLoRA) string {
		if v.Init == "" {
			return "batch_average_once"
		}
		return v.Init
	}
	if !slices.Equal(a.Projections, b.Projections) || a.GradScale() != b.GradScale() || init(a) != init(b) || a.ZFormat != b.ZFormat {
		return false
	}
	for _, p := range a.Projections {
		if a.Size(p) != b.Size(p) {
			return false
		}
	}
	return true
}

// readJSON reads a JSON file into a map.
func readJSON(t *testing.T, path string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestSaveAdapterWritesPEFTsLayout checks the files against PEFT's format
// as its documentation describes it (docs/source/developer_guides/
// checkpoint.md of huggingface/peft): keys "base_model.model." + the
// module's name + ".lora_A.weight", lora_A (r, in), lora_B (out, r), the
// saved modules under their own names, and adapter_config.json's fields.
func TestSaveAdapterWritesPEFTsLayout(t *testing.T) {
	cfg := roundTripCases[0].cfg
	a := buildAdapted(t, nil, cfg, adapterLLaMA, tensor.Float64)
	perturb(a, 3)
	dir := t.TempDir()
	if err := SaveAdapter(dir, a.b, adapterLLaMA, "tiny-base"); err != nil {
		t.Fatal(err)
	}
	file, meta, err := checkpoint.Read(filepath.Join(dir, AdapterWeightsFile))
	if err != nil {
		t.Fatal(err)
	}
	if meta["format"] != "pt" {
		t.Errorf("metadata %v, want format pt", meta)
	}
	d, f, v := adapterLLaMA.Hidden, adapterLLaMA.Intermediate, adapterLLaMA.Vocab
	want := map[string]tensor.Shape{
		"base_model.model.model.embed_tokens.weight": {v, d},
		"base_model.model.lm_head.weight":            {v, d},
		"base_model.model.model.norm.weight":         {d},
	}
	for i := range adapterLLaMA.Layers {
		p := fmt.Sprintf("base_model.model.model.layers.%d.", i)
		want[p+"self_attn.q_proj.lora_A.weight"], want[p+"self_attn.q_proj.lora_B.weight"] = tensor.Shape{2, d}, tensor.Shape{d, 2}
		want[p+"self_attn.v_proj.lora_A.weight"], want[p+"self_attn.v_proj.lora_B.weight"] = tensor.Shape{2, d}, tensor.Shape{d, 2}
		want[p+"mlp.down_proj.lora_A.weight"], want[p+"mlp.down_proj.lora_B.weight"] = tensor.Shape{2, f}, tensor.Shape{d, 2}
		want[p+"input_layernorm.weight"], want[p+"post_attention_layernorm.weight"] = tensor.Shape{d}, tensor.Shape{d}
	}
	if got := slices.Sorted(maps.Keys(file)); !slices.Equal(got, slices.Sorted(maps.Keys(want))) {
		t.Fatalf("keys %v,\nwant %v", got, slices.Sorted(maps.Keys(want)))
	}
	for k, s := range want {
		if !file[k].Shape().Eq(s) {
			t.Errorf("%s: shape %v, want %v", k, file[k].Shape(), s)
		}
	}
	// lora_A (r, in) is the transpose of Params' (in, r); lm_head likewise.
	ours := a.b.Params.Get("model.layers.1.mlp.down_proj.lora_A.weight").Data().([]float64) // (12, 2)
	if got, _ := file["base_model.model.model.layers.1.mlp.down_proj.lora_A.weight"].At(1, 7); got != ours[7*2+1] {
		t.Errorf("lora_A[1, 7] = %v, want Params' [7, 1] = %v", got, ours[7*2+1])
	}

	c := readJSON(t, filepath.Join(dir, AdapterConfigFile))
	for key, want := range map[string]any{
		"peft_type": "LORA", "r": 2.0, "lora_alpha": 3.0, "lora_dropout": 0.1, "bias": "none", "task_type": "CAUSAL_LM",
		"base_model_name_or_path": "tiny-base", "fan_in_fan_out": false, "use_rslora": false, "inference_mode": true,
		"target_modules":  []any{"q_proj", "v_proj", "down_proj"},
		"modules_to_save": []any{"embed_tokens", "input_layernorm", "post_attention_layernorm", "norm", "lm_head"},
		"velora": map[string]any{"method": "lora", "layers": []any{"v_proj", "down_proj"}, "sub_token_size": 16.0,
			"sub_token_sizes": map[string]any{"v_proj": 4.0, "down_proj": 16.0}, "init_type": "ema_0.9", "scale": 1.5, "z_dtype": "bf16"},
	} {
		if got, _ := json.Marshal(c[key]); string(got) != mustJSON(t, want) {
			t.Errorf("adapter_config.json %q = %s, want %s", key, got, mustJSON(t, want))
		}
	}
	if len(c) != 25 { // PEFT v0.12.0's 24 LoraConfig fields and "velora"
		t.Errorf("adapter_config.json has %d keys, want 25: %v", len(c), slices.Sorted(maps.Keys(c)))
	}

	plain := buildAdapted(t, nil, Config{Rank: 2}, adapterViT, tensor.Float32)
	if err := SaveAdapter(dir, plain.b, adapterViT, ""); err != nil {
		t.Fatal(err)
	}
	c = readJSON(t, filepath.Join(dir, AdapterConfigFile))
	for key, want := range map[string]any{
		"task_type": nil, "base_model_name_or_path": nil, "target_modules": []any{"qkv"}, "modules_to_save": []any{"head"},
		"auto_mapping": map[string]any{"base_model_class": "VisionTransformer", "parent_library": "timm.models.vision_transformer"},
	} {
		if got, _ := json.Marshal(c[key]); string(got) != mustJSON(t, want) {
			t.Errorf("ViT adapter_config.json %q = %s, want %s", key, got, mustJSON(t, want))
		}
	}
	if _, ok := c["velora"]; ok {
		t.Error(`plain LoRA wrote the "velora" key; its file should be PEFT's own`)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// peftDir copies the hand-written adapter_config.json in testdata, in the
// form PEFT v0.12.0's save_pretrained writes (every LoraConfig field, keys
// sorted), into a new directory with weights for adapterLLaMA written here
// in PEFT's layout: lora_A (r, in) and lora_B (out, r) for q_proj and v_proj
// of both layers, r = 2. It returns the directory and the weights.
func peftDir(t *testing.T) (string, map[string]*tensor.Dense) {
	t.Helper()
	dir := t.TempDir()
	data, err := os.ReadFile(filepath.Join("testdata", "peft_lora_llama", AdapterConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, AdapterConfigFile), data, 0o644); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewSource(11))
	file := map[string]*tensor.Dense{}
	d := adapterLLaMA.Hidden
	for _, layer := range []string{"0", "1"} {
		for _, m := range []string{"q_proj", "v_proj"} {
			key := "base_model.model.model.layers." + layer + ".self_attn." + m
			file[key+".lora_A.weight"] = randomTensor(rng, 2, d)
			file[key+".lora_B.weight"] = randomTensor(rng, d, 2)
		}
	}
	if err := checkpoint.Write(filepath.Join(dir, AdapterWeightsFile), file, map[string]string{"format": "pt"}); err != nil {
		t.Fatal(err)
	}
	return dir, file
}

func randomTensor(rng *rand.Rand, shape ...int) *tensor.Dense {
	data := make([]float32, tensor.Shape(shape).TotalSize())
	for i := range data {
		data[i] = float32(rng.NormFloat64())
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(data))
}

func TestLoadAdapterInPEFTsPublishedForm(t *testing.T) {
	dir, file := peftDir(t)
	cfg, err := LoadAdapterConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Method: MethodLoRA, Rank: 2, Alpha: 16, Dropout: 0.05, Targets: []string{"v", "q"}, ModulesToSave: []string{}}
	if got, _ := json.Marshal(cfg); string(got) != mustJSON(t, want) {
		t.Fatalf("config %s, want %s", got, mustJSON(t, want))
	}
	a := buildAdapted(t, nil, cfg, adapterLLaMA, tensor.Float32)
	if err := LoadAdapter(dir, a.b, adapterLLaMA); err != nil {
		t.Fatal(err)
	}
	if n := len(a.b.Learnables()); n != 8 {
		t.Fatalf("%d trainable parameters, want A and B of q and v in 2 layers", n)
	}
	// PEFT's lora_A (r, in) is the transpose of Params' (in, r).
	peftA := file["base_model.model.model.layers.1.self_attn.v_proj.lora_A.weight"].Data().([]float32) // (2, 8)
	ours := a.b.Params.Get("model.layers.1.self_attn.v_proj.lora_A.weight")
	for k := range 2 {
		for i := range adapterLLaMA.Hidden {
			if got, _ := ours.At(i, k); got != peftA[k*adapterLLaMA.Hidden+i] {
				t.Fatalf("A[%d, %d] = %v, want PEFT's lora_A[%d, %d] = %v", i, k, got, k, i, peftA[k*adapterLLaMA.Hidden+i])
			}
		}
	}
	if l := a.b.Adapter.(*layers.LoRA); l.Scaling() != 8 {
		t.Fatalf("scaling %v, want lora_alpha/r = 16/2", l.Scaling())
	}
}

// TestMergedModelComputesTheAdaptedModel checks MergeAndUnload and
// SaveMerged: the plain model on the merged weights, and on the weights
// read back from model.safetensors, gives the adapted model's logits
// (float64; the graphs sum in different orders), and each merged weight in
// the file is PEFT's W + (lora_alpha/r)·B·A, computed here from the saved
// adapter and the base in PyTorch's layout.
func TestMergedModelComputesTheAdaptedModel(t *testing.T) {
	for _, cfg := range []Config{
		{Method: MethodLoRA, Rank: 2, Alpha: 5, Targets: []string{"q", "v", "down"}, ModulesToSave: []string{"head"}},
		{Method: MethodQLoRA, Rank: 3, Alpha: 4, Targets: []string{"k", "gate"}},
	} {
		t.Run(cfg.Method, func(t *testing.T) {
			a := buildAdapted(t, nil, cfg, adapterLLaMA, tensor.Float64)
			perturb(a, 5)
			logits, _ := a.forward(t)
			merged, err := MergeAndUnload(a.b)
			if err != nil {
				t.Fatal(err)
			}
			plain, _ := buildWith(t, merged, layers.Full{}, adapterLLaMA, tensor.Float64).forward(t)
			sameValues(t, "merged logits", plain, logits, 1e-12)

			dir := t.TempDir()
			if err := SaveMerged(dir, merged, adapterLLaMA); err != nil {
				t.Fatal(err)
			}
			config, err := layers.LoadLLaMAConfig(filepath.Join(dir, mergedConfigFile))
			if err != nil || config != adapterLLaMA {
				t.Fatalf("config.json reads %+v, %v; want %+v", config, err, adapterLLaMA)
			}
			file, _, err := checkpoint.Read(filepath.Join(dir, mergedWeightsFile))
			if err != nil {
				t.Fatal(err)
			}
			if got, want := slices.Sorted(maps.Keys(file)), merged.SortedNames(); !slices.Equal(got, want) {
				t.Fatalf("keys %v, want %v", got, want)
			}
			reread := layers.NewParams()
			for k, v := range file {
				w, err := layers.FromPyTorch(adapterLLaMA, k, v, merged.Get(k).Shape(), tensor.Float64)
				if err != nil {
					t.Fatal(err)
				}
				if err := reread.Set(k, w); err != nil {
					t.Fatal(err)
				}
			}
			fromFile, _ := buildWith(t, reread, layers.Full{}, adapterLLaMA, tensor.Float64).forward(t)
			sameValues(t, "logits of the saved merged model", fromFile, logits, 1e-12)

			adapterDir := t.TempDir()
			if err := SaveAdapter(adapterDir, a.b, adapterLLaMA, ""); err != nil {
				t.Fatal(err)
			}
			adapter, _, err := checkpoint.Read(filepath.Join(adapterDir, AdapterWeightsFile))
			if err != nil {
				t.Fatal(err)
			}
			l := a.b.Adapter.(*layers.LoRA)
			module := "model.layers.1.self_attn." + map[string]string{MethodLoRA: "q_proj", MethodQLoRA: "k_proj"}[cfg.Method]
			base := a.b.Params.Get(module + ".weight")
			if l.NF4 { // QLoRA's merged base is the NF4 weight dequantised
				q, err := nf4.Quantize(base)
				if err != nil {
					t.Fatal(err)
				}
				base = q.Dequantize()
			}
			baseT, err := layers.ToPyTorch(adapterLLaMA, module+".weight", base)
			if err != nil {
				t.Fatal(err)
			}
			W := testutil.Float64s(baseT)
			A := testutil.Float64s(adapter[layers.PEFTPrefix+module+".lora_A.weight"]) // (r, in)
			B := testutil.Float64s(adapter[layers.PEFTPrefix+module+".lora_B.weight"]) // (out, r)
			got := testutil.Float64s(file[module+".weight"])                           // (out, in)
			d, r, scaling := adapterLLaMA.Hidden, cfg.Rank, cfg.Alpha/float64(cfg.Rank)
			const tol = 1e-12 // float64 sums of r products
			for o := range d {
				for i := range d {
					want := W[o*d+i]
					for k := range r {
						want += scaling * B[o*r+k] * A[k*d+i]
					}
					if diff := got[o*d+i] - want; diff > tol || diff < -tol {
						t.Fatalf("%s[%d, %d] = %v, want W + (alpha/r)·B·A = %v", module, o, i, got[o*d+i], want)
					}
				}
			}
		})
	}
}

// TestMergedViT merges a ViT's LoRA (with its head trained) and saves it:
// the plain model computes the adapted one, and model.safetensors holds
// timm's names and layouts and no config.json.
func TestMergedViT(t *testing.T) {
	cfg := Config{Method: MethodLoRA, Rank: 2, Alpha: 3, Targets: []string{"qkv", "fc2"}}
	a := buildAdapted(t, nil, cfg, adapterViT, tensor.Float64)
	perturb(a, 9)
	logits, _ := a.forward(t)
	merged, err := MergeAndUnload(a.b)
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := buildWith(t, merged, layers.Full{}, adapterViT, tensor.Float64).forward(t)
	sameValues(t, "merged logits", plain, logits, 1e-12)
	dir := t.TempDir()
	if err := SaveMerged(dir, merged, adapterViT); err != nil {
		t.Fatal(err)
	}
	file, _, err := checkpoint.Read(filepath.Join(dir, mergedWeightsFile))
	if err != nil {
		t.Fatal(err)
	}
	c := adapterViT
	for k, want := range map[string]tensor.Shape{
		"patch_embed.proj.weight":  {c.Hidden, c.Channels, c.PatchSize, c.PatchSize},
		"cls_token":                {1, 1, c.Hidden},
		"pos_embed":                {1, c.Patches() + 1, c.Hidden},
		"blocks.1.attn.qkv.weight": {3 * c.Hidden, c.Hidden},
		"blocks.1.mlp.fc2.weight":  {c.Hidden, c.MLP},
		"head.weight":              {c.Classes, c.Hidden},
	} {
		if v, ok := file[k]; !ok {
			t.Errorf("no key %s", k)
		} else if !v.Shape().Eq(want) {
			t.Errorf("%s: shape %v, want %v", k, v.Shape(), want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, mergedConfigFile)); !os.IsNotExist(err) {
		t.Errorf("a ViT got a config.json: %v", err)
	}
}
