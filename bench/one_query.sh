#!/usr/bin/env bash
# What one query costs from the command line (issue 13): whole processes of `embed --text`, `embed --image`,
# `search --text`, `search --image` and `classify` on a random ViT-B/32 (bench/RandomModel.java) and an index of
# PHOTOS real photos built once (int8, as a collection's index would be), timed with the model load, the weights'
# fingerprint and the JVM's start included, in alternating rounds (ROUNDS, default 3). Each line has the wall,
# user and system seconds and the peak RSS (GNU time). Text-only and image-only work reads one tower
# (dev.clip4j.model.Towers), so these are the figures that change with it. One JSON line per run.
# Needs GNU time (apt-get install time), python3-pil and mate-backgrounds (the photos of bench/index_throughput.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3} PHOTOS=${PHOTOS:-64} THREADS=${THREADS:-2}
DIR=${DIR:-$(mktemp -d)}
PY=/usr/bin/python3
./clip4j --version >/dev/null   # builds if needed
CP="$(ls clip4j-cli/target/lib/*.jar | tr '\n' :)clip4j-cli/target/clip4j-cli.jar"
echo "# machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; $(date -u +%F); $PHOTOS photos, $THREADS threads"
photos=$(ls /usr/share/backgrounds/mate/nature/*.jpg testdata/reference/preprocess/*.png)
[ -d "$DIR/photos" ] || $PY bench/make_photos.py "$DIR/photos" "$PHOTOS" $photos
[ -d "$DIR/model" ] || java -cp "$CP" bench/RandomModel.java ViT-B-32 "$DIR/model"
[ -d "$DIR/index" ] || ./clip4j index build --model "$DIR/model" --images "$DIR/photos" --out "$DIR/index" --precision int8 \
  --threads "$THREADS" > /dev/null 2>&1
query=$(ls "$DIR/photos"/* | head -1)
run() { # name, then the command's arguments
  local name=$1
  shift
  /usr/bin/time -o "$DIR/time" -f '%e %U %S %M' ./clip4j "$@" --threads "$THREADS" > /dev/null 2>&1
  read -r wall user sys rss < "$DIR/time"
  echo "{\"command\": \"$name\", \"round\": $round, \"wall_s\": $wall, \"user_s\": $user, \"sys_s\": $sys, \"peak_rss_mb\": $((rss / 1024))}"
}
for round in 0 $(seq "$ROUNDS"); do  # round 0 makes each command's class-sharing archive; its lines are dropped
  {
    run "embed --text (fp32)" embed --model "$DIR/model" --text "a photo of a mountain lake" --precision fp32
    run "embed --image (fp32)" embed --model "$DIR/model" --image "$query" --precision fp32
    run "search --text (int8 index)" search --index "$DIR/index" --text "a mountain lake" --k 5
    run "search --image (int8 index)" search --index "$DIR/index" --image "$query" --k 5
    run "classify (fp32, 3 labels)" classify --model "$DIR/model" --labels "a lake,a mountain,a forest" --precision fp32 "$query"
  } | if [ "$round" = 0 ]; then cat > /dev/null; else cat; fi
done
