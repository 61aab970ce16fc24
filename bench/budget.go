package main

import (
	"fmt"
	"io"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"

	"github.com/velora-go/velora/layers"
	"github.com/velora-go/velora/peft"
)

// BudgetRow is one budget the planner was given: what it chose, and that choice measured.
type BudgetRow struct {
	Budget   int64
	Choice   peft.Choice
	Measured Row
}

// budgetFractions place the budgets between the smallest peak any candidate reaches (0)
// and the plain step's (1).
var budgetFractions = []float64{0.8, 0.4, 0.05}

// budgetTable asks peft.Plan for full-rank training within three budgets, timing the
// first three fitting candidates of each, and measures what it chose.
func budgetTable(s Sizes) ([]BudgetRow, error) {
	params := layers.NewParams() // one set of initial weights serves every candidate
	build := func(cfg peft.Config) (*layers.Builder, *gorgonia.Node, error) {
		return buildLLaMAWith(Setup{Config: cfg}, s, params)
	}
	req := peft.PlanRequest{Config: peft.Config{Method: peft.MethodFull}, Arch: s.LLaMA, Build: build, Budget: 1 << 50}
	all, err := peft.Plan(req)
	if err != nil {
		return nil, err
	}
	plain, smallest := all.Candidates[0].PeakBytes, all.Candidates[0].PeakBytes
	for _, c := range all.Candidates {
		smallest = min(smallest, c.PeakBytes)
	}
	var rows []BudgetRow
	for _, f := range budgetFractions {
		req.Budget, req.Timed, req.Planned = smallest+int64(f*float64(plain-smallest)), 3, all.Candidates
		res, err := peft.Plan(req)
		if err != nil {
			return rows, err
		}
		c := res.Choice
		u := Setup{Name: "budget " + mib(req.Budget), Config: c.Config(req.Config), Exec: Machine}
		if c.Fused {
			u.Exec = MachineFused
		}
		u.Recompute = peft.RecomputePolicy(c.Recompute)
		r, err := measure(u, s)
		if err != nil {
			return rows, err
		}
		if r.Memory.Peak != c.PeakBytes || r.Memory.Peak > req.Budget {
			return rows, errors.Errorf("budget %s: %v measured %d bytes, planned %d", mib(req.Budget), c, r.Memory.Peak, c.PeakBytes)
		}
		rows = append(rows, BudgetRow{Budget: req.Budget, Choice: c, Measured: r})
	}
	return rows, nil
}

func printBudgets(w io.Writer, number int, rows []BudgetRow, none Row) {
	fmt.Fprintf(w, "## %d. Budgets: what peft.Plan chooses for full-rank training, measured\n\n", number)
	fmt.Fprintln(w, "| budget | choice | planned peak | measured peak | activations | step |")
	fmt.Fprintln(w, "| ---: | --- | ---: | ---: | ---: | ---: |")
	for _, r := range rows {
		m := r.Measured
		fmt.Fprintf(w, "| %s | %v | %s | %s | %s | %.2f s (%.2f) |\n", mib(r.Budget), r.Choice, mib(r.Choice.PeakBytes), mib(m.Memory.Peak),
			mib(m.Memory.Activations), m.StepSeconds, ratio(m.StepSeconds, none.StepSeconds))
	}
	fmt.Fprintf(w, "\nThe budgets lie at %v of the way from the smallest peak any candidate reaches to the plain step's; the step column's ratio is to the plain step (row none, %.2f s). "+
		"The planner times one step of each of the first three fitting candidates, in the order of peft.Candidates, and takes the fastest.\n\n",
		budgetFractions, none.StepSeconds)
}
