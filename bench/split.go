package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/pkg/errors"
	"google.golang.org/protobuf/encoding/protowire"
)

// Split is where the CPU time of the baseline step (full-rank, no VeLoRA)
// goes, from the CPU profiler's samples over a few steps.
type Split struct {
	Steps       int         // profiled steps, after one untimed step
	StepSeconds float64     // wall-clock seconds per profiled step
	Samples     int         // profile samples
	Parts       []SplitPart // in the order of stepParts
}

// SplitPart is one part of the step's CPU time.
type SplitPart struct {
	Name       string
	CPUSeconds float64 // per step
}

// stepPart names a part of the step, with the test that claims a sample's
// stack (function names, leaf first) for it.
type stepPart struct {
	name  string
	claim func(stack []string) bool
}

// stepParts are the parts in order: the first that claims a stack gets it.
var stepParts = []stepPart{
	{"GEMM (kernel's Gemm, gonum's BLAS)", anyFrame(func(f string) bool {
		kernelFunc, ok := strings.CutPrefix(f, "github.com/velora-go/velora/kernel.")
		return ok && strings.Contains(strings.ToLower(kernelFunc), "gemm") || // Gemm, packedGemm, gemmJob, sgemmKernelAVX2, not SwiGLU or Exp
			strings.HasPrefix(f, "gonum.org/v1/gonum/blas/")
	})},
	{"element-wise and other op work (an op's Do, package op)", anyFrame(func(f string) bool {
		return strings.HasPrefix(f, "github.com/velora-go/velora/op.") ||
			!strings.HasPrefix(f, "sync.") && (strings.HasSuffix(f, ").Do") || strings.HasSuffix(f, ").UsePreallocDo") || strings.HasSuffix(f, ").UnsafeDo"))
	})},
	{"optimizer (AdamW's update)", anyFrame(func(f string) bool { return strings.HasPrefix(f, "github.com/velora-go/velora/peft.") })},
	{"Go runtime alone (GC workers, scheduler)", func(stack []string) bool {
		return !anyFrame(func(f string) bool { return !strings.HasPrefix(f, "runtime.") && !strings.HasPrefix(f, "internal/") })(stack)
	}},
	{"executor and the rest (machine, train, gorgonia outside ops)", func([]string) bool { return true }},
}

func anyFrame(match func(string) bool) func([]string) bool {
	return func(stack []string) bool {
		for _, f := range stack {
			if match(f) {
				return true
			}
		}
		return false
	}
}

// splitTable profiles the baseline step of s: max(1, s.Warmup) untimed
// steps, then max(3, s.Steps) steps under the CPU profiler (at its 100
// samples a second, one step alone gives too few samples).
func splitTable(s Sizes) (Split, error) {
	t, err := newTrainer(s, full("", 0))
	if err != nil {
		return Split{}, err
	}
	defer t.Close()
	for i := 0; i < max(1, s.Warmup); i++ {
		if _, err := t.Step(); err != nil {
			return Split{}, err
		}
	}
	sp := Split{Steps: max(3, s.Steps)}
	var buf bytes.Buffer
	if err := pprof.StartCPUProfile(&buf); err != nil {
		return sp, errors.Wrap(err, "the step split needs the CPU profiler (leave out -cpuprofile, or this table)")
	}
	start := time.Now()
	for i := 0; i < sp.Steps; i++ {
		if _, err := t.Step(); err != nil {
			pprof.StopCPUProfile()
			return sp, err
		}
	}
	sp.StepSeconds = time.Since(start).Seconds() / float64(sp.Steps)
	pprof.StopCPUProfile()
	samples, err := readProfile(buf.Bytes())
	if err != nil {
		return sp, err
	}
	nanos := make([]int64, len(stepParts))
	for _, smp := range samples {
		sp.Samples += int(smp.count)
		for k, part := range stepParts {
			if part.claim(smp.stack) {
				nanos[k] += smp.nanos
				break
			}
		}
	}
	for k, part := range stepParts {
		sp.Parts = append(sp.Parts, SplitPart{Name: part.name, CPUSeconds: float64(nanos[k]) / 1e9 / float64(sp.Steps)})
	}
	return sp, nil
}

func printSplit(w io.Writer, number int, sp Split) {
	fmt.Fprintf(w, "## %d. Where the baseline step's time goes: full-rank, no VeLoRA (row none of table %d)\n\n", number, tableLayers)
	fmt.Fprintln(w, "| part | CPU per step | share |")
	fmt.Fprintln(w, "| --- | ---: | ---: |")
	var total float64
	for _, p := range sp.Parts {
		total += p.CPUSeconds
	}
	for _, p := range sp.Parts {
		share := "—" // no samples: a step shorter than the profiler's period
		if total > 0 {
			share = fmt.Sprintf("%.0f %%", 100*p.CPUSeconds/total)
		}
		fmt.Fprintf(w, "| %s | %.3f s | %s |\n", p.Name, p.CPUSeconds, share)
	}
	fmt.Fprintf(w, "| all | %.3f s | |\n\n", total)
	fmt.Fprintf(w, "Measured with Go's CPU profiler: %d samples over %d steps after an untimed one, each sample given to the first part its call stack "+
		"belongs to, in the order of the rows. The step took %.3f s of wall-clock time; CPU time adds up the cores, and the GEMMs "+
		"run on every core where much of the rest runs on one, so a share of CPU time is not a share of the wall-clock step.\n\n",
		sp.Samples, sp.Steps, sp.StepSeconds)
}

// stackSample is one call stack of a CPU profile, leaf first, with its
// sample count and CPU nanoseconds.
type stackSample struct {
	stack []string
	count int64
	nanos int64
}

// readProfile decodes the gzipped profile.proto that runtime/pprof writes
// (github.com/google/pprof/proto/profile.proto), keeping only what a split
// by function needs.
func readProfile(gz []byte) ([]stackSample, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, errors.Wrap(err, "reading the CPU profile")
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, errors.Wrap(err, "reading the CPU profile")
	}
	var (
		strs    []string
		samples []rawSample
		locs    = map[uint64][]uint64{} // location id → function ids, leaf first
		funcs   = map[uint64]uint64{}   // function id → name's string index
	)
	err = eachField(raw, func(num protowire.Number, typ protowire.Type, v uint64, b []byte) error {
		switch num {
		case 2: // Sample
			var s rawSample
			err := eachField(b, func(num protowire.Number, typ protowire.Type, v uint64, b []byte) (err error) {
				switch num {
				case 1:
					s.locations, err = appendVarints(s.locations, typ, v, b)
				case 2:
					s.values, err = appendVarints(s.values, typ, v, b)
				}
				return err
			})
			samples = append(samples, s)
			return err
		case 4: // Location
			var id uint64
			var fs []uint64
			err := eachField(b, func(num protowire.Number, typ protowire.Type, v uint64, b []byte) error {
				switch num {
				case 1:
					id = v
				case 4: // Line
					return eachField(b, func(num protowire.Number, _ protowire.Type, v uint64, _ []byte) error {
						if num == 1 {
							fs = append(fs, v)
						}
						return nil
					})
				}
				return nil
			})
			locs[id] = fs
			return err
		case 5: // Function
			var id, name uint64
			err := eachField(b, func(num protowire.Number, _ protowire.Type, v uint64, _ []byte) error {
				switch num {
				case 1:
					id = v
				case 2:
					name = v
				}
				return nil
			})
			funcs[id] = name
			return err
		case 6: // string_table
			strs = append(strs, string(b))
		}
		return nil
	})
	if err != nil {
		return nil, errors.Wrap(err, "decoding the CPU profile")
	}
	out := make([]stackSample, 0, len(samples))
	for _, s := range samples {
		if len(s.values) != 2 {
			return nil, errors.Errorf("decoding the CPU profile: a sample has %d values, want 2 (count, nanoseconds)", len(s.values))
		}
		smp := stackSample{count: int64(s.values[0]), nanos: int64(s.values[1])}
		for _, l := range s.locations {
			for _, f := range locs[l] {
				if k := funcs[f]; k < uint64(len(strs)) {
					smp.stack = append(smp.stack, strs[k])
				}
			}
		}
		out = append(out, smp)
	}
	return out, nil
}

// rawSample is a profile's Sample as stored: location ids, leaf first, and
// its values.
type rawSample struct{ locations, values []uint64 }

// eachField calls f with each field of a protobuf message: its number, its
// wire type, and its value (a varint in v, a length-delimited field in b).
// Fixed-width fields are skipped: profile.proto has none.
func eachField(msg []byte, f func(num protowire.Number, typ protowire.Type, v uint64, b []byte) error) error {
	for len(msg) > 0 {
		num, typ, n := protowire.ConsumeTag(msg)
		if n < 0 {
			return protowire.ParseError(n)
		}
		msg = msg[n:]
		var v uint64
		var b []byte
		switch typ {
		case protowire.VarintType:
			v, n = protowire.ConsumeVarint(msg)
		case protowire.BytesType:
			b, n = protowire.ConsumeBytes(msg)
		default:
			n = protowire.ConsumeFieldValue(num, typ, msg)
		}
		if n < 0 {
			return protowire.ParseError(n)
		}
		msg = msg[n:]
		if typ == protowire.VarintType || typ == protowire.BytesType {
			if err := f(num, typ, v, b); err != nil {
				return err
			}
		}
	}
	return nil
}

// appendVarints appends a repeated varint field's values: one value, or a
// packed run of them.
func appendVarints(dst []uint64, typ protowire.Type, v uint64, b []byte) ([]uint64, error) {
	if typ == protowire.VarintType {
		return append(dst, v), nil
	}
	for len(b) > 0 {
		x, n := protowire.ConsumeVarint(b)
		if n < 0 {
			return dst, protowire.ParseError(n)
		}
		dst, b = append(dst, x), b[n:]
	}
	return dst, nil
}
