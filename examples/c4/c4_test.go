package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/velora-go/velora/checkpoint"
	"github.com/velora-go/velora/peft"
)

// smallConfig is the default configuration shrunk to seconds: the tiny model
// on short rows and a few validation tokens.
func smallConfig(t *testing.T) Config {
	c := DefaultConfig()
	c.Steps, c.Batch, c.Seq, c.EvalTokens = 3, 4, 32, 256
	if testing.Short() {
		c.Steps, c.Batch, c.Seq, c.EvalTokens = 2, 2, 16, 64
	}
	c.GaLoreGap, c.FLoRAKappa = 2, 2 // a new subspace within the run
	c.CheckpointDir = t.TempDir()
	return c
}

// checkResults checks that every row finished with finite numbers.
func checkResults(t *testing.T, rep Report, want int) {
	t.Helper()
	if len(rep.Results) != want {
		t.Fatalf("%d results, want %d", len(rep.Results), want)
	}
	for _, r := range rep.Results {
		m := r.Memory
		switch {
		case r.Diverged != "":
			t.Errorf("%s diverged: %s", r.Label, r.Diverged)
		case !(r.ValPPL > 1) || math.IsInf(r.ValPPL, 0) || math.Abs(r.ValPPL-math.Exp(r.ValLoss)) > 1e-9*r.ValPPL:
			t.Errorf("%s: perplexity %v from loss %v, want exp(loss) > 1, finite", r.Label, r.ValPPL, r.ValLoss)
		case r.ValTokens <= 0 || r.Tokens <= 0 || !(r.TokensPerSec > 0) || math.IsInf(r.TokensPerSec, 0):
			t.Errorf("%s: %d validation targets, %d tokens at %v/s, want positive finite counts", r.Label, r.ValTokens, r.Tokens, r.TokensPerSec)
		case m.Params <= 0 || m.Activations <= 0 || m.Optimizer <= 0 || m.Peak != m.Params+m.Grads+m.Optimizer+m.Activations:
			t.Errorf("%s: memory %+v, want positive parts that add up to the peak", r.Label, m)
		case len(r.Losses) != r.Steps || r.Steps == 0:
			t.Errorf("%s: %d losses for %d steps", r.Label, len(r.Losses), r.Steps)
		}
		for i, l := range r.Losses {
			if math.IsNaN(l) || math.IsInf(l, 0) {
				t.Errorf("%s: loss %v at step %d", r.Label, l, i+1)
			}
		}
	}
}

// TestTable4Smoke trains every method a few steps on the embedded data and
// checks the table: one complete row per method, finite numbers.
func TestTable4Smoke(t *testing.T) {
	c := smallConfig(t)
	c.JSON = filepath.Join(t.TempDir(), "results.json")
	rep, err := Run(c, Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkResults(t, rep, len(MethodNames))
	var buf bytes.Buffer
	rep.Print(&buf)
	table := buf.String()
	rows := 0
	for _, line := range strings.Split(table, "\n") {
		if !strings.HasPrefix(line, "| ") || strings.HasPrefix(line, "| Method") || strings.HasPrefix(line, "| ---") {
			continue
		}
		rows++
		if cells := strings.Split(strings.Trim(line, "| "), " | "); len(cells) != 11 {
			t.Errorf("row %q has %d cells, want 11", line, len(cells))
		}
		for _, bad := range []string{"NaN", "Inf", "diverged"} {
			if strings.Contains(line, bad) {
				t.Errorf("row %q holds %s", line, bad)
			}
		}
	}
	if rows != len(MethodNames) {
		t.Errorf("table has %d rows, want %d:\n%s", rows, len(MethodNames), table)
	}
	for _, label := range []string{"Full-Rank", "LoRA", "GaLore", "FLoRA", "VeLoRA"} {
		if !strings.Contains(table, "| "+label+" |") {
			t.Errorf("table lacks %s:\n%s", label, table)
		}
	}
	// LoRA trains rank-16 (hidden/4) adapters on the 7 projections of 4 layers,
	// plus the embedding and head (259 × 64 each) and 9 norms of 64.
	d, f, r := 64, 192, 16
	adapters := 4 * (4*(d*r+r*d) + 2*(d*r+r*f) + (f*r + r*d))
	if want := adapters + 2*259*d + 9*d; rep.Results[1].Trainable != want {
		t.Errorf("LoRA trains %d parameters, want %d", rep.Results[1].Trainable, want)
	}
	// VeLoRA keeps less of v's and down's inputs than full-rank training does.
	full, velora := rep.Results[0].Memory.Activations, rep.Results[4].Memory.Activations
	if velora > full || (velora == full && !testing.Short()) {
		t.Errorf("VeLoRA activations %d bytes, full-rank %d: want fewer", velora, full)
	}
	if err := rep.WriteJSON(c.JSON); err != nil {
		t.Fatal(err)
	}
	var back Report
	data, err := os.ReadFile(c.JSON)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &back); err != nil || len(back.Results) != len(rep.Results) {
		t.Errorf("results file: %v, %d results, want %d", err, len(back.Results), len(rep.Results))
	}
	png, err := rep.WritePNG(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if info, err := os.Stat(png); err != nil || info.Size() == 0 {
		t.Errorf("loss curves %s: %v", png, err)
	}
}

// TestAblations runs each ablation for a couple of steps.
func TestAblations(t *testing.T) {
	if testing.Short() {
		t.Skip("the Table 4 smoke test covers the training path")
	}
	for _, test := range []struct {
		ablate string
		rows   int
	}{{"layers", 7}, {"subtoken", 5}, {"init", 5}, {"epochs", 2}} {
		t.Run(test.ablate, func(t *testing.T) {
			c := smallConfig(t)
			c.Ablate, c.Steps, c.Batch, c.Seq, c.EvalTokens, c.Epochs = test.ablate, 2, 2, 16, 64, 2
			rep, err := Run(c, Options{})
			if err != nil {
				t.Fatal(err)
			}
			checkResults(t, rep, test.rows)
			var buf bytes.Buffer
			rep.Print(&buf)
			if strings.Contains(buf.String(), "NaN") {
				t.Errorf("table holds NaN:\n%s", buf.String())
			}
			if test.ablate == "epochs" {
				for _, r := range rep.Results {
					if len(r.Epochs) != 2 || r.Epochs[1].Step != 4 || r.Epochs[1].ValPPL != r.ValPPL {
						t.Errorf("%s: epochs %+v, want 2 of 2 steps, the last one's perplexity %v", r.Label, r.Epochs, r.ValPPL)
					}
				}
			}
		})
	}
}

// TestResume interrupts a run after a checkpoint, resumes it, and compares it
// with the same run uninterrupted. The parameters, VeLoRA's v and the data
// position are restored exactly, so the first step after the resume has the
// uninterrupted run's loss to the bit. The optimizer's moments are not saved
// (package peft's solvers keep them unexported) and restart, so later steps
// differ: that is logged, not required.
func TestResume(t *testing.T) {
	for _, ablate := range []string{"", "epochs"} {
		t.Run("ablate="+ablate, func(t *testing.T) {
			c := smallConfig(t)
			c.Methods, c.Steps, c.CheckpointEvery, c.Ablate, c.Epochs = []string{"velora"}, 4, 2, ablate, 2
			if ablate == "epochs" {
				c.Steps = 2 // two steps per epoch: the interruption falls on an epoch's end
			}
			s, err := c.Resolve()
			if err != nil {
				t.Fatal(err)
			}
			vs, err := Variants(c, s)
			if err != nil {
				t.Fatal(err)
			}
			v := vs[len(vs)-1] // VeLoRA
			whole, err := Train(c, s, v, Options{})
			if err != nil {
				t.Fatal(err)
			}
			c.CheckpointDir = t.TempDir()
			if _, err := Train(c, s, v, Options{stopAfter: 2}); err != errInterrupted {
				t.Fatalf("interrupted run: %v, want errInterrupted", err)
			}
			stale := filepath.Join(c.CheckpointDir, v.Key, ".params-000004.safetensors.tmp123") // as a kill mid-save leaves it
			if err := os.WriteFile(stale, []byte("half"), 0o644); err != nil {
				t.Fatal(err)
			}
			c.Resume = true
			resumed, err := Train(c, s, v, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(stale); !os.IsNotExist(err) {
				t.Errorf("stale temporary file %s still there after the resumed run (%v)", stale, err)
			}
			if resumed.ResumedFrom != 2 || resumed.Steps != 4 || len(resumed.Losses) != 4 {
				t.Fatalf("resumed from %d to %d with %d losses, want 2, 4, 4", resumed.ResumedFrom, resumed.Steps, len(resumed.Losses))
			}
			for i := 0; i < 3; i++ {
				if resumed.Losses[i] != whole.Losses[i] {
					t.Errorf("step %d: loss %v resumed, %v uninterrupted, want equal", i+1, resumed.Losses[i], whole.Losses[i])
				}
			}
			t.Logf("step 4 (after the optimizer restarted): loss %v resumed, %v uninterrupted", resumed.Losses[3], whole.Losses[3])
			if ablate == "epochs" && (len(resumed.Epochs) != 2 || resumed.Epochs[0] != whole.Epochs[0]) {
				t.Errorf("epochs %+v resumed, %+v uninterrupted: want the first kept", resumed.Epochs, whole.Epochs)
			}
			// A finished run resumes to its results without training.
			again, err := Train(c, s, v, Options{})
			if err != nil || again.ValPPL != resumed.ValPPL || again.ResumedFrom != 4 {
				t.Errorf("resuming a finished run: %v, perplexity %v from step %d, want %v from step 4", err, again.ValPPL, again.ResumedFrom, resumed.ValPPL)
			}
		})
	}
}

// TestCheckpointAloneSavesTheEnd wants -checkpoint DIR without
// -checkpoint-every to save each method's last step (it saved nothing).
func TestCheckpointAloneSavesTheEnd(t *testing.T) {
	c := smallConfig(t)
	c.Methods, c.Steps, c.CheckpointEvery = []string{"full"}, 2, 0
	s, err := c.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	v := methodVariant(c, s.Rank, "full")
	if _, err := Train(c, s, v, Options{}); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(c.CheckpointDir, v.Key)
	for _, f := range []string{"params-000002.safetensors", "state.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("no %s after the run: %v", f, err)
		}
	}
}

// TestResumeNeedsTheWholeCheckpoint damages copies of a checkpoint: a
// parameter left out, a parameter the model does not have, an unknown key in
// state.json, a v for a projection the model does not have, a projection's v
// left out. Each resume must fail before training, naming what is wrong.
// Before, a missing lm_head.weight was initialised at random and the run
// "resumed at step 1".
func TestResumeNeedsTheWholeCheckpoint(t *testing.T) {
	c := smallConfig(t)
	c.Methods, c.Steps, c.CheckpointEvery = []string{"velora"}, 2, 1
	s, err := c.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	v := methodVariant(c, s.Rank, "velora")
	if _, err := Train(c, s, v, Options{stopAfter: 1}); err != errInterrupted {
		t.Fatalf("interrupted run: %v", err)
	}
	good := filepath.Join(c.CheckpointDir, v.Key)
	const paramsFile = "params-000001.safetensors"
	editParams := func(edit func(map[string]*tensor.Dense)) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) {
			path := filepath.Join(dir, paramsFile)
			tensors, meta, err := checkpoint.Read(path)
			if err != nil {
				t.Fatal(err)
			}
			edit(tensors)
			if err := checkpoint.Write(path, tensors, meta); err != nil {
				t.Fatal(err)
			}
		}
	}
	editState := func(edit func(map[string]json.RawMessage, map[string][]float64)) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) {
			path := filepath.Join(dir, "state.json")
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var st map[string]json.RawMessage
			var vectors map[string][]float64
			if err := json.Unmarshal(data, &st); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(st["velora_v"], &vectors); err != nil || len(vectors) != 8 {
				t.Fatalf("velora_v %s: %v, want v and down of 4 layers", st["velora_v"], err)
			}
			edit(st, vectors)
			if st["velora_v"], err = json.Marshal(vectors); err != nil {
				t.Fatal(err)
			}
			if data, err = json.Marshal(st); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, test := range []struct {
		name   string
		damage func(t *testing.T, dir string)
		want   string
	}{
		{"missing parameter", editParams(func(m map[string]*tensor.Dense) { delete(m, "lm_head.weight") }),
			`lacks 1 of the model's 39 parameters: "lm_head.weight"`},
		{"unknown parameter", editParams(func(m map[string]*tensor.Dense) { m["model.layers.9.mlp.down_proj.weight"] = m["lm_head.weight"] }),
			`1 key(s) the model has no parameter for: "model.layers.9.mlp.down_proj.weight"`},
		{"unknown state key", editState(func(st map[string]json.RawMessage, _ map[string][]float64) {
			st["optimizer_state"] = json.RawMessage(`{}`)
		}),
			`unknown field "optimizer_state"`},
		{"unknown projection", editState(func(_ map[string]json.RawMessage, vs map[string][]float64) {
			vs["model.layers.9.mlp.down_proj"] = vs["model.layers.0.mlp.down_proj"]
		}), `"model.layers.9.mlp.down_proj"`},
		{"missing v", editState(func(_ map[string]json.RawMessage, vs map[string][]float64) {
			delete(vs, "model.layers.0.mlp.down_proj")
		}),
			`"model.layers.0.mlp.down_proj"`},
		// A state file may name only a parameter file of its own folder.
		{"params outside the folder", editState(func(st map[string]json.RawMessage, _ map[string][]float64) {
			st["params"] = json.RawMessage(`"../../elsewhere/params-000001.safetensors"`)
		}), `params "../../elsewhere/params-000001.safetensors", expected a params-<step>.safetensors file of its own folder`},
	} {
		t.Run(test.name, func(t *testing.T) {
			d := c
			d.CheckpointDir, d.Resume = t.TempDir(), true
			dir := filepath.Join(d.CheckpointDir, v.Key)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{paramsFile, "state.json"} {
				data, err := os.ReadFile(filepath.Join(good, name))
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			test.damage(t, dir)
			var log bytes.Buffer
			res, err := Train(d, s, v, Options{Log: &log})
			if err == nil || !strings.Contains(err.Error(), test.want) || !strings.Contains(err.Error(), "resume") {
				t.Errorf("resume: %v (resumed from %d, %d steps), want an error containing %q", err, res.ResumedFrom, res.Steps, test.want)
			}
			if strings.Contains(log.String(), "resumed at") {
				t.Errorf("log says it resumed:\n%s", log.String())
			}
		})
	}
}

// TestResumeRefusesOtherConfig checks that a checkpoint is not continued
// with another seed (any field of the fingerprint; the learning rate is not
// one: TestDivergenceStopsAndKeepsTheLastGoodCheckpoint).
func TestResumeRefusesOtherConfig(t *testing.T) {
	c := smallConfig(t)
	c.Methods, c.Steps, c.CheckpointEvery = []string{"full"}, 2, 1
	s, err := c.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	v := methodVariant(c, 16, "full")
	if _, err := Train(c, s, v, Options{stopAfter: 1}); err != errInterrupted {
		t.Fatalf("interrupted run: %v", err)
	}
	c.Resume, c.Seed = true, 1
	_, err = Train(c, s, v, Options{})
	if err == nil || !strings.Contains(err.Error(), "seed = 0, this run has 1") {
		t.Errorf("resume with another seed: %v, want an error naming seed", err)
	}
}

// TestResumeReadsCheckpointsWithTheLRInTheConfig resumes a checkpoint laid
// out as before -resume accepted another -lr: the learning rate in the
// configuration, none beside it. It was refused ("lr = 0.01, this run has ").
func TestResumeReadsCheckpointsWithTheLRInTheConfig(t *testing.T) {
	c := smallConfig(t)
	c.Methods, c.Steps, c.CheckpointEvery = []string{"full"}, 2, 1
	s := c.setup(t)
	v := methodVariant(c, s.Rank, "full")
	if _, err := Train(c, s, v, Options{stopAfter: 1}); err != errInterrupted {
		t.Fatalf("interrupted run: %v", err)
	}
	path := filepath.Join(c.CheckpointDir, v.Key, "state.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var st map[string]json.RawMessage
	var config map[string]json.RawMessage
	if err := json.Unmarshal(data, &st); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(st["config"], &config); err != nil {
		t.Fatal(err)
	}
	config["lr"] = st["lr"]
	delete(st, "lr")
	if st["config"], err = json.Marshal(config); err != nil {
		t.Fatal(err)
	}
	if data, err = json.Marshal(st); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	c.Resume, c.LR = true, c.LR/2
	var log bytes.Buffer
	res, err := Train(c, s, v, Options{Log: &log})
	if err != nil || res.ResumedFrom != 1 || !strings.Contains(log.String(), "with -lr 0.005 (the checkpoint's steps used 0.01)") {
		t.Errorf("resume: %v, from step %d, log %q; want step 1 and the log naming both learning rates", err, res.ResumedFrom, log.String())
	}
}

// TestDivergenceStopsAndKeepsTheLastGoodCheckpoint drives the loss up with
// absurd learning rates: 1e6 sends it far above its start without a NaN (the
// run used to finish with "Val. PPL +Inf" and checkpoints of blown-up
// weights, exit 0), 1e12 to NaN. The run must stop with a message that
// suggests a lower -lr, keep the last checkpoint whose weights were good,
// and that checkpoint must resume, with the lower learning rate, to a
// sensible perplexity.
func TestDivergenceStopsAndKeepsTheLastGoodCheckpoint(t *testing.T) {
	for _, lr := range []float64{1e6, 1e12} {
		t.Run(fmt.Sprint("lr=", lr), func(t *testing.T) {
			c := smallConfig(t)
			// The warm-up's first step has learning rate 0 and the second 1/10 of lr:
			// step 1's checkpoint is good and step 2's weights are blown up.
			c.Methods, c.Steps, c.CheckpointEvery, c.LR, c.Warmup = []string{"full"}, 20, 1, lr, 10
			rep, err := Run(c, Options{})
			if err != nil {
				t.Fatal(err)
			}
			r := rep.Results[0]
			if len(rep.Diverged()) != 1 || !strings.Contains(r.Diverged, "diverged at step") ||
				!strings.Contains(r.Diverged, "is intact in") || !strings.Contains(r.Diverged, "Try a lower -lr") {
				t.Fatalf("result %+v, want a divergence naming the intact checkpoint and advising a lower -lr", r)
			}
			var buf bytes.Buffer
			rep.Print(&buf)
			if !strings.Contains(buf.String(), "diverged (step") {
				t.Errorf("table does not say the run diverged:\n%s", buf.String())
			}
			var st checkpointState
			data, err := os.ReadFile(filepath.Join(c.CheckpointDir, "full", "state.json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(data, &st); err != nil {
				t.Fatal(err)
			}
			if st.Step < 1 || st.Step > r.Steps || st.Step >= r.DivergedAt {
				t.Errorf("checkpoint at step %d, the run did %d steps and diverged at %d", st.Step, r.Steps, r.DivergedAt)
			}
			c.Resume, c.LR = true, 1e-3
			var log bytes.Buffer
			res, err := Train(c, rep.Config.setup(t), methodVariant(c, 16, "full"), Options{Log: &log})
			if err != nil {
				t.Fatalf("resume with -lr 1e-3: %v", err)
			}
			// A byte model that predicts uniformly has perplexity 259; the blown-up
			// weights give +Inf or 1e10 and more.
			if res.ResumedFrom != st.Step || res.Diverged != "" || !(res.ValPPL > 1 && res.ValPPL < 300) {
				t.Errorf("resumed from %d (want %d), diverged %q, perplexity %v, want below 300", res.ResumedFrom, st.Step, res.Diverged, res.ValPPL)
			}
			if !strings.Contains(log.String(), "-lr 0.001") {
				t.Errorf("the log does not say the learning rate changed:\n%s", log.String())
			}
		})
	}
}

// setup resolves c for a test.
func (c Config) setup(t *testing.T) Setup {
	t.Helper()
	s, err := c.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestParseFlags(t *testing.T) {
	c, err := parseFlags([]string{"-steps", "10", "-methods", "full, velora", "-subtoken", "v=4,down=8", "-ablate", "init"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Steps != 10 || len(c.Methods) != 2 || c.Methods[1] != "velora" || c.SubTokenSizes["down"] != 8 || len(c.SubTokenSizes) != 2 || c.Ablate != "init" {
		t.Errorf("parsed %+v", c)
	}
	for _, args := range [][]string{
		{"-methods", "full,adam"},
		{"-subtoken", "v=0"},
		{"-ablate", "heads"},
		{"-steps", "10", "-warmup", "10"},
		{"-checkpoint-every", "5"},
		{"extra"},
	} {
		if _, err := parseFlags(args, &bytes.Buffer{}); err == nil {
			t.Errorf("%q: no error", args)
		}
	}
}

// TestBadFlagValues checks that every float flag refuses NaN, ±Inf and values outside
// its range, and -velora-layers a selection of nothing, naming the flag and the value.
func TestBadFlagValues(t *testing.T) {
	for _, c := range []struct{ flag, value, want string }{
		{"-lr", "NaN", "c4: -lr is NaN, expected a finite number > 0"},
		{"-lr", "+Inf", "c4: -lr is +Inf, expected a finite number > 0"},
		{"-lr", "0", "c4: -lr is 0, expected a finite number > 0"},
		{"-min-lr-ratio", "NaN", "c4: -min-lr-ratio is NaN, expected a value in [0, 1]"},
		{"-lora-alpha", "NaN", "c4: -lora-alpha is NaN, expected a finite number > 0"},
		{"-lora-alpha", "-Inf", "c4: -lora-alpha is -Inf"},
		{"-lora-alpha", "-2", "c4: -lora-alpha is -2"},
		{"-galore-scale", "Inf", "c4: -galore-scale is +Inf, expected a finite number > 0"},
		{"-galore-scale", "NaN", "c4: -galore-scale is NaN"},
		{"-velora-scale", "NaN", "c4: -velora-scale is NaN, expected a finite number > 0"},
		{"-velora-scale", "-Inf", "c4: -velora-scale is -Inf"},
		{"-velora-layers", ",", `c4: -velora-layers "," selects no projection`},
		{"-velora-layers", " , ", `c4: -velora-layers " , " selects no projection`},
		{"-memory-budget", "NaN", `c4: -memory-budget "NaN", expected a positive size`},
		{"-memory-budget", "-5MiB", `c4: -memory-budget "-5MiB", expected a positive size`},
		{"-ablate epochs -epochs", "-1", "c4: -1 epochs, expected a positive count"},              // it blamed the warm-up
		{"-galore-gap", "0", "c4: -galore-gap 0, -flora-kappa 40: expected positive step counts"}, // optim's default ran, the config said 0
		{"-flora-kappa", "0", "c4: -galore-gap 40, -flora-kappa 0: expected positive step counts"},
		{"-methods", "full,lora,full", `c4: -methods names "full" twice, expected each method once`},
		{"-subtoken-default", "0", "c4: -subtoken-default 0, expected a positive size"}, // it ran with 16 while -subtoken q=0 was refused
	} {
		_, err := parseFlags(append(strings.Fields(c.flag), c.value), &bytes.Buffer{})
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%s %s: %v, want %s", c.flag, c.value, err, c.want)
		}
	}
}

func TestResolveErrors(t *testing.T) {
	shard := filepath.Join(t.TempDir(), "c4-train.00000-of-01024.json.gz") // exists; its content is never read
	if err := os.WriteFile(shard, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, test := range []struct {
		edit func(*Config)
		want string
	}{
		{func(c *Config) { c.Model = "llama_7b" }, "neither tiny"},
		{func(c *Config) { c.Seq = 2048 }, "longer than the model's"},
		{func(c *Config) { c.Data = shard }, "validation shard"},
		{func(c *Config) { c.Tokenizer = "nowhere.model" }, "nowhere.model"},
		{func(c *Config) { c.Data = "nonexistent" }, `c4: -data "nonexistent" does not exist`},
		{func(c *Config) { c.Data = "nowhere/c4-train.json.gz,nowhere/c4-validation.json.gz" }, `c4: -data: "nowhere/c4-train.json.gz" does not exist`},
		// The VeLoRA row's flags are checked though the row does not run.
		{func(c *Config) { c.Methods, c.VeLoRALayers = []string{"full"}, "zz" }, `c4: the velora row's settings: velora_layers: projection "zz"`},
		{func(c *Config) { c.Methods, c.VeLoRAInit = []string{"full"}, "magic" }, `c4: the velora row's settings`},
		// Output paths the run could not write at its end fail before it starts.
		{func(c *Config) { c.JSON = os.TempDir() }, "c4: -json: " + os.TempDir() + " is a directory, expected a file's path"},
		{func(c *Config) { c.JSON = filepath.Join(shard, "r.json") }, "is a file, expected a folder"},
		{func(c *Config) { c.PNG = shard }, "c4: -png: " + shard + " is a file, expected a folder"},
		{func(c *Config) { c.SaveAdapter = shard }, "c4: -save-adapter: " + shard + " is a file, expected a folder"},
		{func(c *Config) { c.CheckpointDir = shard }, "c4: -checkpoint: " + shard + " is a file, expected a folder"},
		{func(c *Config) { c.JSON = shard }, "c4: -json: " + shard + " exists and is not a file this program wrote"},
	} {
		c := DefaultConfig()
		test.edit(&c)
		if _, err := c.Resolve(); err == nil || !strings.Contains(err.Error(), test.want) {
			t.Errorf("error %v, want one containing %q", err, test.want)
		}
	}
}

// TestDefaultIsThe60MScript checks the defaults that DefaultConfig calls the
// paper's recipe against the reference's scripts/pretrain_llama_60m.sh
// (roymiles/VeLoRA): --lr 0.01, --velora_layers 'vd', --num_groups 64,86 (M = 512/64
// = 8 on v, 1376/86 = 16 on down), --init_type batch_average_once, --velora_scale 1.5,
// and training_utils' cosine floor --min_lr_ratio 0.1; and that the scale reaches
// the VeLoRA row.
func TestDefaultIsThe60MScript(t *testing.T) {
	c := DefaultConfig()
	if c.LR != 0.01 || c.VeLoRALayers != "vd" || c.SubTokenSizes["v"] != 8 || c.SubTokenSizes["down"] != 16 ||
		c.VeLoRAInit != "batch_average_once" || c.VeLoRAScale != 1.5 || c.MinLRRatio != 0.1 {
		t.Errorf("defaults lr %v, layers %q, sizes %v, init %q, scale %v, floor %v; the 60M script has 0.01, vd, v=8 down=16, batch_average_once, 1.5, 0.1",
			c.LR, c.VeLoRALayers, c.SubTokenSizes, c.VeLoRAInit, c.VeLoRAScale, c.MinLRRatio)
	}
	if v := methodVariant(c, 16, "velora").PEFT.VeLoRA; v == nil || v.Scale != 1.5 {
		t.Errorf("the VeLoRA row's configuration %+v, want scale 1.5", v)
	}
}

func TestSettingLabel(t *testing.T) {
	c := DefaultConfig()
	groups := c.veLoRA("vd", "")
	groups.SubTokenSize, groups.SubTokenSizes, groups.NumGroups = 0, nil, []int{64, 64}
	for _, test := range []struct {
		v    Variant
		want string
	}{
		{methodVariant(c, 16, "velora"), "v M=8, down M=16"},
		{methodVariant(c, 16, "full"), "-"},
		{methodVariant(c, 16, "galore"), "r=16"},
		{Variant{PEFT: peft.Config{Method: peft.MethodFull, VeLoRA: groups}}, "v M=1, down M=3"}, // D/64 of 64 and 192
		{Variant{PEFT: peft.Config{Method: peft.MethodFull, VeLoRA: &peft.VeLoRAConfig{Layers: "q"}}}, "q M=16"},
		{Variant{PEFT: peft.Config{Method: peft.MethodFull, VeLoRA: &peft.VeLoRAConfig{Layers: "q"}}, Recompute: "blocks", Fused: true}, "q M=16; recompute blocks; fused update"},
		{Variant{PEFT: peft.Config{Method: peft.MethodFull}, Recompute: "selective"}, "recompute selective"},
	} {
		if got := settingLabel(test.v, 16, TinyLLaMA); got != test.want {
			t.Errorf("%+v: %q, want %q", test.v, got, test.want)
		}
	}
}

// TestMemoryBudget adds the planned row to a Table 4 run: its measured peak must be the
// one planned, within the budget, with the planner's reasons in the report; a budget
// below every candidate is an error that gives the smallest peak, and the flag refuses
// an ablation.
func TestMemoryBudget(t *testing.T) {
	c := smallConfig(t)
	c.Methods = []string{"full"}
	c.CheckpointDir = ""
	full, err := Run(c, Options{})
	if err != nil {
		t.Fatal(err)
	}
	c.MemoryBudget = full.Results[0].Memory.Peak - 1 // the plain step does not fit
	rep, err := Run(c, Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkResults(t, rep, 2)
	planned := rep.Results[1]
	if planned.Key != "planned" || planned.Memory.Peak > c.MemoryBudget || !strings.Contains(rep.Plan, "chose") {
		t.Fatalf("planned row %s: peak %d bytes for a budget of %d; plan %q", planned.Key, planned.Memory.Peak, c.MemoryBudget, rep.Plan)
	}
	if !strings.Contains(rep.Plan, "planned peak "+mib(planned.Memory.Peak)+" MiB") {
		t.Errorf("measured peak %s MiB, the plan says %q", mib(planned.Memory.Peak), rep.Plan)
	}
	c.MemoryBudget = 1 << 10
	if _, err := Run(c, Options{}); err == nil || !strings.Contains(err.Error(), "the smallest planned peak is") {
		t.Errorf("a 1 KiB budget: err = %v, want one giving the smallest peak", err)
	}
	c.MemoryBudget, c.Ablate = 1<<20, "layers"
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "not to -ablate layers") {
		t.Errorf("with -ablate: err = %v", err)
	}
}

// TestResumeNeedsTheCheckpointFolder: -resume with a -checkpoint folder that does not
// exist (a typo) or is a file is an error; the run used to start every method from step
// 0 and exit 0.
func TestResumeNeedsTheCheckpointFolder(t *testing.T) {
	c := smallConfig(t)
	file := filepath.Join(c.CheckpointDir, "notes.txt")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for dir, want := range map[string]string{
		filepath.Join(c.CheckpointDir, "typo"): "does not exist (drop -resume to start a new run)",
		file:                                   "is a file, expected a folder",
	} {
		c.Resume, c.CheckpointDir = true, dir
		if _, err := c.Resolve(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("-resume -checkpoint %s: err = %v, want one saying %q", dir, err, want)
		}
	}
}

// TestCaptionGivesTheValidationTokensUsed wants the caption to say how many
// validation tokens the perplexity averaged over: it printed -eval-tokens
// even when the split was shorter.
func TestCaptionGivesTheValidationTokensUsed(t *testing.T) {
	for _, c := range []struct {
		flag, used int
		want       string
	}{
		{1000, 1000, "over the first 1000 validation tokens"},
		{1 << 20, 4321, "over the whole validation split, 4321 tokens (fewer than -eval-tokens 1048576)"},
		{0, 4321, "over the whole validation split, 4321 tokens."},
	} {
		r := Report{Config: DefaultConfig(), Results: []Result{{ValTokens: c.used}}}
		r.Config.EvalTokens = c.flag
		var buf bytes.Buffer
		caption(&buf, r)
		if !strings.Contains(buf.String(), c.want) {
			t.Errorf("-eval-tokens %d, %d used: caption %q lacks %q", c.flag, c.used, buf.String(), c.want)
		}
	}
}
