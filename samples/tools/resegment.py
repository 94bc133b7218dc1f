#!/usr/bin/env python3
"""Re-cut one TCP connection of a capture into overlapping, duplicated, shuffled segments.

Input: a classic pcap (Ethernet/SLL/SLL2, IPv4) holding one complete, clean TCP connection
(the first SYN in the file picks it). The stream bytes of each direction are rebuilt from the
original segments (which must not have gaps). Every original data segment is then replaced by
a group of new segments that carry the SAME bytes with different boundaries:

- the segment's range is cut at random points (pieces of 1..--max-piece bytes);
- for each piece after the first, with probability 0.35 an extra segment is added that overlaps
  the boundary (starts inside the previous piece, ends inside this one);
- each piece is duplicated exactly with probability 0.15;
- with probability 0.3 per group, an extra segment re-sends up to 100 bytes that precede the
  group (overlapping the previous group of the same direction) plus the group's first bytes;
- the group's segments are shuffled (random.Random(--seed)), so later bytes can come first.

Non-data packets (handshake, pure ACKs, FINs) are kept where they were. Each new segment keeps
the original segment's headers (ports, ACK number, flags, TCP options) with a new sequence
number; IPv4 total length, IP ID, the IPv4 header checksum and the TCP checksum are recomputed
(so checksums in the output are correct). All copies of any byte are identical, so the expected
stream bytes are exactly the original ones.

--conflict additionally appends, after the last group of the longest server->client segment,
one segment lying wholly inside bytes already sent, whose middle 16 bytes are replaced by
b"CONFLICT-CONFLICT"[:16]: the first copy of those bytes (in file order) is the original, the
later copy differs. The offset and both versions are written to --facts; --alt-prefix writes the
streams as they would be if the LAST copy won (PREFIX.sent / PREFIX.recv).

Usage: resegment.py IN.pcap OUT.pcap [--seed N] [--max-piece N] [--conflict]
                    [--facts F.json] [--alt-prefix P]
"""
import argparse
import hashlib
import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pcaplib import IPv4TCP, Pcap  # noqa: E402

SYN, FIN, RST = 0x02, 0x01, 0x04
CONFLICT = b"CONFLICT-CONFLICT"[:16]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("inp")
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--max-piece", type=int, default=700)
    ap.add_argument("--conflict", action="store_true")
    ap.add_argument("--facts")
    ap.add_argument("--alt-prefix")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    cap = Pcap.read(a.inp)

    parsed = []
    for rec in cap.records:
        try:
            parsed.append(IPv4TCP(cap.linktype, rec[3]))
        except ValueError:
            parsed.append(None)
    syn = next(p for p in parsed if p and p.flags & SYN and not p.flags & 0x10)
    client = (syn.src, syn.sport)
    server = (syn.dst, syn.dport)

    def direction(p):
        if p is None:
            return None
        if (p.src, p.sport) == client and (p.dst, p.dport) == server:
            return "c"
        if (p.src, p.sport) == server and (p.dst, p.dport) == client:
            return "s"
        return None

    isn = {}
    for p in parsed:
        d = direction(p)
        if d and p.flags & SYN and d not in isn:
            isn[d] = p.seq
    # stream bytes per direction
    stream = {"c": bytearray(), "s": bytearray()}
    for p in parsed:
        d = direction(p)
        if d and p.payload:
            off = (p.seq - isn[d] - 1) & 0xFFFFFFFF
            buf = stream[d]
            if off > len(buf):
                raise SystemExit("input has a gap; need a clean capture")
            end = off + len(p.payload)
            if off < len(buf):
                assert buf[off:min(end, len(buf))] == p.payload[:min(end, len(buf)) - off]
            buf[off:end] = p.payload
    stream = {k: bytes(v) for k, v in stream.items()}

    # index of the data segment that gets the conflicting copy: longest server->client one
    conflict_at = None
    if a.conflict:
        best = -1
        for i, p in enumerate(parsed):
            if direction(p) == "s" and len(p.payload) > best:
                best, conflict_at = len(p.payload), i

    out = Pcap(cap.endian, cap.nano, cap.snaplen, cap.linktype, cap.version)
    ip_id = 0x2000
    stats = {"original_data_segments": 0, "new_data_segments": 0, "exact_duplicates": 0,
             "boundary_overlaps": 0, "backward_overlaps": 0}
    conflict_fact = None
    for i, (rec, p) in enumerate(zip(cap.records, parsed)):
        d = direction(p)
        if not d or not p.payload:
            out.records.append(list(rec))
            continue
        stats["original_data_segments"] += 1
        start = (p.seq - isn[d] - 1) & 0xFFFFFFFF
        end = start + len(p.payload)
        cuts = [start]
        while cuts[-1] < end:
            cuts.append(min(end, cuts[-1] + rng.randint(1, a.max_piece)))
        pieces = list(zip(cuts, cuts[1:]))
        segs = []
        for k, (s0, e0) in enumerate(pieces):
            segs.append((s0, e0))
            if rng.random() < 0.15:
                segs.append((s0, e0))
                stats["exact_duplicates"] += 1
            if k > 0 and rng.random() < 0.35:
                ps, pe = pieces[k - 1]
                segs.append((rng.randint(ps, pe - 1), rng.randint(s0 + 1, e0)))
                stats["boundary_overlaps"] += 1
        if start > 0 and rng.random() < 0.3:
            segs.append((max(0, start - rng.randint(1, 100)), min(end, start + rng.randint(1, 50))))
            stats["backward_overlaps"] += 1
        rng.shuffle(segs)
        flags_no_fin = p.flags & ~FIN  # a FIN riding on data stays only on the last byte's copy
        base_ts = rec[0] * (10**9 if cap.nano else 10**6) + rec[1]
        per = 10**9 if cap.nano else 10**6
        for j, (s0, e0) in enumerate(segs):
            q = IPv4TCP(cap.linktype, rec[3])
            q.tcphdr[13] = flags_no_fin if (p.flags & FIN and e0 != end) else p.flags
            seq = (isn[d] + 1 + s0) & 0xFFFFFFFF
            frame = q.rebuild(seq=seq, payload=stream[d][s0:e0], ip_id=ip_id)
            ip_id += 1
            out.records.append([base_ts // per, base_ts % per, len(frame), frame])
            stats["new_data_segments"] += 1
        if i == conflict_at:
            # a segment wholly inside bytes already sent by this group, crossing a piece boundary
            mid = pieces[len(pieces) // 2][0]
            s0, e0 = max(start, mid - 40), min(end, mid + 40)
            cs = s0 + (e0 - s0 - len(CONFLICT)) // 2
            payload = bytearray(stream[d][s0:e0])
            original = bytes(payload[cs - s0:cs - s0 + len(CONFLICT)])
            payload[cs - s0:cs - s0 + len(CONFLICT)] = CONFLICT
            q = IPv4TCP(cap.linktype, rec[3])
            q.tcphdr[13] = p.flags & ~FIN
            frame = q.rebuild(seq=(isn[d] + 1 + s0) & 0xFFFFFFFF, payload=bytes(payload), ip_id=ip_id)
            ip_id += 1
            out.records.append([base_ts // per, base_ts % per, len(frame), frame])
            stats["new_data_segments"] += 1
            conflict_fact = {
                "direction": "server_to_client",
                "frame_number": len(out.records),
                "segment_stream_offset": s0, "segment_length": e0 - s0,
                "conflict_stream_offset": cs, "conflict_length": len(CONFLICT),
                "first_copy_hex": original.hex(), "first_copy_text": original.decode("latin-1"),
                "later_copy_hex": CONFLICT.hex(), "later_copy_text": CONFLICT.decode(),
                "note": "stream offsets count from the first payload byte of the direction "
                        "(relative seq - 1); the first copy (earlier frames) is the original"}
            if a.alt_prefix:
                alt = bytearray(stream["s"])
                alt[cs:cs + len(CONFLICT)] = CONFLICT
                open(a.alt_prefix + ".sent", "wb").write(stream["c"])
                open(a.alt_prefix + ".recv", "wb").write(bytes(alt))
    out.write(a.out)

    facts = dict(stats, seed=a.seed, max_piece=a.max_piece,
                 client_bytes=len(stream["c"]), server_bytes=len(stream["s"]),
                 client_sha256=hashlib.sha256(stream["c"]).hexdigest(),
                 server_sha256=hashlib.sha256(stream["s"]).hexdigest(),
                 checksums="IPv4 header and TCP checksums recomputed (correct)")
    summary = (f"{stats['original_data_segments']} data segments became "
               f"{stats['new_data_segments']} ({stats['exact_duplicates']} exact duplicates, "
               f"{stats['boundary_overlaps']} boundary overlaps, "
               f"{stats['backward_overlaps']} overlaps into the previous group), seed {a.seed}")
    if conflict_fact:
        facts["conflict"] = conflict_fact
        summary += (f"; CONFLICT: frame {conflict_fact['frame_number']} re-sends server->client "
                    f"stream offsets {conflict_fact['segment_stream_offset']}.."
                    f"{conflict_fact['segment_stream_offset'] + conflict_fact['segment_length']} with "
                    f"{conflict_fact['conflict_length']} bytes at offset "
                    f"{conflict_fact['conflict_stream_offset']} changed from "
                    f"{conflict_fact['first_copy_text']!r} (first copy) to "
                    f"{conflict_fact['later_copy_text']!r}")
    facts["summary"] = summary
    if a.facts:
        with open(a.facts, "w") as f:
            json.dump(facts, f, indent=1)


if __name__ == "__main__":
    main()
