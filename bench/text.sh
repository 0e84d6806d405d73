#!/usr/bin/env bash
# The text tower on zero-shot prompts side by side (issue 13): clip4j (bench/TextBench.java: fp32 on ONNX Runtime and
# libtorch, bf16, int8 on ONNX Runtime; the positions after the last end-of-text token left out) against CLIP's text
# tower in PyTorch as OpenAI runs it (bench/pytorch_text.py: all 77 positions; fp32 and bf16 autocast), ViT-B/32's
# text tower with random weights, 80 prompts in one call and one prompt alone, equal threads, alternating rounds
# (ROUNDS, default 3). One JSON line per measurement; bench/RESULTS.md records a run.
# Needs the peers of bench/inference.sh (apt-get install python3-torch libopenblas0-pthread).
set -euo pipefail
cd "$(dirname "$0")/.."
THREADS=${THREADS:-2} ROUNDS=${ROUNDS:-3}
PY=/usr/bin/python3
export OPENBLAS_NUM_THREADS=$THREADS OMP_WAIT_POLICY=PASSIVE MALLOC_ARENA_MAX=1 MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=1073741824
$PY -c "import torch" 2>/dev/null || { echo "peer missing: apt-get install -y python3-torch libopenblas0-pthread" >&2; exit 1; }
dpkg -s libopenblas0-pthread >/dev/null 2>&1 || { echo "peer not honest: apt-get install -y libopenblas0-pthread" >&2; exit 1; }
./clip4j --version >/dev/null   # builds if needed
CP="$(ls clip4j-cli/target/lib/*.jar | tr '\n' :)clip4j-cli/target/clip4j-cli.jar"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
echo "# machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; $(date -u +%F)"
for r in $(seq "$ROUNDS"); do
  for pb in fp32:onnx fp32:torch bf16:torch int8:onnx; do
    echo "{\"round\": $r} $(java --add-modules jdk.incubator.vector -cp "$CP" bench/TextBench.java "$dir" ${pb%:*} ${pb#*:} "$THREADS" 2>/dev/null)"
  done
  for p in fp32 autocast; do echo "{\"round\": $r} $($PY bench/pytorch_text.py --threads "$THREADS" --precision $p)"; done
done
