#!/usr/bin/env bash
# The contrastive objectives at equal wall-clock (issue 10): each spec trains tiny-vit from scratch for the same time
# budget on 2 threads, then evaluates; one JSON line per run goes to $OUT/results.jsonl (bench/RESULTS.md records
# a run). Specs are DATASET:LOSS:SIMCLR_WEIGHT:PRECISION, e.g. fashion:infonce:0:fp32 or emoji:filip:1:bf16.
#   bench/objectives.sh OUT_DIR SPEC...          (BUDGET=10m by default; STEPS_ONLY=1 runs only the step-time bench)
# Recipes: Fashion-MNIST as the quickstart (batch 256, lr 2e-3, warmup 50); emoji as in RESULTS.md (batch 128,
# lr 1e-3). SimCLR's head is sized for tiny-vit (--simclr-hidden 512).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: bench/objectives.sh OUT_DIR SPEC...}; shift
budget=${BUDGET:-10m}
mkdir -p "$out"
./clip4j --version >/dev/null   # builds if needed
# Run from a private copy of the jar: a rebuild during the hours this takes must not swap classes under a running JVM.
jar="$out/.jar"
rm -rf "$jar" && mkdir -p "$jar" && cp -r clip4j-cli/target/clip4j-cli.jar clip4j-cli/target/lib "$jar/"
clip4j() {
  OPENBLAS_NUM_THREADS=1 MALLOC_ARENA_MAX=1 MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=1073741824 \
    java -jar "$jar/clip4j-cli.jar" "$@"
}
echo "# machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; $(date -u +%FT%TZ); budget $budget" | tee -a "$out/results.jsonl"
for spec in "$@"; do
  IFS=: read -r data loss simclr precision <<<"$spec"
  run="$out/$data-$loss-simclr$simclr-$precision"
  case $data in
    fashion) args=(--data fashion-mnist:train --batch-size 256 --lr 2e-3 --warmup 50) ;;
    emoji) args=(--data emoji:train --batch-size 128 --lr 1e-3) ;;
    *) echo "unknown dataset $data" >&2; exit 2 ;;
  esac
  # a run that already finished (an interrupted matrix, started again) is only evaluated
  if ! python3 -c "import json,sys;s=json.load(open('$run/checkpoint/trainer.json'))['state'];sys.exit(s['step']!=s['totalSteps'])" 2>/dev/null; then
    rm -rf "$run"
    clip4j train "${args[@]}" --arch tiny-vit --time-budget "$budget" --checkpoint-every 200 --threads 2 --seed 0 \
      --loss "$loss" --simclr-weight "$simclr" --simclr-hidden 512 --precision "$precision" --out "$run" >"$run.train.log" 2>&1
  fi
  steps=$(python3 -c "import json;print(json.load(open('$run/checkpoint/trainer.json'))['state']['step'])")
  if [ "$data" = fashion ]; then
    clip4j eval zero-shot --model "$run" --data fashion-mnist:test --output "$run.zs.json" --threads 2 >/dev/null
    zs=$(python3 -c "import json;d=json.load(open('$run.zs.json'));print('\"top1\": %.4f, \"top5\": %.4f' % (d['top1'], d['top5']))")
    echo "{\"spec\": \"$spec\", \"steps\": $steps, $zs}" | tee -a "$out/results.jsonl"
  else
    clip4j eval zero-shot --model "$run" --data emoji:test --output "$run.zs.json" --threads 2 >/dev/null
    clip4j eval retrieval --model "$run" --data emoji:test --output "$run.rr.json" --threads 2 >/dev/null
    m=$(python3 -c "
import json
z=json.load(open('$run.zs.json')); r=json.load(open('$run.rr.json'))
i,t=r['image_to_text'],r['text_to_image']
print('\"top1\": %.4f, \"top5\": %.4f, \"i2t\": [%.4f, %.4f, %.4f], \"t2i\": [%.4f, %.4f, %.4f]' % (z['top1'], z['top5'], i['r1'], i['r5'], i['r10'], t['r1'], t['r5'], t['r10']))")
    echo "{\"spec\": \"$spec\", \"steps\": $steps, $m}" | tee -a "$out/results.jsonl"
  fi
done
