package machine

import (
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
)

// Option configures a Machine.
type Option func(*config) error

type config struct {
	nanWatch  bool
	newSolver func() gorgonia.Solver
	keep      func(*gorgonia.Node) bool // WithRecompute's
}

// WithNaNWatch makes RunAll stop at the first node whose value holds a NaN or an
// infinity and name it. Off by default: it reads every value once more.
func WithNaNWatch() Option {
	return func(c *config) error {
		c.nanWatch = true
		return nil
	}
}

// WithFusedUpdate steps every parameter as soon as its gradient is computed and nothing
// reads the parameter or the gradient any more, then frees the gradient, so the gradients
// of all layers never coexist. newSolver is called once per parameter at New: each
// parameter gets its own solver, since gorgonia's solvers keep their state by position in
// the slice they are given. Off by default; when on, the gradients are not bound to their
// nodes after RunAll and ValueGrads reports them consumed. The outputs must include
// the gradient of at least one parameter.
func WithFusedUpdate(newSolver func() gorgonia.Solver) Option {
	return func(c *config) error {
		if newSolver == nil {
			return errors.New("machine: WithFusedUpdate: nil solver constructor")
		}
		c.newSolver = newSolver
		return nil
	}
}
