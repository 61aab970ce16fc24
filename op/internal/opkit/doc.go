// Package opkit is what the ops of package op and its sub-packages share:
// reading gorgonia values as dense float tensors, checking inputs and
// preallocated results, hashing, scratch buffers, and Run, the Do and
// UsePreallocDo of an op that brings only its maths.
package opkit
