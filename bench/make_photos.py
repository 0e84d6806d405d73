"""A folder of N distinct real photos for the indexing benchmark: random crops (40-100 % of each side) of the photos
given, re-encoded as JPEG (quality 90), so every file has its own bytes and no peer can reuse a vector.
Usage: python3 bench/make_photos.py OUT N PHOTO..."""
import os, random, sys
from PIL import Image


def main():
    out, n, srcs = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    os.makedirs(out, exist_ok=True)
    rng = random.Random(0)
    for i in range(n):
        src = srcs[i % len(srcs)]
        img = Image.open(src).convert("RGB")
        w, h = img.size
        cw, ch = int(w * rng.uniform(0.4, 1.0)), int(h * rng.uniform(0.4, 1.0))
        x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
        img.crop((x, y, x + cw, y + ch)).save(os.path.join(out, "%04d.jpg" % i), quality=90)


if __name__ == "__main__":
    main()
