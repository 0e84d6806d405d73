#!/usr/bin/env bash
# Decoding and preprocessing, one thread, side by side (issue 13): PIL (+ NumPy for clip._transform(224)) against
# clip4j with ImageIO's decoders and with OpenCV's (libjpeg-turbo, libpng), in alternating rounds (ROUNDS, default 3),
# on N real JPEG photos (random crops of the reference photos re-encoded by PIL, quality 90; N=200 by default) and on
# the reference PNGs. One JSON line per measurement; bench/RESULTS.md records a run.
# Needs: apt-get install python3-pil python3-numpy (the peer).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=/usr/bin/python3
ROUNDS=${ROUNDS:-3}
N=${N:-200}
$PY -c "import PIL, numpy" 2>/dev/null || { echo "peer missing: apt-get install -y python3-pil python3-numpy" >&2; exit 1; }
./clip4j --version >/dev/null   # builds if needed
CP=$(ls clip4j-cli/target/lib/*.jar | tr '\n' ':')
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
$PY bench/make_photos.py "$dir/jpeg" "$N" testdata/reference/preprocess/{astronaut,coffee,chelsea,rocket}.png
echo "# machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; $(date -u +%F); $N JPEGs, $ROUNDS rounds"
java_bench() { taskset -c 0 java -XX:+UseParallelGC -Dclip4j.imageDecoder="$1" -cp "$CP" bench/PreprocessBench.java "${@:2}"; }
for r in $(seq "$ROUNDS"); do
  for kind in jpeg png; do
    if [ $kind = jpeg ]; then imgs=("$dir"/jpeg/*.jpg); else imgs=(testdata/reference/preprocess/*.png); fi
    for mode in --decode-only ""; do
      echo "{\"round\": $r, \"files\": \"$kind\"} $(taskset -c 0 $PY bench/python_preprocess.py $mode "${imgs[@]}")"
      echo "{\"round\": $r, \"files\": \"$kind\"} $(java_bench imageio $mode "${imgs[@]}")"
      echo "{\"round\": $r, \"files\": \"$kind\"} $(java_bench auto $mode "${imgs[@]}")"
    done
  done
done
