"""Minimal classic-pcap reading/writing and IPv4/TCP helpers for the sample tools.

Only what the tools in samples/tools need: little- or big-endian classic pcap (micro or nano),
Ethernet / LINUX_SLL / LINUX_SLL2 framing, IPv4 and TCP header parsing and checksums.
Standard library only.
"""

import struct

MAGIC_US = 0xA1B2C3D4
MAGIC_NS = 0xA1B23C4D

LINKTYPE_NAMES = {0: "NULL", 1: "EN10MB", 101: "RAW", 113: "LINUX_SLL", 276: "LINUX_SLL2"}


class Pcap:
    """A classic pcap file held in memory: header fields plus a list of records."""

    def __init__(self, endian="<", nano=False, snaplen=262144, linktype=1, version=(2, 4),
                 thiszone=0, sigfigs=0):
        self.endian = endian
        self.nano = nano
        self.snaplen = snaplen
        self.linktype = linktype
        self.version = version
        self.thiszone = thiszone
        self.sigfigs = sigfigs
        # each record: [ts_sec, ts_frac, orig_len, data(bytes)]
        self.records = []

    @classmethod
    def read(cls, path):
        with open(path, "rb") as f:
            buf = f.read()
        (magic_le,) = struct.unpack_from("<I", buf, 0)
        (magic_be,) = struct.unpack_from(">I", buf, 0)
        if magic_le in (MAGIC_US, MAGIC_NS):
            e, magic = "<", magic_le
        elif magic_be in (MAGIC_US, MAGIC_NS):
            e, magic = ">", magic_be
        else:
            raise ValueError(f"{path}: not a classic pcap file")
        vmaj, vmin, zone, sigfigs, snaplen, linktype = struct.unpack_from(e + "HHiIII", buf, 4)
        p = cls(e, magic == MAGIC_NS, snaplen, linktype, (vmaj, vmin), zone, sigfigs)
        off = 24
        while off + 16 <= len(buf):
            sec, frac, incl, orig = struct.unpack_from(e + "IIII", buf, off)
            off += 16
            if off + incl > len(buf):
                raise ValueError(f"{path}: truncated record at offset {off - 16}")
            p.records.append([sec, frac, orig, buf[off:off + incl]])
            off += incl
        if off != len(buf):
            raise ValueError(f"{path}: {len(buf) - off} trailing bytes")
        return p

    def header_bytes(self):
        magic = MAGIC_NS if self.nano else MAGIC_US
        return struct.pack(self.endian + "IHHiIII", magic, self.version[0], self.version[1],
                           self.thiszone, self.sigfigs, self.snaplen, self.linktype)

    def to_bytes(self):
        out = [self.header_bytes()]
        for sec, frac, orig, data in self.records:
            out.append(struct.pack(self.endian + "IIII", sec, frac, len(data), orig))
            out.append(data)
        return b"".join(out)

    def write(self, path):
        with open(path, "wb") as f:
            f.write(self.to_bytes())


def l3_offset(linktype, frame):
    """Offset of the network-layer header and its ethertype, or (None, None)."""
    if linktype == 1:
        off = 12
        (et,) = struct.unpack_from(">H", frame, off)
        off += 2
        while et in (0x8100, 0x88A8) and len(frame) >= off + 4:
            (et,) = struct.unpack_from(">H", frame, off + 2)
            off += 4
        return off, et
    if linktype == 113:
        (et,) = struct.unpack_from(">H", frame, 14)
        return 16, et
    if linktype == 276:
        (et,) = struct.unpack_from(">H", frame, 0)
        return 20, et
    if linktype == 101:
        return 0, 0x0800 if frame[0] >> 4 == 4 else 0x86DD
    return None, None


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ipv4_header_checksum(hdr):
    h = bytearray(hdr)
    h[10:12] = b"\0\0"
    return csum(bytes(h))


def tcp_checksum_v4(src, dst, segment):
    seg = bytearray(segment)
    seg[16:18] = b"\0\0"
    pseudo = src + dst + struct.pack("!BBH", 0, 6, len(seg))
    return csum(pseudo + bytes(seg))


class IPv4TCP:
    """Parsed view of an Ethernet(+VLAN)/IPv4/TCP frame; rebuild() writes a fresh frame."""

    def __init__(self, linktype, frame):
        off, et = l3_offset(linktype, frame)
        if off is None or et != 0x0800:
            raise ValueError("not IPv4")
        self.l2 = frame[:off]
        ip = frame[off:]
        ihl = (ip[0] & 0x0F) * 4
        total = struct.unpack_from("!H", ip, 2)[0]
        if ip[9] != 6:
            raise ValueError("not TCP")
        self.iphdr = bytearray(ip[:ihl])
        seg = ip[ihl:total]
        doff = (seg[12] >> 4) * 4
        self.tcphdr = bytearray(seg[:doff])
        self.payload = bytes(seg[doff:])
        self.src = bytes(self.iphdr[12:16])
        self.dst = bytes(self.iphdr[16:20])
        self.sport, self.dport, self.seq, self.ack = struct.unpack_from("!HHII", self.tcphdr, 0)
        self.flags = self.tcphdr[13]

    def rebuild(self, seq=None, payload=None, ip_id=None):
        tcph = bytearray(self.tcphdr)
        if seq is not None:
            struct.pack_into("!I", tcph, 4, seq)
        pl = self.payload if payload is None else payload
        iph = bytearray(self.iphdr)
        struct.pack_into("!H", iph, 2, len(iph) + len(tcph) + len(pl))
        if ip_id is not None:
            struct.pack_into("!H", iph, 4, ip_id)
        struct.pack_into("!H", iph, 10, ipv4_header_checksum(iph))
        seg = bytes(tcph) + pl
        struct.pack_into("!H", tcph, 16, tcp_checksum_v4(self.src, self.dst, seg))
        return bytes(self.l2) + bytes(iph) + bytes(tcph) + pl
