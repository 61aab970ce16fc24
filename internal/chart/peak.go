package chart

import (
	"github.com/pkg/errors"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/velora-go/velora/train"
)

// peakParts are the layers of a peak's bar, bottom first, as train.Memory
// splits it.
var peakParts = []struct {
	name string
	get  func(train.Memory) int64
}{
	{"parameters + inputs", func(m train.Memory) int64 { return m.Params }},
	{"gradients", func(m train.Memory) int64 { return m.Grads }},
	{"optimizer state", func(m train.Memory) int64 { return m.Optimizer }},
	{"activations", func(m train.Memory) int64 { return m.Activations }},
}

// PeakBars adds to p one bar per name, width wide, stacking the parts of
// the matching peak in MiB (parameters and inputs at the bottom, then
// gradients, optimizer state and activations, each in its own colour and
// named in the legend), and labels the bars along X with names.
func PeakBars(p *plot.Plot, names []string, peaks []train.Memory, width vg.Length) error {
	if len(names) == 0 || len(names) != len(peaks) {
		return errors.Errorf("chart: %d names for %d peaks, expected as many names as peaks and at least one", len(names), len(peaks))
	}
	var below *plotter.BarChart
	for k, part := range peakParts {
		values := make(plotter.Values, len(peaks))
		for i, m := range peaks {
			values[i] = float64(part.get(m)) / (1 << 20)
		}
		bars, err := plotter.NewBarChart(values, width)
		if err != nil {
			return errors.Wrapf(err, "chart: %s", part.name)
		}
		bars.Color = plotutil.Color(k)
		bars.LineStyle.Width = 0
		if below != nil {
			bars.StackOn(below)
		}
		below = bars
		p.Add(bars)
		p.Legend.Add(part.name, bars)
	}
	p.Y.Label.Text = "peak memory (MiB)"
	p.NominalX(names...)
	return nil
}
