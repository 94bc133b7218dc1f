#!/usr/bin/env python3
"""A stateless 1:1 NAT between two interfaces, in userspace (the recording kernel has no
iptables/nftables and no tc act_nat), for samples whose client leg is seen through NAT.

  nat_box.py --inside IF --outside IF --inside-peer-mac MAC --outside-peer-mac MAC
             --map INSIDE_IP=OUTSIDE_IP... [--ready FILE] [--stats FILE]

Runs in its own namespace, whose kernel has no address on either interface (so it neither
answers nor forwards anything itself). Every IPv4 TCP frame read on one interface (AF_PACKET)
is rewritten and written out of the other one:
  inside -> outside: source and destination addresses translated by the --map pairs
      (INSIDE_IP -> OUTSIDE_IP, e.g. the client 192.0.2.1 -> 198.51.100.50 and the virtual
      address 203.0.113.80 -> the proxy 198.51.100.10); Ethernet destination =
      --outside-peer-mac, source = the outside interface's own MAC;
  outside -> inside: the reverse mapping; destination MAC --inside-peer-mac.
IPv4 header and TCP checksums are recomputed; ports are not touched. Other frames (ARP,
IPv6, ...) are dropped: both ends use static neighbour entries. Stops on SIGTERM/SIGINT.
"""
import argparse
import ipaddress
import os
import select
import signal
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pcaplib import csum  # noqa: E402

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


def mac(s):
    return bytes(int(x, 16) for x in s.split(":"))


def rewrite(frame, table, dst_mac, src_mac):
    if len(frame) < 34 or frame[12:14] != b"\x08\x00":
        return None
    ip = bytearray(frame[14:])
    ihl = (ip[0] & 0x0F) * 4
    total = struct.unpack_from("!H", ip, 2)[0]
    if ip[9] != 6 or total > len(ip):
        return None
    ip = ip[:total]
    ip[12:16] = table.get(bytes(ip[12:16]), bytes(ip[12:16]))
    ip[16:20] = table.get(bytes(ip[16:20]), bytes(ip[16:20]))
    ip[10:12] = b"\0\0"
    struct.pack_into("!H", ip, 10, csum(bytes(ip[:ihl])))
    seg = bytearray(ip[ihl:])
    seg[16:18] = b"\0\0"
    pseudo = bytes(ip[12:20]) + struct.pack("!BBH", 0, 6, len(seg))
    struct.pack_into("!H", seg, 16, csum(pseudo + bytes(seg)))
    return dst_mac + src_mac + b"\x08\x00" + bytes(ip[:ihl]) + bytes(seg)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--inside", required=True)
    ap.add_argument("--outside", required=True)
    ap.add_argument("--inside-peer-mac", required=True)
    ap.add_argument("--outside-peer-mac", required=True)
    ap.add_argument("--map", action="append", required=True)
    ap.add_argument("--ready")
    ap.add_argument("--stats")
    a = ap.parse_args()
    fwd, rev = {}, {}
    for m in a.map:
        i, o = (ipaddress.IPv4Address(x).packed for x in m.split("="))
        fwd[i], rev[o] = o, i
    socks = {}
    for name in (a.inside, a.outside):
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        s.bind((name, 0))
        socks[name] = s
    own = {n: open(f"/sys/class/net/{n}/address").read().strip() for n in socks}
    route = {a.inside: (socks[a.outside], fwd, mac(a.outside_peer_mac), mac(own[a.outside])),
             a.outside: (socks[a.inside], rev, mac(a.inside_peer_mac), mac(own[a.inside]))}
    stats = {"inside_to_outside": 0, "outside_to_inside": 0, "dropped": 0}
    running = [True]

    def stop(*_):
        running[0] = False
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if a.ready:
        open(a.ready, "w").close()
    by_fd = {s.fileno(): n for n, s in socks.items()}
    while running[0]:
        try:
            r, _, _ = select.select(list(by_fd), [], [], 0.2)
        except InterruptedError:
            continue
        for fd in r:
            name = by_fd[fd]
            frame, addr = socks[name].recvfrom(65535)
            if addr[2] == PACKET_OUTGOING:
                continue
            out, table, dmac, smac = route[name]
            f = rewrite(frame, table, dmac, smac)
            if f is None:
                stats["dropped"] += 1
                continue
            out.send(f)
            stats["inside_to_outside" if name == a.inside else "outside_to_inside"] += 1
    if a.stats:
        with open(a.stats, "w") as f:
            f.write(" ".join(f"{k}={v}" for k, v in stats.items()) + "\n")


if __name__ == "__main__":
    main()
