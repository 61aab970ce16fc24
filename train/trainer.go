package train

import (
	"math"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"

	"github.com/velora-go/velora/internal/check"
	"github.com/velora-go/velora/layers"
	"github.com/velora-go/velora/machine"
	"github.com/velora-go/velora/op"
)

// StateSizer is a solver that reports the bytes of its state.
type StateSizer interface {
	StateBytes() int64 // the bytes of the solver's state
}

// Trainer is one model's training step: the loss, the gradients of the
// builder's learnables, the machine that runs them and the solver.
type Trainer struct {
	Loss        *gorgonia.Node   // the scalar loss
	Params      gorgonia.Nodes   // the builder's learnables, in the solver's order
	Machine     *machine.Machine // runs the forward and backward pass
	Solver      gorgonia.Solver  // nil with a fused update
	extra       int64
	eval        *machine.Machine
	g           *gorgonia.ExprGraph
	projections map[string]*op.Projection
}

// Option configures New.
type Option func(*options)

type options struct {
	fused     func() gorgonia.Solver
	extra     int64
	recompute func([]layers.Block) func(*gorgonia.Node) bool
}

// WithFusedUpdate steps each parameter with its own solver from newSolver
// as soon as its gradient exists (machine.WithFusedUpdate), so the
// gradients of all layers never coexist.
func WithFusedUpdate(newSolver func() gorgonia.Solver) Option {
	return func(o *options) { o.fused = newSolver }
}

// WithRecompute recomputes forward values for the backward pass
// (machine.WithRecompute), keeping those that policy, given the model's
// blocks, keeps: layers.CheckpointBlocks or layers.RecomputeCheap.
func WithRecompute(policy func([]layers.Block) func(*gorgonia.Node) bool) Option {
	return func(o *options) { o.recompute = policy }
}

// WithExtraBytes adds memory the graph does not hold to the parameters'
// figure, for example QLoRA's NF4 base weights (layers.LoRA.QuantizedBytes).
func WithExtraBytes(n int64) Option {
	return func(o *options) { o.extra = n }
}

// New differentiates loss with respect to b's learnables and makes the
// machine. solver steps them after each run; with WithFusedUpdate it may be
// nil.
func New(b *layers.Builder, loss *gorgonia.Node, solver gorgonia.Solver, opts ...Option) (*Trainer, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if b == nil || loss == nil {
		return nil, errors.Errorf("train: builder %v and loss %v, expected both", b != nil, loss != nil)
	}
	params := b.Learnables()
	if len(params) == 0 {
		return nil, errors.New("train: the model has no trainable parameters")
	}
	if solver == nil && o.fused == nil {
		return nil, errors.New("train: no solver")
	}
	grads, err := gorgonia.Grad(loss, params...)
	if err != nil {
		return nil, check.Wrap(err, "train: differentiating the loss")
	}
	var mopts []machine.Option
	if o.fused != nil {
		mopts = append(mopts, machine.WithFusedUpdate(o.fused))
		solver = nil
	}
	if o.recompute != nil {
		mopts = append(mopts, machine.WithRecompute(o.recompute(b.Blocks())))
	}
	m, err := machine.New(b.G, append(gorgonia.Nodes{loss}, grads...), mopts...)
	if err != nil {
		return nil, check.Wrap(err, "train")
	}
	return &Trainer{Loss: loss, Params: params, Machine: m, Solver: solver, extra: o.extra, g: b.G, projections: b.Projections()}, nil
}

// Step runs the forward and backward pass, updates the parameters and
// returns the loss. A NaN or infinite loss is an error, and the
// parameters are left as they were.
func (t *Trainer) Step() (float64, error) {
	if err := t.Machine.RunAll(); err != nil {
		return 0, check.Wrap(err, "train: step")
	}
	loss := scalar(t.Loss.Value())
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return loss, errors.Errorf("train: the loss is %v", loss)
	}
	if t.Solver != nil {
		if err := t.Solver.Step(t.Machine.ValueGrads(t.Params)); err != nil {
			return loss, check.Wrap(err, "train: solver step")
		}
	}
	return loss, nil
}

// Eval runs the forward pass only and returns the loss. VeLoRA's
// projections do not see the batch: v does not learn from evaluation data.
func (t *Trainer) Eval() (float64, error) {
	for _, p := range t.projections {
		p.SetTraining(false)
		defer p.SetTraining(true)
	}
	if t.eval == nil {
		m, err := machine.New(t.g, gorgonia.Nodes{t.Loss})
		if err != nil {
			return 0, check.Wrap(err, "train: evaluation machine")
		}
		t.eval = m
	}
	if err := t.eval.RunAll(); err != nil {
		return 0, check.Wrap(err, "train: evaluation")
	}
	return scalar(t.Loss.Value()), nil
}

// Close releases the machines.
func (t *Trainer) Close() error {
	if t.eval != nil {
		t.eval.Close()
	}
	return t.Machine.Close()
}

func scalar(v gorgonia.Value) float64 {
	switch x := v.Data().(type) {
	case float64:
		return x
	case float32:
		return float64(x)
	}
	return math.NaN()
}
