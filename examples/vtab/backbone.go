package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"math/rand"
	"os"
	"path/filepath"
	"time"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/velora-go/velora/checkpoint"
	"github.com/velora-go/velora/data/vtab"
	"github.com/velora-go/velora/internal/check"
	"github.com/velora-go/velora/layers"
	"github.com/velora-go/velora/peft"
	"github.com/velora-go/velora/train"
)

// cacheKey is the metadata key of a cached backbone that records what made it.
const cacheKey = "velora_vtab_pretrain"

// Backbone returns the weights every fine-tuning run starts from: the
// ViT-B/16 checkpoint when one is given, else the tiny ViT pre-trained on
// the upstream set, read from the cache or trained and cached.
func Backbone(c Config, data fs.FS, log *progress) (*layers.Params, error) {
	if c.Checkpoint != "" {
		params := layers.NewParams()
		model := c.Model
		model.Classes = 1 // no checkpoint head has one class: the head is not loaded
		if err := layers.LoadViTNPZ(c.Checkpoint, params, model, tensor.Float32); err != nil {
			return nil, check.Wrap(err, "vtab: checkpoint")
		}
		fmt.Fprintf(log, "backbone: %s, %d parameters\n", c.Checkpoint, params.Count())
		return params, nil
	}
	upstream, source := upstreamFS(c, data)
	key := pretrainKey(c, source)
	path, err := cachePath(c, key)
	if err != nil {
		return nil, err
	}
	if err := removeTemps(path); err != nil { // left by a kill while caching
		return nil, err
	}
	params, err := loadCached(c, path, key)
	switch {
	case err == nil:
		fmt.Fprintf(log, "backbone: %s (cached pre-training)\n", path)
		return params, nil
	case errors.Is(err, fs.ErrNotExist):
		fmt.Fprintf(log, "backbone: no cache at %s, pre-training\n", path)
	case errors.Is(err, errNotACache):
		return nil, check.Wrapf(err, "vtab: refusing to overwrite %s (delete it or give another -cache)", path)
	default:
		fmt.Fprintf(log, "backbone: %v; pre-training again\n", err)
	}
	if params, err = Pretrain(c, upstream, source, log); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, check.Wrap(err, "vtab: cache folder")
	}
	removeHead(params) // every task gets a new head
	if err := layers.SaveSafetensors(path, params, nil, "", map[string]string{cacheKey: key}); err != nil {
		return nil, check.Wrap(err, "vtab: caching the backbone")
	}
	fmt.Fprintf(log, "backbone: cached in %s\n", path)
	return params, nil
}

// upstreamFS is the tree that holds the pre-training set: the -data
// tree's own upstream folder when it has one, else the embedded suite's;
// source names it.
func upstreamFS(c Config, data fs.FS) (fs.FS, string) {
	if c.Data != "" {
		if _, err := fs.Stat(data, vtab.Upstream+"/"+vtab.UpstreamTrain+".txt"); err == nil {
			return data, c.Data
		}
	}
	return vtab.Default(), "embedded"
}

// pretrainKey names everything the pre-trained weights depend on.
func pretrainKey(c Config, source string) string {
	m := c.Model
	return fmt.Sprintf("upstream=%s image=%d patch=%d hidden=%d layers=%d heads=%d mlp=%d eps=%g epochs=%d batch=%d lr=%g wd=%g warmup=%g min=%g seed=%d",
		source, m.ImageSize, m.PatchSize, m.Hidden, m.Layers, m.Heads, m.MLP, m.LayerNormE,
		c.PretrainEpochs, c.PretrainBatch, c.PretrainLR, c.WeightDecay, c.Warmup, c.MinLR, c.Seed)
}

// cachePath is c.Cache, or a file named after the key's hash under the
// user's cache folder.
func cachePath(c Config, key string) (string, error) {
	if c.Cache != "" {
		return c.Cache, nil
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", check.Wrap(err, "vtab: no cache folder; give -cache FILE")
	}
	sum := sha256.Sum256([]byte(key))
	return filepath.Join(dir, "velora", "vtab-vit-"+hex.EncodeToString(sum[:6])+".safetensors"), nil
}

// errNotACache marks a file that this program did not write as a cache, which it must
// not overwrite: it may be the user's.
var errNotACache = errors.New("not a backbone cache this program wrote")

// loadCached reads a cached backbone made with key. A missing file is
// fs.ErrNotExist; a file that is not a cache of this program is errNotACache; a
// cache made by another configuration, or lacking a parameter of the model, is an
// error that says so.
func loadCached(c Config, path, key string) (*layers.Params, error) {
	_, meta, err := checkpoint.Read(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err != nil {
		return nil, errors.Wrapf(errNotACache, "cache %s is unreadable (%v)", path, err)
	}
	if _, ours := meta[cacheKey]; !ours {
		return nil, errors.Wrapf(errNotACache, "cache %s has no %s metadata", path, cacheKey)
	}
	if meta[cacheKey] != key {
		return nil, errors.Errorf("cache %s was made by another configuration (%q, this run is %q)", path, meta[cacheKey], key)
	}
	b, _, err := newModel(c, layers.NewParams(), peft.Config{Method: peft.MethodFull}, 1, 1)
	if err != nil {
		return nil, err
	}
	params := b.Params
	removeHead(params)
	if err := layers.LoadSafetensors(path, params, "", tensor.Float32, params.SortedNames()); err != nil {
		return nil, errors.Wrapf(err, "cache %s does not fit the model", path)
	}
	return params, nil
}

// newModel builds a ViT of c.Model with classes outputs on params for
// method pc and batch size batch.
func newModel(c Config, params *layers.Params, pc peft.Config, classes, batch int) (*layers.Builder, *layers.ViT, error) {
	model := c.Model
	model.Classes = classes
	adapter, err := peft.Apply(pc, model)
	if err != nil {
		return nil, nil, err
	}
	b, err := layers.NewBuilder(params, tensor.Float32, adapter, c.Seed)
	if err != nil {
		return nil, nil, err
	}
	m, err := layers.NewViT(b, model, batch)
	return b, m, err
}

// Pretrain trains the tiny ViT fully on the upstream set's train list and
// reports its accuracy on the val list.
func Pretrain(c Config, upstream fs.FS, source string, log *progress) (*layers.Params, error) {
	start := time.Now()
	cfg := vtab.Config{Size: c.Model.ImageSize}
	if source == "embedded" {
		cfg.Classes = vtab.UpstreamClasses // a tree's own upstream folder has a classes.txt
	}
	trainSet, err := vtab.Load(upstream, vtab.Upstream, vtab.UpstreamTrain, cfg)
	if err != nil {
		return nil, check.Wrap(err, "vtab: pre-training set")
	}
	valSet, err := vtab.Load(upstream, vtab.Upstream, vtab.UpstreamVal, cfg)
	if err != nil {
		return nil, check.Wrap(err, "vtab: pre-training set")
	}
	full := peft.Config{Method: peft.MethodFull}
	b, m, err := newModel(c, layers.NewParams(), full, trainSet.Classes, c.PretrainBatch)
	if err != nil {
		return nil, err
	}
	steps := c.PretrainEpochs * ((trainSet.Len() + c.PretrainBatch - 1) / c.PretrainBatch)
	opt, err := newSchedule(c, c.PretrainLR, steps)
	if err != nil {
		return nil, err
	}
	t, err := train.New(b, m.Loss, opt)
	if err != nil {
		return nil, err
	}
	defer t.Close()
	batches, err := trainSet.Batches(c.PretrainBatch, rand.New(rand.NewSource(c.Seed)))
	if err != nil {
		return nil, err
	}
	log.start("pre-training", int64(steps))
	for epoch := 1; epoch <= c.PretrainEpochs; epoch++ {
		var sum float64
		var n int
		for batch := range batches {
			if err := fill(m, batch); err != nil {
				return nil, err
			}
			opt.next()
			loss, err := t.Step()
			if err != nil {
				return nil, check.Wrapf(err, "vtab: pre-training epoch %d", epoch)
			}
			sum += loss
			n++
			log.tick()
		}
		fmt.Fprintf(log, "pre-train epoch %d/%d: loss %.4f\n", epoch, c.PretrainEpochs, sum/float64(n))
	}
	acc, err := evaluate(c, b.Params, full, valSet)
	if err != nil {
		return nil, check.Wrap(err, "vtab: pre-training")
	}
	fmt.Fprintf(log, "pre-trained on the %s upstream set (%d images, %d classes): val accuracy %.1f%% in %s\n",
		source, trainSet.Len(), trainSet.Classes, acc, time.Since(start).Round(time.Second))
	return b.Params, nil
}
