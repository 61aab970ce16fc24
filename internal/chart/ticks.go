package chart

import (
	"math"
	"strconv"

	"gonum.org/v1/plot"
)

// StepTicks marks an axis of training steps or epochs at whole numbers
// only: a labelled tick every 1, 2 or 5 times a power of ten, the smallest
// such spacing that leaves at most maxStepTicks ticks, and no minor ticks.
// A range that holds no whole number gets no tick.
type StepTicks struct{}

var _ plot.Ticker = StepTicks{}

// maxStepTicks is the most ticks StepTicks puts on an axis: enough to read
// a value off, few enough that five-digit labels do not touch.
const maxStepTicks = 8

// Ticks returns the ticks between min and max.
func (StepTicks) Ticks(min, max float64) []plot.Tick {
	first, last := math.Ceil(min), math.Floor(max)
	if !(first <= last) { // also NaN
		return nil
	}
	step := 1.0
	for k := 0; (last-first)/step >= maxStepTicks; k++ {
		step = [...]float64{2, 5, 10}[k%3] * math.Pow10(k/3)
	}
	var ticks []plot.Tick
	for v := math.Ceil(first/step) * step; v <= last; v += step {
		ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', 0, 64)})
	}
	return ticks
}
