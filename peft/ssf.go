package peft

import (
	"math/rand"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/internal/check"
	"github.com/velora-go/velora/layers"
	"github.com/velora-go/velora/op"
)

// ssfAdapter is SSF, which Apply makes for MethodSSF: it freezes the model
// and scales and shifts the features after each operation, y ⊙ γ + β per
// channel, with γ ~ N(1, 0.02²) and β ~ N(0, 0.02²)
// trainable (Lian et al., "Scaling & Shifting Your Features", arXiv
// 2210.08823): after every projection, every norm and the patch
// embedding. With VeLoRA, the scale-shifts after the selected projections
// keep a compressed copy of their input for γ's gradient (op.ScaleShift),
// and VeLoRA's Scale multiplies that gradient, as the reference's
// VeLoRAScaleAndShift does with velora_scale (β's and the input's gradients
// are left as they are).
type ssfAdapter struct {
	trained []layers.Role  // roles that train fully besides SSF, e.g. the head
	velora  *layers.VeLoRA // the projections whose scale-shift keeps a compressed input
}

// Linear is the frozen x W (+ bias), then its scale-shift.
func (f *ssfAdapter) Linear(b *layers.Builder, s layers.Site, x *gorgonia.Node) (*gorgonia.Node, error) {
	y, err := b.Linear(s, x, nil, false)
	if err != nil {
		return nil, err
	}
	if !f.velora.Selects(s.Name) {
		return scaleShift(b, s.Module, y, nil)
	}
	p, err := b.Projection(s.Module, f.velora, f.velora.Size(s.Name))
	if err != nil {
		return nil, check.Wrapf(err, "peft: ssf %s", s.Module)
	}
	return scaleShift(b, s.Module, y, p, op.WithGradScale(f.velora.GradScale()))
}

// Trains reports whether role r trains fully besides SSF.
func (f *ssfAdapter) Trains(r layers.Role) bool { return hasRole(f.trained, r) }

// Feature scale-shifts x, the output of a norm or the patch embedding.
func (f *ssfAdapter) Feature(b *layers.Builder, module string, x *gorgonia.Node) (*gorgonia.Node, error) {
	return scaleShift(b, module, x, nil)
}

// scaleShift adds module's SSF parameters and applies them to x (N, D),
// compressed by p when it is not nil.
func scaleShift(b *layers.Builder, module string, x *gorgonia.Node, p *op.Projection, opts ...op.LinearOption) (*gorgonia.Node, error) {
	d := tensor.Shape{x.Shape()[1]}
	gamma, err := b.Param(module+".ssf_scale", d, shifted(1, 0.02), true)
	if err != nil {
		return nil, err
	}
	beta, err := b.Param(module+".ssf_shift", d, layers.Normal(0.02), true)
	if err != nil {
		return nil, err
	}
	y, err := op.ScaleShift(x, gamma, beta, p, opts...)
	return y, check.Wrapf(err, "peft: ssf %s", module)
}

// shifted draws from N(mean, std²).
func shifted(mean, std float64) layers.Init {
	normal := layers.Normal(std)
	return func(rng *rand.Rand, data []float64, shape tensor.Shape) {
		normal(rng, data, shape)
		for i := range data {
			data[i] += mean
		}
	}
}

func hasRole(roles []layers.Role, r layers.Role) bool {
	for _, x := range roles {
		if x == r {
			return true
		}
	}
	return false
}
