package layers

import (
	"slices"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/internal/check"
	"github.com/velora-go/velora/op"
	"github.com/velora-go/velora/op/nf4"
	"github.com/velora-go/velora/op/nn"
)

// LoRA freezes every base weight and adds a trainable low-rank update to the
// targeted projections (Hu et al., arXiv 2106.09685):
// out = x W + (alpha/r) · dropout(x) A B, A (in, r) Kaiming-uniform with
// a = √5, B (r, out) zeros, so the model starts as the base model. With NF4
// set the frozen base is stored in 4-bit NormalFloat (QLoRA, arXiv
// 2305.14314). With VeLoRA set, A's input (after dropout) is what VeLoRA
// compresses, as HuggingFace PEFT's VeLoRA variant does
// (huggingface/peft, src/peft/tuners/lora/velora.py).
type LoRA struct {
	Rank    int      // r; zero means DefaultLoRARank (8), as in PEFT
	Alpha   float64  // lora_alpha; zero means DefaultLoRAAlpha (8), as in PEFT
	Dropout float64  // lora_dropout on A's input, in [0, 1); zero means none
	Targets []string // projection names that get adapters
	NF4     bool     // quantise the frozen base weights (QLoRA)
	// Trained are roles that train fully besides the adapters (PEFT's
	// modules_to_save), e.g. the head of a new classifier.
	Trained []Role
	VeLoRA  *VeLoRA // the targets whose A keeps a compressed input; nil is none
	Seed    int64   // seeds the dropout masks

	quantised map[string]*nf4.Weight
}

// DefaultLoRARank and DefaultLoRAAlpha are LoRA's r and lora_alpha when
// none is given: the defaults of HuggingFace PEFT's LoraConfig. Package peft
// uses the same ones.
const (
	DefaultLoRARank  = 8
	DefaultLoRAAlpha = 8
)

// rank is r, or its default.
func (l *LoRA) rank() int {
	if l.Rank == 0 {
		return DefaultLoRARank
	}
	return l.Rank
}

// alpha is lora_alpha, or its default.
func (l *LoRA) alpha() float64 {
	if l.Alpha == 0 {
		return DefaultLoRAAlpha
	}
	return l.Alpha
}

// Scaling is alpha/r, after defaults: 1 for the zero LoRA.
func (l *LoRA) Scaling() float64 { return l.alpha() / float64(l.rank()) }

// Validate checks the configuration against a model's projection names.
func (l *LoRA) Validate(available []string) error {
	if l.Rank < 0 {
		return errors.Errorf("layers: lora rank %d, expected a positive rank (0 means %d)", l.Rank, DefaultLoRARank)
	}
	if err := check.First(
		check.Float("layers", "lora_alpha", l.Alpha, l.Alpha >= 0, "a finite number ≥ 0 (0 means 8)"),
		check.Float("layers", "lora_dropout", l.Dropout, l.Dropout >= 0 && l.Dropout < 1, "a value in [0, 1)"),
	); err != nil {
		return err
	}
	if _, err := ResolveNames(l.Targets, available, nil); err != nil {
		return check.Wrap(err, "layers: lora targets")
	}
	for _, p := range l.veloraProjections() {
		if !slices.Contains(l.Targets, p) {
			return errors.Errorf("layers: velora compresses the input of LoRA's A, but %q has no adapter (targets %v)", p, l.Targets)
		}
	}
	return l.VeLoRA.Validate(available)
}

func (l *LoRA) veloraProjections() []string {
	if l.VeLoRA == nil {
		return nil
	}
	return l.VeLoRA.Projections
}

// Linear builds the frozen base (full precision or NF4) and, for a target,
// the adapter.
func (l *LoRA) Linear(b *Builder, s Site, x *gorgonia.Node) (*gorgonia.Node, error) {
	out, err := l.base(b, s, x)
	if err != nil || !slices.Contains(l.Targets, s.Name) {
		return out, err
	}
	update, err := l.update(b, s, x)
	if err != nil {
		return nil, check.Wrapf(err, "layers: %s lora", s.Module)
	}
	return gorgonia.Add(out, update)
}

// base is x W (+ bias) with W frozen.
func (l *LoRA) base(b *Builder, s Site, x *gorgonia.Node) (*gorgonia.Node, error) {
	if !l.NF4 {
		return b.Linear(s, x, nil, false)
	}
	q, err := l.quantise(b, s)
	if err != nil {
		return nil, err
	}
	out, err := nf4.Linear(x, q)
	if err != nil {
		return nil, check.Wrapf(err, "layers: %s", s.Module)
	}
	return b.Bias(s, out, false)
}

// quantise returns the NF4 form of a site's weight, made once per LoRA.
// The full-precision weight stays in Params (for saving and merging); the
// graph reads only the NF4 form.
func (l *LoRA) quantise(b *Builder, s Site) (*nf4.Weight, error) {
	name := s.Module + ".weight"
	if q, ok := l.quantised[name]; ok {
		return q, nil
	}
	w := b.Params.Get(name)
	if w == nil {
		w = newValue(name, tensor.Shape{s.In, s.Out}, b.Dtype, KaimingUniform(sqrt5), b.Seed)
		if err := b.Params.Set(name, w); err != nil {
			return nil, err
		}
	}
	q, err := nf4.Quantize(w)
	if err != nil {
		return nil, check.Wrapf(err, "layers: quantising %s", name)
	}
	if l.quantised == nil {
		l.quantised = map[string]*nf4.Weight{}
	}
	l.quantised[name] = q
	return q, nil
}

// update is (alpha/r) · dropout(x) A B.
func (l *LoRA) update(b *Builder, s Site, x *gorgonia.Node) (*gorgonia.Node, error) {
	a, err := b.Param(s.Module+".lora_A.weight", tensor.Shape{s.In, l.rank()}, KaimingUniform(sqrt5), true)
	if err != nil {
		return nil, err
	}
	bw, err := b.Param(s.Module+".lora_B.weight", tensor.Shape{l.rank(), s.Out}, Constant(0), true)
	if err != nil {
		return nil, err
	}
	xd, err := nn.Dropout(x, l.Dropout, StreamSeed(l.Seed, s.Module))
	if err != nil {
		return nil, err
	}
	var xa *gorgonia.Node
	if l.VeLoRA.Selects(s.Name) {
		var p *op.Projection
		if p, err = b.Projection(s.Module, l.VeLoRA, l.VeLoRA.Size(s.Name)); err == nil {
			xa, err = op.Linear(xd, a, p, op.WithGradScale(l.VeLoRA.GradScale()))
		}
	} else {
		xa, err = op.MatMul(xd, a)
	}
	if err != nil {
		return nil, err
	}
	xab, err := op.MatMul(xa, bw)
	if err != nil {
		return nil, err
	}
	return gorgonia.Mul(xab, gorgonia.NewConstant(scalarOf(b.Dtype, l.Scaling())))
}

// Trains reports whether r is one of Trained.
func (l *LoRA) Trains(r Role) bool {
	for _, t := range l.Trained {
		if t == r {
			return true
		}
	}
	return false
}

// Feature returns x unchanged: LoRA adds nothing after norms or embeddings.
func (*LoRA) Feature(_ *Builder, _ string, x *gorgonia.Node) (*gorgonia.Node, error) { return x, nil }

// Merge folds the adapters of the given modules into their base weights
// for inference, W ← W + (alpha/r)·A B; the adapters stay in params, and a
// graph built with LoRA on merged weights would count them twice. An NF4
// base cannot absorb an update: that is an error.
func (l *LoRA) Merge(params *Params, modules []string) error { return l.fold(params, modules, 1) }

// Unmerge undoes Merge: W ← W − (alpha/r)·A B.
func (l *LoRA) Unmerge(params *Params, modules []string) error { return l.fold(params, modules, -1) }

// fold adds sign·(alpha/r)·A B to each module's weight.
func (l *LoRA) fold(params *Params, modules []string, sign float64) error {
	if l.NF4 {
		return errors.New("layers: merging LoRA adapters into an NF4 base weight, expected a full-precision base: dequantise it first")
	}
	for _, m := range modules {
		w, a, bw := params.Get(m+".weight"), params.Get(m+".lora_A.weight"), params.Get(m+".lora_B.weight")
		if w == nil || a == nil || bw == nil {
			return errors.Errorf("layers: merging %s: base weight, lora_A or lora_B missing", m)
		}
		ab, err := a.MatMul(bw)
		if err != nil {
			return check.Wrapf(err, "layers: merging %s", m)
		}
		if _, err := tensor.Mul(ab, scalarOf(w.Dtype(), sign*l.Scaling()), tensor.UseUnsafe()); err != nil {
			return check.Wrapf(err, "layers: merging %s", m)
		}
		if _, err := tensor.Add(w, ab, tensor.UseUnsafe()); err != nil {
			return check.Wrapf(err, "layers: merging %s", m)
		}
	}
	return nil
}

// scalarOf returns x as a scalar of dtype dt.
func scalarOf(dt tensor.Dtype, x float64) any {
	if dt == tensor.Float32 {
		return float32(x)
	}
	return x
}

// QuantizedBytes is the memory of the NF4 base weights built so far.
func (l *LoRA) QuantizedBytes() int {
	n := 0
	for _, q := range l.quantised {
		n += q.Bytes()
	}
	return n
}
