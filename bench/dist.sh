#!/usr/bin/env bash
# Data-parallel training on this machine (issue 14): 1 process x 2 threads vs 2 ranks x 1 thread over Gloo on
# 127.0.0.1, at the same global batch, in alternating rounds (ROUNDS, default 3); bench/DistStepBench.java per run, one
# JSON line each (step time, time in collectives, bytes per step). ARCHS: "arch:batch:steps" entries.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
ARCHS=${ARCHS:-"tiny-vit:256:20 ViT-B-32:16:4"}
./clip4j --version >/dev/null
CP=$(ls clip4j-cli/target/lib/*.jar | tr '\n' ':')
export OPENBLAS_NUM_THREADS=1 MALLOC_ARENA_MAX=1 MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=1073741824
echo "# machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; $(date -u +%F)"
one() { java -XX:+UseParallelGC -cp "$CP" bench/DistStepBench.java "$1" "$3" "$2" 2; }
two() {
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  for r in 1 0; do
    RANK=$r WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=$port java -XX:+UseParallelGC -cp "$CP" bench/DistStepBench.java "$1" "$3" "$2" 1 \
      2>/dev/null | grep -v '^\[Gloo\]' &
  done
  wait
}
for spec in $ARCHS; do
  IFS=: read -r arch batch steps <<<"$spec"
  for r in $(seq "$ROUNDS"); do
    if ((r % 2)); then one "$arch" "$batch" "$steps"; two "$arch" "$batch" "$steps"
    else two "$arch" "$batch" "$steps"; one "$arch" "$batch" "$steps"; fi
  done
done
