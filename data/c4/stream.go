package c4

import (
	"io"

	"github.com/pkg/errors"
)

// Stream turns shards into batches of token ids, reading one document at a time. It is
// deterministic: the same shards, tokenizer and Config give the same batches, and Seek
// to a saved Position gives the batches that followed it.
type Stream struct {
	cfg    Config
	tok    Tokenizer
	src    *source
	queue  []queued // packed streams: documents whose tokens are not all in rows yet
	resume int      // tokens of the next document already in rows, set by Seek
}

// queued is a tokenized document (EOS included) and how many of its tokens are in rows.
type queued struct {
	ids  []int
	pos  Cursor
	used int
}

// NewStream returns a stream at the start of the shards, epoch 0. It checks the shard
// list, the tokenizer's special ids and cfg; reading errors come from Next.
func NewStream(shards Shards, tok Tokenizer, cfg Config) (*Stream, error) {
	if len(shards.Paths) == 0 {
		return nil, errors.New("c4: no shard files given")
	}
	if tok == nil {
		return nil, errors.New("c4: no tokenizer")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	for _, id := range []int{tok.EOS(), tok.PAD()} {
		if id < 0 || id >= tok.VocabSize() {
			return nil, errors.Errorf("c4: tokenizer's special id %d is outside its vocabulary of %d", id, tok.VocabSize())
		}
	}
	cfg = cfg.withDefaults()
	return &Stream{cfg: cfg, tok: tok, src: newSource(shards, cfg)}, nil
}

// Config returns the stream's configuration with defaults filled in.
func (s *Stream) Config() Config { return s.cfg }

// Next returns the next batch, always (BatchSize, SeqLen). Without Repeat, the last
// batch of the pass may have fewer Rows, and then Next returns io.EOF. Errors from the
// data name the file and line.
//
// Unpacked (the paper's pipeline), each row is one document: its first SeqLen-1 tokens,
// EOS, then PAD. Packed, the documents and their EOS tokens run on from row to row and
// from batch to batch.
func (s *Stream) Next() (Batch, error) {
	b := newBatch(s.cfg.BatchSize, s.cfg.SeqLen, s.tok.PAD())
	for b.Rows < b.BatchSize {
		var row []int
		var err error
		if s.cfg.Pack {
			row, err = s.packedRow()
		} else {
			row, err = s.documentRow()
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return Batch{}, err
		}
		b.addRow(row)
	}
	if b.Rows == 0 {
		return Batch{}, io.EOF
	}
	return b, nil
}

// documentRow returns the next document's tokens, truncated to SeqLen-1, and EOS.
func (s *Stream) documentRow() ([]int, error) {
	d, _, err := s.src.next()
	if err != nil {
		return nil, err
	}
	ids := s.tok.Encode(d.Text)
	ids = append(ids[:min(len(ids), s.cfg.SeqLen-1)], s.tok.EOS())
	return ids, nil
}

// packedRow returns the next SeqLen tokens of the packed token stream and the one after
// them (the last target), and moves on by SeqLen. At the end of the data the row is
// shorter; a last token with nothing to predict makes no row.
func (s *Stream) packedRow() ([]int, error) {
	want := s.cfg.SeqLen + 1
	row := make([]int, 0, want)
	for i := 0; len(row) < want; i++ {
		if i == len(s.queue) {
			q, err := s.nextDocument()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, err
			}
			s.queue = append(s.queue, q)
		}
		q := s.queue[i]
		row = append(row, q.ids[q.used:min(len(q.ids), q.used+want-len(row))]...)
	}
	if len(row) < 2 {
		return nil, io.EOF
	}
	s.consume(min(len(row), s.cfg.SeqLen))
	return row, nil
}

// nextDocument tokenizes the next document for a packed stream.
func (s *Stream) nextDocument() (queued, error) {
	d, pos, err := s.src.next()
	if err != nil {
		return queued{}, err
	}
	q := queued{ids: append(s.tok.Encode(d.Text), s.tok.EOS()), pos: pos, used: s.resume}
	if q.used >= len(q.ids) {
		return queued{}, errors.Errorf("c4: cursor skips %d tokens, but its document (%s, document %d of the "+
			"window after line %d) has %d", q.used, pos.File, pos.Skip, pos.Line, len(q.ids))
	}
	s.resume = 0
	return q, nil
}

// consume marks n queued tokens as in rows and drops the documents used up.
func (s *Stream) consume(n int) {
	for n > 0 {
		q := &s.queue[0]
		k := min(n, len(q.ids)-q.used)
		q.used += k
		n -= k
		if q.used == len(q.ids) {
			s.queue = s.queue[1:]
		}
	}
}

// Position returns the cursor of the next token a batch will take.
func (s *Stream) Position() Cursor {
	if len(s.queue) > 0 {
		c := s.queue[0].pos
		c.Token = s.queue[0].used
		return c
	}
	c := s.src.position()
	c.Token = s.resume
	return c
}

// Seek moves the stream to a cursor from Position, made by a stream with the same
// shards, tokenizer and Config. A cursor that does not fit the data is an error here
// or from the next call to Next.
func (s *Stream) Seek(c Cursor) error {
	if c.Token < 0 || (c.Token > 0 && !s.cfg.Pack) {
		return errors.Errorf("c4: cursor token %d, expected 0 for an unpacked stream (or at least 0 for a packed one)", c.Token)
	}
	if err := s.src.seek(c); err != nil {
		return err
	}
	s.queue, s.resume = nil, c.Token
	return nil
}

// Close closes the shard the stream is reading.
func (s *Stream) Close() error { return s.src.closeShard() }
