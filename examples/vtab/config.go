package main

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/pkg/errors"

	"github.com/velora-go/velora/internal/check"
	"github.com/velora-go/velora/internal/cli"
	"github.com/velora-go/velora/layers"
	"github.com/velora-go/velora/peft"
)

// Config holds every hyper-parameter of a run. DefaultConfig is the run that
// `go run ./examples/vtab` makes; the flags change its fields.
type Config struct {
	Data       string // VTAB-1k tree on disk; "" is the embedded MNIST suite
	Checkpoint string // ViT-B_16.npz to fine-tune; "" pre-trains Model on the upstream set
	Cache      string // file of the pre-trained backbone; "" is one under os.UserCacheDir
	Tasks      []string
	Rows       []Row
	// Classes is the class count of every task; 0 takes each task's from VTAB-1k's
	// table or the classes.txt beside its lists (vtab.ClassesFile). Where both give
	// one, they must agree.
	Classes int

	// Model is the backbone's shape (Classes is set per task). With a
	// checkpoint it is ViT-B/16 at 224×224.
	Model layers.ViTConfig

	// Pre-training of the tiny backbone on the upstream set (full training).
	PretrainEpochs int
	PretrainBatch  int
	PretrainLR     float64

	// Fine-tuning, the same for every task (the paper fixes batch and rank
	// across tasks).
	Epochs    int
	Batch     int
	EvalBatch int // test-time batch; it changes nothing but speed
	TestLimit int // at most this many test images per task; 0 is all of them

	// AdamW with the paper's weight decay, a linear warm-up over a fraction
	// of the steps, then a cosine decay to MinLR times the peak.
	WeightDecay float64
	Warmup      float64 // fraction of the steps
	MinLR       float64 // fraction of the peak at the last step

	LR       Setting[float64] // peak learning rate per row
	Rank     Setting[int]     // adapter rank (LoRA, QLoRA, Hydra)
	SubToken Setting[int]     // VeLoRA's sub-token size M (rows with VeLoRA)
	Layers   Setting[string]  // what VeLoRA compresses (rows with VeLoRA), peft.VeLoRAConfig.Layers

	Seed int64

	JSON     string // results file; "" writes none
	PNG      string // folder for the bar charts; "" draws none
	Progress string // progress bar: auto (when stderr is a terminal), on, off
	// SaveAdapter is a folder for the trained adapters of the lora and qlora
	// rows, one HuggingFace PEFT adapter directory per task and row,
	// SaveAdapter/<task>/<row> (peft.SaveAdapter); "" saves none. The other
	// methods have no LoRA adapter and save nothing there.
	SaveAdapter string
}

// DefaultConfig is the default run: a tiny ViT on the 28×28 digits of the
// embedded suite, small enough that pre-training and all 27 fine-tuning runs
// (9 rows × 3 tasks) finish in about five minutes on two cores.
func DefaultConfig() Config {
	return Config{
		Tasks: nil, // every task of the tree
		Rows: []Row{
			{peft.MethodFull, false}, {peft.MethodFull, true},
			{peft.MethodLinearProbe, false},
			{peft.MethodSSF, false}, {peft.MethodSSF, true},
			{peft.MethodHydra, false}, {peft.MethodHydra, true},
			{peft.MethodLoRA, false}, {peft.MethodLoRA, true},
		},
		// 28×28 digits in 7×7 patches: 16 tokens and the class token. Width 64
		// and MLP 256 keep ViT-B's ratio and are divisible by every sub-token
		// size of Table 10; three blocks keep the default run near five
		// minutes on two cores.
		Model: layers.ViTConfig{ImageSize: 28, PatchSize: 7, Channels: 3, Hidden: 64, Layers: 3, Heads: 4, MLP: 256, LayerNormE: 1e-6},

		// About 80% on the upstream set's val list, in under two minutes.
		PretrainEpochs: 8,
		PretrainBatch:  64,
		PretrainLR:     2e-3,

		// Two epochs of 63 steps: batch 16 (Hydra's on most tasks) trains better
		// than 32 in the same time.
		Epochs:    2,
		Batch:     16,
		EvalBatch: 250,

		// The paper uses 5e-4 for every method on ViT-B/16 over 100 epochs; two
		// epochs of a tiny model need larger steps, adapters larger ones than
		// full weights. Picked from a small sweep on mnist_inverted and
		// mnist_rotation (full 1e-3 to 3e-3, adapters 1e-2 to 5e-2).
		LR: Setting[float64]{"": 3e-2, peft.MethodFull: 2e-3, peft.MethodLoRA: 1e-2, peft.MethodQLoRA: 1e-2},
		// Table 10: rank 4 for Hydra and LoRA, 16 for LoRA with VeLoRA.
		Rank: Setting[int]{peft.MethodHydra: 4, peft.MethodLoRA: 4, peft.MethodLoRA + veloraSuffix: 16, peft.MethodQLoRA: 4},
		// Table 10's M: 32 for full and SSF, 4 for Hydra, 16 for LoRA. Every one
		// divides the widths it compresses here (64, 192, 256).
		SubToken: Setting[int]{peft.MethodFull: 32, peft.MethodSSF: 32, peft.MethodHydra: 4, peft.MethodLoRA: 16, peft.MethodQLoRA: 16},
		// What the reference code compresses: full tuning fc2's input only (its
		// qkv wrapper never runs), SSF the scale-shifts after qkv and fc1, Hydra
		// the parallel adapters' down projections, LoRA the input of the
		// adapters on qkv (q and v in the paper's unmerged ViT).
		Layers: Setting[string]{peft.MethodFull: "fc2", peft.MethodSSF: "qkv fc1", peft.MethodHydra: "proj fc2", peft.MethodLoRA: "qkv", peft.MethodQLoRA: "qkv"},

		// The paper's AdamW weight decay; FacT's warm-up (10 of 100 epochs) and
		// floor (1e-5 under a peak of 1e-3).
		WeightDecay: 1e-4,
		Warmup:      0.1,
		MinLR:       0.01,

		Seed:     1,
		Progress: "auto",
	}
}

// ViTB16 is the shape of the ImageNet-21k ViT-B/16 checkpoint (ViT-B_16.npz of
// google-research/vision_transformer, vit_jax/configs/models.py).
var ViTB16 = layers.ViTConfig{ImageSize: 224, PatchSize: 16, Channels: 3, Hidden: 768, Layers: 12, Heads: 12, MLP: 3072, LayerNormE: 1e-6}

// Validate checks the configuration and that every row it names can be
// built on Model.
func (c Config) Validate() error {
	switch {
	case len(c.Rows) == 0:
		return errors.New("vtab: no method to run")
	case c.Epochs <= 0 || c.Batch <= 0 || c.EvalBatch <= 0:
		return errors.Errorf("vtab: -epochs %d, -batch %d, -eval-batch %d, expected each positive", c.Epochs, c.Batch, c.EvalBatch)
	case c.Checkpoint == "" && c.PretrainEpochs < 0:
		return errors.Errorf("vtab: -pretrain-epochs %d, expected ≥ 0 (0 trains no backbone: random features)", c.PretrainEpochs)
	case c.Checkpoint == "" && c.PretrainBatch <= 0:
		return errors.Errorf("vtab: pre-training batch %d, expected a positive size", c.PretrainBatch)
	case c.TestLimit < 0:
		return errors.Errorf("vtab: test limit %d, expected ≥ 0 (0 is the whole test split)", c.TestLimit)
	case c.Classes < 0:
		return errors.Errorf("vtab: -classes %d, expected ≥ 0 (0 takes each task's from VTAB-1k's table or its classes.txt)", c.Classes)
	case c.Progress != "auto" && c.Progress != "on" && c.Progress != "off":
		return errors.Errorf("vtab: progress %q, expected auto, on or off", c.Progress)
	}
	for _, err := range []error{
		check.Float("vtab", "-pretrain-lr", c.PretrainLR, c.PretrainLR > 0 || c.Checkpoint != "", "a finite number > 0"),
		check.Float("vtab", "weight decay", c.WeightDecay, c.WeightDecay >= 0, "a finite number ≥ 0"),
		check.Float("vtab", "warm-up", c.Warmup, c.Warmup >= 0 && c.Warmup < 1, "a fraction in [0, 1)"),
		check.Float("vtab", "min lr", c.MinLR, c.MinLR >= 0 && c.MinLR <= 1, "a fraction in [0, 1]"),
	} {
		if err != nil {
			return err
		}
	}
	model := c.Model
	model.Classes = 2
	if err := model.Validate(); err != nil {
		return check.Wrap(err, "vtab: model")
	}
	if c.SaveAdapter != "" && len(c.adapterRows()) == 0 {
		return errors.Errorf("vtab: -save-adapter saves the adapters of lora and qlora rows, and -methods has none (%s)", rowNames(c.Rows))
	}
	for _, r := range c.Rows {
		if lr, ok := c.LR.Get(r); !ok || !(lr > 0) || math.IsInf(lr, 0) {
			return errors.Errorf("vtab: %s: no positive learning rate in %q", r, c.LR)
		}
		if _, err := peft.Apply(c.PEFT(r), model); err != nil {
			return check.Wrapf(err, "vtab: %s", r)
		}
	}
	return nil
}

// hasAdapter reports whether row r trains a LoRA adapter that -save-adapter
// saves.
func hasAdapter(r Row) bool { return r.Method == peft.MethodLoRA || r.Method == peft.MethodQLoRA }

// adapterRows are the rows whose adapters -save-adapter saves.
func (c Config) adapterRows() []Row {
	var out []Row
	for _, r := range c.Rows {
		if hasAdapter(r) {
			out = append(out, r)
		}
	}
	return out
}

// rowNames lists rows as -methods takes them.
func rowNames(rows []Row) string {
	names := make([]string, len(rows))
	for i, r := range rows {
		names[i] = r.String()
	}
	return strings.Join(names, ", ")
}

// PEFT is the peft configuration of a row. LoRA's alpha equals its rank
// (scaling 1), so rank 4 and rank 16 start from updates of the same size.
func (c Config) PEFT(r Row) peft.Config {
	rank, _ := c.Rank.Get(r)
	pc := peft.Config{Method: r.Method, Rank: rank, Alpha: float64(rank), Seed: c.Seed}
	if pc.Alpha == 0 {
		pc.Alpha = 8 // peft's default rank
	}
	if r.VeLoRA {
		size, _ := c.SubToken.Get(r)
		sel, _ := c.Layers.Get(r)
		pc.VeLoRA = &peft.VeLoRAConfig{Layers: sel, SubTokenSize: size}
	}
	return pc
}

// Print writes the configuration, one setting a line.
func (c Config) Print(w io.Writer) {
	data, ckpt := c.Data, c.Checkpoint
	if data == "" {
		data = "embedded MNIST suite (data/vtab)"
	}
	if ckpt == "" {
		ckpt = "none: pre-train on the upstream set"
	}
	tasks := "every task of the tree"
	if len(c.Tasks) > 0 {
		tasks = strings.Join(c.Tasks, ", ")
	}
	rows := make([]string, len(c.Rows))
	for i, r := range c.Rows {
		rows[i] = r.String()
	}
	m := c.Model
	fmt.Fprintf(w, "data        %s\n", data)
	fmt.Fprintf(w, "checkpoint  %s\n", ckpt)
	fmt.Fprintf(w, "tasks       %s\n", tasks)
	classes := "each task's, from VTAB-1k's table or its classes.txt"
	if c.Classes > 0 {
		classes = strconv.Itoa(c.Classes)
	}
	fmt.Fprintf(w, "classes     %s\n", classes)
	fmt.Fprintf(w, "methods     %s\n", strings.Join(rows, ", "))
	fmt.Fprintf(w, "model       ViT %d×%d images, patch %d, width %d, %d layers, %d heads, MLP %d, float32\n",
		m.ImageSize, m.ImageSize, m.PatchSize, m.Hidden, m.Layers, m.Heads, m.MLP)
	if c.Checkpoint == "" {
		fmt.Fprintf(w, "pre-train   %d epochs, batch %d, lr %g\n", c.PretrainEpochs, c.PretrainBatch, c.PretrainLR)
	}
	fmt.Fprintf(w, "fine-tune   %d epochs on train800val200, batch %d, test batch %d, test limit %d (0: all)\n", c.Epochs, c.Batch, c.EvalBatch, c.TestLimit)
	fmt.Fprintf(w, "optimizer   AdamW, weight decay %g, warm-up %g of the steps, cosine to %g of the peak lr\n", c.WeightDecay, c.Warmup, c.MinLR)
	fmt.Fprintf(w, "lr          %s\n", c.LR)
	fmt.Fprintf(w, "rank        %s\n", c.Rank)
	fmt.Fprintf(w, "subtoken    %s\n", c.SubToken)
	fmt.Fprintf(w, "layers      %s\n", c.Layers)
	fmt.Fprintf(w, "seed        %d\n", c.Seed)
	if c.SaveAdapter != "" {
		var without []Row
		for _, r := range c.Rows {
			if !hasAdapter(r) {
				without = append(without, r)
			}
		}
		fmt.Fprintf(w, "adapters    %s/<task>/<row> for %s", c.SaveAdapter, rowNames(c.adapterRows()))
		if len(without) > 0 {
			fmt.Fprintf(w, "; none for %s (no LoRA adapter)", rowNames(without))
		}
		fmt.Fprintln(w)
	}
}

// updateModel sets the fields of m named in s, "image=32,patch=8,width=96":
// image, patch, width, layers, heads, mlp.
func updateModel(m *layers.ViTConfig, s string) error {
	fields := map[string]*int{"image": &m.ImageSize, "patch": &m.PatchSize, "width": &m.Hidden, "layers": &m.Layers, "heads": &m.Heads, "mlp": &m.MLP}
	for _, f := range cli.SplitList(s) {
		k, v, _ := strings.Cut(f, "=")
		dst, ok := fields[strings.TrimSpace(k)]
		if !ok {
			return errors.Errorf("vtab: -model %q: expected image, patch, width, layers, heads or mlp", k)
		}
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n <= 0 {
			return errors.Errorf("vtab: -model %s: %q is not a positive integer", k, v)
		}
		*dst = n
	}
	return nil
}
