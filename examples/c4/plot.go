package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/pkg/errors"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/velora-go/velora/internal/chart"
	"github.com/velora-go/velora/internal/check"
)

// WritePNG draws every variant's training loss against the step into
// dir/<name>-loss.png (name: table4 or the ablation) and returns its path.
// Each curve is a moving average over a fiftieth of the run, for legibility.
func (r Report) WritePNG(dir string) (string, error) {
	p := plot.New()
	name := "table4"
	if r.Ablate != "" {
		name = "ablate-" + r.Ablate
	}
	p.Title.Text = fmt.Sprintf("C4-format pre-training, LLaMA %s (%s)", r.Config.Model, name)
	p.X.Label.Text = "step"
	p.Y.Label.Text = "training loss (moving average)"
	var lines []any
	for _, x := range r.Results {
		if len(x.Losses) == 0 {
			continue
		}
		lines = append(lines, x.Label, movingAverage(x.Losses, max(1, len(x.Losses)/50)))
	}
	if err := plotutil.AddLines(p, lines...); err != nil {
		return "", check.Wrap(err, "c4: plot")
	}
	p.X.Tick.Marker = chart.StepTicks{}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", check.Wrap(err, "c4: -png")
	}
	path := filepath.Join(dir, name+"-loss.png")
	return path, errors.Wrap(chart.SavePNG(p, 8*vg.Inch, 5*vg.Inch, path), "c4: -png")
}

// movingAverage is the mean of each step's last window losses, as points
// (step, loss) with steps from 1.
func movingAverage(losses []float64, window int) plotter.XYs {
	out := make(plotter.XYs, len(losses))
	var sum float64
	for i, l := range losses {
		sum += l
		if i >= window {
			sum -= losses[i-window]
		}
		out[i].X = float64(i + 1)
		out[i].Y = sum / float64(min(i+1, window))
	}
	return out
}
