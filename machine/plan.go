package machine

import (
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
)

// plan is what a machine knows before it runs: the nodes a run touches, who reads whom,
// which category each value counts in, and the order the computed nodes run in.
// Positions index every per-node slice.
type plan struct {
	nodes    gorgonia.Nodes
	index    map[*gorgonia.Node]int
	children [][]int // positions of a node's children, in argument order (a child may repeat)
	readers  []int   // how many argument slots of computed nodes name the node
	output   []bool
	cat      []category
	leaves   []int       // positions of the nodes without children, parameters first
	steps    []int       // positions of the computed nodes, in run order
	grads    map[int]int // a parameter's position -> the position of its gradient output

	// What PlannedPeak counts with: per position, the bytes of a value with memory of its
	// own, or the argument whose memory the value shares (-1: none). Predicted from the
	// nodes' types and ops at New, then what each run observed.
	bytes []int64
	alias []int

	recomputed int // positions WithRecompute added; they follow the graph's nodes
}

// newPlan collects the ancestors of outputs, the parameters whose gradients are among the
// outputs, classifies every value and schedules the computed nodes. A non-nil keep
// chooses the forward values to recompute for the backward pass (see WithRecompute).
func newPlan(g *gorgonia.ExprGraph, outputs gorgonia.Nodes, keep func(*gorgonia.Node) bool) (*plan, error) {
	if g == nil {
		return nil, errors.New("machine: nil graph")
	}
	if len(outputs) == 0 {
		return nil, errors.New("machine: no outputs")
	}
	p := &plan{index: make(map[*gorgonia.Node]int), grads: make(map[int]int)}
	for i, o := range outputs {
		if o == nil {
			return nil, errors.Errorf("machine: output %d is nil", i)
		}
		if o.Graph() != g || !g.Has(o.ID()) {
			return nil, errors.Errorf("machine: output %q, expected a node of the graph", o.Name())
		}
		p.collect(g, o)
	}
	for _, o := range outputs {
		for _, wrt := range o.DerivOf() {
			if !wrt.IsVar() || wrt.Graph() != g {
				continue
			}
			p.collect(g, wrt)
			p.grads[p.index[wrt]] = p.index[o]
		}
	}
	p.output = make([]bool, len(p.nodes))
	for _, o := range outputs {
		p.output[p.index[o]] = true
	}
	p.readers = make([]int, len(p.nodes))
	for i := range p.nodes {
		for _, c := range p.children[i] {
			p.readers[c]++
		}
	}
	p.classify(outputs)
	p.schedule()
	p.predictMemory()
	if keep != nil {
		p.recompute(keep)
	}
	return p, nil
}

// collect adds n and its ancestors, children before parents.
func (p *plan) collect(g *gorgonia.ExprGraph, n *gorgonia.Node) {
	if _, ok := p.index[n]; ok {
		return
	}
	type frame struct {
		n        *gorgonia.Node
		children []*gorgonia.Node
		next     int
	}
	stack := []frame{{n: n, children: childrenOf(g, n)}}
	p.index[n] = -1 // on the stack
	for len(stack) > 0 {
		top := &stack[len(stack)-1]
		if top.next < len(top.children) {
			c := top.children[top.next]
			top.next++
			if _, seen := p.index[c]; !seen {
				p.index[c] = -1
				stack = append(stack, frame{n: c, children: childrenOf(g, c)})
			}
			continue
		}
		pos := len(p.nodes)
		p.nodes = append(p.nodes, top.n)
		p.index[top.n] = pos
		kids := make([]int, len(top.children))
		for i, c := range top.children {
			kids[i] = p.index[c]
		}
		p.children = append(p.children, kids)
		stack = stack[:len(stack)-1]
	}
}

// childrenOf returns n's arguments in order; gorgonia's graph exposes them as n's
// outgoing edges.
func childrenOf(g *gorgonia.ExprGraph, n *gorgonia.Node) []*gorgonia.Node {
	it := g.From(n.ID())
	out := make([]*gorgonia.Node, 0, it.Len())
	for it.Next() {
		out = append(out, it.Node().(*gorgonia.Node))
	}
	return out
}

func (p *plan) isLeaf(i int) bool { return len(p.children[i]) == 0 }

// classify puts every value in a category (see the package documentation) and lists the
// leaves, parameters first.
func (p *plan) classify(outputs gorgonia.Nodes) {
	forward := make([]bool, len(p.nodes))
	var mark func(i int)
	mark = func(i int) {
		if forward[i] {
			return
		}
		forward[i] = true
		for _, c := range p.children[i] {
			mark(c)
		}
	}
	isGrad := make([]bool, len(p.nodes))
	for _, g := range p.grads {
		isGrad[g] = true
	}
	for _, o := range outputs {
		if len(o.DerivOf()) == 0 {
			mark(p.index[o])
		}
	}
	p.cat = make([]category, len(p.nodes))
	var others []int
	for i := range p.nodes {
		_, param := p.grads[i]
		switch {
		case p.isLeaf(i) && param:
			p.cat[i] = params
			p.leaves = append(p.leaves, i)
		case p.isLeaf(i):
			p.cat[i] = inputs
			others = append(others, i)
		case isGrad[i]:
			p.cat[i] = gradients
		case forward[i]:
			p.cat[i] = activations
		default:
			p.cat[i] = transient
		}
	}
	p.leaves = append(p.leaves, others...)
}

// schedule orders the computed nodes greedily: among the nodes whose arguments exist, it
// runs the one that lowers the live bytes most (bytes of arguments it reads last, minus
// the bytes it allocates), the lower node ID on a tie. Sizes come from the nodes' types;
// aliasing is not known before a run and is ignored here.
func (p *plan) schedule() {
	n := len(p.nodes)
	distinct := make([][]int, n) // a node's non-leaf children, each once
	counts := make([][]int, n)   // how often the node reads each of them
	waiting := make([]int, n)
	parents := make([][]int, n)
	var ready []int
	for i := range p.nodes {
		if p.isLeaf(i) {
			continue
		}
		for _, c := range p.children[i] {
			if p.isLeaf(c) {
				continue
			}
			if k := indexOf(distinct[i], c); k >= 0 {
				counts[i][k]++
				continue
			}
			distinct[i] = append(distinct[i], c)
			counts[i] = append(counts[i], 1)
			parents[c] = append(parents[c], i)
		}
		waiting[i] = len(distinct[i])
		if waiting[i] == 0 {
			ready = append(ready, i)
		}
	}
	left := append([]int(nil), p.readers...)
	score := func(i int) int64 {
		s := -nodeBytes(p.nodes[i])
		for k, c := range distinct[i] {
			if !p.output[c] && left[c] == counts[i][k] {
				s += nodeBytes(p.nodes[c])
			}
		}
		return s
	}
	for len(ready) > 0 {
		best := 0
		bestScore := score(ready[0])
		for k := 1; k < len(ready); k++ {
			s := score(ready[k])
			if s > bestScore || s == bestScore && p.nodes[ready[k]].ID() < p.nodes[ready[best]].ID() {
				best, bestScore = k, s
			}
		}
		i := ready[best]
		ready = append(ready[:best], ready[best+1:]...)
		p.steps = append(p.steps, i)
		for _, c := range p.children[i] {
			left[c]--
		}
		for _, par := range parents[i] {
			waiting[par]--
			if waiting[par] == 0 {
				ready = append(ready, par)
			}
		}
	}
}

func indexOf(s []int, v int) int {
	for k, x := range s {
		if x == v {
			return k
		}
	}
	return -1
}

// nodeBytes is the size of n's value as its type and shape declare it.
func nodeBytes(n *gorgonia.Node) int64 {
	return int64(n.Shape().TotalSize()) * int64(n.Dtype().Size())
}
