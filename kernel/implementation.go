package kernel

// implementation names the GEMM path in use; cpu_amd64.go replaces it when
// the CPU runs the assembly.
var implementation = "gonum (pure Go)"

// Implementation says which GEMM path this process runs, e.g.
// "avx2+fma assembly" or "gonum (pure Go)", for benchmark reports.
func Implementation() string { return implementation }
