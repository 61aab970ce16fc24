package op

import (
	"fmt"
	"hash"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/internal/check"
	"github.com/velora-go/velora/op/internal/opkit"
)

// MatMul is the plain linear layer x @ w: x: (T, D), w: (D, Dout) →
// (T, Dout), with grad_x = g wᵀ and grad_w = xᵀ g. It is the baseline
// VeLoRA's Linear is measured against: the same BLAS kernels, and a backward
// that keeps x. Unlike gorgonia's Mul its gradient never transposes a
// shared value in place.
func MatMul(x, w *gorgonia.Node) (*gorgonia.Node, error) {
	if err := checkLinearInputs("op: MatMul", x, w); err != nil {
		return nil, err
	}
	return gorgonia.ApplyOp(&productOp{matMulOp: matMulOp{alpha: 1}}, x, w)
}

// FrozenLinear is x @ w for a frozen weight: x: (T, D), w: (D, Dout) →
// (T, Dout). Its backward gives grad_x = g wᵀ only (w gets no gradient), so
// the graph never keeps x for it. LoRA's and QLoRA's base layers use it.
func FrozenLinear(x, w *gorgonia.Node) (*gorgonia.Node, error) {
	if err := checkLinearInputs("op: FrozenLinear", x, w); err != nil {
		return nil, err
	}
	return gorgonia.ApplyOp(&productOp{matMulOp: matMulOp{alpha: 1}, frozen: true}, x, w)
}

// checkLinearInputs checks x: (T, D) and w: (D, Dout) of one float dtype
// for the op named by what ("op: Linear").
func checkLinearInputs(what string, x, w *gorgonia.Node) error {
	if err := opkit.CheckMatrix(x, what+" input"); err != nil {
		return err
	}
	if err := opkit.CheckMatrix(w, what+" weight"); err != nil {
		return err
	}
	if err := opkit.CheckTogether(what, x, w); err != nil {
		return err
	}
	if x.Shape()[1] != w.Shape()[0] {
		return errors.Errorf("%s: input %q has shape %v and weight %q has shape %v: inner dimensions %d and %d, expected equal",
			what, x.Name(), x.Shape(), w.Name(), w.Shape(), x.Shape()[1], w.Shape()[0])
	}
	return nil
}

// productOp is x @ w with gradients grad_x = g wᵀ and, unless frozen,
// grad_w = xᵀ g.
type productOp struct {
	matMulOp
	frozen bool
}

func (o *productOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v", o) }

func (o *productOp) Hashcode() uint32 { return opkit.Hash(o) }

func (o *productOp) String() string {
	if o.frozen {
		return "FrozenLinear"
	}
	return "MatMul"
}

func (o *productOp) DiffWRT(int) []bool { return []bool{true, !o.frozen} }

// gradients are the ops computing grad_x from (g, w) and grad_w from (x, g).
func (o *productOp) gradients() (gx, gw *matMulOp) {
	return &matMulOp{transB: true, alpha: 1}, &matMulOp{transA: true, alpha: 1}
}

func (o *productOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	gxOp, gwOp := o.gradients()
	gx, err := gorgonia.ApplyOp(gxOp, grad, inputs[1])
	if err != nil {
		return nil, check.Wrapf(err, "op: %v input gradient", o)
	}
	if o.frozen {
		return gorgonia.Nodes{gx, nil}, nil
	}
	gw, err := gorgonia.ApplyOp(gwOp, inputs[0], grad)
	if err != nil {
		return nil, check.Wrapf(err, "op: %v weight gradient", o)
	}
	return gorgonia.Nodes{gx, gw}, nil
}

func (o *productOp) DoDiff(ctx gorgonia.ExecutionContext, inputs gorgonia.Nodes, output *gorgonia.Node) error {
	g, err := opkit.OutputGrad(o, output)
	if err != nil {
		return err
	}
	gxOp, gwOp := o.gradients()
	gx, err := gxOp.Do(g, inputs[1].Value())
	if err != nil {
		return err
	}
	if err := opkit.AccumulateGrad(inputs[0], gx.(*tensor.Dense)); err != nil || o.frozen {
		return err
	}
	return opkit.AddGradient(inputs[1], gwOp, inputs[0].Value(), g)
}

var (
	_ gorgonia.Op              = (*productOp)(nil)
	_ gorgonia.SDOp            = (*productOp)(nil)
	_ gorgonia.ADOp            = (*productOp)(nil)
	_ gorgonia.UsePreallocDoer = (*productOp)(nil)
)

// KeptInput returns the input that the backward pass of a trained linear
// layer of this package keeps for its weight gradient, when n is the output
// of one: x for MatMul, z = Compress(x, p) for Linear. FrozenLinear keeps
// nothing (its weight has no gradient): like any other node it gives false.
func KeptInput(n *gorgonia.Node) (*gorgonia.Node, bool) {
	if n == nil {
		return nil, false
	}
	var kept int
	switch o := n.Op().(type) {
	case *productOp:
		if o.frozen {
			return nil, false
		}
		kept = 0 // (x, w)
	case *linearOp:
		kept = 1 // (x, z, w, v)
	default:
		return nil, false
	}
	children := n.Graph().From(n.ID())
	for i := 0; children.Next(); i++ {
		if i == kept {
			return children.Node().(*gorgonia.Node), true
		}
	}
	return nil, false
}
