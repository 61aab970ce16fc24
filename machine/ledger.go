package machine

import "gorgonia.org/gorgonia"

// ledger is the byte accounting of one run over a plan: the buffer each position's value
// lives in, the reads still to come on each buffer, and which fused updates have stepped.
// RunAll keeps one over the values the ops return; PlannedPeak runs one over the plan
// alone, with made-up addresses, so that both follow the same rules to the byte.
type ledger struct {
	plan    *plan
	mem     *memory
	updates []*update
	bufs    []*buffer // per position: the buffer its value lives in, while it may be read
	stepped []bool    // per fused update: stepped in this run
}

func newLedger(p *plan, mem *memory, updates []*update) *ledger {
	return &ledger{plan: p, mem: mem, updates: updates, bufs: make([]*buffer, len(p.nodes)), stepped: make([]bool, len(updates))}
}

// start forgets the last run.
func (l *ledger) start() {
	clear(l.bufs)
	clear(l.stepped)
}

// leaf registers the value of leaf i, at [lo, hi).
func (l *ledger) leaf(i int, lo, hi uintptr, owner gorgonia.Value) {
	p := l.plan
	l.bufs[i], _ = l.mem.add(lo, hi, owner, p.cat[i], p.readers[i], p.output[i], true)
}

// computed registers the value of the computed position i, at [lo, hi), and notes the
// peak; fresh reports a buffer of its own.
func (l *ledger) computed(i int, lo, hi uintptr, owner gorgonia.Value) (b *buffer, fresh bool) {
	p := l.plan
	b, fresh = l.mem.add(lo, hi, owner, p.cat[i], p.readers[i], p.output[i], false)
	l.bufs[i] = b
	l.mem.notePeak(p.nodes[i])
	return b, fresh
}

// argsRead counts position i's reads of its arguments done.
func (l *ledger) argsRead(i int) {
	for _, c := range l.plan.children[i] {
		l.mem.read(l.bufs[c])
	}
}

// due reports whether fused update k may step: its gradient is computed, and nothing
// reads the parameter or the gradient any more.
func (l *ledger) due(k int) bool {
	u := l.updates[k]
	return !l.stepped[k] && l.bufs[u.grad] != nil && l.bufs[u.grad].root().reads == 0 && l.bufs[u.param].root().reads == 0
}

// consumed records that update k stepped, and frees its gradient.
func (l *ledger) consumed(k int) {
	g := l.updates[k].grad
	l.stepped[k] = true
	l.mem.unhold(l.bufs[g])
	l.bufs[g] = nil
}
