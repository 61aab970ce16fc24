package main

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/pkg/errors"

	"github.com/velora-go/velora/internal/check"
	"github.com/velora-go/velora/layers"
	"github.com/velora-go/velora/peft"
)

// Report is a whole run's outcome: the rows of one table and what they were
// made with.
type Report struct {
	Ablate  string             `json:"ablate"` // "" for Table 4
	Config  Config             `json:"config"`
	Model   layers.LLaMAConfig `json:"model"`
	Rank    int                `json:"rank"`
	Results []Result           `json:"results"`
	// Plan says what -memory-budget's planner chose and why ("" without it).
	Plan string `json:"plan,omitempty"`
	// Seconds is the wall time of the whole run, evaluation included.
	Seconds float64 `json:"seconds"`
}

// Diverged lists the runs a NaN or infinite loss stopped.
func (r Report) Diverged() []string {
	var out []string
	for _, res := range r.Results {
		if res.Diverged != "" {
			out = append(out, res.Diverged)
		}
	}
	return out
}

// Variants are the rows a configuration asks for: the methods of Table 4,
// or an ablation's settings.
func Variants(c Config, s Setup) ([]Variant, error) {
	full := methodVariant(c, s.Rank, "full")
	velora := func(key, label string, v *peft.VeLoRAConfig) Variant {
		return Variant{Key: key, Label: label, PEFT: peft.Config{Method: peft.MethodFull, VeLoRA: v}, Optimizer: "adamw"}
	}
	var out []Variant
	switch c.Ablate {
	case "":
		for _, m := range c.Methods {
			out = append(out, methodVariant(c, s.Rank, m))
		}
	case "layers": // Table 6
		full.Key, full.Label = "layers-none", "none"
		out = append(out, full)
		for _, sel := range []string{"q", "k", "v", "d", "vd", "qkvd"} {
			label := sel
			if sel == "d" {
				label = "down"
			}
			out = append(out, velora("layers-"+sel, label, c.veLoRA(sel, c.VeLoRAInit)))
		}
	case "subtoken": // Table 5b: M = D/g is g groups per token
		out = append(out, full)
		for _, g := range []int{64, 32, 16, 8} {
			v := c.veLoRA(c.VeLoRALayers, c.VeLoRAInit)
			v.SubTokenSize, v.SubTokenSizes = 0, nil
			llama := layers.LLaMAConfig{}
			groups, err := layers.Resolve(v.Layers, llama.ProjectionNames(), llama.ShorthandAliases())
			if err != nil {
				return nil, check.Wrap(err, "c4: velora layers")
			}
			for range groups {
				v.NumGroups = append(v.NumGroups, g)
			}
			out = append(out, velora(fmt.Sprintf("subtoken-d%d", g), fmt.Sprintf("D/%d", g), v))
		}
	case "init": // Table 5c
		out = append(out, full)
		for _, init := range []struct{ key, label, name string }{
			{"random", "Random", fmt.Sprintf("uniform_%d", c.Seed)}, // the reference's random v: normalize(rand)
			{"svd", "SVD", "svd"},
			{"first-batch-mean", "Fixed average (first batch)", "batch_average_once"},
			{"running-mean", "Running average (EMA 0.9)", "ema_0.9"},
		} {
			out = append(out, velora("init-"+init.key, init.label, c.veLoRA(c.VeLoRALayers, init.name)))
		}
	case "epochs": // Table 5a, full-rank instead of QLoRA as the baseline
		v := methodVariant(c, s.Rank, "velora")
		full.Key, v.Key = "epochs-full", "epochs-velora"
		out = append(out, full, v)
	}
	for i := range out {
		if _, err := peft.Apply(out[i].PEFT, s.Model); err != nil {
			return nil, check.Wrapf(err, "c4: %s", out[i].Label)
		}
	}
	return out, nil
}

// Run trains every variant of c in turn and returns their results. A
// diverged variant is reported in its row and the others still run.
func Run(c Config, opts Options) (Report, error) {
	s, err := c.Resolve()
	if err != nil {
		return Report{}, err
	}
	rep := Report{Ablate: c.Ablate, Config: c, Model: s.Model, Rank: s.Rank}
	vs, err := Variants(c, s)
	if err != nil {
		return rep, err
	}
	if c.MemoryBudget > 0 {
		v, why, err := plannedVariant(c, s)
		if err != nil {
			return rep, err
		}
		fmt.Fprintln(opts.log(), why)
		vs, rep.Plan = append(vs, v), why
	}
	start := time.Now()
	for _, v := range vs {
		res, err := Train(c, s, v, opts)
		var div *DivergedError
		if errors.As(err, &div) {
			fmt.Fprintln(opts.log(), div.Message)
		} else if err != nil {
			return rep, err
		}
		rep.Results = append(rep.Results, res)
	}
	rep.Seconds = time.Since(start).Seconds()
	return rep, nil
}

// WriteJSON writes the report to path atomically.
func (r Report) WriteJSON(path string) error {
	data, err := json.MarshalIndent(r, "", " ")
	if err != nil {
		return check.Wrap(err, "c4: results")
	}
	return errors.Wrap(writeFileAtomic(path, append(data, '\n')), "c4: results")
}

// Print writes the report's table in markdown.
func (r Report) Print(w io.Writer) {
	switch r.Ablate {
	case "":
		printTable4(w, r)
		if r.Plan != "" {
			fmt.Fprintf(w, "\n%s\n", r.Plan)
		}
	case "epochs":
		printEpochs(w, r)
	default:
		printAblation(w, r)
	}
}
