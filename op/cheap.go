package op

import (
	"reflect"

	"gorgonia.org/gorgonia"

	"github.com/velora-go/velora/op/internal/opkit"
)

// Cheap reports whether n's op does work in proportion to the size of its value and
// multiplies no matrices: package nn's norms, SwiGLU, GELU, rotary embeddings, bias,
// column cuts and class tokens, this package's scale-and-shift, and gorgonia's element-wise ops,
// reductions and reshapes. Recomputing such a value for the backward pass costs little
// time, which is what a selective recomputation policy (machine.WithRecompute) looks for.
// Products, attention, VeLoRA's compression, dropout and the loss are not cheap, nor
// are leaves.
func Cheap(n *gorgonia.Node) bool {
	if n == nil || n.Op() == nil { // a leaf computes nothing
		return false
	}
	o := n.Op()
	return opkit.IsCheap(o) || cheapGorgonia[reflect.TypeOf(o).String()]
}

// cheapGorgonia names gorgonia's cheap op types, which it does not export.
var cheapGorgonia = map[string]bool{
	"gorgonia.elemBinOp":   true,
	"gorgonia.elemUnaryOp": true,
	"gorgonia.sumOp":       true,
	"gorgonia.reshapeOp":   true,
}
