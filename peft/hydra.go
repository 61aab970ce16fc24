package peft

import (
	"slices"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/internal/check"
	"github.com/velora-go/velora/layers"
	"github.com/velora-go/velora/op"
	"github.com/velora-go/velora/op/nn"
)

// hydraAdapter is Hydra, which Apply makes for MethodHydra: it freezes the
// model and adds a parallel and a sequential low-rank adapter to the output
// projection of each attention and MLP (Kim et al., "Hydra: Multi-head
// Low-rank Adaptation", arXiv 2309.06922):
//
//	out = W x + Par(x) + Seq(W x),  Par, Seq: h ↦ scale · up(dropout(down(h)))
//
// down (in → r, bias) is Xavier-uniform, up (r → out, bias) is zero, so
// the model starts as the base. With VeLoRA the parallel branches' down
// projections keep a compressed copy of their input, as the paper does.
type hydraAdapter struct {
	rank    int           // r of both branches
	scale   float64       // multiplies both branches
	dropout float64       // on the branches' hidden r-wide values
	trained []layers.Role // roles that train fully besides Hydra, e.g. the head
	velora  *layers.VeLoRA
	seed    int64    // seeds the dropout masks
	sites   []string // the projections adapted: hydraSites of the model
}

// hydraSites are the projections Hydra adapts: attention's output
// projection and the MLP's second linear.
func hydraSites(arch layers.Architecture) []string {
	if _, vit := arch.(layers.ViTConfig); vit {
		return []string{"proj", "fc2"}
	}
	return []string{"o", "down"}
}

// Linear is the frozen x W (+ bias), plus both branches at Hydra's sites.
func (h *hydraAdapter) Linear(b *layers.Builder, s layers.Site, x *gorgonia.Node) (*gorgonia.Node, error) {
	base, err := b.Linear(s, x, nil, false)
	if err != nil || !slices.Contains(h.sites, s.Name) {
		return base, err
	}
	var p *op.Projection
	if h.velora.Selects(s.Name) {
		if p, err = b.Projection(s.Module+".hydra_par", h.velora, h.velora.Size(s.Name)); err != nil {
			return nil, check.Wrapf(err, "peft: hydra %s", s.Module)
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
	return out, check.Wrapf(err, "peft: hydra %s", s.Module)
}

// branch is scale · up(dropout(down(x))), down through VeLoRA when p is set.
func (h *hydraAdapter) branch(b *layers.Builder, prefix string, x *gorgonia.Node, in, out int, p *op.Projection) (*gorgonia.Node, error) {
	down := layers.Site{Module: prefix + ".down", Name: "hydra_down", In: in, Out: h.rank, Bias: true}
	up := layers.Site{Module: prefix + ".up", Name: "hydra_up", In: h.rank, Out: out, Bias: true}
	dw, err := b.Param(down.Module+".weight", tensor.Shape{in, h.rank}, layers.XavierUniform(), true)
	if err != nil {
		return nil, err
	}
	uw, err := b.Param(up.Module+".weight", tensor.Shape{h.rank, out}, layers.Constant(0), true)
	if err != nil {
		return nil, err
	}
	var y *gorgonia.Node
	if p != nil {
		y, err = op.Linear(x, dw, p, op.WithGradScale(h.velora.GradScale()))
	} else {
		y, err = op.MatMul(x, dw)
	}
	if err == nil {
		y, err = b.Bias(down, y, true)
	}
	if err == nil {
		y, err = nn.Dropout(y, h.dropout, layers.StreamSeed(h.seed, prefix))
	}
	if err == nil {
		y, err = op.MatMul(y, uw)
	}
	if err == nil {
		y, err = b.Bias(up, y, true)
	}
	if err == nil && h.scale != 1 {
		y, err = gorgonia.Mul(y, gorgonia.NewConstant(scalar(b.Dtype, h.scale)))
	}
	return y, check.Wrapf(err, "peft: hydra %s", prefix)
}

// Trains reports whether role r trains fully besides Hydra.
func (h *hydraAdapter) Trains(r layers.Role) bool { return hasRole(h.trained, r) }

// Feature leaves x as it is: Hydra adds nothing after norms or embeddings.
func (*hydraAdapter) Feature(_ *layers.Builder, _ string, x *gorgonia.Node) (*gorgonia.Node, error) {
	return x, nil
}

// scalar returns x as a scalar of dtype dt.
func scalar(dt tensor.Dtype, x float64) any {
	if dt == tensor.Float32 {
		return float32(x)
	}
	return x
}
