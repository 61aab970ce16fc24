package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/pkg/errors"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/velora-go/velora/checkpoint"
)

// writeJSON writes the report atomically.
func writeJSON(path string, r Report) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return errors.Wrap(err, "encoding the report")
	}
	return checkpoint.WriteAtomic(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// writeCharts draws the peak split of the layer, sub-token and fine-tuning
// tables, those the run measured, as stacked bars.
func writeCharts(dir string, r Report) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return errors.Wrapf(err, "making %s", dir)
	}
	for _, t := range r.Tables {
		if t.Number != tableLayers && t.Number != tableSubTokens && t.Number != tableFineTune {
			continue
		}
		path := filepath.Join(dir, fmt.Sprintf("table%d.png", t.Number))
		if err := chart(path, fmt.Sprintf("Table %d: peak memory of a training step", t.Number), t); err != nil {
			return err
		}
	}
	return nil
}

// chart stacks parameters, gradients, optimizer state and activations per
// row, in MiB.
func chart(path, title string, t Table) error {
	p := plot.New()
	p.Title.Text = title
	p.Y.Label.Text = "peak memory (MiB)"
	names := make([]string, len(t.Rows))
	parts := []struct {
		name string
		get  func(Row) int64
	}{
		{"parameters", func(r Row) int64 { return r.Memory.Params }},
		{"gradients", func(r Row) int64 { return r.Memory.Grads }},
		{"optimizer", func(r Row) int64 { return r.Memory.Optimizer }},
		{"activations", func(r Row) int64 { return r.Memory.Activations }},
	}
	var below *plotter.BarChart
	for k, part := range parts {
		values := make(plotter.Values, len(t.Rows))
		for i, r := range t.Rows {
			values[i] = float64(part.get(r)) / (1 << 20)
			names[i] = r.Name
		}
		bars, err := plotter.NewBarChart(values, vg.Points(18))
		if err != nil {
			return errors.Wrapf(err, "charting %s", path)
		}
		bars.Color = plotutil.Color(k)
		if below != nil {
			bars.StackOn(below)
		}
		below = bars
		p.Add(bars)
		p.Legend.Add(part.name, bars)
	}
	p.Legend.Top = true
	p.Y.Max *= 1.3 // room for the legend above the tallest bar
	p.NominalX(names...)
	return errors.Wrapf(p.Save(vg.Length(40+22*len(t.Rows))*vg.Millimeter, 12*vg.Centimeter, path), "saving %s", path)
}
