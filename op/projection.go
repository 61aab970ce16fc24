package op

import (
	"fmt"
	"math"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	vinit "github.com/velora-go/velora/init"
	"github.com/velora-go/velora/internal/check"
	"github.com/velora-go/velora/op/internal/opkit"
)

// Projection is the frozen unit vector v of one VeLoRA layer, shared by the
// layer's Compress (forward) and its weight gradient (backward).
//
// Like gorgonia's BatchNormOp it is stateful and handed to the caller: its
// strategy sees the sub-tokens of every forward batch before they are
// compressed and may set v (on the first batch only, for the default
// first-batch mean). v is a leaf node of the graph; never rebind its value.
type Projection struct {
	m        int
	strategy vinit.Strategy
	state    vinit.State
	value    *tensor.Dense // v, bound to node
	node     *gorgonia.Node
	frozen   bool    // evaluation: batches are not shown to the strategy
	z        ZFormat // how Compress keeps z
}

// NewProjection adds v, a vector of length subTokenSize and dtype dt named
// name, to g. The strategy s decides how v is initialised; nil means
// vinit.FirstBatchMean(), the paper's default. WithZFormat keeps z in 16
// bits.
func NewProjection(g *gorgonia.ExprGraph, subTokenSize int, dt tensor.Dtype, s vinit.Strategy, name string, opts ...ProjectionOption) (*Projection, error) {
	if g == nil {
		return nil, errors.Errorf("op: projection %q: graph is nil", name)
	}
	if subTokenSize <= 0 {
		return nil, errors.Errorf("op: projection %q: sub-token size %d, expected a positive size", name, subTokenSize)
	}
	if err := opkit.CheckFloatDtype(dt, fmt.Sprintf("op: projection %q", name)); err != nil {
		return nil, err
	}
	if name == "" {
		return nil, errors.New("op: projection needs a name, unique in its graph")
	}
	if len(g.ByName(name)) > 0 {
		return nil, errors.Errorf("op: projection %q: the graph already has a node of that name", name)
	}
	if s == nil {
		s = vinit.FirstBatchMean()
	}
	p := &Projection{m: subTokenSize, strategy: s, value: opkit.Zeros(dt, subTokenSize)}
	for _, opt := range opts {
		if err := opt(p); err != nil {
			return nil, check.Wrapf(err, "op: projection %q", name)
		}
	}
	if err := s.Init(&p.state, subTokenSize); err != nil {
		return nil, check.Wrapf(err, "op: projection %q", name)
	}
	p.store()
	p.node = gorgonia.NewVector(g, dt, gorgonia.WithShape(subTokenSize), gorgonia.WithName(name), gorgonia.WithValue(p.value))
	return p, nil
}

// V is the node holding v, shape (M).
func (p *Projection) V() *gorgonia.Node { return p.node }

// SubTokenSize is M, the length of v and of every sub-token.
func (p *Projection) SubTokenSize() int { return p.m }

// Dtype is v's element type.
func (p *Projection) Dtype() tensor.Dtype { return p.value.Dtype() }

// Strategy is the initialisation strategy of v.
func (p *Projection) Strategy() vinit.Strategy { return p.strategy }

// Initialised reports whether v has a value (a data-driven strategy sets it
// on the first forward batch).
func (p *Projection) Initialised() bool { return p.state.V != nil }

// Vector returns a copy of v, nil before it is initialised.
func (p *Projection) Vector() []float64 {
	if p.state.V == nil {
		return nil
	}
	return append([]float64(nil), p.state.V...)
}

// SetVector sets v, for example from a checkpoint, normalised to unit
// length. It must have length M and be finite and non-zero. A strategy that
// recomputes v on every batch (batch mean, running mean) replaces it on the
// next forward pass; the others keep it.
func (p *Projection) SetVector(v []float64) error {
	if len(v) != p.m {
		return errors.Errorf("op: projection %q: v has length %d, expected the sub-token size %d", p.node.Name(), len(v), p.m)
	}
	var norm float64
	for i, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return errors.Errorf("op: projection %q: v[%d] = %g, expected a finite value", p.node.Name(), i, x)
		}
		norm += x * x
	}
	if norm == 0 {
		return errors.Errorf("op: projection %q: v is zero, expected a direction", p.node.Name())
	}
	unit := make([]float64, p.m)
	for i, x := range v {
		unit[i] = x / math.Sqrt(norm)
	}
	p.state.V = unit
	p.store()
	return nil
}

// SetTraining turns the strategy's view of forward batches on (training,
// the default) or off (evaluation: a strategy that follows every batch,
// such as the batch or running mean, must not learn from validation data).
// With it off, a v not yet initialised stays so, and Compress errors.
func (p *Projection) SetTraining(training bool) { p.frozen = !training }

// Reset forgets v and the strategy's state, as if the projection were new:
// the next forward batch initialises v again.
func (p *Projection) Reset() error {
	p.state = vinit.State{}
	if err := p.strategy.Init(&p.state, p.m); err != nil {
		return check.Wrapf(err, "op: projection %q", p.node.Name())
	}
	p.store()
	return nil
}

// String names the projection with its sub-token size, initialisation and,
// when not full, z's format: "down.v(M=16, first_batch_mean)".
func (p *Projection) String() string {
	if p.z != ZFull {
		return fmt.Sprintf("%s(M=%d, %v, z=%v)", p.node.Name(), p.m, p.strategy, p.z)
	}
	return fmt.Sprintf("%s(M=%d, %v)", p.node.Name(), p.m, p.strategy)
}

// observe shows the batch x, a (T, D) matrix, to the strategy and stores
// the v it produces.
func (p *Projection) observe(x *tensor.Dense) error {
	if p.frozen || p.strategy.Frozen(&p.state) {
		return nil
	}
	b := vinit.Batch{Width: x.Shape()[1], M: p.m}
	switch data := x.Data().(type) {
	case []float64:
		b.F64 = data
	case []float32:
		b.F32 = data
	}
	if err := p.strategy.Observe(&p.state, b); err != nil {
		return check.Wrapf(err, "op: projection %q", p.node.Name())
	}
	p.store()
	return nil
}

// store copies the strategy's v into the node's value.
func (p *Projection) store() {
	if p.state.V == nil {
		return
	}
	switch data := p.value.Data().(type) {
	case []float64:
		copy(data, p.state.V)
	case []float32:
		for i, x := range p.state.V {
			data[i] = float32(x)
		}
	}
}

// vector returns v in dtype T, or an error naming the projection when no
// batch has initialised it yet.
func vectorOf[T opkit.Float](p *Projection) ([]T, error) {
	if p.state.V == nil {
		return nil, errors.Errorf("op: projection %q has no v yet: strategy %v sets it from the first batch through Compress or Linear", p.node.Name(), p.strategy)
	}
	return p.value.Data().([]T), nil
}
