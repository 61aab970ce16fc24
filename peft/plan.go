package peft

import (
	"fmt"
	"strings"
	"time"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"

	"github.com/velora-go/velora/internal/check"
	"github.com/velora-go/velora/layers"
	"github.com/velora-go/velora/optim"
	"github.com/velora-go/velora/train"
)

// A Choice is one way to run a training step of a model whose method is fixed: what
// VeLoRA compresses, what is recomputed, whether the update is fused. The planner weighs
// choices by their exact planned peak and by time.
type Choice struct {
	VeLoRA       string // what VeLoRA compresses: "" nothing, "default" VeLoRAConfig's default, else a VeLoRAConfig.Layers list
	SubTokenSize int    // VeLoRA's M; 0 without VeLoRA
	ZDtype       string // VeLoRAConfig.ZDtype: "" z in the model's dtype, "bf16"
	Recompute    string // "", "selective" (layers.RecomputeCheap), "expansion" (layers.RecomputeExpansion) or "blocks" (layers.CheckpointBlocks)
	Fused        bool   // the fused update: each parameter steps once its gradient exists

	PeakBytes   int64   // the step's planned peak: the machine's plus the optimizer's state and NF4 weights
	StepSeconds float64 // one timed step after one untimed; 0 when not timed
}

// RecomputePolicy returns the recomputation policy a Choice names: layers.RecomputeCheap
// for "selective", layers.RecomputeExpansion for "expansion", layers.CheckpointBlocks for
// "blocks", nil for "".
func RecomputePolicy(name string) func([]layers.Block) func(*gorgonia.Node) bool {
	return map[string]func([]layers.Block) func(*gorgonia.Node) bool{
		"selective": layers.RecomputeCheap,
		"expansion": layers.RecomputeExpansion,
		"blocks":    layers.CheckpointBlocks,
	}[name]
}

// String describes the choice in words, e.g. "VeLoRA on its default projections at M = 16".
func (c Choice) String() string {
	parts := []string{"no VeLoRA"}
	switch c.VeLoRA {
	case "":
	case "default":
		parts[0] = fmt.Sprintf("VeLoRA on its default projections at M = %d", c.SubTokenSize)
	default:
		parts[0] = fmt.Sprintf("VeLoRA on %s at M = %d", c.VeLoRA, c.SubTokenSize)
	}
	if c.ZDtype != "" {
		parts[0] += ", z in " + c.ZDtype
	}
	switch c.Recompute {
	case "selective":
		parts = append(parts, "selective recomputation")
	case "expansion":
		parts = append(parts, "selective recomputation with the MLP expansion")
	case "blocks":
		parts = append(parts, "checkpointing per block")
	}
	if c.Fused {
		parts = append(parts, "fused update")
	}
	return strings.Join(parts, ", ")
}

// PlanRequest is what Plan needs: the method, the architecture, how to build the model,
// and the budget.
type PlanRequest struct {
	// Config is the training method. Its VeLoRA must be nil: the planner chooses it.
	Config Config
	// Arch is the model's architecture, which the candidates' selections resolve against.
	Arch layers.Architecture
	// Build builds the model with cfg's adapter on a new builder, with a batch bound, and
	// returns the builder and the loss. Every candidate is built once.
	Build func(cfg Config) (*layers.Builder, *gorgonia.Node, error)
	// Budget is the most bytes the step may hold at its peak, optimizer state included.
	Budget int64
	// Timed is how many of the fitting candidates, taken in the order of Candidates, are
	// timed; the fastest wins. Zero takes the first fitting candidate untimed.
	Timed int
	// Planned, when not nil, are the candidates of an earlier PlanResult for the same
	// model and method, whose planned peaks Plan then reuses instead of building every
	// candidate again.
	Planned []Choice
}

// PlanResult is the planner's answer: the choice, and every candidate with its planned
// peak (the timed ones with their time), in the order they were considered.
type PlanResult struct {
	Choice     Choice   // the chosen candidate
	Candidates []Choice // every candidate considered, in order
}

// Plan chooses how to run a training step within req.Budget bytes: among Candidates, the
// fitting ones are those whose exact planned peak (machine.PlannedPeak, AdamW's two
// moments per trainable value, QLoRA's NF4 weights) is within budget, found without a
// training run; the first Timed of them are timed for one step each, and the fastest
// wins. A budget nothing fits is an error that gives the smallest peak reachable.
func Plan(req PlanRequest) (PlanResult, error) {
	var res PlanResult
	if req.Build == nil || req.Arch == nil {
		return res, errors.New("peft: plan: Build and Arch are required")
	}
	if req.Config.VeLoRA != nil {
		return res, errors.New("peft: plan: Config.VeLoRA is set; the planner chooses it, expected nil")
	}
	if req.Budget <= 0 || req.Timed < 0 {
		return res, errors.Errorf("peft: plan: budget %d bytes and %d timed, expected a positive budget and a count ≥ 0", req.Budget, req.Timed)
	}
	if req.Planned != nil {
		res.Candidates = append([]Choice(nil), req.Planned...)
	} else {
		var err error
		if res.Candidates, err = planAll(req); err != nil {
			return res, err
		}
	}
	var fitting []int
	smallest := 0
	for k, c := range res.Candidates {
		c.StepSeconds = 0
		if c.PeakBytes < res.Candidates[smallest].PeakBytes {
			smallest = k
		}
		if c.PeakBytes <= req.Budget {
			fitting = append(fitting, k)
		}
	}
	if len(fitting) == 0 {
		s := res.Candidates[smallest]
		return res, errors.Errorf("peft: plan: no choice fits %s: the smallest planned peak is %s, with %v", mib(req.Budget), mib(s.PeakBytes), s)
	}
	best := fitting[0]
	for _, k := range fitting[:min(req.Timed, len(fitting))] {
		secs, err := timeStep(req, res.Candidates[k])
		if err != nil {
			return res, check.Wrapf(err, "peft: plan: timing %v", res.Candidates[k])
		}
		res.Candidates[k].StepSeconds = secs
		if secs < res.Candidates[best].StepSeconds || res.Candidates[best].StepSeconds == 0 {
			best = k
		}
	}
	res.Choice = res.Candidates[best]
	return res, nil
}

// planAll plans the peak of every candidate the method and model can take.
func planAll(req PlanRequest) ([]Choice, error) {
	var out []Choice
	var invalid error
	for _, c := range Candidates(req.Config, req.Arch) {
		if _, err := Apply(c.Config(req.Config), req.Arch); err != nil {
			invalid = err // a selection this method or model cannot take
			continue
		}
		peak, err := plannedPeak(req, c)
		if err != nil {
			return nil, check.Wrapf(err, "peft: plan: %v", c)
		}
		c.PeakBytes = peak
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, check.Wrap(invalid, "peft: plan: no candidate is valid")
	}
	return out, nil
}

// Candidates lists the choices Plan considers for a method on an architecture, the
// cheapest in time and accuracy first: no recomputation before selective, then selective
// with the MLP expansion, then per-block (recomputation costs time), no VeLoRA before VeLoRA's default projections
// ("default") before all of them; for each, M = 16 with z in the model's dtype, then in
// bfloat16 (0.2% more error than VeLoRA's own, half its bytes), then M = 32 in bfloat16;
// unfused before fused. Plan skips those the method or model cannot take.
func Candidates(cfg Config, arch layers.Architecture) []Choice {
	type zm struct {
		m int
		z string
	}
	compressions := []zm{{16, ""}, {16, "bf16"}, {32, "bf16"}}
	selections := []struct {
		layers string
		ms     []zm
	}{{"", []zm{{0, ""}}}, {"default", compressions}, {strings.Join(arch.ProjectionNames(), ", "), compressions}}
	if cfg.Method == MethodLinearProbe {
		selections = selections[:1] // it trains no linear layer VeLoRA could compress
	}
	var out []Choice
	for _, recompute := range []string{"", "selective", "expansion", "blocks"} {
		for _, sel := range selections {
			for _, m := range sel.ms {
				for _, fused := range []bool{false, true} {
					out = append(out, Choice{VeLoRA: sel.layers, SubTokenSize: m.m, ZDtype: m.z, Recompute: recompute, Fused: fused})
				}
			}
		}
	}
	return out
}

// Config returns the method's Config with the choice's VeLoRA.
func (c Choice) Config(base Config) Config {
	if c.VeLoRA == "" {
		return base
	}
	v := &VeLoRAConfig{SubTokenSize: c.SubTokenSize, ZDtype: c.ZDtype}
	if c.VeLoRA != "default" {
		v.Layers = c.VeLoRA
	}
	base.VeLoRA = v
	return base
}

// trainer builds the candidate's model and its AdamW trainer.
func trainer(req PlanRequest, c Choice) (*train.Trainer, int64, error) {
	b, loss, err := req.Build(c.Config(req.Config))
	if err != nil {
		return nil, 0, err
	}
	newSolver := func() gorgonia.Solver {
		s, _ := optim.NewAdamW(optim.AdamConfig{}) // the default config is valid
		return s
	}
	var opts []train.Option
	solver := newSolver()
	if c.Fused {
		opts = append(opts, train.WithFusedUpdate(newSolver))
		solver = nil
	}
	if c.Recompute != "" {
		opts = append(opts, train.WithRecompute(RecomputePolicy(c.Recompute)))
	}
	var extra int64
	if lora, ok := b.Adapter.(*layers.LoRA); ok {
		extra = int64(lora.QuantizedBytes())
	}
	t, err := train.New(b, loss, solver, opts...)
	return t, extra, err
}

// plannedPeak is the candidate's peak without a run: the machine's planned peak, AdamW's
// two moments of every trainable value, and QLoRA's NF4 weights.
func plannedPeak(req PlanRequest, c Choice) (int64, error) {
	t, extra, err := trainer(req, c)
	if err != nil {
		return 0, err
	}
	defer t.Close()
	var params int64
	for _, p := range t.Params {
		params += int64(p.Shape().TotalSize()) * int64(p.Dtype().Size())
	}
	return t.Machine.PlannedPeak() + 2*params + extra, nil
}

// timeStep runs one untimed step and times a second.
func timeStep(req PlanRequest, c Choice) (float64, error) {
	t, _, err := trainer(req, c)
	if err != nil {
		return 0, err
	}
	defer t.Close()
	if _, err := t.Step(); err != nil {
		return 0, err
	}
	start := time.Now()
	if _, err := t.Step(); err != nil {
		return 0, err
	}
	return time.Since(start).Seconds(), nil
}

// mib writes a size in MiB, or in bytes below one MiB, where "0.00 MiB" would hide it.
func mib(n int64) string {
	if n < 1<<20 {
		return fmt.Sprintf("%d bytes", n)
	}
	return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20))
}
