package layers

import (
	"fmt"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/internal/check"
	"github.com/velora-go/velora/op/nn"
)

// vitProjections are the projection names of a ViT encoder block, and
// vitAliases maps the paper's shorthand letters to them: q, k and v all read
// the merged qkv projection's input, d is the MLP's fc2. ViTConfig's
// ProjectionNames and ShorthandAliases return copies.
var (
	vitProjections = []string{"qkv", "proj", "fc1", "fc2"}
	vitAliases     = map[string]string{"q": "qkv", "k": "qkv", "v": "qkv", "d": "fc2"}
)

// ViTConfig is a Vision Transformer's shape (Dosovitskiy et al., arXiv
// 2010.11929). ViT-B/16 is {224, 16, 3, 768, 12, 12, 3072, classes, 1e-6}.
type ViTConfig struct {
	ImageSize  int     // input height and width in pixels
	PatchSize  int     // patch height and width
	Channels   int     // colour channels
	Hidden     int     // width D
	Layers     int     // encoder blocks
	Heads      int     // attention heads
	MLP        int     // MLP width
	Classes    int     // head outputs
	LayerNormE float64 // LayerNorm eps; zero means 1e-6
}

// Patches is the number of patches per image.
func (c ViTConfig) Patches() int { return (c.ImageSize / c.PatchSize) * (c.ImageSize / c.PatchSize) }

// PatchDim is the length of a flattened patch, PatchSize²·Channels.
func (c ViTConfig) PatchDim() int { return c.PatchSize * c.PatchSize * c.Channels }

func (c ViTConfig) eps() float64 {
	if c.LayerNormE == 0 {
		return 1e-6
	}
	return c.LayerNormE
}

// Validate checks that the shape is consistent and the LayerNorm eps finite
// and not negative (zero means the default).
func (c ViTConfig) Validate() error {
	if err := positiveSizes("vit", []namedSize{{"image_size", c.ImageSize}, {"patch_size", c.PatchSize}, {"num_channels", c.Channels},
		{"hidden_size", c.Hidden}, {"num_hidden_layers", c.Layers}, {"num_attention_heads", c.Heads}, {"intermediate_size", c.MLP}, {"classes", c.Classes}}); err != nil {
		return err
	}
	switch {
	case c.ImageSize%c.PatchSize != 0:
		return errors.Errorf("layers: vit image size %d, expected a multiple of the patch size %d", c.ImageSize, c.PatchSize)
	case c.Hidden%c.Heads != 0:
		return errors.Errorf("layers: vit width %d, expected a multiple of the %d heads", c.Hidden, c.Heads)
	}
	return check.Float("layers", "vit layer_norm_eps", c.LayerNormE, c.LayerNormE >= 0, "a finite number ≥ 0 (0 means 1e-06)")
}

// ViT is a Vision Transformer classifier built for one batch size.
type ViT struct {
	Config ViTConfig      // the shape it was built with
	Batch  int            // images per batch
	Images *gorgonia.Node // (Batch·Patches, PatchDim), filled by SetBatch
	Labels *gorgonia.Node // (Batch) class ids
	Logits *gorgonia.Node // (Batch, Classes)
	Loss   *gorgonia.Node // scalar mean cross-entropy
}

// NewViT builds the classifier on b: patch embedding (a linear map of
// flattened patches), class token and position embedding, Layers × (LayerNorm,
// attention with a merged qkv projection and proj, residual, LayerNorm, GELU
// MLP fc1 and fc2, residual), final LayerNorm, the class token's head and
// the loss. Parameter names follow timm's VisionTransformer.
func NewViT(b *Builder, c ViTConfig, batch int) (*ViT, error) {
	if b == nil {
		return nil, errors.New("layers: NewViT: builder is nil")
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if err := validateAdapter(b.Adapter, c.ProjectionNames()); err != nil {
		return nil, err
	}
	if batch <= 0 {
		return nil, errors.Errorf("layers: vit batch %d, expected a positive size", batch)
	}
	p := c.Patches()
	m := &ViT{Config: c, Batch: batch, Images: b.Input("images", batch*p, c.PatchDim()), Labels: b.IDs("labels", batch)}
	embed := Site{Module: "patch_embed.proj", Name: "patch_embed", In: c.PatchDim(), Out: c.Hidden, Bias: true}
	x, err := b.Linear(embed, m.Images, nil, b.Adapter.Trains(RoleEmbedding)) // (B·P, D)
	if err != nil {
		return nil, err
	}
	if x, err = b.Adapter.Feature(b, embed.Module, x); err != nil {
		return nil, err
	}
	trainPos := b.Adapter.Trains(RolePosition)
	cls, err := b.Param("cls_token", tensor.Shape{c.Hidden}, Normal(1e-6), trainPos)
	if err != nil {
		return nil, err
	}
	pos, err := b.Param("pos_embed", tensor.Shape{p + 1, c.Hidden}, Normal(0.02), trainPos)
	if err != nil {
		return nil, err
	}
	h, err := nn.ClassToken(x, cls, pos, batch) // (B·(P+1), D)
	if err != nil {
		return nil, check.Wrap(err, "layers: vit class token")
	}
	for i := 0; i < c.Layers; i++ {
		if h, err = m.block(b, fmt.Sprintf("blocks.%d", i), h); err != nil {
			return nil, err
		}
	}
	if h, err = m.norm(b, "norm", h); err != nil {
		return nil, err
	}
	first := gorgonia.NewVector(b.G, tensor.Int, gorgonia.WithShape(batch), gorgonia.WithName("class_rows"),
		gorgonia.WithValue(tensor.New(tensor.WithShape(batch), tensor.WithBacking(classRows(batch, p+1)))))
	if h, err = nn.Embedding(h, first); err != nil { // (B, D): each sequence's class token
		return nil, check.Wrap(err, "layers: vit class rows")
	}
	head := Site{Module: "head", Name: "head", In: c.Hidden, Out: c.Classes, Bias: true}
	if m.Logits, err = b.Linear(head, h, nil, b.Adapter.Trains(RoleHead)); err != nil {
		return nil, err
	}
	m.Loss, err = nn.CrossEntropy(m.Logits, m.Labels, IgnoreIndex)
	return m, check.Wrap(err, "layers: vit loss")
}

// classRows are the row indices of each sequence's class token.
func classRows(batch, rows int) []int {
	out := make([]int, batch)
	for i := range out {
		out[i] = i * rows
	}
	return out
}

// block is one pre-norm encoder block: attention, then the MLP.
func (m *ViT) block(b *Builder, prefix string, h *gorgonia.Node) (*gorgonia.Node, error) {
	return preNormBlock(b, prefix, h, m.norm,
		sublayer{norm: "norm1", module: "attn", apply: m.attention},
		sublayer{norm: "norm2", module: "mlp", apply: m.mlp})
}

// norm is LayerNorm (weight ones, bias zeros), then the adapter's hook.
func (m *ViT) norm(b *Builder, module string, x *gorgonia.Node) (*gorgonia.Node, error) {
	train := b.Adapter.Trains(RoleNorm)
	w, err := b.Param(module+".weight", tensor.Shape{m.Config.Hidden}, Constant(1), train)
	if err != nil {
		return nil, err
	}
	bias, err := b.Param(module+".bias", tensor.Shape{m.Config.Hidden}, Constant(0), train)
	if err != nil {
		return nil, err
	}
	y, err := nn.LayerNorm(x, w, bias, m.Config.eps())
	if err != nil {
		return nil, check.Wrapf(err, "layers: %s", module)
	}
	return b.Adapter.Feature(b, module, y)
}

// project builds one named projection (with bias) through the adapter.
func (m *ViT) project(b *Builder, module, name string, x *gorgonia.Node, in, out int) (*gorgonia.Node, error) {
	y, err := b.Adapter.Linear(b, Site{Module: module, Name: name, In: in, Out: out, Bias: true}, x)
	return y, check.Wrapf(err, "layers: %s", module)
}

// attention is bidirectional multi-head attention through the merged qkv
// projection, then proj.
func (m *ViT) attention(b *Builder, prefix string, x *gorgonia.Node) (*gorgonia.Node, error) {
	d, seq := m.Config.Hidden, m.Config.Patches()+1
	qkv, err := m.project(b, prefix+".qkv", "qkv", x, d, 3*d) // (B·S, 3D)
	if err != nil {
		return nil, err
	}
	parts := make([]*gorgonia.Node, 3)
	for i := range parts {
		part, err := nn.Columns(qkv, i*d, (i+1)*d) // (B·S, D)
		if err != nil {
			return nil, check.Wrapf(err, "layers: %s", prefix)
		}
		if parts[i], err = gorgonia.Reshape(part, tensor.Shape{m.Batch, seq, d}); err != nil {
			return nil, check.Wrapf(err, "layers: %s", prefix)
		}
	}
	att, err := nn.Attention(parts[0], parts[1], parts[2], m.Config.Heads, false) // (B, S, D)
	if err != nil {
		return nil, check.Wrapf(err, "layers: %s", prefix)
	}
	if att, err = gorgonia.Reshape(att, tensor.Shape{m.Batch * seq, d}); err != nil {
		return nil, check.Wrapf(err, "layers: %s", prefix)
	}
	return m.project(b, prefix+".proj", "proj", att, d, d)
}

// mlp is fc2(GELU(fc1(x))).
func (m *ViT) mlp(b *Builder, prefix string, x *gorgonia.Node) (*gorgonia.Node, error) {
	h, err := m.project(b, prefix+".fc1", "fc1", x, m.Config.Hidden, m.Config.MLP)
	if err != nil {
		return nil, err
	}
	b.expansion = append(b.expansion, h)
	if h, err = nn.GELU(h); err != nil {
		return nil, check.Wrapf(err, "layers: %s", prefix)
	}
	return m.project(b, prefix+".fc2", "fc2", h, m.Config.MLP, m.Config.Hidden)
}

// SetBatch copies a batch of images, (Batch, ImageSize, ImageSize,
// Channels) in row-major order, into the model's patch input, and the
// labels.
func (m *ViT) SetBatch(images []float64, labels []int) error {
	c := m.Config
	if len(images) != m.Batch*c.ImageSize*c.ImageSize*c.Channels {
		return errors.Errorf("layers: vit batch has %d pixel values, expected %d × %d × %d × %d",
			len(images), m.Batch, c.ImageSize, c.ImageSize, c.Channels)
	}
	if err := m.setLabels(labels); err != nil {
		return err
	}
	patches := Patchify(images, m.Batch, c.ImageSize, c.Channels, c.PatchSize)
	switch dst := m.Images.Value().Data().(type) {
	case []float64:
		copy(dst, patches)
	case []float32:
		for i, x := range patches {
			dst[i] = float32(x)
		}
	}
	return nil
}

// SetPatches copies a batch already cut into patches, (Batch·Patches,
// PatchDim) in Patchify's order (data/vtab's Batch.Patches gives it), and
// the labels into the model's inputs.
func (m *ViT) SetPatches(patches []float32, labels []int) error {
	c := m.Config
	if len(patches) != m.Batch*c.Patches()*c.PatchDim() {
		return errors.Errorf("layers: vit batch has %d patch values, expected %d × %d × %d", len(patches), m.Batch, c.Patches(), c.PatchDim())
	}
	if err := m.setLabels(labels); err != nil {
		return err
	}
	switch dst := m.Images.Value().Data().(type) {
	case []float32:
		copy(dst, patches)
	case []float64:
		for i, x := range patches {
			dst[i] = float64(x)
		}
	}
	return nil
}

// setLabels checks and copies a batch's labels.
func (m *ViT) setLabels(labels []int) error {
	if len(labels) != m.Batch {
		return errors.Errorf("layers: vit batch has %d labels, expected %d", len(labels), m.Batch)
	}
	for i, l := range labels {
		if (l < 0 || l >= m.Config.Classes) && l != IgnoreIndex {
			return errors.Errorf("layers: label %d of image %d is outside [0, %d)", l, i, m.Config.Classes)
		}
	}
	copy(m.Labels.Value().Data().([]int), labels)
	return nil
}

// Patchify cuts (batch, size, size, channels) images into flattened
// patches, (batch·patches, patch²·channels): patches in row-major order
// over the image, each patch's pixels row-major with channels innermost —
// the order of a Flax/JAX (patch, patch, channels, D) convolution kernel
// reshaped to a matrix.
func Patchify(images []float64, batch, size, channels, patch int) []float64 {
	grid := size / patch
	out := make([]float64, 0, len(images))
	for b := 0; b < batch; b++ {
		img := images[b*size*size*channels : (b+1)*size*size*channels]
		for py := 0; py < grid; py++ {
			for px := 0; px < grid; px++ {
				for i := 0; i < patch; i++ {
					row := ((py*patch+i)*size + px*patch) * channels
					out = append(out, img[row:row+patch*channels]...)
				}
			}
		}
	}
	return out
}
