// Command gemm writes the GEMM micro-kernels of package kernel in amd64
// assembly: gemm_amd64.s and its Go declarations, gemm_amd64_stubs.go.
//
// A micro-kernel multiplies a packed MR×kc panel of A by a packed kc×NR
// panel of B and adds the MR×NR product into C (or stores it, when the
// product is the first term of C). The panels are laid out by the Go
// driver in kernel/gemm_packed.go: A's panel holds MR consecutive values of
// one column of A per step of k, B's panel NR consecutive values of one
// row of B. The accumulators live in registers for the whole k loop (the
// BLIS scheme of Van Zee and van de Geijn, "BLIS: A Framework for Rapidly
// Instantiating BLAS Functionality", ACM TOMS 2015).
package main

import (
	"fmt"
	"strings"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// kernel describes one micro-kernel: its element type and tile.
type kernel struct {
	name      string
	elem      string // Go element type
	size      int    // bytes per element
	mr        int    // rows of C
	vecs      int    // vector registers per row of C
	lanes     int    // elements per vector register
	broadcast func(Op, Op)
	fma       func(Op, Op, Op)
	load      func(Op, Op)
	add       func(Op, Op, Op)
	store     func(Op, Op)
	zero      func(Op, Op, Op)
	reg       func() VecVirtual // a vector register of the kernel's width
	unroll    int
	rows      bool // A is read in place, row i at a + i·lda, instead of packed
}

func main() {
	ConstraintExpr("amd64,!purego")
	avx2 := []kernel{
		{name: "sgemmKernelAVX2", elem: "float32", size: 4, mr: 6, vecs: 2, lanes: 8,
			broadcast: func(m, r Op) { VBROADCASTSS(m, r) },
			fma:       func(a, b, c Op) { VFMADD231PS(a, b, c) },
			load:      func(m, r Op) { VMOVUPS(m, r) },
			add:       func(a, b, c Op) { VADDPS(a, b, c) },
			store:     func(r, m Op) { VMOVUPS(r, m) },
			zero:      func(a, b, c Op) { VXORPS(a, b, c) },
			reg:       YMM,
			unroll:    4},
		{name: "dgemmKernelAVX2", elem: "float64", size: 8, mr: 6, vecs: 2, lanes: 4,
			broadcast: func(m, r Op) { VBROADCASTSD(m, r) },
			fma:       func(a, b, c Op) { VFMADD231PD(a, b, c) },
			load:      func(m, r Op) { VMOVUPD(m, r) },
			add:       func(a, b, c Op) { VADDPD(a, b, c) },
			store:     func(r, m Op) { VMOVUPD(r, m) },
			zero:      func(a, b, c Op) { VXORPD(a, b, c) },
			reg:       YMM,
			unroll:    4},
	}
	// The AVX-512 kernels have twice the lanes and twice the registers:
	// 12×32 (float32) and 12×16 (float64) tiles keep 24 of the 32 ZMM
	// registers as accumulators.
	avx512 := make([]kernel, len(avx2))
	for i, k := range avx2 {
		k.name = strings.Replace(k.name, "AVX2", "AVX512", 1)
		k.mr, k.lanes, k.reg = 12, 2*k.lanes, ZMM
		avx512[i] = k
	}
	for _, k := range append(avx2, avx512...) {
		k.generate()
		k.name += "Rows"
		k.rows = true
		k.generate()
	}
	Generate()
}

// generate writes one micro-kernel:
//
//	func name(k int, a, b, c *elem, ldc int, accumulate bool)
//
// C[i, j] (+)= Σ_p a[p·MR + i] · b[p·NR + j] for i < MR, j < NR, where
// row i of C starts ldc elements after row i−1, or, when rows is set,
//
//	func nameRows(k int, a *elem, lda int, b, c *elem, ldc int, accumulate bool)
//
// with a[i·lda + p] in place of a[p·MR + i]: A's rows read where they are
// stored, with no packing. k must be positive.
func (k kernel) generate() {
	nr := k.vecs * k.lanes
	if k.rows {
		TEXT(k.name, NOSPLIT, fmt.Sprintf("func(k int, a *%s, lda int, b, c *%s, ldc int, accumulate bool)", k.elem, k.elem))
		Doc(fmt.Sprintf("%s adds (or, unless accumulate, stores) the product of %d rows of A, lda elements apart, and a packed k×%d panel of B into C.", k.name, k.mr, nr))
	} else {
		TEXT(k.name, NOSPLIT, fmt.Sprintf("func(k int, a, b, c *%s, ldc int, accumulate bool)", k.elem))
		Doc(fmt.Sprintf("%s adds (or, unless accumulate, stores) the product of a packed %d×k panel of A and a packed k×%d panel of B into C.", k.name, k.mr, nr))
	}
	n := Load(Param("k"), GP64())
	b := Load(Param("b"), GP64())
	a := k.rowsOfA()

	acc := make([][]VecVirtual, k.mr)
	for i := range acc {
		acc[i] = make([]VecVirtual, k.vecs)
		for j := range acc[i] {
			acc[i][j] = k.reg()
			k.zero(acc[i][j], acc[i][j], acc[i][j])
		}
	}
	bv := make([]VecVirtual, k.vecs)
	for j := range bv {
		bv[j] = k.reg()
	}
	av := []VecVirtual{k.reg(), k.reg()}

	// step multiplies column p of the A panel by row p of the B panel,
	// both addressed by displacement from the current a and b.
	step := func(p int) {
		for j := range bv {
			k.load(Mem{Base: b, Disp: (p*nr + j*k.lanes) * k.size}, bv[j])
		}
		for i := 0; i < k.mr; i++ {
			x := av[i%2]
			k.broadcast(a.at(i, p), x)
			for j := range bv {
				k.fma(bv[j], x, acc[i][j])
			}
		}
	}

	Comment("Unrolled loop: k/unroll steps of unroll columns.")
	blocks := GP64()
	MOVQ(n, blocks)
	SHRQ(U8(log2(k.unroll)), blocks)
	JZ(LabelRef("tail"))
	Label("unrolled")
	for p := 0; p < k.unroll; p++ {
		step(p)
	}
	a.advance(k.unroll)
	ADDQ(U32(k.unroll*nr*k.size), b)
	DECQ(blocks)
	JNZ(LabelRef("unrolled"))

	Label("tail")
	Comment("The k mod unroll remaining columns.")
	ANDQ(U32(k.unroll-1), n)
	JZ(LabelRef("write"))
	Label("tailloop")
	step(0)
	a.advance(1)
	ADDQ(U32(nr*k.size), b)
	DECQ(n)
	JNZ(LabelRef("tailloop"))

	Label("write")
	c := Load(Param("c"), GP64())
	ldc := Load(Param("ldc"), GP64())
	SHLQ(U8(log2(k.size)), ldc)
	accumulate := Load(Param("accumulate"), GP8())
	TESTB(accumulate, accumulate)
	JZ(LabelRef("store"))
	Comment("C += product.")
	for i := 0; i < k.mr; i++ {
		for j := range acc[i] {
			k.add(Mem{Base: c, Disp: j * k.lanes * k.size}, acc[i][j], acc[i][j])
			k.store(acc[i][j], Mem{Base: c, Disp: j * k.lanes * k.size})
		}
		if i < k.mr-1 {
			ADDQ(ldc, c)
		}
	}
	VZEROUPPER()
	RET()

	Label("store")
	Comment("C = product.")
	for i := 0; i < k.mr; i++ {
		for j := range acc[i] {
			k.store(acc[i][j], Mem{Base: c, Disp: j * k.lanes * k.size})
		}
		if i < k.mr-1 {
			ADDQ(ldc, c)
		}
	}
	VZEROUPPER()
	RET()
}

// aOperand addresses A in the k loop: packed, one pointer; in place, a
// pointer per four rows with rows 1, 2 and 3 of each four at lda, 2·lda and
// 3·lda bytes from it (x86 addressing has one scaled index).
type aOperand struct {
	k        kernel
	bases    []Register
	lda, ld3 Register
}

// rowsOfA loads A's pointer (and leading dimension) from the arguments.
func (k kernel) rowsOfA() aOperand {
	op := aOperand{k: k}
	a := Load(Param("a"), GP64())
	op.bases = []Register{a}
	if !k.rows {
		return op
	}
	op.lda = Load(Param("lda"), GP64())
	SHLQ(U8(log2(k.size)), op.lda)
	op.ld3 = GP64()
	LEAQ(Mem{Base: op.lda, Index: op.lda, Scale: 2}, op.ld3)
	for r := 4; r < k.mr; r += 4 {
		next := GP64()
		LEAQ(Mem{Base: op.bases[len(op.bases)-1], Index: op.lda, Scale: 4}, next)
		op.bases = append(op.bases, next)
	}
	return op
}

// at is the address of A[i, p] relative to the current position.
func (op aOperand) at(i, p int) Mem {
	k := op.k
	if !k.rows {
		return Mem{Base: op.bases[0], Disp: (p*k.mr + i) * k.size}
	}
	m := Mem{Base: op.bases[i/4], Disp: p * k.size}
	switch i % 4 {
	case 1:
		m.Index, m.Scale = op.lda, 1
	case 2:
		m.Index, m.Scale = op.lda, 2
	case 3:
		m.Index, m.Scale = op.ld3, 1
	}
	return m
}

// advance moves past steps columns of A.
func (op aOperand) advance(steps int) {
	k := op.k
	if !k.rows {
		ADDQ(U32(steps*k.mr*k.size), op.bases[0])
		return
	}
	for _, base := range op.bases {
		ADDQ(U32(steps*k.size), base)
	}
}

func log2(n int) int {
	l := 0
	for n > 1 {
		n >>= 1
		l++
	}
	return l
}
