package nn

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/op/internal/opkit"
)

// Columns copies a block of columns: x: (N, D) → x[:, from:to]: (N, to−from),
// contiguous (ViT's merged qkv projection is split into q, k and v this
// way). Its gradient is g placed in those columns of an (N, D) zero matrix.
func Columns(x *gorgonia.Node, from, to int) (*gorgonia.Node, error) {
	if err := opkit.CheckMatrix(x, "nn: Columns input"); err != nil {
		return nil, err
	}
	if d := x.Shape()[1]; from < 0 || to > d || from >= to {
		return nil, errors.Errorf("nn: Columns [%d, %d) of %q, expected 0 ≤ from < to ≤ %d", from, to, x.Name(), d)
	}
	return gorgonia.ApplyOp(&columnsOp{from: from, to: to, width: x.Shape()[1]}, x)
}

// columnsOp cuts columns [from, to) of an (N, width) matrix, or with place
// set writes an (N, to−from) matrix into those columns of zeros.
type columnsOp struct {
	opkit.Pure
	opkit.Cheap
	from, to, width int
	place           bool
}

func (o *columnsOp) Arity() int { return 1 }

func (o *columnsOp) Type() hm.Type { return hm.NewFnType(opkit.TensorType(2), opkit.TensorType(2)) }

func (o *columnsOp) InferShape(ds ...gorgonia.DimSizer) (tensor.Shape, error) {
	n, err := ds[0].DimSize(0)
	if err != nil {
		return nil, err
	}
	if o.place {
		return tensor.Shape{n, o.width}, nil
	}
	return tensor.Shape{n, o.to - o.from}, nil
}

func (o *columnsOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v", o) }

func (o *columnsOp) Hashcode() uint32 { return opkit.Hash(o) }

func (o *columnsOp) String() string {
	if o.place {
		return fmt.Sprintf("PlaceColumns[%d:%d of %d]", o.from, o.to, o.width)
	}
	return fmt.Sprintf("Columns[%d:%d of %d]", o.from, o.to, o.width)
}

func (o *columnsOp) Do(vs ...gorgonia.Value) (gorgonia.Value, error) { return opkit.Run(o, nil, vs) }
func (o *columnsOp) UsePreallocDo(prealloc gorgonia.Value, vs ...gorgonia.Value) (gorgonia.Value, error) {
	return opkit.Run(o, prealloc, vs)
}

func (o *columnsOp) Result(in []*tensor.Dense) (tensor.Dtype, tensor.Shape, error) {
	x := in[0]
	dt, err := opkit.SameFloat(x)
	if err != nil {
		return dt, nil, err
	}
	inWidth := o.width
	if o.place {
		inWidth = o.to - o.from
	}
	if x.Dims() != 2 || x.Shape()[1] != inWidth {
		return dt, nil, errors.Errorf("input shape %v, expected (N, %d)", x.Shape(), inWidth)
	}
	s, err := o.InferShape(x.Shape())
	return dt, s, err
}

func (o *columnsOp) Compute(out *tensor.Dense, in []*tensor.Dense) error {
	switch od := out.Data().(type) {
	case []float64:
		moveColumns(o, od, in[0].Data().([]float64))
	case []float32:
		moveColumns(o, od, in[0].Data().([]float32))
	}
	return nil
}

// moveColumns cuts the column block out of x, or places x into it.
func moveColumns[T opkit.Float](o *columnsOp, out, x []T) {
	w := o.to - o.from
	wide, narrow := x, out
	if o.place {
		wide, narrow = out, x
		clear(out)
	}
	for r := 0; r*w < len(narrow); r++ {
		block, row := wide[r*o.width+o.from:r*o.width+o.to], narrow[r*w:(r+1)*w]
		if o.place {
			copy(block, row)
		} else {
			copy(row, block)
		}
	}
}

func (o *columnsOp) placeOp() *columnsOp {
	return &columnsOp{from: o.from, to: o.to, width: o.width, place: true}
}

func (o *columnsOp) DiffWRT(int) []bool { return []bool{!o.place} }

func (o *columnsOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	return opkit.SymDiffBy(o, o.placeOp(), grad)
}

func (o *columnsOp) DoDiff(ctx gorgonia.ExecutionContext, inputs gorgonia.Nodes, output *gorgonia.Node) error {
	if o.place {
		return nil
	}
	return opkit.DoDiffBy(o, o.placeOp(), inputs[0], output)
}

var (
	_ gorgonia.Op              = (*columnsOp)(nil)
	_ gorgonia.SDOp            = (*columnsOp)(nil)
	_ gorgonia.ADOp            = (*columnsOp)(nil)
	_ gorgonia.UsePreallocDoer = (*columnsOp)(nil)
)
