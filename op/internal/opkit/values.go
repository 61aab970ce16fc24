package opkit

import (
	"fmt"
	"hash/fnv"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Pure holds the Op methods that are the same for every op of this
// package: none returns a pointer to an input, calls external code or
// overwrites an input.
type Pure struct{}

func (Pure) ReturnsPtr() bool     { return false }
func (Pure) CallsExtern() bool    { return false }
func (Pure) OverwritesInput() int { return -1 }

// hashOf is every op's Hashcode: the FNV-1a hash of what WriteHash writes.
func Hash(o gorgonia.Op) uint32 {
	h := fnv.New32a()
	o.WriteHash(h)
	return h.Sum32()
}

// tensorType returns a fresh tensor type of the given rank over the type
// variable 'a'. Type() must build a new type on every call: gorgonia's type
// inference returns types to a pool.
func TensorType(dims int) gorgonia.TensorType {
	return gorgonia.TensorType{Dims: dims, Of: hm.TypeVariable('a')}
}

// checkFloatDtype accepts float32 and float64.
func CheckFloatDtype(dt tensor.Dtype, what string) error {
	if dt != tensor.Float32 && dt != tensor.Float64 {
		return errors.Errorf("op: %s has dtype %v, expected float32 or float64", what, dt)
	}
	return nil
}

// checkMatrix checks that n is a float matrix.
func CheckMatrix(n *gorgonia.Node, what string) error {
	if n == nil {
		return errors.Errorf("op: %s is nil", what)
	}
	if n.Dims() != 2 {
		return errors.Errorf("op: %s %q has shape %v, expected a matrix (T, D)", what, n.Name(), n.Shape())
	}
	return CheckFloatDtype(n.Dtype(), what)
}

// checkSameDtype checks that b has a's dtype.
func CheckSameDtype(a, b *gorgonia.Node) error {
	if a.Dtype() != b.Dtype() {
		return errors.Errorf("op: dtype mismatch: %q is %v but %q is %v", a.Name(), a.Dtype(), b.Name(), b.Dtype())
	}
	return nil
}

// dense returns v as a contiguous dense tensor of a float dtype. A
// transposed view is materialised into a copy.
func Dense(v gorgonia.Value) (*tensor.Dense, error) {
	d, ok := v.(*tensor.Dense)
	if !ok {
		return nil, errors.Errorf("op: expected a *tensor.Dense value, got %T", v)
	}
	if err := CheckFloatDtype(d.Dtype(), "value"); err != nil {
		return nil, err
	}
	return Contiguous(d)
}

// contiguous returns d, or a copy of it when it is a transposed view.
func Contiguous(d *tensor.Dense) (*tensor.Dense, error) {
	if d.IsMaterializable() {
		m, ok := d.Materialize().(*tensor.Dense)
		if !ok {
			return nil, errors.Errorf("op: cannot materialise a %T view", d)
		}
		return m, nil
	}
	return d, nil
}

// denses applies dense to every value and checks they share one dtype.
func Denses(vs []gorgonia.Value) ([]*tensor.Dense, error) {
	out := make([]*tensor.Dense, len(vs))
	for i, v := range vs {
		d, err := Dense(v)
		if err != nil {
			return nil, errors.Wrapf(err, "input %d", i)
		}
		if i > 0 && d.Dtype() != out[0].Dtype() {
			return nil, errors.Errorf("op: input %d has dtype %v, input 0 has %v", i, d.Dtype(), out[0].Dtype())
		}
		out[i] = d
	}
	return out, nil
}

// zeros allocates a zeroed tensor.
func Zeros(dt tensor.Dtype, shape ...int) *tensor.Dense {
	return tensor.New(tensor.Of(dt), tensor.WithShape(shape...))
}

// checkPrealloc checks that a buffer handed to UsePreallocDo fits the result.
func CheckPrealloc(prealloc gorgonia.Value, dt tensor.Dtype, shape ...int) (*tensor.Dense, error) {
	d, ok := prealloc.(*tensor.Dense)
	if !ok {
		return nil, errors.Errorf("op: preallocated value is a %T, expected *tensor.Dense", prealloc)
	}
	if d.Dtype() != dt || !d.Shape().Eq(tensor.Shape(shape)) || d.IsMaterializable() {
		return nil, errors.Errorf("op: preallocated value is %v %v, expected %v %v", d.Dtype(), d.Shape(), dt, tensor.Shape(shape))
	}
	return d, nil
}

// accumulateGrad adds delta to the gradient LispMachine keeps for n.
func AccumulateGrad(n *gorgonia.Node, delta *tensor.Dense) error {
	g, err := n.Grad()
	if err != nil {
		return errors.Wrapf(err, "op: no gradient value for %q", n.Name())
	}
	gd, ok := g.(*tensor.Dense)
	if !ok {
		return errors.Errorf("op: gradient of %q is a %T, expected *tensor.Dense", n.Name(), g)
	}
	_, err = tensor.Add(gd, delta, tensor.UseUnsafe())
	return errors.Wrapf(err, "op: accumulating the gradient of %q", n.Name())
}

// nodeValues returns the values of nodes, for DoDiff.
func NodeValues(ns gorgonia.Nodes) []gorgonia.Value {
	vs := make([]gorgonia.Value, len(ns))
	for i, n := range ns {
		vs[i] = n.Value()
	}
	return vs
}

// datas returns the backing slices of tensors of element type T.
func Datas[T Float](ds []*tensor.Dense) [][]T {
	out := make([][]T, len(ds))
	for i, d := range ds {
		out[i] = d.Data().([]T)
	}
	return out
}

// sameShape is the InferShape of an op whose result has its first
// argument's shape.
func SameShape(o fmt.Stringer, d gorgonia.DimSizer) (tensor.Shape, error) {
	s, ok := d.(tensor.Shape)
	if !ok {
		return nil, errors.Errorf("op: %v: input shape is a %T", o, d)
	}
	return s.Clone(), nil
}
