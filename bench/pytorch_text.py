"""CLIP's text tower (ViT-B/32's: width 512, 12 layers, 8 heads) in plain PyTorch as OpenAI's clip/model.py runs it:
all 77 positions under the causal mask, pooled at the end-of-text token. The peer of bench/TextBench.java: 80 prompts
of 10 tokens (start, 8 ids, end; the ids do not change the time) in one call and one prompt alone, best of 5 rounds.

Usage: OPENBLAS_NUM_THREADS=2 OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 bench/pytorch_text.py --threads 2 --precision fp32|autocast
"""
import argparse, json, time
import torch

from pytorch_train import TextTransformer  # runs every position of the rows it is given: all 77 here, as OpenAI's


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--precision", default="fp32", choices=["fp32", "autocast"])
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = TextTransformer(width=512, layers=12, heads=8, out=512).eval()
    tokens = torch.zeros(80, 77, dtype=torch.long)
    tokens[:, 0] = 49406
    tokens[:, 1:9] = torch.randint(1, 49405, (80, 8))
    tokens[:, 9] = 49407

    def run(t):
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.precision == "autocast"):
            x = model(t)
            return x / x.norm(dim=-1, keepdim=True)

    run(tokens[:8])
    many = one = float("inf")
    for _ in range(5):
        s = time.perf_counter()
        run(tokens)
        many = min(many, (time.perf_counter() - s) * 1000)
        for i in range(5):
            s = time.perf_counter()
            run(tokens[i:i + 1])
            one = min(one, (time.perf_counter() - s) * 1000)
    print(json.dumps({"peer": "pytorch " + torch.__version__, "precision": a.precision, "threads": a.threads,
                      "prompts_80_ms": round(many, 1), "prompt_1_ms": round(one, 1)}))


if __name__ == "__main__":
    main()
