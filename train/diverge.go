package train

import (
	"fmt"
	"math"
)

// A run diverges when a loss is NaN or infinite, or when a training loss is more than
// divergeFactor times the run's start: the mean loss of its first startSteps steps (of
// the steps before, while there are fewer). A sound run's loss starts near its highest
// and falls; at ten times that the weights are blown up and do not come back (a language
// model at learning rate 1e6 climbs to a loss of 1e13 without a NaN).
const (
	startSteps    = 5
	divergeFactor = 10
)

// Diverged says how loss, the loss after the steps whose losses are given, breaks the
// rule above ("is NaN", "is 1.2e+13, more than 10× the run's start, ..."), or "" when
// it does not. A run diverges when a loss is NaN or infinite, or more than 10 times the
// mean loss of the run's first 5 steps (of the steps before, while there are fewer).
func Diverged(losses []float64, loss float64) string {
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return fmt.Sprintf("is %v", loss)
	}
	n := min(len(losses), startSteps)
	if n == 0 {
		return ""
	}
	start := 0.0
	for _, l := range losses[:n] {
		start += l
	}
	start /= float64(n)
	if loss > divergeFactor*start {
		return fmt.Sprintf("is %.4g, more than %d× the run's start, %.4g (the mean loss of its first %d steps)", loss, divergeFactor, start, n)
	}
	return ""
}
