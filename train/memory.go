package train

import (
	"fmt"

	"github.com/velora-go/velora/machine"
)

// Memory is the peak of a training step, split by what holds the bytes.
// Every figure is exact except RuntimeHeap, the Go runtime's own sample.
type Memory struct {
	Params      int64 // trainable parameters, frozen weights and inputs live at the peak, plus extra bytes (NF4)
	Grads       int64 // gradients live at the peak
	Optimizer   int64 // the solver's state
	Activations int64 // forward values kept for the backward pass, and the backward's intermediates
	Peak        int64 // the sum: the step's peak
	RuntimeHeap int64 // the Go runtime's heap peak during the step (approximate)
}

// Memory reports the last step's peak. The optimizer's state is the
// solver's StateBytes when it has one, else machine.SolverStateBytes.
func (t *Trainer) Memory() (Memory, error) {
	s := t.Machine.Stats()
	m := Memory{
		Params:      s.ParamBytes + s.InputBytes + t.extra,
		Grads:       s.GradBytes,
		Activations: s.ActivationBytes + s.TransientBytes,
		RuntimeHeap: s.RuntimeHeapPeak,
	}
	switch sv := t.Solver.(type) {
	case nil:
	case StateSizer:
		m.Optimizer = sv.StateBytes()
	default:
		n, err := machine.SolverStateBytes(sv, t.Params)
		if err != nil {
			return m, err
		}
		m.Optimizer = n
	}
	m.Peak = m.Params + m.Grads + m.Optimizer + m.Activations
	return m, nil
}

// String is the breakdown on one line, in MiB.
func (m Memory) String() string {
	return fmt.Sprintf("peak %s = params %s + grads %s + optimizer %s + activations %s (Go heap %s)",
		MiB(m.Peak), MiB(m.Params), MiB(m.Grads), MiB(m.Optimizer), MiB(m.Activations), MiB(m.RuntimeHeap))
}

// MiB formats bytes in mebibytes.
func MiB(n int64) string { return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20)) }
