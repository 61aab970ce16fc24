package nn

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/internal/check"
	"github.com/velora-go/velora/kernel"
	"github.com/velora-go/velora/op/internal/opkit"
)

// CrossEntropy is the mean negative log-likelihood of integer targets under
// softmax(logits), PyTorch's F.cross_entropy with ignore_index:
// logits: (N, V), targets: (N) of dtype tensor.Int → a scalar,
//
//	loss = Σ_{i: targets[i] ≠ ignoreIndex} (lse_i − logits[i, targets[i]]) / count
//
// with lse_i = log Σ_j exp(logits[i, j]) and count the number of rows whose
// target is not ignoreIndex. When every row is ignored the loss and its
// gradient are 0 (PyTorch gives NaN): a batch of padding trains nothing.
//
// targets is a graph input like the data, so one graph trains on every
// batch: bind each batch's targets with gorgonia.Let before the run. Every
// target must lie in [0, V) or equal ignoreIndex, which may itself be a
// class (then that class is ignored, as in PyTorch); the check runs with
// the op, and at build time too when targets already has a value.
//
// The backward keeps the logits, the targets and lse: (N), computed in the
// forward pass as a node of its own and passed to the loss (as Linear does
// with z), never the (N, V) probabilities: the gradient
// (softmax(logits) − onehot(targets)) · g / count is recomputed from the
// logits and lse straight into its own buffer.
func CrossEntropy(logits, targets *gorgonia.Node, ignoreIndex int) (*gorgonia.Node, error) {
	if logits == nil {
		return nil, errors.New("nn: CrossEntropy: logits are nil")
	}
	if logits.Dims() != 2 {
		return nil, errors.Errorf("nn: CrossEntropy: logits %q have shape %v, expected (N, V)", logits.Name(), logits.Shape())
	}
	if err := opkit.CheckFloatDtype(logits.Dtype(), "nn: CrossEntropy logits"); err != nil {
		return nil, err
	}
	if err := checkIDs(targets, "nn: CrossEntropy targets"); err != nil {
		return nil, err
	}
	if logits.Graph() != targets.Graph() {
		return nil, errors.Errorf("nn: CrossEntropy: logits %q and targets %q belong to different graphs, expected one", logits.Name(), targets.Name())
	}
	n, v := logits.Shape()[0], logits.Shape()[1]
	if targets.Shape()[0] != n {
		return nil, errors.Errorf("nn: CrossEntropy: %d targets in %q for %d rows of logits %q %v", targets.Shape()[0], targets.Name(), n, logits.Name(), logits.Shape())
	}
	if tv := targets.Value(); tv != nil {
		if err := checkTargets(tv.Data().([]int), v, ignoreIndex); err != nil {
			return nil, errors.Errorf("nn: CrossEntropy: targets %q: %v", targets.Name(), err)
		}
	}
	lse, err := gorgonia.ApplyOp(crossEntropyLSEOp{}, logits)
	if err != nil {
		return nil, check.Wrap(err, "nn: CrossEntropy log-sum-exp")
	}
	return gorgonia.ApplyOp(&crossEntropyOp{ignore: ignoreIndex}, logits, targets, lse)
}

// checkTargets checks that every target is a class of [0, v) or ignore.
func checkTargets(targets []int, v, ignore int) error {
	for i, t := range targets {
		if (t < 0 || t >= v) && t != ignore {
			return errors.Errorf("target %d of row %d, expected a class in [0, %d) or the ignore index %d", t, i, v, ignore)
		}
	}
	return nil
}

// checkCrossEntropyValues checks the values (logits, targets, lse, ...).
func checkCrossEntropyValues(in []*tensor.Dense, ignore int) error {
	logits, targets, lse := in[0], in[1], in[2]
	if _, err := opkit.SameFloat(logits, lse); err != nil {
		return err
	}
	ids, ok := targets.Data().([]int)
	if !ok || logits.Dims() != 2 || !lse.Shape().Eq(tensor.Shape{logits.Shape()[0]}) || len(ids) != logits.Shape()[0] {
		return errors.Errorf("logits %v, targets %v %v and lse %v, expected (N, V), int (N) and (N)",
			logits.Shape(), targets.Dtype(), targets.Shape(), lse.Shape())
	}
	return checkTargets(ids, logits.Shape()[1], ignore)
}

// crossEntropyOp computes the loss from (logits, targets, lse). Its result
// is a scalar, which fills no buffer: it has no UsePreallocDo.
type crossEntropyOp struct {
	opkit.Pure
	ignore int
}

func (o *crossEntropyOp) Arity() int { return 3 }

func (o *crossEntropyOp) Type() hm.Type {
	return hm.NewFnType(opkit.TensorType(2), idType(), opkit.TensorType(1), hm.TypeVariable('a'))
}

func (o *crossEntropyOp) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) {
	return tensor.ScalarShape(), nil
}

func (o *crossEntropyOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v", o) }

func (o *crossEntropyOp) Hashcode() uint32 { return opkit.Hash(o) }

func (o *crossEntropyOp) String() string { return fmt.Sprintf("CrossEntropy{ignore=%d}", o.ignore) }

// Do computes the loss, a scalar: Run's results are tensors.
func (o *crossEntropyOp) Do(vs ...gorgonia.Value) (gorgonia.Value, error) {
	in, err := opkit.Tensors(vs)
	if err == nil {
		err = checkCrossEntropyValues(in, o.ignore)
	}
	if err != nil {
		return nil, opkit.Errorf(o, "%v", err)
	}
	logits, targets, lse := in[0], in[1].Data().([]int), in[2]
	switch ld := logits.Data().(type) {
	case []float32:
		return gorgonia.NewF32(float32(crossEntropyLoss(ld, targets, lse.Data().([]float32), o.ignore))), nil
	default:
		return gorgonia.NewF64(crossEntropyLoss(ld.([]float64), targets, lse.Data().([]float64), o.ignore)), nil
	}
}

// crossEntropyLoss is the mean of lse[i] − logits[i, targets[i]] over the
// rows not ignored, accumulated in float64; 0 when all are.
func crossEntropyLoss[T opkit.Float](logits []T, targets []int, lse []T, ignore int) float64 {
	v := len(logits) / len(targets)
	var sum float64
	count := 0
	for i, t := range targets {
		if t == ignore {
			continue
		}
		sum += float64(lse[i]) - float64(logits[i*v+t])
		count++
	}
	if count == 0 {
		return 0
	}
	return sum / float64(count)
}

func (o *crossEntropyOp) DiffWRT(int) []bool { return []bool{true, false, false} }

func (o *crossEntropyOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	gl, err := gorgonia.ApplyOp(&crossEntropyGradOp{ignore: o.ignore}, inputs[0], inputs[1], inputs[2], grad)
	if err != nil {
		return nil, check.Wrapf(err, "nn: %v gradient", o)
	}
	return gorgonia.Nodes{gl, nil, nil}, nil
}

func (o *crossEntropyOp) DoDiff(ctx gorgonia.ExecutionContext, inputs gorgonia.Nodes, output *gorgonia.Node) error {
	g, err := opkit.OutputGrad(o, output)
	if err != nil {
		return err
	}
	return opkit.AddGradient(inputs[0], &crossEntropyGradOp{ignore: o.ignore}, append(opkit.NodeValues(inputs), g)...)
}

// crossEntropyLSEOp computes lse: (N), the log-sum-exp of every row of the
// logits: (N, V).
type crossEntropyLSEOp struct{ opkit.Pure }

func (o crossEntropyLSEOp) Arity() int { return 1 }

func (o crossEntropyLSEOp) Type() hm.Type {
	return hm.NewFnType(opkit.TensorType(2), opkit.TensorType(1))
}

func (o crossEntropyLSEOp) InferShape(ds ...gorgonia.DimSizer) (tensor.Shape, error) {
	n, err := ds[0].DimSize(0)
	if err != nil {
		return nil, err
	}
	return tensor.Shape{n}, nil
}

func (o crossEntropyLSEOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v", o) }

func (o crossEntropyLSEOp) Hashcode() uint32 { return opkit.Hash(o) }

func (o crossEntropyLSEOp) String() string { return "CrossEntropyLSE" }

func (o crossEntropyLSEOp) Do(vs ...gorgonia.Value) (gorgonia.Value, error) {
	return opkit.Run(o, nil, vs)
}

func (o crossEntropyLSEOp) UsePreallocDo(prealloc gorgonia.Value, vs ...gorgonia.Value) (gorgonia.Value, error) {
	return opkit.Run(o, prealloc, vs)
}

func (o crossEntropyLSEOp) Result(in []*tensor.Dense) (tensor.Dtype, tensor.Shape, error) {
	logits := in[0]
	dt, err := opkit.SameFloat(logits)
	if err == nil && logits.Dims() != 2 {
		err = errors.Errorf("logits %v, expected (N, V)", logits.Shape())
	}
	if err != nil {
		return dt, nil, err
	}
	return dt, tensor.Shape{logits.Shape()[0]}, nil
}

func (o crossEntropyLSEOp) Compute(out *tensor.Dense, in []*tensor.Dense) error {
	switch od := out.Data().(type) {
	case []float64:
		rowLogSumExp(od, in[0].Data().([]float64))
	case []float32:
		rowLogSumExp(od, in[0].Data().([]float32))
	}
	return nil
}

// rowLogSumExp writes the log-sum-exp of each of the len(lse) rows of x,
// rows split across goroutines.
func rowLogSumExp[T opkit.Float](lse, x []T) {
	v := len(x) / len(lse)
	kernel.ParallelRows(len(lse), v, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			lse[i] = kernel.LogSumExp(x[i*v : (i+1)*v])
		}
	})
}

// crossEntropyGradOp computes the loss's gradient for the logits from
// (logits, targets, lse, g), g the loss's scalar gradient:
// (softmax(logits) − onehot(targets)) · g / count, zero in ignored rows.
type crossEntropyGradOp struct {
	opkit.Pure
	ignore int
}

func (o *crossEntropyGradOp) Arity() int { return 4 }

func (o *crossEntropyGradOp) Type() hm.Type {
	return hm.NewFnType(opkit.TensorType(2), idType(), opkit.TensorType(1), hm.TypeVariable('a'), opkit.TensorType(2))
}

func (o *crossEntropyGradOp) InferShape(ds ...gorgonia.DimSizer) (tensor.Shape, error) {
	s, ok := ds[0].(tensor.Shape)
	if !ok || len(s) != 2 {
		return nil, opkit.Errorf(o, "logits shape %v, expected (N, V)", ds[0])
	}
	return s.Clone(), nil
}

func (o *crossEntropyGradOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v", o) }

func (o *crossEntropyGradOp) Hashcode() uint32 { return opkit.Hash(o) }

func (o *crossEntropyGradOp) String() string {
	return fmt.Sprintf("CrossEntropyGrad{ignore=%d}", o.ignore)
}

func (o *crossEntropyGradOp) Do(vs ...gorgonia.Value) (gorgonia.Value, error) {
	return opkit.Run(o, nil, vs)
}

func (o *crossEntropyGradOp) UsePreallocDo(prealloc gorgonia.Value, vs ...gorgonia.Value) (gorgonia.Value, error) {
	return opkit.Run(o, prealloc, vs)
}

func (o *crossEntropyGradOp) Result(in []*tensor.Dense) (tensor.Dtype, tensor.Shape, error) {
	if err := checkCrossEntropyValues(in, o.ignore); err != nil {
		return tensor.Dtype{}, nil, err
	}
	if g := in[3]; !g.IsScalar() || g.Dtype() != in[0].Dtype() {
		return tensor.Dtype{}, nil, errors.Errorf("output gradient is %v %v, expected a %v scalar", g.Dtype(), g.Shape(), in[0].Dtype())
	}
	return in[0].Dtype(), in[0].Shape(), nil
}

func (o *crossEntropyGradOp) Compute(out *tensor.Dense, in []*tensor.Dense) error {
	logits, targets, lse := in[0], in[1].Data().([]int), in[2]
	switch od := out.Data().(type) {
	case []float64:
		crossEntropyGrad(od, logits.Data().([]float64), targets, lse.Data().([]float64), o.ignore, in[3].Data().(float64))
	case []float32:
		crossEntropyGrad(od, logits.Data().([]float32), targets, lse.Data().([]float32), o.ignore, float64(in[3].Data().(float32)))
	}
	return nil
}

// crossEntropyGrad writes (exp(logits − lse) − onehot(targets)) · g / count
// into out, zero rows where the target is ignored.
func crossEntropyGrad[T opkit.Float](out, logits []T, targets []int, lse []T, ignore int, g float64) {
	v := len(logits) / len(targets)
	count := 0
	for _, t := range targets {
		if t != ignore {
			count++
		}
	}
	for i, t := range targets {
		row, orow := logits[i*v:(i+1)*v], out[i*v:(i+1)*v]
		if t == ignore {
			clear(orow)
			continue
		}
		scale := T(g / float64(count))
		kernel.ExpShift(orow, row, lse[i], scale)
		orow[t] -= scale
	}
}

var (
	_ gorgonia.Op              = (*crossEntropyOp)(nil)
	_ gorgonia.SDOp            = (*crossEntropyOp)(nil)
	_ gorgonia.ADOp            = (*crossEntropyOp)(nil)
	_ gorgonia.Op              = crossEntropyLSEOp{}
	_ gorgonia.UsePreallocDoer = crossEntropyLSEOp{}
	_ gorgonia.Op              = (*crossEntropyGradOp)(nil)
	_ gorgonia.UsePreallocDoer = (*crossEntropyGradOp)(nil)
)
