package c4

import "github.com/pkg/errors"

// IgnoreIndex marks a target with no token to predict (padding, the end of a row
// without a next token), as in PyTorch's cross-entropy.
const IgnoreIndex = -100

// Config says how a [Stream] turns documents into batches. The zero value is the
// paper's pipeline (GaLore's torchrun_main.py in jiaweizzhao/GaLore, reused by VeLoRA's
// pretraining/dataloader.py), with
// BatchSize and Seed as noted.
type Config struct {
	// SeqLen is the number of tokens per row. 0 means 256, the paper's --max_length.
	SeqLen int
	// BatchSize is the number of rows per batch. 0 means 128, VeLoRA's per-GPU batch.
	BatchSize int
	// Seed chooses the shard order and the shuffle. The paper's pipeline uses 42; 0 is
	// just another seed.
	Seed int64
	// Shuffle is the number of documents shuffled together (one window of a shard).
	// 0 means 1000, the buffer of the HF streaming shuffle the paper uses; 1 reads the
	// shards in their given order and each shard front to back.
	Shuffle int
	// Pack concatenates the documents, each followed by EOS, and cuts the token stream
	// into rows, so no token is padding or thrown away (GPT-2 style). False, the paper's
	// pipeline, gives each document its own row: its tokens truncated to SeqLen-1, then
	// EOS, then PAD to the end of the row.
	Pack bool
	// Repeat starts a new pass (epoch) over the shards when one ends, with a new shard
	// order and shuffle, so batches run on across epochs; without it Next returns io.EOF
	// after one pass. To stop after each epoch (to evaluate, say), leave Repeat off and
	// call Seek(Cursor{Epoch: e}) before epoch e: it gives the order Repeat would.
	Repeat bool
}

// withDefaults returns c with zero fields set to their defaults.
func (c Config) withDefaults() Config {
	if c.SeqLen == 0 {
		c.SeqLen = 256
	}
	if c.BatchSize == 0 {
		c.BatchSize = 128
	}
	if c.Shuffle == 0 {
		c.Shuffle = 1000
	}
	return c
}

// Validate reports a field that no default fixes: negative sizes, or rows too short to
// hold a token and its target.
func (c Config) Validate() error {
	switch {
	case c.SeqLen < 0 || c.SeqLen == 1:
		return errors.Errorf("c4: sequence length %d, expected at least 2 (or 0 for 256)", c.SeqLen)
	case c.BatchSize < 0:
		return errors.Errorf("c4: batch size %d, expected at least 1 (or 0 for 128)", c.BatchSize)
	case c.Shuffle < 0:
		return errors.Errorf("c4: shuffle window %d, expected at least 1 (or 0 for 1000)", c.Shuffle)
	}
	return nil
}
