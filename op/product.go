package op

import (
	"fmt"
	"hash"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// FrozenLinear is x @ w for a frozen weight: x: (T, D), w: (D, Dout) →
// (T, Dout). Its backward gives grad_x = g wᵀ only (w gets no gradient), so
// the graph never keeps x for it. LoRA's and QLoRA's base layers use it.
func FrozenLinear(x, w *gorgonia.Node) (*gorgonia.Node, error) {
	if err := checkLinearInputs(x, w); err != nil {
		return nil, errors.Wrap(err, "frozen linear")
	}
	return gorgonia.ApplyOp(&frozenLinearOp{matMulOp{alpha: 1}}, x, w)
}

// checkLinearInputs checks x: (T, D) and w: (D, Dout) of one float dtype.
func checkLinearInputs(x, w *gorgonia.Node) error {
	if err := checkMatrix(x, "input"); err != nil {
		return err
	}
	if err := checkMatrix(w, "weight"); err != nil {
		return err
	}
	if err := checkSameDtype(x, w); err != nil {
		return err
	}
	if x.Shape()[1] != w.Shape()[0] {
		return errors.Errorf("op: input %q has shape %v and weight %q has shape %v: inner dimensions %d and %d differ",
			x.Name(), x.Shape(), w.Name(), w.Shape(), x.Shape()[1], w.Shape()[0])
	}
	return nil
}

// frozenLinearOp is a plain product whose gradient flows to x only.
type frozenLinearOp struct{ matMulOp }

func (o *frozenLinearOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v", o) }

func (o *frozenLinearOp) Hashcode() uint32 { return hashOf(o) }

func (o *frozenLinearOp) String() string { return "FrozenLinear" }

func (o *frozenLinearOp) DiffWRT(int) []bool { return []bool{true, false} }

func (o *frozenLinearOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	gx, err := matMul(grad, inputs[1], false, true, 1)
	if err != nil {
		return nil, errors.Wrap(err, "frozen linear gradient")
	}
	return gorgonia.Nodes{gx, nil}, nil
}

func (o *frozenLinearOp) DoDiff(ctx gorgonia.ExecutionContext, inputs gorgonia.Nodes, output *gorgonia.Node) error {
	g, err := output.Grad()
	if err != nil {
		return errors.Wrap(err, "frozen linear gradient")
	}
	gx, err := (&matMulOp{transB: true, alpha: 1}).Do(g, inputs[1].Value())
	if err != nil {
		return errors.Wrap(err, "frozen linear gradient")
	}
	return accumulateGrad(inputs[0], gx.(*tensor.Dense))
}

var (
	_ gorgonia.Op              = (*frozenLinearOp)(nil)
	_ gorgonia.SDOp            = (*frozenLinearOp)(nil)
	_ gorgonia.ADOp            = (*frozenLinearOp)(nil)
	_ gorgonia.UsePreallocDoer = (*frozenLinearOp)(nil)
)
