package vinit_test

import (
	"testing"

	vinit "github.com/velora-go/velora/init"
)

func TestParse(t *testing.T) {
	for _, test := range []struct {
		name string
		want vinit.Strategy
	}{
		{"first_batch_mean", vinit.FirstBatchMean()},
		{"batch_average_once", vinit.FirstBatchMean()},
		{"batch_mean", vinit.BatchMean()},
		{"batch_average", vinit.BatchMean()},
		{"running_mean_0.9", vinit.RunningMean(0.9)},
		{"ema_0.9", vinit.EMA(0.9)},
		{"ema_0.99", vinit.EMA(0.99)},
		{"ema_0", vinit.EMA(0)},
		{"ema_1e-3", vinit.EMA(0.001)},
		{"svd", vinit.SVD()},
		{"random", vinit.Random(0)},
		{"uniform", vinit.Uniform(0)},
		{"none", vinit.Uniform(0)},
		{"uniform_5", vinit.Uniform(5)},
		{"random_42", vinit.Random(42)},
		{"random_-3", vinit.Random(-3)},
		{"  SVD ", vinit.SVD()},
		{"Batch_Average_Once", vinit.FirstBatchMean()},
	} {
		got, err := vinit.Parse(test.name)
		if err != nil {
			t.Errorf("Parse(%q): %v", test.name, err)
			continue
		}
		if got != test.want {
			t.Errorf("Parse(%q) = %v, want %v", test.name, got, test.want)
		}
	}
}

func TestParseRoundTrip(t *testing.T) {
	for _, s := range []vinit.Strategy{
		vinit.Random(0), vinit.Random(-9), vinit.Random(1 << 62), vinit.SVD(),
		vinit.Uniform(0), vinit.Uniform(-9), vinit.FirstBatchMean(), vinit.BatchMean(),
		vinit.RunningMean(0), vinit.RunningMean(0.9), vinit.RunningMean(0.123456789012345), vinit.RunningMean(1e-9),
		vinit.EMA(0), vinit.EMA(0.9), vinit.EMA(0.123456789012345), vinit.EMA(1e-9),
	} {
		got, err := vinit.Parse(s.String())
		if err != nil {
			t.Errorf("Parse(%q): %v", s.String(), err)
			continue
		}
		if got != s {
			t.Errorf("Parse(%q) = %v, want %v", s.String(), got, s)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, test := range []struct {
		name string
		want []string
	}{
		{"", []string{`unknown strategy ""`, "batch_average_once", "ema_<decay>", "svd", "uniform"}},
		{"mean", []string{`unknown strategy "mean"`, "first_batch_mean"}},
		{"svd2", []string{`"svd2"`}},
		{"ema_", []string{`"ema_"`, "expected a number"}},
		{"ema_x", []string{`"ema_x"`, `"x"`}},
		{"ema_1", []string{`"ema_1"`, "decay 1", "[0, 1)"}},
		{"ema_-0.5", []string{"decay -0.5"}},
		{"uniform_x", []string{`"uniform_x"`, "expected an integer"}},
		{"running_mean_nan", []string{"decay NaN"}},
		{"random_x", []string{`"random_x"`, "expected an integer"}},
		{"random_1.5", []string{`"random_1.5"`}},
	} {
		s, err := vinit.Parse(test.name)
		if s != nil {
			t.Errorf("Parse(%q) = %v, want nil with the error", test.name, s)
		}
		wantErr(t, err, test.want...)
	}
}
