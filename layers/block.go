package layers

import (
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
)

// layerFunc is a model's norm or sublayer, applied to x under a module name.
type layerFunc func(b *Builder, module string, x *gorgonia.Node) (*gorgonia.Node, error)

// sublayer is one residual branch of a pre-norm block: the module name of
// its norm, its own module name, and the function it applies.
type sublayer struct {
	norm, module string
	apply        layerFunc
}

// preNormBlock is the transformer block both models share:
// h ← h + f(norm(h)) for each sublayer in turn (attention, then the MLP).
func preNormBlock(b *Builder, prefix string, h *gorgonia.Node, norm layerFunc, parts ...sublayer) (*gorgonia.Node, error) {
	for _, p := range parts {
		x, err := norm(b, prefix+"."+p.norm, h)
		if err != nil {
			return nil, err
		}
		if x, err = p.apply(b, prefix+"."+p.module, x); err != nil {
			return nil, err
		}
		if h, err = gorgonia.Add(h, x); err != nil {
			return nil, errors.Wrapf(err, "layers: %s.%s residual", prefix, p.module)
		}
	}
	return h, nil
}
