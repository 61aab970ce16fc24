package machine

import (
	"fmt"
	"hash"
	"hash/fnv"
	"math"
	"strings"
	"testing"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// twiceOp doubles a float64 tensor. failDo and failPrealloc make Do or UsePreallocDo
// fail; dos and preallocs count the calls.
type twiceOp struct {
	failDo, failPrealloc bool
	dos, preallocs       int
}

func (o *twiceOp) Arity() int { return 1 }
func (o *twiceOp) Type() hm.Type {
	return hm.NewFnType(hm.TypeVariable('a'), hm.TypeVariable('a'))
}
func (o *twiceOp) InferShape(ds ...gorgonia.DimSizer) (tensor.Shape, error) {
	return ds[0].(tensor.Shape).Clone(), nil
}
func (o *twiceOp) ReturnsPtr() bool      { return false }
func (o *twiceOp) CallsExtern() bool     { return false }
func (o *twiceOp) OverwritesInput() int  { return -1 }
func (o *twiceOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "twice %p", o) }
func (o *twiceOp) Hashcode() uint32 {
	h := fnv.New32a()
	o.WriteHash(h)
	return h.Sum32()
}
func (o *twiceOp) String() string { return "twice" }

func (o *twiceOp) Do(vs ...gorgonia.Value) (gorgonia.Value, error) {
	o.dos++
	if o.failDo {
		return nil, errors.New("twice: refused")
	}
	x := vs[0].(*tensor.Dense)
	return o.write(tensor.New(tensor.WithShape(x.Shape()...), tensor.Of(tensor.Float64)), x), nil
}

func (o *twiceOp) UsePreallocDo(prealloc gorgonia.Value, vs ...gorgonia.Value) (gorgonia.Value, error) {
	o.preallocs++
	if o.failPrealloc {
		return nil, errors.New("twice: no preallocated values")
	}
	return o.write(prealloc.(*tensor.Dense), vs[0].(*tensor.Dense)), nil
}

func (o *twiceOp) write(dst, x *tensor.Dense) *tensor.Dense {
	d, s := dst.Data().([]float64), x.Data().([]float64)
	for i := range s {
		d[i] = 2 * s[i]
	}
	return dst
}

func matrix(g *gorgonia.ExprGraph, name string, data ...float64) *gorgonia.Node {
	return gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(2, len(data)/2), gorgonia.WithName(name),
		gorgonia.WithValue(tensor.New(tensor.WithShape(2, len(data)/2), tensor.WithBacking(data))))
}

func TestUsePreallocDoFailureFallsBackToDo(t *testing.T) {
	g := gorgonia.NewGraph()
	op := &twiceOp{failPrealloc: true}
	y := gorgonia.Must(gorgonia.ApplyOp(op, matrix(g, "x", 1, 2, 3, 4)))
	out := gorgonia.Must(gorgonia.Sum(y))
	vm, err := New(g, gorgonia.Nodes{out})
	if err != nil {
		t.Fatal(err)
	}
	for run := 0; run < 3; run++ {
		if err := vm.RunAll(); err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		if got := flat(t, out.Value())[0]; got != 20 {
			t.Fatalf("run %d: sum of twice x = %v, want 20", run, got)
		}
	}
	// Every run tries UsePreallocDo in the value's arena slot and falls back.
	if op.preallocs != 3 || op.dos != 3 {
		t.Fatalf("UsePreallocDo called %d times, Do %d times; want 3 and 3", op.preallocs, op.dos)
	}
}

func TestErrorsNameWhatFailed(t *testing.T) {
	cases := []struct {
		name  string
		build func(g *gorgonia.ExprGraph) *gorgonia.Node
		opts  []Option
		want  []string
	}{
		{
			name: "op fails",
			build: func(g *gorgonia.ExprGraph) *gorgonia.Node {
				return gorgonia.Must(gorgonia.ApplyOpWithName(&twiceOp{failDo: true, failPrealloc: true}, "doubled", matrix(g, "x", 1, 2, 3, 4, 5, 6)))
			},
			want: []string{`node "doubled"`, "op twice", "(2, 3)", "twice: refused"},
		},
		{
			name: "input without a value",
			build: func(g *gorgonia.ExprGraph) *gorgonia.Node {
				x := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(2, 2), gorgonia.WithName("unbound"))
				return gorgonia.Must(gorgonia.Sum(x))
			},
			want: []string{`input "unbound" has no value`},
		},
		{
			name: "NaN with WithNaNWatch",
			build: func(g *gorgonia.ExprGraph) *gorgonia.Node {
				return gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.Log(matrix(g, "x", 1, -1, 2, 3)))))
			},
			opts: []Option{WithNaNWatch()},
			want: []string{`node "ln(%0)"`, "NaN or Inf"},
		},
		{
			name: "Inf with WithNaNWatch",
			build: func(g *gorgonia.ExprGraph) *gorgonia.Node {
				return gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.Log(matrix(g, "x", 1, 0, 2, 3)))))
			},
			opts: []Option{WithNaNWatch()},
			want: []string{`node "ln(%0)"`, "NaN or Inf"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := gorgonia.NewGraph()
			out := c.build(g)
			vm, err := New(g, gorgonia.Nodes{out}, c.opts...)
			if err != nil {
				t.Fatal(err)
			}
			err = vm.RunAll()
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestWithoutNaNWatchNaNsFlowThrough(t *testing.T) {
	g := gorgonia.NewGraph()
	out := gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.Log(matrix(g, "x", 1, -1, 2, 3)))))
	vm, err := New(g, gorgonia.Nodes{out})
	if err != nil {
		t.Fatal(err)
	}
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	if got := flat(t, out.Value())[0]; !math.IsNaN(got) {
		t.Fatalf("sum = %v, want NaN", got)
	}
}

func TestNewRejectsWhatCannotRun(t *testing.T) {
	g := gorgonia.NewGraph()
	a := gorgonia.NewVector(g, tensor.Float64, gorgonia.WithShape(3), gorgonia.WithName("a"), gorgonia.WithInit(gorgonia.Ones()))
	b := gorgonia.NewVector(g, tensor.Float64, gorgonia.WithShape(3), gorgonia.WithName("b"), gorgonia.WithInit(gorgonia.Ones()))
	cost := gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.Add(a, b))))
	grads := mustGrad(cost, gorgonia.Nodes{a, b}) // a and b share one gradient node
	other := gorgonia.NewGraph()
	stranger := gorgonia.NewScalar(other, tensor.Float64, gorgonia.WithName("stranger"))

	cases := []struct {
		name    string
		g       *gorgonia.ExprGraph
		outputs gorgonia.Nodes
		opts    []Option
		want    string
	}{
		{"nil graph", nil, gorgonia.Nodes{cost}, nil, "nil graph"},
		{"no outputs", g, nil, nil, "no outputs"},
		{"nil output", g, gorgonia.Nodes{cost, nil}, nil, "output 1 is nil"},
		{"output of another graph", g, gorgonia.Nodes{stranger}, nil, `output "stranger", expected a node of the graph`},
		{"nil solver constructor", g, gorgonia.Nodes{cost}, []Option{WithFusedUpdate(nil)}, "nil solver constructor"},
		{"fused without gradients", g, gorgonia.Nodes{cost}, []Option{WithFusedUpdate(newAdam)}, "no output is the gradient of a parameter"},
		{"constructor returns nil", g, grads[:1], []Option{WithFusedUpdate(func() gorgonia.Solver { return nil })}, "returned nil"},
		{"shared gradient", g, append(gorgonia.Nodes{cost}, grads...), []Option{WithFusedUpdate(newAdam)}, `parameters "a" and "b" share the gradient`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := New(c.g, c.outputs, c.opts...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error saying %q", err, c.want)
			}
		})
	}
}
