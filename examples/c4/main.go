// Command c4 pre-trains LLaMA on C4-format data with full-rank training,
// LoRA, GaLore, FLoRA and VeLoRA, and prints a table after Table 4 of the
// VeLoRA paper (Miles et al., NeurIPS 2024, arXiv 2405.17991): validation
// perplexity, the peak memory of a training step split into parameters,
// gradients, optimizer state and activations, and tokens per second. With
// -ablate it runs one of the paper's ablations instead: layers (Table 6),
// subtoken (Table 5b), init (Table 5c) or epochs (Table 5a).
//
// With no flags it trains a tiny LLaMA on the embedded Brown corpus with a
// byte vocabulary, in minutes on two CPU cores:
//
//	go run ./examples/c4
//	go run ./examples/c4 -ablate subtoken -steps 120
//	go run ./examples/c4 -config llama_60m -tokenizer spiece.model -data ~/c4/en -steps 10000 -batch 128 -seq 256
//
// README.md beside this file has the tables of real runs.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/pkg/errors"
)

func main() {
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fail(err)
	}
	if err := cfg.Print(os.Stdout); err != nil {
		fail(err)
	}
	rep, err := Run(cfg, Options{Log: os.Stderr, Bar: true})
	if err != nil {
		fail(err)
	}
	fmt.Println()
	rep.Print(os.Stdout)
	if cfg.JSON != "" {
		if err := rep.WriteJSON(cfg.JSON); err != nil {
			fail(err)
		}
	}
	if cfg.PNG != "" {
		path, err := rep.WritePNG(cfg.PNG)
		if err != nil {
			fail(err)
		}
		fmt.Fprintln(os.Stderr, "loss curves:", path)
	}
	if d := rep.Diverged(); len(d) > 0 {
		fail(errors.Errorf("c4: %d run(s) diverged:\n%s", len(d), strings.Join(d, "\n")))
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
