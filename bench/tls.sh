#!/usr/bin/env bash
# TLS decryption cost (issue 14 item 7): hopscope without and with the key log, tshark with the
# key log and the libpcap floor, on real TLS captures, one per cipher suite.
#
#   bench/tls.sh              # records the captures once (root), then measures
#   REGEN=1 bench/tls.sh      # records them again
#
# Recording (root; nginx-light, curl, tcpdump, installed when missing): in a private network
# namespace, nginx serves a FILE_MIB MiB random file over TLS on 127.0.0.1:8443 (RSA 2048
# self-signed; TLS 1.2 and 1.3; 16 KiB records, nginx's default ssl_buffer_size), and curl
# (SSLKEYLOGFILE, --http1.1)
# downloads it REQS times on each of CONNS keep-alive connections, forced to one suite. lo has
# MTU 1500 and no GSO (so segments are Ethernet-sized, as on a real link); nginx and curl run on
# CPU 0 and lo is paced with tbf (RATE), so the capture has no reordered segments. tcpdump -i lo
# -s 0 -B 262144 writes the capture; the run fails unless tcpdump reports 0 packets dropped by
# kernel and curl got every byte. Captures and key logs are kept in $BENCH_DIR/tls/ (default
# /var/tmp/hopscope-bench/tls).
#
# Measuring: before timing, one run of hopscope with the key log must report every download as a
# complete transaction (status 200, body complete, FILE_MIB MiB) and every connection decrypted,
# and tshark must print every request and response. Then RUNS (default 3) rounds, each running
# in turn on the capture (interleaved, so a noisy moment hits all of them):
#   pcap_floor touch FILE                                     (libpcap reads every byte)
#   hopscope report FILE --format json -o /dev/null --no-progress          (no keys: TLS counted)
#   hopscope report FILE --tls-keylog KEYS --format json -o /dev/null --no-progress  (decrypted)
#   tshark -r FILE -o tls.keylog_file:KEYS -Y http -T fields -e http.request.uri -e http.response.code
# Best wall time of the rounds, least CPU time (user + system) and largest peak RSS (GNU time) are
# reported: on a shared machine the CPU time moves much less than the wall time. The decryption cost
# is the TLS payload hopscope decrypted (capture.tls.bytes_decrypted) over (with keys - without
# keys): records decrypted plus the HTTP analysis of what came out.
#
# Environment: BENCH_DIR, RUNS, TSHARK_RUNS (default RUNS), TSHARK=0 skips tshark, SUITES (names
# from the list below, space-separated), FILE_MIB (64), CONNS (2), REQS (3), RATE (tc rate the
# sender is paced at on lo, 2gbit), REGEN=1.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
shared=${SHARED:-$root/../shared}
dir=${BENCH_DIR:-/var/tmp/hopscope-bench}/tls
runs=${RUNS:-3}
tshark_runs=${TSHARK_RUNS:-$runs}
file_mib=${FILE_MIB:-64}
conns=${CONNS:-2}
reqs=${REQS:-3}
rate=${RATE:-2gbit}
mkdir -p "$dir" "$here/out"

# name  TLS version  curl's option for it  suite (as OpenSSL names it for curl)  IANA name
ALL_SUITES=(
  "tls13-aes128gcm 1.3 TLS_AES_128_GCM_SHA256 TLS_AES_128_GCM_SHA256"
  "tls13-aes256gcm 1.3 TLS_AES_256_GCM_SHA384 TLS_AES_256_GCM_SHA384"
  "tls13-chacha20 1.3 TLS_CHACHA20_POLY1305_SHA256 TLS_CHACHA20_POLY1305_SHA256"
  "tls12-aes128gcm 1.2 ECDHE-RSA-AES128-GCM-SHA256 TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
  "tls12-aes128cbc 1.2 ECDHE-RSA-AES128-SHA256 TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256"
)
want=${SUITES:-}
SUITE_LIST=()
for s in "${ALL_SUITES[@]}"; do
  read -r name _ <<<"$s"
  if [ -z "$want" ] || [[ " $want " == *" $name "* ]]; then SUITE_LIST+=("$s"); fi
done

need() { # need COMMAND [DEBIAN-PACKAGE]: installs it when missing (root, apt-get), else fails
  command -v "$1" >/dev/null && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing ${2:-$1}" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${2:-$1}" >/dev/null
  fi
  command -v "$1" >/dev/null || { echo "needs $1 (apt-get install -y ${2:-$1})" >&2; exit 1; }
}
need /usr/bin/time time
[ -x "$here/out/pcap_floor" ] || gcc -O2 -o "$here/out/pcap_floor" "$shared/bench/pcap_floor.c" -lpcap
(cd "$root" && cargo build --release --quiet)
hs="$root/target/release/hopscope"

# ---------------------------------------------------------------------------------------------
# Recording

NS=hsbench-tls-$$
WORK=""
TCPDUMP_PID=""
cleanup() {
  local pid
  [ -n "$TCPDUMP_PID" ] && kill -INT "$TCPDUMP_PID" 2>/dev/null || true
  if ip netns list 2>/dev/null | grep -qw "$NS"; then
    for pid in $(ip netns pids "$NS" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
    ip netns del "$NS" 2>/dev/null || true
  fi
  [ -n "$WORK" ] && rm -rf "$WORK"
  return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_for() { # wait_for WHAT COMMAND...   (up to 10 s)
  local what=$1; shift
  for _ in $(seq 100); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "timed out waiting for $what" >&2; return 1
}

setup_server() {
  need nginx nginx-light; need curl; need tcpdump; need openssl; need tc iproute2; need taskset util-linux
  [ "$(id -u)" = 0 ] || { echo "recording needs root (network namespace, tcpdump)" >&2; exit 1; }
  WORK=$(mktemp -d /var/tmp/hopscope-tls-rec.XXXXXX)
  mkdir -p "$WORK/www" "$WORK/logs"
  head -c $((file_mib * 1048576)) /dev/urandom >"$WORK/www/big.bin"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost" -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null
  cat >"$WORK/nginx.conf" <<EOF
user root; worker_processes 1; daemon off;
error_log $WORK/logs/error.log; pid $WORK/nginx.pid;
events { worker_connections 64; }
http {
  access_log $WORK/logs/access.log;
  client_body_temp_path $WORK/tmp; proxy_temp_path $WORK/tmp; fastcgi_temp_path $WORK/tmp;
  uwsgi_temp_path $WORK/tmp; scgi_temp_path $WORK/tmp;
  keepalive_requests 10000; keepalive_timeout 60s;
  server {
    listen 127.0.0.1:8443 ssl; server_name localhost; root $WORK/www;
    ssl_certificate $WORK/cert.pem; ssl_certificate_key $WORK/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3; ssl_ciphers ALL:@SECLEVEL=0;
  }
}
EOF
  ip netns add "$NS"
  ip netns exec "$NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
  ip -n "$NS" link set lo up mtu 1500 gso_max_size 1500 gso_max_segs 1
  # lo hands every segment to the receiving CPU's backlog (net.core.netdev_max_backlog, 1000 by
  # default): unpaced bursts overflow it and TCP retransmits, which is a different capture from the
  # one wanted (tshark does not reassemble the out-of-order segments). A token bucket on lo paces
  # the sender well below that.
  ip netns exec "$NS" tc qdisc replace dev lo root tbf rate "$rate" burst 64kb latency 200ms
  taskset -c 0 ip netns exec "$NS" nginx -p "$WORK" -c "$WORK/nginx.conf" -e "$WORK/logs/error.log" &
  disown $!   # killed with the namespace; no job notice
  wait_for nginx bash -c "ip netns exec $NS ss -Hltn 'sport = :8443' | grep -q ."
}

record() { # record NAME VERSION SUITE
  local name=$1 ver=$2 suite=$3 pcap="$dir/$1.pcap" keys="$dir/$1.keys" log="$dir/$1.tcpdump.log"
  local opt=(--tlsv1.3 --tls13-ciphers "$suite")
  [ "$ver" = 1.2 ] && opt=(--tlsv1.2 --tls-max 1.2 --ciphers "$suite")
  [ -n "$WORK" ] || setup_server
  rm -f "$pcap" "$keys" "$log"
  echo "recording $name: $conns connections x $reqs GET of $file_mib MiB, $suite" >&2
  ip netns exec "$NS" tcpdump -i lo -s 0 -B 262144 -Z root -w "$pcap" tcp port 8443 2>"$log" &
  TCPDUMP_PID=$!
  wait_for "tcpdump" grep -q "listening on" "$log"
  local c urls=() got=()
  for _ in $(seq "$reqs"); do urls+=(https://localhost:8443/big.bin -o /dev/null); done
  for c in $(seq "$conns"); do
    taskset -c 0 ip netns exec "$NS" env -u http_proxy -u https_proxy -u HTTPS_PROXY -u all_proxy -u ALL_PROXY \
      SSLKEYLOGFILE="$keys" curl -q -sS --http1.1 --cacert "$WORK/cert.pem" \
      --resolve localhost:8443:127.0.0.1 "${opt[@]}" -w '%{http_code} %{size_download} %{num_connects}\n' \
      "${urls[@]}" >"$WORK/curl.$c.txt"
    got+=("$(cat "$WORK/curl.$c.txt")")
  done
  sleep 1.5   # let tcpdump's last ring block (1 s timeout) reach the file
  kill -INT "$TCPDUMP_PID"; wait "$TCPDUMP_PID" || true; TCPDUMP_PID=""
  if ! grep -q "^0 packets dropped by kernel" "$log"; then
    echo "tcpdump dropped packets: $log" >&2; cat "$log" >&2; rm -f "$pcap"; exit 1
  fi
  local bad
  bad=$(printf '%s\n' "${got[@]}" | awk -v n=$((file_mib * 1048576)) '$1 != 200 || $2 != n' | wc -l)
  if [ "$bad" != 0 ] || [ "$(printf '%s\n' "${got[@]}" | awk '$3 == 1' | wc -l)" != "$conns" ]; then
    echo "curl did not download everything on keep-alive connections:" >&2
    printf '%s\n' "${got[@]}" >&2; rm -f "$pcap"; exit 1
  fi
  grep -E 'captured|received|dropped' "$log" | tr '\n' ' ' >&2; echo >&2
}

for s in "${SUITE_LIST[@]}"; do
  read -r name ver suite _ <<<"$s"
  if [ -n "${REGEN:-}" ] || [ ! -s "$dir/$name.pcap" ] || [ ! -s "$dir/$name.keys" ]; then
    record "$name" "$ver" "$suite"
  fi
done
cleanup; WORK=""; trap - EXIT

# ---------------------------------------------------------------------------------------------
# Checks: hopscope decrypts everything and finds every download; tshark sees them too

declare -A PKTS PAYLOAD
for s in "${SUITE_LIST[@]}"; do
  read -r name ver suite iana <<<"$s"
  f="$dir/$name.pcap"; k="$dir/$name.keys"
  cat "$f" >/dev/null   # page cache
  PKTS[$name]=$("$here/out/pcap_floor" touch "$f" | sed -n 's/.*packets=\([0-9]*\).*/\1/p')
  env -u SSLKEYLOGFILE "$hs" report "$f" --tls-keylog "$k" --format json -o "$dir/$name.json" --no-progress
  PAYLOAD[$name]=$(python3 - "$dir/$name.json" "$iana" $((conns * reqs)) $((file_mib * 1048576)) "$conns" <<'EOF'
import json, sys
path, suite, n, size, conns = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
d = json.load(open(path))
tls = d["capture"]["tls"]
conn = [c for c in d["connections"] if c.get("tls")]
tx = d["transactions"]
ok = (len(conn) == conns and tls["decrypted"] == conns
      and all(c["tls"].get("cipher_suite") == suite and c["tls"].get("decrypted") for c in conn)
      and len(tx) == n
      and all(t["state"] == "complete" and t["response"]["status"] == 200
              and t["response"]["body"]["state"] == "complete"
              and t["response"]["body"]["length"] == size for t in tx))
clean = all(c[d][k] == 0 for c in conn for d in ("client_to_server", "server_to_client")
            for k in ("gaps", "missing_bytes", "out_of_order"))
if not clean:
    sys.exit(f"{path}: TCP segments missing or out of order in the capture (lo's backlog "
             "overflowed): record again with a lower RATE (REGEN=1)")
if not ok:
    sys.exit(f"{path}: expected {conns} connections decrypted with {suite} and {n} complete "
             f"200 transactions of {size} bytes; got capture.tls={tls}, "
             f"{len(tx)} transactions {[(t['state'], (t['response'] or {}).get('status')) for t in tx]}")
print(tls["bytes_decrypted"])
EOF
)
  if [ "${TSHARK:-1}" != 0 ]; then
    need tshark
    tshark -r "$f" -o "tls.keylog_file:$k" -Y http -T fields -e http.request.uri -e http.response.code \
      >"$dir/$name.tshark.txt" 2>/dev/null
    got=$(awk -F'\t' '$1 == "/big.bin" || $2 == 200' "$dir/$name.tshark.txt" | wc -l)
    if [ "$got" != $((2 * conns * reqs)) ]; then
      echo "tshark printed $got requests and responses on $name, expected $((2 * conns * reqs))" >&2; exit 1
    fi
  fi
done

# ---------------------------------------------------------------------------------------------
# Measuring

declare -A BEST RSS CPU
# measure KEY COMMAND...: one run under GNU time; keeps the best wall time, the least CPU time
# (user + system) and the largest peak RSS
measure() {
  local key=$1 t0 t1 t r u sy c; shift
  t0=$EPOCHREALTIME   # GNU time's %e has 10 ms steps: the wall time is taken around it, in µs
  /usr/bin/time -f "%M %U %S" -o "$dir/time.txt" "$@" >"$dir/stdout.txt" 2>"$dir/stderr.txt" || {
    echo "command failed: $*" >&2; cat "$dir/stderr.txt" >&2; exit 1; }
  t1=$EPOCHREALTIME
  t=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.6f", b - a}')
  read -r r u sy <"$dir/time.txt"
  c=$(awk -v u="$u" -v s="$sy" 'BEGIN{printf "%.2f", u + s}')
  if [ -z "${CPU[$key]:-}" ] || awk "BEGIN{exit !($c < ${CPU[$key]})}"; then CPU[$key]=$c; fi
  if [ -z "${BEST[$key]:-}" ] || awk "BEGIN{exit !($t < ${BEST[$key]})}"; then BEST[$key]=$t; fi
  if [ -z "${RSS[$key]:-}" ] || [ "$r" -gt "${RSS[$key]}" ]; then RSS[$key]=$r; fi
}

TOOLS=(floor nokeys keys)
[ "${TSHARK:-1}" != 0 ] && TOOLS+=(tshark)
for s in "${SUITE_LIST[@]}"; do
  read -r name _ <<<"$s"
  f="$dir/$name.pcap"; k="$dir/$name.keys"
  cat "$f" >/dev/null
  for i in $(seq "$runs"); do
    echo "$name: round $i of $runs" >&2
    measure "$name floor" "$here/out/pcap_floor" touch "$f"
    measure "$name nokeys" env -u SSLKEYLOGFILE "$hs" report "$f" --format json -o /dev/null --no-progress
    measure "$name keys" env -u SSLKEYLOGFILE "$hs" report "$f" --tls-keylog "$k" --format json -o /dev/null --no-progress
    if [ "${TSHARK:-1}" != 0 ] && [ "$i" -le "$tshark_runs" ]; then
      measure "$name tshark" tshark -r "$f" -o "tls.keylog_file:$k" -Y http -T fields \
        -e http.request.uri -e http.response.code
    fi
  done
done

# ---------------------------------------------------------------------------------------------
# Report (Markdown)

echo
awk -F: '/model name/ {sub(/^ /, "", $2); print "cpu: " $2; exit}' /proc/cpuinfo
echo "cores: $(nproc), AES-NI: $(grep -q -m1 -w aes /proc/cpuinfo && echo yes || echo no)," \
  "runs per command: $runs (tshark $tshark_runs): best wall time, least CPU time, largest peak RSS"
echo "load average (1, 5, 15 min) at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "captures: $conns keep-alive connections x $reqs GET of a $file_mib MiB random file, lo MTU 1500"
echo
label() {
  case $1 in
    floor) echo "pcap_floor touch" ;; nokeys) echo "hopscope, no keys" ;;
    keys) echo "hopscope --tls-keylog" ;; tshark) echo "tshark, keylog, -Y http" ;;
  esac
}
echo "| capture | suite | file MB | packets | tool | seconds | MB/s | packets/s | CPU s | peak RSS MB |"
echo "| --- | --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |"
for s in "${SUITE_LIST[@]}"; do
  read -r name _ _ iana <<<"$s"
  bytes=$(stat -c %s "$dir/$name.pcap")
  for t in "${TOOLS[@]}"; do
    awk -v c="$name" -v su="$iana" -v b="$bytes" -v p="${PKTS[$name]}" -v l="$(label "$t")" \
      -v s="${BEST[$name $t]}" -v r="${RSS[$name $t]}" -v cpu="${CPU[$name $t]}" 'BEGIN{
        printf "| %s | %s | %.1f | %d | %s | %.3f | %.0f | %.0f | %.2f | %.1f |\n",
          c, su, b/1e6, p, l, s, (s > 0 ? b/1e6/s : 0), (s > 0 ? p/s : 0), cpu, r/1024}'
  done
done
echo
echo "Decryption cost: TLS payload decrypted by hopscope (capture.tls.bytes_decrypted) over the"
echo "extra time with the key log (decryption and the HTTP analysis of the plaintext), wall and CPU."
echo
echo "| capture | suite | TLS payload MB | no keys s | with keys s | extra s | payload MB/s (wall) | extra CPU s | payload MB/s (CPU) |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for s in "${SUITE_LIST[@]}"; do
  read -r name _ _ iana <<<"$s"
  awk -v c="$name" -v su="$iana" -v p="${PAYLOAD[$name]}" -v a="${BEST[$name nokeys]}" \
    -v b="${BEST[$name keys]}" -v ca="${CPU[$name nokeys]}" -v cb="${CPU[$name keys]}" 'BEGIN{
      d = b - a; dc = cb - ca
      printf "| %s | %s | %.1f | %.3f | %.3f | %.3f | %s | %.2f | %s |\n", c, su, p/1e6, a, b, d,
        (d > 0.005 ? sprintf("%.0f", p/1e6/d) : "n/a"), dc, (dc > 0.005 ? sprintf("%.0f", p/1e6/dc) : "n/a")}'
done
