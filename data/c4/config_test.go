package c4

import (
	"strings"
	"testing"
)

func TestConfigDefaults(t *testing.T) {
	s := newTestStream(t, testShards(t, 1, 1), Config{})
	want := Config{SeqLen: 256, BatchSize: 128, Shuffle: 1000}
	if got := s.Config(); got != want {
		t.Errorf("zero Config gives %+v, want %+v", got, want)
	}
}

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		cfg  Config
		want string // "" for valid
	}{
		{Config{}, ""},
		{Config{SeqLen: 2, BatchSize: 1, Shuffle: 1}, ""},
		{Config{SeqLen: 1}, "sequence length 1"},
		{Config{SeqLen: -4}, "sequence length -4"},
		{Config{BatchSize: -1}, "batch size -1"},
		{Config{Shuffle: -1}, "shuffle window -1"},
	}
	for _, c := range cases {
		err := c.cfg.Validate()
		if (c.want == "") != (err == nil) || err != nil && !strings.HasPrefix(err.Error(), "c4: "+c.want) {
			t.Errorf("%+v.Validate() = %v, want %q", c.cfg, err, c.want)
		}
	}
}
