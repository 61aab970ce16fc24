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
			return errors.Wrap(err, "vtab: removing temporary files")
		}
		prefix := "." + filepath.Base(p) + ".tmp"
		for _, e := range entries {
			digits, ok := strings.CutPrefix(e.Name(), prefix)
			if !ok || digits == "" || strings.Trim(digits, "0123456789") != "" || !e.Type().IsRegular() {
				continue
			}
			if err := os.Remove(filepath.Join(filepath.Dir(p), e.Name())); err != nil {
				return errors.Wrap(err, "vtab: removing temporary files")
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
		return errors.Wrap(err, "vtab: -png")
	}
	names := make([]string, len(r.Lines))
	for i, l := range r.Lines {
		names[i] = l.Method
	}
	width := vg.Length(22 * len(r.Lines))

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
			return errors.Wrap(err, "vtab: accuracy chart")
		}
		bars.Color = plotutil.Color(g)
		bars.LineStyle.Width = 0
		bars.Offset = bw * vg.Length(float64(g)-float64(len(groups)-1)/2)
		acc.Add(bars)
		acc.Legend.Add(task, bars)
	}
	acc.Legend.Top = true
	acc.Y.Min, acc.Y.Max = 0, 125 // room above 100% for the legend
	acc.NominalX(names...)
	if err := save(acc, max(width*3, 6*vg.Inch), 4*vg.Inch, filepath.Join(dir, accuracyChart)); err != nil {
		return err
	}

	mem := plot.New()
	mem.Title.Text = "Peak memory of a training step"
	mem.Y.Label.Text = "MiB"
	parts := []struct {
		name string
		get  func(l Line) int64
	}{
		{"params + inputs", func(l Line) int64 { return l.Memory.Params }},
		{"grads", func(l Line) int64 { return l.Memory.Grads }},
		{"optimizer", func(l Line) int64 { return l.Memory.Optimizer }},
		{"activations", func(l Line) int64 { return l.Memory.Activations }},
	}
	var below *plotter.BarChart
	var top int64
	for _, l := range r.Lines {
		top = max(top, l.Memory.Peak)
	}
	mem.Y.Min, mem.Y.Max = 0, 1.35*mib(top) // room for the legend
	for k, part := range parts {
		values := make(plotter.Values, len(r.Lines))
		for i, l := range r.Lines {
			values[i] = mib(part.get(l))
		}
		bars, err := plotter.NewBarChart(values, vg.Points(40))
		if err != nil {
			return errors.Wrap(err, "vtab: memory chart")
		}
		bars.Color = plotutil.Color(k)
		bars.LineStyle.Width = 0
		if below != nil {
			bars.StackOn(below)
		}
		below = bars
		mem.Add(bars)
		mem.Legend.Add(part.name, bars)
	}
	mem.Legend.Top = true
	mem.NominalX(names...)
	return save(mem, max(width*3, 6*vg.Inch), 4*vg.Inch, filepath.Join(dir, memoryChart))
}

// save writes p as a PNG, atomically.
func save(p *plot.Plot, w, h vg.Length, path string) error {
	wt, err := p.WriterTo(w, h, "png")
	if err != nil {
		return errors.Wrapf(err, "vtab: drawing %s", path)
	}
	return checkpoint.WriteAtomic(path, func(w io.Writer) error {
		_, err := wt.WriteTo(w)
		return err
	})
}
