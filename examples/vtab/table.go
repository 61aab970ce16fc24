package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"

	"github.com/velora-go/velora/peft"
)

// MachineInfo says where a run ran.
type MachineInfo struct {
	CPU        string `json:"cpu"`
	Cores      int    `json:"cores"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	Go         string `json:"go"`
}

func thisMachine() MachineInfo {
	m := MachineInfo{CPU: "unknown", Cores: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), Go: runtime.Version()}
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	return m
}

// methodNames are the row labels of the paper's Table 1.
var methodNames = map[string]string{
	peft.MethodFull:        "Full tuning",
	peft.MethodLinearProbe: "Linear probing",
	peft.MethodLoRA:        "LoRA",
	peft.MethodQLoRA:       "QLoRA",
	peft.MethodSSF:         "SSF",
	peft.MethodHydra:       "Hydra",
}

// WriteTable writes the report as a markdown table after the paper's
// Table 1: the step's exact peak (and the Go heap figure beside it),
// accuracy per task and the mean. A VeLoRA row right after its method's
// row shows the change in memory and mean accuracy.
func (r *Report) WriteTable(w io.Writer) {
	fmt.Fprintf(w, "| Method | Peak (MiB) | Go heap (MiB) | Trainable |")
	for _, t := range r.Tasks {
		fmt.Fprintf(w, " %s |", t)
	}
	fmt.Fprintln(w, " Mean |")
	fmt.Fprint(w, "| --- | ---: | ---: | ---: |")
	fmt.Fprint(w, strings.Repeat(" ---: |", len(r.Tasks)))
	fmt.Fprintln(w, " ---: |")
	for i, l := range r.Lines {
		row, _ := ParseRow(l.Method)
		name := methodNames[row.Method]
		var base *Line
		if row.VeLoRA {
			name = "+ VeLoRA"
			if i == 0 || r.Lines[i-1].Method != row.Method {
				name = methodNames[row.Method] + " + VeLoRA"
			} else {
				base = &r.Lines[i-1]
			}
		}
		mem := fmt.Sprintf("%.3f", mib(l.Memory.Peak))
		mean := fmt.Sprintf("%.1f", l.Mean)
		if base != nil {
			mem += fmt.Sprintf(" (%+.1f%%)", 100*(float64(l.Memory.Peak)/float64(base.Memory.Peak)-1))
			mean += fmt.Sprintf(" (%+.1f)", l.Mean-base.Mean)
		}
		fmt.Fprintf(w, "| %s | %s | %.2f | %d |", name, mem, mib(l.HeapAbove), l.Trainable)
		for _, t := range r.Tasks {
			fmt.Fprintf(w, " %.1f |", l.Accuracy[t])
		}
		fmt.Fprintf(w, " %s |\n", mean)
	}
}

// WriteSplit writes where each row's peak goes: parameters (with frozen
// weights and inputs), gradients, optimizer state, activations.
func (r *Report) WriteSplit(w io.Writer) {
	fmt.Fprintln(w, "| Method | Params + inputs | Grads | Optimizer | Activations | Peak |")
	fmt.Fprintln(w, "| --- | ---: | ---: | ---: | ---: | ---: |")
	for _, l := range r.Lines {
		m := l.Memory
		fmt.Fprintf(w, "| %s | %.3f | %.3f | %.3f | %.3f | %.3f |\n", l.Method,
			mib(m.Params), mib(m.Grads), mib(m.Optimizer), mib(m.Activations), mib(m.Peak))
	}
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }
