#!/usr/bin/env bash
# Decoding and preprocessing, one thread, side by side (issue 13): PIL (+ NumPy for clip._transform(224)) against
# clip4j with ImageIO's decoders and with OpenCV's (libjpeg-turbo, libpng), in alternating rounds (ROUNDS, default 3),
# on N real JPEG photos (random crops of the reference photos re-encoded by PIL, quality 90; N=200 by default), on
# the reference PNGs, and on LARGE photos of camera sizes (random crops, 40-100 % a side, of Debian's mate-backgrounds
# nature photos, 1.3-4.9 MP, and its Elephants in three sizes up to 5640 x 3172, re-encoded the same way: 0.2-17 MP;
# LARGE=40 by default, skipped when mate-backgrounds is not installed). KINDS picks the sets (default "jpeg png large").
# clip4j's JVMs run as the launcher runs them, with jdk.incubator.vector (the resize's Vector API pass); VECTOR="true
# false" also runs them with the plain-Java pass (-Dclip4j.vectorResize=false), alternating. One JSON line per
# measurement; bench/RESULTS.md records a run.
# Needs: apt-get install python3-pil python3-numpy (the peer).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=/usr/bin/python3
ROUNDS=${ROUNDS:-3}
N=${N:-200}
LARGE=${LARGE:-40}
KINDS=${KINDS:-"jpeg png large"}
VECTOR=${VECTOR:-true}
$PY -c "import PIL, numpy" 2>/dev/null || { echo "peer missing: apt-get install -y python3-pil python3-numpy" >&2; exit 1; }
./clip4j --version >/dev/null   # builds if needed
CP=$(ls clip4j-cli/target/lib/*.jar | tr '\n' ':')
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
$PY bench/make_photos.py "$dir/jpeg" "$N" testdata/reference/preprocess/{astronaut,coffee,chelsea,rocket}.png
if compgen -G "/usr/share/backgrounds/mate/nature/*.jpg" >/dev/null; then
  $PY bench/make_photos.py "$dir/large" "$LARGE" /usr/share/backgrounds/mate/nature/*.jpg /usr/share/backgrounds/mate/abstract/Elephants*.jpg
else
  echo "# no mate-backgrounds (apt-get install mate-backgrounds): the large photos are skipped" >&2
  KINDS=${KINDS//large/}
fi
echo "# machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; $(date -u +%F); $N JPEGs, $LARGE large JPEGs, $ROUNDS rounds"
java_bench() {
  taskset -c 0 java -XX:+UseParallelGC --add-modules=jdk.incubator.vector -Dclip4j.vectorResize="$v" \
    -Dclip4j.imageDecoder="$1" -cp "$CP" bench/PreprocessBench.java "${@:2}"
}
for r in $(seq "$ROUNDS"); do
  for kind in $KINDS; do
    case $kind in
      jpeg) imgs=("$dir"/jpeg/*.jpg) ;;
      large) imgs=("$dir"/large/*.jpg) ;;
      *) imgs=(testdata/reference/preprocess/*.png) ;;
    esac
    for mode in --decode-only ""; do
      echo "{\"round\": $r, \"files\": \"$kind\"} $(taskset -c 0 $PY bench/python_preprocess.py $mode "${imgs[@]}")"
      for v in $VECTOR; do
        tag="{\"round\": $r, \"files\": \"$kind\", \"vector_pass\": $v}"
        if [ -z "$mode" ] || [ "$v" = "${VECTOR%% *}" ]; then   # decoding alone does not resize: once
          echo "$tag $(java_bench imageio $mode "${imgs[@]}")"
          echo "$tag $(java_bench auto $mode "${imgs[@]}")"
        fi
      done
    done
    for v in $VECTOR; do
      echo "{\"round\": $r, \"files\": \"$kind\", \"vector_pass\": $v} $(java_bench auto --folder "${imgs[@]}")"
    done
  done
done
