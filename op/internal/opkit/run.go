package opkit

import (
	"fmt"
	"path"
	"reflect"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Kernel is the maths of an op whose inputs and result are dense tensors:
// what its Do and UsePreallocDo need. Run does the rest.
type Kernel interface {
	fmt.Stringer
	// Result checks the inputs and returns the result's dtype and shape.
	Result(in []*tensor.Dense) (tensor.Dtype, tensor.Shape, error)
	// Compute writes the result into out, which has Result's dtype and shape.
	Compute(out *tensor.Dense, in []*tensor.Dense) error
}

// Run is the Do (prealloc nil: the result is allocated) and the UsePreallocDo
// of the op whose maths k is: it reads the inputs as contiguous dense
// tensors (a scalar as one of shape ()), checks them with k.Result, checks a
// preallocated result against it, and calls k.Compute. Its errors start with
// the op's package and name.
func Run(k Kernel, prealloc gorgonia.Value, vs []gorgonia.Value) (gorgonia.Value, error) {
	in, err := Tensors(vs)
	if err != nil {
		return nil, Errorf(k, "%v", err)
	}
	dt, shape, err := k.Result(in)
	if err != nil {
		return nil, Errorf(k, "%v", err)
	}
	var out *tensor.Dense
	if prealloc == nil {
		out = Zeros(dt, shape...)
	} else if out, err = checkPrealloc(prealloc, dt, shape...); err != nil {
		return nil, Errorf(k, "%v", err)
	}
	if err := k.Compute(out, in); err != nil {
		return nil, Errorf(k, "%v", err)
	}
	return out, nil
}

// Tensors returns the values as contiguous dense tensors: a transposed view
// is copied, a scalar becomes a tensor of shape ().
func Tensors(vs []gorgonia.Value) ([]*tensor.Dense, error) {
	in := make([]*tensor.Dense, len(vs))
	for i, v := range vs {
		var err error
		switch d := v.(type) {
		case *tensor.Dense:
			in[i], err = Contiguous(d)
		case gorgonia.Scalar: // a loss's gradient
			in[i] = tensor.New(tensor.FromScalar(d.Data()))
		default:
			err = errors.Errorf("a %T, expected a tensor or a scalar", v)
		}
		if err != nil {
			return nil, errors.Wrapf(err, "input %d", i)
		}
	}
	return in, nil
}

// Errorf is an error of op o at run time: "pkg: o: " and the message, where
// pkg is the package that defines o's type ("nn: GELUGrad: shapes … differ").
func Errorf(o fmt.Stringer, format string, args ...any) error {
	return errors.Errorf("%s: %v: %s", packageOf(o), o, fmt.Sprintf(format, args...))
}

// packageOf is the name of the package that defines x's type.
func packageOf(x any) string {
	t := reflect.TypeOf(x)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return path.Base(t.PkgPath())
}

// SameFloat checks that ds are float tensors of one dtype and returns it.
func SameFloat(ds ...*tensor.Dense) (tensor.Dtype, error) {
	dt := ds[0].Dtype()
	if err := CheckFloatDtype(dt, "input 0"); err != nil {
		return dt, err
	}
	for i, d := range ds[1:] {
		if d.Dtype() != dt {
			return dt, errors.Errorf("input %d has dtype %v and input 0 %v, expected one dtype", i+1, d.Dtype(), dt)
		}
	}
	return dt, nil
}

// Elementwise is the Result of an element-wise op: its inputs are float
// tensors of one dtype and one shape, which the result has too.
func Elementwise(in []*tensor.Dense) (tensor.Dtype, tensor.Shape, error) {
	dt, err := SameFloat(in...)
	if err != nil {
		return dt, nil, err
	}
	for i, d := range in[1:] {
		if !d.Shape().Eq(in[0].Shape()) {
			return dt, nil, errors.Errorf("input %d has shape %v and input 0 %v, expected one shape", i+1, d.Shape(), in[0].Shape())
		}
	}
	return dt, in[0].Shape(), nil
}

// Shaped is the Result of an op whose inputs are float tensors of one dtype
// that check accepts and whose result has the shape shape(first input's).
func Shaped(in []*tensor.Dense, check func([]*tensor.Dense) error, shape func(tensor.Shape) tensor.Shape) (tensor.Dtype, tensor.Shape, error) {
	dt, err := SameFloat(in...)
	if err == nil {
		err = check(in)
	}
	if err != nil {
		return dt, nil, err
	}
	return dt, shape(in[0].Shape()), nil
}
