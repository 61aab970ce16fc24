package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pkg/errors"

	"github.com/velora-go/velora/checkpoint"
	"github.com/velora-go/velora/data/c4"
	"github.com/velora-go/velora/internal/check"
	"github.com/velora-go/velora/internal/cli"
	"github.com/velora-go/velora/layers"
	"github.com/velora-go/velora/peft"
)

// Config holds every hyper-parameter of a run. DefaultConfig is what
// `go run ./examples/c4` uses; each flag overrides one field.
type Config struct {
	// Model is "tiny" (TinyLLaMA, built in), a shipped config ("llama_60m",
	// "llama_130m") or the path of a HuggingFace LLaMA config.json. The vocabulary
	// size always comes from the tokenizer.
	Model string `json:"model"`
	// Data is "" for the embedded Brown corpus, a directory laid out like C4's en/
	// folder, or comma-separated shard files (those named c4-validation.* are the
	// validation split, the others the training split).
	Data string `json:"data"`
	// Tokenizer is "" for bytes (vocabulary 259) or a SentencePiece .model file.
	Tokenizer string `json:"tokenizer"`

	Steps int   `json:"steps"` // optimizer steps per method (per epoch with Ablate "epochs")
	Batch int   `json:"batch"` // sequences per step
	Seq   int   `json:"seq"`   // tokens per sequence
	Pack  bool  `json:"pack"`  // pack documents into full rows (the paper pads one document per row)
	Seed  int64 `json:"seed"`  // model initialisation, data order, random v

	LR         float64 `json:"lr"`           // peak learning rate
	Warmup     int     `json:"warmup"`       // linear warm-up steps; negative: a tenth of the run's steps
	MinLRRatio float64 `json:"min_lr_ratio"` // cosine floor as a fraction of LR (the paper: 0.1)

	// EvalTokens is how many validation tokens the perplexity averages over;
	// 0 means the whole validation split.
	EvalTokens int `json:"eval_tokens"`

	// Methods are the rows of the Table 4 run: full, lora, galore, flora, velora.
	Methods []string `json:"methods"`
	// Rank is r of LoRA, GaLore and FLoRA; 0 means hidden/4 (128 for the 60M model,
	// the paper's value).
	Rank      int     `json:"rank"`
	LoRAAlpha float64 `json:"lora_alpha"` // LoRA's update is scaled by LoRAAlpha/Rank
	// GaLoreGap is T, the steps between GaLore's SVDs; GaLoreScale is α.
	GaLoreGap   int     `json:"galore_gap"`
	GaLoreScale float64 `json:"galore_scale"`
	// FLoRAKappa is κ, the steps between FLoRA's resampled projections.
	FLoRAKappa int `json:"flora_kappa"`

	// VeLoRALayers are the compressed projections in the paper's shorthand.
	VeLoRALayers string `json:"velora_layers"`
	// SubTokenSizes is M per projection (q, k, v, down, ...); SubTokenSize is the
	// size of any other.
	SubTokenSizes map[string]int `json:"sub_token_sizes"`
	SubTokenSize  int            `json:"sub_token_size"`
	VeLoRAInit    string         `json:"velora_init"`  // how v is chosen (package vinit's names)
	VeLoRAScale   float64        `json:"velora_scale"` // factor on the compressed weight gradient

	// MemoryBudget, when positive, adds a row to the Table 4 run: the full-rank step
	// that peft.Plan fits into this many bytes (VeLoRA, recomputation, fused update).
	MemoryBudget int64 `json:"memory_budget"`

	// Ablate is "" for the Table 4 run, or layers, subtoken, init or epochs.
	Ablate string `json:"ablate"`
	// Epochs is the number of passes of Ablate "epochs".
	Epochs int `json:"epochs"`

	// CheckpointEvery saves every so many steps to CheckpointDir (0: never);
	// Resume continues each method from its checkpoint there.
	CheckpointEvery int    `json:"checkpoint_every"`
	CheckpointDir   string `json:"checkpoint_dir"`
	Resume          bool   `json:"resume"`

	JSON string `json:"json"` // results file ("" for none)
	PNG  string `json:"png"`  // folder for loss curves ("" for none)
	// SaveAdapter, when set, is a folder that receives the trained adapter of
	// each row that has one (lora) as a HuggingFace PEFT adapter directory,
	// SaveAdapter/<row key> (peft.SaveAdapter). Rows without an adapter (full
	// rank, GaLore, FLoRA, VeLoRA: they train every weight) save nothing there.
	SaveAdapter string `json:"save_adapter,omitempty"`
}

// TinyLLaMA is the default model: the 60M config's shape scaled down so that
// the whole default run takes minutes on two CPU cores. The MLP is 3x the
// width (the 60M model's is 2.69x) so that every fraction D/64 … D/8 of the
// subtoken ablation is a whole number.
var TinyLLaMA = layers.LLaMAConfig{
	Hidden:           64,
	Intermediate:     192,
	Heads:            4,
	Layers:           4,
	Vocab:            c4.ByteTokenizer{}.VocabSize(),
	MaxSeq:           1024,
	RMSNormEps:       1e-6,
	RopeTheta:        10000,
	InitializerRange: 0.02,
}

// DefaultConfig is the default run: the paper's recipe (AdamW, cosine to 0.1
// of the peak after a 10% warm-up, VeLoRA on v and down with the 60M
// script's sub-token sizes 8 and 16 and gradient scale 1.5) on a tiny model
// and a short budget. The 60M script is scripts/pretrain_llama_60m.sh of the
// reference code (github.com/roymiles/VeLoRA).
func DefaultConfig() Config {
	return Config{
		Model:      "tiny",
		Steps:      240,
		Batch:      16,
		Seq:        64,
		Pack:       true, // Brown documents are ~12k bytes: one per row would keep only their first 64
		LR:         0.01, // the paper's 60M value
		Warmup:     -1,   // 10% of the steps, as the paper's 1000 of 10000
		MinLRRatio: 0.1,
		EvalTokens: 65536,
		Methods:    []string{"full", "lora", "galore", "flora", "velora"},
		LoRAAlpha:  32, // GaLore's LoRA baseline (ReLoRA's code) uses lora_alpha 32
		// The paper's 200 of 10000 steps would leave a 240-step run one subspace; 40
		// gives six, as many SVDs per run as 1200 steps of 200 would.
		GaLoreGap:   40,
		GaLoreScale: 0.25, // the paper's C4 value
		FLoRAKappa:  40,   // resampled as often as GaLore's SVD
		// The 60M script's num_groups 64, 86 give M = 8 on v (512/64) and 16 on down
		// (1376/86): the same compression ratios here.
		VeLoRALayers:  "vd",
		SubTokenSizes: map[string]int{"q": 8, "k": 8, "v": 8, "down": 16},
		SubTokenSize:  16,
		VeLoRAInit:    "batch_average_once",
		VeLoRAScale:   1.5, // the 60M script's --velora_scale (its 130M script uses 1.0)
		Epochs:        4,   // Table 5a's four epochs
	}
}

// Ablations are the values of Config.Ablate besides "" (the Table 4 run).
var Ablations = []string{"layers", "subtoken", "init", "epochs"}

// Validate checks the fields no default fixes. Float settings are named by their flags.
func (c Config) Validate() error {
	for _, err := range []error{
		check.Float("c4", "-lr", c.LR, c.LR > 0, "a finite number > 0"),
		check.Float("c4", "-min-lr-ratio", c.MinLRRatio, c.MinLRRatio >= 0 && c.MinLRRatio <= 1, "a value in [0, 1]"),
		check.Float("c4", "-lora-alpha", c.LoRAAlpha, c.LoRAAlpha > 0, "a finite number > 0"),
		check.Float("c4", "-galore-scale", c.GaLoreScale, c.GaLoreScale > 0, "a finite number > 0"),
		check.Float("c4", "-velora-scale", c.VeLoRAScale, c.VeLoRAScale > 0, "a finite number > 0"),
	} {
		if err != nil {
			return err
		}
	}
	switch {
	case c.Steps < 0 || (c.Steps == 0 && c.Ablate != "epochs"):
		return errors.Errorf("c4: steps %d, expected a positive count (0 only with -ablate epochs: whole passes)", c.Steps)
	case c.Batch <= 0 || c.Seq < 2:
		return errors.Errorf("c4: batch %d × seq %d, expected a positive batch and at least 2 tokens", c.Batch, c.Seq)
	case c.Ablate == "epochs" && c.Epochs <= 0:
		return errors.Errorf("c4: %d epochs, expected a positive count", c.Epochs)
	case c.Steps > 0 && c.Warmup >= c.Steps*c.epochs():
		return errors.Errorf("c4: warm-up %d steps, expected fewer than the run's %d", c.Warmup, c.Steps*c.epochs())
	case c.EvalTokens < 0:
		return errors.Errorf("c4: eval tokens %d, expected 0 (all) or a positive count", c.EvalTokens)
	case c.SubTokenSize <= 0:
		return errors.Errorf("c4: -subtoken-default %d, expected a positive size", c.SubTokenSize)
	case c.GaLoreGap <= 0 || c.FLoRAKappa <= 0:
		return errors.Errorf("c4: -galore-gap %d, -flora-kappa %d: expected positive step counts", c.GaLoreGap, c.FLoRAKappa)
	case c.Rank < 0:
		return errors.Errorf("c4: rank %d, expected a positive rank (0 means hidden/4)", c.Rank)
	case c.CheckpointEvery < 0:
		return errors.Errorf("c4: checkpoint every %d steps, expected 0 (never) or a positive count", c.CheckpointEvery)
	case (c.CheckpointEvery > 0 || c.Resume) && c.CheckpointDir == "":
		return errors.New("c4: -checkpoint-every and -resume need -checkpoint DIR")
	case c.VeLoRALayers != "" && strings.Trim(c.VeLoRALayers, ", ") == "":
		return errors.Errorf("c4: -velora-layers %q selects no projection", c.VeLoRALayers)
	case c.MemoryBudget < 0:
		return errors.Errorf("c4: memory budget %d bytes, expected a positive size (0: no planned row)", c.MemoryBudget)
	case c.MemoryBudget > 0 && c.Ablate != "":
		return errors.Errorf("c4: -memory-budget adds a row to the Table 4 run, not to -ablate %s", c.Ablate)
	case c.Ablate != "" && !contains(Ablations, c.Ablate):
		return errors.Errorf("c4: ablation %q, expected one of %s", c.Ablate, strings.Join(Ablations, ", "))
	}
	if c.Ablate == "" {
		if len(c.Methods) == 0 {
			return errors.New("c4: no methods to run")
		}
		for i, m := range c.Methods {
			if !contains(MethodNames, m) {
				return errors.Errorf("c4: method %q, expected one of %s", m, strings.Join(MethodNames, ", "))
			}
			if contains(c.Methods[:i], m) {
				return errors.Errorf("c4: -methods names %q twice, expected each method once", m)
			}
		}
	}
	if c.SaveAdapter != "" && (c.Ablate != "" || !contains(c.Methods, "lora")) {
		return errors.Errorf("c4: -save-adapter saves the adapters of lora rows, and this run has none (%s); "+
			"the other methods train every weight, which -checkpoint saves", c.rowsDescription())
	}
	return nil
}

// rowsDescription names what the run trains: its methods or its ablation.
func (c Config) rowsDescription() string {
	if c.Ablate != "" {
		return "-ablate " + c.Ablate + " trains full rank"
	}
	return "-methods " + strings.Join(c.Methods, ",")
}

// checkResumeFolder refuses -resume when the -checkpoint folder does not exist or is
// not a folder: a mistyped path would otherwise start every method from step 0.
func (c Config) checkResumeFolder() error {
	if !c.Resume {
		return nil
	}
	info, err := os.Stat(c.CheckpointDir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return errors.Errorf("c4: -resume: checkpoint folder %s does not exist (drop -resume to start a new run)", c.CheckpointDir)
	case err != nil:
		return check.Wrap(err, "c4: -resume")
	case !info.IsDir():
		return errors.Errorf("c4: -resume: -checkpoint %s is a file, expected a folder", c.CheckpointDir)
	}
	return nil
}

// epochs is the number of passes the run makes: Epochs for the epoch
// ablation, else 1.
func (c Config) epochs() int {
	if c.Ablate == "epochs" {
		return c.Epochs
	}
	return 1
}

// Print writes the configuration, one field a line, as the run starts.
func (c Config) Print(w io.Writer) error {
	data, err := json.Marshal(c)
	if err != nil {
		return check.Wrap(err, "c4: config")
	}
	var fields map[string]any
	if err := json.Unmarshal(data, &fields); err != nil {
		return check.Wrap(err, "c4: config")
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fmt.Fprintln(w, "configuration:")
	for _, k := range keys {
		v, _ := json.Marshal(fields[k])
		fmt.Fprintf(w, "  %-16s %s\n", k, v)
	}
	return nil
}

// Setup is what a configuration resolves to before anything trains: the
// model's shape, the tokenizer and the shards of each split.
type Setup struct {
	Model      layers.LLaMAConfig
	Tokenizer  c4.Tokenizer
	Train, Val c4.Shards
	Rank       int
}

// Resolve loads the tokenizer, the model config and the shard lists.
func (c Config) Resolve() (Setup, error) {
	var s Setup
	if err := c.Validate(); err != nil {
		return s, err
	}
	if err := c.checkResumeFolder(); err != nil {
		return s, err
	}
	if err := cli.CheckOutputs("c4",
		cli.Output{Flag: "-json", Path: c.JSON, Ours: checkpoint.JSONObjectWith("ablate")},
		cli.Output{Flag: "-png", Path: c.PNG, Folder: true},
		cli.Output{Flag: "-checkpoint", Path: c.CheckpointDir, Folder: true},
		cli.Output{Flag: "-save-adapter", Path: c.SaveAdapter, Folder: true},
	); err != nil {
		return s, err
	}
	var err error
	if s.Tokenizer, err = loadTokenizer(c.Tokenizer); err != nil {
		return s, err
	}
	if s.Model, err = loadModel(c.Model); err != nil {
		return s, err
	}
	s.Model.Vocab = s.Tokenizer.VocabSize()
	if c.Seq > s.Model.MaxSeq {
		return s, errors.Errorf("c4: seq %d is longer than the model's %d positions", c.Seq, s.Model.MaxSeq)
	}
	if s.Train, s.Val, err = loadShards(c.Data); err != nil {
		return s, err
	}
	s.Rank = c.Rank
	if s.Rank == 0 {
		s.Rank = max(1, s.Model.Hidden/4)
	}
	return s, c.checkVariants(s)
}

// checkVariants applies every method's PEFT configuration to the model before
// any trains, the VeLoRA row's whether or not it runs: a bad -velora-layers,
// -subtoken or -velora-init fails at once, not after the rows before it, and
// is not silently ignored by a run without the VeLoRA row.
func (c Config) checkVariants(s Setup) error {
	for _, m := range MethodNames {
		if _, err := peft.Apply(methodVariant(c, s.Rank, m).PEFT, s.Model); err != nil {
			return check.Wrapf(err, "c4: the %s row's settings", m)
		}
	}
	return nil
}

func loadTokenizer(path string) (c4.Tokenizer, error) {
	if path == "" {
		return c4.ByteTokenizer{}, nil
	}
	sp, err := c4.LoadSentencePiece(path)
	return sp, check.Wrap(err, "c4: -tokenizer")
}

func loadModel(name string) (layers.LLaMAConfig, error) {
	if name == "tiny" || name == "" {
		return TinyLLaMA, nil
	}
	if contains(layers.LLaMAConfigNames(), name) {
		return layers.LLaMAConfigNamed(name)
	}
	if _, err := os.Stat(name); err != nil {
		return layers.LLaMAConfig{}, errors.Errorf("c4: -config %q is neither tiny, a shipped config (%s) nor a readable file", name, strings.Join(layers.LLaMAConfigNames(), ", "))
	}
	return layers.LoadLLaMAConfig(name)
}

// loadShards returns the training and validation shards of -data.
func loadShards(data string) (train, val c4.Shards, err error) {
	if data == "" {
		if train, err = c4.Default("train"); err != nil {
			return train, val, err
		}
		val, err = c4.Default("validation")
		return train, val, err
	}
	if info, statErr := os.Stat(data); statErr == nil && info.IsDir() {
		if train, err = c4.Dir(data, "train"); err != nil {
			return train, val, check.Wrap(err, "c4: -data")
		}
		val, err = c4.Dir(data, "validation")
		return train, val, check.Wrap(err, "c4: -data")
	}
	files := cli.SplitList(data)
	if len(files) == 1 {
		if _, err := os.Stat(files[0]); os.IsNotExist(err) {
			return train, val, errors.Errorf("c4: -data %q does not exist: expected a folder laid out like allenai/c4's en/, or comma-separated shard files", files[0])
		}
	}
	var trainFiles, valFiles []string
	for _, f := range files {
		if _, err := os.Stat(f); os.IsNotExist(err) {
			return train, val, errors.Errorf("c4: -data: %q does not exist", f)
		}
		if strings.HasPrefix(filepath.Base(f), "c4-validation") {
			valFiles = append(valFiles, f)
		} else {
			trainFiles = append(trainFiles, f)
		}
	}
	if len(trainFiles) == 0 || len(valFiles) == 0 {
		return train, val, errors.Errorf("c4: -data %q: expected training shards and at least one validation shard named c4-validation.*", data)
	}
	if train, err = c4.Files(trainFiles...); err != nil {
		return train, val, check.Wrap(err, "c4: -data")
	}
	val, err = c4.Files(valFiles...)
	return train, val, check.Wrap(err, "c4: -data")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
