package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/pkg/errors"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"

	"github.com/velora-go/velora/checkpoint"
	"github.com/velora-go/velora/internal/chart"
	"github.com/velora-go/velora/train"
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
		if err := peakChart(path, fmt.Sprintf("Table %d: peak memory of a training step", t.Number), t); err != nil {
			return err
		}
	}
	return nil
}

// peakChart draws t's peaks as stacked bars.
func peakChart(path, title string, t Table) error {
	p := plot.New()
	p.Title.Text = title
	names := make([]string, len(t.Rows))
	peaks := make([]train.Memory, len(t.Rows))
	for i, r := range t.Rows {
		names[i], peaks[i] = r.Name, r.Memory
	}
	if err := chart.PeakBars(p, names, peaks, vg.Points(18)); err != nil {
		return errors.Wrapf(err, "charting %s", path)
	}
	return chart.SavePNG(p, vg.Length(40+22*len(t.Rows))*vg.Millimeter, 12*vg.Centimeter, path)
}
