package layers

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestShippedLLaMAConfigs(t *testing.T) {
	for name, want := range map[string]LLaMAConfig{
		"llama_60m":  {Hidden: 512, Intermediate: 1376, Heads: 8, Layers: 8, Vocab: 32000, MaxSeq: 1024, RMSNormEps: 1e-6, RopeTheta: 10000, InitializerRange: 0.02},
		"llama_130m": {Hidden: 768, Intermediate: 2048, Heads: 12, Layers: 12, Vocab: 32000, MaxSeq: 1024, RMSNormEps: 1e-6, RopeTheta: 10000, InitializerRange: 0.02},
	} {
		got, err := LLaMAConfigNamed(name)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s: %+v, want %+v", name, got, want)
		}
	}
	if _, err := LLaMAConfigNamed("llama_7b"); err == nil || !strings.Contains(err.Error(), "llama_130m, llama_60m") {
		t.Errorf("unknown config: error %v, expected one listing the shipped configs", err)
	}
}

func TestLLaMAConfigErrorsNameFileAndKey(t *testing.T) {
	dir := t.TempDir()
	cases := []struct{ name, body, want string }{
		{"missing.json", `{"hidden_size": 8, "intermediate_size": 12, "num_attention_heads": 2, "num_hidden_layers": 1, "vocab_size": 10}`, `missing key "max_sequence_length"`},
		{"string.json", `{"hidden_size": "8", "intermediate_size": 12, "num_attention_heads": 2, "num_hidden_layers": 1, "vocab_size": 10, "max_position_embeddings": 8}`, `key "hidden_size" is "8", expected a number`},
		{"fraction.json", `{"hidden_size": 8.5, "intermediate_size": 12, "num_attention_heads": 2, "num_hidden_layers": 1, "vocab_size": 10, "max_position_embeddings": 8}`, `key "hidden_size" is 8.5, expected a positive integer`},
		{"eps.json", `{"hidden_size": 8, "intermediate_size": 12, "num_attention_heads": 2, "num_hidden_layers": 1, "vocab_size": 10, "max_position_embeddings": 8, "rms_norm_eps": -1}`, `key "rms_norm_eps" is -1`},
		{"heads.json", `{"hidden_size": 8, "intermediate_size": 12, "num_attention_heads": 3, "num_hidden_layers": 1, "vocab_size": 10, "max_position_embeddings": 8}`, "expected a multiple of the 3 heads"},
		{"broken.json", `{"hidden_size": 8,`, "expected a JSON object"},
	}
	for _, c := range cases {
		path := filepath.Join(dir, c.name)
		if err := os.WriteFile(path, []byte(c.body), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := LoadLLaMAConfig(path)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.name) {
			t.Errorf("%s: error %v, expected one naming the file and %q", c.name, err, c.want)
		}
	}
	if _, err := LoadLLaMAConfig(filepath.Join(dir, "absent.json")); err == nil || !strings.Contains(err.Error(), "absent.json") {
		t.Errorf("absent file: error %v", err)
	}
}
