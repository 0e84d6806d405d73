#!/usr/bin/env bash
# Indexing throughput end to end (issues 12, 13): `./clip4j index build` and `./clip4j embed --images` (pipelined:
# loader threads decode the next batches while the model runs) against a PIL + PyTorch loop (bench/python_index.py:
# a DataLoader whose worker processes decode the next batches while the model runs) on the same folder of distinct
# real photos, the same architecture (ViT-B/32, random weights: speed does not depend on them), the same threads and
# batch, whole processes timed (start-up and model load included), in alternating rounds. One JSON line per run.
# Needs the peers of bench/run.sh (python3-torch with libopenblas0-pthread, python3-pil) and mate-backgrounds
# (Debian's nature photos, up to 5640 x 3172). Each line also has the process's peak RSS (GNU time's maximum resident
# set size, MB; for the PyTorch loop the largest of its processes, its DataLoader workers running beside it).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-300} ROUNDS=${ROUNDS:-3} THREADS=${THREADS:-2} BATCH=${BATCH:-32} PRECISIONS=${PRECISIONS:-"fp32 bf16 int8"}
# the peer's DataLoader worker counts, each run in every round; compare with the fastest (0 = decoding in the main
# process between forwards, the loop this bench ran until 2026-12-08, which left a core idle while it decoded)
PEER_WORKERS=${PEER_WORKERS:-"1 2"}
DIR=${DIR:-$(mktemp -d)}
PY=/usr/bin/python3
# both peers under ./clip4j's thread policy (docs/BINDINGS.md, pitfall 5)
export OPENBLAS_NUM_THREADS=$THREADS OMP_WAIT_POLICY=PASSIVE
./clip4j --version >/dev/null   # builds if needed
CP="$(ls clip4j-cli/target/lib/*.jar | tr '\n' :)clip4j-cli/target/clip4j-cli.jar"
echo "# machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; $(date -u +%F); $N photos, batch $BATCH, $THREADS threads"
photos=$(ls /usr/share/backgrounds/mate/nature/*.jpg /usr/share/backgrounds/mate/abstract/Elephants*.jpg testdata/reference/preprocess/*.png)
[ -d "$DIR/photos" ] || $PY bench/make_photos.py "$DIR/photos" "$N" $photos
[ -d "$DIR/model" ] || java -cp "$CP" bench/RandomModel.java ViT-B-32 "$DIR/model"
# each command's first run after a build makes its class-data-sharing archive (~2 s, once: class-sharing.sh); a
# warm-up on four photos makes them, so that the rounds time the work and not that
warm=$(mktemp -d)
cp $(ls "$DIR/photos"/* | head -4) "$warm/"
./clip4j index build --model "$DIR/model" --images "$warm" --out "$warm.index" --threads "$THREADS" > /dev/null 2>&1
./clip4j embed --model "$DIR/model" --images "$warm" --output "$warm.jsonl" --threads "$THREADS" > /dev/null 2>&1
rm -rf "$warm" "$warm.index" "$warm.jsonl"
for round in $(seq "$ROUNDS"); do
  for p in $PRECISIONS; do
    rm -rf "$DIR/index"
    s=$(date +%s.%N)
    /usr/bin/time -o "$DIR/rss" -f %M ./clip4j index build --model "$DIR/model" --images "$DIR/photos" --out "$DIR/index" \
      --batch-size "$BATCH" --threads "$THREADS" --precision "$p" > /dev/null 2>&1
    e=$(date +%s.%N)
    python3 -c "import json; t=$e-$s; print(json.dumps({'peer': 'clip4j index build', 'precision': '$p', 'images': $N, 'threads': $THREADS, 'batch': $BATCH, 'round': $round, 'seconds_total': round(t, 2), 'images_per_sec_total': round($N / t, 2), 'peak_rss_mb': $(tail -1 "$DIR/rss") // 1024}))"
    s=$(date +%s.%N)
    /usr/bin/time -o "$DIR/rss" -f %M ./clip4j embed --model "$DIR/model" --images "$DIR/photos" --output "$DIR/embed.jsonl" \
      --batch-size "$BATCH" --threads "$THREADS" --precision "$p" > /dev/null 2>&1
    e=$(date +%s.%N)
    python3 -c "import json; t=$e-$s; print(json.dumps({'peer': 'clip4j embed --images', 'precision': '$p', 'images': $N, 'threads': $THREADS, 'batch': $BATCH, 'round': $round, 'seconds_total': round(t, 2), 'images_per_sec_total': round($N / t, 2), 'peak_rss_mb': $(tail -1 "$DIR/rss") // 1024}))"
    # the peer: PyTorch fp32 against fp32; against bf16 and int8 its fastest mode here, bf16 autocast (its own int8,
    # quantize_dynamic on oneDNN, runs slower than autocast: bench/RESULTS.md)
    pp=$([ "$p" = fp32 ] && echo fp32 || echo autocast)
    for w in $PEER_WORKERS; do
      s=$(date +%s.%N)   # its own seconds_total starts after the interpreter; seconds_process is timed as clip4j's
      line=$(/usr/bin/time -o "$DIR/rss" -f %M $PY bench/python_index.py "$DIR/photos" "$DIR/peer.npy" --threads "$THREADS" \
        --batch "$BATCH" --workers "$w" --precision "$pp")
      e=$(date +%s.%N)
      echo "$line" | sed "s/}\$/, \"round\": $round, \"seconds_process\": $(python3 -c "print(round($e - $s, 2))"), \"peak_rss_mb\": $(( $(tail -1 "$DIR/rss") / 1024 ))}/"
    done
  done
done
