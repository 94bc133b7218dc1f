#!/usr/bin/env python3
"""A userspace "wire" between two network namespaces, for recording samples.

Why it exists: the kernel on the recording machine has neither 802.1Q VLAN devices
(CONFIG_VLAN_8021Q) nor netem (CONFIG_NET_SCH_NETEM), so `ip link add ... type vlan` and
`tc qdisc ... netem` are not available. This tool plays both roles with real kernel TCP/IP
stacks on either end:

    ns A (client)            this process (in ns M)                           ns B (server)
    tap-a  <--fd-->  [tag, impair] --AF_PACKET--> trunk-a ==veth== trunk-b --AF_PACKET--> [untag] <--fd--> tap-b
           <--fd--   [untag]      <--AF_PACKET--  trunk-a ==veth== trunk-b <--AF_PACKET-- [tag, impair] <--fd--

Every Ethernet frame the client or server kernel sends leaves its TAP device, gets the
configured VLAN tag(s) pushed and the configured impairment applied, and really crosses the
veth pair trunk-a/trunk-b (a trunk link) before the tags are popped and the frame is handed to
the other kernel. tcpdump on trunk-a therefore sees tagged (and/or impaired) frames in both
directions, exactly as they crossed the trunk.

Impairment (like netem "delay D reorder R duplicate P loss L"), applied on entry to the trunk
in both directions and only to IPv4 TCP segments without SYN (so ARP and the handshake are
never disturbed) and not to the first --grace data-carrying segments of each direction
(those pass at once, so a capture started before the data flows sees each direction start
with its lowest sequence number): each frame is dropped with probability L, otherwise held
for D ms, except that with probability R it is sent at once (overtaking held frames); with
probability P a second copy is sent. A fixed --seed makes the random choices repeatable (timing is not).

The taps are created here, in ns M, then moved into ns A and ns B (`ip link set ... netns`);
the file descriptors stay with this process. A --ready file is written once they are moved.
Stops on SIGTERM/SIGINT.
"""

import argparse
import fcntl
import heapq
import os
import random
import select
import signal
import socket
import struct
import subprocess
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000
ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_AUXDATA = 8
PACKET_OUTGOING = 4
TP_STATUS_VLAN_VALID = 0x10
TP_STATUS_VLAN_TPID_VALID = 0x40


def open_tap(name):
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TAP | IFF_NO_PI))
    return fd


def packet_socket(ifname):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
    s.bind((ifname, 0))
    return s


def tag_bytes(spec):
    if spec == "none":
        return b""
    parts = spec.split(":")
    if parts[0] == "vlan":
        return struct.pack("!HH", 0x8100, int(parts[1]))
    if parts[0] == "qinq":
        return struct.pack("!HHHH", 0x88A8, int(parts[1]), 0x8100, int(parts[2]))
    raise SystemExit(f"bad --tag {spec}")


def recv_frame(sock):
    """Receive one incoming frame; re-insert the tag the kernel moved into metadata."""
    data, anc, _flags, addr = sock.recvmsg(65535, socket.CMSG_SPACE(20))
    if addr[2] == PACKET_OUTGOING:
        return None
    for level, typ, cdata in anc:
        if level == SOL_PACKET and typ == PACKET_AUXDATA and len(cdata) >= 20:
            status, _len, _snap, _mac, _net, tci, tpid = struct.unpack("IIIHHHH", cdata[:20])
            if status & TP_STATUS_VLAN_VALID:
                if not status & TP_STATUS_VLAN_TPID_VALID:
                    tpid = 0x8100
                data = data[:12] + struct.pack("!HH", tpid, tci) + data[12:]
    return data


def tcp_kind(frame, ntags):
    """None if not an impairable frame (not IPv4 TCP, or SYN); else True if it carries data."""
    off = 12 + 4 * ntags
    if len(frame) < off + 2 + 20 or frame[off:off + 2] != b"\x08\x00":
        return None
    ip = off + 2
    if frame[ip + 9] != 6:
        return None
    ihl = (frame[ip] & 0x0F) * 4
    tcp = ip + ihl
    if len(frame) < tcp + 14 or frame[tcp + 13] & 0x02:  # SYN
        return None
    total = struct.unpack_from("!H", frame, ip + 2)[0]
    return total - ihl - (frame[tcp + 12] >> 4) * 4 > 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tap-a", required=True)
    ap.add_argument("--tap-b", required=True)
    ap.add_argument("--ns-a", required=True)
    ap.add_argument("--ns-b", required=True)
    ap.add_argument("--trunk-a", required=True)
    ap.add_argument("--trunk-b", required=True)
    ap.add_argument("--tag", default="none", help="none | vlan:ID | qinq:OUTER:INNER")
    ap.add_argument("--delay-ms", type=float, default=0.0)
    ap.add_argument("--reorder", type=float, default=0.0)
    ap.add_argument("--dup", type=float, default=0.0)
    ap.add_argument("--loss", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--grace", type=int, default=0,
                    help="pass the first N data-carrying segments of each direction at once and "
                         "unimpaired, so the first data a capture sees in each direction is the "
                         "lowest sequence number")
    ap.add_argument("--ready", required=True)
    ap.add_argument("--stats", help="write counters here on exit")
    a = ap.parse_args()

    tags = tag_bytes(a.tag)
    ntags = len(tags) // 4
    rng = random.Random(a.seed)
    fd_a, fd_b = open_tap(a.tap_a), open_tap(a.tap_b)
    subprocess.run(["ip", "link", "set", a.tap_a, "netns", a.ns_a], check=True)
    subprocess.run(["ip", "link", "set", a.tap_b, "netns", a.ns_b], check=True)
    sk_a, sk_b = packet_socket(a.trunk_a), packet_socket(a.trunk_b)
    # A frame read from tap X goes out on trunk X; a frame arriving on trunk X goes into tap X.
    out_of = {fd_a: sk_a, fd_b: sk_b}
    tap_of = {sk_a: fd_a, sk_b: fd_b}
    data_seen = {fd_a: 0, fd_b: 0}
    stats = {"forwarded": 0, "dropped": 0, "duplicated": 0, "early": 0, "bad_tag": 0}
    queue = []  # (due, counter, socket, frame)
    counter = 0
    running = True

    def stop(*_):
        nonlocal running
        running = False

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    with open(a.ready, "w") as f:
        f.write("ready\n")

    while running:
        now = time.monotonic()
        while queue and queue[0][0] <= now:
            _, _, sk, frame = heapq.heappop(queue)
            sk.send(frame)
        timeout = max(0.0, queue[0][0] - now) if queue else 0.5
        try:
            ready, _, _ = select.select([fd_a, fd_b, sk_a, sk_b], [], [], timeout)
        except InterruptedError:
            continue
        for r in ready:
            if r in out_of:
                frame = os.read(r, 65535)
                frame = frame[:12] + tags + frame[12:]
                sk = out_of[r]
                copies, delay = 1, 0.0
                kind = tcp_kind(frame, ntags)
                if kind:
                    data_seen[r] += 1
                if kind is not None and data_seen[r] > a.grace:
                    if rng.random() < a.loss:
                        stats["dropped"] += 1
                        continue
                    if rng.random() < a.dup:
                        copies = 2
                        stats["duplicated"] += 1
                    delay = a.delay_ms / 1000.0
                    if rng.random() < a.reorder:
                        delay = 0.0
                        stats["early"] += 1
                for _ in range(copies):
                    counter += 1
                    heapq.heappush(queue, (time.monotonic() + delay, counter, sk, frame))
                stats["forwarded"] += 1
            else:
                frame = recv_frame(r)
                if frame is None:
                    continue
                if frame[12:12 + len(tags)] != tags:
                    stats["bad_tag"] += 1
                    continue
                os.write(tap_of[r], frame[:12] + frame[12 + len(tags):])
        now = time.monotonic()
        while queue and queue[0][0] <= now:
            _, _, sk, frame = heapq.heappop(queue)
            sk.send(frame)
    if a.stats:
        with open(a.stats, "w") as f:
            for k, v in stats.items():
                f.write(f"{k}={v}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
