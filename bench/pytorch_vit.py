"""The ViT-B/32 image tower in plain PyTorch (same structure as OpenAI's clip/model.py), for side-by-side timing.

Usage: OPENBLAS_NUM_THREADS=2 OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 bench/pytorch_vit.py --batch 16 --threads 2 \
           --precision bf16|fp32|autocast|int8
Prints one JSON line like `./clip4j bench`. --export-onnx PATH writes the same fp32 tower (seed 0) as ONNX (opset 14,
batch dimension dynamic) for ONNX Runtime's peer (bench/OrtBench.java) and exits. int8 is what a PyTorch user gets from
torch.ao.quantization.quantize_dynamic(model, {nn.Linear}, qint8) on the fbgemm engine (oneDNN where the build lacks it, as Debian's does): the MLP's Linear layers in int8;
nn.MultiheadAttention's projections stay float32 (in_proj is a bare parameter and out_proj a
NonDynamicallyQuantizableLinear, which quantize_dynamic skips by design).
"""
import argparse, json, math, resource, statistics, time
import torch
from torch import nn


class QuickGELU(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(1.702 * x)


class LayerNorm(nn.LayerNorm):
    def forward(self, x):
        t = x.dtype
        return super().forward(x.float()).type(t)


class Block(nn.Module):
    def __init__(self, d, h):
        super().__init__()
        self.attn = nn.MultiheadAttention(d, h)
        self.ln_1 = LayerNorm(d)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), QuickGELU(), nn.Linear(4 * d, d))
        self.ln_2 = LayerNorm(d)

    def forward(self, x):
        y = self.ln_1(x)
        x = x + self.attn(y, y, y, need_weights=False)[0]
        return x + self.mlp(self.ln_2(x))


class VisionTransformer(nn.Module):
    def __init__(self, res=224, patch=32, width=768, layers=12, heads=12, out=512):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, patch, patch, bias=False)
        s = width ** -0.5
        self.class_embedding = nn.Parameter(s * torch.randn(width))
        self.positional_embedding = nn.Parameter(s * torch.randn((res // patch) ** 2 + 1, width))
        self.ln_pre = LayerNorm(width)
        self.blocks = nn.Sequential(*[Block(width, heads) for _ in range(layers)])
        self.ln_post = LayerNorm(width)
        self.proj = nn.Parameter(s * torch.randn(width, out))

    def forward(self, x):
        x = self.conv1(x.type(self.conv1.weight.dtype))
        x = x.reshape(x.shape[0], x.shape[1], -1).permute(0, 2, 1)
        cls = self.class_embedding.to(x.dtype) + torch.zeros(x.shape[0], 1, x.shape[-1], dtype=x.dtype)
        x = torch.cat([cls, x], dim=1) + self.positional_embedding.to(x.dtype)
        x = self.ln_pre(x).permute(1, 0, 2)
        x = self.blocks(x).permute(1, 0, 2)
        return self.ln_post(x[:, 0, :]) @ self.proj.to(x.dtype)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--precision", default="fp32", choices=["fp32", "bf16", "autocast", "int8"])
    ap.add_argument("--export-onnx")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    m = VisionTransformer().eval()
    if a.export_onnx:
        with torch.no_grad():
            torch.onnx.export(m, torch.randn(1, 3, 224, 224), a.export_onnx, opset_version=14, input_names=["images"],
                              output_names=["features"], dynamic_axes={"images": {0: "batch"}, "features": {0: "batch"}})
        return
    if a.precision == "bf16":  # OpenAI's convert_weights, with bf16: LayerNorm stays float32
        for mod in m.modules():
            if isinstance(mod, (nn.Conv2d, nn.Linear)):
                mod.weight.data = mod.weight.data.bfloat16()
                if mod.bias is not None:
                    mod.bias.data = mod.bias.data.bfloat16()
            if isinstance(mod, nn.MultiheadAttention):
                for n in ["in_proj_weight", "in_proj_bias"]:
                    getattr(mod, n).data = getattr(mod, n).data.bfloat16()
        m.proj.data = m.proj.data.bfloat16()
    if a.precision == "int8":
        # Debian's build has no FBGEMM; oneDNN is its x86 int8 engine
        engines = torch.backends.quantized.supported_engines
        torch.backends.quantized.engine = "fbgemm" if "fbgemm" in engines else "onednn"
        m = torch.ao.quantization.quantize_dynamic(m, {nn.Linear}, dtype=torch.qint8)
    x = torch.randn(a.batch, 3, 224, 224)
    ips = []
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.precision == "autocast"):
        for i in range(a.runs + 2):
            t0 = time.perf_counter()
            m(x)
            dt = time.perf_counter() - t0
            if i >= 2:
                ips.append(a.batch / dt)
    print(json.dumps({"peer": "pytorch " + torch.__version__, "arch": "ViT-B-32",
                      "precision": a.precision + (" (" + torch.backends.quantized.engine + ")" if a.precision == "int8" else ""),
                      "batch": a.batch, "threads": torch.get_num_threads(), "runs": a.runs,
                      "images_per_sec_median": round(statistics.median(ips), 2), "images_per_sec_best": round(max(ips), 2),
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}))


if __name__ == "__main__":
    main()
