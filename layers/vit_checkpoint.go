package layers

import (
	"fmt"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/checkpoint"
	"github.com/velora-go/velora/internal/check"
)

// LoadViTNPZ reads the original ViT weights (the ImageNet-21k
// ViT-B_16.npz of Dosovitskiy et al., Flax key layout) into params in dtype
// dt for a model of config c. The head is loaded only when its class count
// matches c; pre_logits is ignored, as timm does. Flax kernels are already
// (in, out): q, k and v kernels (D, heads, dh) are reshaped to (D, D) and
// joined into qkv; the output kernel (heads, dh, D) becomes proj (D, D);
// the patch kernel (p, p, C, D) becomes a (p·p·C, D) matrix over patches
// flattened as Patchify does. A missing key or a wrong shape is an error
// naming the file, the key, and the expected and found shapes.
func LoadViTNPZ(path string, params *Params, c ViTConfig, dt tensor.Dtype) error {
	if err := c.Validate(); err != nil {
		return err
	}
	file, err := checkpoint.ReadNPZ(path)
	if err != nil {
		return check.Wrap(err, "layers")
	}
	r := npzReader{path: path, file: file}
	d, p := c.Hidden, c.Patches()+1
	vals := map[string]*tensor.Dense{
		"patch_embed.proj.weight": r.get("embedding/kernel", tensor.Shape{c.PatchSize, c.PatchSize, c.Channels, d}, c.PatchDim(), d),
		"patch_embed.proj.bias":   r.get("embedding/bias", tensor.Shape{d}, d),
		"cls_token":               r.get("cls", tensor.Shape{1, 1, d}, d),
		"pos_embed":               r.get("Transformer/posembed_input/pos_embedding", tensor.Shape{1, p, d}, p, d),
		"norm.weight":             r.get("Transformer/encoder_norm/scale", tensor.Shape{d}, d),
		"norm.bias":               r.get("Transformer/encoder_norm/bias", tensor.Shape{d}, d),
	}
	dh := d / c.Heads
	for i := 0; i < c.Layers; i++ {
		src, dst := fmt.Sprintf("Transformer/encoderblock_%d/", i), fmt.Sprintf("blocks.%d.", i)
		att := src + "MultiHeadDotProductAttention_1/"
		var qkvW, qkvB []*tensor.Dense
		for _, part := range []string{"query", "key", "value"} {
			qkvW = append(qkvW, r.get(att+part+"/kernel", tensor.Shape{d, c.Heads, dh}, d, d))
			qkvB = append(qkvB, r.get(att+part+"/bias", tensor.Shape{c.Heads, dh}, d))
		}
		vals[dst+"attn.qkv.weight"] = r.join(1, qkvW...)
		vals[dst+"attn.qkv.bias"] = r.join(0, qkvB...)
		vals[dst+"attn.proj.weight"] = r.get(att+"out/kernel", tensor.Shape{c.Heads, dh, d}, d, d)
		vals[dst+"attn.proj.bias"] = r.get(att+"out/bias", tensor.Shape{d}, d)
		for _, n := range [][2]string{{"LayerNorm_0", "norm1"}, {"LayerNorm_2", "norm2"}} {
			vals[dst+n[1]+".weight"] = r.get(src+n[0]+"/scale", tensor.Shape{d}, d)
			vals[dst+n[1]+".bias"] = r.get(src+n[0]+"/bias", tensor.Shape{d}, d)
		}
		vals[dst+"mlp.fc1.weight"] = r.get(src+"MlpBlock_3/Dense_0/kernel", tensor.Shape{d, c.MLP}, d, c.MLP)
		vals[dst+"mlp.fc1.bias"] = r.get(src+"MlpBlock_3/Dense_0/bias", tensor.Shape{c.MLP}, c.MLP)
		vals[dst+"mlp.fc2.weight"] = r.get(src+"MlpBlock_3/Dense_1/kernel", tensor.Shape{c.MLP, d}, c.MLP, d)
		vals[dst+"mlp.fc2.bias"] = r.get(src+"MlpBlock_3/Dense_1/bias", tensor.Shape{d}, d)
	}
	if head, ok := file["head/kernel"]; ok && head.Shape().Eq(tensor.Shape{d, c.Classes}) {
		vals["head.weight"] = r.get("head/kernel", tensor.Shape{d, c.Classes}, d, c.Classes)
		vals["head.bias"] = r.get("head/bias", tensor.Shape{c.Classes}, c.Classes)
	}
	if r.err != nil {
		return r.err
	}
	return setAll(params, vals, dt, path)
}

// npzReader fetches keys of one file, keeping the first error.
type npzReader struct {
	path string
	file map[string]*tensor.Dense
	err  error
}

// get returns key, checked against its Flax shape and reshaped to shape.
func (r *npzReader) get(key string, flax tensor.Shape, shape ...int) *tensor.Dense {
	if r.err != nil {
		return nil
	}
	v, ok := r.file[key]
	switch {
	case !ok:
		r.err = errors.Errorf("layers: %s: missing key %q", r.path, key)
		return nil
	case !v.Shape().Eq(flax):
		r.err = errors.Errorf("layers: %s: key %q has shape %v, expected %v", r.path, key, v.Shape(), flax)
		return nil
	}
	out := v.Clone().(*tensor.Dense)
	if err := out.Reshape(shape...); err != nil {
		r.err = check.Wrapf(err, "layers: %s: key %q", r.path, key)
	}
	return out
}

// join concatenates along axis.
func (r *npzReader) join(axis int, parts ...*tensor.Dense) *tensor.Dense {
	if r.err != nil {
		return nil
	}
	out, err := parts[0].Concat(axis, parts[1:]...)
	if err != nil {
		r.err = check.Wrapf(err, "layers: %s: joining q, k, v", r.path)
	}
	return out
}
