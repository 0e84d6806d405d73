# Sourced by ./clip4j: the JVM's collector flags and glibc malloc's settings for one command. Kept apart from the
# launcher so that a test can call it without building or starting anything (LauncherRuntimeEnvTest).
#
# clip4j_runtime_env THP_ENABLED_FILE CPUINFO_FILE COMMAND ARGS...
#   sets $gc (flags for java, before CLIP4J_JAVA_OPTS, so a flag given there wins) and exports MALLOC_ARENA_MAX,
#   MALLOC_TRIM_THRESHOLD_, MALLOC_MMAP_THRESHOLD_ and, for the photo-folder commands, GLIBC_TUNABLES. Values the user
#   has set win. THP_ENABLED_FILE is /sys/kernel/mm/transparent_hugepage/enabled, CPUINFO_FILE /proc/cpuinfo.
# shellcheck source=clip4j-cli/src/main/sh/options.sh
source "$(dirname "${BASH_SOURCE[0]}")/options.sh"

clip4j_runtime_env() {
  local thp_file=$1 cpu_file=$2
  shift 2
  # The inference commands decode photos that are garbage a moment later; G1's default sizing (at most 1/13 of the
  # time in GC) grew the heap to ~0.9 GB around ~80 MB of live data. Letting the collector take more of the time keeps
  # the heap near what is live (bench/RESULTS.md, "The heap of a photo folder"). Where the live data stays a few
  # batches whatever the folder (embed writes its rows as they come, index build/update keep no vectors, and photos
  # are decoded outside the heap), G1 still kept ~220 MB (it grows a small heap whenever its pauses pass 1 % of the
  # time), where the parallel collector from a 32 MB heap keeps ~40 MB. search and serve keep G1, whose young
  # collections never copy a large live set (an index's vectors) again.
  local parallel="-XX:+UseParallelGC -Xms32m -XX:GCTimeRatio=19 -XX:MaxHeapFreeRatio=20 -XX:MinHeapFreeRatio=5"
  local g1="-XX:GCTimeRatio=1 -XX:MaxHeapFreeRatio=20 -XX:MinHeapFreeRatio=5"
  local folder=false
  case "${1:-} ${2:-}" in
    "embed "*|"index build"|"index update") gc=$parallel; folder=true ;;
    "classify "*|"index "*|"search "*|"serve "*|"spark-embed "*) gc=$g1 ;;
    *) gc="" ;;
  esac
  # glibc malloc: one arena that keeps freed memory instead of handing it back to the kernel after every step, so
  # each training step reuses warm pages rather than faulting in ~100 MB of fresh zeroed ones (bench/RESULTS.md:
  # 4x fewer page faults, ~10 % faster steps).
  export MALLOC_ARENA_MAX=${MALLOC_ARENA_MAX:-1}
  export MALLOC_TRIM_THRESHOLD_=${MALLOC_TRIM_THRESHOLD_:-1073741824}
  # A photo folder is another pattern: OpenCV's full-size pixels (up to 48 MB a photo, two loaders at once) come and go
  # between the model's buffers, and kept in the arena they fragment it, so the peak wandered 0.78-0.96 GB for 500
  # photos in int8. Blocks of 8 MB and more mapped apart go back to the kernel when freed (int8 peaks 663-692 MB);
  # backed by transparent huge pages (glibc.malloc.hugetlb=1 asks for them) they cost little time, where 4 KB pages
  # faulted in cost 40 %: so only where the kernel gives huge pages (bench/RESULTS.md, "A photo folder's malloc").
  # 8 MB rather than 4: blocks of 4-8 MB (the model's loading buffers, photos of 1.4-2.8 MP) then reuse the arena's
  # pages, 0.8-2 s less system time on 500 photos and 1-4 % faster, for 0-50 MB more at the peak ("The AMX Xeon, a
  # seventh session").
  # bf16 is the exception to the exception: its model runs on libtorch, whose activations (up to 10 MB a layer at batch
  # 32) are freed and allocated again on every forward pass, where fp32 and int8 run on ONNX Runtime's own arena. Mapped
  # apart, each is a fresh mapping that the kernel zeroes, and on huge pages the AMX Xeon spent 2.5 s more system time
  # on 500 photos: 10 % of the wall time (bench/RESULTS.md, "Pages touched once"). bf16 has no memory target and keeps
  # the arena: where it is asked for, or where --precision auto will pick it (AMX CPUs, where it is 6x faster).
  local bf16=false precision
  if $folder; then
    precision=$(clip4j_option precision "$@")
    precision=${precision:-auto}
    if [ "$precision" = bf16 ] || { [ "$precision" = auto ] && grep -qw amx_bf16 "$cpu_file" 2>/dev/null; }; then bf16=true; fi
  fi
  local threshold=33554432
  if $folder && ! $bf16 && [ -z "${MALLOC_MMAP_THRESHOLD_:-}" ] && grep -qE '\[(always|madvise)\]' "$thp_file" 2>/dev/null; then
    threshold=8388608
    case ":${GLIBC_TUNABLES:-}" in
      *:glibc.malloc.hugetlb=*) ;;
      *) export GLIBC_TUNABLES="${GLIBC_TUNABLES:+$GLIBC_TUNABLES:}glibc.malloc.hugetlb=1" ;;
    esac
  fi
  export MALLOC_MMAP_THRESHOLD_=${MALLOC_MMAP_THRESHOLD_:-$threshold}
}
