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
}

func main() {
	ConstraintExpr("!purego")
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
	}
	Generate()
}

// generate writes one micro-kernel:
//
//	func name(k int, a, b, c *elem, ldc int, accumulate bool)
//
// C[i, j] (+)= Σ_p a[p·MR + i] · b[p·NR + j] for i < MR, j < NR, where
// row i of C starts ldc elements after row i−1. k must be positive.
func (k kernel) generate() {
	nr := k.vecs * k.lanes
	TEXT(k.name, NOSPLIT, fmt.Sprintf("func(k int, a, b, c *%s, ldc int, accumulate bool)", k.elem))
	Doc(fmt.Sprintf("%s adds (or, unless accumulate, stores) the product of a packed %d×k panel of A and a packed k×%d panel of B into C.", k.name, k.mr, nr))
	n := Load(Param("k"), GP64())
	a := Load(Param("a"), GP64())
	b := Load(Param("b"), GP64())

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
			k.broadcast(Mem{Base: a, Disp: (p*k.mr + i) * k.size}, x)
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
	ADDQ(U32(k.unroll*k.mr*k.size), a)
	ADDQ(U32(k.unroll*nr*k.size), b)
	DECQ(blocks)
	JNZ(LabelRef("unrolled"))

	Label("tail")
	Comment("The k mod unroll remaining columns.")
	ANDQ(U32(k.unroll-1), n)
	JZ(LabelRef("write"))
	Label("tailloop")
	step(0)
	ADDQ(U32(k.mr*k.size), a)
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

func log2(n int) int {
	l := 0
	for n > 1 {
		n >>= 1
		l++
	}
	return l
}
