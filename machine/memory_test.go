package machine

import (
	"math/rand"
	"runtime"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// wantStats checks the byte counts of every run among runs (the later ones recycle pooled
// buffers; the counts must not change).
func wantStats(t *testing.T, vm *Machine, runs int, want Stats) {
	t.Helper()
	for run := 0; run < runs; run++ {
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		got := vm.Stats()
		if got.PeakBytes != want.PeakBytes || got.ParamBytes != want.ParamBytes || got.GradBytes != want.GradBytes ||
			got.InputBytes != want.InputBytes || got.ActivationBytes != want.ActivationBytes || got.TransientBytes != want.TransientBytes {
			t.Fatalf("run %d: peak %d (params %d, grads %d, inputs %d, activations %d, transient %d), want %d (%d, %d, %d, %d, %d)",
				run, got.PeakBytes, got.ParamBytes, got.GradBytes, got.InputBytes, got.ActivationBytes, got.TransientBytes,
				want.PeakBytes, want.ParamBytes, want.GradBytes, want.InputBytes, want.ActivationBytes, want.TransientBytes)
		}
		if got.PeakNode != want.PeakNode {
			t.Fatalf("run %d: peak at %v, want %v", run, got.PeakNode, want.PeakNode)
		}
		if got.Nodes != want.Nodes || got.Runs != run+1 {
			t.Fatalf("run %d: %d nodes, %d runs, want %d nodes, %d runs", run, got.Nodes, got.Runs, want.Nodes, run+1)
		}
	}
}

func TestPeakBytesByHand(t *testing.T) {
	g := gorgonia.NewGraph()
	x := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(8, 8), gorgonia.WithName("x"),
		gorgonia.WithValue(tensor.New(tensor.WithShape(8, 8), tensor.WithBacking(tensor.Range(tensor.Float64, 0, 64)))))
	p := gorgonia.Must(gorgonia.Tanh(x))            // (8, 8)
	q := gorgonia.Must(gorgonia.Sigmoid(x))         // (8, 8)
	r := gorgonia.Must(gorgonia.HadamardProd(p, q)) // (8, 8), last reader of p and q
	s := gorgonia.Must(gorgonia.Square(r))          // (8, 8), last reader of r
	out := gorgonia.Must(gorgonia.Sum(s))           // scalar
	vm, err := New(g, gorgonia.Nodes{out})
	if err != nil {
		t.Fatal(err)
	}
	// An 8×8 float64 matrix is 512 bytes. p and q both read only x, so p runs first (lower
	// ID), then q; r frees both. Live bytes after each node, before its arguments die:
	// x 512, p 1024, q 1536, r 2048 (then 1024), s 1536 (then 1024), out 1032 (then 520).
	wantStats(t, vm, 3, Stats{PeakBytes: 2048, InputBytes: 512, ActivationBytes: 1536, PeakNode: r, Nodes: 5})
}

func TestViewsShareTheirBuffer(t *testing.T) {
	g := gorgonia.NewGraph()
	x := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(8, 8), gorgonia.WithName("x"),
		gorgonia.WithValue(tensor.New(tensor.WithShape(8, 8), tensor.WithBacking(tensor.Range(tensor.Float64, 0, 64)))))
	p := gorgonia.Must(gorgonia.Tanh(x))                       // (8, 8)
	ip := gorgonia.Must(gorgonia.ApplyOp(gorgonia.Iop{}, p))   // p itself
	v := gorgonia.Must(gorgonia.Reshape(ip, tensor.Shape{64})) // a view of p
	s1 := gorgonia.Must(gorgonia.Sum(v))                       // scalar
	xv := gorgonia.Must(gorgonia.Reshape(x, tensor.Shape{64})) // a view of the leaf x
	s2 := gorgonia.Must(gorgonia.Sum(xv))                      // scalar
	out := gorgonia.Must(gorgonia.Add(s1, s2))
	vm, err := New(g, gorgonia.Nodes{out})
	if err != nil {
		t.Fatal(err)
	}
	// x 512, p 1024, ip and v (p's buffer) 1024, s1 1032 (then p's buffer dies: 520), xv
	// (x's buffer) 520, s2 528, out 536 (then 520). Counted per node, ip, v and xv would add
	// 1536.
	wantStats(t, vm, 3, Stats{PeakBytes: 1032, InputBytes: 512, ActivationBytes: 520, PeakNode: s1, Nodes: 7})
	if got := flat(t, x.Value()); got[63] != 63 {
		t.Fatalf("x[63] = %v after the runs, want 63: a leaf was overwritten", got[63])
	}
}

func TestLeavesSharingMemoryCountOnce(t *testing.T) {
	backing := make([]float64, 64)
	g := gorgonia.NewGraph()
	vec := func(name string, lo, hi int) *gorgonia.Node {
		return gorgonia.NewVector(g, tensor.Float64, gorgonia.WithShape(hi-lo), gorgonia.WithName(name),
			gorgonia.WithValue(tensor.New(tensor.WithShape(hi-lo), tensor.WithBacking(backing[lo:hi]))))
	}
	// a and b overlap; c stands apart until d bridges b and c: one 512-byte buffer in all.
	leaves := gorgonia.Nodes{vec("a", 0, 32), vec("b", 16, 48), vec("c", 56, 64), vec("d", 40, 64)}
	var sums gorgonia.Nodes
	for _, l := range leaves {
		sums = append(sums, gorgonia.Must(gorgonia.Sum(l)))
	}
	add1 := gorgonia.Must(gorgonia.Add(sums[0], sums[1]))
	add2 := gorgonia.Must(gorgonia.Add(add1, sums[2]))
	out := gorgonia.Must(gorgonia.Add(add2, sums[3]))
	vm, err := New(g, gorgonia.Nodes{out})
	if err != nil {
		t.Fatal(err)
	}
	// Leaves 512; every sum is an 8-byte scalar. The sums run in ID order, each add as soon
	// as its arguments exist (it frees 16 bytes for 8): 520, 528, add1 536 (then 520), ...
	wantStats(t, vm, 2, Stats{PeakBytes: 536, InputBytes: 512, ActivationBytes: 24, PeakNode: add1, Nodes: 7})
}

func TestOnlyAncestorsOfTheOutputsRun(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	g := gorgonia.NewGraph()
	x := leaf(g, rng, tensor.Float64, "x", 1, 4, 3)
	w1 := leaf(g, rng, tensor.Float64, "w1", 1, 3, 5)
	w2 := leaf(g, rng, tensor.Float64, "w2", 1, 5, 2)
	h := gorgonia.Must(gorgonia.Tanh(gorgonia.Must(gorgonia.Mul(x, w1))))
	cost := gorgonia.Must(gorgonia.Mean(gorgonia.Must(gorgonia.Square(gorgonia.Must(gorgonia.Mul(h, w2))))))
	grads := mustGrad(cost, gorgonia.Nodes{w1, w2, x}) // x's gradient is built, not asked for
	vm, err := New(g, gorgonia.Nodes{cost, grads[0], grads[1]})
	if err != nil {
		t.Fatal(err)
	}
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	if grads[2].Value() != nil {
		t.Fatal("x's gradient has a value: a node nobody asked for ran")
	}
	computed := 0
	for _, n := range g.AllNodes() {
		if len(childrenOf(g, n)) > 0 {
			computed++
		}
	}
	if got := vm.Stats().Nodes; got >= computed {
		t.Fatalf("%d nodes ran, want fewer than the graph's %d", got, computed)
	}
}

func TestThePoolServesLaterRuns(t *testing.T) {
	m := swigluMLP(4, 128, 32, 128)(tensor.Float64, mul)
	vm, err := New(m.g, m.outputs())
	if err != nil {
		t.Fatal(err)
	}
	defer vm.Close()
	var computed int64
	for _, i := range vm.plan.steps {
		computed += nodeBytes(vm.plan.nodes[i])
	}
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	// Allocating every value would be computed bytes; what remains is headers, scalars and
	// BLAS scratch space, well under a tenth.
	if alloc := int64(after.TotalAlloc - before.TotalAlloc); alloc > computed/10 {
		t.Fatalf("the second run allocated %d bytes; its values total %d", alloc, computed)
	}
}
