package layers

import (
	"hash/fnv"
	"math"
	"math/rand"

	"gorgonia.org/tensor"
)

// Init fills a new parameter's values from rng.
type Init func(rng *rand.Rand, data []float64, shape tensor.Shape)

// Normal draws from N(0, std²) (LLaMA's initializer_range 0.02; ViT's
// position embedding and class token).
func Normal(std float64) Init {
	return func(rng *rand.Rand, data []float64, _ tensor.Shape) {
		for i := range data {
			data[i] = std * rng.NormFloat64()
		}
	}
}

// KaimingUniform draws from U(−bound, bound) with
// bound = √(6 / ((1 + a²)·fanIn)), PyTorch's kaiming_uniform_ with
// leaky-relu slope a: nn.Linear's default and LoRA's A with a = √5. The fan
// in is the first dimension of an (in, out) weight.
func KaimingUniform(a float64) Init {
	return func(rng *rand.Rand, data []float64, shape tensor.Shape) {
		bound := math.Sqrt(6 / ((1 + a*a) * float64(shape[0])))
		for i := range data {
			data[i] = bound * (2*rng.Float64() - 1)
		}
	}
}

// XavierUniform draws from U(−bound, bound) with
// bound = √(6 / (fanIn + fanOut)) for an (in, out) weight, PyTorch's
// xavier_uniform_ (Hydra's down projections).
func XavierUniform() Init {
	return func(rng *rand.Rand, data []float64, shape tensor.Shape) {
		bound := math.Sqrt(6 / float64(shape[0]+shape[1]))
		for i := range data {
			data[i] = bound * (2*rng.Float64() - 1)
		}
	}
}

// Constant fills with c (ones for norm weights, zeros for biases and
// LoRA's B).
func Constant(c float64) Init {
	return func(_ *rand.Rand, data []float64, _ tensor.Shape) {
		for i := range data {
			data[i] = c
		}
	}
}

// newValue makes a parameter of the given shape and dtype, drawn with a
// random stream seeded by (seed, name): the value does not depend on the
// order in which parameters are created.
func newValue(name string, shape tensor.Shape, dt tensor.Dtype, init Init, seed int64) *tensor.Dense {
	rng := rand.New(rand.NewSource(StreamSeed(seed, name)))
	data := make([]float64, shape.TotalSize())
	init(rng, data, shape)
	if dt == tensor.Float64 {
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(data))
	}
	data32 := make([]float32, len(data))
	for i, x := range data {
		data32[i] = float32(x)
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(data32))
}

// StreamSeed derives the seed of a named random stream (a parameter's
// initial value, a dropout's masks) from a model seed, so that streams of
// different names differ and none depends on build order.
func StreamSeed(seed int64, name string) int64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return seed ^ int64(h.Sum64())
}
