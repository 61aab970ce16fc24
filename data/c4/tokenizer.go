package c4

// Tokenizer turns text into token ids and back.
//
// The batching follows the paper's t5-base pipeline, which needs two special tokens:
// EOS, appended to every document, and PAD, which fills a row after its document ends.
// There is no BOS (t5-base has none).
type Tokenizer interface {
	// Encode returns the ids of text, without special tokens.
	Encode(text string) []int
	// Decode returns the text of ids. Special tokens and ids outside the vocabulary are
	// skipped.
	Decode(ids []int) string
	// VocabSize is the number of ids: every id is in [0, VocabSize).
	VocabSize() int
	// EOS is the end-of-document id.
	EOS() int
	// PAD is the padding id.
	PAD() int
}
