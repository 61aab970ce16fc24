package peft

import (
	"fmt"
	"sort"
	"strings"

	"github.com/velora-go/velora/layers"
)

// Summary describes what a method changed in a built model.
type Summary struct {
	Trainable       []string // trainable parameters, in build order
	TrainableParams int      // their scalar count
	FrozenParams    int      // the scalar count of every other parameter in b.Params
	Compressed      []string // modules whose activation VeLoRA compresses, sorted
}

// Summarize describes the model built on b.
func Summarize(b *layers.Builder) Summary {
	var s Summary
	trainable := map[string]bool{}
	for _, n := range b.Learnables() {
		s.Trainable = append(s.Trainable, n.Name())
		s.TrainableParams += n.Shape().TotalSize()
		trainable[n.Name()] = true
	}
	for _, n := range b.Params.Names() {
		if v := b.Params.Get(n); !trainable[n] {
			s.FrozenParams += v.Shape().TotalSize()
		}
	}
	for m := range b.Projections() {
		s.Compressed = append(s.Compressed, m)
	}
	sort.Strings(s.Compressed)
	return s
}

// String reports the trainable parameters, their share and what VeLoRA compresses.
func (s Summary) String() string {
	total := s.TrainableParams + s.FrozenParams
	out := fmt.Sprintf("%d trainable parameters in %d tensors (%.2f%% of %d)", s.TrainableParams, len(s.Trainable), 100*float64(s.TrainableParams)/float64(max(total, 1)), total)
	if len(s.Compressed) > 0 {
		out += fmt.Sprintf("; VeLoRA compresses the inputs of %s", strings.Join(s.Compressed, ", "))
	}
	return out
}
