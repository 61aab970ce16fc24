package chart

import (
	"io"

	"github.com/pkg/errors"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/velora-go/velora/checkpoint"
)

// legendGap is the space on each side of the legend's column.
const legendGap = vg.Length(8) // points

// SavePNG writes p to path as a PNG, atomically (checkpoint.WriteAtomic).
// The plot takes w by h and p's legend a column to its right, level with
// the top of the data area, so that the legend never covers a bar or a
// curve; the image is taller than h where the legend needs it.
func SavePNG(p *plot.Plot, w, h vg.Length, path string) error {
	legend := p.Legend
	size := legend.Rectangle(draw.Canvas{}).Size()
	var column, title vg.Length
	if size.X > 0 {
		column = size.X + 2*legendGap
	}
	if p.Title.Text != "" {
		title = p.Title.TextStyle.Rectangle(p.Title.Text).Size().Y + p.Title.Padding
	}
	h = max(h, title+size.Y+legendGap)
	c, err := draw.NewFormattedCanvas(w+column, h, "png")
	if err != nil {
		return errors.Wrapf(err, "chart: drawing %s", path)
	}
	dc := draw.New(c)
	body := *p
	body.Legend = plot.NewLegend() // drawn beside the data area, not over it
	body.Draw(draw.Crop(dc, 0, -column, 0, 0))
	legend.Top, legend.Left = true, true
	legend.Draw(draw.Crop(dc, w+legendGap, -legendGap, 0, -title))
	return errors.Wrapf(checkpoint.WriteAtomic(path, func(out io.Writer) error {
		_, err := c.WriteTo(out)
		return err
	}), "chart: writing %s", path)
}
