package machine

import (
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
)

// WithRecompute trades time for memory: a forward value whose node keep rejects is freed
// after its last forward reader, and when the backward pass reads it, it is computed again
// from the values kept (leaves are always kept), just before its first backward reader,
// and freed again after its last. It is gradient checkpointing done by the executor, with
// no change to the graph; the gradients are those of a run without it, bit for bit, when
// every op is a function of its arguments (a StatefulOp is never recomputed).
//
// keep is asked once per computed forward value. Keeping only the
// boundaries of the transformer blocks is torch.utils.checkpoint's usual per-block policy;
// keeping all but the cheap element-wise and norm results is Megatron-LM's selective one.
// Package layers builds both from a model's blocks. Stats().Recomputed counts the
// evaluations added; PlannedPeak includes them.
func WithRecompute(keep func(*gorgonia.Node) bool) Option {
	return func(c *config) error {
		if keep == nil {
			return errors.New("machine: WithRecompute: nil keep function")
		}
		c.keep = keep
		return nil
	}
}

// A StatefulOp is an op whose Do is not a function of its arguments alone: it draws random
// numbers, or counts its calls. WithRecompute never recomputes its node, since a second
// value would differ from the first.
type StatefulOp interface {
	gorgonia.Op
	Stateful() // a marker: it does nothing
}

// recompute gives each forward value that keep rejects a second position, computed just
// before its first backward reader needs it once its forward life is over, and points
// the backward readers at it. A recomputed value's arguments are read where they are
// alive, and recomputed in turn where they are not.
func (p *plan) recompute(keep func(*gorgonia.Node) bool) {
	n := len(p.nodes)
	when := make([]int, n)        // a computed position's index in the schedule
	lastForward := make([]int, n) // the schedule index of a value's last forward reader
	for k, i := range p.steps {
		when[i] = k
	}
	for i := range lastForward {
		lastForward[i] = -1
	}
	for _, i := range p.steps {
		if p.cat[i] == activations {
			for _, c := range p.children[i] {
				lastForward[c] = max(lastForward[c], when[i])
			}
		}
	}
	dropped := make([]bool, n)
	for _, i := range p.steps {
		if p.cat[i] == activations && !p.output[i] && !isStateful(p.nodes[i]) {
			dropped[i] = !keep(p.nodes[i])
		}
	}

	again := make(map[int]int) // position -> its recomputed position
	steps := make([]int, 0, len(p.steps))
	var read func(c, now int) int // the position holding c's value at schedule index now
	read = func(c, now int) int {
		if !dropped[c] || lastForward[c] > now {
			return c
		}
		if r, ok := again[c]; ok {
			return r
		}
		kids := make([]int, len(p.children[c]))
		for k, cc := range p.children[c] {
			kids[k] = read(cc, now)
		}
		r := p.duplicate(c, kids)
		again[c] = r
		steps = append(steps, r)
		return r
	}
	for k, i := range p.steps {
		if p.cat[i] != activations {
			for a, c := range p.children[i] {
				p.children[i][a] = read(c, k)
			}
		}
		steps = append(steps, i)
	}
	p.steps = steps
	p.recomputed = len(p.nodes) - n
	p.readers = make([]int, len(p.nodes))
	for i := range p.nodes {
		for _, c := range p.children[i] {
			p.readers[c]++
		}
	}
}

// duplicate adds a position that computes the node at position i again, from the
// arguments at positions kids.
func (p *plan) duplicate(i int, kids []int) int {
	r := len(p.nodes)
	p.nodes = append(p.nodes, p.nodes[i])
	p.children = append(p.children, kids)
	p.output = append(p.output, false)
	p.cat = append(p.cat, p.cat[i])
	p.bytes = append(p.bytes, p.bytes[i])
	p.alias = append(p.alias, p.alias[i])
	return r
}

func isStateful(n *gorgonia.Node) bool {
	_, ok := n.Op().(StatefulOp)
	return ok
}
