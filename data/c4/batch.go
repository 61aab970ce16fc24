package c4

// Batch is a block of token ids for causal language modelling and the targets the model
// should predict: Targets[r*SeqLen+t] is the token after Inputs[r*SeqLen+t], or
// IgnoreIndex where there is none (padding, a document's last token in an unpacked row,
// the last position of a row at the end of the data). This is the paper's labels =
// input_ids with padding set to -100, shifted by one as the model's loss does.
type Batch struct {
	// BatchSize and SeqLen are the batch's shape: rows, and tokens per row.
	BatchSize, SeqLen int
	// Inputs holds the token ids, (BatchSize, SeqLen) row-major; PAD after the data ends.
	Inputs []int
	// Targets holds the next token ids, (BatchSize, SeqLen) row-major, or IgnoreIndex.
	Targets []int
	// Rows is the number of rows with data. It is BatchSize except in a stream's last
	// batch (without Repeat), whose other rows are all PAD with every target ignored, so
	// every batch has the same shape.
	Rows int
	// Tokens counts the input positions that hold data rather than PAD: the count the
	// paper's evaluation adds up toward its 10M-token budget.
	Tokens int
}

// newBatch returns a batch of PAD inputs and ignored targets.
func newBatch(batchSize, seqLen, pad int) Batch {
	b := Batch{
		BatchSize: batchSize, SeqLen: seqLen,
		Inputs:  make([]int, batchSize*seqLen),
		Targets: make([]int, batchSize*seqLen),
	}
	for i := range b.Inputs {
		b.Inputs[i], b.Targets[i] = pad, IgnoreIndex
	}
	return b
}

// addRow fills the next row from tokens: the first SeqLen (or fewer) are inputs, each
// token's successor in tokens its target. The caller passes at most SeqLen+1 tokens.
func (b *Batch) addRow(tokens []int) {
	in := b.Inputs[b.Rows*b.SeqLen : (b.Rows+1)*b.SeqLen]
	tg := b.Targets[b.Rows*b.SeqLen : (b.Rows+1)*b.SeqLen]
	n := copy(in, tokens)
	if len(tokens) > 1 {
		copy(tg, tokens[1:])
	}
	b.Rows++
	b.Tokens += n
}
