#!/usr/bin/env bash
# Side-by-side benchmarks: clip4j against PyTorch (Debian python3-torch), the Python tokenizer algorithm and PIL,
# with equal thread counts. Prints one JSON line per measurement; bench/RESULTS.md records a run.
# Needs: apt-get install python3-torch python3-pil python3-regex python3-numpy (the peers).
set -euo pipefail
cd "$(dirname "$0")/.."
THREADS=${THREADS:-2}
RUNS=${RUNS:-10}
PY=/usr/bin/python3
export OPENBLAS_NUM_THREADS=1
if ! $PY -c "import torch, PIL, regex, numpy" 2>/dev/null; then
  echo "peers missing: apt-get install -y python3-torch python3-pil python3-regex python3-numpy" >&2
  exit 1
fi
./clip4j --version >/dev/null   # builds if needed
CP=$(ls clip4j-cli/target/lib/*.jar | tr '\n' ':')
echo "# machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; $(date -u +%F)"

echo "## tokenizer"
corpus=$(mktemp --suffix=.jsonl)
$PY bench/make_corpus.py testdata/reference/tokenizer/cases.json "$corpus"
$PY bench/python_tokenizer.py clip4j-core/src/main/resources/dev/clip4j/tokenizer/bpe_simple_vocab_16e6.txt.gz "$corpus"
java -XX:+UseParallelGC -cp "$CP" bench/TokenizerBench.java "$corpus"
rm -f "$corpus"

echo "## preprocessing (decode + clip._transform(224), one thread)"
imgs=$(ls testdata/reference/preprocess/*.png)
$PY bench/python_preprocess.py $imgs
java -XX:+UseParallelGC -cp "$CP" bench/PreprocessBench.java $imgs

echo "## ViT-B/32 image tower"
for batch in 1 16; do
  for p in fp32 bf16; do ./clip4j bench --arch ViT-B-32 --batch $batch --runs "$RUNS" --threads "$THREADS" --precision $p; done
  for p in bf16 autocast; do $PY bench/pytorch_vit.py --batch $batch --runs "$RUNS" --threads "$THREADS" --precision $p; done
  # Debian's fp32 PyTorch is very slow here (reference BLAS): fewer runs.
  $PY bench/pytorch_vit.py --batch $batch --runs 3 --threads "$THREADS" --precision fp32
done
