package layers

import (
	"gorgonia.org/gorgonia"

	"github.com/velora-go/velora/op"
)

// CheckpointBlocks is per-block gradient checkpointing, torch.utils.checkpoint's usual
// use, as a keep function for machine.WithRecompute: of each block's values only its
// input and output are kept, and the backward pass computes the rest of a block again
// from its input. Values outside the blocks (the embedding, the final norm, the head,
// the loss) are kept.
func CheckpointBlocks(blocks []Block) func(*gorgonia.Node) bool {
	inside := interiors(blocks)
	return func(n *gorgonia.Node) bool { return !inside[n] }
}

// RecomputeCheap is selective recomputation in Megatron-LM's spirit, as a keep function
// for machine.WithRecompute: inside the blocks, the values of cheap ops (op.Cheap:
// element-wise ops, norms, rotary embeddings) are computed again for the backward pass,
// and everything a matrix product, attention or VeLoRA's compression made is kept, as is
// the residual stream. Values outside the blocks are kept.
func RecomputeCheap(blocks []Block) func(*gorgonia.Node) bool {
	inside := interiors(blocks)
	stream := make(map[*gorgonia.Node]bool)
	for _, bl := range blocks {
		for _, r := range bl.Residuals {
			stream[r] = true
		}
	}
	return func(n *gorgonia.Node) bool { return !inside[n] || stream[n] || !op.Cheap(n) }
}

// RecomputeExpansion is RecomputeCheap that also computes each block's Expansion again
// (LLaMA's gate and up outputs, ViT's fc1 output): two matrix products per LLaMA block,
// one per ViT block, in the forward direction only, for the block's widest values. With
// LoRA the projection's output is a cheap sum whose terms stay kept, so it saves little.
func RecomputeExpansion(blocks []Block) func(*gorgonia.Node) bool {
	cheap := RecomputeCheap(blocks)
	wide := make(map[*gorgonia.Node]bool)
	for _, bl := range blocks {
		for _, n := range bl.Expansion {
			wide[n] = true
		}
	}
	return func(n *gorgonia.Node) bool { return cheap(n) && !wide[n] }
}

// interiors returns the computed values strictly inside the blocks: those an Output is
// computed from, down to and excluding its Input.
func interiors(blocks []Block) map[*gorgonia.Node]bool {
	inside := make(map[*gorgonia.Node]bool)
	for _, bl := range blocks {
		g := bl.Output.Graph()
		stack := []*gorgonia.Node{bl.Output}
		for len(stack) > 0 {
			n := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if n == bl.Input || inside[n] {
				continue
			}
			kids := g.From(n.ID())
			if kids.Len() == 0 { // a leaf: a parameter or a constant
				continue
			}
			if n != bl.Output {
				inside[n] = true
			}
			for kids.Next() {
				stack = append(stack, kids.Node().(*gorgonia.Node))
			}
		}
	}
	return inside
}
