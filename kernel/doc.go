// Package kernel provides the numeric kernels a training step spends its
// time in, on plain slices: matrix multiply (Gemm), and the vector kernels
// of the transformer ops (Dot, Axpy, Scale, Exp, Sigmoid, SiLU, SwiGLU,
// GELU, Softmax, LogSumExp) and of VeLoRA's forward pass (Compress). There
// is no gorgonia inside, except BLAS, which gives gorgonia this package's
// matrix multiply:
//
//	gorgonia.Use(kernel.BLAS{})
//
// Gemm follows the GotoBLAS/BLIS scheme (Goto and van de Geijn, "Anatomy of
// High-Performance Matrix Multiplication", ACM TOMS 2008; Van Zee and van de
// Geijn, "BLIS", ACM TOMS 2015): blocks of both operands are packed into
// panels sized for the caches, and an assembly micro-kernel keeps a tile of
// the result in registers (6×16 float32 with AVX2 and FMA, 12×32 with
// AVX-512), with the work split across GOMAXPROCS goroutines. The vector
// kernels process eight float32 values per instruction with AVX2 and FMA.
//
// The assembly is written by Go programs on github.com/mmcloughlin/avo in
// internal/asmgen (a module of its own, so avo stays out of users' go.sum);
// `go generate ./kernel` rewrites it. Which path runs is decided at start-up
// from the CPU's features (golang.org/x/sys/cpu), never at build time, and
// Implementation names it. Every kernel has a pure-Go path, used on other
// CPUs and architectures and forced everywhere by the purego build tag;
// Gemm's is gonum's implementation. Tests compare the paths with each other
// and with float64 definitions.
//
// Kernels assume checked input, as BLAS does: they panic on a slice too
// short for the sizes they are given, and return no errors.
package kernel
