package layers

import (
	"gorgonia.org/gorgonia"

	"github.com/velora-go/velora/internal/check"
)

// layerFunc is a model's norm or sublayer, applied to x under a module name.
type layerFunc func(b *Builder, module string, x *gorgonia.Node) (*gorgonia.Node, error)

// sublayer is one residual branch of a pre-norm block: the module name of
// its norm, its own module name, and the function it applies.
type sublayer struct {
	norm, module string
	apply        layerFunc
}

// Block is one transformer block of a built model, as a recomputation policy sees it:
// the residual stream enters at Input and leaves at Output; Residuals are its values from
// Input to Output, both included (h after each residual sum); Expansion are the outputs of
// the MLP's widening projections (LLaMA's gate and up, ViT's fc1), the block's widest
// values.
type Block struct {
	Name          string         // the module prefix, "model.layers.3"
	Input, Output *gorgonia.Node // the residual stream entering and leaving the block
	Residuals     gorgonia.Nodes // the residual stream from Input to Output, both included
	Expansion     gorgonia.Nodes // the outputs of the MLP's widening projections
}

// Blocks returns the transformer blocks built so far, in order.
func (b *Builder) Blocks() []Block { return append([]Block(nil), b.blocks...) }

// preNormBlock is the transformer block both models share:
// h ← h + f(norm(h)) for each sublayer in turn (attention, then the MLP).
func preNormBlock(b *Builder, prefix string, h *gorgonia.Node, norm layerFunc, parts ...sublayer) (*gorgonia.Node, error) {
	block := Block{Name: prefix, Input: h, Residuals: gorgonia.Nodes{h}}
	for _, p := range parts {
		x, err := norm(b, prefix+"."+p.norm, h)
		if err != nil {
			return nil, err
		}
		if x, err = p.apply(b, prefix+"."+p.module, x); err != nil {
			return nil, err
		}
		if h, err = gorgonia.Add(h, x); err != nil {
			return nil, check.Wrapf(err, "layers: %s.%s residual", prefix, p.module)
		}
		block.Residuals = append(block.Residuals, h)
	}
	block.Output, block.Expansion, b.expansion = h, b.expansion, nil
	b.blocks = append(b.blocks, block)
	return h, nil
}
