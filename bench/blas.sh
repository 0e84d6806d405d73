#!/usr/bin/env bash
# libtorch's float32 BLAS, OpenBLAS against oneMKL (dev.clip4j.torch.Blas), side by side in alternating rounds: the GEMM
# ceiling (bench/GemmPeak.java), ViT-B/32's fp32 image tower on libtorch at batch 16 and 1 (`clip4j bench`), a tiny-vit
# fp32 training step (bench/TrainStepBench.java) and a fusion-tiny pretraining step (ITA + ITM + MLM,
# bench/PretrainStepBench.java); with PyTorch's fp32 tower on OpenBLAS and clip4j's fp32 on ONNX Runtime in the same
# rounds for scale. One JSON line per run; the "blas" key says which ran.
# Usage: ROUNDS=3 THREADS=2 bash bench/blas.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
THREADS=${THREADS:-$(nproc)}
RUNS=${RUNS:-6}
PY=/usr/bin/python3
export OPENBLAS_NUM_THREADS=$THREADS MKL_NUM_THREADS=$THREADS MKL_DYNAMIC=FALSE MKL_CBWR=AUTO,STRICT OMP_WAIT_POLICY=PASSIVE \
  MALLOC_ARENA_MAX=1 \
  MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=1073741824
$PY -c "import torch" 2>/dev/null || { echo "peer missing: apt-get install -y python3-torch libopenblas0-pthread" >&2; exit 1; }
dpkg -s libopenblas0-pthread >/dev/null 2>&1 || { echo "peer not honest: apt-get install -y libopenblas0-pthread" >&2; exit 1; }
./clip4j --version >/dev/null   # builds if needed
CP=$(ls clip4j-cli/target/lib/*.jar | tr '\n' ':')
echo "# machine: $(lscpu | sed -n 's/^Model name: *//p'), $(grep -m1 vendor_id /proc/cpuinfo | sed 's/.*: //'), $(nproc) cores; flags: $(grep -o -w -E 'avx2|fma|avx512f|avx512_bf16|amx_bf16' /proc/cpuinfo | sort -u | tr '\n' ' '); $(date -u +%F)"
for r in $(seq "$ROUNDS"); do
  for blas in openblas mkl; do
    export CLIP4J_BLAS=$blas
    java -cp "$CP" bench/GemmPeak.java 2>/dev/null | grep f32 | sed "s/^/{\"round\": $r, \"blas\": \"$blas\"} /"
    for batch in 16 1; do
      echo "{\"round\": $r} $(./clip4j bench --arch ViT-B-32 --batch $batch --runs "$RUNS" --threads "$THREADS" --precision fp32 --backend torch 2>/dev/null)"
    done
    echo "{\"round\": $r, \"blas\": \"$blas\"} $(java -cp "$CP" bench/TrainStepBench.java fp32 10 256 2>/dev/null | tail -1)"
    echo "{\"round\": $r, \"blas\": \"$blas\"} $(java -cp "$CP" bench/PretrainStepBench.java ita,itm,mlm 10 128 0.4 4096 fp32 2>/dev/null | tail -1)"
  done
  unset CLIP4J_BLAS
  echo "{\"round\": $r} $(./clip4j bench --arch ViT-B-32 --batch 16 --runs "$RUNS" --threads "$THREADS" --precision fp32 --backend onnx 2>/dev/null)"
  echo "{\"round\": $r} $($PY bench/pytorch_vit.py --batch 16 --runs "$RUNS" --threads "$THREADS" --precision fp32)"
done
