// Package c4 provides the data for LLaMA pre-training as the VeLoRA paper runs it (Miles
// et al., NeurIPS 2024, arXiv 2405.17991, Table 4, on GaLore's pipeline, arXiv
// 2403.03507): documents in C4's shard format, tokenized and cut into batches of token
// ids with next-token targets.
//
// C4 (allenai/c4 on the HF hub, config en) is 1024 train and 8 validation shards named
// c4-{split}.{index:05d}-of-{count:05d}.json.gz, each a gzip-compressed file of JSON
// lines {"text", "timestamp", "url"}. [Dir] finds a split's shards in a folder, [Files]
// takes a list, and [Default] returns the embedded corpus (the Brown corpus, 500 texts,
// about 2.3 MB; embedded/README.md says where it comes from), so nothing needs
// downloading. A Stream reads one document at a time, so a shard larger than
// memory is no problem; every data error names the file and the line.
//
// A [Stream] turns shards into [Batch]es: (BatchSize, SeqLen) token ids and their
// targets, the next token or [IgnoreIndex]. Its [Config]'s zero value is the paper's
// pipeline: each document a row of its own, truncated to 255 tokens plus EOS and padded
// to 256, no packing; [Config.Pack] packs documents into full rows instead. Shards and
// documents are shuffled with a seed in windows (like the HF streaming shuffle the paper
// uses, though not its exact order), and [Stream.Position] is a [Cursor] from which
// [Stream.Seek] resumes exactly, so a checkpointed run continues with the batches it
// would have seen.
//
// Tokenizers implement [Tokenizer]. [ByteTokenizer] is the default: one token per byte,
// ids laid out as ByT5's (PAD 0, EOS 1, bytes from 3). [LoadSentencePiece] reads a
// unigram SentencePiece .model file, such as the t5-base spiece.model the paper used
// (32000 pieces), and segments text as SentencePiece itself does, in pure Go.
package c4
