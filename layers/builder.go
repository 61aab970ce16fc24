package layers

import (
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/internal/check"
	"github.com/velora-go/velora/op"
	"github.com/velora-go/velora/op/nn"
)

// Builder adds a model's layers to one gorgonia graph. Parameter values
// come from Params (created there, seeded, when missing), and the Adapter
// decides how every projection is built and which parameters train.
type Builder struct {
	G       *gorgonia.ExprGraph // the graph the layers are added to
	Params  *Params             // the parameter values, by name
	Dtype   tensor.Dtype        // float32 or float64, the dtype of every parameter
	Adapter Adapter             // how projections are built and which parameters train
	Seed    int64               // seeds the initial value of every parameter Params lacks
	Kernels Kernels             // the block ops; the zero value is package nn's fused ops

	nodes       map[string]*gorgonia.Node
	learnables  gorgonia.Nodes
	projections map[string]*op.Projection
	blocks      []Block
	expansion   gorgonia.Nodes // the MLP expansion of the block being built
}

// NewBuilder returns a builder on a new graph. dt is float32 or float64;
// a nil adapter means Full{} (every parameter trains).
func NewBuilder(params *Params, dt tensor.Dtype, adapter Adapter, seed int64) (*Builder, error) {
	if dt != tensor.Float32 && dt != tensor.Float64 {
		return nil, errors.Errorf("layers: dtype %v, expected float32 or float64", dt)
	}
	if params == nil {
		params = NewParams()
	}
	if adapter == nil {
		adapter = Full{}
	}
	return &Builder{
		G: gorgonia.NewGraph(), Params: params, Dtype: dt, Adapter: adapter, Seed: seed,
		nodes: map[string]*gorgonia.Node{}, projections: map[string]*op.Projection{},
	}, nil
}

// Param returns the graph node of parameter name, of the given shape. Its
// value is taken from Params or, when missing, made with init and stored
// there. A trainable parameter is added to Learnables. Asking twice for one
// name returns the same node.
func (b *Builder) Param(name string, shape tensor.Shape, init Init, trainable bool) (*gorgonia.Node, error) {
	if n, ok := b.nodes[name]; ok {
		if !n.Shape().Eq(shape) {
			return nil, errors.Errorf("layers: parameter %q requested as %v, built as %v", name, shape, n.Shape())
		}
		return n, nil
	}
	value := b.Params.Get(name)
	switch {
	case value == nil:
		value = newValue(name, shape, b.Dtype, init, b.Seed)
		if err := b.Params.Set(name, value); err != nil {
			return nil, err
		}
	case !value.Shape().Eq(shape) || value.Dtype() != b.Dtype:
		return nil, errors.Errorf("layers: parameter %q is %v %v, the model needs %v %v", name, value.Dtype(), value.Shape(), b.Dtype, shape)
	}
	opts := []gorgonia.NodeConsOpt{gorgonia.WithShape(shape...), gorgonia.WithName(name), gorgonia.WithValue(value)}
	var n *gorgonia.Node
	if len(shape) == 1 {
		n = gorgonia.NewVector(b.G, b.Dtype, opts...)
	} else {
		n = gorgonia.NewMatrix(b.G, b.Dtype, opts...)
	}
	b.nodes[name] = n
	if trainable {
		b.learnables = append(b.learnables, n)
	}
	return n, nil
}

// Learnables are the trainable parameters' nodes in the order they were
// built: pass them to gorgonia.Grad and, in this order, to a solver.
func (b *Builder) Learnables() gorgonia.Nodes { return append(gorgonia.Nodes(nil), b.learnables...) }

// Projections are the VeLoRA projections built so far, by module name.
func (b *Builder) Projections() map[string]*op.Projection { return b.projections }

// Projection returns the VeLoRA projection of a module, with the strategy
// of v and sub-token size size, making it once per builder.
func (b *Builder) Projection(module string, v *VeLoRA, size int) (*op.Projection, error) {
	if p, ok := b.projections[module]; ok {
		return p, nil
	}
	s, err := v.strategy()
	if err != nil {
		return nil, err
	}
	p, err := op.NewProjection(b.G, size, b.Dtype, s, module+".velora_v", v.projectionOptions()...)
	if err != nil {
		return nil, err
	}
	b.projections[module] = p
	return p, nil
}

// Input adds a float input matrix the caller fills before every run.
func (b *Builder) Input(name string, shape ...int) *gorgonia.Node {
	return gorgonia.NewMatrix(b.G, b.Dtype, gorgonia.WithShape(shape...), gorgonia.WithName(name),
		gorgonia.WithValue(tensor.New(tensor.Of(b.Dtype), tensor.WithShape(shape...))))
}

// IDs adds an int vector input (token ids, class labels) the caller fills
// before every run.
func (b *Builder) IDs(name string, n int) *gorgonia.Node {
	return gorgonia.NewVector(b.G, tensor.Int, gorgonia.WithShape(n), gorgonia.WithName(name),
		gorgonia.WithValue(tensor.New(tensor.Of(tensor.Int), tensor.WithShape(n))))
}

// Linear is x @ w (+ bias) for site s: frozen (FrozenLinear) unless
// trainable, and through VeLoRA's Linear when v selects the projection. It
// builds Full's projections, the heads, and adapters' frozen bases.
func (b *Builder) Linear(s Site, x *gorgonia.Node, v *VeLoRA, trainable bool) (*gorgonia.Node, error) {
	w, err := b.Param(s.Module+".weight", tensor.Shape{s.In, s.Out}, KaimingUniform(sqrt5), trainable)
	if err != nil {
		return nil, err
	}
	var out *gorgonia.Node
	switch {
	case !trainable:
		out, err = op.FrozenLinear(x, w)
	case v.Selects(s.Name):
		var p *op.Projection
		if p, err = b.Projection(s.Module, v, v.Size(s.Name)); err == nil {
			out, err = op.Linear(x, w, p, op.WithGradScale(v.GradScale()))
		}
	default:
		out, err = op.MatMul(x, w)
	}
	if err != nil {
		return nil, check.Wrapf(err, "layers: %s", s.Module)
	}
	return b.Bias(s, out, trainable)
}

// Bias adds the site's bias, trainable or frozen, when it has one.
func (b *Builder) Bias(s Site, out *gorgonia.Node, trainable bool) (*gorgonia.Node, error) {
	if !s.Bias {
		return out, nil
	}
	bias, err := b.Param(s.Module+".bias", tensor.Shape{s.Out}, Constant(0), trainable)
	if err != nil {
		return nil, err
	}
	out, err = nn.AddBias(out, bias)
	return out, check.Wrapf(err, "layers: %s bias", s.Module)
}
