// Package chart draws the PNG charts of the bench command and the examples
// with gonum/plot, the same way in each: a training step's peak memory as
// stacked bars (PeakBars), training steps on an axis with whole-number
// ticks only (StepTicks), and the legend in a column beside the data area,
// where it cannot cover a bar or a curve (SavePNG).
//
//	p := plot.New()
//	p.Title.Text = "Peak memory of a training step"
//	if err := chart.PeakBars(p, names, peaks, vg.Points(18)); err != nil {
//		return err
//	}
//	return chart.SavePNG(p, 12*vg.Centimeter, 12*vg.Centimeter, "memory.png")
package chart
