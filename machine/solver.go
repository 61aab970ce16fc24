package machine

import (
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
)

// SolverStateBytes is the memory a gorgonia solver holds once it has stepped each of
// params: its optimizer state, which Stats leaves out. gorgonia keeps that state in
// unexported fields, so the count follows gorgonia v0.9.18's solvers rather than reading
// them: VanillaSolver keeps nothing; Momentum, RMSPropSolver, AdamSolver, AdaGradSolver
// and BarzilaiBorweinSolver keep, per parameter, a copy shaped like the weights and one
// shaped like the gradient; AdamW keeps three tensors shaped like the gradient. Another
// solver type is an error: add its state to the machine's figures yourself.
func SolverStateBytes(s gorgonia.Solver, params gorgonia.Nodes) (int64, error) {
	var copies int64
	switch s.(type) {
	case *gorgonia.VanillaSolver:
		copies = 0
	case *gorgonia.Momentum, *gorgonia.RMSPropSolver, *gorgonia.AdamSolver, *gorgonia.AdaGradSolver, *gorgonia.BarzilaiBorweinSolver:
		copies = 2
	case *gorgonia.AdamW:
		copies = 3
	default:
		return 0, errors.Errorf("machine: solver %T, expected one of gorgonia's solvers, whose state size is known", s)
	}
	var total int64
	for _, p := range params {
		total += nodeBytes(p)
	}
	return copies * total, nil
}
