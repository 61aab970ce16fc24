package main

import (
	"fmt"
	"io"
	"math"
	"path/filepath"
	"runtime"
	"time"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/checkpoint"
	"github.com/velora-go/velora/data/c4"
	"github.com/velora-go/velora/internal/check"
	"github.com/velora-go/velora/layers"
	"github.com/velora-go/velora/optim"
	"github.com/velora-go/velora/peft"
	"github.com/velora-go/velora/train"
)

// Result is what one variant's run measured: a row of a table.
type Result struct {
	Key       string `json:"key"`
	Label     string `json:"label"`
	Setting   string `json:"setting"`   // rank or VeLoRA layers and sizes
	Trainable int    `json:"trainable"` // trainable parameters
	Steps     int    `json:"steps"`
	// Tokens counts the training tokens (data, not padding); Seconds is the time
	// the training steps took, data loading included, evaluation and
	// checkpoints not.
	Tokens       int64   `json:"tokens"`
	Seconds      float64 `json:"seconds"`
	TokensPerSec float64 `json:"tokens_per_sec"`
	// ValLoss is the mean cross-entropy over ValTokens validation targets, ValPPL its
	// exponential.
	ValLoss   float64      `json:"val_loss"`
	ValPPL    float64      `json:"val_ppl"`
	ValTokens int          `json:"val_tokens"`
	Memory    train.Memory `json:"memory"`
	// Losses are the training losses of every step.
	Losses []float64     `json:"losses"`
	Epochs []EpochResult `json:"epochs,omitempty"`
	// ResumedFrom is the step the run continued from (0: a fresh start).
	ResumedFrom int `json:"resumed_from,omitempty"`
	// Adapter is the PEFT adapter directory the run's adapter was saved to
	// (-save-adapter), "" when none was.
	Adapter string `json:"adapter,omitempty"`
	// Diverged says why the run stopped early, "" when it finished;
	// DivergedAt is the step it stopped at.
	Diverged   string `json:"diverged,omitempty"`
	DivergedAt int    `json:"diverged_at,omitempty"`
}

// EpochResult is the validation after one pass over the training data.
type EpochResult struct {
	Epoch   int     `json:"epoch"` // 1-based
	Step    int     `json:"step"`  // steps done at its end
	ValLoss float64 `json:"val_loss"`
	ValPPL  float64 `json:"val_ppl"`
}

// DivergedError is returned when a run diverges (see diverged).
type DivergedError struct{ Message string }

func (e *DivergedError) Error() string { return e.Message }

// Options are how a run reports, not what it computes.
type Options struct {
	// Log receives progress lines and notes; nil discards them.
	Log io.Writer
	// Bar draws a progress bar on standard error instead of progress lines.
	Bar bool
	// stopAfter, when positive, ends the loop after that step and its checkpoint
	// with errInterrupted, as a kill would: the resume test's interruption.
	stopAfter int
}

// errInterrupted is the error of a run that options.stopAfter ended.
var errInterrupted = errors.New("c4: interrupted")

func (o Options) log() io.Writer {
	if o.Log == nil {
		return io.Discard
	}
	return o.Log
}

// run is one variant's training: the model, its trainer and its data.
type run struct {
	cfg     Config
	setup   Setup
	variant Variant
	opts    Options

	params  *layers.Params
	builder *layers.Builder
	model   *layers.LLaMA
	solver  solver
	fused   []solver // with a fused update: each parameter's own solver
	trainer *train.Trainer
	stream  *c4.Stream
	// epochSteps is the length of an epoch in steps, 0 for one endless stream.
	epochSteps int
	total      int
	warmup     int
	lr         optim.Cosine // the learning rate of every step
	lastSaved  int          // the step of the last checkpoint written or resumed from
	res        Result
}

// Train runs one variant to the end (or from its checkpoint on, with
// Resume), then evaluates it. A run that diverges (see diverged) stops with
// a *DivergedError and a Result that says so, its last checkpoint intact.
func Train(cfg Config, s Setup, v Variant, opts Options) (Result, error) {
	runtime.GC() // the previous variant's garbage should not count in this one's heap figure
	r := &run{cfg: cfg, setup: s, variant: v, opts: opts, params: layers.NewParams(),
		res: Result{Key: v.Key, Label: v.Label, Setting: settingLabel(v, s.Rank, s.Model)}}
	if cfg.CheckpointDir != "" {
		if _, err := checkpoint.RemoveTemps(r.dir()); err != nil { // left by a kill during a save
			return r.res, check.Wrapf(err, "c4: %s", v.Label)
		}
	}
	defer r.close()
	if err := r.build(); err != nil {
		return r.res, check.Wrapf(err, "c4: %s", v.Label)
	}
	if cfg.Resume {
		ck, err := r.loadCheckpoint()
		if err != nil {
			return r.res, check.Wrapf(err, "c4: %s", v.Label)
		}
		if ck == nil {
			fmt.Fprintf(opts.log(), "%s: no checkpoint in %s, starting from step 0\n", v.Label, r.dir())
		} else {
			if err := r.restore(ck); err != nil {
				return r.res, check.Wrapf(err, "c4: %s: resuming from %s", v.Label, r.dir())
			}
			lr := ""
			if ck.LR != cfg.LR {
				lr = fmt.Sprintf(" with -lr %g (the checkpoint's steps used %g)", cfg.LR, ck.LR)
			}
			fmt.Fprintf(opts.log(), "%s: resumed at step %d of %d from %s%s (optimizer state restarts: see README)\n", v.Label, ck.Step, r.total, r.dir(), lr)
		}
	}
	if err := r.loop(); err != nil {
		return r.res, err
	}
	loss, n, err := evaluate(r, cfg.EvalTokens)
	if err != nil {
		return r.res, check.Wrapf(err, "c4: %s: validation", v.Label)
	}
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return r.res, r.diverge(r.res.Steps, fmt.Sprintf("the validation loss is %v; the parameters were not saved", loss))
	}
	r.res.ValLoss, r.res.ValPPL, r.res.ValTokens = loss, math.Exp(loss), n
	if cfg.CheckpointDir != "" && r.lastSaved < r.res.Steps { // the last step's checkpoint, once its validation passed
		if err := r.save(); err != nil {
			return r.res, check.Wrapf(err, "c4: %s", v.Label)
		}
	}
	if cfg.SaveAdapter != "" {
		if err := r.saveAdapter(); err != nil {
			return r.res, check.Wrapf(err, "c4: %s", v.Label)
		}
	}
	return r.res, nil
}

// saveAdapter writes the trained adapter of a LoRA row into
// -save-adapter/<key> as a PEFT adapter directory, its base named after
// -config. A row without an adapter saves nothing and says so.
func (r *run) saveAdapter() error {
	if m := r.variant.PEFT.Method; m != peft.MethodLoRA && m != peft.MethodQLoRA {
		fmt.Fprintf(r.opts.log(), "%s: no adapter to save (it trains every weight; -checkpoint saves them)\n", r.variant.Label)
		return nil
	}
	dir := filepath.Join(r.cfg.SaveAdapter, r.variant.Key)
	if err := peft.SaveAdapter(dir, r.builder, r.setup.Model, r.cfg.Model); err != nil {
		return err
	}
	r.res.Adapter = dir
	fmt.Fprintf(r.opts.log(), "%s: adapter saved to %s\n", r.variant.Label, dir)
	return nil
}

// build makes the model, the solver, the trainer and the training stream.
func (r *run) build() error {
	adapter, err := peft.Apply(r.variant.PEFT, r.setup.Model)
	if err != nil {
		return err
	}
	if r.builder, err = layers.NewBuilder(r.params, tensor.Float32, adapter, r.cfg.Seed); err != nil {
		return err
	}
	if r.model, err = layers.NewLLaMA(r.builder, r.setup.Model, r.cfg.Batch, r.cfg.Seq); err != nil {
		return err
	}
	r.res.Trainable = peft.Summarize(r.builder).TrainableParams
	if r.solver, err = newSolver(r.cfg, r.variant, r.setup.Rank); err != nil {
		return err
	}
	if r.trainer, err = train.New(r.builder, r.model.Loss, r.solver, r.trainOptions()...); err != nil {
		return err
	}
	data := r.dataConfig(r.cfg.Seed)
	if r.cfg.Ablate == "epochs" {
		if r.epochSteps, err = countSteps(r.setup, data, r.cfg.Steps); err != nil {
			return err
		}
		r.total = r.epochSteps * r.cfg.Epochs
	} else {
		data.Repeat = true
		r.total = r.cfg.Steps
	}
	r.warmup = r.cfg.Warmup
	if r.warmup < 0 {
		r.warmup = r.total / 10
	}
	if r.warmup >= r.total {
		return errors.Errorf("warm-up %d steps, expected fewer than the run's %d", r.warmup, r.total)
	}
	if r.lr, err = optim.NewCosine(r.warmup, r.total, r.cfg.LR, r.cfg.MinLRRatio); err != nil {
		return err
	}
	r.stream, err = c4.NewStream(r.setup.Train, r.setup.Tokenizer, data)
	return err
}

// trainOptions are the variant's recomputation and fused update. A fused update gives
// every parameter a solver like r.solver, which the schedule then sets with it.
func (r *run) trainOptions() []train.Option {
	var opts []train.Option
	if r.variant.Recompute != "" {
		opts = append(opts, train.WithRecompute(peft.RecomputePolicy(r.variant.Recompute)))
	}
	if r.variant.Fused {
		opts = append(opts, train.WithFusedUpdate(func() gorgonia.Solver {
			s, _ := newSolver(r.cfg, r.variant, r.setup.Rank) // r.solver was made alike without error
			r.fused = append(r.fused, s)
			return s
		}))
	}
	return opts
}

// setLearningRate sets the learning rate of every solver of the run.
func (r *run) setLearningRate(lr float64) {
	r.solver.SetLearningRate(lr)
	for _, s := range r.fused {
		s.SetLearningRate(lr)
	}
}

// memory is the trainer's figure with the fused solvers' state, which it does not see.
func (r *run) memory() (train.Memory, error) {
	m, err := r.trainer.Memory()
	for _, s := range r.fused {
		if sz, ok := s.(train.StateSizer); ok {
			m.Optimizer += sz.StateBytes()
			m.Peak += sz.StateBytes()
		}
	}
	return m, err
}

// close releases what build made, as far as it got.
func (r *run) close() {
	if r.stream != nil {
		r.stream.Close()
	}
	if r.trainer != nil {
		r.trainer.Close()
	}
}

// dataConfig is the stream configuration of either split.
func (r *run) dataConfig(seed int64) c4.Config {
	return c4.Config{SeqLen: r.cfg.Seq, BatchSize: r.cfg.Batch, Seed: seed, Pack: r.cfg.Pack}
}

// countSteps is the number of batches in one pass over the training data,
// at most limit (0: no limit).
func countSteps(s Setup, data c4.Config, limit int) (int, error) {
	stream, err := c4.NewStream(s.Train, s.Tokenizer, data)
	if err != nil {
		return 0, err
	}
	defer stream.Close()
	n := 0
	for limit == 0 || n < limit {
		if _, err := stream.Next(); err == io.EOF {
			break
		} else if err != nil {
			return 0, err
		}
		n++
	}
	if n == 0 {
		return 0, errors.New("the training data holds no batch")
	}
	return n, nil
}

// loop trains from the current step to the end.
func (r *run) loop() error {
	bar := newProgress(r.opts, r.variant.Label, len(r.res.Losses), r.total)
	defer bar.finish()
	for step := len(r.res.Losses); step < r.total; step++ {
		start := time.Now()
		batch, err := r.next(step)
		if err != nil {
			return check.Wrapf(err, "c4: %s: step %d", r.variant.Label, step+1)
		}
		if err := r.model.SetBatch(batch.Inputs, batch.Targets); err != nil {
			return check.Wrapf(err, "c4: %s: step %d", r.variant.Label, step+1)
		}
		r.setLearningRate(r.lr.At(step))
		loss, err := r.trainer.Step()
		if err != nil {
			if math.IsNaN(loss) || math.IsInf(loss, 0) {
				return r.diverge(step+1, fmt.Sprintf("the training loss is %v; the step was not applied", loss))
			}
			return check.Wrapf(err, "c4: %s: step %d", r.variant.Label, step+1)
		}
		if why := train.Diverged(r.res.Losses, loss); why != "" {
			return r.diverge(step+1, "the training loss "+why)
		}
		r.res.Seconds += time.Since(start).Seconds()
		r.res.Tokens += int64(batch.Tokens)
		r.res.Losses = append(r.res.Losses, loss)
		r.res.Steps = step + 1
		r.res.TokensPerSec = float64(r.res.Tokens) / r.res.Seconds
		bar.update(step+1, loss, r.res.TokensPerSec)
		if r.res.Memory, err = r.memory(); err != nil {
			return check.Wrapf(err, "c4: %s", r.variant.Label)
		}
		if r.epochSteps > 0 && (step+1)%r.epochSteps == 0 {
			if err := r.endEpoch(step + 1); err != nil {
				return err
			}
		}
		if r.cfg.CheckpointEvery > 0 && (step+1)%r.cfg.CheckpointEvery == 0 && step+1 < r.total { // Train saves the last after validation
			if err := r.checkedSave(step + 1); err != nil {
				return err
			}
		}
		if step+1 == r.opts.stopAfter {
			return errInterrupted
		}
	}
	return nil
}

// next is the batch of a step; an epoch's first step starts a new pass.
func (r *run) next(step int) (c4.Batch, error) {
	if r.epochSteps > 0 && step%r.epochSteps == 0 {
		if err := r.stream.Seek(c4.Cursor{Epoch: step / r.epochSteps}); err != nil {
			return c4.Batch{}, err
		}
	}
	return r.stream.Next()
}

// endEpoch evaluates after an epoch.
func (r *run) endEpoch(step int) error {
	loss, _, err := evaluate(r, r.cfg.EvalTokens)
	if err != nil {
		return check.Wrapf(err, "c4: %s: validation after epoch %d", r.variant.Label, step/r.epochSteps)
	}
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return r.diverge(step, fmt.Sprintf("the validation loss after epoch %d is %v", step/r.epochSteps, loss))
	}
	r.res.Epochs = append(r.res.Epochs, EpochResult{Epoch: step / r.epochSteps, Step: step, ValLoss: loss, ValPPL: math.Exp(loss)})
	return nil
}

// A run diverges by train.Diverged's rule. It is checked on every step's loss, and on
// the loss of a checkpoint's weights on the step's batch before they are written, so
// that a checkpoint never holds diverged weights; a validation loss is checked for NaN
// and infinity.

// checkedSave writes the checkpoint of step after checking the new weights
// with a forward pass on the step's batch: weights that break the rule are
// not written and the run stops.
func (r *run) checkedSave(step int) error {
	loss, err := r.trainer.Eval()
	if err != nil {
		return check.Wrapf(err, "c4: %s: checking step %d's parameters", r.variant.Label, step)
	}
	if why := train.Diverged(r.res.Losses, loss); why != "" {
		return r.diverge(step, "with the step's update applied, the loss on its batch "+why+"; those parameters were not saved")
	}
	return errors.Wrapf(r.save(), "c4: %s", r.variant.Label)
}

// diverge stops the run at step for the reason what: a *DivergedError whose
// message gives the learning rate, the last checkpoint (intact: only checked
// weights are written) and what to try.
func (r *run) diverge(step int, what string) error {
	lr := r.lr.At(min(step, r.total) - 1)
	msg := fmt.Sprintf("%s: diverged at step %d (learning rate %.3g of peak -lr %g): %s.", r.variant.Label, step, lr, r.cfg.LR, what)
	switch {
	case r.lastSaved > 0:
		msg += fmt.Sprintf(" The last checkpoint, step %d, is intact in %s.", r.lastSaved, r.dir())
	case r.cfg.CheckpointDir != "":
		msg += " No checkpoint had been written yet."
	}
	msg += fmt.Sprintf(" Try a lower -lr: a tenth of this one (%g) or less; the default is %g.", r.cfg.LR/10, DefaultConfig().LR)
	if r.lastSaved > 0 {
		msg += " -resume continues from the checkpoint with a changed -lr."
	}
	r.res.Diverged, r.res.DivergedAt = msg, step
	return &DivergedError{Message: msg}
}
