package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/velora-go/velora/checkpoint"
	"github.com/velora-go/velora/data/vtab"
	"github.com/velora-go/velora/layers"
)

// smoke is a run of every default row on one task, small enough for the
// test suite: a two-layer ViT pre-trained for one epoch, fine-tuned for a
// few steps and tested on 100 images.
func smoke(t *testing.T) Config {
	c := DefaultConfig()
	c.Tasks = []string{"mnist_rotation"}
	c.Model = layers.ViTConfig{ImageSize: 28, PatchSize: 7, Channels: 3, Hidden: 32, Layers: 2, Heads: 2, MLP: 64}
	c.PretrainEpochs = 1
	c.PretrainBatch = 100
	c.Epochs = 1
	c.Batch = 125 // 8 steps over train800val200
	c.EvalBatch = 100
	c.TestLimit = 100
	c.Cache = filepath.Join(t.TempDir(), "backbone.safetensors")
	c.Progress = "off"
	if testing.Short() {
		c.Rows = c.Rows[len(c.Rows)-2:] // lora and lora+velora
		c.Batch = 250
	}
	return c
}

func TestSmoke(t *testing.T) {
	c := smoke(t)
	c.JSON = filepath.Join(t.TempDir(), "results.json")
	c.PNG = t.TempDir()
	var out, log bytes.Buffer
	if err := run(c, &out, &log); err != nil {
		t.Fatalf("%v\nlog:\n%s", err, &log)
	}
	if !strings.Contains(log.String(), "pre-training") {
		t.Errorf("the first run did not pre-train; log:\n%s", &log)
	}
	table := out.String()
	for _, r := range c.Rows {
		name := methodNames[r.Method]
		if r.VeLoRA {
			name = "+ VeLoRA"
		}
		if !strings.Contains(table, "| "+name+" |") {
			t.Errorf("no row %q in the table:\n%s", name, table)
		}
	}
	data, err := os.ReadFile(c.JSON)
	if err != nil {
		t.Fatal(err)
	}
	var rep Report
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Lines) != len(c.Rows) || len(rep.Results) != len(c.Rows) {
		t.Fatalf("%d rows and %d runs in the JSON, want %d", len(rep.Lines), len(rep.Results), len(c.Rows))
	}
	for _, l := range rep.Lines {
		acc := l.Accuracy["mnist_rotation"]
		if math.IsNaN(l.Mean) || acc < 0 || acc > 100 || l.Mean != acc {
			t.Errorf("%s: accuracy %v, mean %v", l.Method, acc, l.Mean)
		}
		m := l.Memory
		if m.Peak <= 0 || m.Activations <= 0 || m.Peak != m.Params+m.Grads+m.Optimizer+m.Activations {
			t.Errorf("%s: memory %+v", l.Method, m)
		}
	}
	for i := 1; i < len(rep.Lines); i++ {
		if base, v := rep.Lines[i-1], rep.Lines[i]; v.Method == base.Method+veloraSuffix && v.Method != "lora+velora" && v.Memory.Peak >= base.Memory.Peak {
			t.Errorf("%s peak %d bytes, not below %s's %d", v.Method, v.Memory.Peak, base.Method, base.Memory.Peak)
		}
	}
	for _, f := range []string{"accuracy.png", "memory.png"} {
		if st, err := os.Stat(filepath.Join(c.PNG, f)); err != nil || st.Size() == 0 {
			t.Errorf("chart %s: %v", f, err)
		}
	}

	// The second run reads the cached backbone.
	log.Reset()
	c.Rows = c.Rows[:1]
	c.JSON, c.PNG = "", ""
	if err := run(c, &out, &log); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "cached pre-training") {
		t.Errorf("the second run did not use the cache; log:\n%s", &log)
	}
}

// TestForeignCacheFileIsKept: -cache naming a file this program did not write (here
// plain text, as if -cache named the user's notes) is an error, and the file is left as
// it was; it used to be pre-trained over and replaced.
func TestForeignCacheFileIsKept(t *testing.T) {
	c := smoke(t)
	c.Rows = c.Rows[:1]
	c.PretrainEpochs = 0
	notes := []byte("not a safetensors file")
	if err := os.WriteFile(c.Cache, notes, 0o644); err != nil {
		t.Fatal(err)
	}
	var out, log bytes.Buffer
	err := run(c, &out, &log)
	if err == nil || !strings.Contains(err.Error(), "refusing to overwrite "+c.Cache) || !strings.Contains(err.Error(), "is unreadable") {
		t.Fatalf("err = %v, want a refusal to overwrite %s", err, c.Cache)
	}
	if got, _ := os.ReadFile(c.Cache); !bytes.Equal(got, notes) {
		t.Fatalf("the file now holds %d bytes, want it unchanged", len(got))
	}
}

// TestRemovesTemps plants the temporary files that a kill during an atomic
// write of the cache, the JSON and the charts leaves, and checks that a run
// removes them and nothing else of their folders.
func TestRemovesTemps(t *testing.T) {
	c := smoke(t)
	c.Rows, c.PretrainEpochs = c.Rows[:1], 0
	c.JSON = filepath.Join(t.TempDir(), "results.json")
	c.PNG = t.TempDir()
	planted := []string{
		filepath.Join(filepath.Dir(c.Cache), ".backbone.safetensors.tmp123"),
		filepath.Join(filepath.Dir(c.JSON), ".results.json.tmp4567"),
		filepath.Join(c.PNG, ".accuracy.png.tmp8"),
		filepath.Join(c.PNG, ".memory.png.tmp90"),
	}
	others := []string{ // not ours, or not a temporary name
		filepath.Join(filepath.Dir(c.JSON), ".notes.txt.tmp1"),
		filepath.Join(c.PNG, ".accuracy.png.tmpx"),
		filepath.Join(c.PNG, "accuracy.png.tmp1"),
	}
	for _, p := range append(planted, others...) {
		if err := os.WriteFile(p, []byte("half a file"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := run(c, &bytes.Buffer{}, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	for _, p := range planted {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s is still there", p)
		}
	}
	for _, p := range others {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s was removed: %v", p, err)
		}
	}
}

func TestFlags(t *testing.T) {
	c, err := parseFlags([]string{"-methods", "lora,lora+velora", "-rank", "lora=8", "-subtoken", "lora+velora=32", "-lr", "1e-3,full=2e-4"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	lora, velora := Row{"lora", false}, Row{"lora", true}
	if r, _ := c.Rank.Get(lora); r != 8 {
		t.Errorf("lora rank %d, want 8", r)
	}
	if r, _ := c.Rank.Get(velora); r != 8 { // "lora=8" replaces the default lora+velora=16
		t.Errorf("lora+velora rank %d, want 8", r)
	}
	if m, _ := c.SubToken.Get(velora); m != 32 {
		t.Errorf("lora+velora sub-token size %d, want 32", m)
	}
	if lr, _ := c.LR.Get(Row{"ssf", true}); lr != 1e-3 {
		t.Errorf("ssf+velora lr %g, want 1e-3", lr)
	}
	if lr, _ := c.LR.Get(Row{"full", true}); lr != 2e-4 {
		t.Errorf("full+velora lr %g, want 2e-4", lr)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-methods", "lora,dora"}, `method "dora"`},
		{[]string{"-methods", "linear-probe+velora"}, "linear probing trains no linear layer"},
		{[]string{"-methods", "lora,lora"}, "listed twice"},
		{[]string{"-rank", "lora=-1"}, "not a positive integer"},
		{[]string{"-lr", "fast"}, "not a positive number"},
		{[]string{"-subtoken", "full+velora=0"}, "not a positive integer"},
		{[]string{"-layers", "lora=fc2"}, `selects "fc2", but method lora trains no linear there`},
		{[]string{"-subtoken", "bitfit=4"}, `method "bitfit"`},
		{[]string{"-progress", "maybe"}, "progress"},
		{[]string{"-epochs", "0"}, "epochs 0"},
		{[]string{"-rank", "lora=100"}, "rank 100"},
		{[]string{"stray"}, "unexpected argument"},
		{[]string{"-classes", "-1"}, "vtab: -classes -1, expected ≥ 0"},
		{[]string{"-pretrain-lr", "NaN"}, "vtab: -pretrain-lr is NaN, expected a finite number > 0"},
		{[]string{"-pretrain-lr", "+Inf"}, "vtab: -pretrain-lr is +Inf, expected a finite number > 0"},
		{[]string{"-pretrain-lr", "0"}, "vtab: -pretrain-lr is 0"},
		{[]string{"-lr", "NaN"}, "not a positive number"},
		{[]string{"-lr", "lora=Inf"}, "not a positive number"},
	} {
		_, err := parseFlags(tc.args, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want one containing %q", tc.args, err, tc.want)
		}
	}
}

func TestUnknownTask(t *testing.T) {
	c := smoke(t)
	c.Tasks = []string{"cifar"}
	err := run(c, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), `task "cifar" is not in the data`) {
		t.Fatalf("error %v", err)
	}
}

// TestClassCount runs a folder that VTAB-1k does not define: its class count must
// come from its classes.txt or -classes, not from its labels, so that a typo label
// (99 in a 3-class folder) stops the run naming the list and line instead of making a
// 100-class head, and a folder with no count stops it before any work.
func TestClassCount(t *testing.T) {
	var img bytes.Buffer
	if err := png.Encode(&img, image.NewGray(image.Rect(0, 0, 28, 28))); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	for name, data := range map[string]string{
		"mine/images/a.png":       img.String(),
		"mine/train800val200.txt": "images/a.png 0\nimages/a.png 2\nimages/a.png 1\n",
		"mine/test.txt":           "images/a.png 1\n",
		"typo/images/a.png":       img.String(),
		"typo/train800val200.txt": "images/a.png 0\nimages/a.png 99\nimages/a.png 1\n",
		"typo/test.txt":           "images/a.png 1\n",
		"typo/classes.txt":        "cat\ndog\nhorse\n",
	} {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c := smoke(t)
	c.Data, c.Rows, c.PretrainEpochs = root, c.Rows[:1], 0
	for _, tc := range []struct {
		tasks   []string
		classes int
		want    string // the error; "" for none
	}{
		{[]string{"mine"}, 0, "vtab: task mine has no class count: it is not a VTAB-1k task and has no mine/classes.txt; " +
			"write the names of its classes there, one per line in label order, or give -classes N"},
		{[]string{"typo"}, 0, "vtab: typo/train800val200.txt:2: label 99 out of range [0, 3) of task typo (class count from typo/classes.txt)"},
		{[]string{"typo"}, 4, "vtab: -classes 4, but task typo has 3 classes"},
		{[]string{"mine"}, 2, "vtab: mine/train800val200.txt:2: label 2 out of range [0, 2) of task mine (class count from Config.Classes)"},
		{[]string{"mine"}, 3, ""},
	} {
		c.Tasks, c.Classes = tc.tasks, tc.classes
		err := run(c, &bytes.Buffer{}, &bytes.Buffer{})
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || err.Error() != tc.want) {
			t.Errorf("-tasks %s -classes %d: error %v\nwant %s", tc.tasks, tc.classes, err, tc.want)
		}
	}
}

// TestCheckpoint fine-tunes from a ViT-B_16.npz-layout file of a tiny
// shape, given by -checkpoint with -model, and skips pre-training.
func TestCheckpoint(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tiny.npz")
	writeTinyNPZ(t, path, 28, 7, 32, 2, 64)
	c, err := parseFlags([]string{"-checkpoint", path, "-model", "image=28,patch=7,width=32,layers=2,heads=2,mlp=64",
		"-tasks", "mnist", "-methods", "lora+velora", "-epochs", "1", "-batch", "250", "-test-limit", "50", "-progress", "off"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	var out, log bytes.Buffer
	if err := run(c, &out, &log); err != nil {
		t.Fatalf("%v\nlog:\n%s", err, &log)
	}
	if !strings.Contains(log.String(), "backbone: "+path) || strings.Contains(log.String(), "pre-train") {
		t.Errorf("log:\n%s", &log)
	}
	if !strings.Contains(out.String(), "| LoRA + VeLoRA |") {
		t.Errorf("table:\n%s", &out)
	}
}

// writeTinyNPZ writes random weights under the keys and in the Flax shapes
// of ViT-B_16.npz (google-research/vision_transformer; timm's _load_weights
// reads the same names) for a ViT of the given shape.
func writeTinyNPZ(t *testing.T, path string, image, patch, d, depth, mlp int) {
	t.Helper()
	rng := rand.New(rand.NewSource(1))
	heads := 2
	files := map[string]*tensor.Dense{}
	add := func(key string, shape ...int) {
		n := tensor.Shape(shape).TotalSize()
		data := make([]float32, n)
		for i := range data {
			data[i] = float32(0.02 * rng.NormFloat64())
		}
		files[key] = tensor.New(tensor.WithShape(shape...), tensor.WithBacking(data))
	}
	tokens := (image/patch)*(image/patch) + 1
	add("embedding/kernel", patch, patch, 3, d)
	add("embedding/bias", d)
	add("cls", 1, 1, d)
	add("Transformer/posembed_input/pos_embedding", 1, tokens, d)
	add("Transformer/encoder_norm/scale", d)
	add("Transformer/encoder_norm/bias", d)
	for i := 0; i < depth; i++ {
		b := fmt.Sprintf("Transformer/encoderblock_%d/", i)
		for _, part := range []string{"query", "key", "value"} {
			add(b+"MultiHeadDotProductAttention_1/"+part+"/kernel", d, heads, d/heads)
			add(b+"MultiHeadDotProductAttention_1/"+part+"/bias", heads, d/heads)
		}
		add(b+"MultiHeadDotProductAttention_1/out/kernel", heads, d/heads, d)
		add(b+"MultiHeadDotProductAttention_1/out/bias", d)
		for _, n := range []string{"LayerNorm_0", "LayerNorm_2"} {
			add(b+n+"/scale", d)
			add(b+n+"/bias", d)
		}
		add(b+"MlpBlock_3/Dense_0/kernel", d, mlp)
		add(b+"MlpBlock_3/Dense_0/bias", mlp)
		add(b+"MlpBlock_3/Dense_1/kernel", mlp, d)
		add(b+"MlpBlock_3/Dense_1/bias", d)
	}
	add("head/kernel", d, 21843%100) // a head of another class count is not loaded
	add("head/bias", 21843%100)
	if err := checkpoint.WriteNPZ(path, files); err != nil {
		t.Fatal(err)
	}
}

// TestFillMatchesSetBatch checks that the patches fill copies from
// data/vtab are what layers.ViT.SetBatch would make of the same images, and
// that a short batch is padded with labels the loss ignores.
func TestFillMatchesSetBatch(t *testing.T) {
	c := smoke(t)
	split, err := vtab.Load(vtab.Default(), "mnist", vtab.Test, vtab.Config{Size: c.Model.ImageSize, Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	_, m, err := newModel(c, layers.NewParams(), c.PEFT(Row{Method: "full"}), split.Classes, 4)
	if err != nil {
		t.Fatal(err)
	}
	batches, err := split.Batches(4, nil)
	if err != nil {
		t.Fatal(err)
	}
	for b := range batches {
		if err := fill(m, b); err != nil {
			t.Fatal(err)
		}
	}
	images := make([]float64, 4*len(split.Image(0)))
	for i, x := range split.Images {
		images[i] = float64(x)
	}
	want := layers.Patchify(images, 4, c.Model.ImageSize, vtab.Channels, c.Model.PatchSize)
	got := m.Images.Value().Data().([]float32)
	for i := range want {
		if float32(want[i]) != got[i] {
			t.Fatalf("patch value %d is %v, SetBatch's layout has %v", i, got[i], want[i])
		}
	}
	labels := m.Labels.Value().Data().([]int)
	for i := range 3 {
		if labels[i] != split.Labels[i] {
			t.Errorf("label %d is %d, want %d", i, labels[i], split.Labels[i])
		}
	}
	if labels[3] != layers.IgnoreIndex {
		t.Errorf("padding label %d, want %d", labels[3], layers.IgnoreIndex)
	}
}

// TestConfigFloatsMustBeFinite checks the float settings that have no flag: NaN and
// ±Inf are refused with the setting and value named.
func TestConfigFloatsMustBeFinite(t *testing.T) {
	for _, tc := range []struct {
		edit func(*Config)
		want string
	}{
		{func(c *Config) { c.WeightDecay = math.Inf(1) }, "vtab: weight decay is +Inf, expected a finite number ≥ 0"},
		{func(c *Config) { c.WeightDecay = math.NaN() }, "vtab: weight decay is NaN"},
		{func(c *Config) { c.Warmup = math.NaN() }, "vtab: warm-up is NaN, expected a fraction in [0, 1)"},
		{func(c *Config) { c.MinLR = math.Inf(-1) }, "vtab: min lr is -Inf, expected a fraction in [0, 1]"},
	} {
		c := DefaultConfig()
		tc.edit(&c)
		if err := c.Validate(); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("error %v, want %s", err, tc.want)
		}
	}
}

// TestBatchBeyondTheData: a -batch far above the training images builds the model for
// the images there are; a model for 2^20 images ran out of memory (18 GB at 100000).
func TestBatchBeyondTheData(t *testing.T) {
	c := smoke(t)
	c.Rows = c.Rows[:1]
	c.Batch = 1 << 20
	var out, log bytes.Buffer
	if err := run(c, &out, &log); err != nil {
		t.Fatal(err)
	}
}

// TestDivergenceIsAnError: a learning rate that blows the loss up (here 1e3 for every
// row) stops the run with an error naming the step and suggesting a lower -lr, by the
// rule examples/c4 uses (train.Diverged); it used to finish with accuracy 7.5%, a loss of
// 1.9e7 and exit status 0.
func TestDivergenceIsAnError(t *testing.T) {
	c := smoke(t)
	c.Rows = c.Rows[:1]
	c.PretrainEpochs = 0
	c.LR = Setting[float64]{"": 1e3}
	var out, log bytes.Buffer
	err := run(c, &out, &log)
	if err == nil || !strings.Contains(err.Error(), "diverged at step") || !strings.Contains(err.Error(), "Try a lower -lr") {
		t.Fatalf("err = %v, want a divergence naming the step and advising a lower -lr", err)
	}
}

// TestUnwritableOutputsFailFirst wants a -json path or -png folder the run
// could not write at its end refused before any training (they failed after
// it with "rename … file exists", the results lost).
func TestUnwritableOutputsFailFirst(t *testing.T) {
	file := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		edit func(*Config)
		want string
	}{
		{func(c *Config) { c.JSON = t.TempDir() }, "vtab: -json: "},
		{func(c *Config) { c.JSON = filepath.Join(t.TempDir(), "missing", "r.json") }, "does not exist"},
		{func(c *Config) { c.PNG = file }, "vtab: -png: " + file + " is a file, expected a folder"},
		{func(c *Config) { c.JSON = file }, "vtab: -json: " + file + " exists and is not a file this program wrote: refusing to overwrite it"},
		{func(c *Config) { c.SaveAdapter = file }, "vtab: -save-adapter: " + file + " is a file, expected a folder"},
	} {
		cfg := smoke(t)
		c.edit(&cfg)
		var out, log bytes.Buffer
		if _, err := Run(cfg, &out, &log); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, expected one containing %q", err, c.want)
		}
		if log.Len() > 0 {
			t.Errorf("the run started before refusing: %s", log.String())
		}
	}
}
