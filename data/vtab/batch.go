package vtab

import (
	"iter"
	"math/rand"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// Batch is a run of examples of a Split, copied out in the order of Index.
type Batch struct {
	Size   int       // image height and width
	X      []float32 // (B, Size, Size, Channels), laid out as Split.Images
	Labels []int     // (B)
	Index  []int     // (B) position of each example in the split
}

// Len is the number of examples, B.
func (b *Batch) Len() int { return len(b.Labels) }

// Tensor returns X as a float32 tensor, (B, Size, Size, Channels); it shares X, so
// it too is valid until the next iteration.
func (b *Batch) Tensor() *tensor.Dense {
	return tensor.New(tensor.WithShape(b.Len(), b.Size, b.Size, Channels), tensor.WithBacking(b.X))
}

// Batches returns the batches of one pass through s, n examples each; the last one
// has the remainder when n does not divide s.Len(). Every range over the sequence is
// a new pass in a new order drawn from rng (so epochs differ and a seeded rng repeats
// them all), or in list order when rng is nil, for evaluation. The sequence reuses
// one Batch: its contents are valid until the next iteration. A non-positive n is an
// error.
func (s *Split) Batches(n int, rng *rand.Rand) (iter.Seq[*Batch], error) {
	if n <= 0 {
		return nil, errors.Errorf("vtab: batch size %d, expected a positive size", n)
	}
	per := s.Size * s.Size * Channels
	return func(yield func(*Batch) bool) {
		order := make([]int, s.Len())
		for i := range order {
			order[i] = i
		}
		if rng != nil {
			rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		}
		b := &Batch{Size: s.Size, X: make([]float32, 0, n*per), Labels: make([]int, 0, n)}
		for start := 0; start < len(order); start += n {
			b.Index = order[start:min(start+n, len(order))]
			b.X, b.Labels = b.X[:0], b.Labels[:0]
			for _, i := range b.Index {
				b.X = append(b.X, s.Image(i)...)
				b.Labels = append(b.Labels, s.Labels[i])
			}
			if !yield(b) {
				return
			}
		}
	}, nil
}
