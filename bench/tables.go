package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/pkg/errors"

	"github.com/velora-go/velora/layers"
	"github.com/velora-go/velora/op/plain"
	"github.com/velora-go/velora/peft"
)

// The tables' numbers, the same whichever tables a run selects.
const (
	tableGEMM = 1 + iota
	tableOps
	tableLayers
	tableSplit
	tableSubTokens
	tableFineTune
	tableExecutor
	tablePlain
	tableViTMethods
	tableLLaMAMethods
	tableRecompute
	tableBudget
)

// tableNames names each table, by number, in -tables' help and errors.
var tableNames = [...]string{
	tableGEMM: "GEMM", tableOps: "op level", tableLayers: "layer selection", tableSplit: "step split",
	tableSubTokens: "sub-token size", tableFineTune: "fine-tuning", tableExecutor: "executor",
	tablePlain: "fused vs plain ops", tableViTMethods: "PEFT methods on a ViT", tableLLaMAMethods: "PEFT methods on a LLaMA",
	tableRecompute: "recomputation", tableBudget: "memory budgets",
}

// tableCaptions say, under each table, what it compares and how to read it.
var tableCaptions = [...]string{
	tableGEMM: "Package kernel's matrix multiply against gonum's pure-Go Sgemm at the shapes of the model's forward products and " +
		"gradients (goals: at least 6× gonum and 0.8× OpenBLAS). `CGO_LDFLAGS=-lopenblas go run -tags openblas ./bench -tables 1`, " +
		"after `apt-get install libopenblas-dev`, adds an OpenBLAS column; the default build needs no cgo.",
	tableOps: "Compress's read bandwidth beside a one-goroutine `copy` of the same bytes (goal: compress / copy at least 0.8), and " +
		"VeLoRA's fused weight gradient v[m]·(zᵀg)[k, j], M times fewer multiply-adds, beside building x̂ and multiplying. " +
		"Milliseconds move between runs; `go test ./op -bench Compress` measures Compress alone.",
	tableLayers: "Which projections VeLoRA compresses. \"Linear inputs kept\" is read off the graph (the x of every plain MatMul, " +
		"the z of every VeLoRA Linear, each tensor once) and follows the arithmetic above: v alone saves nothing, since q and k keep " +
		"the same input. Activations at the peak fall by less: where the peak lies after the last layer's compressed input is freed " +
		"in the baseline too (machine.Stats().PeakNode names it), VeLoRA's saving counts for every layer but the last, and it grows " +
		"with depth. Recomputation (table 11) shrinks the rest.",
	tableSplit: "What is left of the step beside the matrix multiplies: each part's share of the CPU time.",
	tableSubTokens: "The paper's sub-token sizes: z is M times smaller than the input it replaces; the down projection's width " +
		"is padded where M does not divide it.",
	tableFineTune: "LoRA and QLoRA, rank 8 on all seven projections, VeLoRA on A's input; QLoRA's parameters include the NF4 storage.",
	tableExecutor: "gorgonia's TapeMachine keeps every value of the step; package machine frees each after its last reader. The fused " +
		"update steps each weight as soon as its gradient exists, which lowers the peak only where the peak comes after most " +
		"gradients exist.",
	tablePlain:        "The fused block ops keep only what their backward pass needs; gorgonia's own compositions keep every intermediate.",
	tableViTMethods:   "Every PEFT method with and without VeLoRA on a small ViT; ratios to full-rank training without VeLoRA.",
	tableLLaMAMethods: "Every PEFT method with and without VeLoRA on a small LLaMA; ratios to full-rank training without VeLoRA.",
	tableRecompute: "machine.WithRecompute(keep) frees every forward value keep rejects after its last forward reader and computes it " +
		"again just before the backward pass needs it: gradient checkpointing done by the executor, with the gradients bit for bit " +
		"those of the plain run (train.WithRecompute(layers.RecomputeCheap) turns it on). VeLoRA with the MLP's expansion " +
		"recomputed is the paper's Table 7 trade: checkpointing-class memory without recomputing most products. " +
		"(*Machine).PlannedPeak() gives the exact peak from the plan alone (`go test ./bench -run '^$' -bench PlannedPeak` times it); " +
		"every row checks it against the run.",
	tableBudget: "peft.Plan chooses, for a model, a batch and a byte budget, among VeLoRA's selections, M and z format (bf16 halves z), " +
		"the recomputation policies and the fused update, by the exact planned peak; `go run ./examples/c4 -memory-budget 11MiB` " +
		"adds its choice as a row.",
}

// tableList is every table's number and name.
func tableList() string {
	names := make([]string, 0, len(tableNames)-1)
	for number := 1; number < len(tableNames); number++ {
		names = append(names, fmt.Sprintf("%d %s", number, tableNames[number]))
	}
	return strings.Join(names, ", ")
}

// parseTables reads -tables, a comma-separated list of table numbers, into
// a selection indexed by number. An empty list selects every table but the
// fused-vs-plain one, which plain adds to any list.
func parseTables(list string, plain bool) ([]bool, error) {
	want := make([]bool, len(tableNames))
	if strings.TrimSpace(list) == "" {
		for number := 1; number < len(want); number++ {
			want[number] = number != tablePlain
		}
	} else {
		for _, item := range strings.Split(list, ",") {
			number, err := strconv.Atoi(strings.TrimSpace(item))
			if err != nil || number < 1 || number >= len(want) {
				return nil, errors.Errorf("bench: -tables %q: no table %q; the tables are %s", list, strings.TrimSpace(item), tableList())
			}
			want[number] = true
		}
	}
	want[tablePlain] = want[tablePlain] || plain
	return want, nil
}

// Table is a titled list of rows measured against its first row.
type Table struct {
	Number int
	Title  string
	Note   string
	Rows   []Row
}

// full is full-rank training with VeLoRA on layers at sub-token size m
// (no VeLoRA when layers is empty).
func full(layers string, m int) peft.Config {
	c := peft.Config{Method: peft.MethodFull}
	if layers != "" {
		c.VeLoRA = &peft.VeLoRAConfig{Layers: layers, SubTokenSize: m}
	}
	return c
}

// layerTable is the paper's Table 6 at this scale.
func layerTable(s Sizes, cache map[string]Row) (Table, error) {
	t := Table{Title: "Layer selection (after the paper's Table 6): full-rank training, VeLoRA at sub-token size 16",
		Note: layerNote(s)}
	for _, sel := range []string{"none", "q", "k", "v", "down", "vd", "qkv", "qkvd"} {
		layers := sel
		if sel == "none" {
			layers = ""
		}
		r, err := cachedMeasure(cache, Setup{Name: sel, Config: full(layers, 16)}, s)
		if err != nil {
			return t, err
		}
		t.Rows = append(t.Rows, r)
	}
	return t, nil
}

// layerNote states what the arithmetic predicts for the kept inputs.
func layerNote(s Sizes) string {
	c := s.LLaMA
	tok := s.Batch * s.Seq
	mib := func(n int) string { return fmt.Sprintf("%.2f MiB", float64(n*4)/(1<<20)) }
	return fmt.Sprintf("Arithmetic for the kept inputs, per layer of %d tokens: the attention input (q, k, v share it) %s, "+
		"the attention output (o) %s, the MLP input (gate, up share it) %s, the down input %s; "+
		"VeLoRA keeps 1/16 of what it compresses, and an input shared with an uncompressed projection stays whole.",
		tok, mib(tok*c.Hidden), mib(tok*c.Hidden), mib(tok*c.Hidden), mib(tok*c.Intermediate))
}

// subTokenTable is the paper's Table 5b at this scale: vd at D/64 … D/8.
func subTokenTable(s Sizes, cache map[string]Row) (Table, error) {
	t := Table{Title: "Sub-token size (after the paper's Table 5b): VeLoRA on vd, M = D/64 … D/8"}
	base, err := cachedMeasure(cache, Setup{Name: "none", Config: full("", 0)}, s)
	if err != nil {
		return t, err
	}
	t.Rows = append(t.Rows, base)
	for _, div := range []int{64, 32, 16, 8} {
		m := max(1, s.LLaMA.Hidden/div)
		r, err := cachedMeasure(cache, Setup{Name: fmt.Sprintf("vd, M=%d", m), Config: full("vd", m)}, s)
		if err != nil {
			return t, err
		}
		r.Name = fmt.Sprintf("vd, M = D/%d = %d", div, m)
		t.Rows = append(t.Rows, r)
	}
	return t, nil
}

// fineTuneTable compares LoRA and QLoRA with and without VeLoRA.
func fineTuneTable(s Sizes, cache map[string]Row) (Table, error) {
	t := Table{Title: "Fine-tuning: LoRA and QLoRA (rank 8 on every projection) with and without VeLoRA on vd, M = 16"}
	targets := []string{"q", "k", "v", "o", "gate", "up", "down"}
	for _, method := range []string{peft.MethodLoRA, peft.MethodQLoRA} {
		for _, velora := range []bool{false, true} {
			c := peft.Config{Method: method, Rank: 8, Alpha: 16, Targets: targets}
			name := method
			if velora {
				c.VeLoRA = &peft.VeLoRAConfig{Layers: "vd", SubTokenSize: 16}
				name += " + VeLoRA"
			}
			r, err := cachedMeasure(cache, Setup{Name: name, Config: c}, s)
			if err != nil {
				return t, err
			}
			t.Rows = append(t.Rows, r)
		}
	}
	return t, nil
}

// executorTable runs one full-rank step under each executor.
func executorTable(s Sizes, cache map[string]Row) (Table, error) {
	t := Table{Title: "Executor: the same full-rank step (no VeLoRA) under gorgonia's TapeMachine and under machine",
		Note: "TapeMachine keeps every value of the step bound to its node, so its peak is the Go heap it retains after a run (two collections) plus the parameters; that figure includes Adam's state and the gradients, and has no finer split."}
	for _, e := range []struct {
		name string
		exec Executor
	}{{"TapeMachine", Tape}, {"none", Machine}, {"machine, fused update", MachineFused}} {
		r, err := cachedMeasure(cache, Setup{Name: e.name, Config: full("", 0), Exec: e.exec}, s)
		if err != nil {
			return t, err
		}
		if e.exec == Machine {
			r.Name = "machine"
		}
		t.Rows = append(t.Rows, r)
	}
	return t, nil
}

// cachedMeasure measures each setup once per run, by name.
func cachedMeasure(cache map[string]Row, u Setup, s Sizes) (Row, error) {
	if r, ok := cache[u.Name]; ok {
		return r, nil
	}
	if u.Exec == "" {
		u.Exec = Machine
	}
	r, err := measure(u, s)
	if err == nil {
		cache[u.Name] = r
	}
	return r, err
}

// kernelTable compares the fused block ops with gorgonia's compositions.
func kernelTable(s Sizes, cache map[string]Row) (Table, error) {
	t := Table{Title: "Fused ops against gorgonia's plain compositions (RMSNorm, attention, SwiGLU from op/plain), full-rank, no VeLoRA"}
	for _, u := range []Setup{
		{Name: "none", Config: full("", 0)},
		{Name: "plain ops", Config: full("", 0), Kernels: layers.Kernels{RMSNorm: plain.RMSNorm, Attention: plain.Attention, SwiGLU: plain.SwiGLU}},
	} {
		r, err := cachedMeasure(cache, u, s)
		if err != nil {
			return t, err
		}
		if u.Name == "none" {
			r.Name = "fused ops"
		}
		t.Rows = append(t.Rows, r)
	}
	return t, nil
}

// recomputeTable is the paper's Table 7 at this scale: VeLoRA against gradient
// checkpointing, and the two together.
func recomputeTable(s Sizes, cache map[string]Row) (Table, error) {
	t := Table{Title: "Recomputation (after the paper's Table 7): full-rank training, VeLoRA (M = 16) against gradient checkpointing"}
	all := strings.Join(s.LLaMA.ProjectionNames(), ", ")
	var counts []string
	for _, u := range []Setup{
		{Name: "none", Config: full("", 0)},
		{Name: "checkpoint per block", Config: full("", 0), Recompute: layers.CheckpointBlocks},
		{Name: "selective recompute", Config: full("", 0), Recompute: layers.RecomputeCheap},
		{Name: "selective + expansion", Config: full("", 0), Recompute: layers.RecomputeExpansion},
		{Name: "vd", Config: full("vd", 16)},
		{Name: "vd + selective", Config: full("vd", 16), Recompute: layers.RecomputeCheap},
		{Name: "all seven + selective", Config: full(all, 16), Recompute: layers.RecomputeCheap},
		{Name: "all seven + expansion", Config: full(all, 16), Recompute: layers.RecomputeExpansion},
	} {
		r, err := cachedMeasure(cache, u, s)
		if err != nil {
			return t, err
		}
		t.Rows = append(t.Rows, r)
		counts = append(counts, fmt.Sprintf("%s %d", r.Name, r.Recomputed))
	}
	t.Note = "Checkpointing per block keeps each block's input and recomputes the block in the backward pass (torch.utils.checkpoint); " +
		"selective recomputation recomputes only element-wise and norm results (op.Cheap), never a product or attention; " +
		"\"+ expansion\" also recomputes the MLP's gate and up products (layers.RecomputeExpansion). " +
		"Node evaluations added per step: " + strings.Join(counts, ", ") + ". In every row the machine's planned peak equalled the measured one."
	return t, nil
}
