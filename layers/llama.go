package layers

import (
	"fmt"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/internal/check"
	"github.com/velora-go/velora/op/nn"
)

// llamaProjections are the projection names of a LLaMA decoder layer, and
// llamaAliases maps the paper's shorthand letters to them; LLaMAConfig's
// ProjectionNames and ShorthandAliases return copies.
var (
	llamaProjections = []string{"q", "k", "v", "o", "gate", "up", "down"}
	llamaAliases     = map[string]string{"d": "down"}
)

// LLaMAConfig is a LLaMA decoder's shape, read from a HuggingFace
// config.json by ParseLLaMAConfig.
type LLaMAConfig struct {
	Hidden           int     // hidden_size
	Intermediate     int     // intermediate_size
	Heads            int     // num_attention_heads
	Layers           int     // num_hidden_layers
	Vocab            int     // vocab_size
	MaxSeq           int     // max_sequence_length or max_position_embeddings
	RMSNormEps       float64 // rms_norm_eps; zero means 1e-6
	RopeTheta        float64 // rope_theta; zero means 10000
	InitializerRange float64 // initializer_range; zero means 0.02
}

// withDefaults fills the zero optional fields.
func (c LLaMAConfig) withDefaults() LLaMAConfig {
	for _, f := range []struct {
		dst *float64
		def float64
	}{{&c.RMSNormEps, 1e-6}, {&c.RopeTheta, 10000}, {&c.InitializerRange, 0.02}} {
		if *f.dst == 0 {
			*f.dst = f.def
		}
	}
	return c
}

// LoadLLaMAConfig reads a HuggingFace LLaMA config.json.
func LoadLLaMAConfig(path string) (LLaMAConfig, error) {
	data, err := readConfigFile(path)
	if err != nil {
		return LLaMAConfig{}, err
	}
	return ParseLLaMAConfig(data, path)
}

// ParseLLaMAConfig reads the keys of a HuggingFace LLaMA config.json;
// source names the data in errors. A missing or wrong-typed key is an
// error naming the source and the key.
func ParseLLaMAConfig(data []byte, source string) (LLaMAConfig, error) {
	j, err := readJSONKeys(data, source)
	if err != nil {
		return LLaMAConfig{}, err
	}
	if err := j.requireString("hidden_act", "silu"); err != nil { // the MLP is SwiGLU
		return LLaMAConfig{}, err
	}
	var c LLaMAConfig
	for _, f := range []struct {
		dst  *int
		keys []string
	}{
		{&c.Hidden, []string{"hidden_size"}},
		{&c.Intermediate, []string{"intermediate_size"}},
		{&c.Heads, []string{"num_attention_heads"}},
		{&c.Layers, []string{"num_hidden_layers"}},
		{&c.Vocab, []string{"vocab_size"}},
		{&c.MaxSeq, []string{"max_sequence_length", "max_position_embeddings"}},
	} {
		if *f.dst, err = j.positiveInt(f.keys...); err != nil {
			return LLaMAConfig{}, err
		}
	}
	for _, f := range []struct {
		dst *float64
		key string
	}{{&c.RMSNormEps, "rms_norm_eps"}, {&c.RopeTheta, "rope_theta"}, {&c.InitializerRange, "initializer_range"}} {
		if *f.dst, err = j.optionalPositive(f.key); err != nil {
			return LLaMAConfig{}, err
		}
	}
	c = c.withDefaults()
	return c, check.Wrapf(c.Validate(), "layers: %s", source)
}

// Validate checks that the shape is consistent and the float fields finite
// and not negative (zero means the default).
func (c LLaMAConfig) Validate() error {
	if err := check.First(
		check.Float("layers", "llama rms_norm_eps", c.RMSNormEps, c.RMSNormEps >= 0, "a finite number ≥ 0 (0 means 1e-06)"),
		check.Float("layers", "llama rope_theta", c.RopeTheta, c.RopeTheta == 0 || c.RopeTheta > 1, "a finite number > 1 (0 means 10000)"),
		check.Float("layers", "llama initializer_range", c.InitializerRange, c.InitializerRange >= 0, "a finite number ≥ 0 (0 means 0.02)"),
	); err != nil {
		return err
	}
	if err := positiveSizes("llama", []namedSize{{"hidden_size", c.Hidden}, {"intermediate_size", c.Intermediate},
		{"num_attention_heads", c.Heads}, {"num_hidden_layers", c.Layers}, {"vocab_size", c.Vocab}, {"max_position_embeddings", c.MaxSeq}}); err != nil {
		return err
	}
	switch {
	case c.Hidden%c.Heads != 0:
		return errors.Errorf("layers: llama hidden size %d, expected a multiple of the %d heads", c.Hidden, c.Heads)
	case (c.Hidden/c.Heads)%2 != 0:
		return errors.Errorf("layers: llama head size %d is odd; rotary embeddings need an even size", c.Hidden/c.Heads)
	}
	if n := c.parameters(); n > maxParameters {
		return errors.Errorf("layers: llama config of %.3g parameters, expected at most %.3g (a 7B model has 6.7e9)", n, float64(maxParameters))
	}
	return nil
}

// namedSize is a size setting and its name in the model's config.
type namedSize struct {
	name string
	size int
}

// positiveSizes returns an error naming the first size of a model config
// that is not positive.
func positiveSizes(model string, sizes []namedSize) error {
	for _, s := range sizes {
		if s.size <= 0 {
			return errors.Errorf("layers: %s %s %d, expected a positive size", model, s.name, s.size)
		}
	}
	return nil
}

// maxParameters bounds a model's size: far above what a CPU trains, and below what
// overflows a slice length.
const maxParameters = 1 << 36

// parameters counts the model's weights in float64, so that no size overflows.
func (c LLaMAConfig) parameters() float64 {
	d, f, v := float64(c.Hidden), float64(c.Intermediate), float64(c.Vocab)
	perLayer := 4*d*d + 3*d*f + 2*d
	return float64(c.Layers)*perLayer + 2*v*d + d
}

// LLaMA is a LLaMA decoder built for one batch shape: token ids in, mean
// next-token cross-entropy out.
type LLaMA struct {
	Config       LLaMAConfig    // the shape it was built with
	Batch, Seq   int            // sequences per batch and tokens per sequence
	IDs, Targets *gorgonia.Node // (Batch·Seq) token ids and next-token targets (IgnoreIndex to skip)
	Logits       *gorgonia.Node // (Batch·Seq, Vocab)
	Loss         *gorgonia.Node // scalar
}

// IgnoreIndex is the target that the loss skips (padding), PyTorch's
// default.
const IgnoreIndex = -100

// NewLLaMA builds the decoder on b for batches of batch sequences of seq
// tokens: embedding, Layers × (RMSNorm, causal attention with rotary
// embeddings, residual, RMSNorm, SwiGLU MLP, residual), final RMSNorm, LM
// head and the loss. Parameter names follow HuggingFace's LlamaForCausalLM.
func NewLLaMA(b *Builder, c LLaMAConfig, batch, seq int) (*LLaMA, error) {
	if b == nil {
		return nil, errors.New("layers: NewLLaMA: builder is nil")
	}
	c = c.withDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if err := validateAdapter(b.Adapter, c.ProjectionNames()); err != nil {
		return nil, err
	}
	if batch <= 0 || seq <= 0 || seq > c.MaxSeq {
		return nil, errors.Errorf("layers: llama batch %d × sequence %d, expected positive sizes and a sequence of at most %d", batch, seq, c.MaxSeq)
	}
	m := &LLaMA{Config: c, Batch: batch, Seq: seq, IDs: b.IDs("input_ids", batch*seq), Targets: b.IDs("labels", batch*seq)}
	table, err := b.Param("model.embed_tokens.weight", tensor.Shape{c.Vocab, c.Hidden}, Normal(c.InitializerRange), b.Adapter.Trains(RoleEmbedding))
	if err != nil {
		return nil, err
	}
	h, err := nn.Embedding(table, m.IDs) // (B·T, D)
	if err != nil {
		return nil, check.Wrap(err, "layers: llama embedding")
	}
	for i := 0; i < c.Layers; i++ {
		if h, err = m.decoderLayer(b, fmt.Sprintf("model.layers.%d", i), h); err != nil {
			return nil, err
		}
	}
	if h, err = m.norm(b, "model.norm", h); err != nil {
		return nil, err
	}
	head := Site{Module: "lm_head", Name: "head", In: c.Hidden, Out: c.Vocab}
	if m.Logits, err = b.Linear(head, h, nil, b.Adapter.Trains(RoleHead)); err != nil {
		return nil, err
	}
	m.Loss, err = nn.CrossEntropy(m.Logits, m.Targets, IgnoreIndex)
	return m, check.Wrap(err, "layers: llama loss")
}

// decoderLayer is one pre-norm block: self-attention, then the MLP.
func (m *LLaMA) decoderLayer(b *Builder, prefix string, h *gorgonia.Node) (*gorgonia.Node, error) {
	return preNormBlock(b, prefix, h, m.norm,
		sublayer{norm: "input_layernorm", module: "self_attn", apply: m.attention},
		sublayer{norm: "post_attention_layernorm", module: "mlp", apply: m.mlp})
}

// norm is RMSNorm with a weight of ones, then the adapter's feature hook.
func (m *LLaMA) norm(b *Builder, module string, x *gorgonia.Node) (*gorgonia.Node, error) {
	w, err := b.Param(module+".weight", tensor.Shape{m.Config.Hidden}, Constant(1), b.Adapter.Trains(RoleNorm))
	if err != nil {
		return nil, err
	}
	y, err := b.kernels().RMSNorm(x, w, m.Config.RMSNormEps)
	if err != nil {
		return nil, check.Wrapf(err, "layers: %s", module)
	}
	return b.Adapter.Feature(b, module, y)
}

// project builds one named projection through the adapter.
func (m *LLaMA) project(b *Builder, prefix, name string, x *gorgonia.Node, in, out int) (*gorgonia.Node, error) {
	s := Site{Module: prefix + "." + name + "_proj", Name: name, In: in, Out: out}
	return b.Adapter.Linear(b, s, x) // its errors name s.Module
}

// attention is causal multi-head attention with rotary embeddings on q, k.
func (m *LLaMA) attention(b *Builder, prefix string, x *gorgonia.Node) (*gorgonia.Node, error) {
	c := m.Config
	qkv := make([]*gorgonia.Node, 3)
	for i, name := range []string{"q", "k", "v"} {
		y, err := m.project(b, prefix, name, x, c.Hidden, c.Hidden) // (B·T, D)
		if err != nil {
			return nil, err
		}
		if name != "v" {
			if y, err = nn.RoPE(y, c.Heads, m.Seq, c.RopeTheta); err != nil {
				return nil, check.Wrapf(err, "layers: %s %s rope", prefix, name)
			}
		}
		if qkv[i], err = gorgonia.Reshape(y, tensor.Shape{m.Batch, m.Seq, c.Hidden}); err != nil { // (B, T, D)
			return nil, check.Wrapf(err, "layers: %s", prefix)
		}
	}
	att, err := b.kernels().Attention(qkv[0], qkv[1], qkv[2], c.Heads, true) // (B, T, D)
	if err != nil {
		return nil, check.Wrapf(err, "layers: %s", prefix)
	}
	if att, err = gorgonia.Reshape(att, tensor.Shape{m.Batch * m.Seq, c.Hidden}); err != nil {
		return nil, check.Wrapf(err, "layers: %s", prefix)
	}
	return m.project(b, prefix, "o", att, c.Hidden, c.Hidden)
}

// mlp is down(silu(gate(x)) ⊙ up(x)).
func (m *LLaMA) mlp(b *Builder, prefix string, x *gorgonia.Node) (*gorgonia.Node, error) {
	c := m.Config
	gate, err := m.project(b, prefix, "gate", x, c.Hidden, c.Intermediate)
	if err != nil {
		return nil, err
	}
	up, err := m.project(b, prefix, "up", x, c.Hidden, c.Intermediate)
	if err != nil {
		return nil, err
	}
	b.expansion = append(b.expansion, gate, up)
	s, err := b.kernels().SwiGLU(gate, up) // (B·T, F)
	if err != nil {
		return nil, check.Wrapf(err, "layers: %s", prefix)
	}
	return m.project(b, prefix, "down", s, c.Intermediate, c.Hidden)
}

// SetBatch copies a batch's token ids and targets (each Batch·Seq long)
// into the model's inputs.
func (m *LLaMA) SetBatch(ids, targets []int) error {
	n := m.Batch * m.Seq
	if len(ids) != n || len(targets) != n {
		return errors.Errorf("layers: llama batch has %d ids and %d targets, expected %d × %d = %d each", len(ids), len(targets), m.Batch, m.Seq, n)
	}
	for i, id := range ids {
		if id < 0 || id >= m.Config.Vocab {
			return errors.Errorf("layers: token id %d at position %d is outside the vocabulary [0, %d)", id, i, m.Config.Vocab)
		}
	}
	copy(m.IDs.Value().Data().([]int), ids)
	copy(m.Targets.Value().Data().([]int), targets)
	return nil
}
