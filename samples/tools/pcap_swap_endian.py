#!/usr/bin/env python3
"""Rewrite a classic pcap file with the other byte order in its headers.

The global header (magic, version, thiszone, sigfigs, snaplen, linktype) and every record
header (ts_sec, ts_usec/ts_nsec, incl_len, orig_len) are byte-swapped; packet bytes are copied
unchanged. Reading the result must give exactly the same packets and timestamps.

Usage: pcap_swap_endian.py IN.pcap OUT.pcap
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pcaplib import Pcap  # noqa: E402


def main():
    p = Pcap.read(sys.argv[1])
    p.endian = ">" if p.endian == "<" else "<"
    p.write(sys.argv[2])


if __name__ == "__main__":
    main()
