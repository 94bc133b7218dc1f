#!/usr/bin/env bash
# Regenerates docs/report.schema.json: reports of every sample and corpus capture (JSON with
# --bodies --frames, NDJSON, a few multi-input runs), read by tools/report_schema.py.
#   tools/report_schema.sh            # then review `git diff docs/report.schema.json`
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cargo build --quiet
hs=target/debug/hopscope
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
i=0
for f in samples/*.pcap samples/*.pcapng samples/*/*.pcap samples/*/*.pcapng samples/rotated/* ../shared/corpus/zeek/*.pcap* ../shared/corpus/suricata-verify/*.pcap*; do
  [ -f "$f" ] || continue
  i=$((i + 1))
  keys=()
  [ -e "${f%.*}.keys" ] && keys=(--tls-keylog "${f%.*}.keys")
  timeout 60 "$hs" report "$f" --bodies --frames "${keys[@]}" --no-progress >"$out/$i.json" 2>/dev/null || true
  timeout 60 "$hs" report "$f" --format ndjson "${keys[@]}" --no-progress >"$out/$i.ndjson" 2>/dev/null || true
done
"$hs" report samples/same-conn.client.pcap samples/same-conn.server-skewed.pcap samples/same-conn.server-any.pcap --bodies >"$out/m1.json" 2>/dev/null || true
"$hs" report samples/split-nginx-ws.front.pcap samples/split-nginx-ws.back-skewed.pcap --format ndjson >"$out/m2.ndjson" 2>/dev/null || true
"$hs" report samples/split-nginx-nat.client-skewed.pcap samples/split-nginx-nat.back.pcap --clock-offset samples/split-nginx-nat.back.pcap=0.5 >"$out/m3.json" 2>/dev/null || true
"$hs" report samples/http-proxy-chain.pcap --tcp-only >"$out/m4.json"
"$hs" report samples/corrupt-truncated.pcap samples/no-such-file.pcap >"$out/m5.json" 2>/dev/null || true
python3 tools/report_schema.py "$out" >docs/report.schema.json
echo "docs/report.schema.json from $i captures"
