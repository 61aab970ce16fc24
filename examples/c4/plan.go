package main

import (
	"fmt"
	"strings"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/data/c4"
	"github.com/velora-go/velora/internal/check"
	"github.com/velora-go/velora/layers"
	"github.com/velora-go/velora/peft"
)

// plannedTimed is how many fitting candidates the planner times, a step each.
const plannedTimed = 3

// plannedVariant asks peft.Plan for the full-rank AdamW step that fits c.MemoryBudget on
// the run's model and first training batch, and returns it as a row, with the planner's
// reasons in words.
func plannedVariant(c Config, s Setup) (Variant, string, error) {
	batch, err := firstBatch(c, s)
	if err != nil {
		return Variant{}, "", err
	}
	params := layers.NewParams() // one set of initial weights serves every candidate
	build := func(cfg peft.Config) (*layers.Builder, *gorgonia.Node, error) {
		adapter, err := peft.Apply(cfg, s.Model)
		if err != nil {
			return nil, nil, err
		}
		b, err := layers.NewBuilder(params, tensor.Float32, adapter, c.Seed)
		if err != nil {
			return nil, nil, err
		}
		m, err := layers.NewLLaMA(b, s.Model, c.Batch, c.Seq)
		if err != nil {
			return nil, nil, err
		}
		return b, m.Loss, m.SetBatch(batch.Inputs, batch.Targets)
	}
	base := methodVariant(c, s.Rank, "full").PEFT
	res, err := peft.Plan(peft.PlanRequest{Config: base, Arch: s.Model, Build: build, Budget: c.MemoryBudget, Timed: plannedTimed})
	if err != nil {
		return Variant{}, "", check.Wrap(err, "c4: -memory-budget")
	}
	ch := res.Choice
	v := Variant{Key: "planned", Label: fmt.Sprintf("Planned (%s)", mib(c.MemoryBudget)+" MiB"), PEFT: ch.Config(base),
		Optimizer: "adamw", Recompute: ch.Recompute, Fused: ch.Fused}
	if v.PEFT.VeLoRA != nil { // the run's init and scale, the planner's layers and M
		layers, m, z := v.PEFT.VeLoRA.Layers, v.PEFT.VeLoRA.SubTokenSize, v.PEFT.VeLoRA.ZDtype
		v.PEFT.VeLoRA = c.veLoRA(layers, c.VeLoRAInit)
		v.PEFT.VeLoRA.SubTokenSize, v.PEFT.VeLoRA.SubTokenSizes, v.PEFT.VeLoRA.ZDtype = m, nil, z
	}
	return v, planReasons(c.MemoryBudget, res), nil
}

// firstBatch is the first batch of the training stream.
func firstBatch(c Config, s Setup) (c4.Batch, error) {
	stream, err := c4.NewStream(s.Train, s.Tokenizer, c4.Config{SeqLen: c.Seq, BatchSize: c.Batch, Seed: c.Seed, Pack: c.Pack})
	if err != nil {
		return c4.Batch{}, err
	}
	defer stream.Close()
	return stream.Next()
}

// planReasons says what the planner chose and why: the budget, the plain step's peak,
// how many candidates fit, and the times it measured.
func planReasons(budget int64, res peft.PlanResult) string {
	fit := 0
	var timed []string
	for _, c := range res.Candidates {
		if c.PeakBytes <= budget {
			fit++
		}
		if c.StepSeconds > 0 {
			timed = append(timed, fmt.Sprintf("%v: %s, %.3f s", c, mib(c.PeakBytes)+" MiB", c.StepSeconds))
		}
	}
	return fmt.Sprintf("Memory budget %s: chose %v, planned peak %s. The plain full-rank step's planned peak is %s; "+
		"%d of %d candidates fit; the first %d that fit were timed for one step each and the fastest chosen:\n  %s",
		mib(budget)+" MiB", res.Choice, mib(res.Choice.PeakBytes)+" MiB", mib(res.Candidates[0].PeakBytes)+" MiB", fit, len(res.Candidates),
		len(timed), strings.Join(timed, "\n  "))
}
