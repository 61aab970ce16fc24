package vinit

import (
	"math/rand"
	"strconv"
)

// Random returns the strategy whose v is a vector of independent standard normal draws
// from a generator seeded with seed, normalised to unit length: a direction uniformly
// distributed on the unit sphere. Init sets v; it never changes afterwards.
func Random(seed int64) Strategy { return random{seed: seed} }

type random struct{ seed int64 }

func (r random) String() string { return "random_" + strconv.FormatInt(r.seed, 10) }

func (r random) Init(s *State, m int) error {
	if err := initState(s, m); err != nil {
		return err
	}
	rnd := rand.New(rand.NewSource(r.seed))
	g := make([]float64, m)
	for i := range g {
		g[i] = rnd.NormFloat64()
	}
	s.V = unit(g)
	return nil
}

func (r random) Observe(s *State, b Batch) error {
	if err := checkBatch(s, b, false); err != nil {
		return err
	}
	s.Batches++
	return nil
}

func (r random) Frozen(*State) bool { return true }
