//go:build openblas

package main

import "gonum.org/v1/netlib/blas/netlib"

// openBLAS is the C BLAS that gonum's netlib binds through cgo. netlib names
// no library, so the build names it:
//
//	CGO_LDFLAGS=-lopenblas go run -tags openblas ./bench -tables 1
var openBLAS sgemmer = netlib.Implementation{}
