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

// Embedding looks up rows of a table: table: (V, D), ids: (N) of dtype
// tensor.Int → (N, D), row i = table[ids[i]]. ids is a graph input the
// caller sets before every run (gorgonia.Let). The table's gradient is the
// scatter-add of the output gradient's rows; ids get none.
func Embedding(table, ids *gorgonia.Node) (*gorgonia.Node, error) {
	if err := opkit.CheckMatrix(table, "nn: Embedding table"); err != nil {
		return nil, err
	}
	if err := checkIDs(ids, "nn: Embedding ids"); err != nil {
		return nil, err
	}
	if table.Graph() != ids.Graph() {
		return nil, errors.Errorf("nn: Embedding: table %q and ids %q belong to different graphs, expected one", table.Name(), ids.Name())
	}
	return gorgonia.ApplyOp(&embeddingOp{}, table, ids)
}

// checkIDs checks that ids is a vector of tensor.Int.
func checkIDs(ids *gorgonia.Node, what string) error {
	if ids == nil {
		return errors.Errorf("%s is nil", what)
	}
	if ids.Dims() != 1 || ids.Dtype() != tensor.Int {
		return errors.Errorf("%s %q is %v %v, expected a vector of int", what, ids.Name(), ids.Dtype(), ids.Shape())
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

func (o *embeddingOp) Do(vs ...gorgonia.Value) (gorgonia.Value, error) { return opkit.Run(o, nil, vs) }
func (o *embeddingOp) UsePreallocDo(prealloc gorgonia.Value, vs ...gorgonia.Value) (gorgonia.Value, error) {
	return opkit.Run(o, prealloc, vs)
}

func (o *embeddingOp) Result(in []*tensor.Dense) (tensor.Dtype, tensor.Shape, error) {
	src := in[0]
	ids, ok := in[1].Data().([]int)
	if _, err := opkit.SameFloat(src); err != nil || !ok || src.Dims() != 2 || in[1].Dims() != 1 {
		return tensor.Dtype{}, nil, errors.Errorf("inputs %v %v and %v %v, expected a float matrix and a vector of int ids", src.Dtype(), src.Shape(), in[1].Dtype(), in[1].Shape())
	}
	vocab, rows := src.Shape()[0], len(ids)
	if o.scatter {
		vocab, rows = o.vocab, o.vocab
		if len(ids) != src.Shape()[0] {
			return tensor.Dtype{}, nil, errors.Errorf("%d ids for %d gradient rows, expected one per row", len(ids), src.Shape()[0])
		}
	}
	for i, id := range ids {
		if id < 0 || id >= vocab {
			return tensor.Dtype{}, nil, errors.Errorf("id %d at position %d, expected one in the vocabulary [0, %d)", id, i, vocab)
		}
	}
	return src.Dtype(), tensor.Shape{rows, src.Shape()[1]}, nil
}

func (o *embeddingOp) Compute(out *tensor.Dense, in []*tensor.Dense) error {
	ids, d := in[1].Data().([]int), out.Shape()[1]
	switch od := out.Data().(type) {
	case []float64:
		gatherRows(o.scatter, od, in[0].Data().([]float64), ids, d)
	case []float32:
		gatherRows(o.scatter, od, in[0].Data().([]float32), ids, d)
	}
	return nil
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
		return nil, check.Wrap(err, "nn: Embedding gradient")
	}
	return gorgonia.Nodes{gt, nil}, nil
}

func (o *embeddingOp) DoDiff(ctx gorgonia.ExecutionContext, inputs gorgonia.Nodes, output *gorgonia.Node) error {
	g, err := opkit.OutputGrad(o, output)
	if err != nil {
		return err
	}
	return opkit.AddGradient(inputs[0], o.scatterOp(inputs[0].Shape()[0]), g, inputs[1].Value())
}

var (
	_ gorgonia.Op              = (*embeddingOp)(nil)
	_ gorgonia.SDOp            = (*embeddingOp)(nil)
	_ gorgonia.ADOp            = (*embeddingOp)(nil)
	_ gorgonia.UsePreallocDoer = (*embeddingOp)(nil)
)
