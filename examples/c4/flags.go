package main

import (
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/pkg/errors"

	"github.com/velora-go/velora/internal/cli"
)

// parseFlags turns the command line into a Config, starting from
// DefaultConfig. Usage and errors go to out.
func parseFlags(args []string, out io.Writer) (Config, error) {
	c := DefaultConfig()
	fs := flag.NewFlagSet("c4", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprintln(out, "usage: go run ./examples/c4 [flags]\n\nLLaMA pre-training on C4-format data: the VeLoRA paper's Table 4 (full-rank, LoRA, GaLore, FLoRA, VeLoRA) and its ablations, at CPU scale.\n\nflags:")
		fs.PrintDefaults()
	}
	methods := strings.Join(c.Methods, ",")
	budget := ""
	subtoken := formatSizes(c.SubTokenSizes)
	fs.StringVar(&c.Model, "config", c.Model, "model: tiny, a shipped config (llama_60m, llama_130m) or a HuggingFace LLaMA config.json")
	fs.StringVar(&c.Data, "data", c.Data, "C4 data: a directory like allenai/c4's en/, or comma-separated shards (c4-validation.* ones are the validation split); empty: the embedded Brown corpus")
	fs.StringVar(&c.Tokenizer, "tokenizer", c.Tokenizer, "SentencePiece .model file (e.g. t5-base's spiece.model); empty: bytes")
	fs.IntVar(&c.Steps, "steps", c.Steps, "optimizer steps per method (per epoch with -ablate epochs, where 0 means whole passes)")
	fs.IntVar(&c.Batch, "batch", c.Batch, "sequences per step")
	fs.IntVar(&c.Seq, "seq", c.Seq, "tokens per sequence")
	fs.BoolVar(&c.Pack, "pack", c.Pack, "pack documents into full rows (false: one document per row, padded, as the paper)")
	fs.Float64Var(&c.LR, "lr", c.LR, "peak learning rate")
	fs.IntVar(&c.Warmup, "warmup", c.Warmup, "linear warm-up steps (negative: 10% of the steps)")
	fs.Float64Var(&c.MinLRRatio, "min-lr-ratio", c.MinLRRatio, "the cosine schedule's floor as a fraction of -lr")
	fs.Int64Var(&c.Seed, "seed", c.Seed, "seed of the initialisation, the data order and random v")
	fs.IntVar(&c.EvalTokens, "eval-tokens", c.EvalTokens, "validation tokens the perplexity averages over (0: the whole split)")
	fs.StringVar(&methods, "methods", methods, "comma-separated methods: full, lora, galore, flora, velora")
	fs.IntVar(&c.Rank, "rank", c.Rank, "rank r of LoRA, GaLore and FLoRA (0: hidden/4)")
	fs.Float64Var(&c.LoRAAlpha, "lora-alpha", c.LoRAAlpha, "LoRA's alpha (update scaled by alpha/r)")
	fs.IntVar(&c.GaLoreGap, "galore-gap", c.GaLoreGap, "steps between GaLore's SVDs (T)")
	fs.Float64Var(&c.GaLoreScale, "galore-scale", c.GaLoreScale, "GaLore's scale α")
	fs.IntVar(&c.FLoRAKappa, "flora-kappa", c.FLoRAKappa, "steps between FLoRA's resampled projections (κ)")
	fs.StringVar(&c.VeLoRALayers, "velora-layers", c.VeLoRALayers, "projections VeLoRA compresses (shorthand q, k, v, d)")
	fs.StringVar(&subtoken, "subtoken", subtoken, "VeLoRA sub-token size M per projection, name=M pairs")
	fs.IntVar(&c.SubTokenSize, "subtoken-default", c.SubTokenSize, "VeLoRA sub-token size of projections -subtoken does not name")
	fs.StringVar(&c.VeLoRAInit, "velora-init", c.VeLoRAInit, "how v is chosen (package vinit's names): batch_average_once, batch_average, ema_<decay>, running_mean_<decay>, svd, uniform, random")
	fs.Float64Var(&c.VeLoRAScale, "velora-scale", c.VeLoRAScale, "factor on VeLoRA's compressed weight gradient (the 60M script's --velora_scale)")
	fs.StringVar(&budget, "memory-budget", budget, "add a row: the full-rank step peft.Plan fits into this size (e.g. 20MiB), choosing VeLoRA, recomputation and the fused update")
	fs.StringVar(&c.Ablate, "ablate", c.Ablate, "ablation instead of Table 4: layers (Table 6), subtoken (5b), init (5c), epochs (5a)")
	fs.IntVar(&c.Epochs, "epochs", c.Epochs, "passes over the training data with -ablate epochs")
	fs.IntVar(&c.CheckpointEvery, "checkpoint-every", c.CheckpointEvery, "with -checkpoint, save a checkpoint every N steps as well (0: only at the end)")
	fs.StringVar(&c.CheckpointDir, "checkpoint", c.CheckpointDir, "checkpoint folder (one sub-folder per method): each method's end is saved there, and every -checkpoint-every steps")
	fs.BoolVar(&c.Resume, "resume", c.Resume, "continue each method from its checkpoint in -checkpoint")
	fs.StringVar(&c.JSON, "json", c.JSON, "write the results to this JSON file")
	fs.StringVar(&c.PNG, "png", c.PNG, "write loss curves into this folder")
	fs.StringVar(&c.SaveAdapter, "save-adapter", c.SaveAdapter, "save the lora row's trained adapter as a PEFT adapter directory in DIR/lora (adapter_config.json, adapter_model.safetensors); other methods have no adapter and save nothing")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, errors.Errorf("c4: unexpected arguments %q", fs.Args())
	}
	c.Methods = cli.SplitList(methods)
	var err error
	if budget != "" {
		if c.MemoryBudget, err = parseByteSize("-memory-budget", budget); err != nil {
			return c, err
		}
	}
	if c.SubTokenSizes, err = parseSizes(subtoken); err != nil {
		return c, err
	}
	return c, c.Validate()
}

// parseSizes reads "v=8,down=16".
func parseSizes(s string) (map[string]int, error) {
	out := map[string]int{}
	for _, f := range cli.SplitList(s) {
		name, value, ok := strings.Cut(f, "=")
		m, err := strconv.Atoi(value)
		if !ok || err != nil || m <= 0 {
			return nil, errors.Errorf("c4: -subtoken %q: expected name=M pairs with positive M, like v=8,down=16", f)
		}
		out[strings.TrimSpace(name)] = m
	}
	return out, nil
}

func formatSizes(m map[string]int) string {
	var out []string
	for _, name := range []string{"q", "k", "v", "o", "gate", "up", "down"} {
		if v, ok := m[name]; ok {
			out = append(out, fmt.Sprintf("%s=%d", name, v))
		}
	}
	return strings.Join(out, ",")
}
