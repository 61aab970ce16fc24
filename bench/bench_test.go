package main

import (
	"io"
	"math"
	"testing"
	"time"

	"github.com/velora-go/velora/optim"
	"github.com/velora-go/velora/peft"
	"github.com/velora-go/velora/train"
)

// TestQuickTablesAreCompleteAndFinite runs the command's -quick sizes and
// checks every table has its rows and every ratio to the baseline is
// finite and positive.
func TestQuickTablesAreCompleteAndFinite(t *testing.T) {
	want, err := parseTables("", true)
	if err != nil {
		t.Fatal(err)
	}
	r, err := run(io.Discard, quickSizes(), quickOps, quickMethodSizes(), want)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.GEMM) != 5 {
		t.Fatalf("%d GEMM rows, want 5", len(r.GEMM))
	}
	for _, g := range r.GEMM {
		for _, x := range []float64{g.Kernel, g.Gonum} {
			if !(x > 0) || math.IsInf(x, 0) {
				t.Errorf("GEMM row %+v has a figure that is not finite and positive", g)
			}
		}
		if (openBLAS != nil) != (g.OpenBLAS > 0) {
			t.Errorf("GEMM row %+v: OpenBLAS figure %v with openBLAS %v", g, g.OpenBLAS, openBLAS)
		}
	}
	if r.Split == nil || len(r.Split.Parts) != len(stepParts) {
		t.Fatalf("step split %+v, want one part per entry of stepParts", r.Split)
	}
	for _, p := range r.Split.Parts {
		if !(p.CPUSeconds >= 0) || math.IsInf(p.CPUSeconds, 0) {
			t.Errorf("step split part %+v is not finite and non-negative", p)
		}
	}
	if len(r.Ops) != 3 {
		t.Fatalf("%d op rows, want 3", len(r.Ops))
	}
	for _, o := range r.Ops {
		for _, x := range []float64{o.CompressGBps, o.CopyGBps, o.FusedSeconds, o.ReconstructSecs, o.WeightGradFactor} {
			if !(x > 0) || math.IsInf(x, 0) {
				t.Errorf("op row %+v has a figure that is not finite and positive", o)
			}
		}
	}
	if len(r.Budgets) != len(budgetFractions) {
		t.Fatalf("%d budget rows, want %d", len(r.Budgets), len(budgetFractions))
	}
	for _, b := range r.Budgets {
		if b.Measured.Memory.Peak > b.Budget || b.Measured.Memory.Peak != b.Choice.PeakBytes {
			t.Errorf("budget %d: %v measured %d bytes, planned %d", b.Budget, b.Choice, b.Measured.Memory.Peak, b.Choice.PeakBytes)
		}
	}
	wantRows := map[int]int{tableLayers: 8, tableSubTokens: 5, tableFineTune: 4, tableExecutor: 3, tablePlain: 2, tableViTMethods: 11, tableLLaMAMethods: 10, tableRecompute: 8}
	if len(r.Tables) != len(wantRows) {
		t.Fatalf("%d tables, want %d", len(r.Tables), len(wantRows))
	}
	for _, table := range r.Tables {
		if len(table.Rows) != wantRows[table.Number] {
			t.Errorf("table %d %q has %d rows, want %d", table.Number, table.Title, len(table.Rows), wantRows[table.Number])
		}
		base := table.Rows[0]
		for _, row := range table.Rows {
			for _, x := range []float64{ratio(float64(row.Memory.Peak), float64(base.Memory.Peak)), ratio(row.StepSeconds, base.StepSeconds)} {
				if !(x > 0) || math.IsInf(x, 0) {
					t.Errorf("%s / %s: a ratio to the baseline is %v", table.Title, row.Name, x)
				}
			}
			// SSF trains no linear layer: it keeps no linear input at all.
			if x := ratio(float64(row.KeptInputs), float64(base.KeptInputs)); !(x >= 0) || math.IsInf(x, 0) {
				t.Errorf("%s / %s: kept inputs ratio %v", table.Title, row.Name, x)
			}
			if math.IsNaN(row.Loss) || row.Loss <= 0 {
				t.Errorf("%s / %s: loss %v", table.Title, row.Name, row.Loss)
			}
		}
		if table.Number == tableRecompute {
			checkRecomputeTable(t, table)
		}
		checkRSS(t, table)
	}
}

// checkRecomputeTable wants recomputation to change the numbers it may and no other:
// the same losses, fewer activation bytes, and added evaluations.
func checkRecomputeTable(t *testing.T, table Table) {
	rows := map[string]Row{}
	for _, r := range table.Rows {
		rows[r.Name] = r
	}
	none, vd := rows["none"], rows["vd"]
	for _, c := range []struct {
		name string
		base Row
	}{{"checkpoint per block", none}, {"selective recompute", none}, {"vd + selective", vd}} {
		r := rows[c.name]
		if r.Loss != c.base.Loss || r.Recomputed == 0 || r.Memory.Activations >= c.base.Memory.Activations {
			t.Errorf("%s: loss %v, %d recomputed, activations %d; against %s: loss %v, activations %d",
				c.name, r.Loss, r.Recomputed, r.Memory.Activations, c.base.Name, c.base.Loss, c.base.Memory.Activations)
		}
	}
}

// Sinks keep the compiler from discarding the benchmarked work.
var sinkLoss float64

// benchPair times training steps of a baseline and a VeLoRA configuration
// in one benchmark, alternating them, and reports each one's time and peak
// and their ratios.
func benchPair(b *testing.B, s Sizes, baseline, velora peft.Config) {
	trainers := make([]*train.Trainer, 2)
	for i, cfg := range []peft.Config{baseline, velora} {
		t, err := newTrainer(s, cfg)
		if err != nil {
			b.Fatal(err)
		}
		defer t.Close()
		if sinkLoss, err = t.Step(); err != nil { // warm-up
			b.Fatal(err)
		}
		trainers[i] = t
	}
	b.ReportAllocs()
	b.ResetTimer()
	var spent [2]time.Duration
	for i := 0; i < b.N; i++ {
		for k, t := range trainers {
			start := time.Now()
			loss, err := t.Step()
			if err != nil {
				b.Fatal(err)
			}
			spent[k] += time.Since(start)
			sinkLoss += loss
		}
	}
	var peaks [2]float64
	for k, t := range trainers {
		m, err := t.Memory()
		if err != nil {
			b.Fatal(err)
		}
		peaks[k] = float64(m.Peak)
	}
	b.ReportMetric(float64(spent[0].Nanoseconds())/float64(b.N), "baseline-ns/step")
	b.ReportMetric(float64(spent[1].Nanoseconds())/float64(b.N), "velora-ns/step")
	b.ReportMetric(float64(spent[1])/float64(spent[0]), "time-ratio")
	b.ReportMetric(peaks[0], "baseline-peak-B")
	b.ReportMetric(peaks[1], "velora-peak-B")
	b.ReportMetric(peaks[1]/peaks[0], "peak-ratio")
}

var loraAll = []string{"q", "k", "v", "o", "gate", "up", "down"}

func BenchmarkFullVD(b *testing.B)   { benchPair(b, defaultSizes(), full("", 0), full("vd", 16)) }
func BenchmarkFullQKVD(b *testing.B) { benchPair(b, defaultSizes(), full("", 0), full("qkvd", 16)) }
func BenchmarkLoRAVD(b *testing.B) {
	lora := peft.Config{Method: peft.MethodLoRA, Rank: 8, Alpha: 16, Targets: loraAll}
	withVeLoRA := lora
	withVeLoRA.VeLoRA = &peft.VeLoRAConfig{Layers: "vd", SubTokenSize: 16}
	benchPair(b, defaultSizes(), lora, withVeLoRA)
}
func BenchmarkQuickFullVD(b *testing.B) { benchPair(b, quickSizes(), full("", 0), full("vd", 16)) }

// BenchmarkPlannedPeak times machine.PlannedPeak on the bench model's full-rank step
// (go test ./bench -run '^$' -bench PlannedPeak): what a planner pays per candidate once
// the machine is made.
func BenchmarkPlannedPeak(b *testing.B) {
	s := defaultSizes()
	bl, loss, err := buildLLaMA(Setup{Config: full("", 0)}, s)
	if err != nil {
		b.Fatal(err)
	}
	solver, err := optim.NewAdamW(optim.AdamConfig{})
	if err != nil {
		b.Fatal(err)
	}
	tr, err := train.New(bl, loss, solver)
	if err != nil {
		b.Fatal(err)
	}
	defer tr.Close()
	b.ResetTimer()
	for range b.N {
		tr.Machine.PlannedPeak()
	}
}
