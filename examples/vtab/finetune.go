package main

import (
	"math"
	"math/rand"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"slices"
	"strings"
	"time"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/data/vtab"
	"github.com/velora-go/velora/internal/check"
	"github.com/velora-go/velora/layers"
	"github.com/velora-go/velora/machine"
	"github.com/velora-go/velora/peft"
	"github.com/velora-go/velora/train"
)

// Result is one fine-tuning run: a row of the table on one task.
type Result struct {
	Task      string       `json:"task"`
	Method    string       `json:"method"`
	Accuracy  float64      `json:"accuracy"`   // on the test split, in percent
	Loss      float64      `json:"train_loss"` // mean training loss of the last epoch
	Memory    train.Memory `json:"memory"`     // the largest step peak of the run
	HeapAbove int64        `json:"heap_above"` // Go heap peak during the steps, minus the heap before the run
	Trainable int          `json:"trainable_params"`
	Steps     int          `json:"steps"`
	Seconds   float64      `json:"seconds"`
	// Adapter is the PEFT adapter directory the run's adapter was saved to
	// (-save-adapter); "" when none was.
	Adapter string `json:"adapter,omitempty"`
}

// finetune trains a copy of backbone (its head dropped) with row r on
// trainSet and measures its accuracy on testSet. tick is called after every
// step. With -save-adapter, a row with an adapter saves it afterwards,
// naming base as its base model.
func finetune(c Config, backbone *layers.Params, base string, r Row, trainSet, testSet *vtab.Split, tick func()) (Result, error) {
	start := time.Now()
	res := Result{Task: trainSet.Task, Method: r.String()}
	heapBefore := collectedHeap()
	params, err := clone(backbone)
	if err != nil {
		return res, err
	}
	removeHead(params)
	pc := c.PEFT(r)
	size := min(c.Batch, trainSet.Len()) // a model batch beyond the data only costs memory
	b, m, err := newModel(c, params, pc, trainSet.Classes, size)
	if err != nil {
		return res, check.Wrapf(err, "vtab: %s", r)
	}
	res.Trainable = peft.Summarize(b).TrainableParams
	lr, _ := c.LR.Get(r)
	var opts []train.Option
	if l, ok := b.Adapter.(*layers.LoRA); ok && l.NF4 {
		opts = append(opts, train.WithExtraBytes(int64(l.QuantizedBytes())))
	}
	opt, err := newSchedule(c, lr, c.Epochs*((trainSet.Len()+size-1)/size))
	if err != nil {
		return res, err
	}
	t, err := train.New(b, m.Loss, opt, opts...)
	if err != nil {
		return res, check.Wrapf(err, "vtab: %s", r)
	}
	defer t.Close()
	batches, err := trainSet.Batches(size, rand.New(rand.NewSource(c.Seed)))
	if err != nil {
		return res, err
	}
	var losses []float64
	for epoch := 0; epoch < c.Epochs; epoch++ {
		var sum float64
		var n int
		for batch := range batches {
			if err := fill(m, batch); err != nil {
				return res, err
			}
			opt.next()
			loss, err := t.Step()
			why := train.Diverged(losses, loss)
			if why != "" && (err == nil || math.IsNaN(loss) || math.IsInf(loss, 0)) {
				return res, errors.Errorf("vtab: %s on %s diverged at step %d (learning rate %g): the training loss %s. Try a lower -lr: a tenth of this one or less",
					r, trainSet.Task, res.Steps+1, lr, why)
			}
			if err != nil {
				return res, check.Wrapf(err, "vtab: %s on %s, epoch %d", r, trainSet.Task, epoch+1)
			}
			losses = append(losses, loss)
			mem, err := t.Memory()
			if err != nil {
				return res, err
			}
			if mem.Peak > res.Memory.Peak {
				res.Memory = mem
			}
			res.HeapAbove = max(res.HeapAbove, mem.RuntimeHeap-heapBefore)
			sum += loss
			n++
			res.Steps++
			tick()
		}
		res.Loss = sum / float64(n)
	}
	if res.Accuracy, err = evaluate(c, params, pc, testSet); err != nil {
		return res, check.Wrapf(err, "vtab: %s on %s", r, testSet.Task)
	}
	res.Seconds = time.Since(start).Seconds()
	if c.SaveAdapter != "" && hasAdapter(r) {
		dir := filepath.Join(c.SaveAdapter, trainSet.Task, r.String())
		model := c.Model
		model.Classes = trainSet.Classes
		if err := peft.SaveAdapter(dir, b, model, base); err != nil {
			return res, check.Wrapf(err, "vtab: %s on %s", r, trainSet.Task)
		}
		res.Adapter = dir
	}
	return res, nil
}

// evaluate is the accuracy in percent of the model with params on s, built
// with method pc as at inference: no dropout, no VeLoRA (it changes only the
// backward pass).
func evaluate(c Config, params *layers.Params, pc peft.Config, s *vtab.Split) (float64, error) {
	pc.Dropout, pc.VeLoRA = 0, nil
	before := len(params.Names())
	b, m, err := newModel(c, params, pc, s.Classes, min(c.EvalBatch, s.Len()))
	if err != nil {
		return 0, err
	}
	if len(params.Names()) != before {
		return 0, errors.New("vtab: the evaluation graph made parameters the training graph lacks")
	}
	vm, err := machine.New(b.G, gorgonia.Nodes{m.Logits})
	if err != nil {
		return 0, err
	}
	defer vm.Close()
	batches, err := s.Batches(m.Batch, nil)
	if err != nil {
		return 0, err
	}
	right := 0
	for bt := range batches {
		if err := fill(m, bt); err != nil {
			return 0, err
		}
		if err := vm.RunAll(); err != nil {
			return 0, err
		}
		logits := m.Logits.Value().Data().([]float32) // (batch, classes)
		for i, label := range bt.Labels {
			if argmax(logits[i*s.Classes:(i+1)*s.Classes]) == label {
				right++
			}
		}
	}
	return 100 * float64(right) / float64(s.Len()), nil
}

// fill copies a batch's patches and labels into the model's inputs. A short
// last batch is padded with zero images whose label the loss ignores.
func fill(m *layers.ViT, b *vtab.Batch) error {
	if b.Size != m.Config.ImageSize {
		return errors.Errorf("vtab: images are %d×%d, the model takes %d×%d", b.Size, b.Size, m.Config.ImageSize, m.Config.ImageSize)
	}
	if b.Len() > m.Batch {
		return errors.Errorf("vtab: batch of %d images for a model built for %d", b.Len(), m.Batch)
	}
	patches, err := b.Patches(m.Config.PatchSize) // (B, P, PatchDim), the layout of m.Images
	if err != nil {
		return err
	}
	data, labels := patches.Data().([]float32), b.Labels
	if short := m.Batch - b.Len(); short > 0 {
		data = append(data[:len(data):len(data)], make([]float32, short*m.Config.Patches()*m.Config.PatchDim())...)
		labels = append(labels[:len(labels):len(labels)], slices.Repeat([]int{layers.IgnoreIndex}, short)...)
	}
	return m.SetPatches(data, labels)
}

// clone copies every parameter, so that each run starts from the same
// backbone.
func clone(src *layers.Params) (*layers.Params, error) {
	dst := layers.NewParams()
	for _, name := range src.Names() {
		if err := dst.Set(name, src.Get(name).Clone().(*tensor.Dense)); err != nil {
			return nil, err
		}
	}
	return dst, nil
}

// removeHead deletes the classifier head: each task has its own classes.
func removeHead(p *layers.Params) {
	for _, name := range p.Names() {
		if strings.HasPrefix(name, "head.") {
			p.Delete(name)
		}
	}
}

func argmax(x []float32) int {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}

// collectedHeap is the Go heap's live bytes after two collections (the
// machines set finalizers), the figure RuntimeHeap is measured in.
func collectedHeap() int64 {
	runtime.GC()
	runtime.GC()
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return int64(s[0].Value.Uint64())
}
