package main

import (
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/pkg/errors"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/velora-go/velora/checkpoint"
	"github.com/velora-go/velora/internal/chart"
	"github.com/velora-go/velora/internal/check"
	"github.com/velora-go/velora/train"
)

// removeTemps removes the temporary files that a kill during an atomic write
// of one of paths (checkpoint.WriteAtomic) left beside it: "." + its name +
// ".tmp" + digits. Only those of paths go, since their folders may be the
// user's and hold other programs' files. Empty paths are skipped.
func removeTemps(paths ...string) error {
	for _, p := range paths {
		if p == "" {
			continue
		}
		entries, err := os.ReadDir(filepath.Dir(p))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return check.Wrap(err, "vtab: removing temporary files")
		}
		prefix := "." + filepath.Base(p) + ".tmp"
		for _, e := range entries {
			digits, ok := strings.CutPrefix(e.Name(), prefix)
			if !ok || digits == "" || strings.Trim(digits, "0123456789") != "" || !e.Type().IsRegular() {
				continue
			}
			if err := os.Remove(filepath.Join(filepath.Dir(p), e.Name())); err != nil {
				return check.Wrap(err, "vtab: removing temporary files")
			}
		}
	}
	return nil
}

// WriteJSON writes the report to path atomically.
func (r *Report) WriteJSON(path string) error {
	return checkpoint.WriteAtomic(path, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	})
}

// The files Plot draws into its folder.
const (
	accuracyChart = "accuracy.png"
	memoryChart   = "memory.png"
)

// Plot draws accuracy.png (bars per method, one per task and the mean) and
// memory.png (each method's peak, stacked by what holds the bytes) into
// dir.
func (r *Report) Plot(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return check.Wrap(err, "vtab: -png")
	}
	names := make([]string, len(r.Lines))
	peaks := make([]train.Memory, len(r.Lines))
	for i, l := range r.Lines {
		names[i], peaks[i] = l.Method, l.Memory
	}
	width := max(vg.Length(66*len(r.Lines)), 6*vg.Inch)

	acc := plot.New()
	acc.Title.Text = "Test accuracy"
	acc.Y.Label.Text = "%"
	groups := append(append([]string(nil), r.Tasks...), "mean")
	bw := vg.Points(float64(60) / float64(len(groups)))
	for g, task := range groups {
		values := make(plotter.Values, len(r.Lines))
		for i, l := range r.Lines {
			values[i] = l.Accuracy[task]
			if task == "mean" {
				values[i] = l.Mean
			}
		}
		bars, err := plotter.NewBarChart(values, bw)
		if err != nil {
			return check.Wrap(err, "vtab: accuracy chart")
		}
		bars.Color = plotutil.Color(g)
		bars.LineStyle.Width = 0
		bars.Offset = bw * vg.Length(float64(g)-float64(len(groups)-1)/2)
		acc.Add(bars)
		acc.Legend.Add(task, bars)
	}
	acc.Y.Min, acc.Y.Max = 0, 100
	acc.NominalX(names...)
	if err := chart.SavePNG(acc, width, 4*vg.Inch, filepath.Join(dir, accuracyChart)); err != nil {
		return check.Wrap(err, "vtab: accuracy chart")
	}

	mem := plot.New()
	mem.Title.Text = "Peak memory of a training step"
	if err := chart.PeakBars(mem, names, peaks, vg.Points(40)); err != nil {
		return check.Wrap(err, "vtab: memory chart")
	}
	mem.Y.Min = 0
	return errors.Wrap(chart.SavePNG(mem, width, 4*vg.Inch, filepath.Join(dir, memoryChart)), "vtab: memory chart")
}
