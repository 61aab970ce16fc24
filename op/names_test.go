package op_test

import (
	"math/rand"
	"reflect"
	"strings"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	vinit "github.com/velora-go/velora/init"
	"github.com/velora-go/velora/internal/testutil"
	"github.com/velora-go/velora/op"
	"github.com/velora-go/velora/op/nf4"
	"github.com/velora-go/velora/op/nn"
)

// TestOpNamesAreDistinct builds every op of op, op/nn and op/nf4 with its
// gradients and wants one op type behind each name (a String up to its
// parameters): names are what profiles, tables and error messages show.
func TestOpNamesAreDistinct(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	g := gorgonia.NewGraph()
	in := func(name string, shape ...int) *gorgonia.Node {
		return testutil.Input(g, name, testutil.RandomDense(rng, tensor.Float64, shape...))
	}
	x, w, b := in("x", 4, 8), in("w", 8, 8), in("b", 8)
	p, err := op.NewProjection(g, 4, tensor.Float64, vinit.Random(1), "v")
	if err != nil {
		t.Fatal(err)
	}
	q, err := nf4.Quantize(testutil.RandomDense(rng, tensor.Float64, 8, 8))
	if err != nil {
		t.Fatal(err)
	}
	ids := gorgonia.NewVector(g, tensor.Int, gorgonia.WithShape(4), gorgonia.WithName("ids"), gorgonia.WithValue(tensor.New(tensor.WithBacking([]int{0, 1, 2, 3}))))
	h := gorgonia.Must(op.Linear(x, w, p))
	h = gorgonia.Must(op.MatMul(h, w))
	h = gorgonia.Must(op.FrozenLinear(h, w))
	h = gorgonia.Must(op.ScaleShift(h, b, b, p))
	h = gorgonia.Must(nf4.Linear(h, q))
	h = gorgonia.Must(nn.RMSNorm(h, b, 1e-6))
	h = gorgonia.Must(nn.LayerNorm(h, b, b, 1e-6))
	h = gorgonia.Must(nn.AddBias(h, b))
	h = gorgonia.Must(nn.SwiGLU(h, gorgonia.Must(nn.GELU(h))))
	h = gorgonia.Must(nn.RoPE(h, 2, 4, 10000))
	h = gorgonia.Must(nn.Dropout(h, 0.1, 1))
	a := gorgonia.Must(gorgonia.Reshape(h, tensor.Shape{1, 4, 8}))
	h = gorgonia.Must(gorgonia.Reshape(gorgonia.Must(nn.Attention(a, a, a, 2, true)), tensor.Shape{4, 8}))
	h = gorgonia.Must(nn.Columns(h, 0, 8))
	h = gorgonia.Must(gorgonia.Add(h, gorgonia.Must(nn.Embedding(w, ids))))
	loss := gorgonia.Must(nn.CrossEntropy(h, ids, -100))
	if _, err := gorgonia.Grad(loss, x, w, b); err != nil {
		t.Fatal(err)
	}
	byName := map[string]reflect.Type{}
	for _, n := range g.AllNodes() {
		o := n.Op()
		if o == nil {
			continue
		}
		typ := reflect.TypeOf(o)
		if typ.Kind() == reflect.Pointer {
			typ = typ.Elem()
		}
		if !strings.HasPrefix(typ.PkgPath(), "github.com/velora-go/velora/op") {
			continue
		}
		name := o.String()
		if i := strings.IndexAny(name, "{["); i > 0 {
			name = name[:i]
		}
		if other, ok := byName[name]; ok && other != typ {
			t.Errorf("%q names both %v and %v", name, other, typ)
		}
		byName[name] = typ
	}
	if len(byName) < 20 {
		t.Errorf("only %d op names in the graph, expected every op and gradient: %v", len(byName), byName)
	}
}

// TestKeptInput wants the kept input of trained linear layers only: x for
// MatMul, z for Linear.
func TestKeptInput(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	g := gorgonia.NewGraph()
	x := testutil.Input(g, "x", testutil.RandomDense(rng, tensor.Float64, 4, 8))
	w := testutil.Input(g, "w", testutil.RandomDense(rng, tensor.Float64, 8, 8))
	p, err := op.NewProjection(g, 4, tensor.Float64, vinit.Random(1), "v")
	if err != nil {
		t.Fatal(err)
	}
	lin := gorgonia.Must(op.Linear(x, w, p))
	for _, c := range []struct {
		n        *gorgonia.Node
		wantName string // "" for none
	}{
		{gorgonia.Must(op.MatMul(x, w)), "x"},
		{lin, ""}, // z: checked below by its shape
		{gorgonia.Must(op.FrozenLinear(x, w)), ""},
		{gorgonia.Must(nn.GELU(x)), ""},
		{x, ""},
	} {
		kept, ok := op.KeptInput(c.n)
		switch {
		case c.n == lin:
			if !ok || kept.Op() == nil || !kept.Shape().Eq(tensor.Shape{4, 2}) { // z: (T, D/M)
				t.Errorf("Linear keeps %v, expected its z (4, 2)", kept)
			}
		case c.wantName == "" && ok:
			t.Errorf("%v keeps %v, expected nothing", c.n.Op(), kept)
		case c.wantName != "" && (!ok || kept.Name() != c.wantName):
			t.Errorf("%v keeps %v, expected %s", c.n.Op(), kept, c.wantName)
		}
	}
}
