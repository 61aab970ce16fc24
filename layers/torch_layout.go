package layers

import (
	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/internal/check"
)

// torchLayout says how PyTorch stores a parameter that Params holds.
type torchLayout int

const (
	sameLayout  torchLayout = iota // norms, biases, embedding tables
	transposed                     // a linear weight: (in, out) here, (out, in) in nn.Linear
	patchKernel                    // ViT's patch embedding: (p·p·C, D) here, (D, C, p, p) in nn.Conv2d
	batchAxes                      // ViT's cls_token (D) and pos_embed (N, D): (1, 1, D) and (1, N, D) in timm
)

// layoutOf is the layout of parameter name, of shape shape here, in the
// PyTorch module of architecture arch.
func layoutOf(arch Architecture, name string, shape tensor.Shape) torchLayout {
	if c, ok := arch.(ViTConfig); ok {
		switch {
		case name == "patch_embed.proj.weight" && shape.Eq(tensor.Shape{c.PatchDim(), c.Hidden}):
			return patchKernel
		case name == "cls_token" && len(shape) == 1, name == "pos_embed" && len(shape) == 2:
			return batchAxes
		}
	}
	if hfLayout(name, shape) {
		return transposed
	}
	return sameLayout
}

// PyTorchShape returns the shape PyTorch gives parameter name of a model of
// architecture arch (HuggingFace's LlamaForCausalLM for a LLaMAConfig,
// timm's VisionTransformer for a ViTConfig) when Params holds it with shape
// shape: a linear weight, LoRA's A and B included, (in, out) → (out, in);
// a ViT's patch embedding (p·p·C, D) → (D, C, p, p), its cls_token (D) →
// (1, 1, D) and pos_embed (N, D) → (1, N, D); any other parameter keeps
// its shape.
func PyTorchShape(arch Architecture, name string, shape tensor.Shape) tensor.Shape {
	switch layoutOf(arch, name, shape) {
	case transposed:
		return tensor.Shape{shape[1], shape[0]}
	case patchKernel:
		c := arch.(ViTConfig)
		return tensor.Shape{c.Hidden, c.Channels, c.PatchSize, c.PatchSize}
	case batchAxes:
		if len(shape) == 1 {
			return tensor.Shape{1, 1, shape[0]}
		}
		return tensor.Shape{1, shape[0], shape[1]}
	}
	return shape.Clone()
}

// ToPyTorch returns parameter name of a model of architecture arch, value
// as Params holds it, as a new contiguous tensor of the same dtype in
// PyTorch's layout (see PyTorchShape): what a HuggingFace or timm
// checkpoint holds under that name.
func ToPyTorch(arch Architecture, name string, value *tensor.Dense) (*tensor.Dense, error) {
	v, err := convert(value, value.Dtype())
	if err != nil {
		return nil, check.Wrapf(err, "layers: %q", name)
	}
	return relayout(arch, name, v, value.Shape(), false)
}

// FromPyTorch is ToPyTorch's inverse: value is parameter name in PyTorch's
// layout, shape the shape Params holds it in. It returns a new contiguous
// tensor of that shape in dtype dt (float32 or float64). A value whose shape
// is not PyTorchShape(arch, name, shape) is an error naming both.
func FromPyTorch(arch Architecture, name string, value *tensor.Dense, shape tensor.Shape, dt tensor.Dtype) (*tensor.Dense, error) {
	if want := PyTorchShape(arch, name, shape); !value.Shape().Eq(want) {
		return nil, errors.Errorf("layers: %q has shape %v, expected %v (PyTorch's layout of %v)", name, value.Shape(), want, shape)
	}
	v, err := convert(value, dt)
	if err != nil {
		return nil, check.Wrapf(err, "layers: %q", name)
	}
	return relayout(arch, name, v, shape, true)
}

// relayout moves contiguous v between this project's layout of a
// parameter of shape ours and PyTorch's: to PyTorch's, or back with back
// set. v is reused when only its shape changes.
func relayout(arch Architecture, name string, v *tensor.Dense, ours tensor.Shape, back bool) (*tensor.Dense, error) {
	layout := layoutOf(arch, name, ours)
	torch := PyTorchShape(arch, name, ours)
	to := torch
	if back {
		to = ours
	}
	switch layout {
	case transposed:
		rows, cols := v.Shape()[0], v.Shape()[1]
		return permuted(v, to, func(k int) int { return (k%rows)*cols + k/rows }), nil
	case patchKernel:
		c := arch.(ViTConfig)
		d, ch, p := c.Hidden, c.Channels, c.PatchSize
		// ours[((i·p + j)·C + ch)·D + o] is torch[((o·C + ch)·p + i)·p + j].
		oursIndex := func(o, k, i, j int) int { return ((i*p+j)*ch+k)*d + o }
		torchIndex := func(o, k, i, j int) int { return ((o*ch+k)*p+i)*p + j }
		from := make([]int, d*ch*p*p) // from[dst] is the src index
		for o := range d {
			for k := range ch {
				for i := range p {
					for j := range p {
						if back {
							from[oursIndex(o, k, i, j)] = torchIndex(o, k, i, j)
						} else {
							from[torchIndex(o, k, i, j)] = oursIndex(o, k, i, j)
						}
					}
				}
			}
		}
		return permuted(v, to, func(k int) int { return from[k] }), nil
	}
	return v, check.Wrapf(v.Reshape(to...), "layers: %q", name)
}

// permuted returns a new tensor of v's dtype and shape shape whose element
// k is element from(k) of contiguous v.
func permuted(v *tensor.Dense, shape tensor.Shape, from func(k int) int) *tensor.Dense {
	out := tensor.New(tensor.Of(v.Dtype()), tensor.WithShape(shape.Clone()...))
	switch dst := out.Data().(type) {
	case []float64:
		src := v.Data().([]float64)
		for k := range dst {
			dst[k] = src[from(k)]
		}
	case []float32:
		src := v.Data().([]float32)
		for k := range dst {
			dst[k] = src[from(k)]
		}
	}
	return out
}
