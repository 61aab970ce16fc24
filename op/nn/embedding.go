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

// Embedding looks up rows of a table: table: (V, D), ids: (N) of dtype
// tensor.Int → (N, D), row i = table[ids[i]]. ids is a graph input the
// caller sets before every run (gorgonia.Let). The table's gradient is the
// scatter-add of the output gradient's rows; ids get none.
func Embedding(table, ids *gorgonia.Node) (*gorgonia.Node, error) {
	if err := opkit.CheckMatrix(table, "embedding table"); err != nil {
		return nil, err
	}
	if err := checkIDs(ids, "embedding ids"); err != nil {
		return nil, err
	}
	return gorgonia.ApplyOp(&embeddingOp{}, table, ids)
}

// checkIDs checks that ids is a vector of tensor.Int.
func checkIDs(ids *gorgonia.Node, what string) error {
	if ids == nil {
		return errors.Errorf("op: %s is nil", what)
	}
	if ids.Dims() != 1 || ids.Dtype() != tensor.Int {
		return errors.Errorf("op: %s %q is %v %v, expected a vector of int", what, ids.Name(), ids.Dtype(), ids.Shape())
	}
	return nil
}

// idType is the type of a vector of token ids.
func idType() gorgonia.TensorType { return gorgonia.TensorType{Dims: 1, Of: tensor.Int} }

// embeddingOp gathers rows (scatter is false) or scatter-adds the rows of a
// gradient into a (V, D) table gradient (scatter is true, vocab set).
type embeddingOp struct {
	opkit.Pure
	scatter bool
	vocab   int
}

func (o *embeddingOp) Arity() int { return 2 }

func (o *embeddingOp) Type() hm.Type {
	return hm.NewFnType(opkit.TensorType(2), idType(), opkit.TensorType(2))
}

func (o *embeddingOp) InferShape(ds ...gorgonia.DimSizer) (tensor.Shape, error) {
	d, err := ds[0].DimSize(1)
	if err != nil {
		return nil, err
	}
	if o.scatter {
		return tensor.Shape{o.vocab, d}, nil
	}
	n, err := ds[1].DimSize(0)
	if err != nil {
		return nil, err
	}
	return tensor.Shape{n, d}, nil
}

func (o *embeddingOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v", o) }

func (o *embeddingOp) Hashcode() uint32 { return opkit.Hash(o) }

func (o *embeddingOp) String() string {
	if o.scatter {
		return fmt.Sprintf("EmbeddingGrad{V=%d}", o.vocab)
	}
	return "Embedding"
}

func (o *embeddingOp) Do(vs ...gorgonia.Value) (gorgonia.Value, error) {
	src, err := opkit.Dense(vs[0])
	if err != nil {
		return nil, errors.Wrapf(err, "%v", o)
	}
	s, err := o.InferShape(src.Shape(), vs[1].Shape())
	if err != nil {
		return nil, errors.Wrapf(err, "%v", o)
	}
	return o.UsePreallocDo(opkit.Zeros(src.Dtype(), s...), vs...)
}

func (o *embeddingOp) UsePreallocDo(prealloc gorgonia.Value, vs ...gorgonia.Value) (gorgonia.Value, error) {
	src, err := opkit.Dense(vs[0])
	if err != nil {
		return nil, errors.Wrapf(err, "%v", o)
	}
	ids, ok := vs[1].Data().([]int)
	if !ok || src.Dims() != 2 {
		return nil, errors.Errorf("op: %v: inputs %v %v and %v %v, expected a float matrix and int ids", o, src.Dtype(), src.Shape(), vs[1].Dtype(), vs[1].Shape())
	}
	s, err := o.InferShape(src.Shape(), vs[1].Shape())
	if err != nil {
		return nil, errors.Wrapf(err, "%v", o)
	}
	out, err := opkit.CheckPrealloc(prealloc, src.Dtype(), s...)
	if err != nil {
		return nil, errors.Wrapf(err, "%v", o)
	}
	vocab := src.Shape()[0]
	if o.scatter {
		vocab = o.vocab
		if len(ids) != src.Shape()[0] {
			return nil, errors.Errorf("op: %v: %d ids for %d gradient rows", o, len(ids), src.Shape()[0])
		}
	}
	for i, id := range ids {
		if id < 0 || id >= vocab {
			return nil, errors.Errorf("op: %v: id %d at position %d is outside the vocabulary [0, %d)", o, id, i, vocab)
		}
	}
	switch od := out.Data().(type) {
	case []float64:
		gatherRows(o.scatter, od, src.Data().([]float64), ids, s[1])
	case []float32:
		gatherRows(o.scatter, od, src.Data().([]float32), ids, s[1])
	}
	return out, nil
}

// gatherRows copies src[ids[i]] to out[i], or with scatter adds src[i] to
// out[ids[i]] (out zeroed first).
func gatherRows[T opkit.Float](scatter bool, out, src []T, ids []int, d int) {
	if !scatter {
		for i, id := range ids {
			copy(out[i*d:(i+1)*d], src[id*d:(id+1)*d])
		}
		return
	}
	clear(out)
	for i, id := range ids {
		dst := out[id*d : (id+1)*d]
		for j, x := range src[i*d : (i+1)*d] {
			dst[j] += x
		}
	}
}

func (o *embeddingOp) scatterOp(vocab int) *embeddingOp {
	return &embeddingOp{scatter: true, vocab: vocab}
}

func (o *embeddingOp) DiffWRT(int) []bool { return []bool{!o.scatter, false} }

func (o *embeddingOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	gt, err := gorgonia.ApplyOp(o.scatterOp(inputs[0].Shape()[0]), grad, inputs[1])
	if err != nil {
		return nil, errors.Wrap(err, "embedding gradient")
	}
	return gorgonia.Nodes{gt, nil}, nil
}

func (o *embeddingOp) DoDiff(ctx gorgonia.ExecutionContext, inputs gorgonia.Nodes, output *gorgonia.Node) error {
	g, err := output.Grad()
	if err != nil {
		return errors.Wrap(err, "embedding gradient")
	}
	gt, err := o.scatterOp(inputs[0].Shape()[0]).Do(g, inputs[1].Value())
	if err != nil {
		return errors.Wrap(err, "embedding gradient")
	}
	return opkit.AccumulateGrad(inputs[0], gt.(*tensor.Dense))
}

var (
	_ gorgonia.Op              = (*embeddingOp)(nil)
	_ gorgonia.SDOp            = (*embeddingOp)(nil)
	_ gorgonia.ADOp            = (*embeddingOp)(nil)
	_ gorgonia.UsePreallocDoer = (*embeddingOp)(nil)
)
