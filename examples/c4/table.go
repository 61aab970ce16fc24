package main

import (
	"fmt"
	"io"
	"strings"
)

// mib formats bytes in mebibytes, two decimals.
func mib(n int64) string { return fmt.Sprintf("%.2f", float64(n)/(1<<20)) }

// ppl is a row's validation perplexity, or why it has none.
func ppl(r Result) string {
	if r.Diverged != "" {
		return fmt.Sprintf("diverged (step %d)", r.DivergedAt)
	}
	return fmt.Sprintf("%.2f", r.ValPPL)
}

// printTable4 prints the methods after the paper's Table 4, with the peak of
// a training step split by what holds it.
func printTable4(w io.Writer, r Report) {
	fmt.Fprintln(w, "| Method | Setting | Trainable | Val. PPL | Peak MiB | Params | Grads | Optimizer | Activations | Go heap | Tokens/s |")
	fmt.Fprintln(w, "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	for _, x := range r.Results {
		m := x.Memory
		fmt.Fprintf(w, "| %s | %s | %d | %s | %s | %s | %s | %s | %s | %s | %.0f |\n", x.Label, x.Setting, x.Trainable, ppl(x),
			mib(m.Peak), mib(m.Params), mib(m.Grads), mib(m.Optimizer), mib(m.Activations), mib(m.RuntimeHeap), x.TokensPerSec)
	}
	fmt.Fprintln(w)
	caption(w, r)
	fmt.Fprintln(w, "Memory: the exact peak of live bytes in a training step (machine), in MiB, split into parameters (with frozen weights and inputs), gradients, optimizer state and activations; Go heap is the runtime's own peak during that step.")
}

// printAblation prints one ablation's settings with their perplexity and
// memory.
func printAblation(w io.Writer, r Report) {
	head := map[string]string{"layers": "Layers", "subtoken": "Sub-token size M", "init": "Initialisation of v"}[r.Ablate]
	fmt.Fprintf(w, "| %s | VeLoRA | Val. PPL | Activations MiB | Peak MiB | Tokens/s |\n", head)
	fmt.Fprintln(w, "| --- | --- | ---: | ---: | ---: | ---: |")
	for _, x := range r.Results {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %.0f |\n", x.Label, x.Setting, ppl(x), mib(x.Memory.Activations), mib(x.Memory.Peak), x.TokensPerSec)
	}
	fmt.Fprintln(w)
	caption(w, r)
}

// printEpochs prints the validation perplexity after each epoch, one
// column per variant.
func printEpochs(w io.Writer, r Report) {
	labels := make([]string, len(r.Results))
	for i, x := range r.Results {
		labels[i] = x.Label + " PPL"
	}
	fmt.Fprintf(w, "| Epoch | Steps | %s |\n", strings.Join(labels, " | "))
	fmt.Fprintf(w, "| ---: | ---: |%s\n", strings.Repeat(" ---: |", len(labels)))
	epochs := 0
	for _, x := range r.Results {
		epochs = max(epochs, len(x.Epochs))
	}
	for e := 0; e < epochs; e++ {
		steps := 0
		cells := make([]string, len(r.Results))
		for i, x := range r.Results {
			cells[i] = "-"
			if e < len(x.Epochs) {
				cells[i] = fmt.Sprintf("%.2f", x.Epochs[e].ValPPL)
				steps = x.Epochs[e].Step
			} else if x.Diverged != "" {
				cells[i] = ppl(x)
			}
		}
		fmt.Fprintf(w, "| %d | %d | %s |\n", e+1, steps, strings.Join(cells, " | "))
	}
	fmt.Fprintln(w)
	caption(w, r)
}

// caption says what the table was measured on.
func caption(w io.Writer, r Report) {
	c, m := r.Config, r.Model
	var tokens int64
	steps, valTokens := 0, 0
	for _, x := range r.Results {
		tokens, steps, valTokens = max(tokens, x.Tokens), max(steps, x.Steps), max(valTokens, x.ValTokens)
	}
	warmup := fmt.Sprintf("%d steps", c.Warmup)
	if c.Warmup < 0 {
		warmup = "10%"
	}
	fmt.Fprintf(w, "LLaMA %s: hidden %d, %d layers, %d heads, MLP %d, vocabulary %d. %d steps × %d sequences × %d tokens (%d training tokens), AdamW lr %g, warm-up %s, cosine to %g×; seed %d. ",
		c.Model, m.Hidden, m.Layers, m.Heads, m.Intermediate, m.Vocab, steps, c.Batch, c.Seq, tokens, c.LR, warmup, c.MinLRRatio, c.Seed)
	val := fmt.Sprintf("the whole validation split, %d tokens", valTokens)
	if c.EvalTokens > 0 && valTokens == c.EvalTokens {
		val = fmt.Sprintf("the first %d validation tokens", valTokens)
	} else if c.EvalTokens > 0 {
		val = fmt.Sprintf("the whole validation split, %d tokens (fewer than -eval-tokens %d)", valTokens, c.EvalTokens)
	}
	fmt.Fprintf(w, "Val. PPL: exp of the mean cross-entropy over %s. Wall time %.0f s.\n", val, r.Seconds)
}
