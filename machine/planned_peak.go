package machine

import (
	"reflect"

	"gorgonia.org/gorgonia"
)

// PlannedPeak returns the peak live bytes of one run, Stats().PeakBytes, without running:
// it walks the fixed schedule with the same accounting as RunAll, giving every computed
// value the bytes its node's type declares, or the memory of the argument it is a view of
// (gorgonia's Reshape and Iop). Leaves count with the values bound to them, where bound.
// After a run it counts with what that run observed, and equals its PeakBytes. It costs
// about a microsecond per node, so a planner can weigh many configurations without
// running any.
func (m *Machine) PlannedPeak() int64 { return m.simulate(nil, nil).peak.total }

// simulate walks the fixed schedule with the accounting of RunAll over made-up addresses
// and returns the memory it counted in. computed, when not nil, hears of the buffer of
// every computed value (the k-th step's, at position i) before the step's arguments are
// read; freed, when not nil, of every buffer whose last read is done.
func (m *Machine) simulate(computed func(k, i int, b *buffer, fresh bool), freed func(*buffer)) *memory {
	p := m.plan
	mem := &memory{freed: freed}
	l := newLedger(p, mem, m.updates)
	spans := make([][2]uintptr, len(p.nodes))
	next := uintptr(1) << 62 // made-up addresses, above any real one
	fresh := func(bytes int64) [2]uintptr {
		s := [2]uintptr{next, next + uintptr(bytes)}
		next += uintptr(bytes) + 1 // +1: empty values get distinct addresses too
		return s
	}
	for _, i := range p.leaves {
		spans[i] = fresh(p.bytes[i])
		if v := p.nodes[i].Value(); v != nil {
			spans[i][0], spans[i][1] = span(v)
		}
		l.leaf(i, spans[i][0], spans[i][1], nil)
	}
	mem.notePeak(nil)
	fire := func() {
		for k := range l.updates {
			if l.due(k) {
				l.consumed(k)
			}
		}
	}
	fire()
	for k, i := range p.steps {
		if a := p.alias[i]; a >= 0 {
			spans[i] = spans[p.children[i][a]]
		} else {
			spans[i] = fresh(p.bytes[i])
		}
		b, isFresh := l.computed(i, spans[i][0], spans[i][1], nil)
		if computed != nil {
			computed(k, i, b, isFresh)
		}
		l.argsRead(i)
		fire()
	}
	return mem
}

// A ViewOp returns a view of one of its arguments, the one ViewOf names: its value lives
// in that argument's memory and adds no bytes. PlannedPeak needs to know; gorgonia's
// Reshape and Iop need not say.
type ViewOp interface {
	gorgonia.Op
	ViewOf() int // the index of the argument whose memory the value lives in
}

// reshapeOp is the type of gorgonia's Reshape op (unexported), whose result is a view of
// a tensor argument.
var reshapeOp = reflect.TypeOf(gorgonia.Must(gorgonia.Reshape(
	gorgonia.NewVector(gorgonia.NewGraph(), gorgonia.Float64, gorgonia.WithShape(2)), []int{2, 1})).Op())

// predictMemory fills in what PlannedPeak counts with before any run: a node's declared
// bytes, and the views gorgonia's Reshape and Iop make of their argument.
func (p *plan) predictMemory() {
	p.bytes = make([]int64, len(p.nodes))
	p.alias = make([]int, len(p.nodes))
	for i, n := range p.nodes {
		p.bytes[i] = nodeBytes(n)
		p.alias[i] = -1
		if p.isLeaf(i) {
			continue
		}
		switch o := n.Op().(type) {
		case ViewOp:
			p.alias[i] = o.ViewOf()
		case gorgonia.Iop:
			p.alias[i] = 0
		default:
			if reflect.TypeOf(n.Op()) == reshapeOp && !p.nodes[p.children[i][0]].IsScalar() {
				p.alias[i] = 0
			}
		}
	}
}

// observe records what a run showed of position i's value, which lives in b: the bytes of
// a buffer of its own (fresh), or the argument whose buffer it joined.
func (p *plan) observe(i int, l *ledger, b *buffer, fresh bool) {
	if fresh {
		p.alias[i], p.bytes[i] = -1, b.bytes()
		return
	}
	for k, c := range p.children[i] {
		if l.bufs[c] != nil && l.bufs[c].root() == b.root() {
			p.alias[i] = k
			return
		}
	}
}
