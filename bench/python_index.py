"""The peer of `clip4j index build`: a PIL + PyTorch loop that walks a folder, decodes and preprocesses every image
(clip._transform(224), bench/python_preprocess.py) in a torch.utils.data.DataLoader's worker processes (--workers,
default 2: the next batches decode while the model runs, as a PyTorch user would write it; 0 decodes in the main
process between forwards), embeds batches with the ViT-B/32 image tower (bench/pytorch_vit.py, random weights),
L2-normalises, and saves the vectors (np.save). No hashing, no index structure, no resumable commits: it does less
than clip4j does.
Usage: python3 bench/python_index.py DIR OUT.npy --threads 2 --batch 32 --workers 2 --precision fp32|autocast"""
import argparse, json, os, sys, time

t_start = time.perf_counter()
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np
import torch
from python_preprocess import transform
from pytorch_vit import VisionTransformer

EXT = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp")


class Photos(torch.utils.data.Dataset):
    def __init__(self, paths):
        self.paths = paths

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        return torch.from_numpy(transform(self.paths[i]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("out")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--precision", default="fp32", choices=["fp32", "autocast"])
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = VisionTransformer().eval()
    paths = sorted(os.path.join(r, f) for r, _, fs in os.walk(a.dir) for f in fs if f.lower().endswith(EXT))
    # each worker decodes one image at a time (DataLoader sets a worker's torch threads to 1); batches are stacked there
    loader = torch.utils.data.DataLoader(Photos(paths), batch_size=a.batch, num_workers=a.workers)
    t_loop = time.perf_counter()
    vectors = []
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.precision == "autocast"):
        for x in loader:
            f = model(x).float()
            vectors.append((f / f.norm(dim=-1, keepdim=True)).numpy())
    np.save(a.out, np.concatenate(vectors))
    end = time.perf_counter()
    print(json.dumps({"peer": "PIL + pytorch " + torch.__version__, "precision": a.precision, "images": len(paths),
                      "threads": a.threads, "batch": a.batch, "workers": a.workers, "seconds_total": round(end - t_start, 2),
                      "images_per_sec_total": round(len(paths) / (end - t_start), 2),
                      "images_per_sec_loop": round(len(paths) / (end - t_loop), 2)}))


if __name__ == "__main__":
    main()
