package main

import (
	"io"

	"github.com/pkg/errors"

	"github.com/velora-go/velora/data/c4"
)

// valSeed orders the validation documents: 42, the paper's shuffle seed, for
// every run, so all methods see the same validation tokens.
const valSeed = 42

// evaluate is the validation loss of the model as trained so far: the mean
// cross-entropy over the targets of the first limit validation tokens (the
// whole split with limit 0), forward passes only. The paper averages the
// per-batch means; here each batch counts by its number of targets, which
// differs only in a last, partly padded batch.
func evaluate(r *run, limit int) (loss float64, targets int, err error) {
	stream, err := c4.NewStream(r.setup.Val, r.setup.Tokenizer, r.dataConfig(valSeed))
	if err != nil {
		return 0, 0, err
	}
	defer stream.Close()
	var sum float64
	tokens := 0
	for limit == 0 || tokens < limit {
		b, err := stream.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, 0, err
		}
		tokens += b.Tokens
		n := 0
		for _, t := range b.Targets {
			if t != c4.IgnoreIndex {
				n++
			}
		}
		if n == 0 {
			continue
		}
		if err := r.model.SetBatch(b.Inputs, b.Targets); err != nil {
			return 0, 0, err
		}
		l, err := r.trainer.Eval()
		if err != nil {
			return 0, 0, err
		}
		sum += l * float64(n)
		targets += n
	}
	if targets == 0 {
		return 0, 0, errors.New("the validation data holds no target")
	}
	return sum / float64(targets), targets, nil
}
