package layers

import (
	"math/rand"
	"strings"
	"testing"
)

// randomizeB gives every lora_B of params random values, so that the
// adapters change the model.
func randomizeB(params *Params, seed int64) {
	rng := rand.New(rand.NewSource(seed))
	for _, name := range params.Names() {
		if strings.HasSuffix(name, ".lora_B.weight") {
			data := params.Get(name).Data().([]float64)
			for i := range data {
				data[i] = rng.NormFloat64()
			}
		}
	}
}

func TestMergedParamsComputeTheAdaptedModel(t *testing.T) {
	for _, nf4 := range []bool{false, true} {
		params := NewParams()
		lora := &LoRA{Rank: 2, Alpha: 3, Targets: []string{"q", "v", "down"}, NF4: nf4}
		llamaLogits(t, params, lora) // creates the adapters
		randomizeB(params, 4)
		adapted, _ := llamaLogits(t, params, lora)
		before := map[string][]float64{}
		for _, n := range params.Names() {
			before[n] = append([]float64(nil), params.Get(n).Data().([]float64)...)
		}
		merged, err := lora.MergedParams(params)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range params.Names() {
			same(t, n+" (input unchanged)", params.Get(n).Data().([]float64), before[n], 0)
			isAdapter := strings.Contains(n, ".lora_")
			if got := merged.Get(n) != nil; got == isAdapter {
				t.Fatalf("NF4 %v: %s in the merged parameters: %v", nf4, n, got)
			}
		}
		plain, _ := llamaLogits(t, merged, Full{})
		// float64 throughout; the two graphs sum in different orders.
		same(t, "merged logits", plain, adapted, 1e-12)
		if len(merged.Names()) != len(params.Names())-2*2*3 { // A and B of 3 modules in 2 layers
			t.Fatalf("NF4 %v: %d merged parameters of %d", nf4, len(merged.Names()), len(params.Names()))
		}
	}
}

func TestMergedParamsOfAnUnbuiltQLoRAIsAnError(t *testing.T) {
	params := NewParams()
	llamaLogits(t, params, &LoRA{Rank: 2, Alpha: 2, Targets: []string{"v"}})
	if _, err := (&LoRA{Rank: 2, Alpha: 2, Targets: []string{"v"}, NF4: true}).MergedParams(params); err == nil || !strings.Contains(err.Error(), "build the model") {
		t.Fatalf("error %v, expected one saying to build the model first", err)
	}
	params.Delete("model.layers.1.self_attn.v_proj.lora_B.weight")
	_, err := (&LoRA{Rank: 2, Alpha: 2, Targets: []string{"v"}}).MergedParams(params)
	if err == nil || !strings.Contains(err.Error(), "model.layers.1.self_attn.v_proj") {
		t.Fatalf("error %v, expected one naming the module whose lora_B is missing", err)
	}
}
