package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"runtime"
	"runtime/pprof"
	"sort"
	"strings"
	"time"

	"github.com/velora-go/velora/checkpoint"
	"github.com/velora-go/velora/internal/cli"
	"github.com/velora-go/velora/kernel"
	"github.com/velora-go/velora/layers"
)

func main() {
	if rssChild() {
		return
	}
	log.SetFlags(0)
	quick := flag.Bool("quick", false, "small sizes: seconds instead of minutes")
	jsonPath := flag.String("json", "", "write every figure, with the machine's CPU, Go version and GOMAXPROCS, to this JSON file")
	pngDir := flag.String("png", "", fmt.Sprintf("write bar charts of tables %d, %d and %d into this directory", tableLayers, tableSubTokens, tableFineTune))
	tables := flag.String("tables", "", fmt.Sprintf("run only these tables, a comma-separated list of numbers (%s; default: all but %d)", tableList(), tablePlain))
	steps := flag.Int("steps", 1, "timed training steps per configuration")
	warmup := flag.Int("warmup", 0, "untimed training steps before the timed ones (the first step also allocates what later steps reuse; every row pays it alike)")
	withPlain := flag.Bool("plain", false, fmt.Sprintf("add table %d: the fused block ops against gorgonia's plain compositions (about 15 s more)", tablePlain))
	markdown := flag.String("markdown", "", "write every table of the run as Markdown to this file (atomically), under a header naming the CPU, Go version, GOMAXPROCS, date and command line")
	cpuProfile := flag.String("cpuprofile", "", fmt.Sprintf("write a CPU profile to this file (not with table %d, which runs the profiler itself)", tableSplit))
	flag.Parse()
	if flag.NArg() > 0 {
		log.Fatalf("bench: unexpected arguments %q", flag.Args())
	}
	if *steps <= 0 || *warmup < 0 {
		log.Fatalf("bench: -steps %d and -warmup %d, expected at least 1 timed step and no negative warm-up", *steps, *warmup)
	}
	want, err := parseTables(*tables, *withPlain)
	if err != nil {
		log.Fatal(err)
	}
	if err := checkOutputs(*markdown, *jsonPath, *pngDir); err != nil {
		log.Fatal(err)
	}
	if *cpuProfile != "" && want[tableSplit] {
		log.Fatalf("bench: -cpuprofile and table %d (%s) both need the CPU profiler: choose tables without %d with -tables", tableSplit, tableNames[tableSplit], tableSplit)
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			log.Fatalf("bench: %v", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatalf("bench: %v", err)
		}
		defer pprof.StopCPUProfile()
	}
	s, ops, methods := defaultSizes(), defaultOps, defaultMethodSizes()
	if *quick {
		s, ops, methods = quickSizes(), quickOps, quickMethodSizes()
	}
	s.Steps, s.Warmup = *steps, *warmup
	methods.LLaMA.Steps, methods.LLaMA.Warmup = *steps, *warmup
	var out io.Writer = os.Stdout
	var printed bytes.Buffer // what the run prints, for -markdown
	if *markdown != "" {
		out = io.MultiWriter(os.Stdout, &printed)
	}
	start := time.Now()
	r, err := run(out, s, ops, methods, want)
	if err != nil {
		log.Fatalf("bench: %v", err)
	}
	took := time.Since(start)
	fmt.Printf("\nMeasured in %.0f s on %s, %s, GOMAXPROCS %d.\n", took.Seconds(), r.CPU, r.GoVersion, r.GOMAXPROCS)
	if *markdown != "" {
		if err := writeMarkdown(*markdown, r, os.Args[1:], start, took, printed.Bytes()); err != nil {
			log.Fatal(err)
		}
	}
	if *jsonPath != "" {
		if err := writeJSON(*jsonPath, r); err != nil {
			log.Fatalf("bench: %v", err)
		}
	}
	if *pngDir != "" {
		if err := writeCharts(*pngDir, r); err != nil {
			log.Fatalf("bench: %v", err)
		}
	}
}

// Report is every figure of one run.
type Report struct {
	CPU        string
	GoVersion  string
	GOMAXPROCS int
	GEMMPath   string // kernel.Implementation(): the matrix multiply every table runs on
	Sizes      Sizes
	GEMM       []GEMMRow
	Ops        []OpRow
	Split      *Split
	Tables     []Table
	Budgets    []BudgetRow
}

// run measures the tables that want selects (by number) and prints each as
// soon as it is done.
func run(w io.Writer, s Sizes, ops OpSizes, methods MethodSizes, want []bool) (Report, error) {
	r := Report{CPU: cpuName(), GoVersion: runtime.Version(), GOMAXPROCS: runtime.GOMAXPROCS(0), GEMMPath: kernel.Implementation(), Sizes: s}
	c := s.LLaMA
	fmt.Fprintf(w, "Model: LLaMA, %d layers, d = %d, intermediate %d, %d heads, vocabulary %d; batch %d × %d tokens; float32; AdamW. GEMM: %s.\n\n",
		c.Layers, c.Hidden, c.Intermediate, c.Heads, c.Vocab, s.Batch, s.Seq, r.GEMMPath)
	cache, rss := map[string]Row{}, map[string]*RSS{}
	model := func(table func(Sizes, map[string]Row) (Table, error)) func() (Table, error) {
		return func() (Table, error) { return table(s, cache) }
	}
	method := func(arch layers.Architecture) func() (Table, error) {
		return func() (Table, error) { return methodTable(methods, arch) }
	}
	tables := map[int]func() (Table, error){
		tableLayers: model(layerTable), tableSubTokens: model(subTokenTable), tableFineTune: model(fineTuneTable),
		tableExecutor: model(executorTable), tablePlain: model(kernelTable),
		tableViTMethods: method(methods.ViT), tableLLaMAMethods: method(methods.LLaMA.LLaMA),
		tableRecompute: model(recomputeTable),
	}
	for number := 1; number < len(tableNames); number++ {
		if !want[number] {
			continue
		}
		switch number {
		case tableGEMM:
			r.GEMM = gemmTable(s)
			printGEMM(w, number, r.GEMMPath, r.GEMM)
		case tableOps:
			for _, m := range []int{8, 16, 32} {
				row, err := opRow(ops, m)
				if err != nil {
					return r, err
				}
				r.Ops = append(r.Ops, row)
			}
			printOps(w, number, ops, r.Ops)
		case tableSplit:
			sp, err := splitTable(s)
			if err != nil {
				return r, err
			}
			r.Split = &sp
			printSplit(w, number, sp)
		case tableBudget:
			none, err := cachedMeasure(cache, Setup{Name: "none", Config: full("", 0)}, s)
			if err != nil {
				return r, err
			}
			if r.Budgets, err = budgetTable(s); err != nil {
				return r, err
			}
			printBudgets(w, number, r.Budgets, none)
		default:
			t, err := tables[number]()
			if err != nil {
				return r, err
			}
			t.Number = number
			if err := addRSS(&t, s, rss); err != nil {
				return r, err
			}
			r.Tables = append(r.Tables, t)
			printTable(w, t)
			printRSS(w, t)
			if number == tablePlain {
				printKeptByOp(w, t)
			}
		}
		fmt.Fprintf(w, "%s\n\n", tableCaptions[number])
	}
	return r, nil
}

func printOps(w io.Writer, number int, s OpSizes, rows []OpRow) {
	fmt.Fprintf(w, "## %d. Op level: T = %d, D = Dout = %d, float32\n\n", number, s.T, s.D)
	fmt.Fprintln(w, "| sub-token size | compress GB/s | copy GB/s | compress / copy | fused weight grad | reconstruct + matmul | speed-up |")
	fmt.Fprintln(w, "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	for _, r := range rows {
		fmt.Fprintf(w, "| %d | %.2f | %.2f | %.2f | %.1f ms | %.1f ms | %.1f× |\n", r.SubTokenSize, r.CompressGBps, r.CopyGBps,
			ratio(r.CompressGBps, r.CopyGBps), 1e3*r.FusedSeconds, 1e3*r.ReconstructSecs, r.WeightGradFactor)
	}
	fmt.Fprintln(w)
}

func printTable(w io.Writer, t Table) {
	fmt.Fprintf(w, "## %d. %s\n\n", t.Number, t.Title)
	fmt.Fprintln(w, "| configuration | trainable | linear inputs kept | peak | params | grads | optimizer | activations | Go heap | step |")
	fmt.Fprintln(w, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	base := t.Rows[0]
	for _, r := range t.Rows {
		m, b := r.Memory, base.Memory
		fmt.Fprintf(w, "| %s | %d | %s | %s | %s | %s | %s | %s | %s | %.2f s (%.2f) |\n", r.Name, r.Trainable,
			cell(r.KeptInputs, base.KeptInputs), cell(m.Peak, b.Peak), cell(m.Params, b.Params), cell(m.Grads, b.Grads),
			cell(m.Optimizer, b.Optimizer), cell(m.Activations, b.Activations), mib(m.RuntimeHeap), r.StepSeconds, ratio(r.StepSeconds, base.StepSeconds))
	}
	fmt.Fprintln(w)
	if t.Note != "" {
		fmt.Fprintf(w, "%s\n\n", t.Note)
	}
}

// printKeptByOp lists, for each row, what its backward pass keeps, by op.
func printKeptByOp(w io.Writer, t Table) {
	kinds := map[string]bool{}
	for _, r := range t.Rows {
		for k := range r.KeptByOp {
			kinds[k] = true
		}
	}
	names := make([]string, 0, len(kinds))
	for k := range kinds {
		names = append(names, k)
	}
	last := t.Rows[len(t.Rows)-1].KeptByOp
	sort.Slice(names, func(i, j int) bool {
		a, b := last[names[i]], last[names[j]]
		return a > b || (a == b && names[i] < names[j])
	})
	fmt.Fprintln(w, "Forward values the backward pass reads, by the op that computed them (all layers):")
	fmt.Fprintln(w)
	fmt.Fprint(w, "| op |")
	for _, r := range t.Rows {
		fmt.Fprintf(w, " %s |", r.Name)
	}
	fmt.Fprint(w, "\n| --- |")
	for range t.Rows {
		fmt.Fprint(w, " ---: |")
	}
	fmt.Fprintln(w)
	for _, k := range names {
		fmt.Fprintf(w, "| %s |", k)
		for _, r := range t.Rows {
			fmt.Fprintf(w, " %s |", mib(r.KeptByOp[k]))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w)
}

// cell is bytes in MiB with the ratio to the baseline's, when there is one.
func cell(n, base int64) string {
	switch {
	case n == 0 && base == 0:
		return "—"
	case base == 0:
		return mib(n)
	}
	return fmt.Sprintf("%s (%.2f)", mib(n), ratio(float64(n), float64(base)))
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// cpuName reads the processor's model name, where the system says it.
func cpuName() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for _, line := range strings.Split(string(data), "\n") {
		if name, ok := strings.CutPrefix(line, "model name"); ok {
			return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(name), ":"))
		}
	}
	return runtime.GOARCH
}

// checkOutputs refuses, before a run, a -markdown or -json file or a -png
// folder the run could not, or must not, write at its end.
func checkOutputs(markdown, json, png string) error {
	return cli.CheckOutputs("bench",
		cli.Output{Flag: "-markdown", Path: markdown, Ours: func(b []byte) bool { return bytes.HasPrefix(b, []byte(markdownTitle)) }},
		cli.Output{Flag: "-json", Path: json, Ours: checkpoint.JSONObjectWith("CPU")},
		cli.Output{Flag: "-png", Path: png, Folder: true},
	)
}
