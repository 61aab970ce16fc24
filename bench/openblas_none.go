//go:build !openblas

package main

// openBLAS is nil without the openblas build tag: the GEMM table has no
// OpenBLAS column, and the build needs no cgo.
var openBLAS sgemmer
