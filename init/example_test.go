package vinit_test

import (
	"fmt"
	"log"

	vinit "github.com/velora-go/velora/init"
)

// A projection with sub-token size 2 learns v from the first batch's mean and then
// keeps it, however the data changes.
func Example() {
	s, err := vinit.Parse("batch_average_once") // the reference spelling of FirstBatchMean
	if err != nil {
		log.Fatal(err)
	}
	var st vinit.State
	if err := s.Init(&st, 2); err != nil {
		log.Fatal(err)
	}
	// Two tokens of width 4, so four sub-tokens of length 2 whose mean is (3, 4).
	first := vinit.Batch{F64: []float64{3, 4, 1, 2, 5, 6, 3, 4}, Width: 4, M: 2}
	if err := s.Observe(&st, first); err != nil {
		log.Fatal(err)
	}
	fmt.Println(s, st.V, s.Frozen(&st))

	second := vinit.Batch{F32: []float32{-1, 0, -1, 0}, Width: 4, M: 2}
	if err := s.Observe(&st, second); err != nil {
		log.Fatal(err)
	}
	fmt.Println(st.V, st.Batches)
	// Output:
	// first_batch_mean [0.6 0.8] true
	// [0.6 0.8] 2
}
