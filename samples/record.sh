#!/usr/bin/env bash
# Re-create the packet captures in samples/ from real software on this machine.
#
#   sudo samples/record.sh              # every scenario, then samples/expected.json + README.md
#   sudo samples/record.sh http_ipv6    # only the named scenario(s); other entries are kept
#
# Needs root (network namespaces, tcpdump) and: tcpdump, tshark, capinfos, mergecap, nginx,
# curl, iproute2, python3 with `websockets`, `brotli` and `h2` (pip install websockets brotli h2),
# tinyproxy, microsocks, openssl, chromium (browser_cors, websocket_browser and tls_chromium), haproxy (websocket_haproxy),
# apache2 (websocket_apache_broken; Debian's, run with its own config from the work dir) and
# editcap (tls13_dsb, split_nginx_ws), gzip and zstd (split_nginx_ws), nghttp (nghttp2-client; h2_prior_knowledge). The tls_* and h2_* TLS scenarios
# also write the key logs (NAME.keys) and tls/NAME.tshark.txt; the h2_* ones h2/NAME.tshark.txt.
# websocket_socks5, websocket_connect_tinyproxy, tls_connect_tinyproxy and tls_socks5_microsocks use
# microsocks 1.0.3 and tinyproxy 1.11.
# split_nginx_ws writes split-nginx-ws.{front,back,back-skewed}.pcap, rotated/ and split/NAME.tshark.txt;
# split_nginx_nat split-nginx-nat.{client,client-skewed,back}.pcap (tools/nat_box.py: no iptables here);
# split_samples (not in a full run: it reads the finished samples) writes split/.
#
# Network rules kept here: every scenario runs in network namespaces this script creates
# (hs<PID>-*), so "loopback" traffic is the loopback of a private namespace and two-host
# traffic uses 192.0.2.0/24, 198.51.100.0/24 and fd00::/8 on links inside those namespaces.
# Nothing leaves them. All request loops are bounded; servers, tcpdump and namespaces are
# removed by the EXIT trap even when a step fails.
#
# The kernel this was recorded on has no 802.1Q VLAN devices and no netem qdisc, so VLAN
# tagging and loss/reordering/duplication are done by samples/tools/wire.py, a userspace
# bridge between TAP devices that forwards every frame over a real veth "trunk" (see there).
set -euo pipefail
export PYTHONDONTWRITEBYTECODE=1

HERE=$(cd "$(dirname "$0")" && pwd)
TOOLS=$HERE/tools
OUT=${OUT:-$HERE}
PY=${PY:-python3}
NSP=hs$$
WORK=$(mktemp -d /tmp/hopscope-samples.XXXXXX)
chmod 755 "$WORK"
FACTS=$WORK/facts
CAP=$WORK/out
mkdir -p "$FACTS" "$CAP"
BG=()      # background processes started by the current scenario
NSES=()    # namespaces created by the current scenario
TCPDUMPS=()

log() { printf '== %s\n' "$*" >&2; }

stop_pid() {
    local pid=$1 sig=${2:-TERM}
    if kill -0 "$pid" 2>/dev/null; then
        kill "-$sig" "$pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

scenario_cleanup() {
    local pid ns
    for pid in "${TCPDUMPS[@]}"; do stop_pid "$pid" INT; done
    for pid in "${BG[@]}"; do stop_pid "$pid" TERM; done
    for ns in "${NSES[@]}"; do
        # anything still running inside one of our namespaces was started by this script
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
        ip netns del "$ns" 2>/dev/null || true
    done
    BG=(); NSES=(); TCPDUMPS=()
}

cleanup() {
    local rc=$?
    scenario_cleanup
    if [ -n "${KEEP_WORK:-}" ]; then echo "work dir kept: $WORK" >&2; else rm -rf "$WORK"; fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_bg() { "$@" & BG+=($!); }

ns_new() {   # ns_new SUFFIX [keep-ipv6]  -> namespace $NSP-SUFFIX with lo up
    local ns=$NSP-$1
    ip netns add "$ns"
    NSES+=("$ns")
    if [ "${2:-}" != keep-ipv6 ]; then
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    fi
    ip -n "$ns" link set lo up
}

wait_for() {   # wait_for DESCRIPTION COMMAND...   (up to 10 s)
    local what=$1; shift
    for _ in $(seq 100); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
    echo "timed out waiting for $what" >&2
    return 1
}

listening() {   # listening NS PORT [-u]
    [ -n "$(ip netns exec "$1" ss -Hln ${3:--t} "sport = :$2")" ]
}

tcpdump_start() {   # tcpdump_start NS OUTFILE TCPDUMP-ARGS...   (adds -U -w, waits until ready)
    local ns=$1 out=$2; shift 2
    local errlog=$WORK/tcpdump.$(basename "$out").log
    # --immediate-mode: packets are not held back in kernel blocks when tcpdump is stopped;
    # -B 65536 (KiB): in immediate mode every ring slot holds a full snaplen, so the default
    # 2 MiB ring has only ~8 slots and drops bursts
    ip netns exec "$ns" tcpdump --immediate-mode -B 65536 -U -Z root -w "$out" "$@" 2>"$errlog" &
    TCPDUMPS+=($!)
    wait_for "tcpdump on $out" grep -q "listening on" "$errlog"
}

tcpdump_stop_all() {   # let the last packets arrive, then SIGINT every tcpdump
    local pid f
    sleep 0.5
    for pid in "${TCPDUMPS[@]}"; do kill -INT "$pid" 2>/dev/null || true; done
    for pid in "${TCPDUMPS[@]}"; do wait "$pid" 2>/dev/null || true; done
    TCPDUMPS=()
    # a capture with kernel drops would not hold what the programs sent: fail loudly
    for f in "$WORK"/tcpdump.*.log; do
        if ! grep -q "^0 packets dropped by kernel" "$f"; then
            echo "tcpdump dropped packets or did not finish cleanly: $f" >&2
            cat "$f" >&2
            return 1
        fi
        mv "$f" "$f.done"
    done
}

fact() { "$PY" "$TOOLS/facts.py" add --facts "$FACTS" "$@"; }

# ---------------------------------------------------------------------------------------------
# nginx with a few static files (mtimes fixed so ETag/Last-Modified repeat between runs)

nginx_setup() {   # nginx_setup DIR LISTEN...   -> DIR/nginx.conf, DIR/www
    # optional: NGINX_HTTP_EXTRA / NGINX_SERVER_EXTRA (config lines for the http / server block)
    local dir=$1; shift
    mkdir -p "$dir/www" "$dir/tmp" "$dir/logs"
    "$PY" - "$dir/www" <<'EOF'
import sys, os
www = sys.argv[1]
open(os.path.join(www, "index.html"), "w").write(
    "<!doctype html>\n<html><head><title>hopscope sample</title>"
    "<link rel=stylesheet href=style.css></head>\n<body><h1>hopscope sample page</h1>\n"
    + "".join(f"<p>paragraph {i}: the quick brown fox jumps over the lazy dog.</p>\n" for i in range(8))
    + "</body></html>\n")
open(os.path.join(www, "style.css"), "w").write(
    "body { font-family: sans-serif; margin: 2em; }\nh1 { color: #345; }\np { line-height: 1.4; }\n")
rows = ",\n".join(f'  {{"id": {i}, "name": "item-{i:04d}", "value": {i * 37 % 1000}}}' for i in range(120))
open(os.path.join(www, "data.json"), "w").write("[\n" + rows + "\n]\n")
EOF
    touch -d @1700000000 "$dir/www"/*
    {
        echo "worker_processes 1; daemon off; user root;"
        echo "error_log $dir/logs/error.log; pid $dir/nginx.pid;"
        echo "events { worker_connections 64; }"
        echo "http {"
        echo "  access_log $dir/logs/access.log;"
        echo "  client_body_temp_path $dir/tmp/body; proxy_temp_path $dir/tmp/proxy;"
        echo "  fastcgi_temp_path $dir/tmp/fcgi; uwsgi_temp_path $dir/tmp/uwsgi; scgi_temp_path $dir/tmp/scgi;"
        echo "  types { text/html html; text/css css; application/json json; }"
        echo "  default_type application/octet-stream;"
        echo "  keepalive_timeout 10;"
        if [ -n "${NGINX_HTTP_EXTRA:-}" ]; then echo "  $NGINX_HTTP_EXTRA"; fi
        echo "  server {"
        local l
        for l in "$@"; do echo "    listen $l;"; done
        echo "    root $dir/www;"
        if [ -n "${NGINX_SERVER_EXTRA:-}" ]; then echo "    $NGINX_SERVER_EXTRA"; fi
        echo "  }"
        echo "}"
    } >"$dir/nginx.conf"
}

nginx_start() {   # nginx_start NS DIR PORT
    start_bg ip netns exec "$1" nginx -p "$2" -c "$2/nginx.conf" -e "$2/logs/error.log"
    wait_for "nginx" listening "$1" "$3"
}

curl_run() {   # curl_run NS TRACEPREFIX CURL-ARGS...   (one connection; bytes from --trace)
    local ns=$1 prefix=$2 rc=0; shift 2
    # no proxy from the environment; -x / --socks5 given by the scenario still apply
    ip netns exec "$ns" env -u http_proxy -u HTTP_PROXY -u https_proxy -u HTTPS_PROXY -u all_proxy \
        -u ALL_PROXY -u no_proxy -u NO_PROXY curl -q -sS --trace "$prefix.trace" "$@" >"$prefix.body" || rc=$?
    # CURL_OK_RC: an exit code the scenario expects (e.g. 47 for --max-redirs)
    if [ "$rc" != 0 ] && [ "$rc" != "${CURL_OK_RC:-}" ]; then echo "curl failed ($rc)" >&2; return "$rc"; fi
    "$PY" "$TOOLS/curl_trace_bytes.py" "$prefix.trace" "$prefix" >"$prefix.json"
}

# ---------------------------------------------------------------------------------------------
# Scenarios

# One curl keep-alive exchange with nginx on 127.0.0.1, recorded by several tcpdumps at once
# (so these captures hold the same exchange with different link types / precisions / snaplen).
scenario_http_loopback() {
    log "http over loopback: keepalive, nanosecond, sll2, sll, snaplen, multi-if"
    local ns=$NSP-lo4 d=$WORK/lo4
    ns_new lo4
    nginx_setup "$d" 127.0.0.1:8080
    nginx_start "$ns" "$d" 8080
    local f="tcp port 8080"
    tcpdump_start "$ns" "$CAP/http-keepalive.pcap" -i lo "$f"
    tcpdump_start "$ns" "$CAP/http-nanosecond.pcap" -i lo --time-stamp-precision=nano "$f"
    tcpdump_start "$ns" "$CAP/http-sll2.pcap" -i any "$f"
    tcpdump_start "$ns" "$CAP/http-sll.pcap" -i any -y LINUX_SLL "$f"
    tcpdump_start "$ns" "$CAP/http-snaplen.pcap" -i lo -s 80 "$f"
    curl_run "$ns" "$d/curl" --local-port 40001 \
        http://127.0.0.1:8080/index.html http://127.0.0.1:8080/style.css \
        http://127.0.0.1:8080/missing.html http://127.0.0.1:8080/data.json
    tcpdump_stop_all
    # pcapng with two interfaces of different link types: lo (EN10MB, ns timestamps) and
    # any (LINUX_SLL2, us timestamps), both seeing the same exchange.
    mergecap -F pcapng -w "$CAP/http-multi-if.pcapng" "$CAP/http-nanosecond.pcap" "$CAP/http-sll2.pcap"
    local s="127.0.0.1:40001 127.0.0.1:8080 $d/curl curl--trace"
    local sw="nginx 1.22 + curl 7.88 (4 URLs, one keep-alive connection), tcpdump 4.99"
    local what="GET index.html, style.css, missing.html (404), data.json on one connection"
    fact --file http-keepalive.pcap --software "$sw -i lo" --shows "$what" --stream "$s"
    fact --file http-nanosecond.pcap --software "$sw -i lo --time-stamp-precision=nano" \
        --shows "$what; nanosecond pcap magic a1b23c4d" --stream "$s"
    fact --file http-sll2.pcap --software "$sw -i any" --shows "$what; LINUX_SLL2 framing" --stream "$s"
    fact --file http-sll.pcap --software "$sw -i any -y LINUX_SLL" --shows "$what; LINUX_SLL framing" --stream "$s"
    fact --file http-snaplen.pcap --software "$sw -i lo -s 80" \
        --shows "$what; every frame cut to 80 bytes (caplen < len), payload mostly missing" \
        --stream "$s" --incomplete "snaplen 80: the capture holds only the first bytes of each segment"
    fact --file http-multi-if.pcapng --software "tcpdump -i lo --nano and tcpdump -i any, merged by mergecap -F pcapng" \
        --shows "$what, seen twice: interface 0 lo EN10MB if_tsresol=9, interface 1 any LINUX_SLL2 if_tsresol=6" \
        --stream "$s" --note "every packet appears twice, once per interface"
    scenario_cleanup
}

scenario_http_ipv6() {
    log "http over IPv6 loopback"
    local ns=$NSP-lo6 d=$WORK/lo6
    ns_new lo6 keep-ipv6
    nginx_setup "$d" '[::1]:8080'
    nginx_start "$ns" "$d" 8080
    tcpdump_start "$ns" "$CAP/http-ipv6.pcap" -i lo "ip6 and tcp port 8080"
    curl_run "$ns" "$d/curl" -g --local-port 40002 \
        'http://[::1]:8080/index.html' 'http://[::1]:8080/style.css'
    tcpdump_stop_all
    fact --file http-ipv6.pcap --software "nginx 1.22 + curl 7.88 on [::1], tcpdump -i lo" \
        --shows "2 GETs on one keep-alive connection over IPv6" \
        --stream "[::1]:40002 [::1]:8080 $d/curl curl--trace"
    scenario_cleanup
}

websocket_run() {   # websocket_run NAME COMPRESSION PORT LOCALPORT
    local name=$1 comp=$2 port=$3 lport=$4
    local ns=$NSP-$name d=$WORK/$name
    ns_new "$name"
    mkdir -p "$d"
    start_bg ip netns exec "$ns" "$PY" "$HERE/ws_server.py" 127.0.0.1 "$port" --compression "$comp"
    wait_for "ws server" listening "$ns" "$port"
    tcpdump_start "$ns" "$CAP/$name.pcap" -i lo "tcp port $port"
    ip netns exec "$ns" "$PY" "$HERE/ws_client.py" "ws://127.0.0.1:$port/echo" \
        --local "127.0.0.1:$lport" --log "$d/ws" --compression "$comp"
    tcpdump_stop_all
}

scenario_websocket_echo() {
    log "websocket echo (no compression)"
    websocket_run websocket-echo none 8765 40003
    fact --file websocket-echo.pcap --software "Python websockets 17 server (echo) and client, tcpdump -i lo" \
        --shows "upgrade, text (two short ones and one of 68,000 bytes, 64-bit length), binary (512 and 15 bytes), ping/pong, close 1000 'bye'; compression=None" \
        --stream "127.0.0.1:40003 127.0.0.1:8765 $WORK/websocket-echo/ws ws_client.py-transport-log"
    scenario_cleanup
}

scenario_websocket_deflate() {
    log "websocket echo (permessage-deflate)"
    websocket_run websocket-deflate deflate 8766 40004
    fact --file websocket-deflate.pcap --software "Python websockets 17 server (echo) and client, tcpdump -i lo" \
        --shows "same messages as websocket-echo with permessage-deflate negotiated (RSV1 compressed frames)" \
        --stream "127.0.0.1:40004 127.0.0.1:8766 $WORK/websocket-deflate/ws ws_client.py-transport-log"
    scenario_cleanup
}

# curl through tinyproxy to nginx: one absolute-URI GET (proxy opens its own connection to
# nginx) and one CONNECT tunnel (curl -p), both hops captured on the same loopback.
scenario_http_proxy() {
    log "http through tinyproxy (forward GET and CONNECT)"
    local ns=$NSP-proxy d=$WORK/proxy
    ns_new proxy
    nginx_setup "$d" 127.0.0.1:8080
    nginx_start "$ns" "$d" 8080
    cat >"$d/tinyproxy.conf" <<EOF
User root
Group root
Port 8888
Listen 127.0.0.1
Timeout 30
MaxClients 8
Allow 127.0.0.1
ConnectPort 8080
LogLevel Info
LogFile "$d/logs/tinyproxy.log"
PidFile "$d/tinyproxy.pid"
EOF
    start_bg ip netns exec "$ns" tinyproxy -d -c "$d/tinyproxy.conf" 2>>"$d/logs/tinyproxy.stderr"
    wait_for "tinyproxy" listening "$ns" 8888
    tcpdump_start "$ns" "$CAP/http-proxy.pcap" -i lo "tcp port 8888 or tcp port 8080"
    curl_run "$ns" "$d/get" --local-port 40010 -x http://127.0.0.1:8888 http://127.0.0.1:8080/index.html
    curl_run "$ns" "$d/connect" --local-port 40011 -p -x http://127.0.0.1:8888 \
        http://127.0.0.1:8080/style.css http://127.0.0.1:8080/data.json
    tcpdump_stop_all
    fact --file http-proxy.pcap --software "curl 7.88 -> tinyproxy 1.11 -> nginx 1.22 on loopback, tcpdump -i lo" \
        --shows "4 TCP connections: curl->proxy 'GET http://127.0.0.1:8080/index.html' and the proxy's own connection to nginx (Via header added); curl->proxy 'CONNECT 127.0.0.1:8080' tunnel carrying 2 keep-alive GETs and the proxy's tunnel connection to nginx" \
        --stream "127.0.0.1:40010 127.0.0.1:8888 $d/get curl--trace" \
        --stream "127.0.0.1:40011 127.0.0.1:8888 $d/connect curl--trace" \
        --follow-server 127.0.0.1:8080 \
        --note "the proxy->nginx connections use ephemeral client ports (not fixed); their bytes come from tshark's follow"
    scenario_cleanup
}

# curl through microsocks (SOCKS5) to nginx: two GETs through one tunnel.
scenario_socks5() {
    log "http through microsocks (SOCKS5)"
    local ns=$NSP-socks d=$WORK/socks
    ns_new socks
    nginx_setup "$d" 127.0.0.1:8080
    nginx_start "$ns" "$d" 8080
    start_bg ip netns exec "$ns" microsocks -i 127.0.0.1 -p 1080 >>"$d/logs/microsocks.log" 2>&1
    wait_for "microsocks" listening "$ns" 1080
    tcpdump_start "$ns" "$CAP/socks5.pcap" -i lo "tcp port 1080 or tcp port 8080"
    curl_run "$ns" "$d/curl" --local-port 40012 --socks5 127.0.0.1:1080 \
        http://127.0.0.1:8080/index.html http://127.0.0.1:8080/style.css
    tcpdump_stop_all
    # curl --trace does not log the SOCKS5 handshake: take the client connection's bytes from
    # tshark's follow, require curl's traced bytes to be exactly their tail, parse the handshake
    "$PY" "$TOOLS/facts.py" socks-prefix --pcap "$CAP/socks5.pcap" --client 127.0.0.1:40012 \
        --trace-prefix "$d/curl" --out "$d/socks"
    fact --file socks5.pcap --software "curl 7.88 --socks5 -> microsocks 1.0.3 -> nginx 1.22 on loopback, tcpdump -i lo" \
        --shows "SOCKS5 greeting (no auth), CONNECT 127.0.0.1:8080 by IPv4 address, then 2 keep-alive GETs through the tunnel; plus microsocks' own connection to nginx" \
        --stream "127.0.0.1:40012 127.0.0.1:1080 $d/socks tshark-follow+curl--trace" \
        --note-file "$d/socks.details.json" --follow-server 127.0.0.1:8080
    scenario_cleanup
}

# Two namespaces (client A, server B) joined through tools/wire.py over a veth trunk in ns M.
wire_topology() {   # wire_topology NAME SUBNET(/24 prefix, e.g. 192.0.2) WIRE-ARGS...
    local name=$1 net=$2; shift 2
    local a=$NSP-$name-a b=$NSP-$name-b m=$NSP-$name-m
    ns_new "$name-a"; ns_new "$name-b"; ns_new "$name-m"
    ip -n "$m" link add trunk-a mtu 1600 address 02:00:00:00:01:0a type veth peer name trunk-b mtu 1600 address 02:00:00:00:01:0b
    ip -n "$m" link set trunk-a up
    ip -n "$m" link set trunk-b up
    start_bg ip netns exec "$m" "$PY" "$TOOLS/wire.py" --tap-a tap-a --tap-b tap-b --ns-a "$a" --ns-b "$b" \
        --trunk-a trunk-a --trunk-b trunk-b --ready "$WORK/$name.wire.ready" --stats "$WORK/$name.wire.stats" "$@"
    WIRE_PID=${BG[-1]}
    wait_for "wire" test -e "$WORK/$name.wire.ready"
    ip -n "$a" link set tap-a address 02:00:00:00:00:0a up
    ip -n "$b" link set tap-b address 02:00:00:00:00:0b up
    ip -n "$a" addr add "$net.1/24" dev tap-a
    ip -n "$b" addr add "$net.2/24" dev tap-b
    # static neighbours: no ARP needed across the wire (keeps the captures to the TCP exchange)
    ip -n "$a" neigh replace "$net.2" lladdr 02:00:00:00:00:0b dev tap-a nud permanent
    ip -n "$b" neigh replace "$net.1" lladdr 02:00:00:00:00:0a dev tap-b nud permanent
}

http_server_start() {   # http_server_start NS ADDR PORT DIR
    mkdir -p "$4"
    "$PY" -c 'import sys; open(sys.argv[1] + "/hello.txt", "w").write("hello from python http.server\n" * 40)' "$4"
    "$PY" -c 'import sys; open(sys.argv[1] + "/big.txt", "w").write("".join(f"{i:06d} some text to fill a few full-size frames\n" for i in range(200)))' "$4"
    touch -d @1700000000 "$4"/*
    # python's http.server, switched to HTTP/1.1 so curl can keep the connection alive
    start_bg ip netns exec "$1" "$PY" -c 'import functools, http.server as h, sys
d, addr, port = sys.argv[1:4]
h.SimpleHTTPRequestHandler.protocol_version = "HTTP/1.1"
h.ThreadingHTTPServer((addr, int(port)), functools.partial(h.SimpleHTTPRequestHandler, directory=d)).serve_forever()' "$4" "$2" "$3" 2>>"$WORK/http.server.log"
    wait_for "http.server" listening "$1" "$3"
}

scenario_http_vlan() {
    log "http over an 802.1Q trunk (VLAN 100)"
    local name=vlan d=$WORK/vlan
    wire_topology "$name" 192.0.2 --tag vlan:100
    http_server_start "$NSP-$name-b" 192.0.2.2 8000 "$d/www"
    tcpdump_start "$NSP-$name-m" "$CAP/http-vlan.pcap" -i trunk-a "vlan 100 and tcp port 8000"
    curl_run "$NSP-$name-a" "$d/curl" --local-port 40005 http://192.0.2.2:8000/hello.txt http://192.0.2.2:8000/big.txt
    tcpdump_stop_all
    fact --file http-vlan.pcap --software "Python 3.11 http.server (HTTP/1.1) + curl 7.88 in two namespaces, frames carried over a veth trunk by tools/wire.py --tag vlan:100, tcpdump -i trunk-a" \
        --shows "2 GETs on one keep-alive connection, every frame 802.1Q-tagged VLAN 100" \
        --stream "192.0.2.1:40005 192.0.2.2:8000 $d/curl curl--trace"
    scenario_cleanup
}

scenario_http_qinq() {
    log "http over an 802.1ad/802.1Q (QinQ) trunk"
    local name=qinq d=$WORK/qinq
    wire_topology "$name" 198.51.100 --tag qinq:200:100
    http_server_start "$NSP-$name-b" 198.51.100.2 8000 "$d/www"
    tcpdump_start "$NSP-$name-m" "$CAP/http-qinq.pcap" -i trunk-a "vlan 200 and vlan 100 and tcp port 8000"
    curl_run "$NSP-$name-a" "$d/curl" --local-port 40006 http://198.51.100.2:8000/hello.txt
    tcpdump_stop_all
    fact --file http-qinq.pcap --software "Python 3.11 http.server (HTTP/1.1) + curl 7.88 in two namespaces, tools/wire.py --tag qinq:200:100, tcpdump -i trunk-a" \
        --shows "one GET, every frame double-tagged: outer 802.1ad (0x88a8) VLAN 200, inner 802.1Q VLAN 100" \
        --stream "198.51.100.1:40006 198.51.100.2:8000 $d/curl curl--trace"
    scenario_cleanup
}

scenario_tcp_reorder_midstream() {
    log "tcp with delay/reorder/duplication/loss, capture started mid-connection"
    local name=reorder d=$WORK/reorder
    mkdir -p "$d"
    wire_topology "$name" 192.0.2 --delay-ms 10 --reorder 0.25 --dup 0.05 --loss 0.02 --seed 7 --grace 3
    local cb=60000 sb=36000
    start_bg ip netns exec "$NSP-$name-b" "$PY" "$TOOLS/tcp_peer.py" server 192.0.2.2 9000 \
        --client-bytes $cb --server-bytes $sb --log "$d/server" >/dev/null
    wait_for "tcp_peer server" listening "$NSP-$name-b" 9000
    start_bg ip netns exec "$NSP-$name-a" "$PY" "$TOOLS/tcp_peer.py" client 192.0.2.2 9000 --local 192.0.2.1:40007 \
        --client-bytes $cb --server-bytes $sb --signal "$d/sig" --log "$d/client" >/dev/null
    local client_pid=${BG[-1]}
    wait_for "client connected" test -e "$d/sig.connected"
    sleep 1
    tcpdump_start "$NSP-$name-m" "$CAP/tcp-reorder-midstream.pcap" -i trunk-a "tcp port 9000"
    touch "$d/sig.go"
    wait "$client_pid"
    tcpdump_stop_all
    stop_pid "$WIRE_PID" TERM   # writes its counters
    tr '\n' ' ' <"$WORK/$name.wire.stats" >"$d/wire.txt"
    fact --file tcp-reorder-midstream.pcap --software "tools/tcp_peer.py client/server (Linux TCP) in two namespaces, tools/wire.py delay 10ms reorder 25% duplicate 5% loss 2% on both directions (first 3 data segments per direction unimpaired), tcpdump -i trunk-a started after connect" \
        --shows "no handshake in the capture; 60,000 bytes client->server, then 36,000 bytes back, with reordering, duplicates, losses and retransmissions; FINs at the end, then RSTs from the closed server answering late duplicates" \
        --stream "192.0.2.1:40007 192.0.2.2:9000 $d/client tcp_peer.py-generated-payload" \
        --note "wire.py counters for the whole connection (TCP segments without SYN, both directions): $(cat "$d/wire.txt")"
    scenario_cleanup
}

veth_pair() {   # veth_pair NAME  -> namespaces NAME-a (v-a) and NAME-b (v-b), MTU 1500
    local name=$1
    ns_new "$name-a" "${2:-}"; ns_new "$name-b" "${2:-}"
    ip link add "hs$$v-a" type veth peer name "hs$$v-b"
    ip link set "hs$$v-a" netns "$NSP-$name-a" name v-a address 02:00:00:00:02:0a mtu 1500
    ip link set "hs$$v-b" netns "$NSP-$name-b" name v-b address 02:00:00:00:02:0b mtu 1500
    ip -n "$NSP-$name-a" link set v-a up
    ip -n "$NSP-$name-b" link set v-b up
}

scenario_udp_fragments() {
    log "udp datagrams fragmented by the kernel (IPv4 and IPv6)"
    local name=udpf
    veth_pair "$name"
    local a=$NSP-$name-a b=$NSP-$name-b
    ip -n "$a" addr add 192.0.2.1/24 dev v-a
    ip -n "$b" addr add 192.0.2.2/24 dev v-b
    ip -n "$a" neigh replace 192.0.2.2 lladdr 02:00:00:00:02:0b dev v-a nud permanent
    ip -n "$b" neigh replace 192.0.2.1 lladdr 02:00:00:00:02:0a dev v-b nud permanent
    start_bg ip netns exec "$b" "$PY" "$TOOLS/udp_frag.py" server 192.0.2.2 5000 --reply-bytes 3000 --count 2 >/dev/null
    wait_for "udp server" listening "$b" 5000 -u
    tcpdump_start "$a" "$CAP/udp-fragments.pcap" -i v-a "udp or (ip[6:2] & 0x1fff != 0)"
    ip netns exec "$a" "$PY" "$TOOLS/udp_frag.py" client 192.0.2.2 5000 --local 192.0.2.1:40008 \
        --send-bytes 4000 --count 2 >"$WORK/udpf.json"
    tcpdump_stop_all
    fact --file udp-fragments.pcap --software "tools/udp_frag.py (Linux UDP sockets) over a veth pair with MTU 1500 between two namespaces, tcpdump -i v-a" \
        --shows "2 UDP requests of 4000 bytes (3 IPv4 fragments each) and 2 replies of 3000 bytes (3 fragments each), 192.0.2.1:40008 <-> 192.0.2.2:5000" \
        --note-file <(printf '{"udp_exchanges": %s}' "$(cat "$WORK/udpf.json")")
    scenario_cleanup

    name=udpf6
    veth_pair "$name" keep-ipv6
    a=$NSP-$name-a b=$NSP-$name-b
    ip -n "$a" addr add fd00::1/64 dev v-a nodad
    ip -n "$b" addr add fd00::2/64 dev v-b nodad
    ip -n "$a" neigh replace fd00::2 lladdr 02:00:00:00:02:0b dev v-a nud permanent
    ip -n "$b" neigh replace fd00::1 lladdr 02:00:00:00:02:0a dev v-b nud permanent
    start_bg ip netns exec "$b" "$PY" "$TOOLS/udp_frag.py" server fd00::2 5000 --reply-bytes 3000 --count 2 >/dev/null
    wait_for "udp6 server" listening "$b" 5000 -u
    tcpdump_start "$a" "$CAP/udp6-fragments.pcap" -i v-a "ip6 and (udp or ip6[6] == 44)"
    ip netns exec "$a" "$PY" "$TOOLS/udp_frag.py" client fd00::2 5000 --local '[fd00::1]:40009' \
        --send-bytes 4000 --count 2 >"$WORK/udpf6.json"
    tcpdump_stop_all
    fact --file udp6-fragments.pcap --software "tools/udp_frag.py over a veth pair (MTU 1500) between two namespaces, IPv6, tcpdump -i v-a" \
        --shows "2 UDP requests of 4000 bytes and 2 replies of 3000 bytes, each in IPv6 Fragment-header fragments, [fd00::1]:40009 <-> [fd00::2]:5000" \
        --note-file <(printf '{"udp_exchanges": %s}' "$(cat "$WORK/udpf6.json")")
    scenario_cleanup
}

# ---------------------------------------------------------------------------------------------
# HTTP message framing: pipelining, chunked, 1xx, content-codings, close-delimited bodies.
# Besides the stream bytes, each of these records `transactions` (tools/httpwire.py) split from
# the bytes the client logged.

lab_start() {   # lab_start NS ADDR PORT   (tools/http_lab_server.py; see its docstring)
    start_bg ip netns exec "$1" "$PY" "$TOOLS/http_lab_server.py" "$2" "$3" 2>>"$WORK/lab.log"
    wait_for "http_lab_server" listening "$1" "$3"
}

curl_source() {   # curl_source PREFIX -> the stream/transaction source label for a curl_run
    if grep -q crlf_added_after_1xx "$1.json"; then echo curl--trace+1xx-crlf; else echo curl--trace; fi
}

tx_curl() {   # tx_curl PREFIX CLIENT SERVER [httpwire args]...  -> PREFIX.tx.json
    local prefix=$1 client=$2 server=$3; shift 3
    "$PY" "$TOOLS/httpwire.py" transactions --client "$client" --server "$server" \
        --source "$(curl_source "$prefix")" --curl-trace "$prefix.trace" --out "$prefix.tx.json" "$@"
}

tx_log() {   # tx_log PREFIX CLIENT SERVER SOURCE [httpwire args]...  -> PREFIX.tx.json
    local prefix=$1 client=$2 server=$3 source=$4; shift 4
    "$PY" "$TOOLS/httpwire.py" transactions --client "$client" --server "$server" \
        --source "$source" --log "$prefix" --out "$prefix.tx.json" "$@"
}

raw_client() {   # raw_client NS CONNECT LOCAL PREFIX REQUEST-FILE...  (one send() per file)
    local ns=$1 connect=$2 local_=$3 prefix=$4; shift 4
    local sends=() f
    for f in "$@"; do sends+=(--send "$f"); done
    ip netns exec "$ns" "$PY" "$TOOLS/http_raw_client.py" "$connect" --local "$local_" \
        --log "$prefix" "${sends[@]}"
}

text_file() {   # text_file PATH BYTES TAG   (deterministic text)
    "$PY" -c 'import sys
n, tag = int(sys.argv[2]), sys.argv[3]
out = "".join(f"{tag} line {i:06d}: some body text for the sample\n" for i in range(n // 40 + 1))
open(sys.argv[1], "w").write(out[:n])' "$1" "$2" "$3"
}

# Four requests written with ONE send() on one connection; nginx answers them in order.
scenario_http_pipelining() {
    log "http/1.1 pipelining: 4 requests in one send() to nginx"
    local ns=$NSP-pipe d=$WORK/pipe
    ns_new pipe
    nginx_setup "$d" 127.0.0.1:8080
    text_file "$d/www/a" 300 a; text_file "$d/www/b" 2000 b; text_file "$d/www/d" 5000 d
    touch -d @1700000000 "$d/www"/*
    nginx_start "$ns" "$d" 8080
    local h='Host: 127.0.0.1:8080\r\nUser-Agent: hopscope-raw/1\r\n'
    printf "GET /a HTTP/1.1\r\n${h}\r\nHEAD /b HTTP/1.1\r\n${h}\r\nGET /c HTTP/1.1\r\n${h}\r\nGET /d HTTP/1.1\r\n${h}Connection: close\r\n\r\n" >"$d/pipelined.req"
    tcpdump_start "$ns" "$CAP/http-pipelining.pcap" -i lo "tcp port 8080"
    raw_client "$ns" 127.0.0.1:8080 127.0.0.1:40020 "$d/raw" "$d/pipelined.req"
    tcpdump_stop_all
    tx_log "$d/raw" 127.0.0.1:40020 127.0.0.1:8080 http_raw_client.py-log
    fact --file http-pipelining.pcap --software "tools/http_raw_client.py (Python socket) -> nginx 1.22 on loopback, tcpdump -i lo" \
        --shows "4 pipelined requests written with one send() (GET /a, HEAD /b, GET /c -> 404, GET /d with Connection: close) on one connection; nginx answers in order and closes after the 4th" \
        --stream "127.0.0.1:40020 127.0.0.1:8080 $d/raw http_raw_client.py-log" \
        --transactions "$d/raw.tx.json"
    scenario_cleanup
}

# Chunked response with chunk extensions and trailers, split across segments (curl --raw keeps
# the chunked bytes in its output), then a POST whose body curl sends chunked.
scenario_http_chunked() {
    log "chunked response (extensions, trailer) and chunked request body"
    local ns=$NSP-chunk d=$WORK/chunk
    ns_new chunk
    mkdir -p "$d"
    lab_start "$ns" 127.0.0.1 8000
    text_file "$d/upload.bin" 3000 upload
    tcpdump_start "$ns" "$CAP/http-chunked.pcap" -i lo "tcp port 8000"
    curl_run "$ns" "$d/curl" --local-port 40021 --raw http://127.0.0.1:8000/chunked -o "$d/chunked.raw" \
        --next --local-port 40021 -H 'Transfer-Encoding: chunked' -H 'Expect:' \
        --data-binary "@$d/upload.bin" http://127.0.0.1:8000/upload -o "$d/upload.out"
    tcpdump_stop_all
    tx_curl "$d/curl" 127.0.0.1:40021 127.0.0.1:8000 --body - --body "$d/upload.out"
    "$PY" - "$d" <<'PYEOF'
import json, sys
d = sys.argv[1]
tx = json.load(open(d + "/curl.tx.json"))
raw = open(d + "/chunked.raw", "rb").read()
# curl --raw wrote the chunked body undecoded: it must be exactly the wire body
assert len(raw) == tx[0]["response_body_wire_bytes"], (len(raw), tx[0]["response_body_wire_bytes"])
json.dump({"curl_raw_output_bytes": len(raw),
           "server_received_upload": json.load(open(d + "/upload.out"))},
          open(d + "/details.json", "w"))
PYEOF
    fact --file http-chunked.pcap --software "Python 3.11 http.server (tools/http_lab_server.py) + curl 7.88 --raw, tcpdump -i lo" \
        --shows "one keep-alive connection: GET /chunked answered with Transfer-Encoding: chunked, chunk sizes 1/17/300/4096/5/1200 with chunk extensions and a trailer (X-Checksum), each chunk in its own segment and the 4096 chunk's size line in a segment of its own; then POST /upload with a chunked request body (curl -H 'Transfer-Encoding: chunked')" \
        --stream "127.0.0.1:40021 127.0.0.1:8000 $d/curl $(curl_source "$d/curl")" \
        --transactions "$d/curl.tx.json" --note-file "$d/details.json"
    scenario_cleanup
}

# Expect: 100-continue with a 200 KB body, then two 103 Early Hints before a 200.
scenario_http_100_continue() {
    log "100-continue upload and 103 early hints"
    local ns=$NSP-c100 d=$WORK/c100
    ns_new c100
    mkdir -p "$d"
    lab_start "$ns" 127.0.0.1 8000
    text_file "$d/big.bin" 200000 upload
    tcpdump_start "$ns" "$CAP/http-100-continue.pcap" -i lo "tcp port 8000"
    curl_run "$ns" "$d/curl" --local-port 40023 -H 'Expect: 100-continue' --data-binary "@$d/big.bin" \
        http://127.0.0.1:8000/upload -o "$d/upload.out" \
        --next --local-port 40023 http://127.0.0.1:8000/early-hints -o "$d/hints.out"
    tcpdump_stop_all
    tx_curl "$d/curl" 127.0.0.1:40023 127.0.0.1:8000 --body "$d/upload.out" --body "$d/hints.out"
    printf '{"server_received_upload": %s}' "$(cat "$d/upload.out")" >"$d/details.json"
    fact --file http-100-continue.pcap --software "Python 3.11 http.server (tools/http_lab_server.py) + curl 7.88, tcpdump -i lo" \
        --shows "one keep-alive connection: POST /upload of 200,000 bytes with Expect: 100-continue (curl waits for the server's 100 Continue before sending the body), then GET /early-hints answered by two 103 Early Hints (Link headers) before the 200" \
        --stream "127.0.0.1:40023 127.0.0.1:8000 $d/curl $(curl_source "$d/curl")" \
        --transactions "$d/curl.tx.json" --note-file "$d/details.json" \
        --note "curl 7.88's --trace leaves out the empty line that ends each 1xx head; tools/curl_trace_bytes.py puts it back (stream source curl--trace+1xx-crlf), tshark's follow agrees"
    scenario_cleanup
}

# Content-Encoding: gzip from nginx (chunked), and deflate (zlib and raw), br, "gzip, br",
# gzip and identity from http.server; curl --compressed decodes them (its output files are
# the decoded bodies, checked against tools/httpwire.py's own decoding).
scenario_http_encodings() {
    log "content-codings: gzip (nginx), deflate zlib/raw, br, gzip+br (python)"
    local ns=$NSP-enc d=$WORK/enc
    ns_new enc
    NGINX_HTTP_EXTRA="gzip on; gzip_types text/css application/json; gzip_min_length 20;" \
        nginx_setup "$d" 127.0.0.1:8080
    nginx_start "$ns" "$d" 8080
    lab_start "$ns" 127.0.0.1 8000
    tcpdump_start "$ns" "$CAP/http-encodings.pcap" -i lo "tcp port 8080 or tcp port 8000"
    curl_run "$ns" "$d/ngx" --local-port 40024 --compressed \
        http://127.0.0.1:8080/index.html -o "$d/ngx.index" http://127.0.0.1:8080/data.json -o "$d/ngx.data"
    local encs=(gzip deflate deflate-raw br gzip-br identity) e urls=() bodies=()
    for e in "${encs[@]}"; do
        urls+=("http://127.0.0.1:8000/enc/$e" -o "$d/lab.$e"); bodies+=(--body "$d/lab.$e")
    done
    curl_run "$ns" "$d/lab" --local-port 40025 --compressed "${urls[@]}"
    tcpdump_stop_all
    tx_curl "$d/ngx" 127.0.0.1:40024 127.0.0.1:8080 --body "$d/ngx.index" --body "$d/ngx.data"
    tx_curl "$d/lab" 127.0.0.1:40025 127.0.0.1:8000 "${bodies[@]}"
    fact --file http-encodings.pcap --software "curl 7.88 --compressed -> nginx 1.22 (gzip on) and -> Python 3.11 http.server (tools/http_lab_server.py), tcpdump -i lo" \
        --shows "2 keep-alive connections: nginx answers index.html and data.json with Content-Encoding: gzip and chunked framing; http.server answers /enc/* with gzip, deflate (zlib), deflate sent RAW (no zlib header), br, stacked 'gzip, br' and identity (Content-Length); curl decoded every body" \
        --stream "127.0.0.1:40024 127.0.0.1:8080 $d/ngx $(curl_source "$d/ngx")" \
        --stream "127.0.0.1:40025 127.0.0.1:8000 $d/lab $(curl_source "$d/lab")" \
        --transactions "$d/ngx.tx.json" --transactions "$d/lab.tx.json"
    scenario_cleanup
}

# HTTP/1.0 request, HTTP/1.0 response with no Content-Length (the close ends the body); and an
# HTTP/1.1 response with Connection: close.
scenario_http10_close() {
    log "HTTP/1.0 close-delimited body and HTTP/1.1 Connection: close"
    local ns=$NSP-h10 d=$WORK/h10
    ns_new h10
    mkdir -p "$d"
    lab_start "$ns" 127.0.0.1 8000
    tcpdump_start "$ns" "$CAP/http10-close.pcap" -i lo "tcp port 8000"
    curl_run "$ns" "$d/h10" --local-port 40026 -0 http://127.0.0.1:8000/http10 -o "$d/h10.out"
    curl_run "$ns" "$d/close" --local-port 40027 http://127.0.0.1:8000/close -o "$d/close.out"
    tcpdump_stop_all
    tx_curl "$d/h10" 127.0.0.1:40026 127.0.0.1:8000 --body "$d/h10.out"
    tx_curl "$d/close" 127.0.0.1:40027 127.0.0.1:8000 --body "$d/close.out"
    fact --file http10-close.pcap --software "Python 3.11 http.server (tools/http_lab_server.py) + curl 7.88, tcpdump -i lo" \
        --shows "2 connections: curl -0 'GET /http10 HTTP/1.0' answered 'HTTP/1.0 200' without Content-Length, the 3,000-byte body (3 writes) ended by the server's FIN; then an HTTP/1.1 GET answered with Content-Length and Connection: close, server closes first" \
        --stream "127.0.0.1:40026 127.0.0.1:8000 $d/h10 $(curl_source "$d/h10")" \
        --stream "127.0.0.1:40027 127.0.0.1:8000 $d/close $(curl_source "$d/close")" \
        --transactions "$d/h10.tx.json" --transactions "$d/close.tx.json"
    scenario_cleanup
}

# ---------------------------------------------------------------------------------------------
# WebSocket through an nginx reverse proxy: client -> nginx 127.0.0.1:8081 -> websockets echo
# server 127.0.0.1:BACKENDPORT. nginx's upstream connection has an ephemeral client port; the
# backend (ws_server.py --log) logs that connection's bytes itself, so both legs have facts
# from the programs.

ws_nginx_run() {   # ws_nginx_run NAME BACKENDPORT LOCALPORT LOCATION-BLOCK [ws_client args]...
    local name=$1 bport=$2 lport=$3 location=$4; shift 4
    local ns=$NSP-$name d=$WORK/$name
    ns_new "$name"
    NGINX_SERVER_EXTRA=$location nginx_setup "$d" 127.0.0.1:8081
    nginx_start "$ns" "$d" 8081
    ws_proxied_run "$name" nginx 8081 "$bport" "$lport" "$@"
}

# ws_proxied_run NAME PROXY FRONTPORT BACKENDPORT LOCALPORT [ws_client args]...
#   the proxy (named PROXY in the facts) already listens on 127.0.0.1:FRONTPORT in $NSP-NAME and
#   forwards to the echo server this starts on 127.0.0.1:BACKENDPORT
#   optional: WS_AFTER (a command run after the WebSocket client, still captured) and
#   WS_EXTRA_FILTER (more tcpdump filter, or-ed)
ws_proxied_run() {
    local name=$1 proxy=$2 fport=$3 bport=$4 lport=$5; shift 5
    local ns=$NSP-$name d=$WORK/$name
    start_bg ip netns exec "$ns" "$PY" "$HERE/ws_server.py" 127.0.0.1 "$bport" --log "$d/up"
    wait_for "ws server" listening "$ns" "$bport"
    tcpdump_start "$ns" "$CAP/$name.pcap" -i lo "tcp port $fport or tcp port $bport${WS_EXTRA_FILTER:+ or $WS_EXTRA_FILTER}"
    ip netns exec "$ns" "$PY" "$HERE/ws_client.py" "ws://127.0.0.1:$fport/echo" \
        --local "127.0.0.1:$lport" --log "$d/ws" --messages short "$@"
    if [ -n "${WS_AFTER:-}" ]; then $WS_AFTER; fi
    tcpdump_stop_all
    [ -s "$d/up.1.peer" ] || { echo "$name: the backend saw no connection" >&2; return 1; }
    [ ! -e "$d/up.2.peer" ] || { echo "$name: the backend saw more than one connection" >&2; return 1; }
    UPSTREAM=$(tr -d '\n' <"$d/up.1.peer")
    # what each side saw of the handshake, from the programs' logs
    "$PY" - "$d" "$UPSTREAM" "$proxy" <<'PYEOF'
import json, sys
d, upstream, proxy = sys.argv[1:4]
def head(b):
    end = b.find(b"\r\n\r\n")
    if end < 0:
        return None, []
    lines = b[:end].decode("latin-1").split("\r\n")
    return lines[0], [list(map(str.strip, l.split(":", 1))) for l in lines[1:]]
up_req = open(d + "/up.1.sent", "rb").read()
up_resp = open(d + "/up.1.recv", "rb").read()
ws = json.load(open(d + "/ws.json"))
cl_resp = open(d + "/ws.recv", "rb").read()
line, hdrs = head(up_req)
rline, rhdrs = head(up_resp)
cline, chdrs = head(cl_resp)
out = {"upstream_connection": {"client": upstream, "note": f"{proxy}'s ephemeral port, from the backend's log"},
       "upstream_request_line": line, "upstream_saw_headers": hdrs,
       "backend_answer": rline or ("closed the connection without a response" if not up_resp else None),
       "backend_answer_headers": rhdrs,
       "client_saw_status": int(cline.split(" ")[1]) if cline else None,
       "client_saw_status_line": cline, "client_saw_headers": chdrs}
if "rejected" in ws:
    out["client_rejected"] = ws["rejected"]
else:
    out["client_messages"] = ws["messages"]
    out["client_ping_payload"] = ws["ping_payload"]
    out["client_close"] = ws["close"]
out["summary"] = (f"client saw '{cline}'; {proxy} sent upstream '{line}' with headers "
                  + ", ".join(h[0] for h in hdrs) + f"; backend answered: {out['backend_answer']}")
json.dump(out, open(d + "/details.json", "w"), indent=1)
PYEOF
}

scenario_websocket_nginx_ok() {
    log "websocket through nginx (Upgrade/Connection forwarded, HTTP/1.1 upstream)"
    local d=$WORK/websocket-nginx-ok
    ws_nginx_run websocket-nginx-ok 8767 40028 'location /echo { proxy_pass http://127.0.0.1:8767; proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection "upgrade"; proxy_read_timeout 10s; }'
    tx_log "$d/ws" 127.0.0.1:40028 127.0.0.1:8081 ws_client.py-transport-log --allow-trailing
    tx_log "$d/up.1" "$UPSTREAM" 127.0.0.1:8767 ws_server.py-transport-log --allow-trailing
    fact --file websocket-nginx-ok.pcap --software "Python websockets 17 client -> nginx 1.22 (proxy_http_version 1.1, Upgrade/Connection forwarded) -> websockets 17 echo server, tcpdump -i lo" \
        --shows "both legs of a proxied WebSocket: client->nginx upgrade (101) and nginx's own HTTP/1.1 upgrade request to the backend (101), then two short texts and a 512-byte binary message echoed through nginx, ping/pong, close 1000 'bye'; compression=None" \
        --stream "127.0.0.1:40028 127.0.0.1:8081 $d/ws ws_client.py-transport-log" \
        --stream "$UPSTREAM 127.0.0.1:8767 $d/up.1 ws_server.py-transport-log" \
        --transactions "$d/ws.tx.json" --transactions "$d/up.1.tx.json" --note-file "$d/details.json" \
        --note "the nginx->backend connection uses an ephemeral client port (not fixed); its bytes come from the backend's own log (ws_server.py --log)"
    scenario_cleanup
}

scenario_websocket_nginx_broken() {
    log "websocket through a default nginx proxy_pass (no Upgrade forwarding, HTTP/1.0 upstream)"
    local d=$WORK/websocket-nginx-broken
    ws_nginx_run websocket-nginx-broken 8768 40029 'location /echo { proxy_pass http://127.0.0.1:8768; proxy_read_timeout 10s; }' --allow-reject
    tx_log "$d/ws" 127.0.0.1:40029 127.0.0.1:8081 ws_client.py-transport-log
    tx_log "$d/up.1" "$UPSTREAM" 127.0.0.1:8768 ws_server.py-transport-log --allow-unanswered
    fact --file websocket-nginx-broken.pcap --software "Python websockets 17 client -> nginx 1.22 with a default proxy_pass (HTTP/1.0 upstream, Upgrade not forwarded) -> websockets 17 echo server, tcpdump -i lo" \
        --shows "a WebSocket upgrade that a misconfigured proxy breaks: nginx forwards the handshake as HTTP/1.0 with Connection: close and without Upgrade; the backend's answer and what the client got are in details" \
        --stream "127.0.0.1:40029 127.0.0.1:8081 $d/ws ws_client.py-transport-log" \
        --stream "$UPSTREAM 127.0.0.1:8768 $d/up.1 ws_server.py-transport-log" \
        --transactions "$d/ws.tx.json" --transactions "$d/up.1.tx.json" --note-file "$d/details.json" \
        --note "the nginx->backend connection uses an ephemeral client port (not fixed); its bytes come from the backend's own log (ws_server.py --log)"
    scenario_cleanup
}

# proxy_legs DIR ARGS...  -> DIR/legs.json (tools/proxy_legs.py; --append to add a hop)
proxy_legs() { local d=$1; shift; "$PY" "$TOOLS/proxy_legs.py" --out "$d/legs.json" "$@"; }

# proxy_http_version 1.1 but no Upgrade/Connection forwarding: nginx sends an HTTP/1.1 GET with
# its default Connection: close and no Upgrade (nginx never forwards a client's Upgrade itself).
scenario_websocket_nginx_http11_no_upgrade() {
    log "websocket through nginx with proxy_http_version 1.1 but without proxy_set_header Upgrade/Connection"
    local d=$WORK/websocket-nginx-http11-no-upgrade
    ws_nginx_run websocket-nginx-http11-no-upgrade 8774 40100 'location /echo { proxy_pass http://127.0.0.1:8774; proxy_http_version 1.1; proxy_read_timeout 10s; }' --allow-reject
    tx_log "$d/ws" 127.0.0.1:40100 127.0.0.1:8081 ws_client.py-transport-log --headers
    tx_log "$d/up.1" "$UPSTREAM" 127.0.0.1:8774 ws_server.py-transport-log --headers --allow-unanswered
    proxy_legs "$d" --proxy nginx --match order --front "$d/ws.tx.json" --back "$d/up.1.tx.json" \
        --note "nginx 1.22 proxy_pass with proxy_http_version 1.1 and no proxy_set_header Upgrade/Connection: Upgrade is dropped, Connection is nginx's default 'close'"
    fact --file websocket-nginx-http11-no-upgrade.pcap --software "Python websockets 17 client -> nginx 1.22 (proxy_http_version 1.1, no proxy_set_header Upgrade/Connection) -> websockets 17 echo server, tcpdump -i lo" \
        --shows "a WebSocket upgrade half-configured at the proxy: nginx speaks HTTP/1.1 upstream but sends Connection: close and no Upgrade, so the backend refuses the handshake; the refusal passes through nginx to the client, which gives up; both legs and the pairing (details.proxy_legs) from the two programs' logs" \
        --stream "127.0.0.1:40100 127.0.0.1:8081 $d/ws ws_client.py-transport-log" \
        --stream "$UPSTREAM 127.0.0.1:8774 $d/up.1 ws_server.py-transport-log" \
        --transactions "$d/ws.tx.json" --transactions "$d/up.1.tx.json" \
        --note-file "$d/details.json" --note-file "$d/legs.json" \
        --note "the nginx->backend connection uses an ephemeral client port (not fixed); its bytes come from the backend's own log (ws_server.py --log)"
    scenario_cleanup
}

# HAProxy (Debian's, mode http, otherwise defaults) in front of the echo server: HAProxy
# forwards the Upgrade handshake and tunnels the frames after the 101.
scenario_websocket_haproxy() {
    log "websocket through haproxy (mode http, defaults)"
    local name=websocket-haproxy ns=$NSP-websocket-haproxy d=$WORK/websocket-haproxy
    ns_new "$name"
    mkdir -p "$d/logs"
    cat >"$d/haproxy.cfg" <<EOF
global
    pidfile $d/haproxy.pid
defaults
    mode http
    timeout connect 5s
    timeout client 10s
    timeout server 10s
frontend fe
    bind 127.0.0.1:8083
    default_backend be
backend be
    server echo 127.0.0.1:8776
EOF
    start_bg ip netns exec "$ns" haproxy -db -f "$d/haproxy.cfg" >>"$d/logs/haproxy.log" 2>&1
    wait_for "haproxy" listening "$ns" 8083
    haproxy -v | head -1 | cut -d' ' -f3 >"$d/version.txt"
    ws_proxied_run "$name" haproxy 8083 8776 40103
    tx_log "$d/ws" 127.0.0.1:40103 127.0.0.1:8083 ws_client.py-transport-log --allow-trailing --headers
    tx_log "$d/up.1" "$UPSTREAM" 127.0.0.1:8776 ws_server.py-transport-log --allow-trailing --headers
    proxy_legs "$d" --proxy haproxy --match order --front "$d/ws.tx.json" --back "$d/up.1.tx.json" \
        --note "HAProxy $(cat "$d/version.txt") mode http with no http-request/http-response rules and no option forwardfor: it adds no header of its own (no Via, no X-Forwarded-For)"
    fact --file websocket-haproxy.pcap --software "Python websockets 17 client -> HAProxy $(cat "$d/version.txt") (Debian; mode http, timeouts only) -> websockets 17 echo server, tcpdump -i lo" \
        --shows "both legs of a WebSocket through HAProxy: the client's upgrade (101) and HAProxy's upgrade request to the backend (101), then two short texts and a 512-byte binary message echoed through the tunnel, ping/pong, close 1000 'bye'; compression=None; what HAProxy changed in the handshake is in details.proxy_legs" \
        --stream "127.0.0.1:40103 127.0.0.1:8083 $d/ws ws_client.py-transport-log" \
        --stream "$UPSTREAM 127.0.0.1:8776 $d/up.1 ws_server.py-transport-log" \
        --transactions "$d/ws.tx.json" --transactions "$d/up.1.tx.json" \
        --note-file "$d/details.json" --note-file "$d/legs.json" \
        --note "the haproxy->backend connection uses an ephemeral client port (not fixed); its bytes come from the backend's own log (ws_server.py --log)"
    scenario_cleanup
}

# Apache httpd with mod_proxy + mod_proxy_http only (no mod_proxy_wstunnel, no ProxyPass
# upgrade=websocket), ProxyVia On: the Upgrade is not forwarded, the backend refuses.
scenario_websocket_apache_broken() {
    log "websocket through apache mod_proxy_http without upgrade=websocket (upgrade dropped)"
    local name=websocket-apache-broken ns=$NSP-websocket-apache-broken d=$WORK/websocket-apache-broken
    local m=/usr/lib/apache2/modules
    ns_new "$name"
    mkdir -p "$d/logs" "$d/run" "$d/www"
    cat >"$d/httpd.conf" <<EOF
ServerRoot $d
ServerName localhost
Listen 127.0.0.1:8084
PidFile $d/run/httpd.pid
DefaultRuntimeDir $d/run
Mutex file:$d/run default
LoadModule mpm_event_module $m/mod_mpm_event.so
LoadModule authz_core_module $m/mod_authz_core.so
LoadModule proxy_module $m/mod_proxy.so
LoadModule proxy_http_module $m/mod_proxy_http.so
User www-data
Group www-data
ErrorLog $d/logs/error.log
LogLevel info
LogFormat "%a:%{remote}p \"%r\" %>s" legs
CustomLog $d/logs/access.log legs
DocumentRoot $d/www
# ProxyVia On sends "Via: 1.1 localhost:8084" without the product; Full adds it
ProxyVia Full
ProxyPass /echo http://127.0.0.1:8777/echo
# nothing listens there: Apache answers 503 itself
ProxyPass /down http://127.0.0.1:8799/down
EOF
    start_bg ip netns exec "$ns" apache2 -d "$d" -f "$d/httpd.conf" -DFOREGROUND
    wait_for "apache" listening "$ns" 8084
    apache2 -v | sed -n 's/^Server version: //p' >"$d/version.txt"
    WS_AFTER="curl_run $ns $d/down --local-port 40105 http://127.0.0.1:8084/down" WS_EXTRA_FILTER="tcp port 8799" \
        ws_proxied_run "$name" apache 8084 8777 40104 --allow-reject
    tx_log "$d/ws" 127.0.0.1:40104 127.0.0.1:8084 ws_client.py-transport-log --headers
    tx_log "$d/up.1" "$UPSTREAM" 127.0.0.1:8777 ws_server.py-transport-log --headers --allow-unanswered
    tx_curl "$d/down" 127.0.0.1:40105 127.0.0.1:8084 --headers
    proxy_legs "$d" --proxy apache --match order --front "$d/ws.tx.json" --front "$d/down.tx.json" --back "$d/up.1.tx.json" \
        --note-for "1=ProxyPass /down to 127.0.0.1:8799 where nothing listens: the connect is refused (SYN, RST in the capture) and Apache answers 503 with its own Server header" \
        --note "$(cat "$d/version.txt") mod_proxy_http without upgrade=websocket (mod_proxy_wstunnel not loaded), ProxyVia Full"
    fact --file websocket-apache-broken.pcap --software "Python websockets 17 client and curl 7.88 -> $(cat "$d/version.txt") (mod_proxy + mod_proxy_http, no mod_proxy_wstunnel / upgrade=websocket, ProxyVia Full) -> websockets 17 echo server, tcpdump -i lo" \
        --shows "a WebSocket upgrade that Apache's plain ProxyPass drops: the handshake is forwarded without Upgrade (and with Apache's own Via and X-Forwarded-* fields), the backend refuses it and Apache passes the refusal on; the client gives up; then a curl GET /down proxied to a port where nothing listens: the refused upstream connect (SYN/RST) and Apache's own 503 (Server: Apache); what Apache changed on the request and on the response is in details.proxy_legs" \
        --stream "127.0.0.1:40104 127.0.0.1:8084 $d/ws ws_client.py-transport-log" \
        --stream "$UPSTREAM 127.0.0.1:8777 $d/up.1 ws_server.py-transport-log" \
        --stream "127.0.0.1:40105 127.0.0.1:8084 $d/down curl--trace" \
        --transactions "$d/ws.tx.json" --transactions "$d/up.1.tx.json" --transactions "$d/down.tx.json" \
        --note-file "$d/details.json" --note-file "$d/legs.json" \
        --note "the apache->backend connection uses an ephemeral client port (not fixed); its bytes come from the backend's own log (ws_server.py --log)"
    scenario_cleanup
}

# ---------------------------------------------------------------------------------------------
# Both legs of real proxies in front of tools/proxy_backend.py, which logs every upstream
# connection's bytes (the proxies' upstream client ports are ephemeral). Each client request
# carries its own X-Hopscope-Tag, which the proxies forward unchanged, so tools/proxy_legs.py
# can say which upstream request each client request became (or that none did).

backend_start() {   # backend_start NS ADDR PORT PREFIX [proxy_backend args]...
    local ns=$1 addr=$2 port=$3 prefix=$4; shift 4
    start_bg ip netns exec "$ns" "$PY" "$TOOLS/proxy_backend.py" "$addr" "$port" --log "$prefix" "$@" \
        2>>"$WORK/proxy_backend.log"
    wait_for "proxy_backend" listening "$ns" "$port"
}

nginx_quit() {   # nginx_quit DIR: graceful stop, so idle upstream keep-alive connections close in the capture
    local pid
    pid=$(cat "$1/nginx.pid")
    kill -QUIT "$pid"
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    echo "nginx did not quit" >&2
    return 1
}

back_legs() {   # back_legs PREFIX SERVER  -> BACK_STREAMS / BACK_TXS / BACK_ARGS (fact and proxy_legs args) for every logged connection
    local prefix=$1 server=$2 f base peer
    BACK_STREAMS=(); BACK_TXS=(); BACK_ARGS=()
    for f in "$prefix".*.peer; do
        base=${f%.peer}
        peer=$(tr -d '\n' <"$f")
        tx_log "$base" "$peer" "$server" proxy_backend.py-log --headers
        BACK_STREAMS+=(--stream "$peer $server $base proxy_backend.py-log")
        BACK_TXS+=(--transactions "$base.tx.json")
        BACK_ARGS+=(--back "$base.tx.json")
    done
}

# Two curl clients at once through nginx (HTTP/1.1 upstream with an idle keep-alive pool of 4):
# keep-alive GETs (two of them slow at the backend, so the clients overlap and nginx needs a
# second upstream connection), a POST each (one with Expect: 100-continue), and one request per
# client that nginx answers itself (return 204; a 404 from a location without proxy_pass).
scenario_http_nginx_keepalive_mix() {
    log "two curl clients through nginx with an upstream keep-alive pool"
    local ns=$NSP-kamix d=$WORK/kamix
    ns_new kamix
    mkdir -p "$d"
    NGINX_HTTP_EXTRA="upstream backend { server 127.0.0.1:8775; keepalive 4; } log_format legs '\$remote_addr:\$remote_port \$connection \$connection_requests \$request_id \$status \"\$request\" \$upstream_addr \$upstream_status';" \
    NGINX_SERVER_EXTRA="access_log $d/logs/legs.log legs; location = /local { return 204; } location /static/ { } location / { proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection \"\"; proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for; proxy_set_header X-Real-IP \$remote_addr; proxy_set_header X-Request-Id \$request_id; proxy_read_timeout 10s; }" \
        nginx_setup "$d" 127.0.0.1:8082
    text_file "$d/post-a.txt" 500 post-a
    text_file "$d/post-b.txt" 3000 post-b
    nginx_start "$ns" "$d" 8082
    backend_start "$ns" 127.0.0.1 8775 "$d/up" --slow /slow=400
    local u=http://127.0.0.1:8082 pa="--local-port 40101" pb="--local-port 40102" t=X-Hopscope-Tag
    tcpdump_start "$ns" "$CAP/http-nginx-keepalive-mix.pcap" -i lo "tcp port 8082 or tcp port 8775"
    # --rate 4/s: one request per 250 ms slot per client (after the previous one finished), B
    # 125 ms behind A, so the clients take turns on nginx's idle upstream connection(s)
    curl_run "$ns" "$d/a" --rate 4/s $pa -H "$t: a-0" "$u/a/1" \
        --next $pa -H "$t: a-1" "$u/slow/a" \
        --next $pa -H "$t: a-2" "$u/local" \
        --next $pa -H "$t: a-3" -H 'Expect:' --data-binary "@$d/post-a.txt" "$u/a/post" \
        --next $pa -H "$t: a-4" "$u/a/3" &
    local pid_a=$!
    sleep 0.125
    curl_run "$ns" "$d/b" --rate 4/s $pb -H "$t: b-0" "$u/b/1" \
        --next $pb -H "$t: b-1" "$u/b/2" \
        --next $pb -H "$t: b-2" -H 'Expect: 100-continue' --data-binary "@$d/post-b.txt" "$u/b/upload" \
        --next $pb -H "$t: b-3" "$u/static/missing.html" \
        --next $pb -H "$t: b-4" "$u/b/3" &
    local pid_b=$!
    wait "$pid_a"
    wait "$pid_b"
    nginx_quit "$d"
    tcpdump_stop_all
    tx_curl "$d/a" 127.0.0.1:40101 127.0.0.1:8082 --headers
    tx_curl "$d/b" 127.0.0.1:40102 127.0.0.1:8082 --headers
    back_legs "$d/up" 127.0.0.1:8775
    proxy_legs "$d" --proxy nginx --match header:$t --front "$d/a.tx.json" --front "$d/b.tx.json" "${BACK_ARGS[@]}" \
        --note-for "a-2=location = /local { return 204; }" \
        --note-for "b-3=location /static/ without proxy_pass: nginx's own 404 for a missing file"
    "$PY" - "$d" <<'PYEOF' >"$d/details.json"
import json, re, sys
d = sys.argv[1]
legs = json.load(open(d + "/legs.json"))["proxy_legs"]
# nginx's own access log: client port, connection request number, $request_id, upstream
rx = re.compile(r'^(\S+):(\d+) (\d+) (\d+) ([0-9a-f]{32}) (\d+) "([^"]*)" (\S+) (\S+)$')
log = []
for line in open(d + "/logs/legs.log"):
    m = rx.match(line.rstrip("\n"))
    assert m, line
    log.append({"client": f"{m[1]}:{m[2]}", "nginx_connection": int(m[3]),
                "connection_requests": int(m[4]), "request_id": m[5], "status": int(m[6]),
                "request": m[7], "upstream_addr": None if m[8] == "-" else m[8],
                "upstream_status": None if m[9] == "-" else int(m[9])})
# the pairing from the programs' logs must agree with what nginx says it did
for l in legs:
    f = l["front"]
    e = [x for x in log if x["client"] == f["client"] and x["connection_requests"] == f["index"] + 1]
    assert len(e) == 1, (f, e)
    e = e[0]
    assert e["status"] == l["front_status"], (l, e)
    if l["back"] is None:
        assert e["upstream_addr"] is None, (l, e)
    else:
        assert e["request_id"] == l["request_id"] and e["upstream_status"] == l["back_status"], (l, e)
conns = {}
for l in legs:
    if l["back"]:
        conns.setdefault(l["back"]["client"], []).append((l["back"]["index"], l["matched_by"].split(": ")[1], l["front"]["client"]))
back_connections = []
for c, reqs in conns.items():
    reqs.sort()
    back_connections.append({"client": c, "server": "127.0.0.1:8775", "tags": [r[1] for r in reqs],
                             "front_clients": sorted({r[2] for r in reqs})})
back_connections.sort(key=lambda x: x["tags"][0])
assert any(len(b["tags"]) > 1 for b in back_connections), "no upstream connection was reused"
assert len(back_connections) > 1, "the slow request did not make nginx open a second upstream connection"
cross = [b["client"] for b in back_connections if len(b["front_clients"]) > 1]
assert cross, "no upstream connection carried requests of both clients (timing?)"
print(json.dumps({
    "nginx_access_log": log,
    "nginx_access_log_agrees": True,
    "back_connections": back_connections,
    "upstream_connections_reused_across_clients": cross,
    "summary": f"{len(legs)} client requests, {sum(1 for l in legs if l['back'])} reached the backend over "
               f"{len(back_connections)} upstream connection(s): "
               + "; ".join(f"{b['client']} carried {', '.join(b['tags'])}" for b in back_connections)
               + "; answered by nginx itself: "
               + ", ".join(l["matched_by"].split(": ")[1] + f" ({l['front_status']})" for l in legs if not l["back"])}, indent=1))
PYEOF
    fact --file http-nginx-keepalive-mix.pcap --software "2 x curl 7.88 at once -> nginx 1.22 (upstream keepalive 4, proxy_http_version 1.1, Connection \"\", X-Forwarded-For, X-Real-IP, X-Request-Id \$request_id) -> tools/proxy_backend.py (Python 3.11 http.server), tcpdump -i lo" \
        --shows "two keep-alive client connections running at the same time (curl --rate 4/s, the second client 125 ms behind the first), 5 requests each (tagged X-Hopscope-Tag a-0..a-4 / b-0..b-4): GETs, a slow GET from the first client (the backend waits 400 ms, so nginx opens a second upstream connection for the other client meanwhile), a 500-byte POST and a 3000-byte POST with Expect: 100-continue (nginx answers the 100 itself and does not forward Expect), GET /local (nginx's own 204) and GET /static/missing.html (nginx's own 404): no back leg for those two; the other requests travel over nginx's pooled HTTP/1.1 upstream connections, reused across requests; nginx closes the idle pool when it quits; the front/back pairing (details.proxy_legs) and each upstream connection's requests are from the programs' logs, checked against nginx's access log" \
        --stream "127.0.0.1:40101 127.0.0.1:8082 $d/a $(curl_source "$d/a")" \
        --stream "127.0.0.1:40102 127.0.0.1:8082 $d/b $(curl_source "$d/b")" \
        "${BACK_STREAMS[@]}" \
        --transactions "$d/a.tx.json" --transactions "$d/b.tx.json" "${BACK_TXS[@]}" \
        --note-file "$d/details.json" --note-file "$d/legs.json" \
        --note "nginx's upstream connections use ephemeral client ports (not fixed, and which request travels on which connection depends on timing); their bytes come from the backend's own log (tools/proxy_backend.py)"
    scenario_cleanup
}

follow_legs() {   # follow_legs PCAP SERVER PREFIX: every connection to SERVER -> PREFIX.N.{sent,recv,peer} from tshark's follow
    "$PY" - "$1" "$2" "$3" "$TOOLS" <<'PYEOF'
import sys
pcap, server, prefix, tools = sys.argv[1:5]
sys.path.insert(0, tools)
from facts import follow_bytes, tshark, endpoint  # noqa: E402
out, _ = tshark(pcap, "-T", "fields", "-e", "tcp.stream", "-e", "ip.src", "-e", "ipv6.src",
                "-e", "tcp.srcport", "-e", "ip.dst", "-e", "ipv6.dst", "-e", "tcp.dstport", "-e", "tcp.flags")
n = 0
for r in (l.split("\t") for l in out.splitlines()):
    if r[7] == "0x0002" and endpoint(r[4], r[5], r[6]) == server:
        n += 1
        client = endpoint(r[1], r[2], r[3])
        c, s = follow_bytes(pcap, r[0], client)
        open(f"{prefix}.{n}.sent", "wb").write(c)
        open(f"{prefix}.{n}.recv", "wb").write(s)
        open(f"{prefix}.{n}.peer", "w").write(client + "\n")
assert n, f"no connection to {server} in {pcap}"
PYEOF
}

# A chain of two proxies: curl -> tinyproxy (forward proxy, adds Via) -> nginx (reverse proxy,
# default proxy_pass: HTTP/1.0 upstream, plus X-Forwarded-For) -> tools/proxy_backend.py. Two GETs
# on their own client connections. The tinyproxy -> nginx leg is logged by neither program:
# its bytes are tshark's follow.
scenario_http_proxy_chain() {
    log "http through a chain: curl -> tinyproxy -> nginx -> backend"
    local ns=$NSP-chain d=$WORK/chain
    ns_new chain
    NGINX_SERVER_EXTRA="location / { proxy_pass http://127.0.0.1:8778; proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for; proxy_read_timeout 10s; }" \
        nginx_setup "$d" 127.0.0.1:8085
    nginx_start "$ns" "$d" 8085
    backend_start "$ns" 127.0.0.1 8778 "$d/up"
    cat >"$d/tinyproxy.conf" <<EOF
User root
Group root
Port 8889
Listen 127.0.0.1
Timeout 30
MaxClients 8
Allow 127.0.0.1
ViaProxyName "hopscope-chain"
LogLevel Info
LogFile "$d/logs/tinyproxy.log"
PidFile "$d/tinyproxy.pid"
EOF
    start_bg ip netns exec "$ns" tinyproxy -d -c "$d/tinyproxy.conf" 2>>"$d/logs/tinyproxy.stderr"
    wait_for "tinyproxy" listening "$ns" 8889
    local t=X-Hopscope-Tag x="-x http://127.0.0.1:8889"
    tcpdump_start "$ns" "$CAP/http-proxy-chain.pcap" -i lo "tcp port 8889 or tcp port 8085 or tcp port 8778"
    curl_run "$ns" "$d/c0" --local-port 40106 $x -H "$t: c-0" http://127.0.0.1:8085/chain/1
    curl_run "$ns" "$d/c1" --local-port 40107 $x -H "$t: c-1" http://127.0.0.1:8085/chain/2
    tcpdump_stop_all
    tx_curl "$d/c0" 127.0.0.1:40106 127.0.0.1:8889 --headers --body "$d/c0.body"
    tx_curl "$d/c1" 127.0.0.1:40107 127.0.0.1:8889 --headers --body "$d/c1.body"
    follow_legs "$CAP/http-proxy-chain.pcap" 127.0.0.1:8085 "$d/mid"
    local f mid=() midtx=()
    for f in "$d"/mid.*.peer; do
        tx_log "${f%.peer}" "$(tr -d '\n' <"$f")" 127.0.0.1:8085 tshark-follow --headers
        mid+=(--back "${f%.peer}.tx.json"); midtx+=(--transactions "${f%.peer}.tx.json")
    done
    back_legs "$d/up" 127.0.0.1:8778
    proxy_legs "$d" --proxy tinyproxy --match header:$t --front "$d/c0.tx.json" --front "$d/c1.tx.json" "${mid[@]}" \
        --note "tinyproxy -> nginx leg: bytes from tshark's follow (neither program logs them); tinyproxy opens one upstream connection per request"
    proxy_legs "$d" --append --proxy nginx --match header:$t "${mid[@]/--back/--front}" "${BACK_ARGS[@]}" \
        --note "front = the tinyproxy -> nginx leg (tshark's follow); nginx's default proxy_pass (HTTP/1.0, Connection: close) plus X-Forwarded-For"
    "$PY" - "$d" <<'PYEOF' >"$d/details.json"
import json, sys
legs = json.load(open(sys.argv[1] + "/legs.json"))["proxy_legs"]
tiny = {l["matched_by"]: l for l in legs if l["proxy"] == "tinyproxy"}
ngx = {l["matched_by"]: l for l in legs if l["proxy"] == "nginx"}
assert set(tiny) == set(ngx) and all(l["back"] for l in legs)
chains = []
for tag in sorted(tiny):
    a, b = tiny[tag], ngx[tag]
    assert a["back"] == b["front"], (a, b)
    chains.append({"tag": tag.split(": ")[1], "hops": [a["front"], a["back"], b["back"]],
                   "request_lines": [a["front_request_line"], a["back_request_line"], b["back_request_line"]],
                   "statuses": [a["front_status"], a["back_status"], b["back_status"]]})
print(json.dumps({"proxy_chains": chains, "summary": "; ".join(
    f"{c['tag']}: " + " -> ".join(f"{h['client']}->{h['server']} '{r}'" for h, r in zip(c["hops"], c["request_lines"]))
    for c in chains)}, indent=1))
PYEOF
    fact --file http-proxy-chain.pcap --software "curl 7.88 -x -> tinyproxy 1.11 (ViaProxyName hopscope-chain) -> nginx 1.22 (default proxy_pass + X-Forwarded-For) -> tools/proxy_backend.py (Python 3.11 http.server), tcpdump -i lo" \
        --shows "two GETs (own client connections, tagged X-Hopscope-Tag c-0 / c-1) through two proxies, all three legs captured: curl sends the absolute-form target to tinyproxy, which opens its own connection to nginx per request (origin-form target, Connection: close, Via: 1.1 hopscope-chain), and nginx forwards as HTTP/1.0 to the backend with X-Forwarded-For; details.proxy_legs has both hops (tinyproxy's and nginx's) and details.proxy_chains the three connections each request crossed" \
        --stream "127.0.0.1:40106 127.0.0.1:8889 $d/c0 curl--trace" \
        --stream "127.0.0.1:40107 127.0.0.1:8889 $d/c1 curl--trace" \
        "${BACK_STREAMS[@]}" --follow-server 127.0.0.1:8085 \
        --transactions "$d/c0.tx.json" --transactions "$d/c1.tx.json" "${midtx[@]}" "${BACK_TXS[@]}" \
        --note-file "$d/details.json" --note-file "$d/legs.json" \
        --note "the proxies' upstream connections use ephemeral client ports (not fixed); the tinyproxy->nginx bytes (and their transactions, source tshark-follow) are tshark's follow, the nginx->backend bytes the backend's own log (tools/proxy_backend.py)"
    scenario_cleanup
}

# Hop-by-hop headers through proxies: the same client request (Proxy-Authorization, Keep-Alive,
# TE: trailers without "Connection: TE", and X-Secret named in Connection) through (1) an nginx
# location misconfigured to copy Proxy-Authorization, Keep-Alive and TE upstream, (2) an nginx
# location with the defaults, (3) tinyproxy as a forward proxy. The backend's log says which
# of them arrived.
scenario_http_proxy_leak() {
    log "hop-by-hop headers leaked (or not) by nginx and tinyproxy"
    local ns=$NSP-leak d=$WORK/leak
    ns_new leak
    local p="proxy_pass http://127.0.0.1:8779; proxy_http_version 1.1; proxy_read_timeout 10s;"
    NGINX_SERVER_EXTRA="location /leak/ { $p proxy_set_header Proxy-Authorization \$http_proxy_authorization; proxy_set_header Keep-Alive \$http_keep_alive; proxy_set_header TE \$http_te; } location /default/ { $p }" \
        nginx_setup "$d" 127.0.0.1:8086
    nginx_start "$ns" "$d" 8086
    backend_start "$ns" 127.0.0.1 8779 "$d/up"
    cat >"$d/tinyproxy.conf" <<EOF
User root
Group root
Port 8890
Listen 127.0.0.1
Timeout 30
MaxClients 8
Allow 127.0.0.1
ViaProxyName "hopscope-leak"
LogLevel Info
LogFile "$d/logs/tinyproxy.log"
PidFile "$d/tinyproxy.pid"
EOF
    start_bg ip netns exec "$ns" tinyproxy -d -c "$d/tinyproxy.conf" 2>>"$d/logs/tinyproxy.stderr"
    wait_for "tinyproxy" listening "$ns" 8890
    local t=X-Hopscope-Tag
    local h=(-H 'Proxy-Authorization: Basic dXNlcjpzZWNyZXQ=' -H 'Keep-Alive: timeout=5' -H 'TE: trailers'
             -H 'Connection: X-Secret' -H 'X-Secret: 1')
    tcpdump_start "$ns" "$CAP/http-proxy-leak.pcap" -i lo "tcp port 8086 or tcp port 8890 or tcp port 8779"
    curl_run "$ns" "$d/leak" --local-port 40108 "${h[@]}" -H "$t: l-0" http://127.0.0.1:8086/leak/x
    curl_run "$ns" "$d/default" --local-port 40109 "${h[@]}" -H "$t: l-1" http://127.0.0.1:8086/default/x
    curl_run "$ns" "$d/forward" --local-port 40110 -x http://127.0.0.1:8890 "${h[@]}" -H "$t: l-2" \
        http://127.0.0.1:8779/forward/x
    tcpdump_stop_all
    local c port fport
    for c in leak:40108:8086 default:40109:8086 forward:40110:8890; do
        IFS=: read -r p port fport <<<"$c"
        tx_curl "$d/$p" "127.0.0.1:$port" "127.0.0.1:$fport" --headers --body "$d/$p.body"
    done
    back_legs "$d/up" 127.0.0.1:8779
    # proxy_legs refuses back requests no front claims: give each proxy its own backend connections
    "$PY" - "$d" <<'PYEOF'
import json, sys
d = sys.argv[1]
import glob
for f in sorted(glob.glob(d + "/up.*.tx.json")):
    txs = json.load(open(f))
    tags = {next(v for n, v in t["request_headers"] if n.lower() == "x-hopscope-tag") for t in txs}
    who = "nginx" if tags <= {"l-0", "l-1"} else "tinyproxy" if tags == {"l-2"} else None
    assert who, (f, tags)
    open(f"{d}/{who}.backs", "a").write(f + "\n")
PYEOF
    local backs=() f
    while read -r f; do backs+=(--back "$f"); done <"$d/nginx.backs"
    proxy_legs "$d" --proxy nginx --match header:$t --front "$d/leak.tx.json" --front "$d/default.tx.json" "${backs[@]}" \
        --note-for "l-0=location /leak/: proxy_set_header Proxy-Authorization \$http_proxy_authorization; Keep-Alive \$http_keep_alive; TE \$http_te" \
        --note-for "l-1=location /default/: nginx's defaults (proxy_http_version 1.1 only)"
    backs=()
    while read -r f; do backs+=(--back "$f"); done <"$d/tinyproxy.backs"
    proxy_legs "$d" --append --proxy tinyproxy --match header:$t --front "$d/forward.tx.json" "${backs[@]}" \
        --note-for "l-2=tinyproxy 1.11 as a forward proxy (absolute-form target), no BasicAuth configured"
    "$PY" - "$d" <<'PYEOF' >"$d/details.json"
import json, sys
d = sys.argv[1]
legs = json.load(open(d + "/legs.json"))["proxy_legs"]
txs = {}
for p in ("leak", "default", "forward"):
    t = json.load(open(f"{d}/{p}.tx.json"))[0]
    txs[(t["client"], t["index"])] = t
backs = {}
import glob
for f in glob.glob(d + "/up.*.tx.json"):
    for t in json.load(open(f)):
        backs[(t["client"], t["index"])] = t
PROBES = ["Proxy-Authorization", "Keep-Alive", "TE", "Connection", "X-Secret"]
WHY = {"Proxy-Authorization": "hop-by-hop by convention (credentials for the proxy, RFC 9110 11.7.2)",
       "Keep-Alive": "hop-by-hop (RFC 9112 9.3, RFC 2068 19.7.1)",
       "TE": "hop-by-hop: a sender of TE must also send Connection: TE (RFC 9110 10.1.4); the client did not",
       "Connection": "hop-by-hop (RFC 9110 7.6.1)",
       "X-Secret": "named in the client's Connection header: hop-by-hop for this message (RFC 9110 7.6.1)"}
def get(h, name):
    v = [x for n, x in h if n.lower() == name.lower()]
    return v[0] if len(v) == 1 else (v or None)
out = []
for l in legs:
    f = txs[(l["front"]["client"], l["front"]["index"])]
    b = backs[(l["back"]["client"], l["back"]["index"])]
    probes = []
    for name in PROBES:
        sent, got = get(f["request_headers"], name), get(b["request_headers"], name)
        probes.append({"name": name, "sent": sent, "received": got,
                       "reached_backend": got is not None and (name != "Connection" or got == sent),
                       "why_hop_by_hop": WHY[name]})
    out.append({"front": l["front"], "back": l["back"], "proxy": l["proxy"],
                "tag": l["matched_by"].split(": ")[1], "config": l["notes"][-1],
                "probes": probes,
                "leaked": [p["name"] for p in probes if p["reached_backend"]]})
print(json.dumps({"hop_by_hop": out, "summary": "; ".join(
    f"{o['proxy']} {o['tag']} ({o['config'].split(':')[0]}): reached the backend: "
    + (", ".join(o["leaked"]) or "none")
    + "; Connection upstream: " + str(next(p["received"] for p in o["probes"] if p["name"] == "Connection"))
    for o in out)}, indent=1))
PYEOF
    fact --file http-proxy-leak.pcap --software "curl 7.88 -> nginx 1.22 (a location copying Proxy-Authorization/Keep-Alive/TE upstream, and one with the defaults) and curl -x -> tinyproxy 1.11 -> tools/proxy_backend.py (Python 3.11 http.server), tcpdump -i lo" \
        --shows "the same request with hop-by-hop fields (Proxy-Authorization: Basic dXNlcjpzZWNyZXQ= = user:secret, Keep-Alive: timeout=5, TE: trailers without Connection: TE, Connection: X-Secret and X-Secret: 1) through 3 proxy configurations, each on its own client connection: nginx /leak/ (misconfigured with proxy_set_header for Proxy-Authorization, Keep-Alive and TE), nginx /default/ (defaults) and tinyproxy as a forward proxy; which fields reached the backend is in details.hop_by_hop (from the backend's log), the pairing in details.proxy_legs" \
        --stream "127.0.0.1:40108 127.0.0.1:8086 $d/leak curl--trace" \
        --stream "127.0.0.1:40109 127.0.0.1:8086 $d/default curl--trace" \
        --stream "127.0.0.1:40110 127.0.0.1:8890 $d/forward curl--trace" \
        "${BACK_STREAMS[@]}" \
        --transactions "$d/leak.tx.json" --transactions "$d/default.tx.json" --transactions "$d/forward.tx.json" "${BACK_TXS[@]}" \
        --note-file "$d/details.json" --note-file "$d/legs.json" \
        --note "the proxies' upstream connections use ephemeral client ports (not fixed); their bytes come from the backend's own log (tools/proxy_backend.py)"
    scenario_cleanup
}

# ---------------------------------------------------------------------------------------------
# A WebSocket conversation through a tunnel: ws_client.py opens the TCP connection to the proxy
# itself, sets up the tunnel (SOCKS5 to microsocks, or CONNECT to tinyproxy) and hands the socket
# to websockets; ws_server.py --log logs the proxy's own connection (ephemeral port). The client
# logs the proxy handshake and every byte after it, the server every byte of its leg, so both
# legs have facts from the programs; tools/ws_facts.py tunnel-legs checks that the tunnel carried
# the same bytes on both legs and splits the frames as each program wrote them.

# ws_tunnel_run NAME socks5|connect PROXYPORT BACKENDPORT LOCALPORT
#   the proxy already listens on 127.0.0.1:PROXYPORT in $NSP-NAME; optional WS_AFTER (a command
#   run after the WebSocket client, still captured) and WS_EXTRA_FILTER (more tcpdump filter)
#   -> $d/ws.{sent,recv,json} (+ .inner.*), $d/up.1.*, $d/wslegs.json, UPSTREAM
ws_tunnel_run() {
    local name=$1 kind=$2 pport=$3 bport=$4 lport=$5
    local ns=$NSP-$name d=$WORK/$name opt
    opt=$([ "$kind" = socks5 ] && echo --socks5 || echo --connect-proxy)
    start_bg ip netns exec "$ns" "$PY" "$HERE/ws_server.py" 127.0.0.1 "$bport" --log "$d/up"
    wait_for "ws server" listening "$ns" "$bport"
    tcpdump_start "$ns" "$CAP/$name.pcap" -i lo "tcp port $pport or tcp port $bport${WS_EXTRA_FILTER:+ or $WS_EXTRA_FILTER}"
    ip netns exec "$ns" "$PY" "$HERE/ws_client.py" "ws://127.0.0.1:$bport/echo" "$opt" "127.0.0.1:$pport" \
        --local "127.0.0.1:$lport" --log "$d/ws" --messages tunnel
    if [ -n "${WS_AFTER:-}" ]; then $WS_AFTER; fi
    tcpdump_stop_all
    [ -s "$d/up.1.peer" ] || { echo "$name: the backend saw no connection" >&2; return 1; }
    [ ! -e "$d/up.2.peer" ] || { echo "$name: the backend saw more than one connection" >&2; return 1; }
    UPSTREAM=$(tr -d '\n' <"$d/up.1.peer")
    "$PY" "$TOOLS/ws_facts.py" tunnel-legs --client-log "$d/ws" --server-log "$d/up.1" \
        --front "127.0.0.1:$lport" "127.0.0.1:$pport" --back "$UPSTREAM" "127.0.0.1:$bport" --out "$d/wslegs.json"
}

ws_tunnel_summary() {   # ws_tunnel_summary DIR  -> DIR/summary.json (details.summary)
    "$PY" - "$1" <<'PYEOF' >"$1/summary.json"
import json, sys
d = sys.argv[1]
w = json.load(open(d + "/wslegs.json"))
legs = json.load(open(d + "/legs.json"))["proxy_legs"]
t = w["tunnels"][0]
def msgs(ms):
    return ", ".join(f"{m['type']} {m['payload_bytes']} B" + (f" in {m['fragments']} frames" if m["fragments"] > 1 else "")
                     for m in ms)
c = w["websocket_connections"][0]
cl = c["close"]
how = (f"SOCKS5 reply {t['socks5']['reply_hex']}" if t["kind"] == "socks5"
       else f"'{t['connect_request_line']}' -> {t['connect_response_status']} {t['connect_response_reason']} (Proxy-agent: {t['proxy_agent']})")
print(json.dumps({"summary": (
    f"tunnel {t['kind']} {t['client']} -> {t['proxy']} to {t['target']}: {how}; upstream leg {t['upstream']['client']} -> "
    f"{t['upstream']['server']}; the same bytes on both legs ({t['bytes_to_target']} B to the server, "
    f"{t['bytes_from_target']} B back); WebSocket: client sent {len(c['frames_client_to_server'])} frames "
    f"({msgs(c['messages_client_to_server'])}, a ping, close {cl['client']['code']} '{cl['client']['reason']}'), "
    f"server sent {len(c['frames_server_to_client'])} frames ({msgs(c['messages_server_to_client'])}, the pong, "
    f"close {cl['server']['code']} '{cl['server']['reason']}'); proxy_legs: "
    + "; ".join(f"{l['front']['client']} #{l['front']['index']} '{l['front_request_line']}' -> "
                f"{l['back']['client']} #{l['back']['index']} '{l['back_request_line']}' ({l['back_status']}/{l['front_status']})"
                for l in legs))}, indent=1))
PYEOF
}

scenario_websocket_socks5() {
    log "websocket through microsocks (SOCKS5, no authentication)"
    local name=websocket-socks5 ns=$NSP-websocket-socks5 d=$WORK/websocket-socks5
    ns_new "$name"
    mkdir -p "$d/logs"
    start_bg ip netns exec "$ns" microsocks -i 127.0.0.1 -p 1082 >>"$d/logs/microsocks.log" 2>&1
    wait_for "microsocks" listening "$ns" 1082
    ws_tunnel_run "$name" socks5 1082 8780 40111
    # the HTTP upgrade starts after the SOCKS5 handshake: split it from the tunnelled bytes
    tx_log "$d/ws.inner" 127.0.0.1:40111 127.0.0.1:1082 ws_client.py-tunnel-log --allow-trailing --headers \
        --stream-offset-client "$(json_get "$d/ws.json" "d['proxy_handshake']['client_bytes']")" \
        --stream-offset-server "$(json_get "$d/ws.json" "d['proxy_handshake']['server_bytes']")"
    tx_log "$d/up.1" "$UPSTREAM" 127.0.0.1:8780 ws_server.py-transport-log --allow-trailing --headers
    proxy_legs "$d" --proxy none --match order --front "$d/ws.inner.tx.json" --back "$d/up.1.tx.json" \
        --note "microsocks 1.0.3 relays bytes: the upgrade request inside the SOCKS5 tunnel is the one the server received, byte for byte; SOCKS has no banner, so nothing names the proxy (proxy null)"
    ws_tunnel_summary "$d"
    fact --file websocket-socks5.pcap --software "Python websockets 17 client (ws_client.py: its own SOCKS5 handshake, then the socket handed to websockets) -> microsocks 1.0.3 -> websockets 17 echo server (ws_server.py), tcpdump -i lo" \
        --shows "both legs of a WebSocket through a SOCKS5 tunnel: the client's SOCKS5 greeting (no authentication) and CONNECT to 127.0.0.1:8780 by IPv4 address, then inside the tunnel the upgrade (101), two short texts, a 512-byte binary message, a text message in 3 fragments plus the library's empty final continuation, a 15-byte binary message, each echoed by the server in one frame, ping/pong, close 1000 'bye' both ways; and microsocks' own connection to the server carrying the same bytes; compression=None; frames per leg in details.websocket_connections, the tunnel in details.tunnels, the pairing of the two upgrade requests in details.proxy_legs" \
        --stream "127.0.0.1:40111 127.0.0.1:1082 $d/ws ws_client.py-tunnel-log" \
        --stream "$UPSTREAM 127.0.0.1:8780 $d/up.1 ws_server.py-transport-log" \
        --transactions "$d/ws.inner.tx.json" --transactions "$d/up.1.tx.json" \
        --note-file "$d/wslegs.json" --note-file "$d/legs.json" --note-file "$d/summary.json" \
        --note "the microsocks->server connection uses an ephemeral client port (not fixed); its bytes come from the server's own log (ws_server.py --log)"
    scenario_cleanup
}

# tinyproxy as a CONNECT proxy for a plaintext WebSocket (ConnectPort allows the server's port)
# and, in the same capture, as a forward proxy for one curl GET (absolute-form target) to
# tools/proxy_backend.py.
tinyproxy_forward_get() {   # (WS_AFTER of scenario_websocket_connect_tinyproxy: uses its $ns, $d)
    curl_run "$ns" "$d/get" --local-port 40113 -x http://127.0.0.1:8891 -H "X-Hopscope-Tag: g-0" \
        http://127.0.0.1:8782/forward/x
}

scenario_websocket_connect_tinyproxy() {
    log "websocket through a tinyproxy CONNECT tunnel, plus a forward-proxy GET"
    local name=websocket-connect-tinyproxy ns=$NSP-websocket-connect-tinyproxy d=$WORK/websocket-connect-tinyproxy
    ns_new "$name"
    mkdir -p "$d/logs"
    backend_start "$ns" 127.0.0.1 8782 "$d/fwd"
    cat >"$d/tinyproxy.conf" <<EOF
User root
Group root
Port 8891
Listen 127.0.0.1
Timeout 30
MaxClients 8
Allow 127.0.0.1
ConnectPort 8781
ViaProxyName "hopscope-connect"
LogLevel Info
LogFile "$d/logs/tinyproxy.log"
PidFile "$d/tinyproxy.pid"
EOF
    start_bg ip netns exec "$ns" tinyproxy -d -c "$d/tinyproxy.conf" 2>>"$d/logs/tinyproxy.stderr"
    wait_for "tinyproxy" listening "$ns" 8891
    WS_AFTER=tinyproxy_forward_get WS_EXTRA_FILTER="tcp port 8782" \
        ws_tunnel_run "$name" connect 8891 8781 40112
    # the CONNECT is the connection's first transaction (index 0), the upgrade inside the
    # tunnel its second (index 1)
    tx_log "$d/ws" 127.0.0.1:40112 127.0.0.1:8891 ws_client.py-tunnel-log --allow-trailing --headers --through-connect
    tx_log "$d/up.1" "$UPSTREAM" 127.0.0.1:8781 ws_server.py-transport-log --allow-trailing --headers
    tx_curl "$d/get" 127.0.0.1:40113 127.0.0.1:8891 --headers --body "$d/get.body"
    back_legs "$d/fwd" 127.0.0.1:8782
    proxy_legs "$d" --proxy tinyproxy --match order --skip-connect --front "$d/ws.tx.json" --back "$d/up.1.tx.json" \
        --note "inside tinyproxy's CONNECT tunnel (its answer carries Proxy-agent: tinyproxy/1.11.1): the upgrade request the server received is the client's, byte for byte; the CONNECT itself (index 0) opened the tunnel and is no leg"
    proxy_legs "$d" --append --proxy tinyproxy --match header:X-Hopscope-Tag --front "$d/get.tx.json" "${BACK_ARGS[@]}" \
        --note-for "g-0=tinyproxy 1.11 as a forward proxy (absolute-form target), ViaProxyName hopscope-connect"
    ws_tunnel_summary "$d"
    fact --file websocket-connect-tinyproxy.pcap --software "Python websockets 17 client (ws_client.py: its own CONNECT, then the socket handed to websockets) and curl 7.88 -x -> tinyproxy 1.11 (ConnectPort 8781, ViaProxyName hopscope-connect) -> websockets 17 echo server (ws_server.py) and tools/proxy_backend.py (Python 3.11 http.server), tcpdump -i lo" \
        --shows "both kinds of proxy hop through one tinyproxy: (1) 'CONNECT 127.0.0.1:8781 HTTP/1.1' answered 'HTTP/1.0 200 Connection established' with Proxy-agent, then inside the tunnel a plaintext WebSocket: the upgrade (101), two short texts, a 512-byte binary message, a text message in 3 fragments plus the library's empty final continuation, a 15-byte binary message, each echoed in one frame, ping/pong, close 1000 'bye' both ways, and tinyproxy's own connection to the server carrying the same bytes; (2) curl -x 'GET http://127.0.0.1:8782/forward/x' (X-Hopscope-Tag g-0), which tinyproxy forwards on its own connection as 'GET /forward/x' with Via: 1.1 hopscope-connect; frames per leg in details.websocket_connections, the tunnel in details.tunnels, both pairings in details.proxy_legs" \
        --stream "127.0.0.1:40112 127.0.0.1:8891 $d/ws ws_client.py-tunnel-log" \
        --stream "$UPSTREAM 127.0.0.1:8781 $d/up.1 ws_server.py-transport-log" \
        --stream "127.0.0.1:40113 127.0.0.1:8891 $d/get curl--trace" \
        "${BACK_STREAMS[@]}" \
        --transactions "$d/ws.tx.json" --transactions "$d/up.1.tx.json" --transactions "$d/get.tx.json" "${BACK_TXS[@]}" \
        --note-file "$d/wslegs.json" --note-file "$d/legs.json" --note-file "$d/summary.json" \
        --note "tinyproxy's upstream connections use ephemeral client ports (not fixed); their bytes come from the servers' own logs (ws_server.py --log, tools/proxy_backend.py)"
    scenario_cleanup
}

# ---------------------------------------------------------------------------------------------
# Deliberately malformed / ambiguous requests (tools/smuggling_cases.py), each on its own
# connection, to a server that does not parse HTTP (tools/raw_http_server.py).

scenario_http_smuggling() {
    log "ambiguous and malformed requests (CL+TE, two CLs, obs-fold, space before colon, bare LF, TE list)"
    local ns=$NSP-smug d=$WORK/smug
    ns_new smug
    mkdir -p "$d"
    "$PY" "$TOOLS/smuggling_cases.py" write "$d"
    local rows=() row c port st statuses=() streams=()
    mapfile -t rows < <("$PY" -c 'import json, sys
for c in json.load(open(sys.argv[1])): print(c["case"], c["port"], c["status"])' "$d/cases.json")
    for row in "${rows[@]}"; do
        read -r c port st <<<"$row"
        statuses+=(--status "$port=$st")
        streams+=(--stream "127.0.0.1:$port 127.0.0.1:8090 $d/$c http_raw_client.py-log")
    done
    start_bg ip netns exec "$ns" "$PY" "$TOOLS/raw_http_server.py" 127.0.0.1 8090 --log "$d/server.log" \
        --count "${#rows[@]}" "${statuses[@]}"
    wait_for "raw_http_server" listening "$ns" 8090
    tcpdump_start "$ns" "$CAP/http-smuggling.pcap" -i lo "tcp port 8090"
    for row in "${rows[@]}"; do
        read -r c port st <<<"$row"
        raw_client "$ns" 127.0.0.1:8090 "127.0.0.1:$port" "$d/$c" "$d/$c.req"
    done
    tcpdump_stop_all
    wait_for "server log" test "$(wc -l <"$d/server.log" 2>/dev/null || echo 0)" -eq "${#rows[@]}"
    "$PY" "$TOOLS/smuggling_cases.py" details "$d" "$d/server.log" >"$d/details.json"
    fact --file http-smuggling.pcap --software "tools/http_raw_client.py -> tools/raw_http_server.py (Python sockets; the server logs raw bytes and answers a fixed status), tcpdump -i lo" \
        --shows "7 deliberately malformed or ambiguous HTTP/1.1 requests, each on its own connection: (a) Content-Length and Transfer-Encoding: chunked, (b) two different Content-Lengths, (c) obs-fold, (d) 'Host :' (space before colon), (e) bare LF line ends, (f) Transfer-Encoding: chunked, identity, (g) 'Transfer-Encoding :' with Content-Length; the server answers 400 (200 for bare LF) and closes" \
        "${streams[@]}" --note-file "$d/details.json"
    scenario_cleanup
}

# ---------------------------------------------------------------------------------------------
# Credentials on the wire: proxy Basic auth (407 + Proxy-Authenticate, then Proxy-Authorization)
# and origin Basic auth (Authorization). The facts give the exact base64 strings, so a test can
# assert that they are masked in hopscope's output.

scenario_http_proxy_auth() {
    log "http proxy with Basic auth (tinyproxy) and origin Basic auth (nginx)"
    local ns=$NSP-pauth d=$WORK/pauth
    ns_new pauth
    nginx_setup "$d" 127.0.0.1:8080
    nginx_start "$ns" "$d" 8080
    cat >"$d/tinyproxy.conf" <<EOF
User root
Group root
Port 8888
Listen 127.0.0.1
Timeout 30
MaxClients 8
Allow 127.0.0.1
BasicAuth user secret
LogLevel Info
LogFile "$d/logs/tinyproxy.log"
PidFile "$d/tinyproxy.pid"
EOF
    start_bg ip netns exec "$ns" tinyproxy -d -c "$d/tinyproxy.conf" 2>>"$d/logs/tinyproxy.stderr"
    wait_for "tinyproxy" listening "$ns" 8888
    tcpdump_start "$ns" "$CAP/http-proxy-auth.pcap" -i lo "tcp port 8888 or tcp port 8080"
    curl_run "$ns" "$d/noauth" --local-port 40037 -x http://127.0.0.1:8888 http://127.0.0.1:8080/index.html
    curl_run "$ns" "$d/auth" --local-port 40038 -x http://127.0.0.1:8888 --proxy-user user:secret \
        http://127.0.0.1:8080/index.html
    curl_run "$ns" "$d/origin" --local-port 40039 -u alice:wonderland http://127.0.0.1:8080/style.css
    tcpdump_stop_all
    tx_curl "$d/noauth" 127.0.0.1:40037 127.0.0.1:8888 --body "$d/noauth.body"
    tx_curl "$d/auth" 127.0.0.1:40038 127.0.0.1:8888 --body "$d/auth.body"
    tx_curl "$d/origin" 127.0.0.1:40039 127.0.0.1:8080 --body "$d/origin.body"
    "$PY" - "$d" <<'PYEOF' >"$d/details.json"
import base64, json, re, sys
d = sys.argv[1]
def head_fields(b):
    head = b.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    return [l.split(":", 1)[0:2] for l in head[1:]]
creds = []
for prefix, client, server, field, user, pw in (
        ("auth", "127.0.0.1:40038", "127.0.0.1:8888", "Proxy-Authorization", "user", "secret"),
        ("origin", "127.0.0.1:40039", "127.0.0.1:8080", "Authorization", "alice", "wonderland")):
    sent = open(f"{d}/{prefix}.sent", "rb").read()
    b64 = base64.b64encode(f"{user}:{pw}".encode()).decode()
    line = f"{field}: Basic {b64}"
    # taken from the bytes curl sent, and checked against the known credentials
    found = [v.strip() for n, v in head_fields(sent) if n.lower() == field.lower()]
    assert found == [f"Basic {b64}"], (prefix, found)
    off = sent.find(line.encode())
    creds.append({"client": client, "server": server, "field": field, "scheme": "Basic",
                  "user": user, "password": pw, "base64": b64, "header_line": line,
                  "client_stream_offset_of_base64": off + len(field) + len(": Basic ")})
noauth = open(f"{d}/noauth.recv", "rb").read()
status = noauth.split(b"\r\n", 1)[0].decode("latin-1")
pa = [v.strip() for n, v in head_fields(noauth) if n.lower() == "proxy-authenticate"]
print(json.dumps({
    "credentials": creds,
    "proxy_challenge": {"client": "127.0.0.1:40037", "status_line": status, "proxy_authenticate": pa},
    "summary": "credentials on the wire: " + "; ".join(
        f"{c['client']} {c['field']}: Basic {c['base64']} ({c['user']}:{c['password']})" for c in creds)
    + f"; the first request got '{status}' with Proxy-Authenticate: {', '.join(pa)}"}, indent=1))
PYEOF
    fact --file http-proxy-auth.pcap --software "curl 7.88 -> tinyproxy 1.11 (BasicAuth) -> nginx 1.22, and curl -u -> nginx, on loopback, tcpdump -i lo" \
        --shows "3 client connections: a proxy GET without credentials (407 Proxy Authentication Required + Proxy-Authenticate), the same GET with --proxy-user user:secret (Proxy-Authorization: Basic; 200 through the proxy's own connection to nginx), and a direct GET to nginx with -u alice:wonderland (Authorization: Basic; nginx ignores it, 200)" \
        --stream "127.0.0.1:40037 127.0.0.1:8888 $d/noauth curl--trace" \
        --stream "127.0.0.1:40038 127.0.0.1:8888 $d/auth curl--trace" \
        --stream "127.0.0.1:40039 127.0.0.1:8080 $d/origin curl--trace" \
        --follow-server 127.0.0.1:8080 \
        --transactions "$d/noauth.tx.json" --transactions "$d/auth.tx.json" --transactions "$d/origin.tx.json" \
        --note-file "$d/details.json" \
        --note "the proxy->nginx connection uses an ephemeral client port (not fixed); its bytes come from tshark's follow"
    scenario_cleanup
}

# ---------------------------------------------------------------------------------------------
# SOCKS4 / SOCKS4a (tools/socks4_server.py: microsocks has no SOCKS4) and SOCKS5 with
# username/password (microsocks -u/-P), IPv4 and domain-name CONNECTs.

json_get() {   # json_get FILE PYTHON-EXPRESSION-ON-d
    "$PY" -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

scenario_socks4() {
    log "http through SOCKS4 (IPv4 address) and SOCKS4a (host name)"
    local ns=$NSP-socks4 d=$WORK/socks4
    ns_new socks4
    nginx_setup "$d" 127.0.0.1:8080
    nginx_start "$ns" "$d" 8080
    start_bg ip netns exec "$ns" "$PY" "$TOOLS/socks4_server.py" 127.0.0.1 1081 --log "$d/s4" \
        --count 2 --upstream-port-base 40050
    wait_for "socks4_server" listening "$ns" 1081
    tcpdump_start "$ns" "$CAP/socks4.pcap" -i lo "tcp port 1081 or tcp port 8080"
    curl_run "$ns" "$d/c4" --local-port 40040 --socks4 127.0.0.1:1081 http://127.0.0.1:8080/index.html
    wait_for "socks4 connection 1 logged" test -e "$d/s4.1.done"
    curl_run "$ns" "$d/c4a" --local-port 40041 -x socks4a://hopscope@127.0.0.1:1081 http://localhost:8080/style.css
    wait_for "socks4 connection 2 logged" test -e "$d/s4.2.done"
    tcpdump_stop_all
    # curl's trace holds the HTTP after the handshake: the server's log of the client connection
    # must end with exactly those bytes, and its upstream connection must carry exactly them
    "$PY" - "$d" <<'PYEOF' >"$d/details.json"
import json, sys
d = sys.argv[1]
conns = []
for n, prefix in ((1, "c4"), (2, "c4a")):
    rd = lambda p: open(p, "rb").read()
    sent, recv = rd(f"{d}/s4.{n}.sent"), rd(f"{d}/s4.{n}.recv")
    tc, tr = rd(f"{d}/{prefix}.sent"), rd(f"{d}/{prefix}.recv")
    assert sent.endswith(tc) and recv.endswith(tr), f"connection {n}: curl's bytes are not the tail"
    assert rd(f"{d}/s4.{n}.up.sent") == tc and rd(f"{d}/s4.{n}.up.recv") == tr
    info = json.load(open(f"{d}/s4.{n}.json"))
    info["client"] = info.pop("peer")
    info.update(http_stream_offset_client=len(sent) - len(tc),
                http_stream_offset_server=len(recv) - len(tr))
    conns.append(info)
print(json.dumps({"socks4_connections": conns, "summary": "; ".join(
    f"{c['client']}: SOCKS{c['form']} request {c['request_hex']} (user id '{c['user_id']}'"
    + (f", host name '{c['hostname']}'" if c.get("hostname") else f", address {c['address']}")
    + f", port {c['port']}), reply {c['reply_hex']}; upstream {c['upstream_client']} -> {c['upstream_server']}"
    for c in conns)}, indent=1))
PYEOF
    local i p
    for i in 1 2; do
        p=$([ $i = 1 ] && echo c4 || echo c4a)
        tx_curl "$d/$p" "127.0.0.1:4004$((i - 1))" 127.0.0.1:1081 \
            --stream-offset-client "$(json_get "$d/details.json" "d['socks4_connections'][$((i - 1))]['http_stream_offset_client']")" \
            --stream-offset-server "$(json_get "$d/details.json" "d['socks4_connections'][$((i - 1))]['http_stream_offset_server']")" \
            --body "$d/$p.body"
        tx_log "$d/s4.$i.up" "127.0.0.1:4005$i" 127.0.0.1:8080 socks4_server.py-log
    done
    fact --file socks4.pcap --software "curl 7.88 --socks4 / socks4a:// -> tools/socks4_server.py (Python) -> nginx 1.22 on loopback, tcpdump -i lo" \
        --shows "2 tunnels: SOCKS4 CONNECT to 127.0.0.1:8080 by IPv4 address (empty user id), and SOCKS4a CONNECT with user id 'hopscope' and host name 'localhost' (address 0.0.0.1); one GET through each; plus the proxy's own connections to nginx (fixed ports 40051, 40052)" \
        --stream "127.0.0.1:40040 127.0.0.1:1081 $d/s4.1 socks4_server.py-log" \
        --stream "127.0.0.1:40041 127.0.0.1:1081 $d/s4.2 socks4_server.py-log" \
        --stream "127.0.0.1:40051 127.0.0.1:8080 $d/s4.1.up socks4_server.py-log" \
        --stream "127.0.0.1:40052 127.0.0.1:8080 $d/s4.2.up socks4_server.py-log" \
        --transactions "$d/c4.tx.json" --transactions "$d/c4a.tx.json" \
        --transactions "$d/s4.1.up.tx.json" --transactions "$d/s4.2.up.tx.json" \
        --note-file "$d/details.json" \
        --note "the client connections' bytes are the SOCKS server's log (curl does not trace the handshake); curl's traced HTTP bytes are checked to be exactly their tail"
    scenario_cleanup
}

scenario_socks5_auth() {
    log "http through microsocks with username/password (SOCKS5, IPv4 and domain name)"
    local ns=$NSP-s5a d=$WORK/s5a
    ns_new s5a
    nginx_setup "$d" 127.0.0.1:8080
    nginx_start "$ns" "$d" 8080
    start_bg ip netns exec "$ns" microsocks -i 127.0.0.1 -p 1080 -u user -P pass >>"$d/logs/microsocks.log" 2>&1
    wait_for "microsocks" listening "$ns" 1080
    tcpdump_start "$ns" "$CAP/socks5-auth.pcap" -i lo "tcp port 1080 or tcp port 8080"
    curl_run "$ns" "$d/ip" --local-port 40042 -x socks5://user:pass@127.0.0.1:1080 http://127.0.0.1:8080/index.html
    curl_run "$ns" "$d/name" --local-port 40043 --socks5-hostname 127.0.0.1:1080 --proxy-user user:pass \
        http://localhost:8080/style.css
    tcpdump_stop_all
    local p port
    for p in ip name; do
        port=$([ $p = ip ] && echo 40042 || echo 40043)
        "$PY" "$TOOLS/facts.py" socks-prefix --pcap "$CAP/socks5-auth.pcap" --client "127.0.0.1:$port" \
            --trace-prefix "$d/$p" --out "$d/$p.s5" --full
        tx_curl "$d/$p" "127.0.0.1:$port" 127.0.0.1:1080 --body "$d/$p.body" \
            --stream-offset-client "$(json_get "$d/$p.s5.details.json" "d['http_stream_offset_client']")" \
            --stream-offset-server "$(json_get "$d/$p.s5.details.json" "d['http_stream_offset_server']")"
    done
    "$PY" - "$d" <<'PYEOF' >"$d/details.json"
import json, sys
d = sys.argv[1]
conns = [json.load(open(f"{d}/{p}.s5.details.json")) for p in ("ip", "name")]
print(json.dumps({"socks5_connections": conns, "summary": "; ".join(
    f"{c['client']}: methods offered {c['socks5']['methods_offered']}, chosen {c['socks5']['method_chosen']}, "
    f"username/password '{c['socks5']['auth']['username']}'/'{c['socks5']['auth']['password']}' "
    f"({c['socks5']['auth']['client_hex']}), CONNECT {c['socks5']['atyp']} {c['socks5']['dest_host']}:{c['socks5']['dest_port']}"
    for c in conns)}, indent=1))
PYEOF
    fact --file socks5-auth.pcap --software "curl 7.88 -x socks5://user:pass@ and --socks5-hostname --proxy-user -> microsocks 1.0.3 -u user -P pass -> nginx 1.22 on loopback, tcpdump -i lo" \
        --shows "2 SOCKS5 tunnels with RFC 1929 username/password authentication (user/pass): CONNECT by IPv4 address, and CONNECT by domain name 'localhost' (ATYP 3, --socks5-hostname); one GET through each; plus microsocks' own connections to nginx" \
        --stream "127.0.0.1:40042 127.0.0.1:1080 $d/ip.s5 tshark-follow+curl--trace" \
        --stream "127.0.0.1:40043 127.0.0.1:1080 $d/name.s5 tshark-follow+curl--trace" \
        --follow-server 127.0.0.1:8080 \
        --transactions "$d/ip.tx.json" --transactions "$d/name.tx.json" \
        --note-file "$d/details.json" \
        --note "curl does not trace the SOCKS5 handshake: the client connections' bytes are tshark's follow, checked to end with exactly curl's traced bytes; microsocks->nginx connections use ephemeral ports, bytes from tshark's follow"
    scenario_cleanup
}

# ---------------------------------------------------------------------------------------------
# Caching and ranges against nginx on one keep-alive connection: ETag / Last-Modified /
# Cache-Control / Expires, conditional GETs (304), HEAD, 404, single and multi-part ranges
# (206), an unsatisfiable range (416), gzip for one text/html file, and a download resumed
# with `curl -C -` into the same output file.

scenario_http_cache_range() {
    log "http caching, conditional requests and ranges (nginx)"
    local ns=$NSP-cache d=$WORK/cache
    ns_new cache
    NGINX_HTTP_EXTRA="gzip on; gzip_min_length 20;" \
    NGINX_SERVER_EXTRA='etag on; expires 1h; add_header Cache-Control public; location = /doc.txt { default_type text/plain; }' \
        nginx_setup "$d" 127.0.0.1:8080
    text_file "$d/www/doc.txt" 3000 doc
    "$PY" -c 'import hashlib, sys
out = b"".join(hashlib.sha256(b"resume %d" % i).digest() for i in range(128))
open(sys.argv[1], "wb").write(out[:4000])' "$d/www/resume.bin"
    touch -d @1700000000 "$d/www"/*
    nginx_start "$ns" "$d" 8080
    # nginx's strong ETag is "<mtime hex>-<size hex>"; Last-Modified is the fixed mtime
    local size etag lm u=http://127.0.0.1:8080 p="--local-port 40060"
    size=$(stat -c %s "$d/www/doc.txt")
    etag=$(printf '"%x-%x"' 1700000000 "$size")
    lm="Tue, 14 Nov 2023 22:13:20 GMT"
    rm -f "$d/resumed.out"
    tcpdump_start "$ns" "$CAP/http-cache-range.pcap" -i lo "tcp port 8080"
    curl_run "$ns" "$d/curl" $p "$u/doc.txt" -o "$d/full.out" \
        --next $p -H "If-None-Match: $etag" "$u/doc.txt" -o "$d/inm.out" \
        --next $p -H "If-Modified-Since: $lm" "$u/doc.txt" -o "$d/ims.out" \
        --next $p -I "$u/doc.txt" -o "$d/head.out" \
        --next $p "$u/nope.txt" -o "$d/404.out" \
        --next $p -r 0-99 "$u/doc.txt" -o "$d/r1.out" \
        --next $p -r 0-9,20-29 "$u/doc.txt" -o "$d/r2.out" \
        --next $p -r 999999- "$u/doc.txt" -o "$d/r416.out" \
        --next $p --compressed "$u/index.html" -o "$d/gz.out" \
        --next $p -r 0-999 "$u/resume.bin" -o "$d/resumed.out" \
        --next $p -C - "$u/resume.bin" -o "$d/resumed.out"
    tcpdump_stop_all
    tx_curl "$d/curl" 127.0.0.1:40060 127.0.0.1:8080 --headers \
        --body "$d/full.out" --body - --body - --body - --body "$d/404.out" --body "$d/r1.out" \
        --body "$d/r2.out" --body "$d/r416.out" --body "$d/gz.out" --body - --body -
    "$PY" "$TOOLS/range_facts.py" "$d/curl.tx.json" "$d/curl.recv" "$d/www" "$d/resumed.out" >"$d/details.json"
    fact --file http-cache-range.pcap --software "nginx 1.22 (etag on, expires 1h, add_header Cache-Control public, gzip on) + curl 7.88, one keep-alive connection, tcpdump -i lo" \
        --shows "11 requests on one connection: GET /doc.txt (200 with ETag, Last-Modified, Expires, two Cache-Control lines 'max-age=3600' and 'public', Accept-Ranges), If-None-Match with that ETag (304), If-Modified-Since with that date (304), HEAD, a 404, Range bytes=0-99 (206 + Content-Range), Range bytes=0-9,20-29 (206 multipart/byteranges), Range bytes=999999- (416 + Content-Range: bytes */3000), index.html with Accept-Encoding (gzip, chunked, weak ETag), and resume.bin fetched with -r 0-999 and then resumed with -C - (Range: bytes=1000-) into the same file" \
        --stream "127.0.0.1:40060 127.0.0.1:8080 $d/curl $(curl_source "$d/curl")" \
        --transactions "$d/curl.tx.json" --note-file "$d/details.json"
    scenario_cleanup
}

# ---------------------------------------------------------------------------------------------
# WebSocket frame-level samples (tools/ws_frames.py: the `websockets` Sans-IO protocol driven
# one frame at a time). Both programs log every frame they wrote; tools/ws_facts.py merges the
# two logs (and checks them against each other) into details.websocket_connections.

ws_frames_run() {   # ws_frames_run NAME PORT LOCALPORT:PATH...
    local name=$1 port=$2; shift 2
    local ns=$NSP-$name d=$WORK/$name spec n=0
    ns_new "$name"
    mkdir -p "$d"
    start_bg ip netns exec "$ns" "$PY" "$TOOLS/ws_frames.py" server 127.0.0.1 "$port" --log "$d/srv" --count $#
    wait_for "ws_frames server" listening "$ns" "$port"
    tcpdump_start "$ns" "$CAP/$name.pcap" -i lo "tcp port $port"
    WS_CONNS=()
    for spec in "$@"; do
        n=$((n + 1))
        ip netns exec "$ns" "$PY" "$TOOLS/ws_frames.py" client "ws://127.0.0.1:$port${spec#*:}" \
            --local "127.0.0.1:${spec%%:*}" --log "$d/c$n"
        wait_for "server log $n" test -e "$d/srv.$n.done"
        WS_CONNS+=("$d/c$n.conn.json")
    done
    tcpdump_stop_all
    n=0
    for spec in "$@"; do
        n=$((n + 1))
        "$PY" "$TOOLS/ws_facts.py" connection --client-log "$d/c$n" --server-log "$d/srv.$n" \
            --client "127.0.0.1:${spec%%:*}" --server "127.0.0.1:$port" \
            --pcap "$CAP/$name.pcap" --port "$port" --out "$d/c$n.conn.json"
        tx_log "$d/c$n" "127.0.0.1:${spec%%:*}" "127.0.0.1:$port" ws_frames.py-client-log --allow-trailing --headers
    done
    "$PY" "$TOOLS/ws_facts.py" merge "${WS_CONNS[@]}" >"$d/details.json"
}

scenario_websocket_features() {
    log "websocket frame features: fragments, control frames between fragments, empty continuation, pongs, close 1001"
    local d=$WORK/websocket-features
    ws_frames_run websocket-features 8770 40061:/features
    fact --file websocket-features.pcap --software "tools/ws_frames.py client and server (Python websockets 17 Sans-IO protocol, one frame per call, no compression), tcpdump -i lo" \
        --shows "one WebSocket connection without extensions: the client sends a text message in 3 fragments with a ping between the first two, a binary message of 600 bytes in 3 fragments (16-bit lengths), a text message ending with an empty final continuation frame, a ping with a payload, an unsolicited pong, then close 1001 'going away'; the server echoes message 1 in one frame, message 2 in 2 fragments with its own ping between them, message 3 as a full frame plus an empty final continuation, answers the pong with an unsolicited pong of its own, pongs every ping and echoes the close" \
        --stream "127.0.0.1:40061 127.0.0.1:8770 $d/c1 ws_frames.py-client-log" \
        --transactions "$d/c1.tx.json" --note-file "$d/details.json"
    scenario_cleanup
}

scenario_websocket_deflate_contexts() {
    log "websocket permessage-deflate with and without context takeover"
    local d=$WORK/websocket-deflate-contexts
    ws_frames_run websocket-deflate-contexts 8771 40062:/deflate-takeover 40063:/deflate-no-takeover
    fact --file websocket-deflate-contexts.pcap --software "tools/ws_frames.py client and server (Python websockets 17 Sans-IO protocol with permessage-deflate), tcpdump -i lo" \
        --shows "two WebSocket connections with permessage-deflate: (1) default offer (context takeover), (2) client_no_context_takeover; server_no_context_takeover; server_max_window_bits=10. On each the client sends the same 141-byte text 4 times (with takeover the repeats shrink to 5-6 compressed bytes, without they stay 120), one compressed text in 3 fragments (RSV1 only on the first), one text sent without compression (RSV1 clear) on the compressed connection, a 1024-byte binary message, close 1000; the server echoes each the same way" \
        --stream "127.0.0.1:40062 127.0.0.1:8771 $d/c1 ws_frames.py-client-log" \
        --stream "127.0.0.1:40063 127.0.0.1:8771 $d/c2 ws_frames.py-client-log" \
        --transactions "$d/c1.tx.json" --transactions "$d/c2.tx.json" --note-file "$d/details.json"
    scenario_cleanup
}

# WebSocket protocol violations, one connection per case (tools/ws_bad.py: raw sockets on both
# ends after a real upgrade handshake; the receiving side fails the connection).
scenario_websocket_bad() {
    log "websocket protocol violations (raw sockets)"
    local name=websocket-bad ns=$NSP-wsbad d=$WORK/wsbad base=40064 port=8772
    ns_new wsbad
    mkdir -p "$d"
    "$PY" "$TOOLS/ws_bad.py" cases --verdicts >"$d/cases.json"
    local cases=() c i streams=() txs=() conns=()
    mapfile -t cases < <(json_get "$d/cases.json" '"\n".join(c["case"] for c in d)')
    start_bg ip netns exec "$ns" "$PY" "$TOOLS/ws_bad.py" server 127.0.0.1 $port --log "$d/srv"
    wait_for "ws_bad server" listening "$ns" $port
    tcpdump_start "$ns" "$CAP/$name.pcap" -i lo "tcp port $port"
    ip netns exec "$ns" "$PY" "$TOOLS/ws_bad.py" client 127.0.0.1:$port --local-base $base --log "$d/c"
    wait_for "server logs" test -e "$d/srv.${cases[-1]}.done"
    tcpdump_stop_all
    for i in "${!cases[@]}"; do
        c=${cases[$i]}
        "$PY" "$TOOLS/ws_facts.py" connection --client-log "$d/c.$c" --server-log "$d/srv.$c" \
            --client "127.0.0.1:$((base + i))" --server 127.0.0.1:$port --case-json "$d/cases.json" \
            --pcap "$CAP/$name.pcap" --port $port --out "$d/$c.conn.json"
        tx_log "$d/c.$c" "127.0.0.1:$((base + i))" 127.0.0.1:$port ws_bad.py-client-log --allow-trailing --headers
        streams+=(--stream "127.0.0.1:$((base + i)) 127.0.0.1:$port $d/c.$c ws_bad.py-client-log")
        txs+=(--transactions "$d/c.$c.tx.json")
        conns+=("$d/$c.conn.json")
    done
    "$PY" "$TOOLS/ws_facts.py" merge "${conns[@]}" >"$d/details.json"
    fact --file websocket-bad.pcap --software "tools/ws_bad.py raw-socket WebSocket client and server (frames built byte by byte), tcpdump -i lo" \
        --shows "${#cases[@]} connections, each a real upgrade handshake followed by one protocol violation: unmasked client frame, masked server frame, RSV1 without an extension, reserved opcode 0x3, ping with a 126-byte payload, fragmented ping, continuation without a start, a new text frame inside an unfinished fragmented message, invalid UTF-8 in a text frame, close code 1005 on the wire, close code 999, a 1-byte close payload, a non-minimal length (126 + 16-bit 5), a data frame after the close; then a 101 whose Sec-WebSocket-Accept is wrong and one whose subprotocol was not offered (the client closes TCP). The receiving side answers each frame violation with close 1002 (1007 for the bad UTF-8, 1000 for the close followed by data)" \
        "${streams[@]}" "${txs[@]}" --note-file "$d/details.json"
    scenario_cleanup
}

# HTTP/2 over cleartext via the HTTP/1.1 Upgrade (curl --http2 on http://): the first request
# carries Upgrade: h2c + HTTP2-Settings, the server answers 101 and then stream 1 in HTTP/2;
# the second URL reuses the connection as stream 3.
scenario_h2c_upgrade() {
    log "h2c upgrade: curl --http2 -> tools/h2c_server.py (h2 library)"
    local ns=$NSP-h2c d=$WORK/h2c
    ns_new h2c
    mkdir -p "$d"
    start_bg ip netns exec "$ns" "$PY" "$TOOLS/h2c_server.py" serve 127.0.0.1 8773 --log "$d/srv"
    wait_for "h2c_server" listening "$ns" 8773
    tcpdump_start "$ns" "$CAP/h2c-upgrade.pcap" -i lo "tcp port 8773"
    ip netns exec "$ns" env -u http_proxy -u HTTP_PROXY -u all_proxy -u ALL_PROXY curl -q -sS -v --http2 \
        --local-port 40080 http://127.0.0.1:8773/one.txt -o "$d/one.out" \
        http://127.0.0.1:8773/two.json -o "$d/two.out" 2>"$d/curl.verbose"
    wait_for "h2c server log" test -e "$d/srv.1.done"
    tcpdump_stop_all
    "$PY" "$TOOLS/h2c_server.py" frames "$d/srv.1" >"$d/frames.json"
    tx_log "$d/srv.1" 127.0.0.1:40080 127.0.0.1:8773 h2c_server.py-log --allow-trailing --headers
    "$PY" - "$d" <<'PYEOF' >"$d/details.json"
import hashlib, json, re, sys
d = sys.argv[1]
fr = json.load(open(d + "/frames.json"))
ev = json.load(open(d + "/srv.1.events.json"))
# curl's own decoded bodies must be what the server's DATA frames carried
for s, out in zip(fr["streams"], ("one.out", "two.out")):
    b = open(f"{d}/{out}", "rb").read()
    assert hashlib.sha256(b).hexdigest() == s["response_body_sha256"], s
    s["client_output_agrees"] = True
verbose = [l.rstrip("\n") for l in open(d + "/curl.verbose", encoding="latin-1")
           if re.match(r"^\* (Received 101|Using Stream ID|Re-using|Copying HTTP/2)|^< HTTP/", l)]
verbose = [re.sub(r" \(easy handle 0x[0-9a-f]+\)", "", l) for l in verbose]
fr["h2_events"] = ev
fr["client_verbose"] = verbose
fr["summary"] = ("101 then HTTP/2; frames client->server: "
                 + ", ".join(f"{k} x{v}" for k, v in fr["frame_counts"]["client_to_server"].items())
                 + "; server->client: "
                 + ", ".join(f"{k} x{v}" for k, v in fr["frame_counts"]["server_to_client"].items())
                 + "; streams: " + ", ".join(f"{s['stream_id']} {s['method']} {s['path']} -> {s['status']} "
                                             f"({s['response_body_bytes']} B, {s['opened_by']})"
                                             for s in fr["streams"]))
print(json.dumps({"h2c": fr, "summary": fr.pop("summary")}, indent=1))
PYEOF
    fact --file h2c-upgrade.pcap --software "curl 7.88 --http2 (nghttp2 1.52) -> tools/h2c_server.py (Python h2 4.x, sans-IO), tcpdump -i lo" \
        --shows "one connection: GET /one.txt over HTTP/1.1 with Upgrade: h2c and HTTP2-Settings, the server's 101 Switching Protocols, then HTTP/2 in both directions (client preface after the request head, SETTINGS both ways, stream 1 answers the upgraded request, stream 3 is a second GET /two.json sent as HTTP/2 HEADERS on the same connection); curl closes without GOAWAY" \
        --stream "127.0.0.1:40080 127.0.0.1:8773 $d/srv.1 h2c_server.py-log" \
        --transactions "$d/srv.1.tx.json" --note-file "$d/details.json" \
        --note "the stream bytes are the server's log (curl's --trace shows HTTP/2 decoded, not the wire bytes); the HTTP/2 frames are parsed from those bytes with hyperframe/hpack"
    scenario_cleanup
}

# TLS through an HTTP CONNECT tunnel: curl -p -x tinyproxy -> nginx (ssl, http2) on localhost,
# once with --http2 (ALPN h2, http/1.1) and once with --http1.1 (ALPN http/1.1). The ClientHello
# facts come from curl's --trace (its TLS library's record of the handshake messages) and are
# checked to be exactly the bytes in both legs of the capture.
scenario_connect_tls() {
    log "CONNECT tunnel carrying TLS (tinyproxy -> nginx ssl), ALPN h2 and http/1.1"
    local ns=$NSP-ctls d=$WORK/ctls
    ns_new ctls
    mkdir -p "$d"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -subj /CN=localhost -addext subjectAltName=DNS:localhost -keyout "$d/key.pem" -out "$d/cert.pem" 2>/dev/null
    NGINX_SERVER_EXTRA="server_name localhost; ssl_protocols TLSv1.2 TLSv1.3; ssl_certificate $d/cert.pem; ssl_certificate_key $d/key.pem;" \
        nginx_setup "$d" "127.0.0.1:8443 ssl http2"
    nginx_start "$ns" "$d" 8443
    cat >"$d/tinyproxy.conf" <<EOF2
User root
Group root
Port 8888
Listen 127.0.0.1
Timeout 30
MaxClients 8
Allow 127.0.0.1
ConnectPort 8443
LogLevel Info
LogFile "$d/logs/tinyproxy.log"
PidFile "$d/tinyproxy.pid"
EOF2
    start_bg ip netns exec "$ns" tinyproxy -d -c "$d/tinyproxy.conf" 2>>"$d/logs/tinyproxy.stderr"
    wait_for "tinyproxy" listening "$ns" 8888
    tcpdump_start "$ns" "$CAP/connect-tls.pcap" -i lo "tcp port 8888 or tcp port 8443"
    curl_run "$ns" "$d/h2" --local-port 40081 -k -p -x http://127.0.0.1:8888 --http2 --tls-max 1.2 \
        https://localhost:8443/index.html -o "$d/h2.out"
    curl_run "$ns" "$d/h1" --local-port 40082 -k -p -x http://127.0.0.1:8888 --http1.1 \
        https://localhost:8443/style.css -o "$d/h1.out"
    tcpdump_stop_all
    local p
    for p in h2 h1; do
        "$PY" "$TOOLS/tls_hello.py" curl-trace "$d/$p.trace" >"$d/$p.hello.json"
        tx_curl "$d/$p" "127.0.0.1:$([ $p = h2 ] && echo 40081 || echo 40082)" 127.0.0.1:8888 --allow-trailing --headers
    done
    "$PY" - "$d" "$CAP/connect-tls.pcap" "$TOOLS" <<'PYEOF' >"$d/details.json"
import hashlib, json, subprocess, sys
d, pcap, tools = sys.argv[1:4]
sys.path.insert(0, tools)
from facts import follow_bytes, tshark, endpoint  # noqa: E402
out, _ = tshark(pcap, "-T", "fields", "-e", "tcp.stream", "-e", "ip.src", "-e", "ipv6.src",
                "-e", "tcp.srcport", "-e", "tcp.dstport", "-e", "tcp.flags")
syn = [r.split("\t") for r in out.splitlines() if r.split("\t")[5] == "0x0002"]
upstream = [(r[0], endpoint(r[1], r[2], r[3])) for r in syn if r[4] == "8443"]
conns = []
for i, (p, port) in enumerate((("h2", 40081), ("h1", 40082))):
    client = f"127.0.0.1:{port}"
    idx = next(r[0] for r in syn if endpoint(r[1], r[2], r[3]) == client)
    c, s = follow_bytes(pcap, idx, client)
    tx = json.load(open(f"{d}/{p}.tx.json"))[0]
    tc, ts = open(f"{d}/{p}.sent", "rb").read(), open(f"{d}/{p}.recv", "rb").read()
    # curl traced the CONNECT exchange in clear: the captured stream must start with it
    creq, cresp = tx["request_head_bytes"], tx["response_head_bytes"]
    assert c[:creq] == tc[:creq] and s[:cresp] == ts[:cresp], p
    open(f"{d}/{p}.tun.sent", "wb").write(c)
    open(f"{d}/{p}.tun.recv", "wb").write(s)
    hello = json.load(open(f"{d}/{p}.hello.json"))
    open(f"{d}/{p}.c.bin", "wb").write(c)
    legs = {}
    f1 = json.loads(subprocess.run([sys.executable, f"{tools}/tls_hello.py", "find-in-stream", f"{d}/{p}.c.bin",
                                    hello["client_hello_hex"]], capture_output=True, text=True, check=True).stdout)
    legs["client_to_proxy"] = dict(f1, connection=client)
    uidx, uclient = upstream[i]
    uc, us = follow_bytes(pcap, uidx, uclient)
    open(f"{d}/{p}.u.bin", "wb").write(uc)
    f2 = json.loads(subprocess.run([sys.executable, f"{tools}/tls_hello.py", "find-in-stream", f"{d}/{p}.u.bin",
                                    hello["client_hello_hex"]], capture_output=True, text=True, check=True).stdout)
    legs["proxy_to_server"] = dict(f2, connection=uclient, note="tinyproxy's own connection; ephemeral port")
    assert f1["client_hello_equals_client_log"] and f2["client_hello_equals_client_log"], p
    assert f1["bytes_before_tls"] == creq and f2["bytes_before_tls"] == 0
    # the tunnelled bytes are the same on both legs
    legs["tunnel_bytes_identical_on_both_legs"] = c[creq:] == uc and s[cresp:] == us
    ch = hello["client_hello"]
    conns.append({"client": client, "proxy": "127.0.0.1:8888", "origin": "localhost:8443 (127.0.0.1)",
                  "curl_option": "--http2 --tls-max 1.2" if p == "h2" else "--http1.1",
                  "connect_request_line": f"{tx['method']} {tx['target']} {tx['version']}",
                  "connect_request_headers": tx["request_headers"],
                  "connect_response_status": tx["status"], "connect_response_reason": tx["reason"],
                  "connect_response_headers": tx["response_headers"],
                  "tls_stream_offset_client": creq, "tls_stream_offset_server": cresp,
                  "client_hello": ch, "client_hello_hex": hello["client_hello_hex"],
                  "server_hello": hello["server_hello"], "alpn_selected": hello["alpn_selected"],
                  "curl_info": hello["curl_info"], "legs": legs,
                  "client_hello_source": hello["source"]})
print(json.dumps({"connect_tls_connections": conns, "summary": "; ".join(
    f"{c['client']} {c['curl_option']}: {c['connect_request_line']} -> {c['connect_response_status']} "
    f"{c['connect_response_reason']}; ClientHello SNI {c['client_hello'].get('sni')}, ALPN "
    f"{c['client_hello'].get('alpn')}, offered versions {c['client_hello']['offered_versions']} "
    f"(from {c['client_hello']['offered_versions_from']}); "
    f"server chose {c['server_hello']['selected_version']} {c['server_hello']['cipher_suite']}, ALPN "
    f"{c['alpn_selected']}" + (" (in the clear ServerHello)" if c["server_hello"].get("alpn")
                               else " (in the encrypted EncryptedExtensions)") for c in conns)}, indent=1))
PYEOF
    fact --file connect-tls.pcap --software "curl 7.88 (OpenSSL 3.0) -k -p -x -> tinyproxy 1.11 (CONNECT) -> nginx 1.22 (ssl, http2, self-signed cert for localhost), tcpdump -i lo" \
        --shows "2 CONNECT tunnels to localhost:8443, each carrying TLS with SNI 'localhost': curl --http2 --tls-max 1.2 (ALPN h2, http/1.1; TLS 1.2, so nginx's choice h2 is in the clear ServerHello) and curl --http1.1 (ALPN http/1.1 only, supported_versions offers TLS 1.3; TLS 1.3, the ALPN answer is encrypted); plus tinyproxy's own connections to nginx carrying the same TLS bytes" \
        --stream "127.0.0.1:40081 127.0.0.1:8888 $d/h2.tun tshark-follow+curl--trace" \
        --stream "127.0.0.1:40082 127.0.0.1:8888 $d/h1.tun tshark-follow+curl--trace" \
        --follow-server 127.0.0.1:8443 \
        --transactions "$d/h2.tx.json" --transactions "$d/h1.tx.json" --note-file "$d/details.json" \
        --note "curl does not log TLS records as bytes: the client connections' bytes are tshark's follow, checked to start with exactly the CONNECT exchange curl traced and to carry exactly the ClientHello curl's TLS library logged; the proxy->nginx connections use ephemeral ports, bytes from tshark's follow"
    scenario_cleanup
}

# Cookies (curl's cookie jar), Basic auth challenge and retry, redirect chains and CORS answers
# from tools/http_app_server.py; each part on its own keep-alive connection.
scenario_http_cookies_auth_redirect() {
    log "cookies, Basic auth, redirect chains, CORS (python app server + curl)"
    local ns=$NSP-app d=$WORK/app
    ns_new app
    mkdir -p "$d"
    start_bg ip netns exec "$ns" "$PY" "$TOOLS/http_app_server.py" 127.0.0.1 8001 --log "$d/server.log"
    wait_for "http_app_server" listening "$ns" 8001
    local r="--resolve localhost:8001:127.0.0.1" u=http://localhost:8001 o="Origin: http://app.localhost:3000"
    : >"$d/jar"
    tcpdump_start "$ns" "$CAP/http-cookies-auth-redirect.pcap" -i lo "tcp port 8001"
    curl_run "$ns" "$d/cookies" --local-port 40083 $r -b "$d/jar" -c "$d/jar" \
        "$u/cookies/set" "$u/cookies/check" "$u/admin/page"
    curl_run "$ns" "$d/auth" --local-port 40084 $r --anyauth -u user:pass "$u/auth/basic"
    curl_run "$ns" "$d/redir" --local-port 40085 $r -L --post301 --post302 -d hello=world "$u/r/301/302/303/307/308"
    curl_run "$ns" "$d/redir2" --local-port 40086 $r -L -d hello=world "$u/r/307/308"
    CURL_OK_RC=47 curl_run "$ns" "$d/loop" --local-port 40087 $r -L --max-redirs 3 "$u/loop"
    curl_run "$ns" "$d/cors" --local-port 40088 $r \
        -X OPTIONS -H "$o" -H "Access-Control-Request-Method: PUT" -H "Access-Control-Request-Headers: content-type" "$u/api/item" \
        --next --local-port 40088 $r -X PUT -H "$o" -H "Content-Type: application/json" -d '{"name":"x"}' "$u/api/item" \
        --next --local-port 40088 $r -X OPTIONS -H "$o" -H "Access-Control-Request-Method: DELETE" "$u/api/strict" \
        --next --local-port 40088 $r -H "$o" -b "sessionid=4f2c9a1b7e" "$u/api/cred"
    tcpdump_stop_all
    local p port streams=() txs=()
    for p in cookies:40083 auth:40084 redir:40085 redir2:40086 loop:40087 cors:40088; do
        port=${p#*:}; p=${p%%:*}
        tx_curl "$d/$p" "127.0.0.1:$port" 127.0.0.1:8001 --headers
        streams+=(--stream "127.0.0.1:$port 127.0.0.1:8001 $d/$p $(curl_source "$d/$p")")
        txs+=(--transactions "$d/$p.tx.json")
    done
    cp "$d/jar" "$d/jar.final"
    "$PY" "$TOOLS/cookie_cors_facts.py" --cookies "$d/cookies.tx.json" "$d/jar.final" --auth "$d/auth.tx.json" \
        --redirects "$d/redir.tx.json" "$d/redir2.tx.json" "$d/loop.tx.json" --cors "$d/cors.tx.json" >"$d/details.json"
    fact --file http-cookies-auth-redirect.pcap --software "curl 7.88 (cookie jar, --anyauth, -L) -> Python 3.11 http.server (tools/http_app_server.py), tcpdump -i lo" \
        --shows "6 keep-alive connections to localhost:8001: (1) Set-Cookie with Path, Domain, Max-Age, Expires, Secure, HttpOnly, SameSite=None/Lax/Strict, __Host- and __Secure- prefixes, a sessionid without HttpOnly, a Path=/admin cookie and an invalid __Host- cookie with Domain; curl's jar sends them back on /cookies/check (without the /admin one) and /admin/page; (2) 401 with WWW-Authenticate: Basic realm=\"x\", then the retry with Authorization: Basic (200); (3) POST through 301 and 302 (--post301/--post302), 303 turns it into GET, 307, 308, 200; (4) POST through 307 and 308 keeps method and body; (5) a 302 loop stopped by --max-redirs 3 (curl exit 47); (6) CORS: allowed preflight for PUT and the PUT, a preflight that does not allow DELETE, and a credentialed GET answered with Access-Control-Allow-Origin: *" \
        "${streams[@]}" "${txs[@]}" --note-file "$d/details.json" \
        --note "the CORS decisions in details are the Fetch standard's rules applied to the recorded headers (curl itself does not enforce CORS)"
    scenario_cleanup
}

# Terminal escape sequences on the wire (issue 19): a raw client sends a request whose target
# and header name and value carry ESC sequences and BEL to Python's http.server
# (tools/http_lab_server.py /hostile), which answers with them in its reason phrase, a header
# value and the body.
scenario_hostile_escapes() {
    log "escape sequences in a request target, headers, a reason phrase and a body"
    local ns=$NSP-esc d=$WORK/esc
    ns_new esc
    mkdir -p "$d"
    start_bg ip netns exec "$ns" "$PY" "$TOOLS/http_lab_server.py" 127.0.0.1 8097
    wait_for "http_lab_server" listening "$ns" 8097
    printf 'GET /hostile/\033[31mred\033[0m\a?x=\033]0;pwned\a HTTP/1.1\r\nHost: 127.0.0.1:8097\r\nUser-Agent: hopscope-raw/1\r\nX-\033[2J: v\r\nX-Note: \033]2;owned\a\r\nConnection: close\r\n\r\n' >"$d/hostile.req"
    tcpdump_start "$ns" "$CAP/http-hostile-escapes.pcap" -i lo "tcp port 8097"
    raw_client "$ns" 127.0.0.1:8097 127.0.0.1:40320 "$d/hostile" "$d/hostile.req"
    tcpdump_stop_all
    local status
    status=$(head -n 1 "$d/hostile.recv" | tr -d '\r' | od -An -c | tr -s ' ' | head -c 300)
    fact --file http-hostile-escapes.pcap --software "tools/http_raw_client.py -> Python 3.11 http.server (tools/http_lab_server.py /hostile), tcpdump -i lo" \
        --shows "one GET whose target carries ESC [31m, ESC [0m, BEL and an OSC title sequence, with a header named 'X-ESC[2J' and a value with an OSC sequence; http.server answers 200 with ESC and BEL in its reason phrase (status line as od -c: $status), an X-Title value with an OSC sequence and a body that clears the screen" \
        --stream "127.0.0.1:40320 127.0.0.1:8097 $d/hostile http_raw_client.py-log"
    scenario_cleanup
}

# Content-Length given twice with the same value (issue 19): each request on its own
# connection to two real servers that read it differently, nginx 1.22 (a `return 200` location)
# and Python's http.server (tools/http_lab_server.py, POST /upload reads the body by
# Content-Length). Control cases: one Content-Length, and chunked.
scenario_cl_servers_disagree() {
    log "Content-Length repeated: nginx and http.server disagree"
    local ns=$NSP-cl d=$WORK/cl
    ns_new cl
    mkdir -p "$d"
    NGINX_SERVER_EXTRA='location /upload { return 200 "nginx read it\n"; }' nginx_setup "$d/nginx" 127.0.0.1:8095
    nginx_start "$ns" "$d/nginx" 8095
    start_bg ip netns exec "$ns" "$PY" "$TOOLS/http_lab_server.py" 127.0.0.1 8096
    wait_for "http_lab_server" listening "$ns" 8096
    local h=$'User-Agent: hopscope-raw/1\r\nConnection: close\r\n'
    printf 'POST /upload HTTP/1.1\r\nHost: s\r\n%sContent-Length: 5\r\n\r\nhello' "$h" >"$d/one.req"
    printf 'POST /upload HTTP/1.1\r\nHost: s\r\n%sContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello' "$h" >"$d/twice.req"
    printf 'POST /upload HTTP/1.1\r\nHost: s\r\n%sContent-Length: 5, 5\r\n\r\nhello' "$h" >"$d/list.req"
    printf 'POST /upload HTTP/1.1\r\nHost: s\r\n%sContent-Length: 5\r\nContent-Length: 11\r\n\r\nhello world' "$h" >"$d/differ.req"
    printf 'POST /upload HTTP/1.1\r\nHost: s\r\n%sTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n' "$h" >"$d/chunked.req"
    tcpdump_start "$ns" "$CAP/http-cl-servers-disagree.pcap" -i lo "tcp port 8095 or tcp port 8096"
    local c server port=40300 answers=() streams=()
    for server in 8095 8096; do
        for c in one twice list differ chunked; do
            raw_client "$ns" "127.0.0.1:$server" "127.0.0.1:$port" "$d/$c.$server" "$d/$c.req"
            answers+=("$c to $([ $server = 8095 ] && echo nginx || echo http.server) from port $port: $(head -c 200 "$d/$c.$server.recv" | head -n 1 | tr -d '\r')")
            streams+=(--stream "127.0.0.1:$port 127.0.0.1:$server $d/$c.$server http_raw_client.py-log")
            port=$((port + 1))
        done
    done
    tcpdump_stop_all
    local joined
    joined=$(printf '%s; ' "${answers[@]}")
    fact --file http-cl-servers-disagree.pcap --software "tools/http_raw_client.py -> nginx 1.22 (location /upload { return 200 }) and Python 3.11 http.server (tools/http_lab_server.py POST /upload), tcpdump -i lo" \
        --shows "5 POST /upload requests, each on its own connection, sent to nginx (port 8095) and then to http.server (port 8096): one (Content-Length: 5, control), twice (Content-Length: 5 twice), list (Content-Length: 5, 5), differ (Content-Length: 5 and 11), chunked (control). Status lines: ${joined%; }" \
        "${streams[@]}"
    scenario_cleanup
}

# The same server under two names (issue 19): curl's cookie jar gets the app's cookies from
# http://localhost:8001, then asks http://127.0.0.1:8001 (same address and port: curl sends
# none of them, host-only cookies go to the name that set them) and http://localhost:8001
# again (they come back). The jar curl kept is saved next to the facts.
scenario_cookies_two_names() {
    log "one server, two names: cookies set by localhost, not sent to 127.0.0.1 (curl jar)"
    local ns=$NSP-names d=$WORK/names
    ns_new names
    mkdir -p "$d"
    start_bg ip netns exec "$ns" "$PY" "$TOOLS/http_app_server.py" 127.0.0.1 8001 --log "$d/server.log"
    wait_for "http_app_server" listening "$ns" 8001
    local r="--resolve localhost:8001:127.0.0.1"
    : >"$d/jar"
    tcpdump_start "$ns" "$CAP/http-cookies-two-names.pcap" -i lo "tcp port 8001"
    curl_run "$ns" "$d/set" --local-port 40091 $r -b "$d/jar" -c "$d/jar" "http://localhost:8001/cookies/set"
    # The jar curl wrote (Netscape format; `#HttpOnly_` lines are cookies too): domain and name.
    local jar_names
    jar_names=$(sed -n 's/^#HttpOnly_//; /^[^#]/p' "$d/jar" | awk -F'\t' 'NF >= 7 {printf "%s%s %s", (n++ ? ", " : ""), $1, $6}')
    curl_run "$ns" "$d/ip" --local-port 40092 $r -b "$d/jar" -c "$d/jar" "http://127.0.0.1:8001/cookies/check"
    curl_run "$ns" "$d/name" --local-port 40093 $r -b "$d/jar" -c "$d/jar" "http://localhost:8001/cookies/check"
    tcpdump_stop_all
    local p port streams=()
    for p in set:40091 ip:40092 name:40093; do
        port=${p#*:}; p=${p%%:*}
        streams+=(--stream "127.0.0.1:$port 127.0.0.1:8001 $d/$p $(curl_source "$d/$p")")
    done
    fact --file http-cookies-two-names.pcap --software "curl 7.88 (cookie jar) -> Python 3.11 http.server (tools/http_app_server.py), tcpdump -i lo" \
        --shows "3 connections to 127.0.0.1:8001: (1) GET http://localhost:8001/cookies/set answers 11 Set-Cookie; curl's jar then holds (domain, name): $jar_names; (2) GET http://127.0.0.1:8001/cookies/check with the same jar carries no Cookie field: every cookie was set by localhost (host-only, or Domain=localhost) and 127.0.0.1 is another name for curl; (3) GET http://localhost:8001/cookies/check carries them back" \
        "${streams[@]}" --note "the body of (2) is empty: the server echoes the Cookie field it got; the body of (3) is the cookies curl sent"
    scenario_cleanup
}

# A real browser's CORS: headless Chromium loads a page from http://127.0.0.1:8002 whose script
# fetch()es http://127.0.0.2:8003 three times (preflight allowed; preflight without the custom
# header; credentialed request answered with '*'). Chromium's client ports are ephemeral; the
# bytes of every connection come from the servers' own logs (tools/cors_lab_server.py).
scenario_browser_cors() {
    log "headless chromium cross-origin fetch with preflights"
    local ns=$NSP-bcors d=$WORK/bcors
    ns_new bcors
    mkdir -p "$d/profile"
    start_bg ip netns exec "$ns" "$PY" "$TOOLS/cors_lab_server.py" --page 127.0.0.1:8002 --api 127.0.0.2:8003 --log "$d/srv"
    wait_for "cors_lab_server page" listening "$ns" 8002
    wait_for "cors_lab_server api" listening "$ns" 8003
    tcpdump_start "$ns" "$CAP/browser-cors.pcap" -i lo "tcp port 8002 or tcp port 8003"
    # --virtual-time-budget: headless waits (in virtual time) for the page's fetches before
    # --dump-dom prints the DOM; timeout bounds the real time
    ip netns exec "$ns" timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync --user-data-dir="$d/profile" \
        --enable-logging=stderr --v=0 --virtual-time-budget=5000 --dump-dom http://127.0.0.1:8002/page.html \
        >"$d/dom.html" 2>"$d/chromium.log"
    tcpdump_stop_all
    chromium --version >"$d/version.txt" 2>/dev/null
    local f base peer origin server streams=() txs=()
    for f in "$d"/srv.*.peer; do
        base=${f%.peer}
        [ -s "$base.sent" ] || continue   # a connection Chromium opened but never used
        peer=$(tr -d '\n' <"$f")
        origin=$(basename "$base" | cut -d. -f2)
        server=$([ "$origin" = page ] && echo 127.0.0.1:8002 || echo 127.0.0.2:8003)
        tx_log "$base" "$peer" "$server" cors_lab_server.py-log --headers
        streams+=(--stream "$peer $server $base cors_lab_server.py-log")
        txs+=(--transactions "$base.tx.json")
    done
    "$PY" - "$d" <<'PYEOF' >"$d/details.json"
import glob, json, re, sys
d = sys.argv[1]
dom = open(d + "/dom.html").read()
pre = re.search(r'<pre id="out">(.*?)</pre>', dom, re.S).group(1)
results = [l for l in pre.split("\n") if l]
console = [re.sub(r"^\[[^\]]*\] ", "", l.rstrip("\n")) for l in open(d + "/chromium.log", errors="replace")
           if ":CONSOLE" in l]
reqs = [json.loads(l) for l in open(d + "/srv.requests.jsonl")]
conns = []
for f in sorted(glob.glob(d + "/srv.*.peer")):
    base = f[:-5]
    name = base.rsplit("/", 1)[1]
    peer = open(f).read().strip()
    origin = name.split(".")[1]
    used = [f"{r['method']} {r['path']}" for r in reqs if r["peer"] == peer and r["origin"] == origin]
    conns.append({"origin": "http://127.0.0.1:8002" if origin == "page" else "http://127.0.0.2:8003",
                  "client": peer, "requests": used,
                  "note": None if used else "opened by Chromium but never used (no bytes)"})
def sent(method, path):
    return any(r["method"] == method and r["path"] == path and r["origin"] == "api" for r in reqs)
def reason(url):
    return next((re.search(r'"(.*)", source:', c).group(1) for c in console
                 if "blocked by CORS policy" in c and url in c), None)
cases = [
    {"name": "allowed", "fetch": "fetch(api + '/api/allowed', {headers: {'X-Hopscope': '1'}})",
     "preflight_sent": sent("OPTIONS", "/api/allowed"), "actual_request_sent": sent("GET", "/api/allowed"),
     "rule": "a non-safelisted request header (X-Hopscope) needs a preflight; the preflight allows the origin, GET and the header"},
    {"name": "denied", "fetch": "fetch(api + '/api/denied', {headers: {'X-Hopscope': '1'}})",
     "preflight_sent": sent("OPTIONS", "/api/denied"), "actual_request_sent": sent("GET", "/api/denied"),
     "rule": "blocked: the preflight response does not list x-hopscope in Access-Control-Allow-Headers, so the browser never sends the GET"},
    {"name": "credentialed-star", "fetch": "fetch(api + '/api/cred', {credentials: 'include'})",
     "preflight_sent": sent("OPTIONS", "/api/cred"), "actual_request_sent": sent("GET", "/api/cred"),
     "rule": "blocked: a credentialed response must name the origin; Access-Control-Allow-Origin '*' is refused even with Allow-Credentials: true (a simple GET: no preflight, the request is sent and the response withheld from the script)"},
]
for c in cases:
    line = next(r for r in results if r.startswith(c["name"] + ":"))
    c["page_result"] = line
    c["browser_decision"] = "allowed" if ": allowed" in line else "blocked"
    c["console_reason"] = reason("/api/" + c["name"].split("-")[0].replace("credentialed", "cred"))
print(json.dumps({"browser": open(d + "/version.txt").read().strip(),
                  "page": "http://127.0.0.1:8002/page.html", "api_origin": "http://127.0.0.2:8003",
                  "cors_browser_cases": cases, "page_results": results,
                  "console": console, "browser_connections": conns,
                  "summary": "; ".join(f"{c['name']}: {c['browser_decision']} (preflight "
                                       f"{'sent' if c['preflight_sent'] else 'not sent'}, request "
                                       f"{'sent' if c['actual_request_sent'] else 'not sent'})"
                                       + (f": {c['console_reason']}" if c["console_reason"] else "")
                                       for c in cases)}, indent=1))
PYEOF
    fact --file browser-cors.pcap --software "Chromium $(cut -d' ' -f2 "$d/version.txt") headless (--dump-dom --virtual-time-budget) -> two Python 3.11 http.server origins (tools/cors_lab_server.py), tcpdump -i lo" \
        --shows "a page from http://127.0.0.1:8002 whose script fetch()es http://127.0.0.2:8003: (1) with a custom header X-Hopscope: a real preflight OPTIONS allowed, then the GET; (2) the same header to /api/denied: the preflight answer lacks the header, the browser blocks it and never sends the GET; (3) credentials: 'include' to /api/cred answered with Access-Control-Allow-Origin: * and Allow-Credentials: true: sent (simple GET, no preflight) but blocked. Chromium uses a separate connection for the credentialed request" \
        "${streams[@]}" "${txs[@]}" --note-file "$d/details.json" \
        --note "Chromium's client ports are ephemeral (they change between runs); every connection's bytes come from the servers' own logs, and the transactions are split from those logs (the browser cannot log them); the allowed/blocked results are the page's own output (--dump-dom) and Chromium's console"
    scenario_cleanup
}

# A real browser as the WebSocket client: headless Chromium loads a page from
# tools/ws_browser_lab.py whose script talks permessage-deflate to a websockets 17 server
# (short text, non-ASCII text, 4 KiB binary, a 1,000,000-byte text), the server echoes each
# and closes first with 4001; then a second WebSocket to a server that refuses the page's
# Origin (403). lo has MTU 1500 and no GSO, so the big messages are ~100 real TCP segments
# each way (as on Ethernet) instead of a few 64 KiB loopback super-packets.
scenario_websocket_browser() {
    log "headless chromium WebSocket client (permessage-deflate, 1 MB message, server close 4001, Origin refused)"
    local ns=$NSP-wsbrowser d=$WORK/wsbrowser
    ns_new wsbrowser
    ip -n "$ns" link set lo mtu 1500 gso_max_size 1500 gso_max_segs 1
    mkdir -p "$d/profile"
    start_bg ip netns exec "$ns" "$PY" "$TOOLS/ws_browser_lab.py" --page 127.0.0.1:8790 \
        --ws 127.0.0.1:8791 --refuse 127.0.0.1:8792 --log "$d/srv"
    wait_for "ws_browser_lab page" listening "$ns" 8790
    wait_for "ws_browser_lab ws" listening "$ns" 8791
    wait_for "ws_browser_lab refuse" listening "$ns" 8792
    tcpdump_start "$ns" "$CAP/websocket-browser.pcap" -i lo "tcp port 8790 or tcp port 8791 or tcp port 8792"
    # no --virtual-time-budget: it does not wait for WebSocket traffic; the page's document
    # stays loading until the page has POSTed its log, and --dump-dom waits for the load event
    ip netns exec "$ns" timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync --user-data-dir="$d/profile" \
        --enable-logging=stderr --v=0 --dump-dom http://127.0.0.1:8790/page.html \
        >"$d/dom.html" 2>"$d/chromium.log"
    wait_for "the WebSocket server's close" grep -q connection_lost "$d/srv.ws.1.wslog"
    tcpdump_stop_all
    chromium --version >"$d/version.txt" 2>/dev/null
    "$PY" "$TOOLS/ws_browser_facts.py" --log "$d/srv" --dom "$d/dom.html" --browser "$d/version.txt" \
        --ws 127.0.0.1:8791 --refuse 127.0.0.1:8792 --out "$d/details.json"
    local f base peer server streams=() txs=() args
    for f in "$d"/srv.*.peer; do
        base=${f%.peer}
        [ -s "$base.sent" ] || continue   # a connection Chromium opened but never used
        peer=$(tr -d '\n' <"$f")
        case $(basename "$base" | cut -d. -f2) in
            page) server=127.0.0.1:8790; args=() ;;
            ws) server=127.0.0.1:8791; args=(--allow-trailing) ;;
            refuse) server=127.0.0.1:8792; args=() ;;
        esac
        tx_log "$base" "$peer" "$server" ws_browser_lab.py-log --headers "${args[@]}"
        streams+=(--stream "$peer $server $base ws_browser_lab.py-log")
        txs+=(--transactions "$base.tx.json")
    done
    fact --file websocket-browser.pcap --software "Chromium $(cut -d' ' -f2 "$d/version.txt") headless (--dump-dom) as the WebSocket client -> Python websockets 17.4 servers and an http.server page (tools/ws_browser_lab.py), tcpdump -i lo (MTU 1500, no GSO)" \
        --shows "a page from http://127.0.0.1:8790 whose script opens ws://127.0.0.1:8791/echo; Chromium offers permessage-deflate; client_max_window_bits and the server agrees (window bits 12 both ways); the page sends a 19-byte text, a 32-byte non-ASCII text, a 4096-byte ArrayBuffer and a 1,000,000-byte text (Chromium compresses it into 3 frames: a text frame and 2 continuations); the server echoes each in one compressed frame (the big one with a 64-bit length) and then closes first with 4001 'done by server', which Chromium echoes; then the page opens ws://127.0.0.1:8792/refused, whose server accepts only Origin http://allowed.hopscope.invalid and answers the upgrade 403 (the page sees error + close 1006, wasClean false). The page's own log (message types, byte lengths, sha256 via crypto.subtle, close events) is in details.page_log" \
        "${streams[@]}" "${txs[@]}" --note-file "$d/details.json" \
        --note "Chromium's client ports are ephemeral (they change between runs) and so are its deflate frame boundaries; every connection's bytes come from the servers' own logs; the client's frames are split from the bytes the WebSocket server read, the server's frames are its transport writes; every message was inflated and matched (type, bytes, sha256) against the page's log and the server library's"
    scenario_cleanup
}

# ---------------------------------------------------------------------------------------------
# TLS with the clients' own key logs (issue 14): curl (SSLKEYLOGFILE), Python (ssl.SSLContext
# keylog_filename) and headless Chromium (--ssl-key-log-file) against nginx. Each capture has
# its key log beside it (samples/NAME.keys, as the client wrote it). The facts come from the
# programs: nginx's access log (one JSON object per request: TLS version, cipher, session
# reuse, SNI, ALPN, method, target, status, body bytes), curl's --trace (the handshake
# messages OpenSSL logged, the HTTP bytes in the clear) and -w '%{json}', the Python clients'
# logs; tools/tls_facts.py cross-checks them with the handshake in the clear in the capture
# and runs tshark with the key log as an independent oracle (samples/tls/NAME.tshark.txt).

TLS_NGINX_LOG=$(cat <<'EOF'
log_format tls escape=json '{"client":"$remote_addr:$remote_port","server":"$server_addr:$server_port","connection":$connection,"connection_requests":$connection_requests,"method":"$request_method","target":"$request_uri","protocol":"$server_protocol","status":$status,"body_bytes_sent":$body_bytes_sent,"bytes_sent":$bytes_sent,"request_length":$request_length,"ssl_protocol":"$ssl_protocol","ssl_cipher":"$ssl_cipher","ssl_session_reused":"$ssl_session_reused","ssl_server_name":"$ssl_server_name","ssl_alpn_protocol":"$ssl_alpn_protocol","gzip_ratio":"$gzip_ratio","upstream_addr":"$upstream_addr"}';
EOF
)

tls_cert() {   # tls_cert DIR rsa|ec NAME  -> DIR/cert.pem, DIR/key.pem (self-signed for NAME)
    local kt=(-newkey ec -pkeyopt ec_paramgen_curve:P-256)
    [ "$2" = rsa ] && kt=(-newkey rsa:2048)
    openssl req -x509 "${kt[@]}" -nodes -days 2 -subj "/CN=$3" -addext "subjectAltName=DNS:$3" \
        -keyout "$1/key.pem" -out "$1/cert.pem" 2>/dev/null
}

tls_server_extra() {   # tls_server_extra DIR  -> nginx server-block lines: cert, JSON access log, types, gzip
    echo "ssl_certificate $1/cert.pem; ssl_certificate_key $1/key.pem; access_log $1/logs/tls.log tls;" \
        "types { text/html html; text/css css; application/json json; text/plain txt; application/javascript js; image/x-icon ico; }" \
        "gzip on; gzip_types application/json text/plain; gzip_min_length 256;"
}

tls_www() {   # tls_www DIR  -> DIR/www/small.txt (600 B) and big.txt (102,400 B) beside nginx_setup's files
    text_file "$1/www/small.txt" 600 small
    text_file "$1/www/big.txt" 102400 big
    touch -d @1700000000 "$1/www"/*
}

TLS_W='%{json}\n'
tls_curl() {   # tls_curl NS PREFIX KEYLOG CURL-ARGS...  -> PREFIX.trace, PREFIX.w (-w '%{json}' lines)
    local ns=$1 prefix=$2 keylog=$3; shift 3
    ip netns exec "$ns" env -u http_proxy -u HTTP_PROXY -u https_proxy -u HTTPS_PROXY -u all_proxy \
        -u ALL_PROXY -u no_proxy -u NO_PROXY SSLKEYLOGFILE="$keylog" \
        curl -q -sS --trace "$prefix.trace" "$@" >"$prefix.w"
}

tls_conn() {   # tls_conn PREFIX CLIENT SERVER  (one connection's curl trace) -> PREFIX.{sent,recv,json,tx.json}
    "$PY" "$TOOLS/curl_trace_bytes.py" "$1.trace" "$1" >"$1.json"
    tx_curl "$1" "$2" "$3" --headers
}

tls_lo_1500() { ip -n "$1" link set lo mtu 1500 gso_max_size 1500 gso_max_segs 1; }

# TLS 1.3 only: four curl connections, one per cipher suite, the first with several requests
# (keep-alive, a 100 KB body, a 404, a HEAD, a gzip'd chunked response) and the last made to
# go through a HelloRetryRequest (curl's first key share is P-256, nginx accepts only X25519).
# lo has MTU 1500 and no GSO, so TLS records span several segments.
scenario_tls13_curl_nginx() {
    log "TLS 1.3: curl (SSLKEYLOGFILE) -> nginx, AES-128-GCM keep-alive, AES-256-GCM, ChaCha20-Poly1305, HelloRetryRequest"
    local ns=$NSP-tls13 d=$WORK/tls13 k=$CAP/tls13-curl-nginx.keys
    ns_new tls13
    tls_lo_1500 "$ns"
    mkdir -p "$d" "$CAP/tls"
    tls_cert "$d" ec localhost
    NGINX_HTTP_EXTRA=$TLS_NGINX_LOG NGINX_SERVER_EXTRA="$(tls_server_extra "$d") ssl_protocols TLSv1.3; ssl_ecdh_curve X25519;" \
        nginx_setup "$d" "127.0.0.1:8443 ssl"
    tls_www "$d"
    nginx_start "$ns" "$d" 8443
    : >"$k"
    tcpdump_start "$ns" "$CAP/tls13-curl-nginx.pcap" -i lo "tcp port 8443"
    local u=https://localhost:8443
    local o=(--http1.1 --tlsv1.3 --resolve localhost:8443:127.0.0.1 --cacert "$d/cert.pem" -w "$TLS_W")
    local s1=(--local-port 40301 --tls13-ciphers TLS_AES_128_GCM_SHA256)
    tls_curl "$ns" "$d/c1" "$k" "${o[@]}" "${s1[@]}" "$u/index.html" -o "$d/c1.1" "$u/small.txt" -o "$d/c1.2" \
        "$u/big.txt" -o "$d/c1.3" "$u/missing.txt" -o "$d/c1.4" \
        --next "${o[@]}" "${s1[@]}" -I "$u/small.txt" -o "$d/c1.5" \
        --next "${o[@]}" "${s1[@]}" --compressed "$u/data.json" -o "$d/c1.6"
    tls_curl "$ns" "$d/c2" "$k" "${o[@]}" --local-port 40302 --tls13-ciphers TLS_AES_256_GCM_SHA384 \
        "$u/index.html" -o "$d/c2.1" "$u/style.css" -o "$d/c2.2"
    tls_curl "$ns" "$d/c3" "$k" "${o[@]}" --local-port 40303 --tls13-ciphers TLS_CHACHA20_POLY1305_SHA256 \
        --compressed "$u/data.json" -o "$d/c3.1" "$u/small.txt" -o "$d/c3.2"
    tls_curl "$ns" "$d/c4" "$k" "${o[@]}" --local-port 40304 --tls13-ciphers TLS_AES_128_GCM_SHA256 \
        --curves P-256:X25519 "$u/small.txt" -o "$d/c4.1"
    tcpdump_stop_all
    local n conns=() txs=() ws=()
    for n in 1 2 3 4; do
        tls_conn "$d/c$n" "127.0.0.1:4030$n" 127.0.0.1:8443
        conns+=(--conn "127.0.0.1:4030$n 127.0.0.1:8443 curl $d/c$n")
        txs+=(--tx "$d/c$n.tx.json"); ws+=(--curl-w "$d/c$n.w")
    done
    "$PY" "$TOOLS/tls_facts.py" capture --pcap "$CAP/tls13-curl-nginx.pcap" --keylog "$k" \
        --keylog-name tls13-curl-nginx.keys --server 127.0.0.1:8443 --nginx-log "$d/logs/tls.log" \
        "${conns[@]}" "${ws[@]}" "${txs[@]}" --decode-as 8443 \
        --tshark-out "$CAP/tls/tls13-curl-nginx.tshark.txt" --out "$d/tls.json"
    # a key log with the right client randoms and another connection's secrets (tls.decrypt-failed)
    "$PY" "$TOOLS/tls_facts.py" mismatch-keys "$k" "$CAP/tls13-curl-nginx.wrong.keys"
    if [ -n "$(tshark -r "$CAP/tls13-curl-nginx.pcap" -o "tls.keylog_file:$CAP/tls13-curl-nginx.wrong.keys" \
            -d tls.port==8443,http -Y http 2>/dev/null)" ]; then
        echo "tls13-curl-nginx.wrong.keys decrypts something" >&2; return 1
    fi
    fact --file tls13-curl-nginx.pcap --software "curl 7.88.1 (OpenSSL 3.0, SSLKEYLOGFILE) -> nginx 1.22.1 (ssl_protocols TLSv1.3, ssl_ecdh_curve X25519, ECDSA P-256 self-signed cert for localhost), tcpdump -i lo (MTU 1500, no GSO)" \
        --shows "TLS 1.3 only, key log tls13-curl-nginx.keys (curl's SSLKEYLOGFILE): 127.0.0.1:40301 TLS_AES_128_GCM_SHA256 with 6 requests on one keep-alive connection (GET /index.html, /small.txt, /big.txt 102,400 B, /missing.txt 404, HEAD /small.txt, GET /data.json gzip'd and chunked); 40302 TLS_AES_256_GCM_SHA384 (2 GETs); 40303 TLS_CHACHA20_POLY1305_SHA256 (gzip'd data.json, small.txt); 40304 TLS_AES_128_GCM_SHA256 after a HelloRetryRequest (curl's key share P-256, nginx wants X25519); nginx sends 2 NewSessionTickets after each handshake; every connection HTTP/1.1 (ALPN http/1.1); details.tls_transactions are split from the HTTP bytes curl traced in the clear" \
        --follow-server 127.0.0.1:8443 --note-file "$d/tls.json" \
        --note "streams are the TLS bytes (tshark's follow; curl cannot log ciphertext); the decrypted streams are details.tls_connections[].plaintext, from curl's --trace. tls13-curl-nginx.wrong.keys (tools/tls_facts.py mismatch-keys) has this capture's client randoms with another connection's secrets: records that do not authenticate"
    scenario_cleanup
}

# TLS 1.2 only: one curl connection per cipher suite (AEAD: AES-GCM, ChaCha20-Poly1305; CBC with
# HMAC-SHA1/SHA256/SHA384, one with RSA key exchange), encrypt-then-MAC on :8443 and not on
# :8444 (nginx ssl_conf_command Options -EncryptThenMac), and a session resumed by session ID
# on a second connection of the same curl run (its own client random in the key log).
scenario_tls12_curl_nginx() {
    log "TLS 1.2: curl (SSLKEYLOGFILE) -> nginx, AES-GCM, ChaCha20, CBC with and without encrypt-then-MAC, resumed session"
    local ns=$NSP-tls12 d=$WORK/tls12 k=$CAP/tls12-curl-nginx.keys
    ns_new tls12
    tls_lo_1500 "$ns"
    mkdir -p "$d" "$CAP/tls"
    tls_cert "$d" rsa localhost
    local common="ssl_protocols TLSv1.2; ssl_ciphers ALL:@SECLEVEL=0;"
    NGINX_HTTP_EXTRA="$TLS_NGINX_LOG ssl_session_cache shared:tls12:1m; server { listen 127.0.0.1:8444 ssl; root $d/www; $(tls_server_extra "$d") $common ssl_conf_command Options -EncryptThenMac; }" \
        NGINX_SERVER_EXTRA="$(tls_server_extra "$d") $common" nginx_setup "$d" "127.0.0.1:8443 ssl"
    tls_www "$d"
    nginx_start "$ns" "$d" 8443
    wait_for "nginx :8444" listening "$ns" 8444
    : >"$k"
    tcpdump_start "$ns" "$CAP/tls12-curl-nginx.pcap" -i lo "tcp port 8443 or tcp port 8444"
    local u=https://localhost:8443 v=https://localhost:8444
    local o=(--http1.1 --tlsv1.2 --tls-max 1.2 --resolve localhost:8443:127.0.0.1 --resolve localhost:8444:127.0.0.1
             --cacert "$d/cert.pem" -w "$TLS_W")
    tls_curl "$ns" "$d/c1" "$k" "${o[@]}" --local-port 40201 --ciphers ECDHE-RSA-AES128-GCM-SHA256 "$u/index.html" -o "$d/c1.1" "$u/small.txt" -o "$d/c1.2"
    tls_curl "$ns" "$d/c2" "$k" "${o[@]}" --local-port 40202 --ciphers ECDHE-RSA-AES256-GCM-SHA384 --compressed "$u/data.json" -o "$d/c2.1"
    tls_curl "$ns" "$d/c3" "$k" "${o[@]}" --local-port 40203 --ciphers ECDHE-RSA-CHACHA20-POLY1305 "$u/small.txt" -o "$d/c3.1" "$u/style.css" -o "$d/c3.2"
    tls_curl "$ns" "$d/c4" "$k" "${o[@]}" --local-port 40204 --ciphers ECDHE-RSA-AES128-SHA "$u/big.txt" -o "$d/c4.1"
    tls_curl "$ns" "$d/c5" "$k" "${o[@]}" --local-port 40205 --ciphers AES256-SHA256 "$u/small.txt" -o "$d/c5.1"
    tls_curl "$ns" "$d/c6" "$k" "${o[@]}" --local-port 40206 --ciphers ECDHE-RSA-AES256-SHA384 "$u/index.html" -o "$d/c6.1"
    tls_curl "$ns" "$d/c7" "$k" "${o[@]}" --local-port 40207 --ciphers ECDHE-RSA-AES128-SHA "$v/small.txt" -o "$d/c7.1"
    tls_curl "$ns" "$d/c8" "$k" "${o[@]}" --local-port 40208 --ciphers ECDHE-RSA-AES256-SHA384 --compressed "$v/data.json" -o "$d/c8.1"
    # one curl run, two connections: the first closed by the request, the second resumes the session
    tls_curl "$ns" "$d/r" "$k" "${o[@]}" --local-port 40209 --ciphers ECDHE-RSA-AES128-GCM-SHA256 -H "Connection: close" "$u/small.txt" -o "$d/r.1" \
        --next "${o[@]}" --local-port 40210 --ciphers ECDHE-RSA-AES128-GCM-SHA256 "$u/index.html" -o "$d/r.2"
    tcpdump_stop_all
    [ "$("$PY" "$TOOLS/tls_facts.py" split-trace "$d/r.trace" "$d/r")" = 2 ] || { echo "tls12: resumption run did not make 2 connections" >&2; return 1; }
    mv "$d/r.0.trace" "$d/c9.trace"; mv "$d/r.1.trace" "$d/c10.trace"
    local n p srv conns=() txs=() ws=(--curl-w "$d/r.w")
    for n in 1 2 3 4 5 6 7 8 9 10; do
        p=$((40200 + n)); srv=127.0.0.1:8443
        [ "$n" = 7 ] || [ "$n" = 8 ] && srv=127.0.0.1:8444
        tls_conn "$d/c$n" "127.0.0.1:$p" "$srv"
        conns+=(--conn "127.0.0.1:$p $srv curl $d/c$n")
        txs+=(--tx "$d/c$n.tx.json")
        [ -e "$d/c$n.w" ] && ws+=(--curl-w "$d/c$n.w")
    done
    "$PY" "$TOOLS/tls_facts.py" capture --pcap "$CAP/tls12-curl-nginx.pcap" --keylog "$k" \
        --keylog-name tls12-curl-nginx.keys --server 127.0.0.1:8443 --server 127.0.0.1:8444 \
        --nginx-log "$d/logs/tls.log" "${conns[@]}" "${ws[@]}" "${txs[@]}" --decode-as 8443 --decode-as 8444 \
        --tshark-out "$CAP/tls/tls12-curl-nginx.tshark.txt" --out "$d/tls.json"
    fact --file tls12-curl-nginx.pcap --software "curl 7.88.1 (OpenSSL 3.0, SSLKEYLOGFILE, --tls-max 1.2 --ciphers) -> nginx 1.22.1 (ssl_protocols TLSv1.2, ssl_ciphers ALL:@SECLEVEL=0, RSA 2048 self-signed cert for localhost; :8444 with ssl_conf_command Options -EncryptThenMac; shared session cache), tcpdump -i lo (MTU 1500, no GSO)" \
        --shows "TLS 1.2 only, key log tls12-curl-nginx.keys (curl's SSLKEYLOGFILE; CLIENT_RANDOM lines, plus an RSA line for the RSA key exchange): one connection per suite to :8443 with encrypt-then-MAC wherever CBC: 40201 ECDHE-RSA-AES128-GCM-SHA256 (2 GETs), 40202 ECDHE-RSA-AES256-GCM-SHA384 (gzip'd chunked data.json), 40203 ECDHE-RSA-CHACHA20-POLY1305 (2 GETs), 40204 ECDHE-RSA-AES128-SHA (CBC, HMAC-SHA1, big.txt 102,400 B), 40205 AES256-SHA256 (RSA key exchange, CBC, HMAC-SHA256), 40206 ECDHE-RSA-AES256-SHA384 (CBC, HMAC-SHA384); to :8444 without encrypt-then-MAC (MAC-then-encrypt): 40207 ECDHE-RSA-AES128-SHA, 40208 ECDHE-RSA-AES256-SHA384 (gzip'd chunked); 40209 ECDHE-RSA-AES128-GCM-SHA256 full handshake (Connection: close) and 40210 the same session resumed by session ID in the same curl run (abbreviated handshake, its own client random in the key log)" \
        --follow-server 127.0.0.1:8443 --follow-server 127.0.0.1:8444 --note-file "$d/tls.json" \
        --note "streams are the TLS bytes (tshark's follow); the decrypted streams are details.tls_connections[].plaintext, from curl's --trace"
    scenario_cleanup
}

# wss:// and https:// from Python: nginx terminates TLS 1.3 and proxies /echo to a cleartext
# websockets echo server (both legs captured on lo); ws_client.py (websockets 17, an
# ssl.SSLContext with keylog_filename) sends text and binary messages (one fragmented), and
# tools/https_client.py (http.client, the same key log file) makes three requests on one
# connection.
scenario_tls_wss_python() {
    log "wss:// through nginx (TLS 1.3) to a cleartext websockets backend, and an http.client HTTPS request"
    local ns=$NSP-tlswss d=$WORK/tlswss k=$CAP/tls-wss-python.keys
    ns_new tlswss
    mkdir -p "$d" "$CAP/tls"
    tls_cert "$d" ec localhost
    NGINX_HTTP_EXTRA=$TLS_NGINX_LOG NGINX_SERVER_EXTRA="$(tls_server_extra "$d") ssl_protocols TLSv1.3; location /echo { proxy_pass http://127.0.0.1:8775; proxy_http_version 1.1; proxy_set_header Upgrade \$http_upgrade; proxy_set_header Connection upgrade; proxy_read_timeout 10s; }" \
        nginx_setup "$d" "127.0.0.1:8443 ssl"
    tls_www "$d"
    nginx_start "$ns" "$d" 8443
    start_bg ip netns exec "$ns" "$PY" "$HERE/ws_server.py" 127.0.0.1 8775 --log "$d/up"
    wait_for "ws server" listening "$ns" 8775
    : >"$k"
    tcpdump_start "$ns" "$CAP/tls-wss-python.pcap" -i lo "tcp port 8443 or tcp port 8775"
    ip netns exec "$ns" "$PY" "$HERE/ws_client.py" wss://localhost:8443/echo --connect 127.0.0.1 \
        --local 127.0.0.1:40401 --log "$d/ws" --messages tunnel --keylog "$k" --cafile "$d/cert.pem"
    ip netns exec "$ns" "$PY" "$TOOLS/https_client.py" 127.0.0.1:8443 --sni localhost --local 127.0.0.1:40402 \
        --cafile "$d/cert.pem" --keylog "$k" --log "$d/py" --request "GET /index.html" \
        --request "GET /data.json Accept-Encoding: gzip" --request "HEAD /small.txt"
    tcpdump_stop_all
    [ -s "$d/up.1.peer" ] && [ ! -e "$d/up.2.peer" ] || { echo "tls-wss-python: the backend did not see exactly one connection" >&2; return 1; }
    UPSTREAM=$(tr -d '\n' <"$d/up.1.peer")
    tx_log "$d/ws" 127.0.0.1:40401 127.0.0.1:8443 ws_client.py-transport-log --allow-trailing --headers
    tx_log "$d/up.1" "$UPSTREAM" 127.0.0.1:8775 ws_server.py-transport-log --allow-trailing --headers
    tx_log "$d/py" 127.0.0.1:40402 127.0.0.1:8443 https_client.py-log --headers
    "$PY" "$TOOLS/tls_facts.py" ws-legs --client-log "$d/ws" --server-log "$d/up.1" \
        --front 127.0.0.1:40401 127.0.0.1:8443 --back "$UPSTREAM" 127.0.0.1:8775 --out "$d/wslegs.json"
    proxy_legs "$d" --proxy nginx --match order --front "$d/ws.tx.json" --back "$d/up.1.tx.json" \
        --note "the front leg is inside TLS: its request is the one ws_client.py wrote in the clear"
    "$PY" -c 'import json, sys; d = json.load(open(sys.argv[1])); json.dump({"tls_proxy_legs": d["proxy_legs"]}, open(sys.argv[2], "w"), indent=1)' \
        "$d/legs.json" "$d/tlslegs.json"
    "$PY" "$TOOLS/tls_facts.py" capture --pcap "$CAP/tls-wss-python.pcap" --keylog "$k" \
        --keylog-name tls-wss-python.keys --server 127.0.0.1:8443 --nginx-log "$d/logs/tls.log" \
        --conn "127.0.0.1:40401 127.0.0.1:8443 ws_client $d/ws" --conn "127.0.0.1:40402 127.0.0.1:8443 https_client $d/py" \
        --tx "$d/ws.tx.json" --tx "$d/py.tx.json" --ws-front "$d/wslegs.json" --decode-as 8443 \
        --tshark-out "$CAP/tls/tls-wss-python.tshark.txt" --out "$d/tls.json"
    fact --file tls-wss-python.pcap --software "Python 3.11 websockets 17 client (wss://, ssl.SSLContext keylog_filename) and http.client (tools/https_client.py, same key log) -> nginx 1.22.1 (TLS 1.3, ECDSA P-256 self-signed cert; proxy_pass with Upgrade/Connection) -> websockets 17 echo server (cleartext), tcpdump -i lo" \
        --shows "both legs of a wss:// conversation through a TLS-terminating nginx: 127.0.0.1:40401 -> :8443 TLS 1.3 (key log tls-wss-python.keys, written by the Python client; no ALPN offered) carrying the upgrade (101) and two short texts, a 512-byte binary message, a text in 3 fragments (websockets adds an empty final continuation) and a 15-byte binary message, each echoed, ping/pong, close 1000 'bye'; nginx's cleartext upstream connection to :8775 carries the same frames after its own upgrade request. Then 127.0.0.1:40402 -> :8443 TLS 1.3 (ALPN http/1.1) from http.client: GET /index.html, GET /data.json with Accept-Encoding: gzip (gzip'd, chunked), HEAD /small.txt on one connection. details.tls_websocket_connections is the TLS leg (frames as in websocket_connections), details.tls_transactions the HTTP inside TLS, details.tls_proxy_legs the pairing of the two legs" \
        --stream "$UPSTREAM 127.0.0.1:8775 $d/up.1 ws_server.py-transport-log" \
        --follow-server 127.0.0.1:8443 --transactions "$d/up.1.tx.json" \
        --note-file "$d/tls.json" --note-file "$d/tlslegs.json" \
        --note "the nginx->backend connection uses an ephemeral client port; its bytes come from the backend's own log (ws_server.py --log). The TLS connections' streams are the TLS bytes (tshark's follow); their decrypted streams are details.tls_connections[].plaintext, from the Python clients' logs"
    scenario_cleanup
}

# Headless Chromium over HTTPS (HTTP/1.1: nginx without http2) with its own key log
# (--ssl-key-log-file): a page whose stylesheet, script and the script's two fetch()es are
# subresources; lo has MTU 1500 and no GSO. Chromium's ports are ephemeral and it cannot log its bytes: the facts are nginx's
# log, the page's own output (--dump-dom) and the handshakes in the capture.
scenario_tls_chromium() {
    log "headless chromium over HTTPS/1.1 with --ssl-key-log-file"
    local ns=$NSP-tlschrome d=$WORK/tlschrome k=$CAP/tls-chromium.keys
    ns_new tlschrome
    tls_lo_1500 "$ns"   # Chromium's ClientHello (~2 KB with its ML-KEM key share) spans two segments
    mkdir -p "$d/profile" "$CAP/tls"
    tls_cert "$d" ec tls.hopscope.test
    NGINX_HTTP_EXTRA=$TLS_NGINX_LOG NGINX_SERVER_EXTRA="server_name tls.hopscope.test; $(tls_server_extra "$d") ssl_protocols TLSv1.2 TLSv1.3;" \
        nginx_setup "$d" "127.0.0.1:8443 ssl"
    tls_www "$d"
    cat >"$d/www/page.html" <<'EOF'
<!doctype html>
<html><head><title>hopscope tls sample</title><link rel=stylesheet href=/style.css>
<link rel=icon href=/favicon.ico><script src=/app.js defer></script></head>
<body><h1>hopscope TLS sample page</h1><pre id=out></pre></body></html>
EOF
    cat >"$d/www/app.js" <<'EOF'
(async () => {
  const out = document.getElementById("out");
  for (const url of ["/data.json", "/small.txt"]) {
    const r = await fetch(url, {cache: "no-store"});
    const body = await r.arrayBuffer();
    out.textContent += `${url}: ${r.status} ${body.byteLength} bytes\n`;
  }
  out.textContent += "done\n";
})();
EOF
    printf '\x00\x00\x01\x00' >"$d/www/favicon.ico"
    touch -d @1700000000 "$d/www"/*
    nginx_start "$ns" "$d" 8443
    tcpdump_start "$ns" "$CAP/tls-chromium.pcap" -i lo "tcp port 8443"
    ip netns exec "$ns" timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync --user-data-dir="$d/profile" \
        --ssl-key-log-file="$k" --ignore-certificate-errors --host-resolver-rules="MAP tls.hopscope.test 127.0.0.1" \
        --enable-logging=stderr --v=0 --virtual-time-budget=5000 --dump-dom https://tls.hopscope.test:8443/page.html \
        >"$d/dom.html" 2>"$d/chromium.log"
    tcpdump_stop_all
    grep -q '^done$' "$d/dom.html" || { echo "tls-chromium: the page did not finish" >&2; return 1; }
    chromium --version >"$d/version.txt" 2>/dev/null
    "$PY" "$TOOLS/tls_facts.py" capture --pcap "$CAP/tls-chromium.pcap" --keylog "$k" \
        --keylog-name tls-chromium.keys --server 127.0.0.1:8443 --nginx-log "$d/logs/tls.log" --decode-as 8443 \
        --tshark-out "$CAP/tls/tls-chromium.tshark.txt" --out "$d/tls.json"
    "$PY" - "$d" <<'PYEOF' >"$d/page.json"
import json, re, sys
d = sys.argv[1]
pre = re.search(r'<pre id="out">(.*?)</pre>', open(d + "/dom.html").read(), re.S).group(1)
print(json.dumps({"browser": open(d + "/version.txt").read().strip(),
                  "page": "https://tls.hopscope.test:8443/page.html",
                  "page_results": [l for l in pre.split("\n") if l]}, indent=1))
PYEOF
    fact --file tls-chromium.pcap --software "Chromium $(cut -d' ' -f2 "$d/version.txt") headless (--dump-dom --ssl-key-log-file --ignore-certificate-errors, tls.hopscope.test mapped to 127.0.0.1) -> nginx 1.22.1 (TLS 1.2 and 1.3, HTTP/1.1 only, ECDSA P-256 self-signed cert), tcpdump -i lo (MTU 1500, no GSO)" \
        --shows "a page over HTTPS/1.1 (SNI tls.hopscope.test, Chromium offers ALPN h2 and http/1.1, nginx selects http/1.1; the ClientHello, about 2 KB with Chromium's X25519MLKEM768 key share, spans two TCP segments): page.html, then style.css, app.js and favicon.ico, and the script's fetch() of data.json (gzip'd) and small.txt; Chromium negotiates TLS 1.3 and spreads the requests over its connections (which ones: details.tls_connections[].requests, from nginx's log; a connection with no request is one Chromium opened and did not use). Key log tls-chromium.keys as Chromium wrote it" \
        --follow-server 127.0.0.1:8443 --note-file "$d/tls.json" --note-file "$d/page.json" \
        --note "Chromium's client ports are ephemeral and it cannot log its bytes: per connection the facts are nginx's access log (requests, version, cipher), the handshake in the clear and the key log; tshark's decryption is checked against nginx's log"
    scenario_cleanup
}

# TLS 1.3 KeyUpdate and the AES-CCM suites, which curl, browsers and Python do not send or
# offer by default: openssl s_client (tools/s_client_driver.py: -keylogfile, -msg) against
# nginx with all five TLS 1.3 suites enabled. A KeyUpdate with update_requested (both sides
# update their keys, then a 100 KB response), one without (the client's keys only), then
# TLS_AES_128_CCM_SHA256 and TLS_AES_128_CCM_8_SHA256.
scenario_tls13_openssl_keyupdate_ccm() {
    log "TLS 1.3: openssl s_client KeyUpdate (requested and not), AES-128-CCM and AES-128-CCM-8"
    local ns=$NSP-tls13ku d=$WORK/tls13ku k=$CAP/tls13-openssl-keyupdate-ccm.keys
    ns_new tls13ku
    tls_lo_1500 "$ns"
    mkdir -p "$d" "$CAP/tls"
    tls_cert "$d" ec localhost
    NGINX_HTTP_EXTRA=$TLS_NGINX_LOG NGINX_SERVER_EXTRA="$(tls_server_extra "$d") ssl_protocols TLSv1.3; ssl_conf_command Ciphersuites TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_CCM_SHA256:TLS_AES_128_CCM_8_SHA256;" \
        nginx_setup "$d" "127.0.0.1:8443 ssl"
    tls_www "$d"
    nginx_start "$ns" "$d" 8443
    : >"$k"
    tcpdump_start "$ns" "$CAP/tls13-openssl-keyupdate-ccm.pcap" -i lo "tcp port 8443"
    local n spec specs=(
        "40501 TLS_AES_128_GCM_SHA256|GET /small.txt|K|GET /big.txt|k|HEAD /small.txt"
        "40502 TLS_CHACHA20_POLY1305_SHA256|GET /index.html|k|GET /small.txt"
        "40503 TLS_AES_128_CCM_SHA256|GET /index.html|GET /small.txt"
        "40504 TLS_AES_128_CCM_8_SHA256|GET /small.txt")
    local conns=() txs=() steps s port suite
    for spec in "${specs[@]}"; do
        IFS='|' read -r -a steps <<<"$spec"
        port=${steps[0]% *}; suite=${steps[0]#* }
        s=()
        for n in "${steps[@]:1}"; do s+=(--step "$n"); done
        ip netns exec "$ns" "$PY" "$TOOLS/s_client_driver.py" 127.0.0.1:8443 --sni localhost --local "127.0.0.1:$port" \
            --cafile "$d/cert.pem" --keylog "$k" --ciphersuites "$suite" --log "$d/s$port" "${s[@]}"
        tx_log "$d/s$port" "127.0.0.1:$port" 127.0.0.1:8443 s_client_driver.py-log --headers
        conns+=(--conn "127.0.0.1:$port 127.0.0.1:8443 s_client $d/s$port")
        txs+=(--tx "$d/s$port.tx.json")
    done
    tcpdump_stop_all
    "$PY" "$TOOLS/tls_facts.py" capture --pcap "$CAP/tls13-openssl-keyupdate-ccm.pcap" --keylog "$k" \
        --keylog-name tls13-openssl-keyupdate-ccm.keys --server 127.0.0.1:8443 --nginx-log "$d/logs/tls.log" \
        "${conns[@]}" "${txs[@]}" --decode-as 8443 \
        --tshark-out "$CAP/tls/tls13-openssl-keyupdate-ccm.tshark.txt" --out "$d/tls.json"
    fact --file tls13-openssl-keyupdate-ccm.pcap --software "OpenSSL $(openssl version | cut -d' ' -f2) s_client (-keylogfile, -msg; driven by tools/s_client_driver.py) -> nginx 1.22.1 (ssl_protocols TLSv1.3, all five TLS 1.3 suites via ssl_conf_command Ciphersuites, ECDSA P-256 self-signed cert for localhost), tcpdump -i lo (MTU 1500, no GSO)" \
        --shows "TLS 1.3 post-handshake key changes and the CCM suites, key log tls13-openssl-keyupdate-ccm.keys as s_client wrote it (a '#' comment line first; after each KeyUpdate OpenSSL also logs CLIENT_TRAFFIC_SECRET_N / SERVER_TRAFFIC_SECRET_N lines, the secrets after the update, labels a reader may ignore since the next secret follows from the previous one): 127.0.0.1:40501 TLS_AES_128_GCM_SHA256: GET /small.txt, KeyUpdate update_requested (the client's, then nginx's own before its next response), GET /big.txt (102,400 B under the new keys), KeyUpdate update_not_requested (client only), HEAD /small.txt; 40502 TLS_CHACHA20_POLY1305_SHA256: GET /index.html, KeyUpdate update_not_requested, GET /small.txt; 40503 TLS_AES_128_CCM_SHA256 (2 GETs); 40504 TLS_AES_128_CCM_8_SHA256 (1 GET); the last request on each connection has Connection: close" \
        --follow-server 127.0.0.1:8443 --note-file "$d/tls.json" \
        --note "streams are the TLS bytes (tshark's follow); the decrypted streams are details.tls_connections[].plaintext: the requests the driver wrote to s_client and the responses s_client printed; key_updates are counted in s_client's own -msg log and checked against tshark"
    scenario_cleanup
}

# TLS inside tunnels, with the client's own key log: curl (SSLKEYLOGFILE) through tinyproxy
# (HTTP CONNECT) and through microsocks (SOCKS5, --socks5-hostname) to nginx; lo has MTU 1500
# and no GSO. Both legs of each tunnel are captured: the client's connection to the proxy (the
# proxy handshake in the clear, then TLS) and the proxy's own connection to nginx (the same TLS
# bytes from its first byte on). tools/tls_facts.py capture --proxy finds each tunnel's upstream
# leg by those bytes; nginx's log (keyed by the proxy's ephemeral port) gives both legs' requests.

tls_tinyproxy() {   # tls_tinyproxy NS DIR PORT TARGET-PORT  (CONNECT to TARGET-PORT only)
    cat >"$2/tinyproxy.conf" <<EOF
User root
Group root
Port $3
Listen 127.0.0.1
Timeout 30
MaxClients 8
Allow 127.0.0.1
ConnectPort $4
LogLevel Info
LogFile "$2/logs/tinyproxy.log"
PidFile "$2/tinyproxy.pid"
EOF
    start_bg ip netns exec "$1" tinyproxy -d -c "$2/tinyproxy.conf" 2>>"$2/logs/tinyproxy.stderr"
    wait_for "tinyproxy" listening "$1" "$3"
}

# curl --proxy http://127.0.0.1:8888 https://localhost:8443/...: curl sends CONNECT
# localhost:8443, then its TLS inside the tunnel. 40601: TLS 1.3 TLS_AES_128_GCM_SHA256, three
# requests; 40602: TLS 1.2 ECDHE-ECDSA-AES256-GCM-SHA384, two requests.
scenario_tls_connect_tinyproxy() {
    log "TLS inside CONNECT: curl (SSLKEYLOGFILE) -> tinyproxy -> nginx, TLS 1.3 and TLS 1.2 AES-GCM"
    local ns=$NSP-tlsconn d=$WORK/tlsconn k=$CAP/tls-connect-tinyproxy.keys
    ns_new tlsconn
    tls_lo_1500 "$ns"
    mkdir -p "$d" "$CAP/tls"
    tls_cert "$d" ec localhost
    NGINX_HTTP_EXTRA=$TLS_NGINX_LOG NGINX_SERVER_EXTRA="$(tls_server_extra "$d") ssl_protocols TLSv1.2 TLSv1.3;" \
        nginx_setup "$d" "127.0.0.1:8443 ssl"
    tls_www "$d"
    nginx_start "$ns" "$d" 8443
    tls_tinyproxy "$ns" "$d" 8888 8443
    : >"$k"
    tcpdump_start "$ns" "$CAP/tls-connect-tinyproxy.pcap" -i lo "tcp port 8888 or tcp port 8443"
    local u=https://localhost:8443
    local o=(--http1.1 --proxy http://127.0.0.1:8888 --cacert "$d/cert.pem" -w "$TLS_W")
    tls_curl "$ns" "$d/c1" "$k" "${o[@]}" --local-port 40601 --tlsv1.3 --tls13-ciphers TLS_AES_128_GCM_SHA256 \
        "$u/index.html" -o "$d/c1.1" "$u/big.txt" -o "$d/c1.2" "$u/missing.txt" -o "$d/c1.3"
    tls_curl "$ns" "$d/c2" "$k" "${o[@]}" --local-port 40602 --tlsv1.2 --tls-max 1.2 \
        --ciphers ECDHE-ECDSA-AES256-GCM-SHA384 --compressed "$u/data.json" -o "$d/c2.1" "$u/small.txt" -o "$d/c2.2"
    tcpdump_stop_all
    local n conns=() txs=() ws=() cts=()
    for n in 1 2; do
        "$PY" "$TOOLS/curl_trace_bytes.py" "$d/c$n.trace" "$d/c$n" >"$d/c$n.json"
        tx_curl "$d/c$n" "127.0.0.1:4060$n" 127.0.0.1:8888 --headers --through-connect
        # the CONNECT (in the clear) and the HTTP inside the tunnel's TLS
        "$PY" "$TOOLS/tls_facts.py" split-connect "$d/c$n.tx.json" "$d/c$n.connect.tx.json" "$d/c$n.tls.tx.json"
        conns+=(--conn "127.0.0.1:4060$n 127.0.0.1:8888 curl $d/c$n")
        txs+=(--tx "$d/c$n.tls.tx.json"); ws+=(--curl-w "$d/c$n.w"); cts+=(--transactions "$d/c$n.connect.tx.json")
    done
    "$PY" "$TOOLS/tls_facts.py" capture --pcap "$CAP/tls-connect-tinyproxy.pcap" --keylog "$k" \
        --keylog-name tls-connect-tinyproxy.keys --server 127.0.0.1:8443 --proxy 127.0.0.1:8888 \
        --nginx-log "$d/logs/tls.log" "${conns[@]}" "${ws[@]}" "${txs[@]}" --decode-as 8443 \
        --tshark-out "$CAP/tls/tls-connect-tinyproxy.tshark.txt" --out "$d/tls.json"
    fact --file tls-connect-tinyproxy.pcap --software "curl 7.88.1 (OpenSSL 3.0, SSLKEYLOGFILE, --proxy http://127.0.0.1:8888 --http1.1) -> tinyproxy 1.11 (CONNECT) -> nginx 1.22.1 (TLS 1.2 and 1.3, ECDSA P-256 self-signed cert for localhost), tcpdump -i lo (MTU 1500, no GSO)" \
        --shows "TLS inside HTTP CONNECT tunnels, key log tls-connect-tinyproxy.keys (curl's SSLKEYLOGFILE): 127.0.0.1:40601 CONNECT localhost:8443 (200 Connection established), then TLS 1.3 TLS_AES_128_GCM_SHA256 with GET /index.html, /big.txt (102,400 B), /missing.txt (404); 127.0.0.1:40602 CONNECT, then TLS 1.2 ECDHE-ECDSA-AES256-GCM-SHA384 with --compressed GET /data.json and /small.txt (both gzip'd, chunked); both HTTP/1.1 keep-alive (ALPN http/1.1). tinyproxy's own connections to nginx (ephemeral ports) carry the same TLS bytes from their first byte and are TLS connections of their own in details.tls_connections (nginx's log names them). The CONNECTs are the transactions (index 0 on each client connection); details.tls_transactions are the requests inside TLS: on a client connection their index goes on counting after the CONNECT (1, 2, ...), on tinyproxy's connections it starts at 0" \
        --stream "127.0.0.1:40601 127.0.0.1:8888 $d/c1.capture tshark-follow+curl--trace" \
        --stream "127.0.0.1:40602 127.0.0.1:8888 $d/c2.capture tshark-follow+curl--trace" \
        --follow-server 127.0.0.1:8443 "${cts[@]}" --note-file "$d/tls.json" \
        --note "the client connections' streams are tshark's follow (curl cannot log ciphertext), checked to start with exactly the CONNECT exchange curl traced; the decrypted streams are details.tls_connections[].plaintext: curl's --trace after the CONNECT exchange, on both legs of a tunnel (tools/tls_facts.py checks that the proxy relayed the TLS bytes unchanged)"
    scenario_cleanup
}

# curl --socks5-hostname 127.0.0.1:1080 https://localhost:8443/...: the SOCKS5 greeting and a
# CONNECT to the host name (microsocks resolves it), then TLS 1.3 (ChaCha20-Poly1305) inside;
# two requests.
scenario_tls_socks5_microsocks() {
    log "TLS inside SOCKS5: curl (SSLKEYLOGFILE) -> microsocks -> nginx, TLS 1.3"
    local ns=$NSP-tlssocks d=$WORK/tlssocks k=$CAP/tls-socks5-microsocks.keys
    ns_new tlssocks
    tls_lo_1500 "$ns"
    mkdir -p "$d" "$CAP/tls"
    tls_cert "$d" ec localhost
    NGINX_HTTP_EXTRA=$TLS_NGINX_LOG NGINX_SERVER_EXTRA="$(tls_server_extra "$d") ssl_protocols TLSv1.3;" \
        nginx_setup "$d" "127.0.0.1:8443 ssl"
    tls_www "$d"
    nginx_start "$ns" "$d" 8443
    start_bg ip netns exec "$ns" microsocks -i 127.0.0.1 -p 1080 >>"$d/logs/microsocks.log" 2>&1
    wait_for "microsocks" listening "$ns" 1080
    : >"$k"
    tcpdump_start "$ns" "$CAP/tls-socks5-microsocks.pcap" -i lo "tcp port 1080 or tcp port 8443"
    local u=https://localhost:8443
    tls_curl "$ns" "$d/c1" "$k" --http1.1 --socks5-hostname 127.0.0.1:1080 --cacert "$d/cert.pem" -w "$TLS_W" \
        --local-port 40701 --tlsv1.3 --tls13-ciphers TLS_CHACHA20_POLY1305_SHA256 \
        "$u/index.html" -o "$d/c1.1" --compressed "$u/data.json" -o "$d/c1.2"
    tcpdump_stop_all
    tls_conn "$d/c1" 127.0.0.1:40701 127.0.0.1:1080
    "$PY" "$TOOLS/tls_facts.py" capture --pcap "$CAP/tls-socks5-microsocks.pcap" --keylog "$k" \
        --keylog-name tls-socks5-microsocks.keys --server 127.0.0.1:8443 --proxy 127.0.0.1:1080 \
        --nginx-log "$d/logs/tls.log" --conn "127.0.0.1:40701 127.0.0.1:1080 curl $d/c1" \
        --curl-w "$d/c1.w" --tx "$d/c1.tx.json" --decode-as 8443 \
        --tshark-out "$CAP/tls/tls-socks5-microsocks.tshark.txt" --out "$d/tls.json"
    fact --file tls-socks5-microsocks.pcap --software "curl 7.88.1 (OpenSSL 3.0, SSLKEYLOGFILE, --socks5-hostname 127.0.0.1:1080 --http1.1) -> microsocks 1.0.3 -> nginx 1.22.1 (ssl_protocols TLSv1.3, ECDSA P-256 self-signed cert for localhost), tcpdump -i lo (MTU 1500, no GSO)" \
        --shows "TLS inside a SOCKS5 tunnel, key log tls-socks5-microsocks.keys (curl's SSLKEYLOGFILE): 127.0.0.1:40701 SOCKS5 greeting (no authentication) and CONNECT to the domain name localhost port 8443, then TLS 1.3 TLS_CHACHA20_POLY1305_SHA256 (ALPN http/1.1) with --compressed GET /index.html and GET /data.json (both gzip'd, chunked) on one keep-alive connection. microsocks' own connection to nginx (ephemeral port) carries the same TLS bytes from its first byte and is a TLS connection of its own in details.tls_connections (nginx's log names it). details.tls_transactions are the requests inside TLS, index from 0 on both legs (SOCKS has no HTTP transaction of its own)" \
        --stream "127.0.0.1:40701 127.0.0.1:1080 $d/c1.capture tshark-follow+curl--trace" \
        --follow-server 127.0.0.1:8443 --note-file "$d/tls.json" \
        --note "the client connection's stream is tshark's follow (curl logs neither the SOCKS5 handshake nor ciphertext); the decrypted streams are details.tls_connections[].plaintext, from curl's --trace, on both legs of the tunnel (tools/tls_facts.py checks that microsocks relayed the TLS bytes unchanged)"
    scenario_cleanup
}

# The TLS 1.3 capture with its key log injected as a pcapng Decryption Secrets Block (editcap
# --inject-secrets): the same packets as tls13-curl-nginx.pcap, keys inside the file.
scenario_tls13_dsb() {
    log "tls13-dsb: tls13-curl-nginx with its keys in a Decryption Secrets Block"
    local d=$WORK/tls13 k=$CAP/tls13-curl-nginx.keys
    if [ ! -e "$CAP/tls13-curl-nginx.pcap" ] || [ ! -e "$d/c1.trace" ]; then
        echo "scenario_tls13_dsb needs scenario_tls13_curl_nginx in the same run" >&2
        return 1
    fi
    editcap --inject-secrets "tls,$k" "$CAP/tls13-curl-nginx.pcap" "$CAP/tls13-dsb.pcapng"
    local n conns=() txs=() ws=()
    for n in 1 2 3 4; do
        conns+=(--conn "127.0.0.1:4030$n 127.0.0.1:8443 curl $d/c$n")
        txs+=(--tx "$d/c$n.tx.json"); ws+=(--curl-w "$d/c$n.w")
    done
    "$PY" "$TOOLS/tls_facts.py" capture --pcap "$CAP/tls13-dsb.pcapng" --keylog "$k" --keys-in-capture \
        --keylog-name "tls13-curl-nginx.keys (injected)" --server 127.0.0.1:8443 --nginx-log "$d/logs/tls.log" \
        "${conns[@]}" "${ws[@]}" "${txs[@]}" --decode-as 8443 \
        --tshark-out "$CAP/tls/tls13-dsb.tshark.txt" --out "$WORK/tls13-dsb.json"
    fact --file tls13-dsb.pcapng --software "editcap $(editcap --version | head -1 | cut -d" " -f3) --inject-secrets tls,tls13-curl-nginx.keys from tls13-curl-nginx.pcap" \
        --shows "the packets of tls13-curl-nginx.pcap in a pcapng whose Decryption Secrets Block (secrets type TLS key log) holds tls13-curl-nginx.keys: decryptable with no key log file; same connections, requests and decrypted bytes" \
        --follow-server 127.0.0.1:8443 --note-file "$WORK/tls13-dsb.json" \
        --note "the tshark oracle here ran without -o tls.keylog_file: tshark used the keys in the file"
    scenario_cleanup
}

# ---------------------------------------------------------------------------------------------
# HTTP/2 (issue 15): streams as transactions. nginx 1.22 has no `http2 on;` (1.25.1+): HTTP/2 is
# the listen parameter (`listen ... ssl http2` = ALPN h2; `listen ... http2` without ssl =
# cleartext prior knowledge only). Truth per stream from the programs: curl's --trace (its
# "h2h3 [...]" request header lines and "Using Stream ID: N"), -w '%{json}', -D and -o per
# transfer; nginx's debug log (every frame it read and created, with the stream id, the HPACK-
# decoded request headers, the response headers and trailers it encoded) and its access log
# ($request_id, $connection, $http2); the Python clients' and servers' own logs. tshark (with
# the key log) is the second opinion (samples/h2/NAME.tshark.txt), checked by tools/h2_facts.py.

H2_NGINX_LOG=$(cat <<'EOF'
log_format h2 escape=json '{"client":"$remote_addr:$remote_port","server":"$server_addr:$server_port","connection":$connection,"connection_requests":$connection_requests,"request_id":"$request_id","http2":"$http2","method":"$request_method","target":"$request_uri","protocol":"$server_protocol","status":$status,"body_bytes_sent":$body_bytes_sent,"bytes_sent":$bytes_sent,"request_length":$request_length,"content_length":"$content_length","ssl_protocol":"$ssl_protocol","ssl_alpn_protocol":"$ssl_alpn_protocol","gzip_ratio":"$gzip_ratio","upstream_addr":"$upstream_addr","upstream_status":"$upstream_status","user_agent":"$http_user_agent"}';
EOF
)

h2_nginx_extra() {   # h2_nginx_extra DIR  -> http-block lines: both log formats, the debug log
    echo "$TLS_NGINX_LOG $H2_NGINX_LOG error_log $1/logs/debug.log debug;"
}

h2_curl_ops() {   # h2_curl_ops PREFIX COMMON-ARRAY-NAME SPEC...  -> H2_OPS (curl args, one --next per SPEC)
    # SPEC: "URL [curl args...]"; transfer n (1, 2, ...) writes PREFIX.n.out (-o) and PREFIX.n.hdr (-D)
    local prefix=$1 n=0 spec words
    local -n common=$2
    shift 2
    H2_OPS=()
    for spec in "$@"; do
        n=$((n + 1))
        [ "$n" = 1 ] || H2_OPS+=(--next)
        read -r -a words <<<"$spec"
        H2_OPS+=("${common[@]}" "${words[@]:1}" "${words[0]}" -o "$prefix.$n.out" -D "$prefix.$n.hdr")
    done
}

# curl --http2 over TLS 1.3 with SSLKEYLOGFILE, 7 transfers on one connection with --parallel
# (curl waits for the first stream to learn that the server multiplexes, then sends the other 6
# at once): a 600-byte GET, a gzip'd JSON (--compressed), a 404, a HEAD, a 4,000-byte POST
# (answered by `return 200` before nginx reads the body), the 102,400-byte file, and a response
# with trailers (add_trailer).
scenario_h2_curl_nginx_tls() {
    log "HTTP/2 over TLS 1.3: curl --http2 --parallel (SSLKEYLOGFILE) -> nginx (listen ssl http2)"
    local ns=$NSP-h2tls d=$WORK/h2tls k=$CAP/h2-curl-nginx-tls.keys
    ns_new h2tls
    tls_lo_1500 "$ns"
    mkdir -p "$d" "$CAP/h2" "$CAP/tls"
    tls_cert "$d" ec localhost
    NGINX_HTTP_EXTRA=$(h2_nginx_extra "$d") NGINX_SERVER_EXTRA="$(tls_server_extra "$d") access_log $d/logs/h2.log h2; ssl_protocols TLSv1.3; location = /post { return 200 \"posted\\n\"; } location /trailers/ { alias $d/www/; add_trailer X-Trailer-Check done; add_trailer X-Request-Id \$request_id; }" \
        nginx_setup "$d" "127.0.0.1:8443 ssl http2"
    tls_www "$d"
    text_file "$d/post.txt" 4000 post
    nginx_start "$ns" "$d" 8443
    : >"$k"
    tcpdump_start "$ns" "$CAP/h2-curl-nginx-tls.pcap" -i lo "tcp port 8443"
    local u=https://localhost:8443
    local o=(-sS --http2 --tlsv1.3 --resolve localhost:8443:127.0.0.1 --cacert "$d/cert.pem" --local-port 40801 -w "$TLS_W")
    h2_curl_ops "$d/c1" o "$u/small.txt" "$u/data.json --compressed" "$u/missing.txt" "$u/small.txt -I" \
        "$u/post --data-binary @$d/post.txt" "$u/big.txt" "$u/trailers/small.txt"
    tls_curl "$ns" "$d/c1" "$k" -Z --parallel-max 10 "${H2_OPS[@]}" 2>"$d/c1.stderr"
    tcpdump_stop_all
    "$PY" "$TOOLS/tls_facts.py" capture --pcap "$CAP/h2-curl-nginx-tls.pcap" --keylog "$k" \
        --keylog-name h2-curl-nginx-tls.keys --server 127.0.0.1:8443 --nginx-log "$d/logs/tls.log" \
        --conn "127.0.0.1:40801 127.0.0.1:8443 curl-h2 $d/c1" --curl-w "$d/c1.w" \
        --tshark-out "$CAP/tls/h2-curl-nginx-tls.tshark.txt" --out "$d/tls.json"
    "$PY" "$TOOLS/h2_facts.py" capture --pcap "$CAP/h2-curl-nginx-tls.pcap" --keylog "$k" \
        --keylog-name h2-curl-nginx-tls.keys --server 127.0.0.1:8443 \
        --nginx-log "$d/logs/h2.log" --nginx-debug "$d/logs/debug.log" \
        --curl "127.0.0.1:40801 $d/c1" --summary-prefix "$d/tls.json" \
        --tshark-out "$CAP/h2/h2-curl-nginx-tls.tshark.txt" --out "$d/h2.json"
    fact --file h2-curl-nginx-tls.pcap --software "curl 7.88.1 --http2 -Z (nghttp2 1.52, OpenSSL 3.0, SSLKEYLOGFILE) -> nginx 1.22.1 (listen ssl http2, ssl_protocols TLSv1.3, ECDSA P-256 self-signed cert for localhost, gzip, add_trailer), tcpdump -i lo (MTU 1500, no GSO)" \
        --shows "HTTP/2 over TLS 1.3 (ALPN h2), key log h2-curl-nginx-tls.keys (curl's SSLKEYLOGFILE): one connection 127.0.0.1:40801 carrying 7 streams: stream 1 GET /small.txt alone (curl waits to learn that the server multiplexes), then 6 requests sent at once and answered interleaved: GET /data.json gzip'd (--compressed), GET /missing.txt 404, HEAD /small.txt, POST /post with a 4,000-byte body (nginx answers 200 from return before it reads the body), GET /big.txt (102,400 B), GET /trailers/small.txt (600 B, then a trailer HEADERS frame with x-trailer-check and x-request-id); details.h2_connections has every stream as curl and nginx logged it" \
        --follow-server 127.0.0.1:8443 --note-file "$d/tls.json" --note-file "$d/h2.json" \
        --note "streams are the TLS bytes (tshark's follow); curl traces HTTP/2 decoded (not the frames), so the per-stream facts join curl's trace, -w, -D and -o per transfer with nginx's debug log (the frames it read and wrote, by stream id) and access log; tshark's HTTP/2 dissection with the key log is checked against them"
    scenario_cleanup
}

# Cleartext HTTP/2 with prior knowledge (nginx `listen ... http2` without ssl answers only the
# connection preface): three curl --http2-prior-knowledge connections, one request each (curl
# 7.88.1 cannot reuse a prior-knowledge connection: a second transfer on it fails with "Error in
# the HTTP2 framing layer" before anything is sent), then nghttp (nghttp2's client; -v logs every
# frame it sent and received) with three requests on one connection, which starts with PRIORITY
# frames for idle streams 3-11 (its dependency tree) and puts the requests on streams 13-17.
scenario_h2_prior_knowledge() {
    log "HTTP/2 prior knowledge: curl --http2-prior-knowledge and nghttp -> nginx (listen http2, cleartext)"
    local ns=$NSP-h2pk d=$WORK/h2pk
    ns_new h2pk
    mkdir -p "$d" "$CAP/h2"
    NGINX_HTTP_EXTRA=$(h2_nginx_extra "$d") NGINX_SERVER_EXTRA="access_log $d/logs/h2.log h2; types { text/html html; text/css css; application/json json; text/plain txt; } gzip on; gzip_types application/json text/plain text/css; gzip_min_length 256;" \
        nginx_setup "$d" "127.0.0.1:8080 http2"
    tls_www "$d"
    nginx_start "$ns" "$d" 8080
    tcpdump_start "$ns" "$CAP/h2-prior-knowledge.pcap" -i lo "tcp port 8080"
    local u=http://127.0.0.1:8080
    local n spec specs=("$u/index.html" "$u/data.json --compressed" "$u/missing.txt") curls=()
    for n in 1 2 3; do
        local o=(-sS --http2-prior-knowledge --local-port "4081$n" -w "$TLS_W")
        h2_curl_ops "$d/c$n" o "${specs[$((n - 1))]}"
        ip netns exec "$ns" env -u http_proxy -u HTTP_PROXY -u all_proxy -u ALL_PROXY \
            curl -q --trace "$d/c$n.trace" "${H2_OPS[@]}" >"$d/c$n.w" 2>"$d/c$n.stderr"
        curls+=(--curl "127.0.0.1:4081$n $d/c$n")
    done
    ip netns exec "$ns" env -u http_proxy -u HTTP_PROXY -u all_proxy -u ALL_PROXY \
        nghttp -nv "$u/style.css" "$u/small.txt" "$u/nothing-here" >"$d/nghttp.log" 2>&1
    tcpdump_stop_all
    "$PY" "$TOOLS/h2_facts.py" capture --pcap "$CAP/h2-prior-knowledge.pcap" --server 127.0.0.1:8080 \
        --decode-as 8080 --nginx-log "$d/logs/h2.log" --nginx-debug "$d/logs/debug.log" \
        "${curls[@]}" --nghttp-log "$d/nghttp.log" \
        --tshark-out "$CAP/h2/h2-prior-knowledge.tshark.txt" --out "$d/h2.json"
    fact --file h2-prior-knowledge.pcap --software "curl 7.88.1 --http2-prior-knowledge (nghttp2 1.52) and nghttp 1.52 -nv -> nginx 1.22.1 (listen 127.0.0.1:8080 http2, cleartext; gzip), tcpdump -i lo" \
        --shows "HTTP/2 over cleartext TCP with prior knowledge (no TLS, no Upgrade: the client's first bytes are the connection preface): three curl connections, one request each on stream 1: 127.0.0.1:40811 GET /index.html, 40812 GET /data.json gzip'd (--compressed), 40813 GET /missing.txt 404 (curl 7.88.1 cannot reuse a prior-knowledge connection); then nghttp's connection (ephemeral port): SETTINGS, PRIORITY frames that build its dependency tree on idle streams 3, 5, 7, 9, 11 (never opened), GET /style.css, GET /small.txt and GET /nothing-here (404) on streams 13, 15, 17 sent at once (HEADERS with the PRIORITY flag; accept-encoding gzip, so the two files come gzip'd), and a GOAWAY(NO_ERROR) from nghttp at the end" \
        --follow-server 127.0.0.1:8080 --note-file "$d/h2.json" \
        --note "streams are tshark's follow (neither client logs its bytes); per stream the facts join curl's trace, -w, -D and -o with nginx's debug and access logs, and nghttp's -v frame log with nginx's; tshark (-d tcp.port==8080,http2) is checked against them"
    scenario_cleanup
}

# A Python h2 client (tools/h2_client.py) with SETTINGS_INITIAL_WINDOW_SIZE 1024 downloads the
# 102,400-byte file and data.json at once from nginx (cleartext prior knowledge), giving a window
# back only when it is used up, 10 ms later: nginx stalls on every 1,024 bytes of each stream and
# once on the connection window (65,535, never raised before it runs out).
scenario_h2_small_window() {
    log "HTTP/2 small window: tools/h2_client.py (INITIAL_WINDOW_SIZE 1024) -> nginx (listen http2, cleartext)"
    local ns=$NSP-h2win d=$WORK/h2win
    ns_new h2win
    mkdir -p "$d" "$CAP/h2"
    NGINX_HTTP_EXTRA=$(h2_nginx_extra "$d") NGINX_SERVER_EXTRA="access_log $d/logs/h2.log h2; types { application/json json; text/plain txt; }" \
        nginx_setup "$d" "127.0.0.1:8080 http2"
    tls_www "$d"
    nginx_start "$ns" "$d" 8080
    tcpdump_start "$ns" "$CAP/h2-small-window.pcap" -i lo "tcp port 8080"
    ip netns exec "$ns" "$PY" "$TOOLS/h2_client.py" 127.0.0.1:8080 --local 127.0.0.1:40821 --log "$d/cl" \
        --get /big.txt --get /data.json --window 1024 --stall-ms 10
    tcpdump_stop_all
    "$PY" "$TOOLS/h2_facts.py" capture --pcap "$CAP/h2-small-window.pcap" --server 127.0.0.1:8080 \
        --decode-as 8080 --nginx-log "$d/logs/h2.log" --nginx-debug "$d/logs/debug.log" \
        --bytes-log "127.0.0.1:40821 127.0.0.1:8080 $d/cl h2_client.py-log" \
        --tshark-out "$CAP/h2/h2-small-window.tshark.txt" --out "$d/h2.json"
    "$PY" - "$d" <<'PYEOF' >"$d/window.json"
import json, sys
d = sys.argv[1]
h = json.load(open(d + "/h2.json"))
cl = json.load(open(d + "/cl.json"))
ev = json.load(open(d + "/cl.events.json"))
c = h["h2_connections"][0]
wu = c["window_updates"]["client_to_server"]
assert wu["stream"] == cl["stalls"]["stream"] and wu["connection"] == cl["stalls"]["connection"], (wu, cl)
for s, x in zip(c["streams"], cl["streams"]):
    assert (s["stream_id"], s["status"], s["response_body_wire_bytes"], s["response_body_sha256"]) == (
        x["stream_id"], x["status"], x["body_bytes"], x["body_sha256"]), (s, x)
print(json.dumps({"h2_flow_control": {
    "initial_window_size": cl["initial_window_size"], "connection_window": 65535,
    "stall_ms": cl["stall_ms"], "stalls": cl["stalls"],
    "window_updates_sent": cl["window_updates_sent"],
    "per_stream": [{"stream_id": s["stream_id"], "path": s["path"],
                    "window_updates_from_client": len(s["window_updates_from_client"]),
                    "increment_total": sum(s["window_updates_from_client"]),
                    "response_data_frames": len(s["response_data_frames"]),
                    "largest_data_frame": max(s["response_data_frames"] or [0]),
                    "response_body_wire_bytes": s["response_body_wire_bytes"]} for s in c["streams"]],
    "connection_stalls": [{"t": e["t"], "after_stream": p.get("stream_id")} for p, e in zip(ev, ev[1:])
                          if e.get("action") == "Stall" and e["window"] == "connection"],
    "source": "tools/h2_client.py's own log (its h2 events and its actions: every stall and WINDOW_UPDATE it sent), checked against the frames parsed from its logged bytes"}}, indent=1))
PYEOF
    fact --file h2-small-window.pcap --software "Python 3.11 h2 4 client (tools/h2_client.py: SETTINGS_INITIAL_WINDOW_SIZE 1024, flow control by hand) -> nginx 1.22.1 (listen 127.0.0.1:8080 http2, cleartext), tcpdump -i lo" \
        --shows "HTTP/2 flow control doing the work: 127.0.0.1:40821 opens with SETTINGS (INITIAL_WINDOW_SIZE 1024, ENABLE_PUSH 0) and asks for GET /big.txt (stream 1, 102,400 B) and GET /data.json (stream 3) at once; nginx may send only 1,024 bytes per stream before the client's WINDOW_UPDATE, so it stalls on every window (DATA frames of at most 1,024 bytes, the client waits 10 ms before each WINDOW_UPDATE(stream, 1024)), and once on the connection window (65,535 bytes, which the client raises by 65,535 only when it is used up); GOAWAY(NO_ERROR) from the client at the end; details.h2_flow_control counts the stalls and WINDOW_UPDATEs" \
        --stream "127.0.0.1:40821 127.0.0.1:8080 $d/cl h2_client.py-log" --note-file "$d/h2.json" --note-file "$d/window.json" \
        --note "the stream bytes and every frame (details.h2_connections[].frames_*) are from the client's own log of its socket; nginx's debug log gives the frames it read, checked equal; tshark (-d tcp.port==8080,http2) agrees frame by frame"
    scenario_cleanup
}

# h2c upgrade from curl (curl --http2 on http://) to tools/h2c_server.py (Python h2; nghttpd
# 1.52 answers only prior knowledge and nginx does no h2c upgrade): GET /two.json carries
# Upgrade: h2c and HTTP2-Settings, the 101 is followed by the server's SETTINGS and the answer on
# stream 1; the second transfer (a 404) goes out as HEADERS on stream 3.
scenario_h2c_upgrade_curl() {
    log "h2c upgrade: curl --http2 http:// -> tools/h2c_server.py, with per-stream facts"
    local ns=$NSP-h2up d=$WORK/h2up
    ns_new h2up
    mkdir -p "$d" "$CAP/h2"
    start_bg ip netns exec "$ns" "$PY" "$TOOLS/h2c_server.py" serve 127.0.0.1 8774 --log "$d/srv"
    wait_for "h2c_server" listening "$ns" 8774
    tcpdump_start "$ns" "$CAP/h2c-upgrade-curl.pcap" -i lo "tcp port 8774"
    local u=http://127.0.0.1:8774
    local o=(-sS --http2 --local-port 40831 -w "$TLS_W")
    h2_curl_ops "$d/c1" o "$u/two.json" "$u/missing"
    ip netns exec "$ns" env -u http_proxy -u HTTP_PROXY -u all_proxy -u ALL_PROXY \
        curl -q --trace "$d/c1.trace" "${H2_OPS[@]}" >"$d/c1.w" 2>"$d/c1.stderr"
    wait_for "h2c server log" test -e "$d/srv.1.done"
    tcpdump_stop_all
    "$PY" "$TOOLS/h2_facts.py" capture --pcap "$CAP/h2c-upgrade-curl.pcap" --server 127.0.0.1:8774 \
        --curl "127.0.0.1:40831 $d/c1" --bytes-log "127.0.0.1:40831 127.0.0.1:8774 $d/srv.1 h2c_server.py-log" \
        --tshark-out "$CAP/h2/h2c-upgrade-curl.tshark.txt" --out "$d/h2.json"
    fact --file h2c-upgrade-curl.pcap --software "curl 7.88.1 --http2 on http:// (nghttp2 1.52) -> tools/h2c_server.py (Python h2 4, sans-IO), tcpdump -i lo" \
        --shows "the h2c upgrade with both transfers' facts: 127.0.0.1:40831 sends GET /two.json as HTTP/1.1 with Connection: Upgrade, HTTP2-Settings, Upgrade: h2c; the server answers 101 Switching Protocols, then its SETTINGS and the response to the upgraded request on stream 1 (200, JSON); curl's preface and SETTINGS follow its request head, and the second transfer (GET /missing, 404) is HEADERS on stream 3; curl closes without GOAWAY" \
        --stream "127.0.0.1:40831 127.0.0.1:8774 $d/srv.1 h2c_server.py-log" --note-file "$d/h2.json" \
        --note "the stream bytes and every frame are the server's own log of its socket; curl's trace, -w, -D and -o give each transfer (the first one has no HTTP/2 request of its own: it is the HTTP/1.1 request that asked for the upgrade); tshark is checked against them"
    scenario_cleanup
}

# nginx as the HTTP/2 front (TLS 1.3, ALPN h2) of an HTTP/1.1 upstream (tools/proxy_backend.py,
# keep-alive pool): curl --http2 -Z sends 4 requests on one connection, three proxied (two GETs
# and a 3,000-byte POST; X-Request-ID $request_id forwarded) and one nginx answers itself (404
# for a missing static file). Both legs are in the capture: the TLS front leg with curl's key
# log and nginx's cleartext HTTP/1.1 connections to the backend.
scenario_h2_front_http1_back() {
    log "HTTP/2 front, HTTP/1.1 back: curl --http2 (SSLKEYLOGFILE) -> nginx (ssl http2) -> proxy_backend.py"
    local ns=$NSP-h2px d=$WORK/h2px k=$CAP/h2-front-http1-back.keys
    ns_new h2px
    tls_lo_1500 "$ns"
    mkdir -p "$d" "$CAP/h2" "$CAP/tls"
    tls_cert "$d" ec localhost
    NGINX_HTTP_EXTRA="$(h2_nginx_extra "$d") upstream backend { server 127.0.0.1:8775; keepalive 4; }" \
        NGINX_SERVER_EXTRA="$(tls_server_extra "$d") access_log $d/logs/h2.log h2; ssl_protocols TLSv1.3; location /api/ { proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection \"\"; proxy_set_header X-Request-ID \$request_id; proxy_read_timeout 10s; }" \
        nginx_setup "$d" "127.0.0.1:8443 ssl http2"
    tls_www "$d"
    text_file "$d/upload.txt" 3000 upload
    nginx_start "$ns" "$d" 8443
    backend_start "$ns" 127.0.0.1 8775 "$d/up"
    : >"$k"
    tcpdump_start "$ns" "$CAP/h2-front-http1-back.pcap" -i lo "tcp port 8443 or tcp port 8775"
    local u=https://localhost:8443
    local o=(-sS --http2 --tlsv1.3 --resolve localhost:8443:127.0.0.1 --cacert "$d/cert.pem" --local-port 40841 -w "$TLS_W")
    h2_curl_ops "$d/c1" o "$u/api/one" "$u/api/two?x=1&y=2" "$u/api/upload --data-binary @$d/upload.txt -H Content-Type:text/plain" \
        "$u/missing.txt"
    tls_curl "$ns" "$d/c1" "$k" -Z --parallel-max 10 "${H2_OPS[@]}" 2>"$d/c1.stderr"
    nginx_quit "$d"
    tcpdump_stop_all
    back_legs "$d/up" 127.0.0.1:8775
    "$PY" "$TOOLS/tls_facts.py" capture --pcap "$CAP/h2-front-http1-back.pcap" --keylog "$k" \
        --keylog-name h2-front-http1-back.keys --server 127.0.0.1:8443 --nginx-log "$d/logs/tls.log" \
        --conn "127.0.0.1:40841 127.0.0.1:8443 curl-h2 $d/c1" --curl-w "$d/c1.w" \
        --tshark-out "$CAP/tls/h2-front-http1-back.tshark.txt" --out "$d/tls.json"
    "$PY" "$TOOLS/h2_facts.py" capture --pcap "$CAP/h2-front-http1-back.pcap" --keylog "$k" \
        --keylog-name h2-front-http1-back.keys --server 127.0.0.1:8443 \
        --nginx-log "$d/logs/h2.log" --nginx-debug "$d/logs/debug.log" \
        --curl "127.0.0.1:40841 $d/c1" --summary-prefix "$d/tls.json" \
        --tshark-out "$CAP/h2/h2-front-http1-back.tshark.txt" --out "$d/h2.json"
    "$PY" "$TOOLS/h2_facts.py" proxy-legs --h2 "$d/h2.json" --backend-requests "$d/up.requests.jsonl" \
        "${BACK_ARGS[@]}" --out "$d/legs.json"
    fact --file h2-front-http1-back.pcap --software "curl 7.88.1 --http2 -Z (nghttp2 1.52, OpenSSL 3.0, SSLKEYLOGFILE) -> nginx 1.22.1 (listen ssl http2, TLSv1.3; proxy_pass to an upstream with keepalive 4, proxy_http_version 1.1, Connection \"\", X-Request-ID \$request_id) -> tools/proxy_backend.py (Python 3.11 http.server), tcpdump -i lo (MTU 1500, no GSO)" \
        --shows "both legs of a version-translating proxy: the front connection 127.0.0.1:40841 -> :8443 is HTTP/2 over TLS 1.3 (ALPN h2, key log h2-front-http1-back.keys) with 4 streams: GET /api/one, GET /api/two?x=1&y=2, POST /api/upload (3,000-byte body, content-type text/plain), each turned by nginx into an HTTP/1.1 request on its keep-alive upstream connection(s) to :8775 (Host: backend, X-Request-ID = nginx's \$request_id, Connection dropped), and GET /missing.txt that nginx answers itself (404, no back leg); nginx closes its idle upstream connections when it quits; details.h2_proxy_legs pairs each front stream with the upstream request it became, by the request id" \
        "${BACK_STREAMS[@]}" --follow-server 127.0.0.1:8443 "${BACK_TXS[@]}" \
        --note-file "$d/tls.json" --note-file "$d/h2.json" --note-file "$d/legs.json" \
        --note "the front leg's stream is the TLS bytes (tshark's follow) and its streams' facts are curl's and nginx's logs (details.h2_connections); the upstream connections use ephemeral client ports and their bytes and transactions come from the backend's own log (tools/proxy_backend.py)"
    scenario_cleanup
}

# WebSocket over HTTP/2 (RFC 8441), tools/h2_ws.py client and server (Python h2, cleartext prior
# knowledge): the server's SETTINGS have ENABLE_CONNECT_PROTOCOL = 1; the client sends GET / on
# stream 1 and the extended CONNECT (:protocol websocket, :path /chat) on stream 3, answered
# 200; then WebSocket frames in stream 3's DATA, each frame one DATA frame, echoed: a text, a
# 300-byte binary, a ping (pong), a text in two fragments, and the close handshake (1000 "bye"),
# the last frame of each side with END_STREAM; GOAWAY from the client.
scenario_h2_websocket_rfc8441() {
    log "WebSocket over HTTP/2 (RFC 8441): tools/h2_ws.py client -> tools/h2_ws.py server"
    local ns=$NSP-h2ws d=$WORK/h2ws
    ns_new h2ws
    mkdir -p "$d" "$CAP/h2"
    start_bg ip netns exec "$ns" "$PY" "$TOOLS/h2_ws.py" server 127.0.0.1 8776 --log "$d/srv"
    wait_for "h2_ws server" listening "$ns" 8776
    tcpdump_start "$ns" "$CAP/h2-websocket-rfc8441.pcap" -i lo "tcp port 8776"
    ip netns exec "$ns" "$PY" "$TOOLS/h2_ws.py" client 127.0.0.1:8776 --local 127.0.0.1:40851 --log "$d/cl"
    wait_for "h2_ws server log" test -e "$d/srv.done"
    tcpdump_stop_all
    cmp "$d/cl.sent" "$d/srv.sent" && cmp "$d/cl.recv" "$d/srv.recv" || { echo "h2-websocket: the two logs differ" >&2; return 1; }
    "$PY" "$TOOLS/h2_facts.py" capture --pcap "$CAP/h2-websocket-rfc8441.pcap" --server 127.0.0.1:8776 \
        --decode-as 8776 --bytes-log "127.0.0.1:40851 127.0.0.1:8776 $d/cl h2_ws.py-client-log" \
        --tshark-out "$CAP/h2/h2-websocket-rfc8441.tshark.txt" --out "$d/h2.json"
    "$PY" - "$d" "$TOOLS" <<'PYEOF' >"$d/ws.json"
import hashlib, json, sys
d, tools = sys.argv[1:3]
sys.path.insert(0, tools)
from h2_facts import bytes_log
from h2_ws import desc, ws_parse
bl = bytes_log(d + "/cl")
h = json.load(open(d + "/h2.json"))["h2_connections"][0]
st = next(s for s in h["streams"] if s["protocol"] == "websocket")
srv_settings = [x for f in bl["frames_s2c"] if f["type"] == "SETTINGS" and "ACK" not in f["flags"] for x in f["settings"]]
ecp = [x["value"] for x in srv_settings if x["id"] == 8]
assert ecp == [1], srv_settings
out = {}
for name, fs, log in (("client_to_server", bl["frames_c2s"], "cl"), ("server_to_client", bl["frames_s2c"], "srv")):
    data = [f for f in fs if f["type"] == "DATA" and f["stream_id"] == st["stream_id"]]
    stream = b"".join(f["data"] for f in data)
    frames, used = ws_parse(stream)
    assert used == len(stream), name
    # each WebSocket frame is one DATA frame, as the programs wrote them
    assert all(len(ws_parse(f["data"])[0]) == 1 and ws_parse(f["data"])[1] == len(f["data"]) for f in data), name
    recs = []
    for i, (wf, df) in enumerate(zip(frames, data)):
        r = desc(wf)
        r.update(index=i, h2_data_frame_index=fs.index(df), h2_stream_offset=df["stream_offset"],
                 payload_sha256=hashlib.sha256(wf["payload"]).hexdigest(), data_frame_end_stream="END_STREAM" in df["flags"])
        recs.append(r)
    out["frames_" + name] = recs
# the server's own record of the frames it parsed and sent
ev = json.load(open(d + "/srv.events.json"))
srv_got = [e["ws_received"] for e in ev if "ws_received" in e]
srv_sent = [e["ws_sent"] for e in ev if "ws_sent" in e]
strip = lambda fs: [{k: f[k] for k in ("opcode", "fin", "masked", "payload_length")} for f in fs]
assert strip(srv_got) == strip(out["frames_client_to_server"]), "server log vs client bytes"
assert strip(srv_sent) == strip(out["frames_server_to_client"]), "server log vs server bytes"
print(json.dumps({"h2_websocket": dict(
    stream_id=st["stream_id"], path=st["path"], authority=st["authority"], scheme=st["scheme"],
    protocol=st["protocol"], connect_request_headers=st["request_headers"], status=st["status"],
    response_headers=st["response_headers"], server_settings=srv_settings,
    enable_connect_protocol_from_server=True, **out,
    close={"client": next(({"code": f["close_code"], "reason": f["close_reason"]} for f in out["frames_client_to_server"] if f["opcode"] == 8), None),
           "server": next(({"code": f["close_code"], "reason": f["close_reason"]} for f in out["frames_server_to_client"] if f["opcode"] == 8), None)},
    source="tools/h2_ws.py client's log of its socket bytes (frames parsed from stream 3's DATA), checked against the server's own log of the frames it parsed and sent"
)}, indent=1))
PYEOF
    fact --file h2-websocket-rfc8441.pcap --software "tools/h2_ws.py client and server (Python 3.11 h2 4, sans-IO; RFC 6455 framing written there), cleartext HTTP/2 prior knowledge, tcpdump -i lo" \
        --shows "WebSocket over HTTP/2 (RFC 8441) on 127.0.0.1:40851 -> :8776: the server's SETTINGS carry ENABLE_CONNECT_PROTOCOL = 1 (id 8); the client sends GET / on stream 1 (200, text) and the extended CONNECT on stream 3 (:method CONNECT, :protocol websocket, :scheme http, :path /chat, sec-websocket-version 13, origin), answered 200 with no END_STREAM; then WebSocket frames in stream 3's DATA (one WebSocket frame per DATA frame, client frames masked): text 'hello over h2', a 300-byte binary, ping 'ping-1', a text in two fragments ('fragmented ' + 'message'), close 1000 'bye' with END_STREAM; the server echoes each (pong for the ping, unmasked) and answers the close with close 1000 'bye' and END_STREAM; GOAWAY(NO_ERROR) from the client; details.h2_websocket has the frames" \
        --stream "127.0.0.1:40851 127.0.0.1:8776 $d/cl h2_ws.py-client-log" --note-file "$d/h2.json" --note-file "$d/ws.json" \
        --note "the stream bytes are the client's own log of its socket (the server logged the same bytes); tshark (-d tcp.port==8776,http2) agrees frame by frame on HTTP/2; it does not dissect the WebSocket frames inside"
    scenario_cleanup
}

# The HTTP semantics samples' exchanges over HTTP/2 (TLS 1.3, ALPN h2, curl's SSLKEYLOGFILE)
# against nginx alone: six curl connections, each one concern, transfers one after another
# (--next) on one connection: (1) caching and ranges on /doc.txt (200 with ETag, Last-Modified,
# Expires, Cache-Control max-age=3600 and public; If-None-Match and If-Modified-Since answered
# 304; Range 0-99 206; 0-9,20-29 multipart 206; 999999- 416); (2) cookies: nginx add_header
# Set-Cookie (the cookies of tools/http_app_server.py), then curl's jar sends them back; (3)
# auth_basic: --anyauth gets the 401 and retries with Basic credentials on a new stream; (4) a
# POST through 301, 302 (--post301 --post302), 303 (now GET), 307, 308 and (5) a 302 loop stopped
# by --max-redirs 3 (curl exit 47), each followed by -L; (6) CORS preflights and requests
# answered by add_header. Facts: per stream (tools/h2_facts.py: curl's trace, -D, -o, -w and
# nginx's debug and access logs, tshark with the key log as the second opinion) and the same
# semantics details as the HTTP/1.1 samples (tools/h2_semantics_facts.py, which reuses
# range_facts.py and cookie_cors_facts.py on the streams).
scenario_h2_semantics_curl() {
    log "HTTP semantics over HTTP/2: curl --http2 (SSLKEYLOGFILE) -> nginx (ssl http2): 304, 206, cookies, 401, redirects, CORS"
    local ns=$NSP-h2sem d=$WORK/h2sem k=$CAP/h2-semantics-curl.keys
    ns_new h2sem
    tls_lo_1500 "$ns"
    mkdir -p "$d" "$CAP/h2" "$CAP/tls"
    tls_cert "$d" ec localhost
    printf 'user:%s\n' "$(openssl passwd -apr1 -salt hopscope pass)" >"$d/htpasswd"
    local sc=("theme=dark; Path=/; Max-Age=3600"
        "lang=en-GB; Path=/; Expires=Wed, 01 Jan 2031 00:00:00 GMT"
        "sessionid=4f2c9a1b7e; Path=/"
        "csrftoken=Tk9uY2U; Path=/; HttpOnly; SameSite=Strict"
        "laxpref=1; Path=/; SameSite=Lax"
        "crosssite=yes; Path=/; SameSite=None; Secure"
        "__Host-id=h0st; Path=/; Secure"
        "__Secure-pref=s3cure; Path=/; Secure; HttpOnly"
        "adminonly=a1; Path=/admin"
        "domaincookie=d1; Domain=localhost; Path=/"
        "__Host-bad=x; Path=/; Domain=localhost; Secure") c setc=""
    for c in "${sc[@]}"; do setc+="add_header Set-Cookie \"$c\"; "; done
    local ac='add_header Access-Control-Allow-Origin $http_origin;'
    NGINX_HTTP_EXTRA=$(h2_nginx_extra "$d") NGINX_SERVER_EXTRA="$(tls_server_extra "$d") access_log $d/logs/h2.log h2; ssl_protocols TLSv1.3;
    location = /doc.txt { etag on; expires 1h; add_header Cache-Control public; }
    location = /cookies/set { $setc return 200 \"cookies set\\n\"; }
    location = /cookies/check { return 200 \"\$http_cookie\\n\"; }
    location = /admin/page { return 200 \"\$http_cookie\\n\"; }
    location = /auth/basic { auth_basic x; auth_basic_user_file $d/htpasswd; alias $d/www/small.txt; }
    location = /r/301 { return 301 /r/302; } location = /r/302 { return 302 /r/303; } location = /r/303 { return 303 /r/307; }
    location = /r/307 { return 307 /r/308; } location = /r/308 { return 308 /r/done; } location = /r/done { return 200 \"done \$request_method\\n\"; }
    location = /loop { return 302 /loop; }
    location = /api/item { if (\$request_method = OPTIONS) { $ac add_header Access-Control-Allow-Methods \"GET, PUT\"; add_header Access-Control-Allow-Headers content-type; add_header Access-Control-Max-Age 600; return 204; } $ac return 200 \"{\\\"ok\\\":true}\\n\"; }
    location = /api/strict { $ac add_header Access-Control-Allow-Methods \"GET, POST\"; return 204; }
    location = /api/cred { add_header Access-Control-Allow-Origin *; add_header Access-Control-Allow-Credentials true; return 200 \"{\\\"cred\\\":true}\\n\"; }" \
        nginx_setup "$d" "127.0.0.1:8443 ssl http2"
    tls_www "$d"
    text_file "$d/www/doc.txt" 3000 doc
    touch -d @1700000000 "$d/www"/*
    nginx_start "$ns" "$d" 8443
    : >"$k"
    : >"$d/jar"
    local size etag lm u=https://localhost:8443 or="Origin: https://app.localhost:3000"
    size=$(stat -c %s "$d/www/doc.txt")
    etag=$(printf '"%x-%x"' 1700000000 "$size")
    lm="Tue, 14 Nov 2023 22:13:20 GMT"
    tcpdump_start "$ns" "$CAP/h2-semantics-curl.pcap" -i lo "tcp port 8443"
    local n port o curls=() conns=() ws=()
    for n in cache cookies auth redir loop cors; do
        case $n in cache) port=40861 ;; cookies) port=40862 ;; auth) port=40863 ;; redir) port=40864 ;; loop) port=40865 ;; cors) port=40866 ;; esac
        o=(-sS --http2 --tlsv1.3 --resolve localhost:8443:127.0.0.1 --cacert "$d/cert.pem" --local-port "$port" -w "$TLS_W")
        case $n in
            cache) h2_curl_ops "$d/$n" o "$u/doc.txt" "$u/doc.txt -H If-None-Match:$etag" \
                "$u/doc.txt -H If-Modified-Since:_LM_" "$u/doc.txt -r 0-99" "$u/doc.txt -r 0-9,20-29" \
                "$u/doc.txt -r 999999-" ;;
            cookies) o+=(-b "$d/jar" -c "$d/jar")
                h2_curl_ops "$d/$n" o "$u/cookies/set" "$u/cookies/check" "$u/admin/page" ;;
            auth) h2_curl_ops "$d/$n" o "$u/auth/basic --anyauth -u user:pass" ;;
            redir) h2_curl_ops "$d/$n" o "$u/r/301 -L --post301 --post302 -d hello=world" ;;
            loop) h2_curl_ops "$d/$n" o "$u/loop -L --max-redirs 3" ;;
            cors) h2_curl_ops "$d/$n" o "$u/api/item -X OPTIONS -H _OR_ -H Access-Control-Request-Method:PUT -H Access-Control-Request-Headers:content-type" \
                "$u/api/item -X PUT -H _OR_ -H Content-Type:application/json -d {\"name\":\"x\"}" \
                "$u/api/strict -X OPTIONS -H _OR_ -H Access-Control-Request-Method:DELETE" \
                "$u/api/cred -H _OR_ -b sessionid=4f2c9a1b7e" ;;
        esac
        # header values with spaces: h2_curl_ops splits specs on spaces, so put them back here
        H2_OPS=("${H2_OPS[@]/#If-Modified-Since:_LM_/If-Modified-Since: $lm}")
        H2_OPS=("${H2_OPS[@]/#_OR_/$or}")
        if [ $n = loop ]; then
            tls_curl "$ns" "$d/$n" "$k" "${H2_OPS[@]}" 2>"$d/$n.stderr" || [ $? = 47 ] || return 1
        else
            tls_curl "$ns" "$d/$n" "$k" "${H2_OPS[@]}" 2>"$d/$n.stderr"
        fi
        curls+=(--curl "127.0.0.1:$port $d/$n")
        conns+=(--conn "127.0.0.1:$port 127.0.0.1:8443 curl-h2 $d/$n")
        ws+=(--curl-w "$d/$n.w")
    done
    tcpdump_stop_all
    cp "$d/jar" "$d/jar.final"
    "$PY" "$TOOLS/tls_facts.py" capture --pcap "$CAP/h2-semantics-curl.pcap" --keylog "$k" \
        --keylog-name h2-semantics-curl.keys --server 127.0.0.1:8443 --nginx-log "$d/logs/tls.log" \
        "${conns[@]}" "${ws[@]}" --tshark-out "$CAP/tls/h2-semantics-curl.tshark.txt" --out "$d/tls.json"
    "$PY" "$TOOLS/h2_facts.py" capture --pcap "$CAP/h2-semantics-curl.pcap" --keylog "$k" \
        --keylog-name h2-semantics-curl.keys --server 127.0.0.1:8443 \
        --nginx-log "$d/logs/h2.log" --nginx-debug "$d/logs/debug.log" "${curls[@]}" \
        --summary-prefix "$d/tls.json" --tshark-out "$CAP/h2/h2-semantics-curl.tshark.txt" --out "$d/h2.json"
    "$PY" "$TOOLS/h2_semantics_facts.py" --h2 "$d/h2.json" --www "$d/www" \
        --cache "127.0.0.1:40861 $d/cache" --cookies "127.0.0.1:40862 $d/jar.final" --auth 127.0.0.1:40863 \
        --redirects 127.0.0.1:40864 127.0.0.1:40865 --cors 127.0.0.1:40866 --out "$d/semantics.json"
    fact --file h2-semantics-curl.pcap --software "curl 7.88.1 --http2 (nghttp2 1.52, OpenSSL 3.0, SSLKEYLOGFILE; cookie jar, --anyauth, -L) -> nginx 1.22.1 (listen ssl http2, TLSv1.3, ECDSA P-256 self-signed cert for localhost; etag, expires 1h, add_header, auth_basic, return 3xx), tcpdump -i lo (MTU 1500, no GSO)" \
        --shows "the HTTP semantics samples' exchanges over HTTP/2 (TLS 1.3, ALPN h2, key log h2-semantics-curl.keys), six curl connections, transfers one after another on each: 127.0.0.1:40861 GET /doc.txt (200 with ETag, Last-Modified, Expires and two cache-control fields max-age=3600 and public), If-None-Match with that ETag (304), If-Modified-Since with that date (304), Range 0-99 (206), 0-9,20-29 (206 multipart/byteranges), 999999- (416); 40862 Set-Cookie fields (one per cookie, as http_app_server.py sets them) on /cookies/set, curl's jar sends them back in one cookie field on /cookies/check and /admin/page; 40863 --anyauth: 401 with www-authenticate Basic realm=\"x\", then the retry with authorization Basic on the next stream (200); 40864 POST through 301 and 302 (--post301/--post302), 303 turns it into GET, 307, 308, 200; 40865 a 302 loop stopped by --max-redirs 3 (curl exit 47); 40866 CORS: allowed preflight for PUT and the PUT, a preflight that does not allow DELETE, a credentialed GET answered with access-control-allow-origin *" \
        --follow-server 127.0.0.1:8443 --note-file "$d/tls.json" --note-file "$d/h2.json" --note-file "$d/semantics.json" \
        --note "streams are the TLS bytes (tshark's follow); per stream the facts join curl's trace, -w, -D and -o with nginx's debug and access logs (details.h2_connections; a transfer curl followed or retried spans several streams, assigned in order); the semantics details (validators, conditional, ranges, cookies, auth, redirect_chains, cors) are what tools/range_facts.py and tools/cookie_cors_facts.py say of those streams, with the stream id beside each index; the CORS decisions are the Fetch standard's rules on the recorded headers (curl does not enforce CORS)"
    scenario_cleanup
}

# A browser page over HTTP/2: headless Chromium (--ssl-key-log-file, --log-net-log) loads a page
# from nginx (listen ssl http2, TLS 1.3, ALPN h2) with a stylesheet, a script, an image and a
# favicon, and the script fetch()es data.json and small.txt; Chromium multiplexes them as
# streams of one connection. Facts per stream: nginx's debug and access logs (tools/h2_facts.py,
# details.h2_connections) and Chromium's own NetLog (every HTTP/2 stream it opened: stream id,
# request header list, response header list, DATA bytes; tools/h2_netlog_facts.py, checked
# equal to nginx's view stream by stream, details.chromium_netlog); tshark with the key log as the
# second opinion (h2/h2-chromium.tshark.txt).
scenario_h2_chromium() {
    log "headless chromium over HTTP/2 (TLS 1.3, --ssl-key-log-file, --log-net-log) -> nginx (ssl http2)"
    local ns=$NSP-h2chrome d=$WORK/h2chrome k=$CAP/h2-chromium.keys
    ns_new h2chrome
    tls_lo_1500 "$ns"   # Chromium's ClientHello (~2 KB with its ML-KEM key share) spans two segments
    mkdir -p "$d/profile" "$CAP/h2" "$CAP/tls"
    tls_cert "$d" ec h2.hopscope.test
    NGINX_HTTP_EXTRA=$(h2_nginx_extra "$d") NGINX_SERVER_EXTRA="server_name h2.hopscope.test; $(tls_server_extra "$d") access_log $d/logs/h2.log h2; ssl_protocols TLSv1.3; location = /pixel.png { default_type image/png; }" \
        nginx_setup "$d" "127.0.0.1:8443 ssl http2"
    tls_www "$d"
    cat >"$d/www/page.html" <<'EOF'
<!doctype html>
<html><head><title>hopscope h2 sample</title><link rel=stylesheet href=/style.css>
<link rel=icon href=/favicon.ico><script src=/app.js defer></script></head>
<body><h1>hopscope HTTP/2 sample page</h1><img src=/pixel.png alt=pixel width=1 height=1><pre id=out></pre></body></html>
EOF
    cat >"$d/www/app.js" <<'EOF'
(async () => {
  const out = document.getElementById("out");
  const rs = await Promise.all(["/data.json", "/small.txt"].map(u => fetch(u, {cache: "no-store"})));
  for (const r of rs) {
    const body = await r.arrayBuffer();
    out.textContent += `${new URL(r.url).pathname}: ${r.status} ${body.byteLength} bytes\n`;
  }
  out.textContent += "done\n";
})();
EOF
    printf '\x00\x00\x01\x00' >"$d/www/favicon.ico"
    "$PY" -c 'import base64, sys
open(sys.argv[1], "wb").write(base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="))' "$d/www/pixel.png"
    touch -d @1700000000 "$d/www"/*
    nginx_start "$ns" "$d" 8443
    tcpdump_start "$ns" "$CAP/h2-chromium.pcap" -i lo "tcp port 8443"
    ip netns exec "$ns" timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync --user-data-dir="$d/profile" \
        --ssl-key-log-file="$k" --ignore-certificate-errors --host-resolver-rules="MAP h2.hopscope.test 127.0.0.1" \
        --log-net-log="$d/netlog.json" --enable-logging=stderr --v=0 --virtual-time-budget=5000 \
        --dump-dom https://h2.hopscope.test:8443/page.html >"$d/dom.html" 2>"$d/chromium.log"
    tcpdump_stop_all
    grep -q '^done$' "$d/dom.html" || { echo "h2-chromium: the page did not finish" >&2; return 1; }
    chromium --version >"$d/version.txt" 2>/dev/null
    "$PY" "$TOOLS/tls_facts.py" capture --pcap "$CAP/h2-chromium.pcap" --keylog "$k" \
        --keylog-name h2-chromium.keys --server 127.0.0.1:8443 --nginx-log "$d/logs/tls.log" \
        --tshark-out "$CAP/tls/h2-chromium.tshark.txt" --out "$d/tls.json"
    "$PY" "$TOOLS/h2_facts.py" capture --pcap "$CAP/h2-chromium.pcap" --keylog "$k" \
        --keylog-name h2-chromium.keys --server 127.0.0.1:8443 \
        --nginx-log "$d/logs/h2.log" --nginx-debug "$d/logs/debug.log" --summary-prefix "$d/tls.json" \
        --tshark-out "$CAP/h2/h2-chromium.tshark.txt" --out "$d/h2.json"
    "$PY" "$TOOLS/h2_netlog_facts.py" --netlog "$d/netlog.json" --h2 "$d/h2.json" --dom "$d/dom.html" \
        --browser "$d/version.txt" --out "$d/netlog.facts.json"
    fact --file h2-chromium.pcap --software "Chromium $(cut -d' ' -f2 "$d/version.txt") headless (--dump-dom --ssl-key-log-file --log-net-log --ignore-certificate-errors, h2.hopscope.test mapped to 127.0.0.1) -> nginx 1.22.1 (listen ssl http2, TLSv1.3, ECDSA P-256 self-signed cert, gzip), tcpdump -i lo (MTU 1500, no GSO)" \
        --shows "a browser page over HTTP/2 (TLS 1.3, ALPN h2, key log h2-chromium.keys as Chromium wrote it): page.html, then style.css, app.js, pixel.png and favicon.ico, and the script's two fetch()es (data.json gzip'd, small.txt) as streams of one connection (Chromium's HEADERS carry its priority); details.h2_connections has every stream as nginx logged it and details.chromium_netlog as Chromium's NetLog did (stream id, method, path, status, DATA bytes), checked equal" \
        --follow-server 127.0.0.1:8443 --note-file "$d/tls.json" --note-file "$d/h2.json" --note-file "$d/netlog.facts.json" \
        --note "Chromium's client ports are ephemeral; a connection Chromium opened and did not use has no streams; per stream the facts are nginx's debug log (the frames it read, the HEADERS/DATA it created) and access log, and Chromium's NetLog; tshark's HTTP/2 dissection with the key log is checked against them"
    scenario_cleanup
}

# ---------------------------------------------------------------------------------------------
# A proxy's two legs captured on two hosts: client 198.51.100.1 -- (front0) nginx 198.51.100.10 /
# 10.0.0.10 (back0) -- backend 10.0.0.20. The front leg is recorded on the proxy's front
# interface, the back leg on the backend host: two files, whose addresses have nothing in
# common but the proxy. Then a copy of the back file with its clock moved (editcap -t), the
# front file cut into a rotated set (editcap -c) and the back file gzipped (gzip -n); the same
# set and back file compressed with zstd.

split_topology() {   # split_topology MODE: namespaces $NSP-spc (client), $NSP-spp (proxy), $NSP-spb (backend)
    # MODE direct: client 198.51.100.1 on the proxy's front link; MODE nat: client 192.0.2.1
    # behind $NSP-spn running tools/nat_box.py (client -> 198.51.100.50, 203.0.113.80 -> proxy)
    local c=$NSP-spc p=$NSP-spp b=$NSP-spb n=$NSP-spn
    ns_new spc; ns_new spp; ns_new spb
    if [ "$1" = nat ]; then
        ns_new spn
        ip link add "hs$$f-c" type veth peer name "hs$$n-i"
        ip link set "hs$$n-i" netns "$n" name in0 address 02:00:00:00:05:01 mtu 1500
        ip link add "hs$$n-o" type veth peer name "hs$$f-p"
        ip link set "hs$$n-o" netns "$n" name out0 address 02:00:00:00:05:02 mtu 1500
        ip -n "$n" link set in0 up; ip -n "$n" link set out0 up
    else
        ip link add "hs$$f-c" type veth peer name "hs$$f-p"
    fi
    ip link set "hs$$f-c" netns "$c" name eth0 address 02:00:00:00:03:01 mtu 1500
    ip link set "hs$$f-p" netns "$p" name front0 address 02:00:00:00:03:0a mtu 1500
    ip link add "hs$$b-p" type veth peer name "hs$$b-b"
    ip link set "hs$$b-p" netns "$p" name back0 address 02:00:00:00:04:0a mtu 1500
    ip link set "hs$$b-b" netns "$b" name eth0 address 02:00:00:00:04:14 mtu 1500
    ip -n "$p" addr add 198.51.100.10/24 dev front0
    ip -n "$p" addr add 10.0.0.10/24 dev back0
    ip -n "$b" addr add 10.0.0.20/24 dev eth0
    ip -n "$c" link set eth0 up; ip -n "$p" link set front0 up; ip -n "$p" link set back0 up; ip -n "$b" link set eth0 up
    # static neighbours: no ARP in the captures
    ip -n "$p" neigh replace 10.0.0.20 lladdr 02:00:00:00:04:14 dev back0 nud permanent
    ip -n "$b" neigh replace 10.0.0.10 lladdr 02:00:00:00:04:0a dev eth0 nud permanent
    if [ "$1" = nat ]; then
        ip -n "$c" addr add 192.0.2.1/24 dev eth0
        ip -n "$c" route add default via 192.0.2.254
        ip -n "$c" neigh replace 192.0.2.254 lladdr 02:00:00:00:05:01 dev eth0 nud permanent
        ip -n "$p" neigh replace 198.51.100.50 lladdr 02:00:00:00:05:02 dev front0 nud permanent
        # frames cross the NAT one by one: no segmentation offload on the two ends
        ip -n "$c" link set eth0 gso_max_size 1500 gso_max_segs 1
        ip -n "$p" link set front0 gso_max_size 1500 gso_max_segs 1
        start_bg ip netns exec "$n" "$PY" "$TOOLS/nat_box.py" --inside in0 --outside out0 \
            --inside-peer-mac 02:00:00:00:03:01 --outside-peer-mac 02:00:00:00:03:0a \
            --map 192.0.2.1=198.51.100.50 --map 203.0.113.80=198.51.100.10 \
            --ready "$WORK/nat.ready" --stats "$WORK/nat.stats"
        NAT_PID=${BG[-1]}
        wait_for "nat box" test -e "$WORK/nat.ready"
    else
        ip -n "$c" addr add 198.51.100.1/24 dev eth0
        ip -n "$c" neigh replace 198.51.100.10 lladdr 02:00:00:00:03:0a dev eth0 nud permanent
        ip -n "$p" neigh replace 198.51.100.1 lladdr 02:00:00:00:03:01 dev front0 nud permanent
    fi
}

SPLIT_FIX='proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection "upgrade";'

# split_nginx_run NAME MODE PORT0: client -> nginx (/api/ keep-alive upstream, /ws-ok/, /ws-broken/,
# = /local) -> backend, two tcpdumps (front, back); client ports PORT0 (curl), +1, +2 (WebSockets)
split_nginx_run() {
    local name=$1 mode=$2 p0=$3
    local c=$NSP-spc p=$NSP-spp b=$NSP-spb d=$WORK/$1
    split_topology "$mode"
    mkdir -p "$d" "$CAP/rotated" "$CAP/split" "$CAP/zstd"
    local hdr="proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for; proxy_set_header X-Real-IP \$remote_addr; proxy_set_header X-Request-Id \$request_id; proxy_read_timeout 10s;"
    NGINX_HTTP_EXTRA="upstream api { server 10.0.0.20:8080; keepalive 2; } log_format legs '\$remote_addr:\$remote_port \$connection \$connection_requests \$request_id \$status \"\$request\" \$upstream_addr \$upstream_status \$msec';" \
    NGINX_SERVER_EXTRA="access_log $d/logs/legs.log legs; location = /local { return 204; } location /api/ { proxy_pass http://api; proxy_http_version 1.1; proxy_set_header Connection \"\"; $hdr } location /ws-ok/ { proxy_pass http://10.0.0.20:8765/; $SPLIT_FIX $hdr } location /ws-broken/ { proxy_pass http://10.0.0.20:8765/; $hdr }" \
        nginx_setup "$d" 198.51.100.10:80
    text_file "$d/post.txt" 2000 split-post
    nginx_start "$p" "$d" 80
    backend_start "$b" 10.0.0.20 8080 "$d/http" --pad /api/big=6000 --pad /api/mid=1500
    start_bg ip netns exec "$b" "$PY" "$HERE/ws_server.py" 10.0.0.20 8765 --log "$d/ws"
    wait_for "ws server" listening "$b" 8765
    local vip=198.51.100.10 me=198.51.100.1
    if [ "$mode" = nat ]; then
        vip=203.0.113.80 me=192.0.2.1
        tcpdump_start "$c" "$CAP/$name.client.pcap" -i eth0 "tcp port 80"
        SPLIT_FRONT=$name.client.pcap
    else
        tcpdump_start "$p" "$CAP/$name.front.pcap" -i front0 "tcp port 80"
        SPLIT_FRONT=$name.front.pcap
    fi
    tcpdump_start "$b" "$CAP/$name.back.pcap" -i eth0 "tcp port 8080 or tcp port 8765"
    local u=http://$vip t=X-Hopscope-Tag pa="--local-port $p0"
    curl_run "$c" "$d/c" $pa -H "$t: s-0" "$u/api/small" \
        --next $pa -H "$t: s-1" "$u/api/big" \
        --next $pa -H "$t: s-2" "$u/local" \
        --next $pa -H "$t: s-3" -H 'Expect:' -H 'Content-Type: text/plain' --data-binary "@$d/post.txt" "$u/api/post" \
        --next $pa -H "$t: s-4" "$u/api/mid"
    ip netns exec "$c" "$PY" "$HERE/ws_client.py" "ws://$vip/ws-ok/echo" \
        --local "$me:$((p0 + 1))" --log "$d/wsok" --messages short
    ip netns exec "$c" "$PY" "$HERE/ws_client.py" "ws://$vip/ws-broken/echo" \
        --local "$me:$((p0 + 2))" --log "$d/wsbad" --messages short --allow-reject
    nginx_quit "$d"
    tcpdump_stop_all
    if [ "$mode" = nat ]; then stop_pid "$NAT_PID" TERM; fi
    [ -s "$d/ws.2.peer" ] && [ ! -e "$d/ws.3.peer" ] || { echo "$name: the ws backend did not see exactly 2 connections" >&2; return 1; }
    # transactions and the pairing from the programs' logs
    tx_curl "$d/c" "$me:$p0" "$vip:80" --headers
    tx_log "$d/wsok" "$me:$((p0 + 1))" "$vip:80" ws_client.py-transport-log --allow-trailing --headers
    tx_log "$d/wsbad" "$me:$((p0 + 2))" "$vip:80" ws_client.py-transport-log --headers
    back_legs "$d/http" 10.0.0.20:8080
    WS1=$(tr -d '\n' <"$d/ws.1.peer"); WS2=$(tr -d '\n' <"$d/ws.2.peer")
    tx_log "$d/ws.1" "$WS1" 10.0.0.20:8765 ws_server.py-transport-log --allow-trailing --headers
    tx_log "$d/ws.2" "$WS2" 10.0.0.20:8765 ws_server.py-transport-log --headers --allow-unanswered
    proxy_legs "$d" --proxy nginx --match header:$t --front "$d/c.tx.json" "${BACK_ARGS[@]}" \
        --note-for "s-2=location = /local { return 204; }: nginx answers itself, no back leg"
    proxy_legs "$d" --append --proxy nginx --match order --front "$d/wsok.tx.json" --back "$d/ws.1.tx.json" \
        --note "location /ws-ok/: $SPLIT_FIX"
    proxy_legs "$d" --append --proxy nginx --match order --front "$d/wsbad.tx.json" --back "$d/ws.2.tx.json" \
        --note "location /ws-broken/: default proxy_pass (HTTP/1.0, Connection: close, no Upgrade)"
    local natdesc=""
    if [ "$mode" = nat ]; then natdesc="tools/nat_box.py (userspace 1:1 NAT: 192.0.2.1 -> 198.51.100.50, 203.0.113.80 -> 198.51.100.10) -> "; fi
    SPLIT_SW="curl 7.88.1 and Python websockets 17 (ws_client.py) in a client namespace $me -> ${natdesc}nginx 1.22.1 (front 198.51.100.10:80 on front0, back 10.0.0.10 on back0; /api/ to an upstream with keepalive 2, HTTP/1.1; /ws-ok/ with Upgrade/Connection forwarded; /ws-broken/ default proxy_pass; X-Forwarded-For, X-Real-IP, X-Request-Id \$request_id) -> tools/proxy_backend.py 10.0.0.20:8080 and ws_server.py 10.0.0.20:8765 in a backend namespace"
    SPLIT_FRONT_STREAMS=(--stream "$me:$p0 $vip:80 $d/c $(curl_source "$d/c")"
                         --stream "$me:$((p0 + 1)) $vip:80 $d/wsok ws_client.py-transport-log"
                         --stream "$me:$((p0 + 2)) $vip:80 $d/wsbad ws_client.py-transport-log"
                         --transactions "$d/c.tx.json" --transactions "$d/wsok.tx.json" --transactions "$d/wsbad.tx.json")
    SPLIT_BACK_STREAMS=("${BACK_STREAMS[@]}" --stream "$WS1 10.0.0.20:8765 $d/ws.1 ws_server.py-transport-log"
                        --stream "$WS2 10.0.0.20:8765 $d/ws.2 ws_server.py-transport-log"
                        "${BACK_TXS[@]}" --transactions "$d/ws.1.tx.json" --transactions "$d/ws.2.tx.json")
}

SPLIT_PROXY_JSON='{"software": "nginx 1.22.1", "front_address": "198.51.100.10:80", "back_address": "10.0.0.10", "client_side_subnet": "198.51.100.0/24", "backend_side_subnet": "10.0.0.0/24", "upstreams": ["10.0.0.20:8080", "10.0.0.20:8765"]}'
SPLIT_WHAT="one curl keep-alive connection (X-Hopscope-Tag s-0..s-4: GET /api/small, GET /api/big (6,000 padding bytes), GET /local answered 204 by nginx itself, a 2,000-byte POST /api/post, GET /api/mid (1,500 padding bytes)), a WebSocket through /ws-ok/ (101, two texts and a 512-byte binary echoed, ping, close 1000) and one through /ws-broken/ (upgrade dropped by nginx: HTTP/1.0 upstream without Upgrade, the backend answers 505, the client gives up)"
SPLIT_BACK_WHAT="the upstream leg only, as captured on the backend host: nginx (10.0.0.10, ephemeral ports) -> 10.0.0.20: the four /api/ requests on nginx's pooled HTTP/1.1 connection (closed when nginx quits), the /ws-ok/ upgrade (101 and the echoed frames), and the /ws-broken/ handshake nginx sent as HTTP/1.0 without Upgrade, refused by the backend (505)"

# Client -> nginx on the proxy's front link; front file from the proxy's front interface, back file
# from the backend host; a copy of the back file 1.234 s ahead (correction -1.234 s); the front
# file cut into a rotated set and the back file gzipped (samples/rotated/), and zstd'd (samples/zstd/).
scenario_split_nginx_ws() {
    log "a proxy's two legs on two hosts: client -> nginx (front 198.51.100.10, back 10.0.0.10) -> backend 10.0.0.20"
    local name=split-nginx-ws skew=1.234 d=$WORK/split-nginx-ws
    split_nginx_run "$name" direct 40201
    editcap -F pcap -t "+$skew" "$CAP/$name.back.pcap" "$CAP/$name.back-skewed.pcap"
    # a rotated front set (as tcpdump -C would leave it) and a gzipped back file
    editcap -F pcap -c 12 "$CAP/$name.front.pcap" "$d/rot.pcap"
    local i=0 f
    for f in $(ls "$d"/rot_*.pcap | sort); do mv "$f" "$CAP/rotated/$name.front.pcap$i"; i=$((i + 1)); done
    gzip -n -c "$CAP/$name.back.pcap" >"$CAP/rotated/$name.back.pcap.gz"
    # zstd/: the same rotated set as tcpdump -z zstd leaves it (every file but the last one
    # compressed) and the back file in zstd blocks of about 1.3 KB (so that a copy cut short
    # still has whole blocks before the cut)
    for i in 0 1 2 3; do zstd -q -19 -c "$CAP/rotated/$name.front.pcap$i" >"$CAP/zstd/$name.front.pcap$i.zst"; done
    cp "$CAP/rotated/$name.front.pcap4" "$CAP/zstd/$name.front.pcap4"
    zstd -q -19 --target-compressed-block-size=1340 -c "$CAP/$name.back.pcap" >"$CAP/zstd/$name.back.pcap.zst"
    "$PY" "$TOOLS/split_legs.py" facts --name "$name" --dir "$CAP" --work "$d" --fix "$SPLIT_FIX" \
        --proxy-json "$SPLIT_PROXY_JSON" --rotated --tshark-out "$CAP/split/$name.tshark.txt" \
        --file "$name.front.pcap|front|0|proxy namespace, interface front0 (198.51.100.10), tcpdump -i front0 'tcp port 80'" \
        --file "$name.back.pcap|back|0|backend namespace, interface eth0 (10.0.0.20), tcpdump -i eth0 'tcp port 8080 or tcp port 8765'" \
        --file "$name.back-skewed.pcap|back|$skew|$name.back.pcap through editcap -t +$skew"
    fact --file "$name.front.pcap" --software "$SPLIT_SW; tcpdump -i front0 in the proxy namespace" \
        --shows "the client leg of a proxy only, as captured on the proxy's front address: $SPLIT_WHAT; its upstream leg is in $name.back.pcap" \
        "${SPLIT_FRONT_STREAMS[@]}" --note-file "$d/$name.front.pcap.details.json" \
        --note "one of the two files of a split capture (details.split_legs); the rotated set rotated/$name.front.pcap0.. holds the same packets"
    fact --file "$name.back.pcap" --software "$SPLIT_SW; tcpdump -i eth0 in the backend namespace" \
        --shows "$SPLIT_BACK_WHAT; its client leg is in $name.front.pcap" \
        "${SPLIT_BACK_STREAMS[@]}" --note-file "$d/$name.back.pcap.details.json" \
        --note "the upstream connections use ephemeral client ports; their bytes come from the backend's own logs (tools/proxy_backend.py, ws_server.py --log)"
    fact --file "$name.back-skewed.pcap" --software "editcap -t +$skew from $name.back.pcap" \
        --shows "$name.back.pcap with every timestamp $skew s later, as from a backend host whose clock is ahead: to line it up with $name.front.pcap add -$skew s" \
        "${SPLIT_BACK_STREAMS[@]}" --note-file "$d/$name.back-skewed.pcap.details.json"
    scenario_cleanup
}

# The same exchange with the client leg captured ON THE CLIENT, behind a NAT: the client
# 192.0.2.1 talks to a virtual address 203.0.113.80; tools/nat_box.py maps them to
# 198.51.100.50 and the proxy's 198.51.100.10, so the client file and the back file share no
# address at all (nginx logs 198.51.100.50 and sends X-Forwarded-For: 198.51.100.50). A copy
# of the client file 0.35 s behind (the client's clock late: correction +0.35 s).
scenario_split_nginx_nat() {
    log "a proxy's two legs on two hosts, client leg captured on the client behind a NAT"
    local name=split-nginx-nat skew=-0.35 d=$WORK/split-nginx-nat
    split_nginx_run "$name" nat 40211
    editcap -F pcap -t "$skew" "$CAP/$name.client.pcap" "$CAP/$name.client-skewed.pcap"
    tr '\n' ' ' <"$WORK/nat.stats" >"$d/nat.txt"
    "$PY" "$TOOLS/split_legs.py" facts --name "$name" --dir "$CAP" --work "$d" --fix "$SPLIT_FIX" \
        --proxy-json "$SPLIT_PROXY_JSON" --tshark-out "$CAP/split/$name.tshark.txt" \
        --nat 192.0.2.1=198.51.100.50 --nat 203.0.113.80=198.51.100.10 \
        --file "$name.client.pcap|front|0|client namespace, interface eth0 (192.0.2.1, before the NAT), tcpdump -i eth0 'tcp port 80'" \
        --file "$name.back.pcap|back|0|backend namespace, interface eth0 (10.0.0.20), tcpdump -i eth0 'tcp port 8080 or tcp port 8765'" \
        --file "$name.client-skewed.pcap|front|$skew|$name.client.pcap through editcap -t $skew"
    fact --file "$name.client.pcap" --software "$SPLIT_SW; tcpdump -i eth0 in the client namespace" \
        --shows "the client leg of a proxy only, as captured on the client behind a NAT (192.0.2.1 -> the virtual address 203.0.113.80:80; nginx sees 198.51.100.50 -> 198.51.100.10): $SPLIT_WHAT; its upstream leg is in $name.back.pcap" \
        "${SPLIT_FRONT_STREAMS[@]}" --note-file "$d/$name.client.pcap.details.json" \
        --note "nat_box.py counters: $(cat "$d/nat.txt")"
    fact --file "$name.back.pcap" --software "$SPLIT_SW; tcpdump -i eth0 in the backend namespace" \
        --shows "$SPLIT_BACK_WHAT; X-Forwarded-For / X-Real-IP say 198.51.100.50 (the client's address after the NAT); its client leg is in $name.client.pcap" \
        "${SPLIT_BACK_STREAMS[@]}" --note-file "$d/$name.back.pcap.details.json" \
        --note "the upstream connections use ephemeral client ports; their bytes come from the backend's own logs (tools/proxy_backend.py, ws_server.py --log)"
    fact --file "$name.client-skewed.pcap" --software "editcap -t $skew from $name.client.pcap" \
        --shows "$name.client.pcap with every timestamp ${skew#-} s earlier, as from a client whose clock is late: to line it up with $name.back.pcap's clock add +${skew#-} s" \
        "${SPLIT_FRONT_STREAMS[@]}" --note-file "$d/$name.client-skewed.pcap.details.json"
    scenario_cleanup
}

# One client and one server on two hosts, each capturing the same connections (the client on
# its interface, the server on its interface and on `any`), the wire between them 3 ms each
# way; the server's file is then moved by a known offset as from a host whose clock is off.
# Issue 16 item 4: one connection seen twice is analysed once, and its segments give the
# offset (`same-connection`).
scenario_same_conn_two_hosts() {
    log "one connection captured on both of its hosts (and on the server's 'any'); server clock skewed"
    local name=samec d=$WORK/same-conn skew=1.75
    mkdir -p "$d"
    wire_topology "$name" 192.0.2 --delay-ms 3
    http_server_start "$NSP-$name-b" 192.0.2.2 8000 "$d/www"
    tcpdump_start "$NSP-$name-a" "$CAP/same-conn.client.pcap" -i tap-a "tcp port 8000"
    tcpdump_start "$NSP-$name-b" "$CAP/same-conn.server.pcap" -i tap-b "tcp port 8000"
    tcpdump_start "$NSP-$name-b" "$CAP/same-conn.server-any.pcap" -i any "tcp port 8000"
    curl_run "$NSP-$name-a" "$d/c1" --local-port 40301 http://192.0.2.2:8000/hello.txt http://192.0.2.2:8000/big.txt
    curl_run "$NSP-$name-a" "$d/c2" --local-port 40302 http://192.0.2.2:8000/hello.txt
    curl_run "$NSP-$name-a" "$d/c3" --local-port 40303 -H 'X-Request-Id: samec-3' http://192.0.2.2:8000/big.txt
    tcpdump_stop_all
    editcap -F pcap -t "$skew" "$CAP/same-conn.server.pcap" "$CAP/same-conn.server-skewed.pcap"
    local streams=(--stream "192.0.2.1:40301 192.0.2.2:8000 $d/c1 curl--trace"
                   --stream "192.0.2.1:40302 192.0.2.2:8000 $d/c2 curl--trace"
                   --stream "192.0.2.1:40303 192.0.2.2:8000 $d/c3 curl--trace")
    local sw="Python 3.11 http.server (HTTP/1.1) + curl 7.88 in two namespaces joined by tools/wire.py --delay-ms 3"
    fact --file same-conn.client.pcap --software "$sw; tcpdump -i tap-a in the client namespace" \
        --shows "3 connections (4 GETs) as the client saw them; the same connections are in same-conn.server.pcap and same-conn.server-any.pcap" "${streams[@]}"
    fact --file same-conn.server.pcap --software "$sw; tcpdump -i tap-b in the server namespace" \
        --shows "the same 3 connections as the server saw them, each segment 3 ms after (client to server) or before (server to client) same-conn.client.pcap's" "${streams[@]}"
    fact --file same-conn.server-any.pcap --software "$sw; tcpdump -i any in the server namespace (Linux cooked capture)" \
        --shows "the same 3 connections again, on the server's clock, link type LINUX_SLL2 or LINUX_SLL" "${streams[@]}"
    fact --file same-conn.server-skewed.pcap --software "editcap -t $skew from same-conn.server.pcap" \
        --shows "same-conn.server.pcap with every timestamp $skew s later, as from a server whose clock is ahead: to line it up with same-conn.client.pcap add -$skew s (within the 3 ms wire delay)" "${streams[@]}"
    scenario_cleanup
}

# Existing single-file proxy samples cut into their two legs by tools/split_legs.py (from the
# checked-in captures in samples/, not re-recorded), one file's clock moved by a known offset:
# samples/split/NAME.{front,back}.pcap and samples/split/split.json (what each file holds,
# its true clock correction, its streams and the proxy_legs copied from expected.json).
# Not part of a full run (it reads the finished samples and expected.json): after re-recording
# the four sources, run `samples/record.sh split_samples`.
SPLIT_SAMPLES=("websocket-nginx-ok 127.0.0.1:8081 127.0.0.1:8767 0.5"
               "websocket-nginx-broken 127.0.0.1:8081 127.0.0.1:8768 -2.5"
               "http-nginx-keepalive-mix 127.0.0.1:8082 127.0.0.1:8775 3.25"
               "http-proxy-chain 127.0.0.1:8889 127.0.0.1:8085 0.042"
               "http-proxy-leak 127.0.0.1:8086 127.0.0.1:8779 -1.1"
               "websocket-apache-broken 127.0.0.1:8084 127.0.0.1:8777 2.0"
               "websocket-connect-tinyproxy 127.0.0.1:8891 127.0.0.1:8781,127.0.0.1:8782 -0.75"
               "websocket-haproxy 127.0.0.1:8083 127.0.0.1:8776 1.5"
               "websocket-nginx-http11-no-upgrade 127.0.0.1:8081 127.0.0.1:8774 -3.0"
               "websocket-socks5 127.0.0.1:1082 127.0.0.1:8780 0.25")

scenario_split_samples() {
    log "existing proxy samples split into front/back files (tools/split_legs.py)"
    local spec d=$WORK/splits
    mkdir -p "$d" "$CAP/split"
    for spec in "${SPLIT_SAMPLES[@]}"; do
        set -- $spec
        if [ -e "$CAP/$1.pcap" ]; then echo "split_samples: $1 was re-recorded in this run; run split_samples on its own afterwards" >&2; return 1; fi
    done
    for spec in "${SPLIT_SAMPLES[@]}"; do
        set -- $spec
        local ups=() u
        for u in ${3//,/ }; do ups+=(--upstream "$u"); done
        "$PY" "$TOOLS/split_legs.py" split "$HERE/$1.pcap" --proxy "$2" "${ups[@]}" \
            --front "$CAP/split/$1.front.pcap" --back "$CAP/split/$1.back.pcap" --shift-back "$4" \
            --facts "$d/$1.json" --source-facts "$HERE/expected.json"
    done
    "$PY" - "$d" "$CAP/split/split.json" "${SPLIT_SAMPLES[@]}" <<'PYEOF2'
import json, sys
d, out, specs = sys.argv[1], sys.argv[2], sys.argv[3:]
doc = {"about": "Single-file proxy samples split into their two legs by samples/tools/split_legs.py "
                "split (record.sh scenario split_samples): for each, the front file (connections to "
                "the proxy's listen address), the back file (connections to the upstream given), the "
                "shift applied to the back file's clock and the correction to ADD to line it up "
                "(clock_offset_s = -shift; the front file keeps the original clock), the streams of "
                "expected.json that each file holds, and the source's proxy_legs for that proxy "
                "(front in the front file, back in the back file).",
       "splits": [json.load(open(f"{d}/{s.split()[0]}.json")) for s in specs]}
json.dump(doc, open(out, "w"), indent=1)
open(out, "a").write("\n")
PYEOF2
    local f
    for f in "$CAP"/split/*.pcap; do
        { echo "### split/$(basename "$f"): tshark -q -z conv,tcp"; tshark -r "$f" -q -z conv,tcp
          echo "### split/$(basename "$f"): HTTP requests and responses"
          tshark -r "$f" -Y http -T fields -E occurrence=f -e frame.number -e frame.time_epoch -e ip.src -e tcp.srcport \
              -e ip.dst -e tcp.dstport -e http.request.method -e http.request.uri -e http.response.code
          echo; } >>"$CAP/split/split.tshark.txt"
    done
}

# ---------------------------------------------------------------------------------------------
# Captures derived from recorded ones by the checked-in tools (need http_loopback first)

scenario_derived() {
    log "derived captures: big-endian, overlap, ip fragments, corrupt"
    local src=$CAP/http-keepalive.pcap
    local s="127.0.0.1:40001 127.0.0.1:8080 $WORK/lo4/curl"
    if [ ! -e "$src" ] || [ ! -e "$WORK/lo4/curl.sent" ]; then
        echo "scenario_derived needs scenario_http_loopback in the same run" >&2
        return 1
    fi
    "$PY" "$TOOLS/pcap_swap_endian.py" "$src" "$CAP/http-bigendian.pcap"
    fact --file http-bigendian.pcap --software "tools/pcap_swap_endian.py from http-keepalive.pcap" \
        --shows "same packets as http-keepalive.pcap, big-endian pcap headers (magic bytes a1 b2 c3 d4)" \
        --stream "$s curl--trace"

    "$PY" "$TOOLS/resegment.py" "$src" "$CAP/tcp-overlap.pcap" --seed 11 --max-piece 300 --facts "$WORK/overlap.json"
    fact --file tcp-overlap.pcap --software "tools/resegment.py --seed 11 from http-keepalive.pcap" \
        --shows "the keep-alive stream's data re-cut into overlapping, duplicated, shuffled segments (same bytes); rewritten segments have correct checksums" \
        --stream "$s curl--trace" --note-file "$WORK/overlap.json"
    "$PY" "$TOOLS/resegment.py" "$src" "$CAP/tcp-overlap-conflict.pcap" --seed 11 --max-piece 300 --conflict \
        --facts "$WORK/conflict.json" --alt-prefix "$WORK/conflict-last"
    fact --file tcp-overlap-conflict.pcap --software "tools/resegment.py --seed 11 --max-piece 300 --conflict from http-keepalive.pcap" \
        --shows "as tcp-overlap.pcap, plus one later segment whose overlap carries DIFFERENT bytes than the first copy (see notes)" \
        --stream "$s resegment.py-first-copy-wins" --note-file "$WORK/conflict.json" \
        --alt-stream "$WORK/conflict-last last-copy-wins"

    "$PY" "$TOOLS/ipfrag.py" "$src" "$CAP/tcp-fragments.pcap" --min-payload 800 --frag-size 552 \
        --facts "$WORK/tcpfrag.json"
    fact --file tcp-fragments.pcap --software "tools/ipfrag.py from http-keepalive.pcap" \
        --shows "same exchange, every IPv4 packet with more than 800 bytes of TCP payload split into IPv4 fragments of at most 552 data bytes, as for a 576-byte MTU (last fragment first for the first such packet)" \
        --stream "$s curl--trace" --note-file "$WORK/tcpfrag.json"

    "$PY" "$TOOLS/corrupt.py" "$src" "$CAP/corrupt-truncated.pcap" "$CAP/corrupt-garbage.pcap" \
        --facts "$WORK/corrupt"
    fact --file corrupt-truncated.pcap --software "tools/corrupt.py: http-keepalive.pcap cut inside a packet record" \
        --shows "a pcap file that ends in the middle of a packet's data" --note-file "$WORK/corrupt.truncated.json"
    fact --file corrupt-garbage.pcap --software "tools/corrupt.py: valid header + first packet of http-keepalive.pcap, then a record header with caplen 0x7fffffff" \
        --shows "a record header announcing an absurd captured length" --note-file "$WORK/corrupt.garbage.json"
}

# Both peers of one WebSocket break RFC 6455 §5.1 again and again (issue 19): raw sockets, the
# client's frames unmasked (3, then 1 more after the server's), the server's masked (20).
scenario_websocket_both_bad() {
    log "websocket: both peers break RFC 6455 5.1 repeatedly (raw sockets)"
    local name=websocket-both-bad ns=$NSP-wsboth port=8773
    ns_new wsboth
    start_bg ip netns exec "$ns" "$PY" "$TOOLS/ws_both_bad.py" server 127.0.0.1 $port
    wait_for "ws_both_bad server" listening "$ns" $port
    tcpdump_start "$ns" "$CAP/$name.pcap" -i lo "tcp port $port"
    ip netns exec "$ns" "$PY" "$TOOLS/ws_both_bad.py" client 127.0.0.1:$port
    sleep 0.5
    tcpdump_stop_all
    fact --file $name.pcap --software "tools/ws_both_bad.py raw-socket WebSocket client and server (frames built byte by byte), tcpdump -i lo" \
        --shows "one WebSocket after a real upgrade: the client sends 3 unmasked text frames, the server 20 masked ones, the client 1 more unmasked, then a clean close (client masked, server unmasked); each frame written on its own (the kernel still put some of the server's in one packet). RFC 6455 5.1 broken by both peers, repeatedly, on one conversation"
    scenario_cleanup
}

ALL=(http_loopback http_ipv6 websocket_echo websocket_deflate http_proxy socks5 http_vlan http_qinq
     tcp_reorder_midstream udp_fragments derived
     http_pipelining http_chunked http_100_continue http_encodings http10_close
     websocket_nginx_ok websocket_nginx_broken http_smuggling http_proxy_auth socks4 socks5_auth
     http_cache_range websocket_features websocket_deflate_contexts
     websocket_bad h2c_upgrade connect_tls http_cookies_auth_redirect cookies_two_names cl_servers_disagree hostile_escapes
     browser_cors
     websocket_nginx_http11_no_upgrade http_nginx_keepalive_mix websocket_haproxy websocket_apache_broken
     http_proxy_chain http_proxy_leak websocket_socks5 websocket_connect_tinyproxy websocket_browser
     tls13_curl_nginx tls12_curl_nginx tls_wss_python tls_chromium tls13_openssl_keyupdate_ccm tls13_dsb
     tls_connect_tinyproxy tls_socks5_microsocks
     h2_curl_nginx_tls h2_prior_knowledge h2_small_window h2c_upgrade_curl
     h2_front_http1_back h2_websocket_rfc8441 h2_semantics_curl
     h2_chromium split_nginx_ws split_nginx_nat same_conn_two_hosts websocket_both_bad)

main() {
    [ "$(id -u)" = 0 ] || { echo "record.sh needs root" >&2; exit 1; }
    local list=("$@")
    [ ${#list[@]} -gt 0 ] || list=("${ALL[@]}")
    local sc
    for sc in "${list[@]}"; do
        "scenario_$sc"
        scenario_cleanup
    done
    cp -R "$CAP"/. "$OUT"/
    "$PY" "$TOOLS/facts.py" finish --facts "$FACTS" --dir "$OUT"
    log "done: $(ls "$CAP" | wc -l) captures written to $OUT"
}

main "$@"
