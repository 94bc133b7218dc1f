#!/usr/bin/env bash
# Reproducible benchmark: hopscope vs the libpcap floor and tshark on the synthetic capture.
#
#   bench/run.sh            # builds everything, generates the 1.27 GB capture once, measures
#
# For each of the 10 %, 50 % and 100 % prefixes: the libpcap floor (pcap_floor touch), hopscope
# with TCP reassembly only (--tcp-only: decode + flows + reassembly + the JSON report of
# connections) and with the HTTP analyzer on (the full report), and tshark on the 10 % prefix.
# Ratios are to the floor measured in the same run.
#
# Environment: SYNTH (the full capture; default $BENCH_DIR/synth-1460.pcap), BENCH_DIR (default /var/tmp/hopscope-bench) holds the capture and prefixes;
# RUNS (default 3) timed runs per command (the best is reported); TSHARK=0 skips tshark;
# SURICATA=0 skips Suricata (measured on the 10 % prefix when `suricata` is installed);
# FILES="a.pcap b.pcap" measures those files instead of the three prefixes.
# With a build that has --threads: NDJSON (the format issue 17 checks) with --threads 1 and
# --threads $(nproc).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
shared=${SHARED:-$root/../shared}
dir=${BENCH_DIR:-/var/tmp/hopscope-bench}
runs=${RUNS:-3}
mkdir -p "$dir" "$here/out"

command -v /usr/bin/time >/dev/null || { echo "needs GNU time (apt-get install time)"; exit 1; }

gcc -O2 -o "$here/out/synth_gen" "$shared/bench/synth_gen.c" -lm
gcc -O2 -o "$here/out/pcap_floor" "$shared/bench/pcap_floor.c" -lpcap
(cd "$root" && cargo build --release --quiet)
hs="$root/target/release/hopscope"

full=${SYNTH:-$dir/synth-1460.pcap}
if [ ! -s "$full" ]; then
  echo "generating $full (synth_gen -s 1G -c 5000 -S 1)" >&2
  "$here/out/synth_gen" -o "$full" -s 1G -c 5000 -S 1
fi
for pct in 10 50; do
  p="$dir/synth-1460-$pct.pcap"
  [ -s "$p" ] || python3 "$here/pcap_prefix.py" "$full" "$pct" "$p"
done

# best-of-N wall time (s) and max RSS (KiB) of a command; prints "secs rss"
measure() {
  local best="" rss=0 t r
  for _ in $(seq "$runs"); do
    /usr/bin/time -f "%e %M" -o "$dir/time.txt" "$@" >/dev/null 2>"$dir/stderr.txt" || {
      echo "command failed: $*" >&2; cat "$dir/stderr.txt" >&2; exit 1; }
    read -r t r < "$dir/time.txt"
    if [ -z "$best" ] || awk "BEGIN{exit !($t < $best)}"; then best=$t; fi
    [ "$r" -gt "$rss" ] && rss=$r
  done
  echo "$best $rss"
}

count() { "$here/out/pcap_floor" touch "$1" | sed -n 's/.*packets=\([0-9]*\).*/\1/p'; }

cat /proc/cpuinfo | awk -F: '/model name/ {print "cpu:" $2; exit}'
echo "cores: $(nproc), runs per command: $runs (best wall time, max RSS)"
printf '%-34s %10s %10s %9s %10s %10s %8s\n' command file secs ratio Mpkt/s MB/s RSS_MB

row() { # label file secs rss floor_secs
  local bytes pkts
  bytes=$(stat -c %s "$2"); pkts=${PKTS[$2]:-$(count "$2")}
  awk -v l="$1" -v f="$(basename "$2")" -v s="$3" -v r="$4" -v fl="$5" -v b="$bytes" -v p="$pkts" \
    'BEGIN{printf "%-34s %10s %10.3f %8.2fx %10.3f %10.0f %8.1f\n", l, f, s, s/fl, p/s/1e6, b/s/1e6, r/1024}'
}

declare -A PKTS
for f in ${FILES:-"$full" "$dir/synth-1460-50.pcap" "$dir/synth-1460-10.pcap"}; do
  PKTS[$f]=$(count "$f")
done

# --threads when this build has it: 1 and the cores available.
threads=()
if "$hs" report --help | grep -q -- "--threads"; then
  threads=(1 "$(nproc)")
fi
files=("$dir/synth-1460-10.pcap" "$dir/synth-1460-50.pcap" "$full")
[ -n "${FILES:-}" ] && read -r -a files <<<"$FILES"
for f in "${files[@]}"; do
  cat "$f" > /dev/null   # page cache
  read -r fs fr < <(measure "$here/out/pcap_floor" touch "$f")
  row "pcap_floor touch (libpcap floor)" "$f" "$fs" "$fr" "$fs"
  read -r tc_s tc_r < <(measure "$hs" report "$f" --tcp-only --format json -o /dev/null --no-progress)
  row "hopscope report --tcp-only" "$f" "$tc_s" "$tc_r" "$fs"
  read -r hs_s hs_r < <(measure "$hs" report "$f" --format json -o /dev/null --no-progress)
  row "hopscope report (HTTP on)" "$f" "$hs_s" "$hs_r" "$fs"
  if [ ${#threads[@]} -eq 0 ]; then
    read -r nd_s nd_r < <(measure "$hs" report "$f" --format ndjson -o /dev/null --no-progress)
    row "hopscope report --format ndjson" "$f" "$nd_s" "$nd_r" "$fs"
  fi
  for t in "${threads[@]}"; do
    read -r nd_s nd_r < <(measure "$hs" report "$f" --format ndjson -o /dev/null --no-progress --threads "$t")
    row "hopscope ndjson --threads $t" "$f" "$nd_s" "$nd_r" "$fs"
  done
  if [ "$f" = "$dir/synth-1460-10.pcap" ] && command -v suricata >/dev/null && [ "${SURICATA:-1}" != 0 ]; then
    # Suricata with HTTP and WebSocket logging, no rules (as in issue 17's measurement).
    sdir=$(mktemp -d)
    read -r ss sr < <(measure suricata -r "$f" -l "$sdir" -k none --runmode single -S /dev/null)
    row "suricata -r (single, no rules)" "$f" "$ss" "$sr" "$fs"
    rm -rf "$sdir"
  fi
  if [ "$f" = "$dir/synth-1460-10.pcap" ] && [ "${TSHARK:-1}" != 0 ] && command -v tshark >/dev/null; then
    runs_saved=$runs; runs=1
    read -r ts tr < <(measure tshark -r "$f" -T fields -e frame.number -e tcp.stream -e http.request.method -e http.response.code -e websocket.opcode)
    runs=$runs_saved
    row "tshark -r (fields export)" "$f" "$ts" "$tr" "$fs"
  fi
done
