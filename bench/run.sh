#!/usr/bin/env bash
# Side-by-side benchmarks: clip4j against PyTorch (Debian python3-torch), the Python tokenizer algorithm and PIL,
# with equal thread counts. Prints one JSON line per measurement; bench/RESULTS.md records a run.
# Needs: apt-get install python3-torch python3-pil python3-regex python3-numpy libopenblas0-pthread (the peers).
set -euo pipefail
cd "$(dirname "$0")/.."
THREADS=${THREADS:-2}
RUNS=${RUNS:-10}
PY=/usr/bin/python3
# Every peer gets ./clip4j's thread policy (docs/BINDINGS.md, pitfall 5): as many OpenBLAS threads as libtorch's,
# OpenMP's idle threads sleeping. Debian's PyTorch runs its float32 GEMMs on the same kind of OpenBLAS pool, so
# OPENBLAS_NUM_THREADS=1 would hold both to one core for their GEMMs.
export OPENBLAS_NUM_THREADS=$THREADS OMP_WAIT_POLICY=PASSIVE
if ! $PY -c "import torch, PIL, regex, numpy" 2>/dev/null; then
  echo "peers missing: apt-get install -y python3-torch python3-pil python3-regex python3-numpy" >&2
  exit 1
fi
# Without libopenblas0-pthread Debian's PyTorch links the reference BLAS and its fp32 is ~30x too slow: not an honest peer.
if ! dpkg -s libopenblas0-pthread >/dev/null 2>&1; then
  echo "peer not honest: apt-get install -y libopenblas0-pthread (else PyTorch fp32 uses the reference BLAS)" >&2
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

echo "## decoding and preprocessing (decode + clip._transform(224), one thread; small and camera-size JPEG photos, the reference PNGs)"
ROUNDS=1 N=100 LARGE=20 bench/decode.sh

MALLOC="MALLOC_ARENA_MAX=1 MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=1073741824"  # as ./clip4j sets
echo "## ViT-B/32 image tower: clip4j, PyTorch and ONNX Runtime, batch 1 and 16; the GEMM ceiling and the FMA peak"
ROUNDS=1 RUNS="$RUNS" THREADS="$THREADS" bench/inference.sh

echo "## ViT-B/32 text tower on zero-shot prompts: clip4j against CLIP's text tower in PyTorch (all 77 positions)"
ROUNDS=1 THREADS="$THREADS" bench/text.sh

echo "## libtorch's float32 BLAS: OpenBLAS against oneMKL (GEMM, fp32 tower on libtorch, fp32 training step)"
ROUNDS=1 THREADS="$THREADS" bench/blas.sh

echo "## training step (tiny-vit recipe, batch 256, synthetic batches)"
# clip4j runs with the allocator settings of ./clip4j; PyTorch runs with its defaults, with the same allocator
# settings, and with the multi-tensor AdamW, so the ratio is taken against its fastest configuration. Rounds
# alternate the peers so that the shared VM's slow phases hit both.
for round in $(seq "${TRAIN_ROUNDS:-3}"); do
  env $MALLOC java -XX:+UseParallelGC -cp "$CP" bench/TrainStepBench.java bf16 20
  $PY bench/pytorch_train.py --precision autocast
  env $MALLOC $PY bench/pytorch_train.py --precision autocast
  env $MALLOC $PY bench/pytorch_train.py --precision autocast --foreach
  # not the target's peer: PyTorch running clip4j's graph, to show what a hand-rewritten model gets
  env $MALLOC $PY bench/pytorch_train.py --precision autocast --clip4j-graph
done
env $MALLOC java -XX:+UseParallelGC -cp "$CP" bench/TrainStepBench.java fp32 20
env $MALLOC $PY bench/pytorch_train.py --precision fp32 --steps 5
