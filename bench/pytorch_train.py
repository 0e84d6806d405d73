"""One CLIP training step (symmetric InfoNCE, AdamW, global-norm clipping, logit-scale clamp) on synthetic batches,
for a tiny-vit-sized CLIP written like OpenAI's clip/model.py, timed like bench/TrainStepBench.java.
Usage: OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/pytorch_train.py --precision fp32|autocast [--steps 20] [--foreach]
       [--clip4j-graph]

--clip4j-graph runs the same parameters through the graph clip4j builds (same function, fewer operations): the
last block of each tower only for the pooled token, QuickGELU as silu with its constants folded into the weights,
q's 1/sqrt(d) folded into in_proj. (Torch 1.13 has no fused attention, so attention stays matmul-softmax-matmul.)
It shows how much of clip4j's lead a PyTorch user could get by rewriting the model by hand."""
import argparse, json, math, resource, statistics, time
import torch
import torch.nn.functional as F
from torch import nn
from pytorch_vit import Block, LayerNorm, VisionTransformer


class TextTransformer(nn.Module):
    def __init__(self, vocab=49408, ctx=77, width=128, layers=2, heads=2, out=128):
        super().__init__()
        self.token_embedding = nn.Embedding(vocab, width)
        self.positional_embedding = nn.Parameter(torch.randn(ctx, width) * 0.01)
        self.blocks = nn.ModuleList([Block(width, heads) for _ in range(layers)])
        self.ln_final = LayerNorm(width)
        self.text_projection = nn.Parameter(torch.randn(width, out) * width ** -0.5)

    def forward(self, text):
        L = text.shape[1]
        x = self.token_embedding(text) + self.positional_embedding[:L]
        mask = torch.full((L, L), float("-inf")).triu_(1)
        x = x.permute(1, 0, 2)
        for b in self.blocks:
            y = b.ln_1(x)
            x = x + b.attn(y, y, y, need_weights=False, attn_mask=mask)[0]
            x = x + b.mlp(b.ln_2(x))
        x = self.ln_final(x.permute(1, 0, 2))
        return x[torch.arange(x.shape[0]), text.argmax(dim=-1)] @ self.text_projection


def block_at(b, x, mask, rows):
    """clip4j's graph for one pre-LN block, batch-first x [B, L, W]: every position (rows None) or x[i, rows[i]]."""
    B, L, W = x.shape
    H = b.attn.num_heads
    d = W // H
    s = torch.cat([torch.full((W,), d ** -0.5), torch.ones(2 * W)])
    qkv = F.linear(b.ln_1(x), b.attn.in_proj_weight * s[:, None], b.attn.in_proj_bias * s)
    if rows is None:
        t = qkv.reshape(B, L, 3, H, d).permute(2, 0, 3, 1, 4)
        q, k, v, m = t[0], t[1], t[2], mask
    else:
        ar = torch.arange(B)
        q = qkv[ar, rows, :W].reshape(B, H, 1, d)
        t = qkv[:, :, W:].reshape(B, L, 2, H, d).permute(2, 0, 3, 1, 4)
        k, v = t[0], t[1]
        m = None if mask is None else mask[rows].reshape(B, 1, 1, L)
        x = x[ar, rows]
    scores = q @ k.transpose(-2, -1)
    if m is not None:
        scores = scores + m
    o = scores.softmax(-1) @ v
    o = o.transpose(1, 2).reshape(B, L, W) if rows is None else o.reshape(B, W)
    x = x + b.attn.out_proj(o)
    fc, proj = b.mlp[0], b.mlp[2]
    h = F.silu(F.linear(b.ln_2(x), fc.weight * 1.702, fc.bias * 1.702))
    return x + F.linear(h, proj.weight / 1.702, proj.bias)


def visual_clip4j_graph(v, x):
    x = v.conv1(x)
    B, W = x.shape[0], x.shape[1]
    x = x.reshape(B, W, -1).permute(0, 2, 1)
    x = torch.cat([v.class_embedding.to(x.dtype) + torch.zeros(B, 1, W, dtype=x.dtype), x], 1)
    x = v.ln_pre(x + v.positional_embedding.to(x.dtype))
    for i, b in enumerate(v.blocks):
        x = block_at(b, x, None, None if i < len(v.blocks) - 1 else torch.zeros(B, dtype=torch.long))
    return v.ln_post(x) @ v.proj


def text_clip4j_graph(t, text):
    L = text.shape[1]
    x = t.token_embedding(text) + t.positional_embedding[:L]
    mask = torch.full((L, L), float("-inf")).triu_(1)
    for i, b in enumerate(t.blocks):
        x = block_at(b, x, mask, None if i < len(t.blocks) - 1 else text.argmax(dim=-1))
    return t.ln_final(x) @ t.text_projection


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--precision", default="fp32", choices=["fp32", "autocast"])
    ap.add_argument("--foreach", action="store_true", help="multi-tensor AdamW (torch.optim's foreach=True)")
    ap.add_argument("--clip4j-graph", action="store_true", help="the graph clip4j builds (see the module doc)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    visual = VisionTransformer(res=32, patch=8, width=128, layers=4, heads=2, out=128)
    text = TextTransformer()
    logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))
    params = list(visual.parameters()) + list(text.parameters()) + [logit_scale]
    decay = [p for p in params if p.dim() >= 2 and p is not text.token_embedding.weight and p is not text.positional_embedding
             and p is not visual.positional_embedding]
    ids = {id(p) for p in decay}
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.2},
                             {"params": [p for p in params if id(p) not in ids], "weight_decay": 0.0}],
                            lr=1e-3, betas=(0.9, 0.98), eps=1e-6, foreach=a.foreach)
    images = torch.randn(a.batch, 3, 32, 32)
    tokens = torch.randint(1, 49000, (a.batch, 14))
    tokens[:, 0] = 49406
    tokens[:, -1] = 49407
    labels = torch.arange(a.batch)
    rates = []
    for step in range(a.steps + 3):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.precision == "autocast"):
            if a.clip4j_graph:
                fi = F.normalize(visual_clip4j_graph(visual, images).float(), dim=-1)
                ft = F.normalize(text_clip4j_graph(text, tokens).float(), dim=-1)
            else:
                fi = F.normalize(visual(images).float(), dim=-1)
                ft = F.normalize(text(tokens).float(), dim=-1)
            logits = logit_scale.exp() * fi @ ft.t()
            loss = (F.cross_entropy(logits, labels) + F.cross_entropy(logits.t(), labels)) / 2
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        with torch.no_grad():
            logit_scale.clamp_(0, math.log(100))
        if step >= 3:
            rates.append(a.batch / (time.perf_counter() - t0))
    print(json.dumps({"peer": "pytorch " + torch.__version__, "what": "train step tiny-vit", "precision": a.precision, "foreach": a.foreach, "clip4j_graph": a.clip4j_graph,
                      "batch": a.batch, "threads": torch.get_num_threads(), "steps": a.steps,
                      "samples_per_sec_median": round(statistics.median(rates), 1), "samples_per_sec_best": round(max(rates), 1),
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}))


if __name__ == "__main__":
    main()
