package peft

import (
	"slices"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/layers"
	"github.com/velora-go/velora/op"
	"github.com/velora-go/velora/op/nn"
)

// Hydra freezes the model and adds a parallel and a sequential low-rank
// adapter to the output projection of each attention and MLP (Kim et al.,
// "Hydra: Multi-head Low-rank Adaptation", arXiv 2309.06922):
//
//	out = W x + Par(x) + Seq(W x),  Par, Seq: h ↦ scale · up(dropout(down(h)))
//
// down (in → r, bias) is Xavier-uniform, up (r → out, bias) is zero, so
// the model starts as the base. With VeLoRA the parallel branches' down
// projections keep a compressed copy of their input, as the paper does.
type Hydra struct {
	Rank    int
	Scale   float64
	Dropout float64
	Trained []layers.Role // roles that train fully besides Hydra, e.g. the head
	VeLoRA  *layers.VeLoRA
	Seed    int64    // seeds the dropout masks
	Sites   []string // the projections adapted: hydraSites of the model
}

// hydraSites are the projections Hydra adapts: attention's output
// projection and the MLP's second linear.
func hydraSites(arch layers.Architecture) []string {
	if _, vit := arch.(layers.ViTConfig); vit {
		return []string{"proj", "fc2"}
	}
	return []string{"o", "down"}
}

func (h *Hydra) Linear(b *layers.Builder, s layers.Site, x *gorgonia.Node) (*gorgonia.Node, error) {
	base, err := b.Linear(s, x, nil, false)
	if err != nil || !slices.Contains(h.Sites, s.Name) {
		return base, err
	}
	var p *op.Projection
	if h.VeLoRA.Selects(s.Name) {
		if p, err = b.Projection(s.Module+".hydra_par", h.VeLoRA, h.VeLoRA.Size(s.Name)); err != nil {
			return nil, errors.Wrapf(err, "peft: hydra %s", s.Module)
		}
	}
	par, err := h.branch(b, s.Module+".hydra_par", x, s.In, s.Out, p)
	if err != nil {
		return nil, err
	}
	seq, err := h.branch(b, s.Module+".hydra_seq", base, s.Out, s.Out, nil)
	if err != nil {
		return nil, err
	}
	out, err := gorgonia.Add(base, par)
	if err == nil {
		out, err = gorgonia.Add(out, seq)
	}
	return out, errors.Wrapf(err, "peft: hydra %s", s.Module)
}

// branch is scale · up(dropout(down(x))), down through VeLoRA when p is set.
func (h *Hydra) branch(b *layers.Builder, prefix string, x *gorgonia.Node, in, out int, p *op.Projection) (*gorgonia.Node, error) {
	down := layers.Site{Module: prefix + ".down", Name: "hydra_down", In: in, Out: h.Rank, Bias: true}
	up := layers.Site{Module: prefix + ".up", Name: "hydra_up", In: h.Rank, Out: out, Bias: true}
	dw, err := b.Param(down.Module+".weight", tensor.Shape{in, h.Rank}, layers.XavierUniform(), true)
	if err != nil {
		return nil, err
	}
	uw, err := b.Param(up.Module+".weight", tensor.Shape{h.Rank, out}, layers.Constant(0), true)
	if err != nil {
		return nil, err
	}
	var y *gorgonia.Node
	if p != nil {
		y, err = op.Linear(x, dw, p, op.WithGradScale(h.VeLoRA.GradScale()))
	} else {
		y, err = op.MatMul(x, dw)
	}
	if err == nil {
		y, err = b.Bias(down, y, true)
	}
	if err == nil {
		y, err = nn.Dropout(y, h.Dropout, layers.StreamSeed(h.Seed, prefix))
	}
	if err == nil {
		y, err = op.MatMul(y, uw)
	}
	if err == nil {
		y, err = b.Bias(up, y, true)
	}
	if err == nil && h.Scale != 1 {
		y, err = gorgonia.Mul(y, gorgonia.NewConstant(scalar(b.Dtype, h.Scale)))
	}
	return y, errors.Wrapf(err, "peft: hydra %s", prefix)
}

func (h *Hydra) Trains(r layers.Role) bool { return hasRole(h.Trained, r) }

func (*Hydra) Feature(_ *layers.Builder, _ string, x *gorgonia.Node) (*gorgonia.Node, error) {
	return x, nil
}

// scalar returns x as a scalar of dtype dt.
func scalar(dt tensor.Dtype, x float64) any {
	if dt == tensor.Float32 {
		return float32(x)
	}
	return x
}
