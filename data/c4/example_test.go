package c4_test

import (
	"fmt"
	"log"

	"github.com/velora-go/velora/data/c4"
)

// The first batch of the embedded validation split, read in file order, in rows of 16
// bytes: each row is a document's first 15 bytes and EOS, and each target is the next
// input ("R" is byte 82, id 85).
func Example() {
	shards, err := c4.Default("validation")
	if err != nil {
		log.Fatal(err)
	}
	tok := c4.ByteTokenizer{}
	s, err := c4.NewStream(shards, tok, c4.Config{SeqLen: 16, BatchSize: 2, Shuffle: 1})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	b, err := s.Next()
	if err != nil {
		log.Fatal(err)
	}
	for r := range b.Rows {
		row := b.Inputs[r*b.SeqLen : (r+1)*b.SeqLen]
		fmt.Printf("%q ends with EOS: %v\n", tok.Decode(row), row[b.SeqLen-1] == tok.EOS())
	}
	fmt.Println("inputs:  ", b.Inputs[:4], "targets:", b.Targets[:3], "last target:", b.Targets[b.SeqLen-1])
	fmt.Printf("position: %+v\n", s.Position())
	// Output:
	// "Romantic news c" ends with EOS: true
	// "Enrique Jorda, " ends with EOS: true
	// inputs:   [85 114 112 100] targets: [114 112 100] last target: -100
	// position: {Epoch:0 Shard:0 File:c4-validation.00000-of-00001.json.gz Line:2 Skip:0 Token:0}
}
