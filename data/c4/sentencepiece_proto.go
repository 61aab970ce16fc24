package c4

import (
	"math"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/velora-go/velora/internal/check"
)

// spModel is what the tokenizer needs from a SentencePiece ModelProto
// (sentencepiece_model.proto in github.com/google/sentencepiece), with the proto's
// defaults for fields the file leaves out.
type spModel struct {
	pieces                         []spPiece
	modelType                      int64 // TrainerSpec.model_type: 1 unigram, 2 BPE, 3 word, 4 char
	unkID                          int64
	eosID                          int64
	padID                          int64
	byteFallback, whitespaceSuffix bool
	unkSurface                     string
	normalizer                     spNormalizerSpec
}

// spNormalizerSpec is NormalizerSpec.
type spNormalizerSpec struct {
	charsmap                                                  []byte
	addDummyPrefix, removeExtraWhitespaces, escapeWhitespaces bool
}

// spPiece is ModelProto.SentencePiece.
type spPiece struct {
	text  string
	score float32
	kind  int64 // 1 normal, 2 unknown, 3 control, 4 user defined, 5 unused, 6 byte
}

// SentencePiece piece kinds and model types.
const (
	spNormal      = 1
	spUnknown     = 2
	spControl     = 3
	spUserDefined = 4
	spUnigramType = 1
)

// parseSPModel decodes a serialized ModelProto.
func parseSPModel(b []byte) (spModel, error) {
	m := spModel{
		modelType: spUnigramType, unkID: 0, eosID: 2, padID: -1, unkSurface: " \u2047 ",
		normalizer: spNormalizerSpec{addDummyPrefix: true, removeExtraWhitespaces: true, escapeWhitespaces: true},
	}
	err := eachField(b, func(num protowire.Number, v field) error {
		switch num {
		case 1:
			p := spPiece{kind: spNormal}
			err := eachField(v.bytes, func(num protowire.Number, v field) error {
				switch num {
				case 1:
					p.text = string(v.bytes)
				case 2:
					p.score = math.Float32frombits(uint32(v.fixed32))
				case 3:
					p.kind = int64(v.varint)
				}
				return nil
			})
			m.pieces = append(m.pieces, p)
			return err
		case 2:
			return eachField(v.bytes, func(num protowire.Number, v field) error {
				switch num {
				case 3:
					m.modelType = int64(v.varint)
				case 24:
					m.whitespaceSuffix = v.varint != 0
				case 35:
					m.byteFallback = v.varint != 0
				case 40:
					m.unkID = int64(int32(v.varint))
				case 42:
					m.eosID = int64(int32(v.varint))
				case 43:
					m.padID = int64(int32(v.varint))
				case 44:
					m.unkSurface = string(v.bytes)
				}
				return nil
			})
		case 3:
			n := &m.normalizer
			return eachField(v.bytes, func(num protowire.Number, v field) error {
				switch num {
				case 2:
					n.charsmap = v.bytes
				case 3:
					n.addDummyPrefix = v.varint != 0
				case 4:
					n.removeExtraWhitespaces = v.varint != 0
				case 5:
					n.escapeWhitespaces = v.varint != 0
				}
				return nil
			})
		}
		return nil
	})
	return m, err
}

// field is one protobuf field's value, in the member its wire type fills.
type field struct {
	varint  uint64
	fixed32 uint32
	bytes   []byte
}

// eachField calls f with every field of a serialized message, in order.
func eachField(b []byte, f func(protowire.Number, field) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return check.Wrap(protowire.ParseError(n), "malformed protobuf")
		}
		b = b[n:]
		var v field
		switch typ {
		case protowire.VarintType:
			v.varint, n = protowire.ConsumeVarint(b)
		case protowire.Fixed32Type:
			v.fixed32, n = protowire.ConsumeFixed32(b)
		case protowire.BytesType:
			v.bytes, n = protowire.ConsumeBytes(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return check.Wrapf(protowire.ParseError(n), "malformed protobuf field %d", num)
		}
		b = b[n:]
		if err := f(num, v); err != nil {
			return err
		}
	}
	return nil
}
