# Sourced by ./clip4j: the JVM's class-data-sharing flags for one command. Kept apart from the launcher so that a test
# can call it without building or starting anything (LauncherClassSharingTest).
#
# clip4j_class_sharing SNAPSHOT_DIR CLASS_PATH JVM_FLAGS COMMAND ARGS...
#   sets $cds (flags for java, after JVM_FLAGS: the collector's, the modules' and the user's, as the command runs).
#   A photo-folder command's (or classify's, search's) first run in a snapshot of the jars writes an archive of the
#   classes it loaded when its JVM exits (-XX:ArchiveClassesAtExit, to a file named after the JVM's pid: ./clip4j execs
#   the JVM, so that is this shell's $$); a later run adopts that file once its writer is gone, and maps the classes
#   from it instead of finding, reading, verifying and compiling them again: `index build` 5-8 % faster on 500 photos
#   (bench/RESULTS.md, "The AMX Xeon, a later session"), `classify` of one photo 15 % and a `search` 11 % ("The AMX
#   Xeon, a third session"). An archive must match the class path exactly, which a snapshot's never changes, and holds
#   classes only. Every use checks its checksums (-XX:+VerifySharedSpaces: a damaged one is refused and the JVM runs
#   without it), but a file cut short (its writer killed) crashes the JVM that maps it: so a file is adopted only after
#   a JVM with the command's own flags has started on it, and is deleted otherwise. The JVM's messages about archives
#   are off: they would go to stdout, which embed may be writing. Only the newest snapshot keeps its archives
#   (./clip4j removes the older ones' when it makes a snapshot). CLIP4J_CDS=0 turns it off.
clip4j_class_sharing() {
  local snap=$1 cp=$2 flags=$3
  shift 3
  cds=""
  if [ "${CLIP4J_CDS:-1}" = 0 ] || [ ! -d "$snap" ] || [ ! -w "$snap" ]; then return 0; fi
  case " $flags " in *Xshare*|*SharedArchiveFile*|*ArchiveClassesAtExit*) return 0 ;; esac # the user's own choice
  # one archive per command, as each loads classes of its own; only the commands it was measured on (an archive is
  # ~35 MB): the photo folders, and the one-shot classify and search, whose start-up is most of their time
  local key
  case "${1:-} ${2:-}" in
    "embed "*) key=embed ;;
    "index build") key=index-build ;;
    "index update") key=index-update ;;
    "classify "*) key=classify ;;
    "search "*) key=search ;;
    *) return 0 ;;
  esac
  # and per class path and flags (Spark's commands have a class path of their own; a user's flags may differ): a file
  # is tried below with the flags and class path it was written with, or a mismatch would let a cut-short one through
  key="$key-$(printf '%s\n%s' "$cp" "$flags" | cksum | cut -d' ' -f1)"
  local jsa="$snap/cds-$key.jsa" tmp pid
  for tmp in "$snap/cds-$key.jsa."*.tmp; do
    [ -e "$tmp" ] || continue
    pid=${tmp%.tmp}
    pid=${pid##*.}
    if [[ "$pid" =~ ^[0-9]+$ ]] && ! kill -0 "$pid" 2>/dev/null; then   # its JVM has exited: written whole or cut short
      # shellcheck disable=SC2086 # the flags are words without spaces
      if [ ! -e "$jsa" ] && java $flags -XX:SharedArchiveFile="$tmp" -XX:+VerifySharedSpaces -Xlog:disable \
          -XX:ErrorFile=/dev/null -cp "$cp" -version >/dev/null 2>&1; then
        mv -f "$tmp" "$jsa" 2>/dev/null || rm -f "$tmp"
      else
        rm -f "$tmp"
      fi
    fi
  done
  if [ -f "$jsa" ]; then
    cds="-XX:SharedArchiveFile=$jsa"
  else
    cds="-XX:ArchiveClassesAtExit=$jsa.$$.tmp"
  fi
  cds="$cds -XX:+VerifySharedSpaces -Xlog:cds*=off -Xlog:class+path=off"
}
