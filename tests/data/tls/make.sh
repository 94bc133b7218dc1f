#!/bin/sh
# Makes the TLS record-decryption test data: one OpenSSL s_client -> s_server connection per
# cipher suite on loopback, captured with tcpdump, with the client's own key log
# (-keylogfile). Run as root (tcpdump), from anywhere; rewrites the files beside this script.
#
# The client sends REQUEST, then BODY (40 lines), and, in TLS 1.3 captures named *-keyupdate,
# a KeyUpdate (s_client's "K" command, update requested, so the server updates too) and one
# more line. s_server -rev echoes each line reversed, so both directions carry data.
#
# For each NAME:
#   NAME.pcap       the capture
#   NAME.keys       the key log s_client wrote (NSS format)
#   NAME.txt        what the tests read: "c HEX" / "s HEX" lines, the TCP payload of each
#                   segment client->server / server->client in capture order (tshark follow,tcp);
#                   then "C HEX" / "S HEX" lines, the application data tshark decrypted with the
#                   key log (follow,tls): an independent oracle.
#   NAME.sent       the exact bytes the client wrote into the connection.
#
# Needs openssl (3.0), tcpdump, tshark, python3.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/key.pem" -out "$work/cert.pem" \
    -days 3650 -subj /CN=hopscope.test 2>/dev/null
port=44300

REQUEST='GET /hello HTTP/1.1\r\nHost: hopscope.test\r\n\r\n'
body() {
    i=0
    while [ $i -lt 40 ]; do
        printf 'line %02d of the body, long enough to need a few AES blocks: 0123456789abcdef\r\n' $i
        i=$((i + 1))
    done
}
LAST='after the key update\r\n'

# capture NAME CLIENT-AND-SERVER-OPTIONS...
capture() {
    name=$1
    shift
    port=$((port + 1))
    rm -f "$here/$name.keys"
    tcpdump -i lo -U -s 0 -w "$work/$name.pcap" "tcp port $port" 2>/dev/null &
    dump=$!
    openssl s_server -accept $port -cert "$work/cert.pem" -key "$work/key.pem" -naccept 1 -rev \
        "$@" >"$work/$name.server.log" 2>&1 &
    server=$!
    sleep 1
    {
        printf "$REQUEST" | tee "$work/$name.sent"
        sleep 1
        body | tee -a "$work/$name.sent"
        sleep 1
        case $name in
        *-keyupdate)
            printf 'K\n'
            sleep 1
            printf "$LAST" | tee -a "$work/$name.sent"
            sleep 1
            ;;
        esac
    } | openssl s_client -connect 127.0.0.1:$port -keylogfile "$here/$name.keys" "$@" \
        >"$work/$name.client.log" 2>&1 || true
    wait $server || true
    sleep 1
    kill $dump
    wait $dump || true
    cp "$work/$name.pcap" "$work/$name.sent" "$here/"
    python3 - "$here/$name" $port <<'EOF'
import subprocess, sys
base, port = sys.argv[1], sys.argv[2]

def follow(kind, extra):
    out = subprocess.run(["tshark", "-r", base + ".pcap", "-d", "tcp.port==%s,tls" % port, *extra, "-q", "-z", "follow,%s,raw,0" % kind],
                         check=True, capture_output=True, text=True).stdout
    lines, first = [], None
    for line in out.splitlines():
        if line.startswith("Node 0: "):
            first = "server" if line.endswith(":" + port) else "client"
        elif line and all(c in "0123456789abcdef\t" for c in line):
            node1 = line.startswith("\t")
            client = (first == "client") != node1
            lines.append((client, line.strip()))
    return lines

with open(base + ".txt", "w") as f:
    f.write("# by make.sh: c/s = TCP payload per segment client->server / server->client; "
            "C/S = application data tshark decrypted with the key log\n")
    for client, hexdata in follow("tcp", []):
        f.write("%s %s\n" % ("c" if client else "s", hexdata))
    for client, hexdata in follow("tls", ["-o", "tls.keylog_file:" + base + ".keys"]):
        f.write("%s %s\n" % ("C" if client else "S", hexdata))
EOF
    echo "$name: $(grep -c '^[cs]' "$here/$name.txt") segments, $(grep -c '^[CS]' "$here/$name.txt") decrypted by tshark"
}

L0='@SECLEVEL=0'
# TLS 1.2 AEAD
capture tls12-ecdhe-rsa-aes128-gcm -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256
capture tls12-ecdhe-rsa-aes256-gcm -tls1_2 -cipher ECDHE-RSA-AES256-GCM-SHA384
capture tls12-ecdhe-rsa-chacha20 -tls1_2 -cipher ECDHE-RSA-CHACHA20-POLY1305
capture tls12-rsa-aes128-ccm -tls1_2 -cipher AES128-CCM
capture tls12-dhe-rsa-aes256-ccm -tls1_2 -cipher DHE-RSA-AES256-CCM
capture tls12-rsa-aes128-ccm8 -tls1_2 -cipher AES128-CCM8
capture tls12-rsa-aes256-ccm8 -tls1_2 -cipher AES256-CCM8
# TLS 1.2 CBC, encrypt-then-MAC (OpenSSL's default) and MAC-then-encrypt (-no_etm)
capture tls12-rsa-aes128-sha-etm -tls1_2 -cipher AES128-SHA
capture tls12-rsa-aes128-sha-mte -tls1_2 -cipher AES128-SHA -no_etm
capture tls12-rsa-aes256-sha256-etm -tls1_2 -cipher AES256-SHA256
capture tls12-rsa-aes256-sha256-mte -tls1_2 -cipher AES256-SHA256 -no_etm
capture tls12-ecdhe-rsa-aes256-sha384-etm -tls1_2 -cipher ECDHE-RSA-AES256-SHA384
capture tls12-ecdhe-rsa-aes256-sha384-mte -tls1_2 -cipher ECDHE-RSA-AES256-SHA384 -no_etm
# NULL cipher (MAC only)
capture tls12-rsa-null-sha256 -tls1_2 -cipher "NULL-SHA256:$L0"
# TLS 1.0 (chained CBC IV, MD5/SHA-1 PRF) and 1.1 (explicit IV, MD5/SHA-1 PRF)
capture tls10-rsa-aes128-sha-mte -tls1 -cipher "AES128-SHA:$L0" -no_etm
capture tls10-rsa-aes256-sha-etm -tls1 -cipher "AES256-SHA:$L0"
capture tls11-rsa-aes128-sha-mte -tls1_1 -cipher "AES128-SHA:$L0" -no_etm
# a suite hopscope names but does not decrypt
capture tls12-rsa-camellia128-sha -tls1_2 -cipher "CAMELLIA128-SHA:$L0"
# TLS 1.3, all five suites; KeyUpdate in both directions on the first
capture tls13-aes128-gcm-keyupdate -tls1_3 -ciphersuites TLS_AES_128_GCM_SHA256
capture tls13-aes256-gcm -tls1_3 -ciphersuites TLS_AES_256_GCM_SHA384
capture tls13-chacha20-keyupdate -tls1_3 -ciphersuites TLS_CHACHA20_POLY1305_SHA256
capture tls13-aes128-ccm -tls1_3 -ciphersuites TLS_AES_128_CCM_SHA256
capture tls13-aes128-ccm8 -tls1_3 -ciphersuites TLS_AES_128_CCM_8_SHA256
