package vinit

import (
	"strconv"
	"strings"

	"github.com/pkg/errors"
)

// Parse returns the strategy a name describes. Names are matched after trimming spaces
// and lowering case. It accepts each strategy's String() and the reference
// implementation's spellings:
//
//	first_batch_mean, batch_average_once   FirstBatchMean()
//	batch_mean, batch_average              BatchMean()
//	running_mean_<decay>, ema_<decay>      RunningMean(decay), e.g. ema_0.9
//	svd                                    SVD()
//	random_<seed>                          Random(seed)
//	random, uniform                        Random(0)
//
// "uniform" is the reference implementation's name for a random direction; a normalised
// Gaussian is uniformly distributed on the unit sphere, so it maps to Random with seed 0.
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
	case "random", "uniform":
		return Random(0), nil
	}
	for _, prefix := range []string{"running_mean_", "ema_"} {
		if rest, ok := strings.CutPrefix(n, prefix); ok {
			decay, err := strconv.ParseFloat(rest, 64)
			if err != nil {
				return nil, errors.Errorf("vinit: strategy %q: decay %q is not a number", name, rest)
			}
			if !(decay >= 0 && decay < 1) {
				return nil, errors.Errorf("vinit: strategy %q: decay %v is not in [0, 1)", name, decay)
			}
			return RunningMean(decay), nil
		}
	}
	if rest, ok := strings.CutPrefix(n, "random_"); ok {
		seed, err := strconv.ParseInt(rest, 10, 64)
		if err != nil {
			return nil, errors.Errorf("vinit: strategy %q: seed %q is not an integer", name, rest)
		}
		return Random(seed), nil
	}
	return nil, errors.Errorf("vinit: unknown strategy %q, want one of first_batch_mean (batch_average_once), "+
		"batch_mean (batch_average), running_mean_<decay> (ema_<decay>), svd, random_<seed>, random, uniform", name)
}
