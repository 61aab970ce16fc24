package main

import (
	"math"
	"runtime"
	"strings"
	"time"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/data/c4"
	"github.com/velora-go/velora/layers"
	"github.com/velora-go/velora/op"
	"github.com/velora-go/velora/optim"
	"github.com/velora-go/velora/peft"
	"github.com/velora-go/velora/train"
)

// Sizes is the model and batch every table trains.
type Sizes struct {
	LLaMA  layers.LLaMAConfig
	Batch  int
	Seq    int
	Warmup int // untimed steps before the timed ones
	Steps  int // timed steps
}

// defaultSizes is the bench's model: 4 layers, d = 256, intermediate 688,
// 4 heads, sequences of 256, batch 8, on the byte vocabulary.
func defaultSizes() Sizes {
	return Sizes{LLaMA: layers.LLaMAConfig{Hidden: 256, Intermediate: 688, Heads: 4, Layers: 4, Vocab: c4.ByteTokenizer{}.VocabSize(),
		MaxSeq: 256, RMSNormEps: 1e-6, RopeTheta: 10000, InitializerRange: 0.02}, Batch: 8, Seq: 256, Steps: 1}
}

// quickSizes are small enough for a test.
func quickSizes() Sizes {
	s := defaultSizes()
	s.LLaMA.Hidden, s.LLaMA.Intermediate, s.LLaMA.Heads, s.LLaMA.Layers = 32, 88, 2, 2
	s.Batch, s.Seq = 2, 32
	return s
}

// Executor runs a training step.
type Executor string

const (
	Machine      Executor = "machine"
	MachineFused Executor = "machine, fused update"
	Tape         Executor = "TapeMachine"
)

// Setup is one configuration to measure.
type Setup struct {
	Name    string
	Config  peft.Config
	Exec    Executor
	Kernels layers.Kernels // the block ops; the zero value is the fused ops

	// Recompute, when not nil, is the recomputation policy (train.WithRecompute).
	Recompute func([]layers.Block) func(*gorgonia.Node) bool
}

// Row is one measured configuration.
type Row struct {
	Name         string
	Setup        string           // the name of the setup measured, which the table may have renamed the row from
	KeptInputs   int64            // bytes of linear-layer inputs the backward pass keeps
	KeptByOp     map[string]int64 // bytes of forward values the backward pass reads, by the op that made them
	Memory       train.Memory     // exact peak split (TapeMachine: retained heap in Peak)
	StepSeconds  float64
	Loss         float64
	Compressions int // VeLoRA projections
	Trainable    int // trainable scalar parameters
	Recomputed   int // node evaluations recomputation adds to a step

	// RSS is the real memory, measured in a child process: rows of the
	// tables of rssTables, on Linux; nil elsewhere.
	RSS *RSS
}

// batch is one batch of the embedded corpus, bytes packed into rows.
func batch(s Sizes) (c4.Batch, error) {
	shards, err := c4.Default("train")
	if err != nil {
		return c4.Batch{}, err
	}
	stream, err := c4.NewStream(shards, c4.ByteTokenizer{}, c4.Config{SeqLen: s.Seq, BatchSize: s.Batch, Pack: true, Seed: 1})
	if err != nil {
		return c4.Batch{}, err
	}
	defer stream.Close()
	return stream.Next()
}

// measure trains the LLaMA of a setup and reports it.
func measure(u Setup, s Sizes) (Row, error) {
	if rssProbe.skips(u.Name) {
		return Row{Name: u.Name, Setup: u.Name}, nil
	}
	b, loss, err := buildLLaMA(u, s)
	if err != nil {
		return Row{}, err
	}
	return measureBuilt(u, b, loss, s.Warmup, s.Steps)
}

// buildLLaMA builds the LLaMA of s with the setup's config and kernels, on
// the first batch of the embedded corpus, and returns its loss.
func buildLLaMA(u Setup, s Sizes) (*layers.Builder, *gorgonia.Node, error) {
	return buildLLaMAWith(u, s, nil)
}

// buildLLaMAWith is buildLLaMA taking the weights params has and adding
// those it lacks (nil: new ones).
func buildLLaMAWith(u Setup, s Sizes, params *layers.Params) (*layers.Builder, *gorgonia.Node, error) {
	adapter, err := peft.Apply(u.Config, s.LLaMA)
	if err != nil {
		return nil, nil, err
	}
	b, err := layers.NewBuilder(params, tensor.Float32, adapter, 1)
	if err != nil {
		return nil, nil, err
	}
	b.Kernels = u.Kernels
	model, err := layers.NewLLaMA(b, s.LLaMA, s.Batch, s.Seq)
	if err != nil {
		return nil, nil, err
	}
	data, err := batch(s)
	if err != nil {
		return nil, nil, err
	}
	if err := model.SetBatch(data.Inputs, data.Targets); err != nil {
		return nil, nil, err
	}
	return b, model.Loss, nil
}

// newTrainer builds the LLaMA of s with cfg and its AdamW trainer.
func newTrainer(s Sizes, cfg peft.Config) (*train.Trainer, error) {
	b, loss, err := buildLLaMA(Setup{Config: cfg}, s)
	if err != nil {
		return nil, err
	}
	solver, err := optim.NewAdamW(optim.AdamConfig{LearningRate: 1e-3})
	if err != nil {
		return nil, err
	}
	return train.New(b, loss, solver)
}

// measureBuilt trains a built model with AdamW under the setup's executor:
// warmup untimed steps, then steps timed ones. The first step also makes
// v, the optimizer state and the buffer pool, costs every row pays alike.
func measureBuilt(u Setup, b *layers.Builder, loss *gorgonia.Node, warmup, steps int) (Row, error) {
	row := Row{Name: u.Name, Setup: u.Name, KeptInputs: keptLinearInputs(b.G), Compressions: len(b.Projections()), Trainable: peft.Summarize(b).TrainableParams}
	if u.Exec == Tape {
		return measureTape(row, b, loss, warmup, steps)
	}
	var opts []train.Option
	if lora, ok := b.Adapter.(*layers.LoRA); ok { // QLoRA's NF4 weights are not graph values
		opts = append(opts, train.WithExtraBytes(int64(lora.QuantizedBytes())))
	}
	newSolver := func() gorgonia.Solver {
		s, _ := optim.NewAdamW(optim.AdamConfig{LearningRate: 1e-3}) // a valid config: no error
		return s
	}
	solver := newSolver()
	if u.Exec == MachineFused {
		opts = append(opts, train.WithFusedUpdate(newSolver))
		solver = nil
	}
	if u.Recompute != nil {
		opts = append(opts, train.WithRecompute(u.Recompute))
	}
	t, err := train.New(b, loss, solver, opts...)
	if err != nil {
		return row, err
	}
	defer t.Close()
	planned := t.Machine.PlannedPeak()
	row.KeptByOp = keptByOp(b.G, loss)
	for i := 0; i < warmup; i++ {
		if _, err := t.Step(); err != nil {
			return row, errors.Wrap(err, u.Name)
		}
	}
	if err := rssProbe.start(); err != nil {
		return row, err
	}
	runtime.GC() // the garbage of the rows before (graphs, machines) would count in the step's Go heap
	start := time.Now()
	for i := 0; i < steps; i++ {
		if row.Loss, err = t.Step(); err != nil {
			return row, errors.Wrap(err, u.Name)
		}
	}
	row.StepSeconds = time.Since(start).Seconds() / float64(steps)
	if err := rssProbe.stop(); err != nil {
		return row, err
	}
	st := t.Machine.Stats()
	if st.PeakBytes != planned {
		return row, errors.Errorf("%s: the step's peak is %d bytes, but the machine planned %d", u.Name, st.PeakBytes, planned)
	}
	row.Recomputed = st.Recomputed
	if row.Memory, err = t.Memory(); err != nil {
		return row, err
	}
	if u.Exec == MachineFused {
		row.Memory.Optimizer = 2 * paramBytes(t.Params) // Adam's m and v, held by the per-parameter solvers
		row.Memory.Peak += row.Memory.Optimizer
	}
	return row, nil
}

// paramBytes is the memory of the parameters' values.
func paramBytes(ps gorgonia.Nodes) int64 {
	var n int64
	for _, p := range ps {
		n += int64(p.Shape().TotalSize()) * int64(p.Dtype().Size())
	}
	return n
}

// measureTape runs the step under gorgonia's TapeMachine, which keeps
// every value of the step bound to its node: its memory is the Go heap
// retained after a run (after two collections) minus before building it.
func measureTape(row Row, b *layers.Builder, loss *gorgonia.Node, warmup, steps int) (Row, error) {
	params := b.Learnables()
	if _, err := gorgonia.Grad(loss, params...); err != nil {
		return row, err
	}
	before := heapAlloc()
	vm := gorgonia.NewTapeMachine(b.G, gorgonia.BindDualValues(params...))
	defer vm.Close()
	solver, err := optim.NewAdamW(optim.AdamConfig{LearningRate: 1e-3})
	if err != nil {
		return row, err
	}
	step := func() error {
		defer vm.Reset()
		if err := vm.RunAll(); err != nil {
			return err
		}
		row.Loss = float64(loss.Value().Data().(float32))
		return solver.Step(gorgonia.NodesToValueGrads(params))
	}
	for i := 0; i < warmup; i++ {
		if err := step(); err != nil {
			return row, err
		}
	}
	if err := rssProbe.start(); err != nil {
		return row, err
	}
	start := time.Now()
	for i := 0; i < steps; i++ {
		if err := step(); err != nil {
			return row, err
		}
	}
	row.StepSeconds = time.Since(start).Seconds() / float64(steps)
	if err := rssProbe.stop(); err != nil {
		return row, err
	}
	if err := vm.RunAll(); err != nil { // leave the step's values bound, as during a step
		return row, err
	}
	// The parameters existed before the machine; everything else the step
	// holds (values, gradients, Adam's state) is in the retained heap.
	row.Memory.Params = int64(b.Params.Bytes())
	row.Memory.Optimizer = solver.StateBytes()
	row.Memory.RuntimeHeap = heapAlloc() - before + row.Memory.Params
	row.Memory.Peak = row.Memory.RuntimeHeap
	return row, nil
}

// heapAlloc is the live heap after two collections (machines set
// finalizers, so one is not enough).
func heapAlloc() int64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// keptLinearInputs sums the bytes of the distinct tensors that trained
// linear layers keep for their weight gradient: the input x of a plain
// MatMul, the compressed z of a VeLoRA Linear. An input shared by several
// layers counts once.
func keptLinearInputs(g *gorgonia.ExprGraph) int64 {
	kept := map[int64]int64{}
	for _, n := range g.AllNodes() {
		if c, ok := op.KeptInput(n); ok {
			kept[c.ID()] = int64(c.Shape().TotalSize()) * int64(c.Dtype().Size())
		}
	}
	var total int64
	for _, b := range kept {
		total += b
	}
	return total
}

// ratio is a / b, NaN when b is zero.
func ratio(a, b float64) float64 {
	if b == 0 {
		return math.NaN()
	}
	return a / b
}

// keptByOp sums, by the op that computed them, the bytes of the forward
// values (the loss's ancestors) that some gradient node reads: what the
// backward pass keeps alive. Leaves (parameters, data) are left out.
func keptByOp(g *gorgonia.ExprGraph, loss *gorgonia.Node) map[string]int64 {
	forward := map[int64]bool{}
	var walk func(n *gorgonia.Node)
	walk = func(n *gorgonia.Node) {
		if forward[n.ID()] {
			return
		}
		forward[n.ID()] = true
		children := g.From(n.ID())
		for children.Next() {
			walk(children.Node().(*gorgonia.Node))
		}
	}
	walk(loss)
	kept := map[int64]*gorgonia.Node{}
	for _, n := range g.AllNodes() {
		if forward[n.ID()] {
			continue
		}
		children := g.From(n.ID())
		for children.Next() {
			c := children.Node().(*gorgonia.Node)
			if forward[c.ID()] && c.Op() != nil {
				kept[c.ID()] = c
			}
		}
	}
	out := map[string]int64{}
	for _, n := range kept {
		out[opKind(n.Op().String())] += int64(n.Shape().TotalSize()) * int64(n.Dtype().Size())
	}
	return out
}

// opKind is an op's name without its parameters: gorgonia writes them in
// brackets, after '=' or as trailing flags ("⊙ false").
func opKind(s string) string {
	if i := strings.IndexAny(s, "{[(="); i > 0 {
		s = s[:i]
	}
	return strings.TrimSuffix(strings.TrimSuffix(s, " false"), " true")
}
