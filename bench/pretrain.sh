#!/usr/bin/env bash
# Multimodal pretraining at equal wall-clock (issue 11): on emoji (training concepts), tiny towers from scratch for the
# same budget on 2 threads, then retrieval on the held-out concepts (emoji:test), both ways:
#   clip  — ./clip4j train (CLIP's InfoNCE), ranked by ITC
#   itc   — ./clip4j pretrain --tasks ita --alpha 0 --queue-size 0 (ITC alone: in-batch, no momentum), ranked by ITC
#   full  — ./clip4j pretrain --tasks ita,itm,mlm (ALBEF's three), ranked by ITC, and by ITC then ITM over the top 16
# then the step time and peak RSS of each task combination, for the fusion model on emoji and for the single-stream
# model on a synthetic frame-feature file (bench/MakeFrames.java: 2,048 clips of 32 frames of 768),
# a short run each (SKIP_STEPS=1 skips them). One JSON line per result goes to $OUT/results.jsonl.
#   bench/pretrain.sh OUT_DIR      (BUDGET=5m, STEP_BUDGET=60s, PRECISION=fp32 by default; bf16 is autocast)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: bench/pretrain.sh OUT_DIR}
budget=${BUDGET:-5m}; step_budget=${STEP_BUDGET:-60s}; precision=${PRECISION:-fp32}
mkdir -p "$out"
./clip4j --version >/dev/null   # builds if needed
# Run from a private copy of the jars: a rebuild during the benchmark must not swap classes under a running JVM.
jar="$out/.jar"
rm -rf "$jar" && mkdir -p "$jar" && cp -r clip4j-cli/target/clip4j-cli.jar clip4j-cli/target/lib "$jar/"
clip4j() {
  OPENBLAS_NUM_THREADS=1 MALLOC_ARENA_MAX=1 java -jar "$jar/clip4j-cli.jar" "$@"
}
echo "# machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $(grep -o -w -E 'amx_bf16|avx512_bf16|avx512f|avx2' /proc/cpuinfo | sort -u | tr '\n' ' '); $(date -u +%FT%TZ); budget $budget, $precision" | tee -a "$out/results.jsonl"
common=(--data emoji:train --batch-size 128 --lr 1e-3 --threads 2 --seed 0 --checkpoint-every 500 --precision "$precision")
retrieval() { # NAME RUN [extra eval args]
  local name=$1 run=$2; shift 2
  clip4j eval retrieval --model "$run" --data emoji:test --threads 2 --output "$run.$name.json" "$@" >/dev/null
  local steps
  steps=$(python3 -c "import json;print(json.load(open('$run/checkpoint/trainer.json'))['state']['step'])")
  python3 -c "
import json; d=json.load(open('$run.$name.json')); a=d['image_to_text']; b=d['text_to_image']
print(json.dumps({'row': '$name', 'precision': '$precision', 'steps': $steps, 'i2t': [round(100*a[k],1) for k in ('r1','r5','r10')],
                  't2i': [round(100*b[k],1) for k in ('r1','r5','r10')]}))" | tee -a "$out/results.jsonl"
}
rm -rf "$out/clip" "$out/itc" "$out/full"
clip4j train "${common[@]}" --arch tiny-vit --time-budget "$budget" --out "$out/clip" >"$out/clip.log" 2>&1
retrieval clip "$out/clip"
clip4j pretrain "${common[@]}" --tasks ita --alpha 0 --queue-size 0 --time-budget "$budget" --out "$out/itc" >"$out/itc.log" 2>&1
retrieval itc "$out/itc"
clip4j pretrain "${common[@]}" --tasks ita,itm,mlm --time-budget "$budget" --out "$out/full" >"$out/full.log" 2>&1
retrieval full-itc "$out/full"
retrieval full-itc+itm16 "$out/full" --rerank-itm 16
retrieval full-itc+itm16+itc "$out/full" --rerank-itm 16 --rerank-score itm+itc
if [ "${SKIP_STEPS:-0}" = 1 ]; then exit 0; fi
for tasks in ita ita,itm ita,mlm ita,itm,mlm itm,mlm; do
  run="$out/steps-${tasks//,/-}"
  rm -rf "$run"
  clip4j pretrain "${common[@]}" --tasks "$tasks" --time-budget "$step_budget" --out "$run" >"$run.log" 2>&1
  python3 -c "
import json
rows=[json.loads(l) for l in open('$run/metrics.jsonl') if l.strip()]
late=rows[len(rows)//2:]   # after the first half: warm caches, decoded images kept
ms=sorted(1000*(b['elapsed_s']-a['elapsed_s']) for a,b in zip(late,late[1:]))
print(json.dumps({'tasks': '$tasks', 'steps': len(rows), 'median_step_ms': round(ms[len(ms)//2],1),
                  'samples_per_s': round(128000/ms[len(ms)//2],1), 'peak_rss_mb': max(r['rss_mb'] for r in rows)}))" | tee -a "$out/results.jsonl"
done
# the single-stream model on frame features (the seed's video setting: 32 frames of 768), batch 64
frames="$out/frames.safetensors"
[ -f "$frames" ] || java -cp "$jar/clip4j-cli.jar:$(ls "$jar"/lib/*.jar | tr '\n' :)" bench/MakeFrames.java "$frames" 2048 32 768
for tasks in itm mlm mfm itm,mlm,mfm; do
  run="$out/steps-ss-${tasks//,/-}"
  rm -rf "$run"
  clip4j pretrain --model-type single-stream --data "$frames" --batch-size 64 --lr 1e-3 --threads 2 --seed 0 \
    --checkpoint-every 500 --precision "$precision" --tasks "$tasks" --time-budget "$step_budget" --out "$run" >"$run.log" 2>&1
  python3 -c "
import json
rows=[json.loads(l) for l in open('$run/metrics.jsonl') if l.strip()]
late=rows[len(rows)//2:]
ms=sorted(1000*(b['elapsed_s']-a['elapsed_s']) for a,b in zip(late,late[1:]))
print(json.dumps({'model': 'single-stream', 'tasks': '$tasks', 'steps': len(rows), 'median_step_ms': round(ms[len(ms)//2],1),
                  'samples_per_s': round(64000/ms[len(ms)//2],1), 'peak_rss_mb': max(r['rss_mb'] for r in rows)}))" | tee -a "$out/results.jsonl"
done
