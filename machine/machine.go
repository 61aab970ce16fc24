package machine

import (
	"math"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/internal/check"
)

// Machine runs the part of a gorgonia graph that a set of outputs needs, freeing every
// value after its last reader and counting the live bytes exactly. It satisfies
// gorgonia.VM.
type Machine struct {
	plan     *plan
	nanWatch bool
	updates  []*update // fused parameter updates, in parameter order; nil unless fused

	vals   []gorgonia.Value // per position: the value, while someone may still read it
	left   []int            // per position: reads still to come in this run
	onCopy []copyState      // per position: whether the op may run on a pooled copy
	args   []gorgonia.Value // scratch for an op's arguments
	mem    memory
	ledger *ledger // the bytes of the run, over mem
	heap   heapSampler
	stats  Stats

	arena     *arena // where the values of ops that write into handed buffers live, once planned
	noArena   bool   // the arena is given up: values go to the pool
	replanned bool   // the arena was planned again after a missed slot
}

// update is one parameter's fused optimizer step.
type update struct {
	param, grad int // positions
	solver      gorgonia.Solver
}

// New prepares a machine that computes outputs: the cost, the gradients gorgonia.Grad
// returned, metrics. Only the ancestors of outputs run. The order is fixed here: among the
// nodes whose arguments are ready, the one that lowers the live bytes most runs first,
// the lower node ID on a tie.
func New(g *gorgonia.ExprGraph, outputs gorgonia.Nodes, opts ...Option) (*Machine, error) {
	var c config
	for _, opt := range opts {
		if err := opt(&c); err != nil {
			return nil, err
		}
	}
	p, err := newPlan(g, outputs, c.keep)
	if err != nil {
		return nil, err
	}
	m := &Machine{
		plan:     p,
		nanWatch: c.nanWatch,
		vals:     make([]gorgonia.Value, len(p.nodes)),
		left:     make([]int, len(p.nodes)),
		onCopy:   make([]copyState, len(p.nodes)),
		heap:     newHeapSampler(),
	}
	if c.newSolver != nil {
		if m.updates, err = fusedUpdates(p, c.newSolver); err != nil {
			return nil, err
		}
	}
	m.ledger = newLedger(p, &m.mem, m.updates)
	return m, nil
}

// fusedUpdates gives every parameter whose gradient is an output its own solver.
func fusedUpdates(p *plan, newSolver func() gorgonia.Solver) ([]*update, error) {
	if len(p.grads) == 0 {
		return nil, errors.New("machine: WithFusedUpdate: no output is the gradient of a parameter")
	}
	owner := make(map[int]int) // gradient position -> parameter position
	var us []*update
	for _, i := range p.leaves {
		g, ok := p.grads[i]
		if !ok {
			continue
		}
		if other, dup := owner[g]; dup {
			return nil, errors.Errorf("machine: WithFusedUpdate: parameters %q and %q share the gradient %q; a solver changes gradients in place",
				p.nodes[other].Name(), p.nodes[i].Name(), p.nodes[g].Name())
		}
		owner[g] = i
		s := newSolver()
		if s == nil {
			return nil, errors.Errorf("machine: WithFusedUpdate: the solver constructor returned nil for %q", p.nodes[i].Name())
		}
		us = append(us, &update{param: i, grad: g, solver: s})
	}
	return us, nil
}

// RunAll runs every scheduled node once. Values of the outputs are bound to their nodes,
// so Value() reads them as after a TapeMachine run; they stay valid until the next RunAll,
// Reset or Close, after which the machine recycles their memory.
func (m *Machine) RunAll() error {
	m.release()
	m.prepareArena()
	m.mem.begin()
	m.heap.start()
	if err := m.loadLeaves(); err != nil {
		return err
	}
	if err := m.fireUpdates(); err != nil {
		return err
	}
	for _, i := range m.plan.steps {
		if err := m.step(i); err != nil {
			return err
		}
		if err := m.fireUpdates(); err != nil {
			return err
		}
		m.heap.sample()
	}
	for i, n := range m.plan.nodes {
		if !m.plan.output[i] || m.plan.isLeaf(i) || m.vals[i] == nil {
			continue
		}
		if err := gorgonia.UnsafeLet(n, m.vals[i]); err != nil {
			return check.Wrapf(err, "machine: binding the value of output %q", n.Name())
		}
	}
	peak := m.mem.peak
	m.stats = Stats{
		PeakBytes:       peak.total,
		ParamBytes:      peak.bytes[params],
		GradBytes:       peak.bytes[gradients],
		InputBytes:      peak.bytes[inputs],
		ActivationBytes: peak.bytes[activations],
		TransientBytes:  peak.bytes[transient],
		PeakNode:        peak.node,
		RuntimeHeapPeak: m.heap.peak,
		PooledBytes:     m.mem.pooled,
		ArenaBytes:      m.arena.bytes(),
		Nodes:           len(m.plan.steps),
		Recomputed:      m.plan.recomputed,
		Runs:            m.stats.Runs + 1,
	}
	return nil
}

// loadLeaves registers the values bound to the leaves.
func (m *Machine) loadLeaves() error {
	for _, i := range m.plan.leaves {
		n := m.plan.nodes[i]
		v := n.Value()
		if v == nil {
			return errors.Errorf("machine: input %q has no value; bind one with gorgonia.Let", n.Name())
		}
		lo, hi := span(v)
		m.mem.evict(lo, hi)
		if m.arena.overlaps(lo, hi) {
			m.dropArena()
		}
		m.vals[i] = v
		m.ledger.leaf(i, lo, hi, v)
	}
	m.mem.notePeak(nil)
	return nil
}

// step computes the node at position i and releases its arguments.
func (m *Machine) step(i int) error {
	n := m.plan.nodes[i]
	m.args = m.args[:0]
	for _, c := range m.plan.children[i] {
		m.args = append(m.args, m.vals[c])
	}
	v, pooled, err := m.do(i, m.args)
	if err != nil {
		return check.Wrapf(err, "machine: node %q (op %v) on input shapes %v", n.Name(), n.Op(), shapesOf(m.args))
	}
	if v == nil {
		return errors.Errorf("machine: node %q (op %v) returned no value", n.Name(), n.Op())
	}
	lo, hi := span(v)
	b, fresh := m.ledger.computed(i, lo, hi, v)
	m.plan.observe(i, m.ledger, b, fresh)
	if fresh && pooled {
		m.mem.claim(b, keyOf(n.Dtype(), n.Shape()))
	}
	if fresh && m.nanWatch && hasNaNOrInf(v) {
		return errors.Errorf("machine: node %q (op %v) produced NaN or Inf", n.Name(), n.Op())
	}
	m.vals[i] = v
	m.ledger.argsRead(i)
	for _, c := range m.plan.children[i] {
		m.left[c]--
		if m.left[c] == 0 && !m.plan.output[c] && !m.plan.isLeaf(c) {
			m.vals[c] = nil
		}
	}
	return nil
}

// fireUpdates steps every parameter whose gradient is computed once nothing reads the
// parameter or the gradient any more, then frees the gradient.
func (m *Machine) fireUpdates() error {
	for k, u := range m.updates {
		if !m.ledger.due(k) {
			continue
		}
		p := m.plan.nodes[u.param]
		if err := u.solver.Step([]gorgonia.ValueGrad{paramGrad{node: p, grad: m.vals[u.grad]}}); err != nil {
			return check.Wrapf(err, "machine: fused update of %q", p.Name())
		}
		m.ledger.consumed(k)
		m.vals[u.grad] = nil
	}
	return nil
}

// release ends the last run: its values go to the pool and every count starts again.
func (m *Machine) release() {
	m.mem.reset()
	m.ledger.start()
	clear(m.vals)
	copy(m.left, m.plan.readers)
}

// Reset returns the values the last run kept for its outputs to the buffer pool. RunAll
// always runs the whole schedule, so calling Reset between runs is optional; after it,
// the outputs' values and ValueGrads must not be read.
func (m *Machine) Reset() { m.release() }

// Close releases every buffer the machine holds, pooled ones included. The machine can
// run again afterwards, allocating afresh.
func (m *Machine) Close() error {
	m.release()
	m.mem.pool = nil
	m.mem.pooled = 0
	m.arena, m.replanned, m.mem.noPool = nil, false, false
	return nil
}

// Stats describes the last completed run.
func (m *Machine) Stats() Stats { return m.stats }

// ValueGrads pairs each of params with its gradient from the last run, in the order given,
// for a gorgonia solver: solver.Step(m.ValueGrads(params)). A parameter whose gradient is
// not an output, or whose gradient the fused update consumed, reports that from Grad, so
// the solver's Step returns it as an error.
func (m *Machine) ValueGrads(params gorgonia.Nodes) []gorgonia.ValueGrad {
	out := make([]gorgonia.ValueGrad, len(params))
	for k, p := range params {
		out[k] = m.valueGrad(p)
	}
	return out
}

func (m *Machine) valueGrad(p *gorgonia.Node) paramGrad {
	vg := paramGrad{node: p}
	i, ok := m.plan.index[p]
	g, isParam := m.plan.grads[i]
	switch {
	case !ok || !isParam:
		vg.err = errors.Errorf("machine: no output is the gradient of %q", p.Name())
	case m.updates != nil:
		vg.err = errors.Errorf("machine: the fused update consumed the gradient of %q", p.Name())
	case m.vals[g] == nil:
		vg.err = errors.Errorf("machine: no gradient of %q: the machine has not run since it was made or reset", p.Name())
	default:
		vg.grad = m.vals[g]
	}
	return vg
}

// paramGrad is a parameter and its gradient, as gorgonia's solvers take them.
type paramGrad struct {
	node *gorgonia.Node
	grad gorgonia.Value
	err  error
}

func (p paramGrad) Value() gorgonia.Value         { return p.node.Value() }
func (p paramGrad) Grad() (gorgonia.Value, error) { return p.grad, p.err }
func (p paramGrad) Name() string                  { return p.node.Name() }

// span is the memory v occupies.
func span(v gorgonia.Value) (lo, hi uintptr) { return v.Uintptr(), v.Uintptr() + v.MemSize() }

func shapesOf(vs []gorgonia.Value) []tensor.Shape {
	out := make([]tensor.Shape, len(vs))
	for k, v := range vs {
		if v != nil {
			out[k] = v.Shape()
		}
	}
	return out
}

func hasNaNOrInf(v gorgonia.Value) bool {
	bad := func(x float64) bool { return math.IsNaN(x) || math.IsInf(x, 0) }
	switch d := v.Data().(type) {
	case []float64:
		for _, x := range d {
			if bad(x) {
				return true
			}
		}
	case []float32:
		for _, x := range d {
			if bad(float64(x)) {
				return true
			}
		}
	case float64:
		return bad(d)
	case float32:
		return bad(float64(d))
	}
	return false
}
