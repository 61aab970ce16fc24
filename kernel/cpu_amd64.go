//go:build !purego

package kernel

import "golang.org/x/sys/cpu"

// The micro-kernels' tiles and cache blocks. A float32 tile of 6×16 keeps
// 12 of the 16 YMM registers as accumulators; kc·nr of B (16 KiB) stays in
// L1 and mc·kc of A (96 KiB) in L2.
var (
	sgemmAVX2 = packedGemm[float32]{kernel: sgemmKernelAVX2, mr: 6, nr: 16, kc: 256, mc: 96, nc: 2048, minOpsPerShare: 1 << 19}
	dgemmAVX2 = packedGemm[float64]{kernel: dgemmKernelAVX2, mr: 6, nr: 8, kc: 256, mc: 96, nc: 1024, minOpsPerShare: 1 << 18}
)

// hasAVX2FMA says whether the CPU runs the AVX2 + FMA kernels. It is read
// at start-up, not fixed at build time: one binary serves every x86-64 CPU.
var hasAVX2FMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA

func init() {
	if hasAVX2FMA {
		sgemm, dgemm = sgemmAVX2.run, dgemmAVX2.run
		implementation = "avx2+fma assembly"
	}
}
