package c4

// Byte tokenizer ids, laid out as ByT5's (Xue et al., arXiv 2105.13626): the special
// tokens first, with t5-base's ids, then the 256 byte values. 2 is ByT5's unknown token,
// which a byte tokenizer never needs; it stays reserved so the ids match ByT5's.
const (
	bytePAD    = 0
	byteEOS    = 1
	byteOffset = 3 // byte b has id b + 3
	byteVocab  = byteOffset + 256
)

// ByteTokenizer is the default tokenizer: every UTF-8 byte of the text is one token.
// Ids: PAD 0, EOS 1 (as in t5-base), 2 reserved, byte b is b+3; VocabSize is 259.
// It needs no file and any text round-trips exactly.
type ByteTokenizer struct{}

// Encode returns one id per byte of text.
func (ByteTokenizer) Encode(text string) []int {
	ids := make([]int, len(text))
	for i := 0; i < len(text); i++ {
		ids[i] = int(text[i]) + byteOffset
	}
	return ids
}

// Decode returns the bytes that ids stand for, skipping PAD, EOS, the reserved id and
// ids outside the vocabulary.
func (ByteTokenizer) Decode(ids []int) string {
	b := make([]byte, 0, len(ids))
	for _, id := range ids {
		if id >= byteOffset && id < byteVocab {
			b = append(b, byte(id-byteOffset))
		}
	}
	return string(b)
}

// VocabSize returns 259: three special ids and 256 bytes.
func (ByteTokenizer) VocabSize() int { return byteVocab }

// EOS returns 1.
func (ByteTokenizer) EOS() int { return byteEOS }

// PAD returns 0.
func (ByteTokenizer) PAD() int { return bytePAD }
