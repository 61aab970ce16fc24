package opkit

import (
	"fmt"
	"hash/fnv"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Pure holds the Op methods that are the same for every op of package op
// and its sub-packages: none returns a pointer to an input, calls external code or
// overwrites an input.
type Pure struct{}

func (Pure) ReturnsPtr() bool     { return false }
func (Pure) CallsExtern() bool    { return false }
func (Pure) OverwritesInput() int { return -1 }

// Hash is every op's Hashcode: the FNV-1a hash of what WriteHash writes.
func Hash(o gorgonia.Op) uint32 {
	h := fnv.New32a()
	o.WriteHash(h)
	return h.Sum32()
}

// TensorType returns a fresh tensor type of the given rank over the type
// variable 'a'. Type() must build a new type on every call: gorgonia's type
// inference returns types to a pool.
func TensorType(dims int) gorgonia.TensorType {
	return gorgonia.TensorType{Dims: dims, Of: hm.TypeVariable('a')}
}

// CheckFloatDtype accepts float32 and float64; what, which the message
// starts with, names the value with its package ("nn: GELU input").
func CheckFloatDtype(dt tensor.Dtype, what string) error {
	if dt != tensor.Float32 && dt != tensor.Float64 {
		return errors.Errorf("%s has dtype %v, expected float32 or float64", what, dt)
	}
	return nil
}

// CheckMatrix checks that n is a float matrix; what names it as for
// CheckFloatDtype.
func CheckMatrix(n *gorgonia.Node, what string) error {
	if n == nil {
		return errors.Errorf("%s is nil", what)
	}
	if n.Dims() != 2 {
		return errors.Errorf("%s %q has shape %v, expected a matrix (T, D)", what, n.Name(), n.Shape())
	}
	return CheckFloatDtype(n.Dtype(), what)
}

// CheckTogether checks that b can be an input beside a: a node of the same
// graph, of the same dtype. what starts the message.
func CheckTogether(what string, a, b *gorgonia.Node) error {
	if a.Graph() != b.Graph() {
		return errors.Errorf("%s: %q and %q belong to different graphs, expected one", what, a.Name(), b.Name())
	}
	if a.Dtype() != b.Dtype() {
		return errors.Errorf("%s: %q has dtype %v and %q %v, expected one dtype", what, a.Name(), a.Dtype(), b.Name(), b.Dtype())
	}
	return nil
}

// Contiguous returns d, or a copy of it when it is a transposed view.
func Contiguous(d *tensor.Dense) (*tensor.Dense, error) {
	if d.IsMaterializable() {
		m, ok := d.Materialize().(*tensor.Dense)
		if !ok {
			return nil, errors.Errorf("cannot materialise a %T view", d)
		}
		return m, nil
	}
	return d, nil
}

// Zeros allocates a zeroed tensor.
func Zeros(dt tensor.Dtype, shape ...int) *tensor.Dense {
	return tensor.New(tensor.Of(dt), tensor.WithShape(shape...))
}

// checkPrealloc checks that a buffer handed to UsePreallocDo fits the result.
func checkPrealloc(prealloc gorgonia.Value, dt tensor.Dtype, shape ...int) (*tensor.Dense, error) {
	d, ok := prealloc.(*tensor.Dense)
	if !ok {
		return nil, errors.Errorf("preallocated value is a %T, expected *tensor.Dense", prealloc)
	}
	if d.Dtype() != dt || !d.Shape().Eq(tensor.Shape(shape)) || d.IsMaterializable() {
		return nil, errors.Errorf("preallocated value is %v %v, expected %v %v", d.Dtype(), d.Shape(), dt, tensor.Shape(shape))
	}
	return d, nil
}

// AccumulateGrad adds delta to the gradient LispMachine keeps for n.
func AccumulateGrad(n *gorgonia.Node, delta *tensor.Dense) error {
	g, err := n.Grad()
	if err != nil {
		return errors.Wrapf(err, "no gradient value for %q", n.Name())
	}
	gd, ok := g.(*tensor.Dense)
	if !ok {
		return errors.Errorf("gradient of %q is a %T, expected *tensor.Dense", n.Name(), g)
	}
	_, err = tensor.Add(gd, delta, tensor.UseUnsafe())
	return errors.Wrapf(err, "accumulating the gradient of %q", n.Name())
}

// NodeValues returns the values of nodes, for DoDiff.
func NodeValues(ns gorgonia.Nodes) []gorgonia.Value {
	vs := make([]gorgonia.Value, len(ns))
	for i, n := range ns {
		vs[i] = n.Value()
	}
	return vs
}

// Datas returns the backing slices of tensors of element type T.
func Datas[T Float](ds []*tensor.Dense) [][]T {
	out := make([][]T, len(ds))
	for i, d := range ds {
		out[i] = d.Data().([]T)
	}
	return out
}

// SameShape is the InferShape of an op whose result has its first
// argument's shape.
func SameShape(o fmt.Stringer, d gorgonia.DimSizer) (tensor.Shape, error) {
	s, ok := d.(tensor.Shape)
	if !ok {
		return nil, errors.Errorf("%v: input shape is a %T", o, d)
	}
	return s.Clone(), nil
}

// OutputGrad returns the gradient LispMachine keeps for output, the result
// of op o, in o's DoDiff.
func OutputGrad(o fmt.Stringer, output *gorgonia.Node) (gorgonia.Value, error) {
	g, err := output.Grad()
	if err != nil {
		return nil, Errorf(o, "no gradient for the output: %v", err)
	}
	return g, nil
}

// AddGradient runs the gradient op o on args and adds its result to the
// gradient LispMachine keeps for input: one step of a DoDiff.
func AddGradient(input *gorgonia.Node, o gorgonia.Op, args ...gorgonia.Value) error {
	d, err := o.Do(args...)
	if err != nil {
		return err
	}
	return AccumulateGrad(input, d.(*tensor.Dense))
}

// SymDiffBy is the SymDiff of an op o whose one input's gradient is gradOp
// applied to the output's gradient alone (an inverse rotation, a redrawn
// mask, a column placement).
func SymDiffBy(o fmt.Stringer, gradOp gorgonia.Op, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	gx, err := gorgonia.ApplyOp(gradOp, grad)
	if err != nil {
		return nil, Errorf(o, "gradient: %v", err)
	}
	return gorgonia.Nodes{gx}, nil
}

// DoDiffBy is SymDiffBy's DoDiff: it adds gradOp of the output's gradient to
// the gradient LispMachine keeps for input.
func DoDiffBy(o fmt.Stringer, gradOp gorgonia.Op, input, output *gorgonia.Node) error {
	g, err := OutputGrad(o, output)
	if err != nil {
		return err
	}
	return AddGradient(input, gradOp, g)
}
