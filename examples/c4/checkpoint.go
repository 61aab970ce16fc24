package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/checkpoint"
	"github.com/velora-go/velora/data/c4"
	"github.com/velora-go/velora/layers"
	"github.com/velora-go/velora/op"
)

// A checkpoint is a folder per variant, CheckpointDir/<key>, holding
//
//	params-<step>.safetensors   every parameter (layers.SaveSafetensors, PyTorch layout)
//	state.json                  checkpointState: the step, the data cursor, VeLoRA's v, ...
//
// Both are written atomically (a temporary file renamed over the old one), the
// parameters first: state.json always names a complete parameter file, so a
// run killed at any moment resumes from the last checkpoint it finished.
//
// The optimizers of package peft keep their moments in unexported fields, so
// the optimizer state is not saved: a resumed run restarts AdamW's (GaLore's,
// FLoRA's) moments and step count at the checkpoint's step, with the learning
// rate schedule continuing where it was.
type checkpointState struct {
	Step   int       `json:"step"`
	Params string    `json:"params"` // the parameter file, in the same folder
	Cursor c4.Cursor `json:"cursor"` // the training stream's position after Step steps
	// Vectors are VeLoRA's v by module. The running-mean strategy's statistic is
	// not reachable through op.Projection, so that strategy restarts it.
	Vectors map[string][]float64 `json:"velora_v,omitempty"`
	// Result holds the losses, timings, memory and epochs so far.
	Result Result `json:"result"`
	// Optimizer says what became of the optimizer's state.
	Optimizer string `json:"optimizer"`
	// LR is the peak learning rate of the run that wrote the checkpoint. It is
	// not part of Config: a resume may change it, as a diverged run's message
	// advises.
	LR float64 `json:"lr"`
	// Config is the configuration that decides the run's course; a resume with
	// another one is refused.
	Config map[string]json.RawMessage `json:"config"`
}

const optimizerNote = "not saved (package peft's solvers do not expose their state): restarts on resume"

// dir is the variant's checkpoint folder.
func (r *run) dir() string { return filepath.Join(r.cfg.CheckpointDir, r.variant.Key) }

// fingerprint is the configuration that decides a variant's course: the
// Config without the fields that only say what to run or where to write,
// and the variant. The peak learning rate is left out too, so that a run
// that diverged can resume from its last checkpoint with a lower one.
func (r *run) fingerprint() map[string]json.RawMessage {
	c := r.cfg
	c.Methods, c.Resume, c.CheckpointEvery, c.CheckpointDir, c.JSON, c.PNG, c.SaveAdapter = nil, false, 0, "", "", "", ""
	out := map[string]json.RawMessage{}
	for _, part := range []any{c, r.variant} {
		data, err := json.Marshal(part)
		if err != nil {
			panic(err) // both are plain data
		}
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(data, &fields); err != nil {
			panic(err)
		}
		for k, v := range fields {
			out[k] = v
		}
	}
	delete(out, "lr")
	return out
}

// save writes a checkpoint of the steps done so far.
func (r *run) save() error {
	dir := r.dir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return errors.Wrap(err, "checkpoint")
	}
	step := r.res.Steps
	name := fmt.Sprintf("params-%06d.safetensors", step)
	meta := map[string]string{"step": fmt.Sprint(step), "variant": r.variant.Key}
	if err := layers.SaveSafetensors(filepath.Join(dir, name), r.params, nil, "", meta); err != nil {
		return errors.Wrap(err, "checkpoint")
	}
	st := checkpointState{Step: step, Params: name, Cursor: r.stream.Position(), Vectors: map[string][]float64{},
		Result: r.res, Optimizer: optimizerNote, LR: r.cfg.LR, Config: r.fingerprint()}
	for module, p := range r.builder.Projections() {
		if v := p.Vector(); v != nil {
			st.Vectors[module] = v
		}
	}
	data, err := json.MarshalIndent(st, "", " ")
	if err != nil {
		return errors.Wrap(err, "checkpoint")
	}
	if err := writeFileAtomic(filepath.Join(dir, "state.json"), data); err != nil {
		return errors.Wrap(err, "checkpoint")
	}
	r.lastSaved = step
	old, _ := filepath.Glob(filepath.Join(dir, "params-*.safetensors"))
	for _, f := range old {
		if filepath.Base(f) != name {
			os.Remove(f) // an older checkpoint's parameters, no longer named by state.json
		}
	}
	return nil
}

// loadCheckpoint reads the checkpoint in r's folder into its built model,
// or returns nil when there is none. Everything must fit the model: a
// checkpoint made with another configuration is an error naming the first
// field that differs, and every parameter (trainable or frozen) and every
// VeLoRA projection's v must be in the checkpoint, with nothing the model
// does not have, and state.json may hold no key this program does not write.
func (r *run) loadCheckpoint() (*checkpointState, error) {
	dir := r.dir()
	path := filepath.Join(dir, "state.json")
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, errors.Wrap(err, "resume")
	}
	var st checkpointState
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&st); err != nil {
		return nil, errors.Wrapf(err, "resume: %s, expected a state file this program wrote", path)
	}
	if raw, ok := st.Config["lr"]; ok { // written before -resume accepted another -lr
		if err := json.Unmarshal(raw, &st.LR); err != nil {
			return nil, errors.Wrapf(err, "resume: %s: lr", path)
		}
		delete(st.Config, "lr")
	}
	if err := sameConfig(st.Config, r.fingerprint()); err != nil {
		return nil, errors.Wrapf(err, "resume: %s", dir)
	}
	if len(st.Result.Losses) != st.Step || st.Step < 1 || st.Step > r.total {
		return nil, errors.Errorf("resume: %s: step %d with %d losses, expected 1 to %d steps and a loss for each", path, st.Step, len(st.Result.Losses), r.total)
	}
	if err := sameModules(st.Vectors, r.builder.Projections()); err != nil {
		return nil, errors.Wrapf(err, "resume: %s", path)
	}
	if st.Params != filepath.Base(st.Params) || !strings.HasPrefix(st.Params, "params-") {
		return nil, errors.Errorf("resume: %s: params %q, expected a params-<step>.safetensors file of its own folder", path, st.Params)
	}
	if err := layers.LoadSafetensorsExact(filepath.Join(dir, st.Params), r.params, "", tensor.Float32); err != nil {
		return nil, errors.Wrap(err, "resume")
	}
	return &st, nil
}

// sameModules checks that a checkpoint holds a v for each of the model's
// VeLoRA projections and for no other module.
func sameModules(saved map[string][]float64, model map[string]*op.Projection) error {
	var missing, unknown []string
	for m := range model {
		if _, ok := saved[m]; !ok {
			missing = append(missing, m)
		}
	}
	for m := range saved {
		if _, ok := model[m]; !ok {
			unknown = append(unknown, m)
		}
	}
	sort.Strings(missing)
	sort.Strings(unknown)
	switch {
	case len(missing) > 0:
		return errors.Errorf("velora_v lacks the v of the model's VeLoRA projection(s) %q", missing)
	case len(unknown) > 0:
		return errors.Errorf("velora_v holds a v for %q, which the model has no VeLoRA projection of", unknown)
	}
	return nil
}

// sameConfig reports the first field where a checkpoint's configuration
// differs from this run's.
func sameConfig(got, want map[string]json.RawMessage) error {
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		if g, w := compact(got[k]), compact(want[k]); g != w {
			if g == "" {
				g = "(not set)"
			}
			if w == "" {
				w = "(not set)"
			}
			return errors.Errorf("the checkpoint was made with %s = %s, this run has %s", k, g, w)
		}
	}
	return nil
}

func compact(raw json.RawMessage) string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return strings.TrimSpace(string(raw))
	}
	out, _ := json.Marshal(v) // sorted keys, no spaces
	return string(out)
}

// restore continues the run from a loaded checkpoint: v, the data position
// and the results so far.
func (r *run) restore(st *checkpointState) error {
	for module, p := range r.builder.Projections() {
		if err := p.SetVector(st.Vectors[module]); err != nil { // loadCheckpoint checked that each is there
			return err
		}
	}
	atEpochEnd := r.epochSteps > 0 && st.Step%r.epochSteps == 0
	if !atEpochEnd { // at an epoch's end, next seeks the following pass itself
		if err := r.stream.Seek(st.Cursor); err != nil {
			return err
		}
	}
	res := st.Result
	res.Key, res.Label, res.Setting, res.Trainable = r.res.Key, r.res.Label, r.res.Setting, r.res.Trainable
	res.ResumedFrom = st.Step
	r.res = res
	r.lastSaved = st.Step
	return nil
}

// writeFileAtomic writes data to path through checkpoint.WriteAtomic: a
// killed run leaves the old file whole.
func writeFileAtomic(path string, data []byte) error {
	return checkpoint.WriteAtomic(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}
