// Command vtab fine-tunes a ViT on VTAB-1k-layout data with full tuning,
// linear probing, SSF, Hydra and LoRA, each with and without VeLoRA
// (arXiv 2405.17991), and prints a table after the paper's Table 1: the
// training step's exact peak memory, accuracy per task and the mean.
//
// With no flags it runs at CPU scale on the embedded MNIST suite of
// package data/vtab: it pre-trains a tiny ViT on the suite's upstream set
// (cached, so the next run reuses it), then fine-tunes it on each of the
// three tasks:
//
//	go run ./examples/vtab
//	go run ./examples/vtab -tasks mnist -methods lora,lora+velora -epochs 1
//	go run ./examples/vtab -data /data/vtab-1k -checkpoint ViT-B_16.npz -tasks cifar
//
// The default configuration, printed at the start of every run, holds
// every hyper-parameter; see DefaultConfig.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/pkg/errors"

	"github.com/velora-go/velora/internal/cli"
)

func main() {
	c, err := parseFlags(os.Args[1:], os.Stderr)
	if err == flag.ErrHelp {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if err := run(c, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// run runs c and writes the table, and the JSON and charts it asks for.
func run(c Config, out, log io.Writer) error {
	rep, err := Run(c, out, log)
	if err != nil {
		return err
	}
	fmt.Fprintln(out)
	rep.WriteTable(out)
	fmt.Fprintln(out)
	fmt.Fprintln(out, "Where the peak goes (MiB):")
	fmt.Fprintln(out)
	rep.WriteSplit(out)
	fmt.Fprintf(out, "\n%d runs in %.0f s on %s (%d cores, GOMAXPROCS %d, %s)\n",
		len(rep.Results), rep.Seconds, rep.Machine.CPU, rep.Machine.Cores, rep.Machine.GOMAXPROCS, rep.Machine.Go)
	if c.JSON != "" {
		if err := rep.WriteJSON(c.JSON); err != nil {
			return err
		}
	}
	if c.PNG != "" {
		if err := rep.Plot(c.PNG); err != nil {
			return err
		}
	}
	return nil
}

// parseFlags reads the command line into a copy of DefaultConfig.
func parseFlags(args []string, usage io.Writer) (Config, error) {
	c := DefaultConfig()
	flags := flag.NewFlagSet("vtab", flag.ContinueOnError)
	flags.SetOutput(usage)
	flags.Usage = func() {
		fmt.Fprintln(usage, "usage: go run ./examples/vtab [flags]")
		fmt.Fprintln(usage, "Per-method flags take a value for every row (-lr 1e-3) or a list such as full=5e-4,lora=3e-3,lora+velora=2e-3;")
		fmt.Fprintln(usage, "a method name sets both its rows, method+velora only the VeLoRA row.")
		flags.PrintDefaults()
	}
	flags.StringVar(&c.Data, "data", c.Data, "VTAB-1k tree (one folder per task with train800val200.txt and test.txt); empty: the embedded MNIST suite")
	flags.StringVar(&c.Checkpoint, "checkpoint", c.Checkpoint, "ViT-B_16.npz (ImageNet-21k) to fine-tune instead of pre-training a tiny ViT; sets the model to ViT-B/16 at 224×224")
	flags.StringVar(&c.Cache, "cache", c.Cache, "file for the pre-trained tiny ViT; empty: one under the user cache folder named after the configuration")
	flags.Func("tasks", "comma-separated task folders (default: every task of the tree)", func(s string) error {
		c.Tasks = cli.SplitList(s)
		if len(c.Tasks) == 0 {
			return errors.New("no task given")
		}
		return nil
	})
	flags.IntVar(&c.Classes, "classes", c.Classes, "class count of every task (0: each task's, from VTAB-1k's table or the classes.txt beside its lists, one class name per line)")
	flags.Func("methods", "comma-separated rows: full, linear-probe, lora, qlora, ssf, hydra, each optionally +velora (default: the paper's nine)", func(s string) error {
		rows, err := ParseRows(s)
		c.Rows = rows
		return err
	})
	model := flags.String("model", "", "model shape changes, e.g. image=32,patch=8,width=96,layers=6,heads=6,mlp=384 (on ViT-B/16 with -checkpoint)")
	flags.IntVar(&c.Epochs, "epochs", c.Epochs, "fine-tuning epochs over train800val200")
	flags.IntVar(&c.Batch, "batch", c.Batch, "fine-tuning batch size")
	flags.IntVar(&c.EvalBatch, "eval-batch", c.EvalBatch, "test batch size (speed only)")
	flags.IntVar(&c.TestLimit, "test-limit", c.TestLimit, "evaluate on at most this many test images per task (0: all)")
	flags.IntVar(&c.PretrainEpochs, "pretrain-epochs", c.PretrainEpochs, "pre-training epochs of the tiny ViT on the upstream set")
	flags.Float64Var(&c.PretrainLR, "pretrain-lr", c.PretrainLR, "pre-training Adam learning rate")
	perRow(flags, "lr", "Adam learning rate per method", c.LR, parsePositiveFloat)
	perRow(flags, "rank", "adapter rank per method (LoRA, QLoRA, Hydra)", c.Rank, parsePositiveInt)
	perRow(flags, "subtoken", "VeLoRA sub-token size M per method", c.SubToken, parsePositiveInt)
	perRow(flags, "layers", "what VeLoRA compresses per method, names separated by spaces (peft.VeLoRAConfig.Layers)", c.Layers, parseText)
	flags.Int64Var(&c.Seed, "seed", c.Seed, "seed of initial weights, shuffling and dropout")
	flags.StringVar(&c.JSON, "json", c.JSON, "write the results to this JSON file (atomically)")
	flags.StringVar(&c.PNG, "png", c.PNG, "write accuracy and memory bar charts into this folder")
	flags.StringVar(&c.SaveAdapter, "save-adapter", c.SaveAdapter, "save each lora and qlora row's trained adapter as a PEFT adapter directory, DIR/<task>/<row>; other methods have no adapter and save nothing")
	flags.StringVar(&c.Progress, "progress", c.Progress, "progress bar: auto (when stderr is a terminal), on, off")
	if err := flags.Parse(args); err != nil {
		return c, err
	}
	if flags.NArg() > 0 {
		return c, errors.Errorf("vtab: unexpected argument %q (flags only; see -h)", flags.Arg(0))
	}
	if c.Checkpoint != "" {
		c.Model = ViTB16
	}
	if *model != "" {
		if err := updateModel(&c.Model, *model); err != nil {
			return c, err
		}
	}
	return c, c.Validate()
}

// perRow registers a per-method flag that updates s.
func perRow[T int | float64 | string](flags *flag.FlagSet, name, usage string, s Setting[T], parse func(string) (T, error)) {
	flags.Func(name, fmt.Sprintf("%s (default %q)", usage, s.String()), func(v string) error {
		return s.Update(v, parse)
	})
}
