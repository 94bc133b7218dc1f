#!/usr/bin/env python3
"""Copy the first PCT percent (by bytes) of a classic pcap, cut at a record boundary."""
import struct
import sys

src, pct, dst = sys.argv[1], float(sys.argv[2]), sys.argv[3]
with open(src, "rb") as f:
    hdr = f.read(24)
    magic = struct.unpack("<I", hdr[:4])[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    f.seek(0, 2)
    target = int(f.tell() * pct / 100)
    f.seek(24)
    pos = 24
    while pos < target:
        rh = f.read(16)
        if len(rh) < 16:
            break
        incl = struct.unpack(endian + "IIII", rh)[2]
        f.seek(incl, 1)
        pos += 16 + incl
with open(src, "rb") as f, open(dst, "wb") as out:
    left = pos
    while left > 0:
        chunk = f.read(min(left, 1 << 24))
        if not chunk:
            break
        out.write(chunk)
        left -= len(chunk)
print(f"{dst}: {pos} bytes", file=sys.stderr)
