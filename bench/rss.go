package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"

	"github.com/pkg/errors"

	"github.com/velora-go/velora/internal/check"
)

// RSS is a configuration's real memory: what the process that trains it
// holds, measured in a fresh process that builds the model, runs one
// warm-up step and then one measured step. Linux only: the peak is VmHWM,
// restarted from the current resident set just before the measured step
// (writing 5 to /proc/self/clear_refs).
type RSS struct {
	Base      int64 // resident bytes before the model was built (the runtime, the program, the data)
	Before    int64 // resident bytes just before the measured step
	Peak      int64 // the most resident bytes during the measured step
	StepAlloc int64 // bytes the measured step allocated on the Go heap (runtime.MemStats.TotalAlloc)
	HeapGoal  int64 // the heap size at which the collector starts its next cycle, after the step
	GCPercent int   // the collector's GOGC in the child
	Exact     int64 // the step's exact peak in the child (train.Memory's Peak)
}

// Model is what the configuration adds to the process at the step's peak:
// the peak resident set less the process before the model existed. It is
// the figure to set beside Exact, which counts the same things exactly.
func (r RSS) Model() int64 { return r.Peak - r.Base }

// Rise is how far the resident set grew during the measured step.
func (r RSS) Rise() int64 { return r.Peak - r.Before }

// rssGCPercent is the GOGC a child runs with unless the environment sets
// GOGC or GOMEMLIMIT. After the first step the machine's pool holds what a
// step needs and a step allocates little else, so the live heap is steady
// and a collection costs little. At the default 100 a long run's garbage
// piles up to the size of the live heap before each collection (the bench
// model at 6 MiB of garbage a step: a peak RSS of 360 MiB over 40 steps
// against 244 MiB over one); at 10 it stays under a tenth of it.
const rssGCPercent = 10

// rssEnv names the environment variable that makes the program a child
// measuring one configuration: it holds an rssRequest as JSON.
const rssEnv = "VELORA_BENCH_RSS"

// rssRequest names the configuration a child measures: a setup of a table,
// at sizes.
type rssRequest struct {
	Table int
	Setup string
	Sizes Sizes
}

// rssTables are the tables whose configurations get their peak RSS; a
// child finds its setup by running the table.
var rssTables = map[int]func(Sizes, map[string]Row) (Table, error){
	tableLayers: layerTable, tableFineTune: fineTuneTable, tableExecutor: executorTable, tableRecompute: recomputeTable,
}

// rssProbe, in a child, is the setup it measures and its figures; nil
// elsewhere.
var rssProbe *probe

type probe struct {
	setup string
	rss   RSS
	alloc uint64 // TotalAlloc before the step
	done  bool
}

// rssAvailable reports whether this system lets a process restart its
// peak resident set.
func rssAvailable() bool {
	if runtime.GOOS != "linux" {
		return false
	}
	f, err := os.OpenFile("/proc/self/clear_refs", os.O_WRONLY, 0)
	if err != nil {
		return false
	}
	f.Close()
	return true
}

// addRSS measures the peak RSS of each of t's rows in a child process of
// its own; measured keeps what the run measured already, by setup.
func addRSS(t *Table, s Sizes, measured map[string]*RSS) error {
	if rssTables[t.Number] == nil || !rssAvailable() {
		return nil
	}
	for i := range t.Rows {
		row := &t.Rows[i]
		r, ok := measured[row.Setup]
		if !ok {
			var err error
			if r, err = childRSS(rssRequest{Table: t.Number, Setup: row.Setup, Sizes: s}); err != nil {
				return err
			}
			measured[row.Setup] = r
		}
		row.RSS = r
	}
	return nil
}

// childRSS runs this program again with req in its environment and reads
// the child's figures from its standard output.
func childRSS(req rssRequest) (*RSS, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, check.Wrap(err, "bench: peak RSS: finding this program")
	}
	req.Sizes.Warmup, req.Sizes.Steps = 1, 1
	spec, err := json.Marshal(req)
	if err != nil {
		return nil, check.Wrap(err, "bench: peak RSS")
	}
	var out, stderr bytes.Buffer
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), rssEnv+"="+string(spec))
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return nil, check.Wrapf(err, "bench: peak RSS of %q (table %d) in a child process: %s", req.Setup, req.Table, strings.TrimSpace(stderr.String()))
	}
	var r RSS
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		return nil, check.Wrapf(err, "bench: peak RSS of %q (table %d): the child wrote %q", req.Setup, req.Table, out.String())
	}
	return &r, nil
}

// rssChild is the child's side: when the environment names a
// configuration, it measures it, writes the figures to standard output as
// JSON (or the error to standard error, exiting with status 1) and
// reports true. main and the tests' TestMain call it first.
func rssChild() bool {
	spec, ok := os.LookupEnv(rssEnv)
	if !ok {
		return false
	}
	r, err := measureRSS(spec)
	if err == nil {
		err = json.NewEncoder(os.Stdout).Encode(r)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	return true
}

// measureRSS runs the table of spec, building and training only the setup
// spec names (measure skips the others), and returns its figures.
func measureRSS(spec string) (RSS, error) {
	var req rssRequest
	if err := json.Unmarshal([]byte(spec), &req); err != nil {
		return RSS{}, check.Wrapf(err, "bench: %s=%q", rssEnv, spec)
	}
	table := rssTables[req.Table]
	if table == nil {
		return RSS{}, errors.Errorf("bench: %s: table %d has no peak RSS", rssEnv, req.Table)
	}
	if os.Getenv("GOGC") == "" && os.Getenv("GOMEMLIMIT") == "" {
		debug.SetGCPercent(rssGCPercent)
	}
	p := &probe{setup: req.Setup}
	p.rss.GCPercent = debug.SetGCPercent(-1)
	debug.SetGCPercent(p.rss.GCPercent)
	base, err := releaseAndRead("VmRSS")
	if err != nil {
		return RSS{}, err
	}
	p.rss.Base = base
	rssProbe = p
	defer func() { rssProbe = nil }()
	t, err := table(req.Sizes, map[string]Row{})
	if err != nil {
		return RSS{}, err
	}
	for _, row := range t.Rows {
		if row.Setup == req.Setup && p.done {
			p.rss.Exact = row.Memory.Peak
			return p.rss, nil
		}
	}
	return RSS{}, errors.Errorf("bench: %s: table %d has no setup %q", rssEnv, req.Table, req.Setup)
}

// skips reports whether measure should leave setup out: in a child, every
// setup but the one it measures.
func (p *probe) skips(setup string) bool { return p != nil && setup != p.setup }

// start begins the measured step: the warm-up's garbage is collected and
// free memory returned to the system, so that the resident set before the
// step is what the process holds, then the peak restarts from it.
func (p *probe) start() error {
	if p == nil {
		return nil
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	p.alloc = ms.TotalAlloc
	runtime.GC()
	debug.FreeOSMemory()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		return check.Wrap(err, "bench: restarting the peak RSS")
	}
	// The restarted peak is the resident set at the restart. Read as VmRSS before
	// it, the figure could exceed the peak: the runtime returns pages in the
	// background.
	before, err := readStatus("VmHWM")
	p.rss.Before = before
	return err
}

// stop ends the measured step.
func (p *probe) stop() error {
	if p == nil {
		return nil
	}
	peak, err := readStatus("VmHWM")
	if err != nil {
		return err
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	goal := []metrics.Sample{{Name: "/gc/heap/goal:bytes"}}
	metrics.Read(goal)
	p.rss.Peak, p.rss.StepAlloc, p.rss.HeapGoal = peak, int64(ms.TotalAlloc-p.alloc), int64(goal[0].Value.Uint64())
	p.done = true
	return nil
}

// releaseAndRead collects the garbage, returns free memory to the system
// and reads a field of /proc/self/status.
func releaseAndRead(field string) (int64, error) {
	runtime.GC()
	debug.FreeOSMemory()
	return readStatus(field)
}

// readStatus reads a size field of /proc/self/status ("VmRSS", "VmHWM"),
// in bytes.
func readStatus(field string) (int64, error) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, check.Wrap(err, "bench: peak RSS")
	}
	for _, line := range strings.Split(string(data), "\n") {
		value, ok := strings.CutPrefix(line, field+":")
		if !ok {
			continue
		}
		kb, ok := strings.CutSuffix(strings.TrimSpace(value), " kB")
		n, err := strconv.ParseInt(kb, 10, 64)
		if !ok || err != nil {
			return 0, errors.Errorf("bench: /proc/self/status: %s is %q, expected a size in kB", field, strings.TrimSpace(value))
		}
		return n << 10, nil
	}
	return 0, errors.Errorf("bench: /proc/self/status has no %s", field)
}

// printRSS prints the peak RSS of t's rows beside their exact peaks, for
// the tables that measure it.
func printRSS(w io.Writer, t Table) {
	if rssTables[t.Number] == nil {
		return
	}
	if t.Rows[0].RSS == nil {
		fmt.Fprintf(w, "Peak RSS of table %d: n/a (it needs Linux, where a process can restart its peak through /proc/self/clear_refs).\n\n", t.Number)
		return
	}
	base := t.Rows[0].RSS
	fmt.Fprintf(w, "Real memory of table %d's configurations, each alone in a fresh process (GOGC=%d): one warm-up step, then one measured step.\n\n", t.Number, base.GCPercent)
	fmt.Fprintln(w, "| configuration | exact peak | peak RSS | RSS before the model | peak RSS − before the model | ÷ exact | step's RSS rise | step's heap allocations |")
	fmt.Fprintln(w, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	for _, row := range t.Rows {
		r := row.RSS
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %.2f | %s | %s |\n", row.Name, cell(r.Exact, base.Exact), mib(r.Peak), mib(r.Base),
			cell(r.Model(), base.Model()), ratio(float64(r.Model()), float64(r.Exact)), mib(r.Rise()), mib(r.StepAlloc))
	}
	fmt.Fprintf(w, "\nThe exact peak counts what the step holds (parameters, data, gradients, optimizer state, activations); the peak RSS less the process "+
		"before the model was built counts the same in the process's real memory, with what the exact figure leaves out: the machine's arena "+
		"beyond the peak's values, the step's garbage (mostly the GEMM's packing buffers, allocated again after each collection), the graph. Before the measured step the warm-up's garbage is collected and free memory "+
		"returned to the system; between collections a long run's heap can grow by up to %d%% of the live heap beyond this step's.\n\n", base.GCPercent)
}
