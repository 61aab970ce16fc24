package nn

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/internal/check"
	"github.com/velora-go/velora/op/internal/opkit"
)

// ClassToken prepends a learned class token to every sequence and adds
// position embeddings, as ViT does after its patch embedding:
// x: (B·P, D), cls: (D), pos: (P+1, D) → (B·(P+1), D), where sequence b is
// [cls; x[bP:(b+1)P]] + pos. Gradients: x gets g without the class rows,
// cls the class rows summed over the batch, pos g summed over the batch.
func ClassToken(x, cls, pos *gorgonia.Node, batch int) (*gorgonia.Node, error) {
	if err := opkit.CheckMatrix(x, "nn: ClassToken input"); err != nil {
		return nil, err
	}
	n, d := x.Shape()[0], x.Shape()[1]
	if batch <= 0 || n%batch != 0 {
		return nil, errors.Errorf("nn: ClassToken: batch %d for the %d rows of %q, expected a positive count that divides them", batch, n, x.Name())
	}
	p := n / batch
	for _, c := range []struct {
		n    *gorgonia.Node
		want tensor.Shape
	}{{cls, tensor.Shape{d}}, {pos, tensor.Shape{p + 1, d}}} {
		if c.n == nil {
			return nil, errors.New("nn: ClassToken: cls or pos is nil")
		}
		if err := opkit.CheckTogether("nn: ClassToken", x, c.n); err != nil {
			return nil, err
		}
		if !c.n.Shape().Eq(c.want) {
			return nil, errors.Errorf("nn: ClassToken: %q has shape %v, expected %v for %d sequences of %d patches of width %d", c.n.Name(), c.n.Shape(), c.want, batch, p, d)
		}
	}
	return gorgonia.ApplyOp(&classTokenOp{batch: batch, part: classForward}, x, cls, pos)
}

// classPart says what a classTokenOp computes.
type classPart int

const (
	classForward classPart = iota // (x, cls, pos) → (B·(P+1), D)
	classGradX                    // g → (B·P, D)
	classGradCls                  // g → (D)
	classGradPos                  // g → (P+1, D)
)

type classTokenOp struct {
	opkit.Pure
	opkit.Cheap
	batch int
	part  classPart
}

func (o *classTokenOp) Arity() int {
	if o.part == classForward {
		return 3
	}
	return 1
}

func (o *classTokenOp) Type() hm.Type {
	switch o.part {
	case classForward:
		return hm.NewFnType(opkit.TensorType(2), opkit.TensorType(1), opkit.TensorType(2), opkit.TensorType(2))
	case classGradCls:
		return hm.NewFnType(opkit.TensorType(2), opkit.TensorType(1))
	}
	return hm.NewFnType(opkit.TensorType(2), opkit.TensorType(2))
}

// shape returns the output shape for a first input of shape s.
func (o *classTokenOp) shape(s tensor.Shape) tensor.Shape {
	n, d := s[0], s[1]
	switch o.part {
	case classForward:
		return tensor.Shape{n + o.batch, d}
	case classGradX:
		return tensor.Shape{n - o.batch, d}
	case classGradCls:
		return tensor.Shape{d}
	}
	return tensor.Shape{n / o.batch, d}
}

func (o *classTokenOp) InferShape(ds ...gorgonia.DimSizer) (tensor.Shape, error) {
	s, ok := ds[0].(tensor.Shape)
	if !ok || len(s) != 2 {
		return nil, opkit.Errorf(o, "input shape %v, expected a matrix", ds[0])
	}
	return o.shape(s), nil
}

func (o *classTokenOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v", o) }

func (o *classTokenOp) Hashcode() uint32 { return opkit.Hash(o) }

func (o *classTokenOp) String() string {
	return fmt.Sprintf("ClassToken%s{B=%d}", [...]string{"", "GradX", "GradCls", "GradPos"}[o.part], o.batch)
}

func (o *classTokenOp) Do(vs ...gorgonia.Value) (gorgonia.Value, error) { return opkit.Run(o, nil, vs) }
func (o *classTokenOp) UsePreallocDo(prealloc gorgonia.Value, vs ...gorgonia.Value) (gorgonia.Value, error) {
	return opkit.Run(o, prealloc, vs)
}

func (o *classTokenOp) Result(in []*tensor.Dense) (tensor.Dtype, tensor.Shape, error) {
	dt, err := opkit.SameFloat(in...)
	s := in[0].Shape()
	if err == nil && (len(s) != 2 || s[0]%o.batch != 0) {
		err = errors.Errorf("input shape %v, expected a matrix whose rows the batch %d divides", s, o.batch)
	}
	if err != nil {
		return dt, nil, err
	}
	return dt, o.shape(s), nil
}

func (o *classTokenOp) Compute(out *tensor.Dense, in []*tensor.Dense) error {
	d := in[0].Shape()[1]
	switch od := out.Data().(type) {
	case []float64:
		classTokenRows(o, od, opkit.Datas[float64](in), d)
	case []float32:
		classTokenRows(o, od, opkit.Datas[float32](in), d)
	}
	return nil
}

// classTokenRows computes one part. Row r of sequence b of the output is
// row b·(P+1) + r; row 0 is the class token.
func classTokenRows[T opkit.Float](o *classTokenOp, out []T, in [][]T, d int) {
	seqRows := func(data []T, b, rows int) []T { return data[b*rows*d : (b+1)*rows*d] }
	if o.part != classForward && o.part != classGradX {
		clear(out)
	}
	for b := 0; b < o.batch; b++ {
		switch o.part {
		case classForward:
			x, cls, pos := in[0], in[1], in[2]
			p := len(x) / d / o.batch
			seq := seqRows(out, b, p+1)
			copy(seq[:d], cls)
			copy(seq[d:], seqRows(x, b, p))
			for i, pi := range pos {
				seq[i] += pi
			}
		case classGradX:
			p := len(out) / d / o.batch
			copy(seqRows(out, b, p), seqRows(in[0], b, p+1)[d:])
		case classGradCls:
			q := len(in[0]) / d / o.batch
			for i, gi := range seqRows(in[0], b, q)[:d] {
				out[i] += gi
			}
		case classGradPos:
			q := len(in[0]) / d / o.batch
			for i, gi := range seqRows(in[0], b, q) {
				out[i] += gi
			}
		}
	}
}

func (o *classTokenOp) DiffWRT(int) []bool {
	if o.part != classForward {
		return []bool{false}
	}
	return []bool{true, true, true}
}

func (o *classTokenOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	var grads gorgonia.Nodes
	for _, part := range []classPart{classGradX, classGradCls, classGradPos} {
		gi, err := gorgonia.ApplyOp(&classTokenOp{batch: o.batch, part: part}, grad)
		if err != nil {
			return nil, check.Wrap(err, "nn: ClassToken gradient")
		}
		grads = append(grads, gi)
	}
	return grads, nil
}

func (o *classTokenOp) DoDiff(ctx gorgonia.ExecutionContext, inputs gorgonia.Nodes, output *gorgonia.Node) error {
	if o.part != classForward {
		return nil
	}
	g, err := opkit.OutputGrad(o, output)
	if err != nil {
		return err
	}
	for i, part := range []classPart{classGradX, classGradCls, classGradPos} {
		if err := opkit.AddGradient(inputs[i], &classTokenOp{batch: o.batch, part: part}, g); err != nil {
			return err
		}
	}
	return nil
}

var (
	_ gorgonia.Op              = (*classTokenOp)(nil)
	_ gorgonia.SDOp            = (*classTokenOp)(nil)
	_ gorgonia.ADOp            = (*classTokenOp)(nil)
	_ gorgonia.UsePreallocDoer = (*classTokenOp)(nil)
)
