#!/usr/bin/env python3
"""Split the larger IPv4/TCP packets of a capture into IPv4 fragments.

Real TCP stacks set DF and never fragment, so TCP-in-fragments is made from a real capture:
every IPv4 packet carrying more than --min-payload bytes of TCP payload is first rebuilt with
correct IPv4 and TCP checksums, then its IP payload (TCP header + data) is cut into fragments
of --frag-size bytes (a multiple of 8; the last one shorter), DF cleared, MF and the fragment
offset set, a fresh IP ID (0x3000 + n) given to each fragmented packet and the IPv4 header
checksum recomputed. The fragments of the FIRST fragmented packet are written in reverse order
(last fragment first); all others in order. Fragments share the original timestamp. Other
packets are copied unchanged. The TCP stream bytes are therefore exactly the original ones.

Usage: ipfrag.py IN.pcap OUT.pcap [--min-payload N] [--frag-size N] [--facts F.json]
"""
import argparse
import json
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pcaplib import IPv4TCP, Pcap, ipv4_header_checksum  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("inp")
    ap.add_argument("out")
    ap.add_argument("--min-payload", type=int, default=1000)
    ap.add_argument("--frag-size", type=int, default=1480)
    ap.add_argument("--facts")
    a = ap.parse_args()
    if a.frag_size % 8:
        raise SystemExit("--frag-size must be a multiple of 8")
    cap = Pcap.read(a.inp)
    out = Pcap(cap.endian, cap.nano, cap.snaplen, cap.linktype, cap.version)
    fragmented = []
    for n, rec in enumerate(cap.records, 1):
        try:
            p = IPv4TCP(cap.linktype, rec[3])
        except ValueError:
            out.records.append(list(rec))
            continue
        if len(p.payload) <= a.min_payload:
            out.records.append(list(rec))
            continue
        ip_id = 0x3000 + len(fragmented)
        frame = p.rebuild(ip_id=ip_id)
        l2 = frame[:len(p.l2)]
        ip = frame[len(p.l2):]
        ihl = (ip[0] & 0x0F) * 4
        hdr, body = bytearray(ip[:ihl]), ip[ihl:]
        frags = []
        for off in range(0, len(body), a.frag_size):
            chunk = body[off:off + a.frag_size]
            h = bytearray(hdr)
            more = off + a.frag_size < len(body)
            struct.pack_into("!H", h, 2, ihl + len(chunk))
            struct.pack_into("!H", h, 6, (0x2000 if more else 0) | (off // 8))
            struct.pack_into("!H", h, 10, ipv4_header_checksum(h))
            frags.append(bytes(l2) + bytes(h) + chunk)
        order = "reverse" if not fragmented else "in order"
        if not fragmented:
            frags.reverse()
        for f in frags:
            out.records.append([rec[0], rec[1], len(f), f])
        fragmented.append({"original_frame": n, "ip_id": ip_id, "tcp_payload": len(p.payload),
                           "fragments": len(frags), "order": order,
                           "first_output_frame": len(out.records) - len(frags) + 1})
    out.write(a.out)
    summary = "; ".join(f"frame {f['original_frame']} ({f['tcp_payload']} B TCP payload) -> "
                        f"{f['fragments']} fragments, IP ID 0x{f['ip_id']:04x}, {f['order']}, "
                        f"output frames {f['first_output_frame']}.."
                        f"{f['first_output_frame'] + f['fragments'] - 1}" for f in fragmented)
    if a.facts:
        with open(a.facts, "w") as fh:
            json.dump({"summary": summary, "fragmented_packets": fragmented,
                       "frag_size": a.frag_size,
                       "checksums": "IPv4 and TCP checksums of the fragmented packets "
                                    "recomputed (correct)"}, fh, indent=1)


if __name__ == "__main__":
    main()
