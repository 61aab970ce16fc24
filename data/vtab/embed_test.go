package vtab

import (
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
)

func TestDefaultTasks(t *testing.T) {
	got, err := Tasks(Default())
	if err != nil {
		t.Fatal(err)
	}
	want := []Task{
		{"mnist", Natural, 10},
		{"mnist_inverted", Specialized, 10},
		{"mnist_rotation", Structured, 4},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}
}

// defaultSplits holds every list of the embedded suite loaded at its native 28×28
// with pixels in [0, 1], keyed "task/split"; loaded once for all tests.
var defaultSplits = sync.OnceValues(func() (map[string]*Split, error) {
	splits := map[string]*Split{}
	lists := map[string][]string{
		"mnist":          {Train800, Val200, Train800Val200, Test},
		"mnist_inverted": {Train800, Val200, Train800Val200, Test},
		"mnist_rotation": {Train800, Val200, Train800Val200, Test},
		Upstream:         {UpstreamTrain, UpstreamVal},
	}
	for task, names := range lists {
		for _, name := range names {
			cfg := Config{Size: 28, Norm: Unit}
			if task == Upstream {
				cfg.Classes = UpstreamClasses
			}
			s, err := Load(Default(), task, name, cfg)
			if err != nil {
				return nil, err
			}
			splits[task+"/"+name] = s
		}
	}
	return splits, nil
})

func loadDefault(t *testing.T) map[string]*Split {
	t.Helper()
	splits, err := defaultSplits()
	if err != nil {
		t.Fatal(err)
	}
	return splits
}

func TestDefaultSplits(t *testing.T) {
	splits := loadDefault(t)
	sizes := map[string]int{Train800: 800, Val200: 200, Train800Val200: 1000, Test: 500, UpstreamTrain: 3000, UpstreamVal: 500}
	for key, s := range splits {
		if s.Len() != sizes[s.Name] || len(s.Images) != s.Len()*28*28*Channels || s.Size != 28 {
			t.Errorf("%s: %d examples, %d values, size %d; want %d examples of 28×28×3", key, s.Len(), len(s.Images), s.Size, sizes[s.Name])
		}
		counts := make([]int, s.Classes)
		for _, l := range s.Labels {
			if l < 0 || l >= s.Classes {
				t.Fatalf("%s: label %d outside [0, %d)", key, l, s.Classes)
			}
			counts[l]++
		}
		if slices.Contains(counts, 0) {
			t.Errorf("%s: a class has no example: counts %v", key, counts)
		}
		// Grey PNGs: three equal channels in [0, 1].
		for i := 0; i < len(s.Images); i += 3 {
			r, g, b := s.Images[i], s.Images[i+1], s.Images[i+2]
			if r != g || g != b || r < 0 || r > 1 {
				t.Fatalf("%s: pixel %d is (%v, %v, %v), want one grey level in [0, 1]", key, i/3, r, g, b)
			}
		}
	}
	for _, task := range []string{"mnist", "mnist_inverted", "mnist_rotation"} {
		tr, va, both := splits[task+"/"+Train800], splits[task+"/"+Val200], splits[task+"/"+Train800Val200]
		if !slices.Equal(both.Images, slices.Concat(tr.Images, va.Images)) || !slices.Equal(both.Labels, slices.Concat(tr.Labels, va.Labels)) {
			t.Errorf("%s: train800val200 is not train800 then val200", task)
		}
	}
}

// TestDefaultNormalised loads one list with the default normalisation: every value
// lies in [(0 - mean)/std, (1 - mean)/std] of its channel, and both ends are reached.
func TestDefaultNormalised(t *testing.T) {
	s, err := Load(Default(), "mnist", Val200, Config{Size: 32})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Images) != 200*32*32*3 {
		t.Fatalf("%d values, want 200·32·32·3", len(s.Images))
	}
	for c := range 3 {
		lo, hi := (0-ImageNet.Mean[c])/ImageNet.Std[c], (1-ImageNet.Mean[c])/ImageNet.Std[c]
		gotLo, gotHi := s.Images[c], s.Images[c]
		for i := c; i < len(s.Images); i += 3 {
			gotLo, gotHi = min(gotLo, s.Images[i]), max(gotHi, s.Images[i])
		}
		// 1e-5: float32 rounding of the normalisation.
		if gotLo < lo-1e-5 || gotHi > hi+1e-5 || gotLo > lo+1e-5 || gotHi < hi-0.05 {
			t.Errorf("channel %d spans [%v, %v], want [%v, %v]", c, gotLo, gotHi, lo, hi)
		}
	}
}

// TestDefaultDigitsAreDistinct checks that no digit serves twice: the plain digits of
// mnist and upstream and the mnist_rotation digits turned back upright are all
// different images.
func TestDefaultDigitsAreDistinct(t *testing.T) {
	splits := loadDefault(t)
	seen := map[string]string{}
	for _, key := range []string{"mnist/train800val200", "mnist/test", "upstream/train", "upstream/val", "mnist_rotation/train800val200", "mnist_rotation/test"} {
		s := splits[key]
		for i := range s.Len() {
			img := s.Image(i)
			if strings.HasPrefix(key, "mnist_rotation/") {
				img = turn(img, 28, 4-s.Labels[i]) // back upright
			}
			k := string(greyBytes(img))
			if other, ok := seen[k]; ok {
				t.Fatalf("%s example %d repeats %s", key, i, other)
			}
			seen[k] = key
		}
	}
}

// TestDefaultTransforms checks what the two transformed tasks do to a digit: the
// inverted digits are dark on light (an MNIST digit is light on dark), and turning
// each mnist_rotation digit back by its label brings the mean image closest to the
// upright mean.
func TestDefaultTransforms(t *testing.T) {
	splits := loadDefault(t)
	mean := func(s *Split, keep func(i int) bool, turns func(i int) int) []float32 {
		m := make([]float32, 28*28*3)
		for i := range s.Len() {
			if keep(i) {
				for j, v := range turn(s.Image(i), 28, turns(i)) {
					m[j] += v
				}
			}
		}
		return m
	}
	all := func(int) bool { return true }
	none := func(int) int { return 0 }
	brightness := func(m []float32, n int) float32 {
		var s float32
		for _, v := range m {
			s += v
		}
		return s / float32(len(m)*n)
	}
	plain, inv := splits["mnist/train800val200"], splits["mnist_inverted/train800val200"]
	if b := brightness(mean(plain, all, none), plain.Len()); b > 0.2 {
		t.Errorf("mnist mean brightness %v, want dark (< 0.2)", b)
	}
	if b := brightness(mean(inv, all, none), inv.Len()); b < 0.7 {
		t.Errorf("mnist_inverted mean brightness %v, want light (> 0.7)", b)
	}

	upright := mean(plain, all, none)
	rot := splits["mnist_rotation/train800val200"]
	for k := range 4 {
		dist := make([]float64, 4)
		for back := range 4 {
			m := mean(rot, func(i int) bool { return rot.Labels[i] == k }, func(int) int { return back })
			dist[back] = maxDiff(t, normalised(m), normalised(upright))
		}
		if best := slices.Index(dist, slices.Min(dist)); best != (4-k)%4 {
			t.Errorf("label %d: %d more counter-clockwise quarter turns make it upright, want %d (distances %v)", k, best, (4-k)%4, dist)
		}
	}
}

// turn rotates a (size, size, 3) image counter-clockwise by k quarter turns.
func turn(img []float32, size, k int) []float32 {
	for range k % 4 {
		out := make([]float32, len(img))
		for y := range size {
			for x := range size {
				copy(out[((size-1-x)*size+y)*3:][:3], img[(y*size+x)*3:][:3])
			}
		}
		img = out
	}
	return img
}

// greyBytes returns the first channel of (…, 3) values in [0, 1] as grey levels.
func greyBytes(img []float32) []byte {
	b := make([]byte, len(img)/3)
	for i := range b {
		b[i] = byte(img[3*i]*255 + 0.5)
	}
	return b
}

// normalised scales m to a largest value of 1.
func normalised(m []float32) []float32 {
	top := slices.Max(m)
	out := make([]float32, len(m))
	for i, v := range m {
		out[i] = v / top
	}
	return out
}
