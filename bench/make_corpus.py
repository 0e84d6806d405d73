"""Writes the benchmark corpus: the 274 reference tokenizer strings plus deterministic synthetic captions."""
import json, random, sys

cases = [c["text"] for c in json.load(open(sys.argv[1]))]
random.seed(0)
words = [w for t in cases for w in t.split() if w.isascii() and w.isalpha()]
subjects = ["a photo of", "a painting of", "a close-up of", "a blurry photo of", "an origami", "a sketch of"]
out = list(cases)
while len(out) < 20000:
    out.append(f"{random.choice(subjects)} {' '.join(random.choices(words, k=random.randint(2, 12)))}{random.choice(['', '.', '!', ' #' + str(random.randint(0, 9999))])}")
with open(sys.argv[2], "w", encoding="utf-8") as f:
    for t in out:
        f.write(json.dumps(t) + "\n")
