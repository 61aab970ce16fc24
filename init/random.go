package vinit

import (
	"math/rand"
	"strconv"
)

// Random returns the strategy whose v is a vector of independent standard normal draws
// from a generator seeded with seed, normalised to unit length: a direction uniformly
// distributed on the unit sphere,
//
//	v = g/‖g‖, gᵢ ~ N(0, 1) (rand.NormFloat64).
//
// It is this package's own random direction, with entries of either sign; the reference
// implementation's random start is [Uniform]. Init sets v; it never changes afterwards.
func Random(seed int64) Strategy { return random{seed: seed} }

// Uniform returns the reference implementation's "uniform" strategy (also its "none"):
// v keeps the vector its constructor draws, normalize(torch.rand(M)), entries uniform in
// [0, 1) normalised to unit length,
//
//	v = u/‖u‖, uᵢ ~ U[0, 1) (rand.Float64),
//
// from a generator seeded with seed. Every entry is non-negative, so v points into the
// positive orthant, unlike [Random]'s direction. Init sets v; it never changes afterwards.
func Uniform(seed int64) Strategy { return uniform{seed: seed} }

type random struct{ seed int64 }

func (r random) String() string { return "random_" + strconv.FormatInt(r.seed, 10) }

func (r random) Init(s *State, m int) error { return initDrawn(s, m, r.seed, (*rand.Rand).NormFloat64) }

func (r random) Observe(s *State, b Batch) error { return observeFixed(s, b) }

func (r random) Frozen(*State) bool { return true }

type uniform struct{ seed int64 }

func (u uniform) String() string { return "uniform_" + strconv.FormatInt(u.seed, 10) }

func (u uniform) Init(s *State, m int) error { return initDrawn(s, m, u.seed, (*rand.Rand).Float64) }

func (u uniform) Observe(s *State, b Batch) error { return observeFixed(s, b) }

func (u uniform) Frozen(*State) bool { return true }

// initDrawn resets s for sub-token size m and sets v to m draws of draw from a generator
// seeded with seed, normalised.
func initDrawn(s *State, m int, seed int64, draw func(*rand.Rand) float64) error {
	if err := initState(s, m); err != nil {
		return err
	}
	rnd := rand.New(rand.NewSource(seed))
	x := make([]float64, m)
	for i := range x {
		x[i] = draw(rnd)
	}
	s.V = unit(x)
	return nil
}

// observeFixed counts a batch for a strategy whose v never changes; it checks the batch's
// shape but not its values.
func observeFixed(s *State, b Batch) error {
	if err := checkBatch(s, b, false); err != nil {
		return err
	}
	s.Batches++
	return nil
}
