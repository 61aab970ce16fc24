package peft

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/velora-go/velora/layers"
)

// FuzzParseAdapterConfig reads arbitrary bytes as an adapter_config.json.
// It must not panic; an error must name the file after the package prefix;
// a Config it returns must, on each tiny model it applies to, be written
// back by SaveAdapter's writer and read again into the same adapter. Seeds:
// the hand-written file in PEFT's form, what SaveAdapter writes for each
// kind of adapter, and broken variants.
func FuzzParseAdapterConfig(f *testing.F) {
	peftForm, err := os.ReadFile(filepath.Join("testdata", "peft_lora_llama", AdapterConfigFile))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(peftForm)
	for _, c := range roundTripCases {
		adapter, err := Apply(c.cfg, c.arch)
		if err != nil {
			f.Fatal(err)
		}
		data, err := marshalAdapterConfig(adapter.(*layers.LoRA), c.arch, "base")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		`{}`, `null`, `{"peft_type": "LORA"}`, `{"peft_type": "LORA", "r": 1e400}`, `{"peft_type": "LORA", "r": -0}`,
		`{"peft_type": "LORA", "target_modules": ["qkv", "attn.proj", "mlp.fc1"], "modules_to_save": ["head", "cls_token"]}`,
		`{"peft_type": "LORA", "target_modules": ["self_attn.q_proj", "q_proj"], "modules_to_save": ["norm", "norm1"]}`,
		`{"peft_type": "LORA", "velora": {"method": "qlora", "layers": ["v_proj"], "sub_token_sizes": {"v_proj": 0}}}`,
		`{"peft_type": "LORA", "velora": {"layers": ["fc2"], "z_dtype": "fp8"}}`,
		`{"peft_type": "LORA", "lora_alpha": 1e-320, "lora_dropout": 0.999999}`,
		`{"peft_type": "LORA", "rank_pattern": {"q_proj": 4}, "alpha_pattern": []}`,
	} {
		f.Add([]byte(s))
	}
	const source = "fuzz/adapter_config.json"
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := parseAdapterConfig(data, source)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "peft: "+source) {
				t.Fatalf("error %q does not start with %q", err, "peft: "+source)
			}
			return
		}
		for _, arch := range []layers.Architecture{adapterLLaMA, adapterViT} {
			want, err := c.resolve(arch)
			if err != nil {
				continue
			}
			adapter, err := Apply(c, arch)
			if err != nil {
				t.Fatalf("resolves but does not apply: %v", err)
			}
			written, err := marshalAdapterConfig(adapter.(*layers.LoRA), arch, "")
			if err != nil {
				t.Fatal(err)
			}
			again, err := parseAdapterConfig(written, source)
			if err != nil {
				t.Fatalf("%T: reading what was written: %v\n%s", arch, err, written)
			}
			got, err := again.resolve(arch)
			if err != nil {
				t.Fatalf("%T: resolving what was written: %v\n%s", arch, err, written)
			}
			kind, _ := architecture(arch)
			if got.Method != want.Method || got.Rank != want.Rank || got.Alpha != want.Alpha || got.Dropout != want.Dropout ||
				!slices.Equal(got.Targets, want.Targets) || !slices.Equal(savedRoles(kind, got.roles), savedRoles(kind, want.roles)) ||
				!sameVeLoRA(got.velora, want.velora) {
				t.Fatalf("%T: read back as %+v (VeLoRA %+v), want %+v (VeLoRA %+v)\n%s", arch, got, got.velora, want, want.velora, written)
			}
		}
	})
}
