// Command bench measures VeLoRA side by side with its baseline, in one run
// on this machine, and prints markdown tables, numbered the same whichever
// of them -tables selects:
//
//  1. GEMM: GFLOP/s of package kernel's matrix multiply against gonum's
//     pure-Go Sgemm (and OpenBLAS, built with -tags openblas) at the
//     model's forward, input-gradient and weight-gradient shapes;
//  2. op level: Compress's throughput against a plain copy of the same
//     bytes (the memory-bandwidth limit), and the fused weight gradient
//     against reconstruct-then-multiply, for sub-token sizes 8, 16, 32;
//  3. layer selection (the paper's Table 6): a 4-layer LLaMA trained
//     full-rank with AdamW, VeLoRA on none, q, k, v, down, vd, qkv, qkvd;
//  4. where the baseline step's (row none of table 3) CPU time goes:
//     GEMM, the ops' other work, the optimizer, the executor, from CPU
//     profile samples;
//  5. sub-token size (Table 5b): vd at D/64, D/32, D/16, D/8;
//  6. fine-tuning: LoRA and QLoRA with and without VeLoRA on vd;
//  7. executor: the same step under gorgonia's TapeMachine, under package
//     machine, and under machine with fused updates;
//  8. with -plain (or -tables 8), the fused block ops against gorgonia's
//     compositions (op/plain), and what each one's backward pass keeps,
//     by op;
//  9. and 10. every PEFT method with and without VeLoRA on a small ViT and
//     a small LLaMA.
//
// Under each table a caption says what it compares and how to read it.
// -markdown writes what the run prints to a file as well, atomically, under
// a header naming the CPU, Go version, GOMAXPROCS, date and command line;
// a path that is a directory, or whose folder is missing, is refused before
// the run starts.
//
// Memory figures are machine's exact byte accounting (package train's
// split into parameters, gradients, optimizer state and activations) with
// the Go runtime's heap peak beside them; times are wall-clock seconds per
// training step after -warmup untimed steps (default 0: the timed step also
// allocates what later steps reuse, alike for every row).
//
// What runs out on a user's machine is the process's real memory, so the
// layer-selection, fine-tuning, executor and recomputation tables are each followed by
// their configurations' peak RSS (Linux): the command runs itself again
// once per configuration, with VELORA_BENCH_RSS naming it, and the child
// builds the model, runs a warm-up step, collects its garbage, restarts
// the kernel's peak (VmHWM, through /proc/self/clear_refs) and runs one
// step. The peak less the resident set before the model was built is set
// beside the exact peak. The child runs at GOGC=10 unless GOGC or
// GOMEMLIMIT is set: once warm a step allocates little outside the
// machine's pool, so frequent collections cost little and keep a long
// run's garbage to a tenth of the live heap.
//
//	go run ./bench                 # the default model, under 3 minutes on 2 cores
//	go run ./bench -quick          # small sizes, seconds
//	go run ./bench -tables 1,4     # only the GEMM table and the step split
//	go run ./bench -tables 3 -warmup 1 -steps 3   # a steady-state step time
//	go run ./bench -json out.json -png charts/
//	go run ./bench -plain -warmup 1 -steps 3 -markdown RESULTS.md   # every table, also as a Markdown file
//	go test -bench . ./bench       # the same comparisons as Go benchmarks
//
// The OpenBLAS column of table 1 needs cgo, OpenBLAS's headers and library
// (Debian: apt-get install -y libopenblas-dev) and the library named at
// link time, since gonum's netlib binding names none:
//
//	CGO_LDFLAGS=-lopenblas go run -tags openblas ./bench -tables 1
//
// bench/pytorch/llama_step.py times the same model's step in PyTorch on the
// CPU, as a yardstick (see its README).
package main
