package machine

import (
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// category is where a value's bytes count in Stats; the package documentation gives the
// rules.
type category int

const (
	params category = iota
	inputs
	gradients
	activations
	transient
	numCategories
)

// buffer is one piece of memory that node values live in. Values that share memory (a
// reshape's view, Iop's result, one constant in two places) share a buffer, so its bytes
// count once and it is freed only when no value in it has readers left.
type buffer struct {
	lo, hi uintptr // the memory, [lo, hi)
	cat    category
	owner  gorgonia.Value // the first value registered in it; what goes back to the pool
	reads  int            // reads still to come, summed over the values in the buffer
	holds  int            // outputs in the buffer, kept until the end of the run
	pinned bool           // holds a leaf: never freed, never pooled
	slot   int            // position in memory.live
	into   *buffer        // the buffer this one was merged into, if any

	claimed bool    // made by an op that writes into pooled tensors
	key     poolKey // the pool slot it was made for, when claimed
}

func (b *buffer) root() *buffer {
	for b.into != nil {
		b = b.into
	}
	return b
}

func (b *buffer) bytes() int64 { return int64(b.hi - b.lo) }

func (b *buffer) overlaps(lo, hi uintptr) bool { return b.lo < hi && lo < b.hi }

// memory tracks the live buffers of one run, their bytes by category and the peak, and
// pools freed tensors for reuse. The pool keeps a freed tensor only while, for its dtype
// and size, the pooled tensors plus those in use by ops that write into pooled tensors
// stay below the most such ops had in use at once (in this run or the last): it holds what
// the next ops will ask for and does not grow from run to run with the results of ops that
// cannot use it.
type memory struct {
	live   []*buffer
	bytes  [numCategories]int64
	total  int64
	peak   peakState
	pool   map[poolKey][]*tensor.Dense
	pooled int64
	inUse  map[poolKey]int // claimed buffers live now
	most   map[poolKey]int // the most claimed buffers live at once in this run
	last   map[poolKey]int // most, in the last run

	noPool bool          // the machine's arena holds what the pool would: recycle keeps nothing
	freed  func(*buffer) // when not nil, hears of every buffer freed after its last read
}

// begin starts counting a new run's use of the pool.
func (mem *memory) begin() {
	mem.last, mem.most = mem.most, mem.last
	clear(mem.most)
}

type peakState struct {
	total int64
	bytes [numCategories]int64
	node  *gorgonia.Node
}

type poolKey struct {
	dt tensor.Dtype
	n  int
}

// add registers a value in the memory [lo, hi); owner is the value, or nil when a plan is
// only counted. A value whose memory overlaps live buffers joins them (merging them if it
// spans several); otherwise it starts a new buffer, and fresh reports that.
func (mem *memory) add(lo, hi uintptr, owner gorgonia.Value, cat category, reads int, hold, pinned bool) (b *buffer, fresh bool) {
	for k := 0; k < len(mem.live); k++ {
		o := mem.live[k]
		if !o.overlaps(lo, hi) {
			continue
		}
		if b == nil {
			b = o
			continue
		}
		mem.merge(b, o)
		k-- // o's slot now holds the buffer that was last
	}
	if b == nil {
		b = &buffer{lo: lo, hi: hi, cat: cat, owner: owner, slot: len(mem.live)}
		mem.live = append(mem.live, b)
		mem.account(b, 1)
		fresh = true
	} else if lo < b.lo || hi > b.hi {
		mem.account(b, -1)
		b.lo, b.hi = min(b.lo, lo), max(b.hi, hi)
		mem.account(b, 1)
	}
	b.reads += reads
	if hold {
		b.holds++
	}
	b.pinned = b.pinned || pinned
	return b, fresh
}

// merge folds o into b; b keeps its category and owner.
func (mem *memory) merge(b, o *buffer) {
	mem.account(b, -1)
	mem.account(o, -1)
	mem.unlist(o)
	b.lo, b.hi = min(b.lo, o.lo), max(b.hi, o.hi)
	b.reads += o.reads
	b.holds += o.holds
	b.pinned = b.pinned || o.pinned
	if o.claimed {
		mem.inUse[o.key]-- // its tensor is part of b now, never pooled alone
	}
	o.into = b
	mem.account(b, 1)
}

func (mem *memory) account(b *buffer, sign int64) {
	mem.bytes[b.cat] += sign * b.bytes()
	mem.total += sign * b.bytes()
}

func (mem *memory) unlist(b *buffer) {
	last := mem.live[len(mem.live)-1]
	mem.live[b.slot] = last
	last.slot = b.slot
	mem.live = mem.live[:len(mem.live)-1]
}

// claim marks b as made for the pool slot k.
func (mem *memory) claim(b *buffer, k poolKey) {
	if mem.inUse == nil {
		mem.inUse = make(map[poolKey]int)
		mem.most = make(map[poolKey]int)
		mem.last = make(map[poolKey]int)
	}
	b.claimed, b.key = true, k
	mem.inUse[k]++
	mem.most[k] = max(mem.most[k], mem.inUse[k])
}

// notePeak records the live bytes after n's value was registered.
func (mem *memory) notePeak(n *gorgonia.Node) {
	if mem.total > mem.peak.total {
		mem.peak = peakState{total: mem.total, bytes: mem.bytes, node: n}
	}
}

// read counts one read of a value in b done.
func (mem *memory) read(b *buffer) {
	b = b.root()
	b.reads--
	mem.freeIfDead(b)
}

// unhold releases an output's claim on b.
func (mem *memory) unhold(b *buffer) {
	b = b.root()
	b.holds--
	mem.freeIfDead(b)
}

func (mem *memory) freeIfDead(b *buffer) {
	if b.reads > 0 || b.holds > 0 || b.pinned {
		return
	}
	mem.account(b, -1)
	mem.unlist(b)
	mem.recycle(b)
	if mem.freed != nil {
		mem.freed(b)
	}
}

// recycle retires b: its owner goes to the pool when it is a plain tensor that spans all
// of b and the pool wants one more of its kind.
func (mem *memory) recycle(b *buffer) {
	if b.claimed {
		mem.inUse[b.key]--
	}
	if mem.noPool {
		return
	}
	d, ok := b.owner.(*tensor.Dense)
	if !ok || d.IsMaterializable() || d.Uintptr() != b.lo || d.MemSize() != b.hi-b.lo || d.Size() == 0 {
		return
	}
	k := poolKey{d.Dtype(), d.Size()}
	if len(mem.pool[k])+mem.inUse[k] >= max(mem.most[k], mem.last[k]) {
		return
	}
	if mem.pool == nil {
		mem.pool = make(map[poolKey][]*tensor.Dense)
	}
	mem.pool[k] = append(mem.pool[k], d)
	mem.pooled += b.bytes()
}

func keyOf(dt tensor.Dtype, shape tensor.Shape) poolKey { return poolKey{dt, shape.TotalSize()} }

// take returns a zeroed pooled tensor reshaped to shape, or nil if none fits.
func (mem *memory) take(dt tensor.Dtype, shape tensor.Shape) *tensor.Dense {
	k := keyOf(dt, shape)
	list := mem.pool[k]
	if len(list) == 0 {
		return nil
	}
	d := list[len(list)-1]
	mem.pool[k] = list[:len(list)-1]
	mem.pooled -= int64(d.MemSize())
	if err := d.Reshape(shape...); err != nil {
		return nil
	}
	d.Zero()
	return d
}

// put returns a tensor that take handed out and nobody used.
func (mem *memory) put(d *tensor.Dense) {
	k := poolKey{d.Dtype(), d.Size()}
	mem.pool[k] = append(mem.pool[k], d)
	mem.pooled += int64(d.MemSize())
}

// busy reports whether a live buffer overlaps [lo, hi).
func (mem *memory) busy(lo, hi uintptr) bool {
	for _, b := range mem.live {
		if b.overlaps(lo, hi) {
			return true
		}
	}
	return false
}

// evict drops pooled tensors that overlap [lo, hi): a caller bound a value the machine had
// handed out to a leaf, and the pool must not hand it out again.
func (mem *memory) evict(lo, hi uintptr) {
	for k, list := range mem.pool {
		kept := list[:0]
		for _, d := range list {
			if d.Uintptr() < hi && lo < d.Uintptr()+d.MemSize() {
				mem.pooled -= int64(d.MemSize())
				continue
			}
			kept = append(kept, d)
		}
		mem.pool[k] = kept
	}
}

// reset ends a run: every buffer that is not a leaf is retired, and the counts start
// again from zero.
func (mem *memory) reset() {
	for _, b := range mem.live {
		if !b.pinned {
			mem.recycle(b)
		}
	}
	mem.live = mem.live[:0]
	mem.bytes = [numCategories]int64{}
	mem.total = 0
	mem.peak = peakState{}
}
