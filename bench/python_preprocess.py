"""clip._transform(224) with PIL + NumPy (torchvision's Resize/CenterCrop/ToTensor/Normalize, same arithmetic),
timed over the given images, one thread. --decode-only times Image.open + load alone. After one untimed pass, prints
median and best images/s of 10 passes. Usage: python3 bench/python_preprocess.py [--decode-only] IMAGE..."""
import json, sys, time
import numpy as np
from PIL import Image

MEAN = np.array([0.48145466, 0.4578275, 0.40821073], dtype=np.float32).reshape(3, 1, 1)
STD = np.array([0.26862954, 0.26130258, 0.27577711], dtype=np.float32).reshape(3, 1, 1)


def transform(path, n=224):
    img = Image.open(path)
    w, h = img.size
    if w <= h:
        size = (n, int(n * h / w))
    else:
        size = (int(n * w / h), n)
    img = img.resize(size, Image.BICUBIC)
    top, left = int(round((size[1] - n) / 2.0)), int(round((size[0] - n) / 2.0))
    img = img.crop((left, top, left + n, top + n)).convert("RGB")
    x = np.asarray(img, dtype=np.float32).transpose(2, 0, 1) / np.float32(255)
    return (x - MEAN) / STD


def decode(path):
    img = Image.open(path)
    img.load()
    return img


def main():
    decode_only = sys.argv[1:2] == ["--decode-only"]
    paths = sys.argv[2:] if decode_only else sys.argv[1:]
    work = decode if decode_only else transform
    for p in paths:  # one untimed pass, as clip4j's bench warms up
        work(p)
    rates = []
    for rep in range(10):
        t0 = time.perf_counter()
        for p in paths:
            work(p)
        rates.append(len(paths) / (time.perf_counter() - t0))
    rates.sort()
    print(json.dumps({"peer": "PIL " + ("decode" if decode_only else "preprocess"), "images": len(paths),
                      "images_per_sec_median": round((rates[4] + rates[5]) / 2, 1), "images_per_sec_best": round(rates[-1], 1)}))


if __name__ == "__main__":
    main()
