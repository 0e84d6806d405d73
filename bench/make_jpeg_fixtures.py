#!/usr/bin/python3
"""JPEG reference fixtures for the native decoder's parity test (issue 13): small JPEGs encoded by PIL from the
shared reference photos, and PIL's own decoding of each (Image.open(f), pixels untouched: no convert, no EXIF
rotation, as clip._transform sees them) stored losslessly as PNG. Run with Debian 12's python3-pil (9.4.0, the
fixtures' PIL):  /usr/bin/python3 bench/make_jpeg_fixtures.py ../shared/fixtures/preprocess OUT_DIR"""
import json, os, sys
from PIL import Image
import PIL

src, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)

def photo(name, size):
    im = Image.open(os.path.join(src, name)).convert("RGB")
    return im.resize(size, Image.BICUBIC)

exif = Image.Exif()
exif[0x0112] = 6  # orientation: rotate 90 on display; PIL's open does not apply it, nor does CLIP
cases = [
    # name, image, save options
    ("astronaut_q90_420", photo("astronaut.png", (192, 192)), dict(quality=90)),
    ("chelsea_q75_444", photo("chelsea.png", (181, 120)), dict(quality=75, subsampling=0)),
    ("coffee_q85_422", photo("coffee.png", (150, 101)), dict(quality=85, subsampling=1)),
    ("rocket_progressive", photo("rocket.png", (213, 143)), dict(quality=80, progressive=True)),
    ("camera_gray", Image.open(os.path.join(src, "camera_gray.png")).convert("L").resize((129, 97), Image.BICUBIC), dict(quality=88)),
    ("astronaut_odd_q60", photo("astronaut.png", (67, 45)), dict(quality=60)),
    ("chelsea_exif_rotated", photo("chelsea.png", (120, 80)), dict(quality=90, exif=exif.tobytes())),
]
index = []
for name, im, opts in cases:
    path = os.path.join(out, name + ".jpg")
    im.save(path, "JPEG", **opts)
    decoded = Image.open(path)
    decoded.load()
    decoded.save(os.path.join(out, name + ".pil.png"))
    index.append({"name": name, "jpeg": name + ".jpg", "pil_decoded": name + ".pil.png", "pil_mode": decoded.mode,
                  "size_wh": list(decoded.size), "save_options": {k: v for k, v in opts.items() if k != "exif"}})
json.dump({"pil_version": PIL.__version__, "images": index}, open(os.path.join(out, "index.json"), "w"), indent=1)
print(PIL.__version__, len(index), "images")
