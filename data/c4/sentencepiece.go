package c4

import (
	"os"
	"strings"
	"unicode/utf8"

	"github.com/pkg/errors"

	"github.com/velora-go/velora/internal/check"
)

// SentencePiece is a unigram SentencePiece tokenizer read from a .model file, the
// protobuf that spm_train writes: the kind t5-base's spiece.model is (32000 pieces; pad
// 0, EOS 1, unknown 2; the NFKC-based nmt_nfkc normalizer), which the paper used. It
// encodes as SentencePiece's own EncodeAsIds does: normalize, then the best unigram
// segmentation. It supports what t5-base's model uses; BPE, word and character models,
// user-defined pieces, byte fallback and whitespace-as-suffix are refused when loading.
type SentencePiece struct {
	pieces     []spPiece
	normalizer *spNormalizer
	unigram    *spUnigram
	eos, pad   int
	unkSurface string
	dummy      bool // a space was put in front of the text: Decode takes it off
}

// LoadSentencePiece reads a SentencePiece model file. The model must have an EOS piece;
// PAD is its pad piece, or EOS where it has none (padding never reaches the loss, so any
// valid id serves). Errors name the path.
func LoadSentencePiece(path string) (*SentencePiece, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, check.Wrap(err, "c4: sentencepiece model")
	}
	sp, err := newSentencePiece(data)
	if err != nil {
		return nil, check.Wrapf(err, "c4: sentencepiece model %s", path)
	}
	return sp, nil
}

// newSentencePiece builds the tokenizer from a serialized model.
func newSentencePiece(data []byte) (*SentencePiece, error) {
	m, err := parseSPModel(data)
	if err != nil {
		return nil, check.Wrapf(err, "not a SentencePiece model, or one cut short (%d bytes)", len(data))
	}
	if len(m.pieces) == 0 {
		return nil, errors.New("not a SentencePiece model: no pieces")
	}
	if err := checkSupported(m); err != nil {
		return nil, err
	}
	n, err := newSPNormalizer(m.normalizer)
	if err != nil {
		return nil, err
	}
	pad := m.padID
	if pad < 0 {
		pad = m.eosID
	}
	return &SentencePiece{
		pieces: m.pieces, normalizer: n, unigram: newSPUnigram(m),
		eos: int(m.eosID), pad: int(pad), unkSurface: m.unkSurface, dummy: m.normalizer.addDummyPrefix,
	}, nil
}

// maxPieceChars is the longest piece spm_train can make: its max_sentencepiece_length
// must lie in [1, 512] (trainer_interface.cc). Refusing longer pieces bounds the work
// of encoding: the segmentation tries every piece length at every character.
const maxPieceChars = 512

// checkSupported refuses what this implementation does not do, and special ids that
// name the wrong pieces.
func checkSupported(m spModel) error {
	kinds := map[int64]string{2: "BPE", 3: "word", 4: "character"}
	switch {
	case m.modelType != spUnigramType:
		return errors.Errorf("model type %s, expected unigram (t5-base's), the only one supported", kinds[m.modelType])
	case m.byteFallback:
		return errors.New("byte fallback is on, expected it off: it is not supported")
	case m.whitespaceSuffix:
		return errors.New("treat_whitespace_as_suffix is on, expected it off: it is not supported")
	}
	n := int64(len(m.pieces))
	for id, p := range m.pieces {
		if p.kind == spUserDefined {
			return errors.Errorf("user-defined piece %q: user-defined pieces are not supported", p.text)
		}
		if n := utf8.RuneCountInString(p.text); p.kind == spNormal && n > maxPieceChars {
			return errors.Errorf("piece %d is %d characters long; SentencePiece's trainer makes none longer than %d", id, n, maxPieceChars)
		}
	}
	switch {
	case m.unkID < 0 || m.unkID >= n || m.pieces[m.unkID].kind != spUnknown:
		return errors.Errorf("unknown id %d, expected the unknown piece of %d", m.unkID, n)
	case m.eosID < 0 || m.eosID >= n || m.pieces[m.eosID].kind != spControl:
		return errors.Errorf("end-of-sentence id %d, expected a control piece of %d", m.eosID, n)
	case m.padID >= n || m.padID >= 0 && m.pieces[m.padID].kind != spControl:
		return errors.Errorf("pad id %d, expected a control piece of %d", m.padID, n)
	}
	return nil
}

// Encode returns the ids of text's pieces, without EOS.
func (sp *SentencePiece) Encode(text string) []int {
	return sp.unigram.encode(sp.normalizer.normalize(text))
}

// Decode returns the text of ids as SentencePiece decodes it: pieces joined, ▁ back to
// spaces, the leading space the normalizer added taken off, the unknown piece shown as
// " ⁇ ". Control pieces (EOS, PAD) and ids outside the vocabulary are skipped.
// Normalization is not undone: Decode(Encode(s)) is s normalized.
func (sp *SentencePiece) Decode(ids []int) string {
	var b strings.Builder
	first := true
	for _, id := range ids {
		if id < 0 || id >= len(sp.pieces) {
			continue
		}
		p := sp.pieces[id]
		switch p.kind {
		case spControl:
			continue
		case spUnknown:
			b.WriteString(sp.unkSurface)
		default:
			text := p.text
			if first && sp.dummy {
				text = strings.TrimPrefix(text, spaceSymbol)
			}
			b.WriteString(strings.ReplaceAll(text, spaceSymbol, " "))
		}
		first = false
	}
	return b.String()
}

// VocabSize returns the number of pieces.
func (sp *SentencePiece) VocabSize() int { return len(sp.pieces) }

// EOS returns the end-of-sentence id (1 in t5-base).
func (sp *SentencePiece) EOS() int { return sp.eos }

// PAD returns the pad id (0 in t5-base), or EOS where the model has none.
func (sp *SentencePiece) PAD() int { return sp.pad }
