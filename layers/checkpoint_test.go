package layers

import (
	"fmt"
	"maps"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/velora-go/velora/checkpoint"
)

func TestAdapterSavesWithPEFTKeysAndLoadsBack(t *testing.T) {
	params := NewParams()
	lora := &LoRA{Rank: 2, Alpha: 2, Targets: []string{"v"}}
	_, b := llamaLogits(t, params, lora)
	var names []string
	for _, n := range b.Learnables() {
		names = append(names, n.Name())
	}
	path := filepath.Join(t.TempDir(), "adapter_model.safetensors")
	if err := SaveSafetensors(path, params, names, PEFTPrefix, map[string]string{"format": "pt"}); err != nil {
		t.Fatal(err)
	}
	raw, _, err := checkpoint.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	a := raw["base_model.model.model.layers.0.self_attn.v_proj.lora_A.weight"]
	bw := raw["base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight"]
	// PEFT's shapes: lora_A (r, in), lora_B (out, r).
	if a == nil || bw == nil || !a.Shape().Eq(tensor.Shape{2, 8}) || !bw.Shape().Eq(tensor.Shape{8, 2}) {
		t.Fatalf("keys %v", slices.Sorted(maps.Keys(raw)))
	}
	ours := params.Get("model.layers.0.self_attn.v_proj.lora_A.weight").Data().([]float64)
	if got, _ := a.At(1, 3); got != ours[3*2+1] {
		t.Fatalf("lora_A[1, 3] = %v, want the transpose of ours %v", got, ours[3*2+1])
	}

	loaded := NewParams()
	if err := LoadSafetensors(path, loaded, PEFTPrefix, tensor.Float64, names); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		same(t, n, loaded.Get(n).Data().([]float64), params.Get(n).Data().([]float64), 0)
		if !loaded.Get(n).Shape().Eq(params.Get(n).Shape()) {
			t.Fatalf("%s: shape %v, want %v", n, loaded.Get(n).Shape(), params.Get(n).Shape())
		}
	}
}

func TestLoadSafetensorsErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "w.safetensors")
	params := NewParams()
	params.Set("a.weight", tensor.New(tensor.WithShape(2, 3), tensor.WithBacking(make([]float64, 6))))
	if err := SaveSafetensors(path, params, nil, "", nil); err != nil {
		t.Fatal(err)
	}
	if err := LoadSafetensors(path, NewParams(), "", tensor.Float64, []string{"a.weight", "b.weight"}); err == nil || !strings.Contains(err.Error(), `missing key "b.weight"`) {
		t.Errorf("missing key: %v", err)
	}
	other := NewParams()
	other.Set("a.weight", tensor.New(tensor.WithShape(3, 3), tensor.WithBacking(make([]float64, 9))))
	if err := LoadSafetensors(path, other, "", tensor.Float64, nil); err == nil || !strings.Contains(err.Error(), `"a.weight" has shape (2, 3) in the file, the model expects (3, 3)`) {
		t.Errorf("wrong shape: %v", err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(dir, "truncated.safetensors")
	if err := os.WriteFile(truncated, data[:len(data)-5], 0o644); err != nil {
		t.Fatal(err)
	}
	if err := LoadSafetensors(truncated, NewParams(), "", tensor.Float64, nil); err == nil || !strings.Contains(err.Error(), "truncated.safetensors") {
		t.Errorf("truncated file: %v", err)
	}
	// A NaN weight is refused when loaded: a resumed run reported it as divergence.
	nan := NewParams()
	nan.Set("a.weight", tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float64{0, 1, 2, math.NaN(), 4, 5})))
	nanPath := filepath.Join(dir, "nan.safetensors")
	if err := SaveSafetensors(nanPath, nan, nil, "", nil); err != nil {
		t.Fatal(err)
	}
	for _, load := range []func() error{
		func() error { return LoadSafetensors(nanPath, NewParams(), "", tensor.Float32, nil) },
		func() error { return LoadSafetensorsExact(nanPath, nan, "", tensor.Float64) },
	} {
		if err := load(); err == nil || !strings.Contains(err.Error(), `"a.weight" holds NaN at index 3, expected finite weights`) {
			t.Errorf("NaN weight: %v", err)
		}
	}
}

// TestLoadSafetensorsExact checks that a reload needs every parameter the
// model has, in the file, and no other key: LoadSafetensors adds what it
// finds and leaves the rest, which let a resumed run keep a random weight.
func TestLoadSafetensorsExact(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.safetensors")
	value := func(shape ...int) *tensor.Dense {
		data := make([]float64, tensor.Shape(shape).TotalSize())
		for i := range data {
			data[i] = float64(i + 1)
		}
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(data))
	}
	model := func(names ...string) *Params {
		p := NewParams()
		for _, n := range names {
			p.Set(n, tensor.New(tensor.WithShape(2, 3), tensor.WithBacking(make([]float64, 6))))
		}
		return p
	}
	saved := NewParams()
	saved.Set("a.weight", value(2, 3))
	saved.Set("b.weight", value(2, 3))
	if err := SaveSafetensors(path, saved, nil, PEFTPrefix, nil); err != nil {
		t.Fatal(err)
	}
	for _, test := range []struct {
		names []string
		want  string
	}{
		{[]string{"a.weight", "b.weight", "c.weight"}, `lacks 1 of the model's 3 parameters: "base_model.model.c.weight"`},
		{[]string{"a.weight"}, `1 key(s) the model has no parameter for: "base_model.model.b.weight"`},
	} {
		err := LoadSafetensorsExact(path, model(test.names...), PEFTPrefix, tensor.Float64)
		if err == nil || !strings.Contains(err.Error(), test.want) || !strings.Contains(err.Error(), path) {
			t.Errorf("model %v: %v, want an error naming %s and containing %q", test.names, err, path, test.want)
		}
	}
	p := model("a.weight", "b.weight")
	if err := LoadSafetensorsExact(path, p, PEFTPrefix, tensor.Float64); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"a.weight", "b.weight"} {
		same(t, n, p.Get(n).Data().([]float64), saved.Get(n).Data().([]float64), 0)
	}
}

// writeTinyViTNPZ writes random weights for tinyViT in ViT-B_16.npz's key
// layout and returns them.
func writeTinyViTNPZ(t *testing.T, path string, drop string) map[string]*tensor.Dense {
	c := tinyViT
	d, dh, p := c.Hidden, c.Hidden/c.Heads, c.Patches()+1
	shapes := map[string]tensor.Shape{
		"embedding/kernel": {c.PatchSize, c.PatchSize, c.Channels, d}, "embedding/bias": {d}, "cls": {1, 1, d},
		"Transformer/posembed_input/pos_embedding": {1, p, d},
		"Transformer/encoder_norm/scale":           {d}, "Transformer/encoder_norm/bias": {d},
		"pre_logits/kernel": {d, d}, "head/kernel": {d, 5}, "head/bias": {5}, // 5 classes, not the model's 3
	}
	for i := 0; i < c.Layers; i++ {
		b := fmt.Sprintf("Transformer/encoderblock_%d/", i)
		a := b + "MultiHeadDotProductAttention_1/"
		for _, part := range []string{"query", "key", "value"} {
			shapes[a+part+"/kernel"] = tensor.Shape{d, c.Heads, dh}
			shapes[a+part+"/bias"] = tensor.Shape{c.Heads, dh}
		}
		shapes[a+"out/kernel"], shapes[a+"out/bias"] = tensor.Shape{c.Heads, dh, d}, tensor.Shape{d}
		for _, ln := range []string{"LayerNorm_0", "LayerNorm_2"} {
			shapes[b+ln+"/scale"], shapes[b+ln+"/bias"] = tensor.Shape{d}, tensor.Shape{d}
		}
		shapes[b+"MlpBlock_3/Dense_0/kernel"], shapes[b+"MlpBlock_3/Dense_0/bias"] = tensor.Shape{d, c.MLP}, tensor.Shape{c.MLP}
		shapes[b+"MlpBlock_3/Dense_1/kernel"], shapes[b+"MlpBlock_3/Dense_1/bias"] = tensor.Shape{c.MLP, d}, tensor.Shape{d}
	}
	rng := rand.New(rand.NewSource(4))
	file := map[string]*tensor.Dense{}
	for _, k := range slices.Sorted(maps.Keys(shapes)) {
		if k == drop {
			continue
		}
		data := make([]float32, shapes[k].TotalSize())
		for i := range data {
			data[i] = float32(rng.NormFloat64())
		}
		file[k] = tensor.New(tensor.WithShape(shapes[k]...), tensor.WithBacking(data))
	}
	if err := checkpoint.WriteNPZ(path, file); err != nil {
		t.Fatal(err)
	}
	return file
}

func TestLoadViTNPZMapsTheFlaxLayout(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ViT-B_16.npz")
	file := writeTinyViTNPZ(t, path, "")
	params := NewParams()
	if err := LoadViTNPZ(path, params, tinyViT, tensor.Float32); err != nil {
		t.Fatal(err)
	}
	d := tinyViT.Hidden
	qkv := params.Get("blocks.0.attn.qkv.weight")
	key := file["Transformer/encoderblock_0/MultiHeadDotProductAttention_1/key/kernel"].Data().([]float32)
	// key kernel (D, heads, dh) flattened is (D, D); it fills columns D..2D of qkv.
	for i := 0; i < d; i++ {
		for j := 0; j < d; j++ {
			if got, _ := qkv.At(i, d+j); got != key[i*d+j] {
				t.Fatalf("qkv[%d, %d] = %v, want key kernel %v", i, d+j, got, key[i*d+j])
			}
		}
	}
	out := file["Transformer/encoderblock_0/MultiHeadDotProductAttention_1/out/kernel"].Data().([]float32)
	if got, _ := params.Get("blocks.0.attn.proj.weight").At(d-1, 2); got != out[(d-1)*d+2] {
		t.Fatalf("proj[%d, 2] = %v, want %v", d-1, got, out[(d-1)*d+2])
	}
	if params.Get("head.weight") != nil {
		t.Fatal("a head of another class count was loaded")
	}
	// The loaded weights build and run.
	b, err := NewBuilder(params, tensor.Float32, Full{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewViT(b, tinyViT, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.SetBatch(imageBatch(tinyViT, 2)); err != nil {
		t.Fatal(err)
	}
	tr := newTrainer(t, b, m.Loss)
	if loss := tr.run(t); loss != loss || loss <= 0 {
		t.Fatalf("loss %v", loss)
	}
}

func TestLoadViTNPZErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.npz")
	writeTinyViTNPZ(t, missing, "Transformer/encoderblock_1/MlpBlock_3/Dense_1/bias")
	if err := LoadViTNPZ(missing, NewParams(), tinyViT, tensor.Float32); err == nil || !strings.Contains(err.Error(), `missing key "Transformer/encoderblock_1/MlpBlock_3/Dense_1/bias"`) {
		t.Errorf("missing key: %v", err)
	}
	wide := tinyViT
	wide.MLP = 16
	path := filepath.Join(dir, "vit.npz")
	writeTinyViTNPZ(t, path, "")
	if err := LoadViTNPZ(path, NewParams(), wide, tensor.Float32); err == nil || !strings.Contains(err.Error(), `has shape (8, 12), expected (8, 16)`) {
		t.Errorf("wrong shape: %v", err)
	}
}
