package layers

import (
	"math/rand"
	"strings"
	"testing"

	"gorgonia.org/tensor"
)

// randomDense is a float64 tensor of shape with N(0, 1) values.
func randomDense(rng *rand.Rand, shape ...int) *tensor.Dense {
	data := make([]float64, tensor.Shape(shape).TotalSize())
	for i := range data {
		data[i] = rng.NormFloat64()
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(data))
}

func TestPyTorchShapes(t *testing.T) {
	vit := ViTConfig{ImageSize: 6, PatchSize: 3, Channels: 2, Hidden: 5, Layers: 1, Heads: 1, MLP: 7, Classes: 3}
	for _, c := range []struct {
		arch  Architecture
		name  string
		shape tensor.Shape
		want  tensor.Shape
	}{
		{tinyLLaMA, "model.layers.0.self_attn.q_proj.weight", tensor.Shape{8, 8}, tensor.Shape{8, 8}},
		{tinyLLaMA, "model.layers.0.mlp.down_proj.weight", tensor.Shape{12, 8}, tensor.Shape{8, 12}},
		{tinyLLaMA, "model.layers.0.mlp.down_proj.lora_A.weight", tensor.Shape{12, 2}, tensor.Shape{2, 12}}, // (r, in)
		{tinyLLaMA, "model.layers.0.mlp.down_proj.lora_B.weight", tensor.Shape{2, 8}, tensor.Shape{8, 2}},   // (out, r)
		{tinyLLaMA, "model.embed_tokens.weight", tensor.Shape{11, 8}, tensor.Shape{11, 8}},
		{tinyLLaMA, "lm_head.weight", tensor.Shape{8, 11}, tensor.Shape{11, 8}},
		{tinyLLaMA, "model.norm.weight", tensor.Shape{8}, tensor.Shape{8}},
		{vit, "patch_embed.proj.weight", tensor.Shape{18, 5}, tensor.Shape{5, 2, 3, 3}},
		{vit, "patch_embed.proj.bias", tensor.Shape{5}, tensor.Shape{5}},
		{vit, "cls_token", tensor.Shape{5}, tensor.Shape{1, 1, 5}},
		{vit, "pos_embed", tensor.Shape{5, 5}, tensor.Shape{1, 5, 5}},
		{vit, "blocks.0.attn.qkv.weight", tensor.Shape{5, 15}, tensor.Shape{15, 5}},
		{vit, "head.weight", tensor.Shape{5, 3}, tensor.Shape{3, 5}},
	} {
		if got := PyTorchShape(c.arch, c.name, c.shape); !got.Eq(c.want) {
			t.Errorf("%s %v: PyTorch shape %v, want %v", c.name, c.shape, got, c.want)
		}
	}
}

// TestPyTorchPatchKernelIsTheConvolution checks the ViT patch embedding's
// layout against its meaning: nn.Conv2d with kernel = stride = p, weight
// (D, C, p, p), applied to an image (C, H, W) gives at patch (py, px) what
// our weight (p·p·C, D) gives on Patchify's row of that patch. The
// convolution is written out here from PyTorch's definition.
func TestPyTorchPatchKernelIsTheConvolution(t *testing.T) {
	c := ViTConfig{ImageSize: 6, PatchSize: 3, Channels: 2, Hidden: 5, Layers: 1, Heads: 1, MLP: 7, Classes: 3}
	rng := rand.New(rand.NewSource(1))
	w := randomDense(rng, c.PatchDim(), c.Hidden)
	image := randomDense(rng, c.ImageSize, c.ImageSize, c.Channels).Data().([]float64) // (H, W, C)
	conv, err := ToPyTorch(c, "patch_embed.proj.weight", w)
	if err != nil {
		t.Fatal(err)
	}
	k := conv.Data().([]float64) // (D, C, p, p)
	patches := Patchify(image, 1, c.ImageSize, c.Channels, c.PatchSize)
	p, grid, wd := c.PatchSize, c.ImageSize/c.PatchSize, w.Data().([]float64)
	for py := range grid {
		for px := range grid {
			row := patches[(py*grid+px)*c.PatchDim():][:c.PatchDim()]
			for d := range c.Hidden {
				var want, got float64
				for ch := range c.Channels {
					for i := range p {
						for j := range p {
							want += k[((d*c.Channels+ch)*p+i)*p+j] * image[((py*p+i)*c.ImageSize+px*p+j)*c.Channels+ch]
						}
					}
				}
				for r, x := range row {
					got += x * wd[r*c.Hidden+d]
				}
				if diff := got - want; diff > 1e-12 || diff < -1e-12 {
					t.Fatalf("patch (%d, %d) feature %d: ours %v, convolution %v", py, px, d, got, want)
				}
			}
		}
	}
}

func TestFromPyTorchInvertsToPyTorch(t *testing.T) {
	vit := ViTConfig{ImageSize: 6, PatchSize: 3, Channels: 2, Hidden: 5, Layers: 1, Heads: 1, MLP: 7, Classes: 3}
	rng := rand.New(rand.NewSource(2))
	for _, c := range []struct {
		arch  Architecture
		name  string
		shape []int
	}{
		{tinyLLaMA, "model.layers.1.mlp.up_proj.weight", []int{8, 12}},
		{tinyLLaMA, "model.layers.1.mlp.up_proj.lora_B.weight", []int{3, 12}},
		{tinyLLaMA, "model.embed_tokens.weight", []int{11, 8}},
		{vit, "patch_embed.proj.weight", []int{18, 5}},
		{vit, "cls_token", []int{5}},
		{vit, "pos_embed", []int{5, 5}},
		{vit, "blocks.0.norm1.bias", []int{5}},
	} {
		v := randomDense(rng, c.shape...)
		before := append([]float64(nil), v.Data().([]float64)...)
		torch, err := ToPyTorch(c.arch, c.name, v)
		if err != nil {
			t.Fatal(err)
		}
		same(t, c.name+" (input unchanged)", v.Data().([]float64), before, 0)
		back, err := FromPyTorch(c.arch, c.name, torch, v.Shape(), tensor.Float64)
		if err != nil {
			t.Fatal(err)
		}
		if !back.Shape().Eq(v.Shape()) {
			t.Fatalf("%s: shape %v back, want %v", c.name, back.Shape(), v.Shape())
		}
		same(t, c.name, back.Data().([]float64), before, 0)
		narrow, err := FromPyTorch(c.arch, c.name, torch, v.Shape(), tensor.Float32)
		if err != nil {
			t.Fatal(err)
		}
		for i, x := range narrow.Data().([]float32) {
			if x != float32(before[i]) {
				t.Fatalf("%s as float32: [%d] = %v, want %v", c.name, i, x, float32(before[i]))
			}
		}
	}
	wrong := randomDense(rng, 12, 3) // lora_A (r, in) given as (in, r)
	_, err := FromPyTorch(tinyLLaMA, "model.layers.0.mlp.down_proj.lora_A.weight", wrong, tensor.Shape{12, 2}, tensor.Float64)
	if err == nil || !strings.Contains(err.Error(), "has shape (12, 3), expected (2, 12)") {
		t.Errorf("wrong shape: error %v", err)
	}
}
