#!/usr/bin/env python3
"""Make two deliberately broken pcap files from a good one.

truncated: the good file cut in the middle of the data of a packet record (the 6th record,
           half of its captured bytes kept), so the last record header promises more bytes than
           the file holds.
garbage:   the good file's global header and first record, then a record header whose
           incl_len (caplen) is 0x7fffffff, followed by 64 bytes of 0xAB.

Writes FACTS.truncated.json / FACTS.garbage.json with the byte offsets where each goes wrong.

Usage: corrupt.py GOOD.pcap TRUNCATED.pcap GARBAGE.pcap --facts PREFIX
"""
import argparse
import json
import struct


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("good")
    ap.add_argument("truncated")
    ap.add_argument("garbage")
    ap.add_argument("--facts", required=True)
    ap.add_argument("--record", type=int, default=6, help="1-based record to cut (truncated)")
    a = ap.parse_args()
    buf = open(a.good, "rb").read()
    e = "<" if buf[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    offsets = []  # (record header offset, incl_len)
    off = 24
    while off + 16 <= len(buf):
        incl = struct.unpack_from(e + "I", buf, off + 8)[0]
        offsets.append((off, incl))
        off += 16 + incl
    rec_off, incl = offsets[a.record - 1]
    cut = rec_off + 16 + incl // 2
    open(a.truncated, "wb").write(buf[:cut])
    json.dump({"summary": f"file is {cut} bytes; packet record {a.record} starts at byte offset "
                          f"{rec_off} and announces incl_len {incl}, but only {incl // 2} of its "
                          f"data bytes are present (the file ends at offset {cut}); "
                          f"{a.record - 1} complete packets precede it",
               "file_bytes": cut, "complete_packets": a.record - 1,
               "bad_record_offset": rec_off, "bad_record_incl_len": incl,
               "bad_record_bytes_present": incl // 2},
              open(a.facts + ".truncated.json", "w"), indent=1)

    first_off, first_incl = offsets[0]
    g_off = first_off + 16 + first_incl
    bad = buf[:g_off] + struct.pack(e + "IIII", struct.unpack_from(e + "I", buf, first_off)[0],
                                    0, 0x7FFFFFFF, 0x7FFFFFFF) + b"\xab" * 64
    open(a.garbage, "wb").write(bad)
    json.dump({"summary": f"file is {len(bad)} bytes; 1 good packet, then the record header at "
                          f"byte offset {g_off} announces incl_len 0x7fffffff (orig_len 0x7fffffff), "
                          f"followed by only 64 bytes of 0xAB",
               "file_bytes": len(bad), "complete_packets": 1, "bad_record_offset": g_off,
               "bad_record_incl_len": 0x7FFFFFFF},
              open(a.facts + ".garbage.json", "w"), indent=1)


if __name__ == "__main__":
    main()
