package layers

import (
	"embed"
	"path"
	"sort"
	"strings"

	"github.com/pkg/errors"
)

//go:embed configs/*.json
var configFiles embed.FS

// LLaMAConfigNames lists the shipped LLaMA configs.
func LLaMAConfigNames() []string {
	entries, _ := configFiles.ReadDir("configs") // the embedded folder always exists
	var names []string
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".json"))
	}
	sort.Strings(names)
	return names
}

// LLaMAConfigNamed returns a shipped config: "llama_60m" or "llama_130m",
// the models of the paper's C4 runs.
func LLaMAConfigNamed(name string) (LLaMAConfig, error) {
	file := path.Join("configs", name+".json")
	data, err := configFiles.ReadFile(file)
	if err != nil {
		return LLaMAConfig{}, errors.Errorf("layers: no shipped config %q; shipped: %s", name, strings.Join(LLaMAConfigNames(), ", "))
	}
	return ParseLLaMAConfig(data, file)
}
