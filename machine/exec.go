package machine

import (
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// copyState says whether an op that may overwrite an argument (gorgonia.UnsafeDoer) can run
// on a pooled copy of it. Ops whose Do returns a view of that argument (Reshape) cannot:
// a copy would cost memory the view does not. The first run finds out with Do.
type copyState int8

const (
	copyUnknown copyState = iota
	copyYes
	copyNo
)

// do runs the op of the node at position i. Its result goes into a pooled tensor when the
// op can write into one: through UsePreallocDo, or through UnsafeDo on a pooled copy of
// the argument it overwrites (gorgonia's Do makes that copy itself, in fresh memory).
// pooled reports such an op, whether or not the pool had a tensor. An op whose
// UsePreallocDo or UnsafeDo fails gets a second chance with Do.
func (m *Machine) do(i int, args []gorgonia.Value) (v gorgonia.Value, pooled bool, err error) {
	n := m.plan.nodes[i]
	if n.IsScalar() {
		v, err = n.Op().Do(args...)
		return v, false, err
	}
	if pd, ok := n.Op().(gorgonia.UsePreallocDoer); ok {
		v, err = m.doPrealloc(i, pd, args)
		return v, true, err
	}
	ud, k, ok := overwrites(n, args)
	if !ok {
		v, err = n.Op().Do(args...)
		return v, false, err
	}
	switch m.onCopy[i] {
	case copyYes:
		v, err = m.doOnCopy(i, ud, k, args)
		return v, true, err
	case copyUnknown:
		if v, err = n.Op().Do(args...); err == nil && v != nil {
			m.onCopy[i] = copyYes
			if overlap(v, args[k]) {
				m.onCopy[i] = copyNo
			}
		}
		return v, m.onCopy[i] == copyYes, err
	}
	v, err = n.Op().Do(args...)
	return v, false, err
}

// doPrealloc runs pd, the op of position i, in its arena slot or a pooled tensor.
func (m *Machine) doPrealloc(i int, pd gorgonia.UsePreallocDoer, args []gorgonia.Value) (gorgonia.Value, error) {
	n := m.plan.nodes[i]
	pre, slot := m.buffer(i)
	if pre == nil {
		return n.Op().Do(args...)
	}
	v, err := pd.UsePreallocDo(pre, args...)
	m.keepOrReturn(pre, slot, v, err)
	if err != nil {
		return n.Op().Do(args...)
	}
	return v, nil
}

// doOnCopy copies argument k into the arena slot of position i or a pooled tensor, and
// runs ud, the position's op, on the copy.
func (m *Machine) doOnCopy(i int, ud gorgonia.UnsafeDoer, k int, args []gorgonia.Value) (gorgonia.Value, error) {
	n := m.plan.nodes[i]
	src := args[k].(*tensor.Dense)
	pre, slot := m.buffer(i)
	if pre == nil {
		return n.Op().Do(args...)
	}
	if err := pre.Reshape(src.Shape()...); err != nil || tensor.Copy(pre, src) != nil {
		m.keepOrReturn(pre, slot, nil, err)
		return n.Op().Do(args...)
	}
	args[k] = pre
	v, err := ud.UnsafeDo(args...)
	args[k] = src
	m.keepOrReturn(pre, slot, v, err)
	if err != nil {
		return n.Op().Do(args...)
	}
	return v, nil
}

// keepOrReturn puts pre back in the pool unless the op's result lives in it or it is an
// arena slot.
func (m *Machine) keepOrReturn(pre *tensor.Dense, slot bool, v gorgonia.Value, err error) {
	if !slot && (err != nil || v == nil || !overlap(v, pre)) {
		m.mem.put(pre)
	}
}

// overwrites reports whether n's op may overwrite one of its arguments, which one, and
// whether that argument is a plain tensor of n's dtype and size that a pooled copy can
// stand in for.
func overwrites(n *gorgonia.Node, args []gorgonia.Value) (gorgonia.UnsafeDoer, int, bool) {
	ud, ok := n.Op().(gorgonia.UnsafeDoer)
	if !ok {
		return nil, 0, false
	}
	k := n.Op().OverwritesInput()
	if k < 0 || k >= len(args) {
		return nil, 0, false
	}
	src, ok := args[k].(*tensor.Dense)
	if !ok || src.IsMaterializable() || src.Dtype() != n.Dtype() || src.Size() != n.Shape().TotalSize() {
		return nil, 0, false
	}
	return ud, k, true
}

func overlap(a, b tensor.Memory) bool {
	return a.Uintptr() < b.Uintptr()+b.MemSize() && b.Uintptr() < a.Uintptr()+a.MemSize()
}
