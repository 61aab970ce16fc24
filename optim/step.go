package optim

import (
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// stepState is what AdamW, GaLore and FLoRA keep alike: the learning rate, the
// number of steps taken, and per parameter, by its index in the slice passed to
// Step, its identity at the first step and the solver's state S.
type stepState[S any] struct {
	lr     float64
	t      int
	params []paramID
	state  []S
}

// SetLearningRate sets the learning rate of the following steps; a
// learning-rate schedule (Cosine.At) gives it before each step. Zero is a
// learning rate (AdamW's weight decay scales with it too), not the default;
// a negative or non-finite one makes Step fail. Every solver has it through
// its embedded stepState.
func (s *stepState[S]) SetLearningRate(lr float64) { s.lr = lr }

// stepRule is how a solver Sv with per-parameter state S takes part in
// runStep: newState makes a parameter's state at the first step; prepare, when
// not nil, does the work of the step that may fail (GaLore's SVDs), before any
// state or weight changes; update32 and update64 update one parameter, w and g
// of its precision, after the step count has moved on.
type stepRule[Sv, S any] struct {
	name     string
	newState func(s Sv, k int, p paramID) S
	prepare  func(s Sv, ps []optParam, state []S) error
	update32 func(s Sv, w, g []float32, shape tensor.Shape, st *S)
	update64 func(s Sv, w, g []float64, shape tensor.Shape, st *S)
}

// runStep is one step of solver s, whose stepState is st: it reads and checks
// model's parameters (stepParams), makes their state on the first step, runs
// prepare, counts the step and updates every parameter in its dtype. It changes
// nothing when it returns an error.
func runStep[Sv, S any](s Sv, st *stepState[S], how stepRule[Sv, S], model []gorgonia.ValueGrad) error {
	ps, err := stepParams(how.name, model, st.params, st.lr)
	if err != nil {
		return err
	}
	state := st.state
	if st.params == nil {
		state = make([]S, len(ps))
		for k, p := range ps {
			state[k] = how.newState(s, k, p.paramID)
		}
	}
	if how.prepare != nil {
		if err := how.prepare(s, ps, state); err != nil {
			return err
		}
	}
	if st.params == nil {
		st.params, st.state = idsOf(ps), state
	}
	st.t++
	for k, p := range ps {
		switch w := p.w.(type) {
		case []float32:
			how.update32(s, w, p.g.([]float32), p.shape, &st.state[k])
		case []float64:
			how.update64(s, w, p.g.([]float64), p.shape, &st.state[k])
		}
	}
	return nil
}
