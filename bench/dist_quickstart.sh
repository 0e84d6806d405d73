#!/usr/bin/env bash
# The quickstart's training (tiny-vit on Fashion-MNIST, batch 256, lr 2e-3, warmup 50, BUDGET of wall-clock,
# default 10m) on 1 process x 2 threads and on 2 ranks x 1 thread (./clip4j launch), then zero-shot top-1 on the
# test split for each (issue 14). One JSON line per run: steps, samples/s, top-1, top-5.
set -euo pipefail
cd "$(dirname "$0")/.."
BUDGET=${BUDGET:-10m}; ORDER=${ORDER:-"one two"}
work=${WORK:-/tmp/clip4j-dist-quickstart}
mkdir -p "$work"
./clip4j --version >/dev/null
echo "# machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; $(date -u +%F); budget $BUDGET"
args=(train --data fashion-mnist:train --arch tiny-vit --time-budget "$BUDGET" --batch-size 256 --lr 2e-3 --warmup 50
      --seed 0 --checkpoint-every 200)
for mode in $ORDER; do
  rm -rf "$work/$mode"
  if [ "$mode" = one ]; then ./clip4j "${args[@]}" --out "$work/$mode" --threads 2 > "$work/$mode.train.json" 2>/dev/null
  else ./clip4j launch --nproc 2 --threads-per-proc 1 -- "${args[@]}" --out "$work/$mode" > "$work/$mode.train.json" 2>/dev/null; fi
  ./clip4j eval zero-shot --model "$work/$mode" --data fashion-mnist:test --output "$work/$mode.zs.json" >/dev/null 2>&1
  python3 - "$mode" "$work" <<'PY'
import json, sys
mode, work = sys.argv[1], sys.argv[2]
t = json.load(open(f"{work}/{mode}.train.json")); z = json.load(open(f"{work}/{mode}.zs.json"))
last = [json.loads(l) for l in open(f"{work}/{mode}/metrics.jsonl") if '"loss"' in l][-1]
print(json.dumps({"mode": "1 process x 2 threads" if mode == "one" else "2 ranks x 1 thread", "steps": t["steps"],
                  "samples_per_s": round(t["steps"] * 256 / last["elapsed_s"] if "elapsed_s" in last else 0, 1),
                  "top1": z.get("top1"), "top5": z.get("top5"), "last_loss": round(t["loss"], 4)}))
PY
done
