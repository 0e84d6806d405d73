# Sourced by ./clip4j and runtime-env.sh: one option's value read off a command line the way picocli reads it, for the
# launcher's decisions made before the JVM starts (threads, class path, malloc settings).
#
# clip4j_option NAME ARGS...
#   prints the value of the last --NAME VALUE or --NAME=VALUE in ARGS; nothing where there is none.
clip4j_option() {
  local name=$1 prev="" a value=""
  shift
  for a in "$@"; do
    if [ "$prev" = "--$name" ]; then value=$a; fi
    case "$a" in "--$name="*) value=${a#"--$name="} ;; esac
    prev=$a
  done
  printf '%s' "$value"
}
