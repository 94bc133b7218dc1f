#!/usr/bin/env bash
# Instructions per packet, by stage: callgrind on the 10 % prefix of the benchmark capture.
#
#   bench/instructions.sh                 # --tcp-only (the spine), NDJSON (the checked format), JSON
#   FORMATS=ndjson bench/instructions.sh  # the spine and NDJSON
#   THREADS=2 bench/instructions.sh       # with --threads 2 (all threads counted; the stage
#                                         # split is --threads 1's, only the total means much)
#   HS=/path/to/hopscope bench/instructions.sh   # another build (a baseline)
#
# callgrind counts instructions, not seconds: the figures repeat for the same binary and input
# whatever else the machine is doing. Stages are inclusive counts of the functions every packet
# or record goes through (`bench/stages.py` names them); what a stage calls into the next one is
# taken off it, so the rows add up to the total.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
dir=${BENCH_DIR:-/var/tmp/hopscope-bench}
prefix=${PREFIX:-$dir/synth-1460-10.pcap}
formats=${FORMATS:-ndjson json}
command -v valgrind >/dev/null || { echo "needs valgrind (apt-get install valgrind)"; exit 1; }
[ -s "$prefix" ] || { echo "no $prefix: run bench/run.sh once (it generates the capture and its prefixes)"; exit 1; }
if [ -z "${HS:-}" ]; then
  (cd "$root" && cargo build --release --quiet)
  HS="$root/target/release/hopscope"
fi
mkdir -p "$here/out"
packets=$(python3 - "$prefix" <<'EOF'
import struct, sys
f = open(sys.argv[1], 'rb'); f.read(24); n = 0
while True:
    h = f.read(16)
    if len(h) < 16: break
    n += 1; f.seek(struct.unpack('<IIII', h)[2], 1)
print(n)
EOF
)
echo "file: $prefix ($packets packets); hopscope: $HS"
# The spine first: the analyzers are told from it.
for fmt in tcp-only $formats; do
  case $fmt in
    tcp-only) args=(--tcp-only --format json) ;;
    *) args=(--format "$fmt") ;;
  esac
  out="$here/out/callgrind.$fmt"
  [ "$fmt" = tcp-only ] && [ -s "$out.txt" ] && [ "${seen_spine:-}" ] && continue
  seen_spine=1
  valgrind --tool=callgrind --callgrind-out-file="$out" "$HS" report "$prefix" "${args[@]}" \
    --threads "${THREADS:-1}" -o /dev/null --no-progress 2>"$out.log"
  callgrind_annotate --inclusive=yes "$out" >"$out.txt" 2>/dev/null
  echo
  echo "== report ${args[*]} --threads ${THREADS:-1}"
  if [ "$fmt" = tcp-only ]; then
    python3 "$here/stages.py" "$packets" "$out.txt"
  else
    python3 "$here/stages.py" "$packets" "$out.txt" "$here/out/callgrind.tcp-only.txt"
  fi
done
