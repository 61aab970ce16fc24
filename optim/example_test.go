package optim_test

import (
	"fmt"

	"github.com/velora-go/velora/optim"
)

// The learning rate of a 100-step run that warms up over 10 steps to 1e-3 and
// decays to a tenth of it.
func ExampleCosine() {
	lr, err := optim.NewCosine(10, 100, 1e-3, 0.1)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, step := range []int{0, 5, 10, 55, 100} {
		fmt.Printf("step %3d: %.2e\n", step, lr.At(step))
	}
	// Output:
	// step   0: 0.00e+00
	// step   5: 5.00e-04
	// step  10: 1.00e-03
	// step  55: 5.50e-04
	// step 100: 1.00e-04
}
