#!/usr/bin/env bash
# The ViT-B/32 image tower (random weights, 224 px) side by side (issue 13): clip4j fp32 (libtorch and its own graph on
# ONNX Runtime, --backend onnx), bf16, and int8 (libtorch's FBGEMM and ONNX Runtime's DynamicQuantizeMatMul), Debian's PyTorch
# (fp32 on OpenBLAS, bf16 weights, bf16 autocast, quantize_dynamic int8) and ONNX Runtime's Java API (fp32, the same tower exported from
# PyTorch), at batch 1 and 16, equal threads, in alternating rounds (ROUNDS, default 3); then the GEMM ceiling through
# the same libtorch and the CPU's float32 FMA peak, measured (bench/FmaPeak.java: a VM hides the clock). Every peer
# runs under ./clip4j's thread policy (OPENBLAS_NUM_THREADS = THREADS, OMP_WAIT_POLICY passive). One JSON line per
# measurement; bench/RESULTS.md records a run.
# Needs: apt-get install python3-torch libopenblas0-pthread (the PyTorch peer; without OpenBLAS, Debian's PyTorch
# links the reference BLAS and is no honest peer). ONNX Runtime comes from Maven Central.
set -euo pipefail
cd "$(dirname "$0")/.."
THREADS=${THREADS:-2}
RUNS=${RUNS:-6}
ROUNDS=${ROUNDS:-3}
PY=/usr/bin/python3
export OPENBLAS_NUM_THREADS=$THREADS OMP_WAIT_POLICY=PASSIVE MALLOC_ARENA_MAX=1 MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=1073741824
$PY -c "import torch" 2>/dev/null || { echo "peer missing: apt-get install -y python3-torch libopenblas0-pthread" >&2; exit 1; }
dpkg -s libopenblas0-pthread >/dev/null 2>&1 || { echo "peer not honest: apt-get install -y libopenblas0-pthread" >&2; exit 1; }
./clip4j --version >/dev/null   # builds if needed
ort=com/microsoft/onnxruntime/onnxruntime/1.22.0/onnxruntime-1.22.0.jar
[ -f ~/.m2/repository/$ort ] || mvn -q -B dependency:get -Dartifact=com.microsoft.onnxruntime:onnxruntime:1.22.0 -Dtransitive=false
CP=$(ls clip4j-cli/target/lib/*.jar | tr '\n' ':')
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
$PY bench/pytorch_vit.py --export-onnx "$dir/vit-b-32.onnx" 2>/dev/null
echo "# machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; flags: $(grep -o -w -E 'avx2|fma|avx512f|avx512_bf16|avx512_vnni|amx_bf16|amx_int8' /proc/cpuinfo | sort -u | tr '\n' ' '); $(date -u +%F)"
echo "# pytorch $($PY -c 'import torch; print(torch.__version__)' 2>/dev/null), libblas.so.3 -> $(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3)"
for r in $(seq "$ROUNDS"); do
  for batch in 1 16; do
    for pb in fp32:torch fp32:onnx bf16:torch int8:torch int8:onnx; do
      echo "{\"round\": $r} $(./clip4j bench --arch ViT-B-32 --batch $batch --runs "$RUNS" --threads "$THREADS" --precision ${pb%:*} --backend ${pb#*:} 2>/dev/null)"
    done
    for p in fp32 bf16 autocast int8; do echo "{\"round\": $r} $($PY bench/pytorch_vit.py --batch $batch --runs "$RUNS" --threads "$THREADS" --precision $p)"; done
    echo "{\"round\": $r} $(java -cp "$HOME/.m2/repository/$ort" bench/OrtBench.java "$dir/vit-b-32.onnx" $batch "$RUNS" "$THREADS")"
  done
done
java -cp "$CP" bench/GemmPeak.java
java --add-modules jdk.incubator.vector bench/FmaPeak.java "$THREADS" 2>/dev/null
