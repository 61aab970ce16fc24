package vtab

import (
	"fmt"
	"math/rand"
	"reflect"
	"slices"
	"testing"
)

// numbered is a split of n 2×2 images whose every value is the image's index, with
// label index mod 3.
func numbered(n int) *Split {
	s := &Split{Task: "t", Name: "l", Classes: 3, Size: 2}
	for i := range n {
		for range 2 * 2 * Channels {
			s.Images = append(s.Images, float32(i))
		}
		s.Labels = append(s.Labels, i%3)
		s.Paths = append(s.Paths, "")
	}
	return s
}

// pass ranges over batches once, checks every batch against the split and returns
// the order of the examples and the batch lengths.
func pass(t *testing.T, s *Split, batches func(func(*Batch) bool)) (order, lens []int) {
	t.Helper()
	for b := range batches {
		if len(b.X) != b.Len()*2*2*Channels || len(b.Index) != b.Len() || b.Size != 2 {
			t.Fatalf("batch of %d: %d values, %d indices, size %d", b.Len(), len(b.X), len(b.Index), b.Size)
		}
		for k, i := range b.Index {
			if b.Labels[k] != s.Labels[i] || !slices.Equal(b.X[k*12:(k+1)*12], s.Image(i)) {
				t.Fatalf("example %d of the batch is not example %d of the split", k, i)
			}
		}
		order = append(order, b.Index...)
		lens = append(lens, b.Len())
	}
	return order, lens
}

func TestBatches(t *testing.T) {
	s := numbered(10)
	orig := slices.Clone(s.Images)
	listOrder := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}

	inOrder, err := s.Batches(4, nil)
	if err != nil {
		t.Fatal(err)
	}
	order, lens := pass(t, s, inOrder)
	if !slices.Equal(order, listOrder) || !slices.Equal(lens, []int{4, 4, 2}) {
		t.Errorf("nil rng: order %v in batches %v, want list order in 4, 4, 2", order, lens)
	}

	epochs := func(seed int64) [][]int {
		seq, err := s.Batches(3, rand.New(rand.NewSource(seed)))
		if err != nil {
			t.Fatal(err)
		}
		var all [][]int
		for range 3 {
			order, lens := pass(t, s, seq)
			if !slices.Equal(lens, []int{3, 3, 3, 1}) {
				t.Errorf("batch lengths %v, want 3, 3, 3, 1", lens)
			}
			if !slices.Equal(slices.Sorted(slices.Values(order)), listOrder) {
				t.Errorf("a pass visits %v, want every example once", order)
			}
			all = append(all, order)
		}
		return all
	}
	a, b, c := epochs(7), epochs(7), epochs(8)
	if !reflect.DeepEqual(a, b) {
		t.Errorf("seed 7 twice: %v and %v", a, b)
	}
	if reflect.DeepEqual(a, c) {
		t.Errorf("seeds 7 and 8 give the same orders %v", a)
	}
	if slices.Equal(a[0], a[1]) || slices.Equal(a[1], a[2]) {
		t.Errorf("epochs repeat their order: %v", a)
	}
	if !slices.Equal(s.Images, orig) {
		t.Error("Batches changed the split")
	}

	// Stopping early is allowed.
	for b := range inOrder {
		if b.Index[0] != 0 {
			t.Errorf("first batch starts at %d", b.Index[0])
		}
		break
	}

	for _, n := range []int{0, -1} {
		if _, err := s.Batches(n, nil); err == nil || err.Error() != fmt.Sprintf("vtab: batch size %d, expected a positive size", n) {
			t.Errorf("batch size %d: error %v", n, err)
		}
	}
}

func TestBatchTensor(t *testing.T) {
	seq, err := numbered(5).Batches(3, nil)
	if err != nil {
		t.Fatal(err)
	}
	for b := range seq {
		x := b.Tensor()
		if want := []int{b.Len(), 2, 2, Channels}; !slices.Equal(x.Shape(), want) {
			t.Errorf("shape %v, want %v", x.Shape(), want)
		}
		if &x.Data().([]float32)[0] != &b.X[0] {
			t.Error("the tensor does not share X")
		}
	}
}
