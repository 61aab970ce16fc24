"""PyTorch CPU yardstick for one training step of the Go bench's default LLaMA.

Mirrors bench/model.go defaultSizes + measureBuilt with peft.MethodFull:
a LLaMA decoder (4 layers, D=256, F=688, 4 heads, vocab 259 = the byte
tokenizer's), RMSNorm eps 1e-6, rotate-half RoPE theta 10000, causal
attention, untied LM head, mean cross-entropy, float32, batch 8 × seq 256,
AdamW(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0) as in
peft.AdamConfig's defaults. Every parameter trains. Linear weights are stored
(in, out) and applied as x @ w, like layers.Builder.Linear, so the backward
GEMMs are g @ wᵀ and xᵀ @ g (no biases anywhere).

  python3 bench/pytorch/llama_step.py [--threads 2] [--warmup 1] [--steps 3] [--json]
  python3 bench/pytorch/llama_step.py --gemm      # sgemm GFLOP/s at the model's shapes

Attention uses F.scaled_dot_product_attention when torch has it (>= 2.0),
else explicit matmul + masked softmax (Debian bookworm's torch 1.13).
"""
import argparse, json, math, os, statistics, time
import torch
import torch.nn as nn
import torch.nn.functional as F

B, T, D, FF, H, L, V = 8, 256, 256, 688, 4, 4, 259  # batch, seq, hidden, intermediate, heads, layers, vocab
EPS, THETA, INIT = 1e-6, 10000.0, 0.02


def linear(i, o):
    # (in, out) weight, kaiming-uniform(a=√5) like the Go builder; init does not affect timing
    w = torch.empty(o, i)
    nn.init.kaiming_uniform_(w, a=math.sqrt(5))
    return nn.Parameter(w.t().contiguous())


class RMSNorm(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))

    def forward(self, x):  # (N, D) -> (N, D)
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + EPS) * self.weight


def rope_tables():
    dh = D // H
    inv = THETA ** (-torch.arange(0, dh, 2).float() / dh)  # (dh/2)
    ang = torch.outer(torch.arange(T).float(), inv)        # (T, dh/2)
    ang = torch.cat([ang, ang], -1)                        # (T, dh), HF layout
    return ang.cos(), ang.sin()


def rope(x, cos, sin):  # x: (B, H, T, dh); pairs (i, i + dh/2) rotated ("rotate half")
    x1, x2 = x.chunk(2, -1)
    return x * cos + torch.cat([-x2, x1], -1) * sin


def attention(q, k, v):  # (B, H, T, dh) each, causal, scale 1/√dh as in op.Attention
    if hasattr(F, "scaled_dot_product_attention"):  # torch >= 2.0: the fused kernel
        return F.scaled_dot_product_attention(q, k, v, is_causal=True)
    # torch < 2.0 (Debian bookworm's 1.13): explicit matmul + masked softmax
    s = (q @ k.transpose(-2, -1)) / math.sqrt(q.shape[-1])            # (B, H, T, T)
    mask = torch.ones(T, T, dtype=torch.bool).triu(1)
    return s.masked_fill(mask, float("-inf")).softmax(-1) @ v          # (B, H, T, dh)


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.input_layernorm, self.post_attention_layernorm = RMSNorm(D), RMSNorm(D)
        self.q, self.k, self.v, self.o = (linear(D, D) for _ in range(4))
        self.gate, self.up, self.down = linear(D, FF), linear(D, FF), linear(FF, D)

    def attn(self, x, cos, sin):  # x: (B·T, D)
        def heads(y):  # (B·T, D) -> (B, H, T, dh)
            return y.view(B, T, H, D // H).transpose(1, 2)
        q, k, v = heads(x @ self.q), heads(x @ self.k), heads(x @ self.v)
        q, k = rope(q, cos, sin), rope(k, cos, sin)
        y = attention(q, k, v)                                        # (B, H, T, dh)
        return y.transpose(1, 2).reshape(B * T, D) @ self.o          # (B·T, D)

    def mlp(self, x):  # (B·T, D) -> (B·T, F) -> (B·T, D)
        return (F.silu(x @ self.gate) * (x @ self.up)) @ self.down

    def forward(self, h, cos, sin):
        h = h + self.attn(self.input_layernorm(h), cos, sin)
        return h + self.mlp(self.post_attention_layernorm(h))


class LLaMA(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed_tokens = nn.Parameter(torch.randn(V, D) * INIT)  # (V, D)
        self.layers = nn.ModuleList(Block() for _ in range(L))
        self.norm = RMSNorm(D)
        self.lm_head = linear(D, V)                                   # (D, V), untied
        cos, sin = rope_tables()
        self.register_buffer("cos", cos), self.register_buffer("sin", sin)

    def forward(self, ids, targets):  # ids, targets: (B·T)
        h = self.embed_tokens[ids]                                    # (B·T, D)
        for blk in self.layers:
            h = blk(h, self.cos, self.sin)
        logits = self.norm(h) @ self.lm_head                          # (B·T, V)
        return F.cross_entropy(logits, targets, ignore_index=-100)


def blas_line():
    # the build's BLAS_INFO, plus the BLAS library actually mapped (Debian's torch
    # links the generic libblas.so.3, whichever alternative it resolves to)
    cfg = torch.__config__.show()
    info = [w.strip(" ,") for w in cfg.split() if w.startswith("BLAS_INFO")]
    try:
        libs = sorted({l.split()[-1] for l in open("/proc/self/maps") if "blas" in l.lower() and "/" in l})
    except OSError:
        libs = []
    return ", ".join(info + libs) or "unknown"


def step_bench(a):
    torch.manual_seed(0)
    model = LLaMA()
    nparams = sum(p.numel() for p in model.parameters())
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
    ids = torch.randint(3, V, (B * T,))
    targets = torch.roll(ids, -1)

    def step():
        loss = model(ids, targets)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        return loss.item()

    for _ in range(a.warmup):
        step()
    times = []
    for _ in range(a.steps):
        t0 = time.perf_counter()
        loss = step()
        times.append(time.perf_counter() - t0)
    r = dict(torch=torch.__version__, blas=blas_line(), threads=torch.get_num_threads(), params=nparams, loss=loss,
             median_s=statistics.median(times), min_s=min(times), steps=times)
    print(f"torch {r['torch']}, {r['threads']} threads, BLAS: {blas_line()}")
    print(f"params {nparams}  loss {loss:.4f}  step median {r['median_s']:.3f} s  min {r['min_s']:.3f} s  ({a.steps} timed, {a.warmup} warm-up)")
    return r


def gemm_bench(a):
    g = lambda *s: torch.randn(*s)
    cases = [  # name, A, B: (M×K)·(K×N)
        ("x·w    (2048x256)(256x256)", g(2048, 256), g(256, 256)),
        ("x·w    (2048x256)(256x688)", g(2048, 256), g(256, 688)),
        ("x·w    (2048x688)(688x256)", g(2048, 688), g(688, 256)),
        ("g·wT   (2048x688)(688x256)", g(2048, 688), g(256, 688).t()),   # dx of up/gate: w stored (256, 688)
        ("xT·g   (256x2048)(2048x688)", g(2048, 256).t(), g(2048, 688)),  # dw of up/gate
    ]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, BLAS: {blas_line()}")
    r = {}
    for name, A, Bm in cases:
        flops = 2 * A.shape[0] * A.shape[1] * Bm.shape[1]
        out = torch.empty(A.shape[0], Bm.shape[1])
        torch.matmul(A, Bm, out=out)  # warm-up
        best = float("inf")
        for _ in range(a.reps):
            t0 = time.perf_counter()
            torch.matmul(A, Bm, out=out)
            best = min(best, time.perf_counter() - t0)
        r[name] = flops / best / 1e9
        print(f"{name}  {best * 1e3:7.3f} ms  {r[name]:6.1f} GFLOP/s")
    return dict(torch=torch.__version__, blas=blas_line(), threads=torch.get_num_threads(), gflops=r)


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--gemm", action="store_true", help="measure sgemm GFLOP/s instead of a step")
    p.add_argument("--reps", type=int, default=20, help="--gemm repetitions (best is kept)")
    p.add_argument("--json", action="store_true", help="also print one JSON line")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    blas = blas_line()  # warn about the two Debian setups that make a poor yardstick
    if "/blas/libblas" in blas:
        print("warning: reference (netlib) BLAS, ~3 GFLOP/s; apt-get install libopenblas0-openmp")
    if "openblas-pthread" in blas and "GOMP_SPINCOUNT" not in os.environ and "OMP_WAIT_POLICY" not in os.environ:
        print("warning: pthread OpenBLAS + torch's spinning OpenMP threads contend for cores (~2x slower step);"
              " use LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp or GOMP_SPINCOUNT=0")
    res = gemm_bench(a) if a.gemm else step_bench(a)
    if a.json:
        print(json.dumps(res, ensure_ascii=False))
