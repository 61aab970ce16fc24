package machine

import (
	"runtime/metrics"

	"gorgonia.org/gorgonia"
)

// Stats describes a machine's last completed run. Byte counts are exact sums over the
// values the machine held: each buffer counts once however many values share it. They do
// not include memory an op allocates and drops inside its own Do, the buffer pool, or a
// solver's state (see SolverStateBytes).
type Stats struct {
	// PeakBytes is the most bytes live at once: leaves the run reads, parameters whose
	// gradients are outputs, and every computed value from the moment its node runs until
	// its last reader has run (outputs until the end of the run). A node's arguments and
	// its result count together.
	PeakBytes int64

	// The split of PeakBytes at the moment of the peak; the five add up to PeakBytes.
	ParamBytes      int64 // parameters: leaves whose gradients are outputs
	GradBytes       int64 // the parameters' gradients
	InputBytes      int64 // other leaves: data, frozen weights, constants
	ActivationBytes int64 // the forward pass: computed values the outputs that are not gradients depend on
	TransientBytes  int64 // every other computed value: the backward pass's intermediates

	// PeakNode is the node whose value, once computed, brought the live bytes to the
	// peak; nil when the peak is the leaves alone.
	PeakNode *gorgonia.Node

	// RuntimeHeapPeak is the most the Go runtime reported for heap objects
	// (/memory/classes/heap/objects:bytes), sampled at the start and after each node.
	// Approximate: it counts garbage not yet collected, the buffer pool and everything
	// else in the process, and misses spikes inside an op.
	RuntimeHeapPeak int64

	// PooledBytes is what the buffer pool holds at the end of the run.
	PooledBytes int64

	// ArenaBytes is the size of the arena the values of ops that write into a buffer they
	// are handed live in (see the package documentation); 0 when the machine has none.
	ArenaBytes int64

	Nodes      int // node evaluations per run, recomputations included
	Recomputed int // evaluations WithRecompute added: forward values computed again for the backward pass
	Runs       int // runs completed since New
}

// heapSampler tracks the runtime's heap-object bytes across a run.
type heapSampler struct {
	samples []metrics.Sample
	peak    int64
}

func newHeapSampler() heapSampler {
	return heapSampler{samples: []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}}
}

func (h *heapSampler) start() {
	h.peak = 0
	h.sample()
}

func (h *heapSampler) sample() {
	metrics.Read(h.samples)
	if v := int64(h.samples[0].Value.Uint64()); v > h.peak {
		h.peak = v
	}
}
