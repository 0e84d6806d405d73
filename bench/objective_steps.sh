#!/usr/bin/env bash
# Step time of each contrastive objective against infonce (issue 10): bench/TrainStepBench.java per loss, in
# alternating rounds (ROUNDS, default 3), STEPS timed steps each after 3 warm-up steps; one JSON line per run.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}; STEPS=${STEPS:-10}; PRECISION=${PRECISION:-fp32}
./clip4j --version >/dev/null
CP=$(ls clip4j-cli/target/lib/*.jar | tr '\n' ':')
export OPENBLAS_NUM_THREADS=1 MALLOC_ARENA_MAX=1 MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=1073741824
echo "# machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; $(date -u +%F); $PRECISION"
configs=("infonce 0" "multi-positive 0" "siglip 0" "filip 0" "infonce 1")
for r in $(seq "$ROUNDS"); do
  # rotate the order each round so no configuration always runs first
  for ((k = 0; k < ${#configs[@]}; k++)); do
    c=${configs[$(((k + r) % ${#configs[@]}))]}
    java -XX:+UseParallelGC -cp "$CP" bench/TrainStepBench.java "$PRECISION" "$STEPS" 256 $c
  done
done
