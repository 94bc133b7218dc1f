#!/usr/bin/env bash
# The stress suite at full scale (issue 13): every case of tests/it/stress/cases, written by
# examples/stress_gen.rs at the scale the issue measured, then analysed at default settings by
#
#   hopscope report FILE --format json -o /dev/null --no-progress
#
# under an address-space cap and a time limit, so a runaway case cannot take the machine.
# Prints one row per case: scale, file size, seconds, peak RSS (GNU time), exit status and
# what happened (ok, capture error, aborted, killed, timed out).
#
#   bench/stress.sh                      # every case
#   bench/stress.sh br-open pipeline     # some cases
#
# Environment: BENCH_DIR (default /var/tmp/hopscope-stress) keeps the captures between runs
# (REGEN=1 writes them again); CAP_MIB (default 4096) caps the address space; TIMEOUT (default
# 900 s) per run; ARGS adds options to `hopscope report` (e.g. ARGS="--max-flows 300000").
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
dir=${BENCH_DIR:-/var/tmp/hopscope-stress}
cap_mib=${CAP_MIB:-4096}
limit=${TIMEOUT:-900}
mkdir -p "$dir"

for tool in /usr/bin/time prlimit timeout; do
  command -v "$tool" >/dev/null || { echo "needs $tool (GNU time, util-linux, coreutils)"; exit 1; }
done
(cd "$root" && cargo build --release --quiet --bin hopscope --example stress_gen) || exit 1
hs="$root/target/release/hopscope"
gen="$root/target/release/examples/stress_gen"

if [ $# -gt 0 ]; then cases=("$@"); else mapfile -t cases < <("$gen" --list | cut -d' ' -f1); fi

echo "hopscope $(git -C "$root" describe --always --dirty), $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "cap: address space ${cap_mib} MiB, ${limit} s per run; extra args: ${ARGS:-none}"
printf '%-22s %12s %-12s %10s %9s %9s %5s  %s\n' case scale unit file_MB secs RSS_MB exit outcome

for c in "${cases[@]}"; do
  read -r _ full unit < <("$gen" --list | awk -v c="$c" '$1 == c')
  [ -n "${full:-}" ] || { echo "unknown case $c"; continue; }
  f="$dir/$c.pcap"
  if [ "$c" = missing-file ] || [ "$c" = directory ] || [ ! -e "$f" ] || [ -n "${REGEN:-}" ]; then
    "$gen" "$c" "$f" >/dev/null || { echo "$c: generator failed"; continue; }
  fi
  size=$( [ -f "$f" ] && stat -c %s "$f" || echo 0)
  # shellcheck disable=SC2086
  /usr/bin/time -f "%e %M" -o "$dir/time.txt" \
    prlimit --as=$((cap_mib * 1024 * 1024)) \
    timeout "$limit" "$hs" report "$f" --format json -o /dev/null --no-progress ${ARGS:-} \
    >/dev/null 2>"$dir/$c.stderr"
  status=$?
  read -r secs rss < <(tail -n 1 "$dir/time.txt")
  # The first line of stderr, without the program's and the file's names.
  msg=$(head -n 1 "$dir/$c.stderr" | sed -e 's#^hopscope: ##' -e "s#$f#FILE#g" | cut -c 1-72)
  case $status in
    0) outcome=ok ;;
    2) outcome="capture error: $msg" ;;
    124) outcome="timed out after ${limit} s" ;;
    134) outcome="aborted: $msg" ;;
    137) outcome="killed (SIGKILL)" ;;
    *) outcome="exit $status: $msg" ;;
  esac
  awk -v c="$c" -v s="$full" -v u="$unit" -v b="$size" -v t="$secs" -v r="$rss" -v x="$status" -v o="$outcome" \
    'BEGIN{printf "%-22s %12s %-12s %10.1f %9.2f %9.1f %5s  %s\n", c, s, u, b/1e6, t, r/1024, x, o}'
done
