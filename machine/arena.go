package machine

import (
	"slices"
	"unsafe"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// arena is one block of memory that holds the values of the ops that write into a buffer
// the machine hands them (gorgonia.UsePreallocDoer, or an UnsafeDoer on a copy of the
// argument it overwrites), each at an offset planned from the schedule before the run:
// values alive at the same time get disjoint memory, the others share it whatever their
// sizes. A pool keyed by size cannot share across sizes: it keeps, for every size, the
// most tensors of that size alive at once, and those maxima fall at different moments
// (the forward activations at the start of the backward pass, the weight gradients at its
// end), so it holds more than the peak. The arena holds the most those values need at
// once, plus what packing them wastes.
type arena struct {
	mem    []byte          // the block; the slots' backing arrays point into it
	slots  []*tensor.Dense // per position: the tensor its value is written into, nil for none
	missed bool            // a slot was still in use when its position ran
}

// arenaAlign is the alignment of every slot, a cache line.
const arenaAlign = 64

// slotted reports whether the value at position i gets a slot: a tensor of its own
// memory, float32 or float64, computed by an op that writes into a buffer it is handed.
func (m *Machine) slotted(i int) bool {
	p := m.plan
	n := p.nodes[i]
	if p.isLeaf(i) || p.alias[i] >= 0 || n.IsScalar() || n.Shape().TotalSize() == 0 ||
		(n.Dtype() != tensor.Float32 && n.Dtype() != tensor.Float64) {
		return false
	}
	if _, ok := n.Op().(gorgonia.UsePreallocDoer); ok {
		return true
	}
	if _, ok := n.Op().(gorgonia.UnsafeDoer); !ok || m.onCopy[i] == copyNo {
		return false
	}
	k := n.Op().OverwritesInput()
	if k < 0 || k >= len(p.children[i]) {
		return false
	}
	c := p.nodes[p.children[i][k]]
	return c.Dtype() == n.Dtype() && c.Shape().TotalSize() == n.Shape().TotalSize()
}

// planArena lays out an arena for the slotted values from their lifetimes in the
// schedule (the walk PlannedPeak counts with): a value lives from its step to the step
// whose reads free its buffer, or to the end of the run. It places the largest first,
// each in the smallest gap left free for its whole life by those placed before it, or
// above them all. nil when no value has a slot.
func (m *Machine) planArena() *arena {
	type life struct {
		pos, from, to int // the position, and the steps of its first and last use
		bytes         int64
		buf           *buffer
		off           int64
	}
	var lives []life
	died := make(map[*buffer]int)
	step := 0
	m.simulate(func(k, i int, b *buffer, fresh bool) {
		step = k
		if fresh && m.slotted(i) {
			lives = append(lives, life{pos: i, from: k, bytes: nodeBytes(m.plan.nodes[i]), buf: b})
		}
	}, func(b *buffer) { died[b] = step })
	if len(lives) == 0 {
		return nil
	}
	for k := range lives {
		lives[k].to = len(m.plan.steps)
		if d, ok := died[lives[k].buf.root()]; ok {
			lives[k].to = d
		}
	}
	slices.SortStableFunc(lives, func(a, b life) int {
		if a.bytes != b.bytes {
			return int(b.bytes - a.bytes)
		}
		return a.from - b.from
	})
	var size int64
	var placed, near []*life
	for k := range lives {
		l := &lives[k]
		near = near[:0]
		for _, q := range placed {
			if q.from <= l.to && l.from <= q.to {
				near = append(near, q)
			}
		}
		slices.SortFunc(near, func(a, b *life) int { return int(a.off - b.off) })
		var at, gap, best int64 = 0, -1, -1
		for _, q := range near {
			if free := q.off - at; free >= l.bytes && (gap < 0 || free < gap) {
				best, gap = at, free
			}
			at = max(at, alignUp(q.off+q.bytes))
		}
		if best < 0 {
			best = at
		}
		l.off = best
		placed = append(placed, l)
		size = max(size, l.off+l.bytes)
	}
	a := &arena{mem: make([]byte, size+arenaAlign), slots: make([]*tensor.Dense, len(m.plan.nodes))}
	base := alignUp(int64(uintptr(unsafe.Pointer(&a.mem[0])))) - int64(uintptr(unsafe.Pointer(&a.mem[0])))
	for _, l := range lives {
		n := m.plan.nodes[l.pos]
		at := unsafe.Pointer(&a.mem[base+l.off])
		var backing any
		switch n.Dtype() {
		case tensor.Float32:
			backing = unsafe.Slice((*float32)(at), n.Shape().TotalSize())
		default:
			backing = unsafe.Slice((*float64)(at), n.Shape().TotalSize())
		}
		a.slots[l.pos] = tensor.New(tensor.WithShape(n.Shape().Clone()...), tensor.WithBacking(backing))
	}
	return a
}

func alignUp(n int64) int64 { return (n + arenaAlign - 1) &^ (arenaAlign - 1) }

// bytes is the arena's size; 0 for none.
func (a *arena) bytes() int64 {
	if a == nil {
		return 0
	}
	return int64(len(a.mem))
}

// overlaps reports whether [lo, hi) lies partly in the arena.
func (a *arena) overlaps(lo, hi uintptr) bool {
	if a == nil || len(a.mem) == 0 {
		return false
	}
	start := uintptr(unsafe.Pointer(&a.mem[0]))
	return lo < start+uintptr(len(a.mem)) && start < hi
}

// buffer returns a zeroed tensor shaped like the node at position i for its op to write
// into: its arena slot, or a pooled tensor when it has none or the slot is still in use
// (the schedule's lifetimes were wrong: the next run plans the arena again). slot
// reports an arena tensor, which never goes to the pool.
func (m *Machine) buffer(i int) (d *tensor.Dense, slot bool) {
	n := m.plan.nodes[i]
	if a := m.arena; a != nil && a.slots[i] != nil {
		d := a.slots[i]
		lo, hi := span(d)
		if !m.mem.busy(lo, hi) && d.Reshape(n.Shape()...) == nil {
			d.Zero()
			return d, true
		}
		a.missed = true
	}
	return m.mem.take(n.Dtype(), n.Shape()), false
}

// prepareArena plans the arena before the first run, and again, from what the runs
// observed, after a run in which a slot was still in use when its position ran (an op
// returned a view the schedule did not foresee, which kept its argument alive); the
// second time, the machine goes back to the pool for good. A slot planned for a value
// that turned out to be a view just goes unused.
func (m *Machine) prepareArena() {
	a := m.arena
	switch {
	case m.noArena:
		return
	case a != nil && a.missed:
		m.noArena = m.replanned
		m.replanned = true
	case a != nil:
		return
	}
	m.arena = nil
	if !m.noArena {
		m.arena = m.planArena()
	}
	m.mem.noPool = m.arena != nil
	if m.arena != nil {
		m.mem.pool, m.mem.pooled = nil, 0
	}
}

// dropArena gives the arena up for good: a caller bound a value that lives in it to a leaf.
func (m *Machine) dropArena() {
	m.arena, m.noArena, m.mem.noPool = nil, true, false
}
