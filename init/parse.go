package vinit

import (
	"strconv"
	"strings"

	"github.com/pkg/errors"
)

// Parse returns the strategy a name describes. Names are matched after trimming spaces
// and lowering case. It accepts each strategy's String() and the reference
// implementation's spellings (roymiles/VeLoRA's init_type), which behave as they do there:
//
//	first_batch_mean, batch_average_once   FirstBatchMean()
//	batch_mean, batch_average              BatchMean()
//	ema_<decay>                            EMA(decay), the reference's, e.g. ema_0.9
//	running_mean_<decay>                   RunningMean(decay), this package's own
//	svd                                    SVD()
//	uniform, none                          Uniform(0), the reference's normalize(rand)
//	uniform_<seed>                         Uniform(seed)
//	random                                 Random(0), this package's normalised Gaussian
//	random_<seed>                          Random(seed)
//
// An unknown name, a bad number or a decay outside [0, 1) is an error.
func Parse(name string) (Strategy, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	switch n {
	case "first_batch_mean", "batch_average_once":
		return FirstBatchMean(), nil
	case "batch_mean", "batch_average":
		return BatchMean(), nil
	case "svd":
		return SVD(), nil
	case "uniform", "none":
		return Uniform(0), nil
	case "random":
		return Random(0), nil
	}
	for prefix, newStrategy := range map[string]func(float64) Strategy{"running_mean_": RunningMean, "ema_": EMA} {
		if rest, ok := strings.CutPrefix(n, prefix); ok {
			decay, err := strconv.ParseFloat(rest, 64)
			if err != nil {
				return nil, errors.Errorf("vinit: strategy %q: decay %q, expected a number", name, rest)
			}
			if !(decay >= 0 && decay < 1) {
				return nil, errors.Errorf("vinit: strategy %q: decay %v, expected a value in [0, 1)", name, decay)
			}
			return newStrategy(decay), nil
		}
	}
	for prefix, newStrategy := range map[string]func(int64) Strategy{"random_": Random, "uniform_": Uniform} {
		if rest, ok := strings.CutPrefix(n, prefix); ok {
			seed, err := strconv.ParseInt(rest, 10, 64)
			if err != nil {
				return nil, errors.Errorf("vinit: strategy %q: seed %q, expected an integer", name, rest)
			}
			return newStrategy(seed), nil
		}
	}
	return nil, errors.Errorf("vinit: unknown strategy %q, expected one of first_batch_mean (batch_average_once), "+
		"batch_mean (batch_average), ema_<decay>, running_mean_<decay>, svd, uniform (none), uniform_<seed>, random, random_<seed>", name)
}
