// Package machine provides a gorgonia VM that runs only what the requested outputs need,
// frees every value after its last reader, recycles freed buffers, and counts the live
// bytes exactly.
//
// gorgonia's TapeMachine binds every node's value to its node for the whole run, so every
// forward activation stays alive through the backward pass and no activation compression
// (VeLoRA, arXiv 2405.17991) can lower the peak. A Machine is a drop-in replacement in a
// training loop:
//
//	grads, _ := gorgonia.Grad(cost, params...)
//	m, _ := machine.New(g, append(gorgonia.Nodes{cost}, grads...))
//	m.RunAll()                          // cost.Value(), grads[i].Value() as with TapeMachine
//	solver.Step(m.ValueGrads(params))
//	fmt.Println(m.Stats().PeakBytes)
//
// # How a run goes
//
// New collects the ancestors of the outputs; nothing else runs, so the gradients Grad built
// for inputs nobody asked about cost nothing. It fixes the order once: among the nodes
// whose arguments exist, the one that lowers the live bytes most (the bytes of the
// arguments it is the last to read, minus the bytes it allocates) runs first, the lower
// node ID on a tie. A compressed activation is thus computed as soon as its input exists,
// and the input dies right after its last forward reader.
//
// RunAll counts, per buffer, the reads still to come. Values that share memory (a
// Reshape's view, Iop's result, one constant bound in two places) share one buffer: its
// bytes count once and it is freed when the last read of any value in it is done. Leaves
// (inputs, parameters, constants) are never freed or overwritten; outputs are kept to the
// end of the run and bound to their nodes with gorgonia.UnsafeLet. Output values stay
// valid until the next RunAll, Reset or Close.
//
// An op that implements gorgonia.UsePreallocDoer writes its result into a zeroed buffer
// the machine hands it (Do runs instead when UsePreallocDo fails); an op that implements
// gorgonia.UnsafeDoer and overwrites an argument of its result's size runs on a copy of
// that argument in such a buffer, which is what its Do does in fresh memory. The buffers
// are slots of one arena, laid out before the first run from the schedule: values alive
// at the same time get disjoint memory, the others share it whatever their sizes. So the
// arena is the most those values need at once plus a little packing waste (0.5% on the
// bench's LLaMA), the Go heap follows the live bytes instead of waiting for the
// collector, and a run allocates next to nothing. A pool keyed by size would hold more:
// for every size the most tensors of that size alive at once, maxima that fall at
// different moments. When a slot is still in use as its node runs (an op returned a view
// the schedule did not foresee), the value goes to fresh memory and the next run lays out
// the arena again from what the runs observed; the second time, or when a caller binds a
// value from the arena to an input, the machine falls back to such a pool of freed
// tensors. Close lets the memory go.
//
// # Categories
//
// Stats splits the peak five ways, by rules on the graph alone:
//
//   - parameters: leaves that an output is the gradient of (the output's DerivOf, which
//     gorgonia.Grad sets, lists the leaf), whether or not any node reads them;
//   - gradients: those outputs;
//   - inputs: every other leaf the run reads: data, frozen weights, constants;
//   - activations: the forward pass, every computed value that an output which is not a
//     gradient of anything (the cost, a metric) depends on;
//   - transient: every other computed value, the backward pass's intermediates.
//
// Pass the cost among the outputs, or the forward pass counts as transient. Optimizer
// state belongs to the solver; SolverStateBytes gives it for gorgonia's solvers.
//
// # Fused update
//
// With WithFusedUpdate each parameter is stepped by its own solver as soon as its
// gradient exists and nothing reads the parameter or the gradient any more, and the
// gradient is freed at once: the gradients of all layers never coexist. Because every
// parameter has its own solver, the result equals one solver stepping all parameters
// together when the solver treats parameters independently (gorgonia's Adam, RMSProp,
// AdaGrad, Momentum and Vanilla do). gorgonia v0.9.18's AdamW panics unless its
// ValueGrads are *gorgonia.Node and never writes the new weights back; use package
// optim's AdamW (PyTorch's semantics) or gorgonia's AdamSolver.
//
// Statement nodes (gorgonia.Read, Let ops) are not supported, and the machine runs on the
// CPU only.
package machine
