// Command bench measures VeLoRA side by side with its baseline, in one run
// on this machine, and prints markdown tables:
//
//  1. op level: Compress's throughput against a plain copy of the same
//     bytes (the memory-bandwidth limit), and the fused weight gradient
//     against reconstruct-then-multiply, for sub-token sizes 8, 16, 32;
//  2. layer selection (the paper's Table 6): a 4-layer LLaMA trained
//     full-rank with AdamW, VeLoRA on none, q, k, v, down, vd, qkv, qkvd;
//  3. sub-token size (Table 5b): vd at D/64, D/32, D/16, D/8;
//  4. fine-tuning: LoRA and QLoRA with and without VeLoRA on vd;
//  5. executor: the same step under gorgonia's TapeMachine, under package
//     machine, and under machine with fused updates;
//  6. with -plain, the fused block ops against gorgonia's compositions
//     (op/plain), and what each one's backward pass keeps, by op;
//  7. and 8. every PEFT method with and without VeLoRA on a small ViT and
//     a small LLaMA.
//
// Memory figures are machine's exact byte accounting (package train's
// split into parameters, gradients, optimizer state and activations) with
// the Go runtime's heap peak beside them; times are wall-clock seconds per
// training step after a warm-up step.
//
//	go run ./bench                 # the default model, about 3 minutes on 2 cores
//	go run ./bench -quick          # small sizes, seconds
//	go run ./bench -json out.json -png charts/
//	go test -bench . ./bench       # the same comparisons as Go benchmarks
package main
