package main

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/pkg/errors"

	"github.com/velora-go/velora/checkpoint"
	"github.com/velora-go/velora/data/vtab"
	"github.com/velora-go/velora/internal/check"
	"github.com/velora-go/velora/internal/cli"
	"github.com/velora-go/velora/train"
)

// Report is what a run found: one line per row, as in the paper's Table 1.
type Report struct {
	Config  Config      `json:"config"`
	Tasks   []string    `json:"tasks"`
	Lines   []Line      `json:"rows"`
	Results []Result    `json:"runs"` // every (task, row) run, tasks outer
	Seconds float64     `json:"seconds"`
	Machine MachineInfo `json:"machine"`
}

// Line is one row of the table.
type Line struct {
	Method    string             `json:"method"`
	Memory    train.Memory       `json:"memory"`     // the largest peak over the tasks
	HeapAbove int64              `json:"heap_above"` // the Go heap figure beside it
	Trainable int                `json:"trainable_params"`
	Accuracy  map[string]float64 `json:"accuracy"` // by task, percent
	Mean      float64            `json:"mean"`
}

// Run fine-tunes every row of c on every task and collects the results.
// The configuration goes to out first; progress and per-run lines go to
// log.
func Run(c Config, out, log io.Writer) (*Report, error) {
	start := time.Now()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if err := cli.CheckOutputs("vtab",
		cli.Output{Flag: "-json", Path: c.JSON, Ours: checkpoint.JSONObjectWith("config")},
		cli.Output{Flag: "-png", Path: c.PNG, Folder: true},
		cli.Output{Flag: "-save-adapter", Path: c.SaveAdapter, Folder: true},
	); err != nil {
		return nil, err
	}
	var charts []string
	if c.PNG != "" {
		charts = []string{filepath.Join(c.PNG, accuracyChart), filepath.Join(c.PNG, memoryChart)}
	}
	if err := removeTemps(append(charts, c.JSON)...); err != nil { // left by a kill during a write
		return nil, err
	}
	data := vtab.Default()
	if c.Data != "" {
		st, err := os.Stat(c.Data)
		if err != nil {
			return nil, check.Wrap(err, "vtab: -data")
		}
		if !st.IsDir() {
			return nil, errors.Errorf("vtab: -data %s is not a folder", c.Data)
		}
		data = os.DirFS(c.Data)
	}
	tasks, err := selectTasks(data, c.Tasks, c.Classes)
	if err != nil {
		return nil, err
	}
	c.Tasks = tasks
	c.Print(out)
	fmt.Fprintln(out)

	bar := newProgress(c.Progress, log)
	defer bar.finish()
	backbone, err := Backbone(c, data, bar)
	if err != nil {
		return nil, err
	}
	base, err := backboneName(c, data)
	if err != nil {
		return nil, err
	}
	rep := &Report{Config: c, Tasks: tasks, Machine: thisMachine()}
	var done int64
	for i, task := range tasks {
		cfg := vtab.Config{Size: c.Model.ImageSize, Limit: c.TestLimit, Classes: c.Classes}
		trainSet, err := vtab.Load(data, task, vtab.Train800Val200, vtab.Config{Size: c.Model.ImageSize, Classes: c.Classes})
		if err != nil {
			return nil, err
		}
		testSet, err := vtab.Load(data, task, vtab.Test, cfg)
		if err != nil {
			return nil, err
		}
		perRun := int64(c.Epochs * ((trainSet.Len() + c.Batch - 1) / c.Batch))
		total := done + perRun*int64(len(c.Rows)*(len(tasks)-i))
		for _, r := range c.Rows {
			bar.start(fmt.Sprintf("%s %s", task, r), total)
			bar.set(done)
			res, err := finetune(c, backbone, base, r, trainSet, testSet, bar.tick)
			if err != nil {
				return nil, err
			}
			done += int64(res.Steps)
			fmt.Fprintf(bar, "%-14s %-16s accuracy %5.1f%%  loss %.3f  peak %s (Go heap +%s)  %d trainable  %.1fs\n",
				task, r, res.Accuracy, res.Loss, train.MiB(res.Memory.Peak), train.MiB(res.HeapAbove), res.Trainable, res.Seconds)
			if res.Adapter != "" {
				fmt.Fprintf(bar, "%-14s %-16s adapter saved to %s\n", task, r, res.Adapter)
			}
			rep.Results = append(rep.Results, res)
		}
	}
	rep.Lines = lines(c.Rows, tasks, rep.Results)
	rep.Seconds = time.Since(start).Seconds()
	return rep, nil
}

// backboneName names the weights the adapters of -save-adapter belong to,
// their base_model_name_or_path: the -checkpoint file, or the cache file of
// the pre-trained tiny ViT.
func backboneName(c Config, data fs.FS) (string, error) {
	if c.Checkpoint != "" {
		return c.Checkpoint, nil
	}
	_, source := upstreamFS(c, data)
	return cachePath(c, pretrainKey(c, source))
}

// selectTasks checks the named tasks against the tree, or lists them all,
// and checks that each has a class count: its own, or classes (-classes),
// which must then agree with it.
func selectTasks(data fs.FS, names []string, classes int) ([]string, error) {
	all, err := vtab.Tasks(data)
	if err != nil {
		return nil, err
	}
	var known []string
	for _, t := range all {
		known = append(known, t.Name)
	}
	if len(names) == 0 {
		names = known
	}
	for _, n := range names {
		i := slices.Index(known, n)
		switch {
		case i < 0:
			return nil, errors.Errorf("vtab: task %q is not in the data, which has %s", n, strings.Join(known, ", "))
		case all[i].Classes == 0 && classes == 0:
			return nil, errors.Errorf("vtab: task %s has no class count: it is not a VTAB-1k task and has no %s; "+
				"write the names of its classes there, one per line in label order, or give -classes N", n, path.Join(n, vtab.ClassesFile))
		case all[i].Classes > 0 && classes > 0 && all[i].Classes != classes:
			return nil, errors.Errorf("vtab: -classes %d, but task %s has %d classes", classes, n, all[i].Classes)
		}
	}
	return names, nil
}

// lines gathers the results into one line per row: accuracy per task,
// their mean, and the largest memory peak over the tasks.
func lines(rows []Row, tasks []string, results []Result) []Line {
	out := make([]Line, len(rows))
	for i, r := range rows {
		l := Line{Method: r.String(), Accuracy: map[string]float64{}}
		for _, res := range results {
			if res.Method != l.Method {
				continue
			}
			l.Accuracy[res.Task] = res.Accuracy
			l.Mean += res.Accuracy / float64(len(tasks))
			if res.Memory.Peak > l.Memory.Peak {
				l.Memory = res.Memory
			}
			l.HeapAbove = max(l.HeapAbove, res.HeapAbove)
			l.Trainable = max(l.Trainable, res.Trainable)
		}
		out[i] = l
	}
	return out
}
