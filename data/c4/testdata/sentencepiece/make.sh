#!/usr/bin/env bash
# Regenerates the SentencePiece fixtures with the reference implementation
# (Debian: apt-get install sentencepiece; tested with 0.1.97). The models are trained
# on the embedded validation text; cases.txt is hand-made (edge cases, then lines of the
# corpus); the .ids and .decoded files are what spm_encode and spm_decode make of it.
#
#   t5like.model    unigram, nmt_nfkc, pad 0, EOS 1, unknown 2, no BOS: t5-base's layout
#   identity.model  unigram, no normalization, no dummy prefix, whitespace kept, the
#                   default ids (unknown 0, BOS 1, EOS 2, no pad)
#   bpe.model       BPE, which the package refuses
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The shard's text fields, one paragraph a line (the corpus escapes only \n and \").
zcat ../../embedded/c4-validation.00000-of-00001.json.gz |
	sed -e 's/^{"text":"//' -e 's/","timestamp".*$//' -e 's/\\n/\n/g' -e 's/\\"/"/g' >"$tmp/corpus.txt"
train() { spm_train --input="$tmp/corpus.txt" --vocab_size=400 --minloglevel=2 "$@"; }
train --model_prefix="$tmp/t5like" --model_type=unigram --pad_id=0 --eos_id=1 --unk_id=2 --bos_id=-1
train --model_prefix="$tmp/identity" --model_type=unigram --normalization_rule_name=identity \
	--add_dummy_prefix=false --remove_extra_whitespaces=false
train --model_prefix="$tmp/bpe" --model_type=bpe --normalization_rule_name=identity
for m in t5like identity; do
	cp "$tmp/$m.model" .
	spm_encode --model=$m.model --output_format=id <cases.txt >$m.ids
	spm_decode --model=$m.model --input_format=id <$m.ids >$m.decoded
done
cp "$tmp/bpe.model" .
