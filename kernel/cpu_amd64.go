//go:build !purego

package kernel

import "golang.org/x/sys/cpu"

// The micro-kernels' tiles and cache blocks. An AVX2 float32 tile of 6×16
// keeps 12 of the 16 YMM registers as accumulators, an AVX-512 one of 12×32
// 24 of the 32 ZMM registers; kc·nr of B stays in L1 (16 or 24 KiB) and
// mc·kc of A in L2.
var (
	sgemmAVX2   = packedGemm[float32]{kernel: sgemmKernelAVX2, rowsKernel: sgemmKernelAVX2Rows, mr: 6, nr: 16, kc: 256, mc: 96, nc: 2048, minOpsPerShare: 1 << 19}
	dgemmAVX2   = packedGemm[float64]{kernel: dgemmKernelAVX2, rowsKernel: dgemmKernelAVX2Rows, mr: 6, nr: 8, kc: 256, mc: 96, nc: 1024, minOpsPerShare: 1 << 18}
	sgemmAVX512 = packedGemm[float32]{kernel: sgemmKernelAVX512, rowsKernel: sgemmKernelAVX512Rows, mr: 12, nr: 32, kc: 192, mc: 96, nc: 2048, minOpsPerShare: 1 << 19}
	dgemmAVX512 = packedGemm[float64]{kernel: dgemmKernelAVX512, rowsKernel: dgemmKernelAVX512Rows, mr: 12, nr: 16, kc: 192, mc: 96, nc: 1024, minOpsPerShare: 1 << 18}
)

// The CPU's features, read at start-up, not fixed at build time: one
// binary serves every x86-64 CPU.
var (
	hasAVX2FMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA
	hasAVX512  = hasAVX2FMA && cpu.X86.HasAVX512F && cpu.X86.HasAVX512DQ
)

func init() {
	switch {
	case hasAVX512:
		sgemm, dgemm = sgemmAVX512.run, dgemmAVX512.run
		implementation = "avx512 assembly"
	case hasAVX2FMA:
		sgemm, dgemm = sgemmAVX2.run, dgemmAVX2.run
		implementation = "avx2+fma assembly"
	}
}
