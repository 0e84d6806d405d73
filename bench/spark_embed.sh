#!/usr/bin/env bash
# spark-embed on local[2] vs ./clip4j embed --images on the same folder (issue 14): COUNT (default 300) emoji PNGs
# from npm's emoji-datasource-google@16.0.0 (64 px art, real files), ViT-B/32 with random weights (bench/RandomModel.java),
# fp32, batch 32, in alternating rounds (ROUNDS, default 3). Whole commands are timed (JVM and Spark start-up
# included); spark-embed also reports its own start-up. One JSON line per run.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}; COUNT=${COUNT:-300}
work=${WORK:-/tmp/clip4j-spark-bench}
mkdir -p "$work"
./clip4j --version >/dev/null
CP=$(ls clip4j-cli/target/lib/*.jar | tr '\n' ':')
export OPENBLAS_NUM_THREADS=1
[ -f "$work/vit-b-32/model.safetensors" ] || java -cp "$CP" bench/RandomModel.java ViT-B-32 "$work/vit-b-32"
if [ ! -d "$work/images" ]; then
  (cd "$work" && npm pack --silent emoji-datasource-google@16.0.0 >/dev/null && tar -xzf emoji-datasource-google-16.0.0.tgz)
  mkdir -p "$work/images"
  find "$work/package/img/google/64/" -name "*.png" | sort | sed -n "1,${COUNT}p" | xargs -I{} cp {} "$work/images/"
fi
n=$(ls "$work/images" | wc -l)
echo "# machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; $(date -u +%F); $n images"
run_embed() {
  local t0 t1; t0=$(date +%s.%N)
  ./clip4j embed --model "$work/vit-b-32" --images "$work/images" --output "$work/out.jsonl" --batch-size 32 2>/dev/null
  t1=$(date +%s.%N)
  python3 -c "print('{\"what\": \"embed --images\", \"images\": $n, \"seconds\": %.2f, \"images_per_s\": %.2f}' % ($t1-$t0, $n/($t1-$t0)))"
}
run_spark() {
  local t0 t1 line; rm -rf "$work/out.parquet"; t0=$(date +%s.%N)
  line=$(./clip4j spark-embed --model "$work/vit-b-32" --input "$work/images" --output "$work/out.parquet" --master 'local[2]' --batch-size 32 2>/dev/null)
  t1=$(date +%s.%N)
  python3 -c "import json; d=json.loads('$line'); print(json.dumps({'what': 'spark-embed local[2]', 'images': $n, 'seconds': round($t1-$t0, 2), 'images_per_s': round($n/($t1-$t0), 2), 'spark_startup_s': d['startup_seconds'], 'job_s': d['seconds']}))"
}
for r in $(seq "$ROUNDS"); do
  if ((r % 2)); then run_embed; run_spark; else run_spark; run_embed; fi
done
