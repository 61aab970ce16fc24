package layers

import (
	"gorgonia.org/gorgonia"

	"github.com/velora-go/velora/op/nn"
)

// Kernels are the block ops the LLaMA decoder is built from. A nil field
// means package nn's fused op; package bench sets op/plain's gorgonia
// compositions to measure what the fusion saves.
type Kernels struct {
	RMSNorm   func(x, weight *gorgonia.Node, eps float64) (*gorgonia.Node, error)          // nn.RMSNorm's contract
	Attention func(q, k, v *gorgonia.Node, heads int, causal bool) (*gorgonia.Node, error) // nn.Attention's contract
	SwiGLU    func(a, b *gorgonia.Node) (*gorgonia.Node, error)                            // nn.SwiGLU's contract
}

// kernels returns b.Kernels with the fused ops where a field is nil.
func (b *Builder) kernels() Kernels {
	k := b.Kernels
	if k.RMSNorm == nil {
		k.RMSNorm = nn.RMSNorm
	}
	if k.Attention == nil {
		k.Attention = nn.Attention
	}
	if k.SwiGLU == nil {
		k.SwiGLU = nn.SwiGLU
	}
	return k
}
