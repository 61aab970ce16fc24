package peft

import (
	"math/rand"
	"strings"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/layers"
	"github.com/velora-go/velora/train"
)

// planLLaMA is small, but with enough tokens for the activations to matter.
var planLLaMA = layers.LLaMAConfig{Hidden: 32, Intermediate: 64, Heads: 2, Layers: 2, Vocab: 11, MaxSeq: 32, InitializerRange: 0.3}

// planRequest builds planLLaMA on 4 sequences of 32 random tokens.
func planRequest(t *testing.T, cfg Config, budget int64) PlanRequest {
	return PlanRequest{Config: cfg, Arch: planLLaMA, Budget: budget, Build: func(cfg Config) (*layers.Builder, *gorgonia.Node, error) {
		adapter, err := Apply(cfg, planLLaMA)
		if err != nil {
			return nil, nil, err
		}
		b, err := layers.NewBuilder(nil, tensor.Float32, adapter, 1)
		if err != nil {
			return nil, nil, err
		}
		m, err := layers.NewLLaMA(b, planLLaMA, 4, 32)
		if err != nil {
			return nil, nil, err
		}
		rng := rand.New(rand.NewSource(3))
		ids, targets := make([]int, 128), make([]int, 128)
		for i := range ids {
			ids[i], targets[i] = rng.Intn(planLLaMA.Vocab), rng.Intn(planLLaMA.Vocab)
		}
		return b, m.Loss, m.SetBatch(ids, targets)
	}}
}

// TestPlannedPeaksEqualTheSteps runs one step of every candidate and wants its measured
// peak, optimizer state included, to be the planned one.
func TestPlannedPeaksEqualTheSteps(t *testing.T) {
	for _, cfg := range []Config{{Method: MethodFull}, {Method: MethodLoRA, Rank: 4}} {
		req := planRequest(t, cfg, 1<<40)
		res, err := Plan(req)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Candidates) < 12 { // LoRA cannot compress the projections without adapters
			t.Fatalf("%s: %d candidates", cfg.Method, len(res.Candidates))
		}
		for _, c := range res.Candidates {
			tr, extra, err := trainer(req, c)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tr.Step(); err != nil {
				t.Fatal(err)
			}
			got := measuredPeak(t, tr, extra)
			tr.Close()
			if got != c.PeakBytes {
				t.Errorf("%s, %v: step's peak %d bytes, planned %d", cfg.Method, c, got, c.PeakBytes)
			}
		}
	}
}

// measuredPeak is the step's peak as train reports it, with the fused solvers' moments,
// which train does not see, added.
func measuredPeak(t *testing.T, tr *train.Trainer, extra int64) int64 {
	mem, err := tr.Memory()
	if err != nil {
		t.Fatal(err)
	}
	peak := mem.Peak + extra
	if tr.Solver == nil {
		for _, p := range tr.Params {
			peak += 2 * int64(p.Shape().TotalSize()) * int64(p.Dtype().Size())
		}
	}
	return peak
}

// TestPlanFitsTheBudget asks for three budgets: one the plain step fits, one only
// compression and recomputation fit, and one nothing fits.
func TestPlanFitsTheBudget(t *testing.T) {
	all, err := Plan(planRequest(t, Config{Method: MethodFull}, 1<<40))
	if err != nil {
		t.Fatal(err)
	}
	plain := all.Candidates[0]
	if plain.VeLoRA != "" || plain.Recompute != "" || plain.Fused || all.Choice != plain {
		t.Fatalf("first candidate %v, chosen %v: want the plain step chosen when everything fits", plain, all.Choice)
	}
	smallest := plain
	for _, c := range all.Candidates {
		if c.PeakBytes < smallest.PeakBytes {
			smallest = c
		}
	}
	mid := (plain.PeakBytes + smallest.PeakBytes) / 2
	res, err := Plan(planRequest(t, Config{Method: MethodFull}, mid))
	if err != nil {
		t.Fatal(err)
	}
	if res.Choice.PeakBytes > mid || res.Choice == plain {
		t.Fatalf("budget %d: chose %v with %d bytes", mid, res.Choice, res.Choice.PeakBytes)
	}
	_, err = Plan(planRequest(t, Config{Method: MethodFull}, smallest.PeakBytes-1))
	if err == nil || !strings.Contains(err.Error(), "smallest planned peak is "+mib(smallest.PeakBytes)) {
		t.Fatalf("impossible budget: err = %v, want one giving the smallest peak %s", err, mib(smallest.PeakBytes))
	}
}

// TestPlanTimesTheFittingCandidates times two and picks the faster of them.
func TestPlanTimesTheFittingCandidates(t *testing.T) {
	req := planRequest(t, Config{Method: MethodLoRA, Rank: 4}, 1<<40)
	req.Timed = 2
	res, err := Plan(req)
	if err != nil {
		t.Fatal(err)
	}
	a, b := res.Candidates[0], res.Candidates[1]
	if !(a.StepSeconds > 0 && b.StepSeconds > 0) || res.Candidates[2].StepSeconds != 0 {
		t.Fatalf("timed %v s and %v s, third %v s: want the first two timed only", a.StepSeconds, b.StepSeconds, res.Candidates[2].StepSeconds)
	}
	if want := map[bool]Choice{true: a, false: b}[a.StepSeconds <= b.StepSeconds]; res.Choice != want {
		t.Fatalf("chose %v (%v s), want the faster of the two timed", res.Choice, res.Choice.StepSeconds)
	}
}

func TestPlanRejectsBadRequests(t *testing.T) {
	good := planRequest(t, Config{Method: MethodFull}, 1<<30)
	for _, c := range []struct {
		edit func(*PlanRequest)
		want string
	}{
		{func(r *PlanRequest) { r.Budget = 0 }, "budget 0 bytes"},
		{func(r *PlanRequest) { r.Timed = -1 }, "-1 timed"},
		{func(r *PlanRequest) { r.Build = nil }, "Build and Arch are required"},
		{func(r *PlanRequest) { r.Config.VeLoRA = &VeLoRAConfig{} }, "Config.VeLoRA is set"},
		{func(r *PlanRequest) { r.Config.Rank = -2; r.Config.Method = MethodLoRA }, "no candidate is valid"},
	} {
		r := good
		c.edit(&r)
		if _, err := Plan(r); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("err = %v, want one saying %q", err, c.want)
		}
	}
}

// TestSmallSizesPrintInBytes: a budget below a MiB is written in bytes; "0.00 MiB" hid it.
func TestSmallSizesPrintInBytes(t *testing.T) {
	if got := mib(1024); got != "1024 bytes" {
		t.Errorf("mib(1024) = %q", got)
	}
	if got := mib(3 << 20); got != "3.00 MiB" {
		t.Errorf("mib(3 MiB) = %q", got)
	}
}
