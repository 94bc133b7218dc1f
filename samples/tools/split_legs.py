#!/usr/bin/env python3
"""A proxy's two legs in two files, as if captured on two hosts.

  split_legs.py split IN.pcap --proxy IP:PORT [--upstream IP:PORT]... --front OUT --back OUT
                [--shift-back SECONDS] [--shift-front SECONDS] [--facts JSON]
                [--source-facts EXPECTED.json]
      Splits a single-file proxy capture (classic pcap, Ethernet / SLL / SLL2 / RAW, IPv4 or
      IPv6, TCP) by leg: every packet to or from the proxy's listen address IP:PORT goes to the
      front file; every packet to or from one of the --upstream servers (or, without
      --upstream, every other TCP packet) goes to the back file. Other packets are dropped
      and counted. --shift-back / --shift-front add SECONDS to every timestamp of that file
      (a host whose clock is ahead: positive). --facts writes what was done: the packets and
      connections of each file, and each file's true clock correction (clock_offset_s: the
      seconds to ADD to that file's timestamps to line it up with the input's clock, i.e.
      minus the shift). --source-facts: the input's entry in samples/expected.json; its streams
      go to the file that holds their connection (files[].streams, same fields: client, server,
      bytes and SHA-256 of each direction) and its details.proxy_legs whose front server is
      the --proxy address are copied (proxy_legs: front in the front file, back in the back
      file); a source without proxy_legs and with one stream per leg gets that one pair.

  split_legs.py facts --name NAME --dir CAPDIR --work DIR --fix TEXT --tshark-out TXT
                      --proxy-json JSON --file "FILE|LEG|SHIFT|CAPTURED-ON"... [--nat IN=OUT]... [--rotated]
      The facts of record.sh's split-nginx-* scenarios (details.split_legs of their files),
      from the programs' logs (DIR/legs.json from tools/proxy_legs.py, nginx's access log
      DIR/logs/legs.log), checked against each other and against tshark; also describes the
      rotated set (CAPDIR/rotated/NAME.front.pcapN) and the gzipped back file.
"""
import argparse
import gzip
import hashlib
import ipaddress
import json
import os
import re
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pcaplib import Pcap, l3_offset  # noqa: E402


def endpoint(ip, port):
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def tcp_endpoints(linktype, frame):
    """(src, dst) 'ip:port' of a TCP packet, or None."""
    try:
        off, et = l3_offset(linktype, frame)
    except struct.error:
        return None
    if off is None:
        return None
    ip = frame[off:]
    if et == 0x0800 and len(ip) >= 20 and ip[9] == 6:
        ihl = (ip[0] & 0x0F) * 4
        src, dst = str(ipaddress.IPv4Address(ip[12:16])), str(ipaddress.IPv4Address(ip[16:20]))
        frag = struct.unpack_from("!H", ip, 6)[0] & 0x1FFF
        if frag:
            return None
        tcp = ip[ihl:]
    elif et == 0x86DD and len(ip) >= 40 and ip[6] == 6:
        src, dst = str(ipaddress.IPv6Address(ip[8:24])), str(ipaddress.IPv6Address(ip[24:40]))
        tcp = ip[40:]
    else:
        return None
    if len(tcp) < 4:
        return None
    sp, dp = struct.unpack_from("!HH", tcp, 0)
    return endpoint(src, sp), endpoint(dst, dp)


def shift(p, seconds):
    """Add seconds to every record's timestamp (micro or nano pcap)."""
    unit = 10**9 if p.nano else 10**6
    delta = round(seconds * unit)
    for r in p.records:
        t = r[0] * unit + r[1] + delta
        r[0], r[1] = divmod(t, unit)


def conns(p):
    seen = {}
    for r in p.records:
        e = tcp_endpoints(p.linktype, r[3])
        if e:
            key = tuple(sorted(e))
            seen.setdefault(key, e)
    return [{"a": a, "b": b} for a, b in seen.values()]


def cmd_split(a):
    src = Pcap.read(a.input)
    ups = set(a.upstream or [])
    front, back = (Pcap(src.endian, src.nano, src.snaplen, src.linktype, src.version, src.thiszone,
                        src.sigfigs) for _ in range(2))
    dropped = 0
    for r in src.records:
        e = tcp_endpoints(src.linktype, r[3])
        if e is None:
            dropped += 1
        elif a.proxy in e:
            front.records.append(list(r))
        elif (ups and (e[0] in ups or e[1] in ups)) or (not ups):
            back.records.append(list(r))
        else:
            dropped += 1
    if not front.records or not back.records:
        raise SystemExit(f"split_legs: {a.input}: front {len(front.records)} packets, "
                         f"back {len(back.records)}: nothing to split")
    shift(front, a.shift_front)
    shift(back, a.shift_back)
    front.write(a.front)
    back.write(a.back)
    if a.facts:
        def desc(p, path, leg, s):
            return {"file": os.path.basename(path), "leg": leg, "packets": len(p.records),
                    "tcp_connections": conns(p), "shifted_by_s": s,
                    "clock_offset_s": -s if s else 0.0}
        files = [desc(front, a.front, "front", a.shift_front), desc(back, a.back, "back", a.shift_back)]
        legs = []
        if a.source_facts:
            with open(a.source_facts) as f:
                entry = next(e for e in json.load(f)["captures"]
                             if e["file"] == os.path.basename(a.input))
            keep = ("client", "server", "client_bytes", "server_bytes", "client_sha256",
                    "server_sha256", "source")
            for fd in files:
                eps = {(c["a"], c["b"]) for c in fd["tcp_connections"]}
                eps |= {(b, a_) for a_, b in eps}
                fd["streams"] = [{k: st[k] for k in keep if k in st}
                                 for st in entry.get("streams", []) if (st["client"], st["server"]) in eps]
            legs = [l for l in entry.get("details", {}).get("proxy_legs", [])
                    if l["front"]["server"] == a.proxy]
            fs, bs = files[0]["streams"], files[1]["streams"]
            if not legs and len(fs) == 1 and len(bs) == 1:
                # samples recorded before proxy_legs existed (websocket-nginx-ok/-broken): one
                # connection, one request on each leg
                legs = [{"front": {"client": fs[0]["client"], "server": fs[0]["server"], "index": 0},
                         "back": {"client": bs[0]["client"], "server": bs[0]["server"], "index": 0},
                         "matched_by": "the only request of the only connection of each leg"}]
        out = {"split_of": os.path.basename(a.input), "proxy_listen": a.proxy,
               "upstreams": sorted(ups) or "every TCP connection not to the proxy's listen address",
               "dropped_packets": dropped, "reference_clock": "the input file's",
               "files": files,
               "how": "samples/tools/split_legs.py split: packets to/from the proxy's listen address "
                      "-> front; to/from the upstream servers -> back; --shift-* added to every "
                      "timestamp of that file (clock_offset_s = the correction to ADD)"}
        if a.source_facts:
            out["proxy_legs"] = legs
        with open(a.facts, "w") as f:
            json.dump(out, f, indent=1)
            f.write("\n")


# --------------------------------------------------------------------------------------------
# facts of record.sh's scenario_split_nginx_ws

DECODE = ["-d", "tcp.port==8765,http"]   # the WebSocket backend's port, for tshark's HTTP dissector


def run(*args):
    if args[0] == "tshark":
        args = (args[0], *DECODE, *args[1:])
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def tshark_requests(path):
    """[{time, client, server, method, uri, request_id}] as tshark shows the HTTP requests."""
    out = run("tshark", "-r", path, "-Y", "http.request", "-T", "fields", "-E", "occurrence=f",
              "-e", "frame.number", "-e", "frame.time_epoch", "-e", "ip.src", "-e", "tcp.srcport",
              "-e", "ip.dst", "-e", "tcp.dstport", "-e", "http.request.method",
              "-e", "http.request.uri", "-e", "http.request.line")
    reqs = []
    for line in out.splitlines():
        fr, t, s, sp, d, dp, m, u = line.split("\t")[:8]
        lines = line.split("\t")[8] if len(line.split("\t")) > 8 else ""
        # -E occurrence=f keeps the first request line only; ask again for X-Request-Id
        reqs.append({"frame": int(fr), "time": t, "client": f"{s}:{sp}", "server": f"{d}:{dp}",
                     "method": m, "uri": u})
    out = run("tshark", "-r", path, "-Y", "http.request", "-T", "fields", "-E", "occurrence=a",
              "-E", "aggregator=|", "-e", "frame.number", "-e", "http.request.line")
    rid = {}
    for line in out.splitlines():
        fr, hl = (line.split("\t") + [""])[:2]
        m = re.search(r"X-Request-Id: ([0-9a-f]{32})", hl, re.I)
        if m:
            rid[int(fr)] = m[1]
    for r in reqs:
        r["request_id"] = rid.get(r["frame"])
    return reqs


def pcap_records(path):
    return [(r[0], r[1], r[3]) for r in Pcap.read(path).records]


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def cmd_facts(a):
    name, cap, d = a.name, a.dir, a.work
    files = []
    for spec in a.file:
        fn, leg, sh, on = spec.split("|")
        files.append({"file": fn, "leg": leg, "captured_on": on, "clock_offset_s": -float(sh) if float(sh) else 0.0,
                      "shifted_by_s": float(sh)})
    ref = files[0]
    assert ref["leg"] == "front" and ref["shifted_by_s"] == 0
    front_f = ref["file"]
    back_f = next(f["file"] for f in files if f["leg"] == "back" and f["shifted_by_s"] == 0)
    nat = dict(m.split("=") for m in a.nat or [])
    legs = json.load(open(os.path.join(d, "legs.json")))["proxy_legs"]
    rx = re.compile(r'^(\S+):(\d+) (\d+) (\d+) ([0-9a-f]{32}) (\d+) "([^"]*)" (\S+) (\S+) (\S+)$')
    log = []
    for line in open(os.path.join(d, "logs", "legs.log")):
        m = rx.match(line.rstrip("\n"))
        assert m, line
        log.append({"client": f"{m[1]}:{m[2]}", "nginx_connection": int(m[3]),
                    "connection_requests": int(m[4]), "request_id": m[5], "status": int(m[6]),
                    "request": m[7], "upstream_addr": None if m[8] == "-" else m[8],
                    "upstream_status": None if m[9] == "-" else int(m[9]), "msec": m[10]})
    treq = {f["file"]: tshark_requests(os.path.join(cap, f["file"])) for f in files}
    pairs = []
    for l in legs:
        f = l["front"]
        ip, port = f["client"].rsplit(":", 1)
        seen_by_nginx = f"{nat.get(ip, ip)}:{port}"
        e = [x for x in log if x["client"] == seen_by_nginx and x["connection_requests"] == f["index"] + 1]
        assert len(e) == 1, (f, e)
        e = e[0]
        assert e["status"] == l["front_status"], (l, e)
        p = dict(l)
        p["nginx_saw_client"] = seen_by_nginx
        p["nginx_request_id"] = e["request_id"]
        p["nginx_upstream_addr"] = e["upstream_addr"]
        uri = l["front_request_line"].split(" ")[1]
        p["location"] = ("/ws-ok/" if uri.startswith("/ws-ok/") else "/ws-broken/"
                         if uri.startswith("/ws-broken/") else "/api/" if uri.startswith("/api/")
                         else "= /local")
        p["websocket_upgrade_requested"] = l["front_request_line"].startswith("GET /ws-")
        if l["back"] is None:
            assert e["upstream_addr"] is None, (l, e)
        else:
            assert e["request_id"] == l["request_id"], (l, e)
            assert e["upstream_addr"] == l["back"]["server"], (l, e)
            assert e["upstream_status"] == l["back_status"], (l, e)
        # when each leg's request is on the wire in each file (tshark: the frame it shows the
        # request in, i.e. its last segment)
        p["request_in_files"] = {}
        for fd in files:
            if fd["leg"] == "front":
                fr = [r for r in treq[fd["file"]] if r["client"] == f["client"]]
                assert len(fr) > f["index"], (f, fr)
                hit = fr[f["index"]]
            elif l["back"] is not None:
                br = [r for r in treq[fd["file"]] if r["request_id"] == l["request_id"]]
                assert len(br) == 1 and br[0]["client"] == l["back"]["client"], (l, br)
                hit = br[0]
            else:
                continue
            p["request_in_files"][fd["file"]] = {"frame": hit["frame"], "time_epoch": hit["time"]}
        p["front_request_time_epoch"] = p["request_in_files"][front_f]["time_epoch"]
        if l["back"] is not None:
            p["back_request_time_epoch"] = p["request_in_files"][back_f]["time_epoch"]
            p["proxy_latency_s"] = round(float(p["back_request_time_epoch"])
                                         - float(p["front_request_time_epoch"]), 6)
            assert 0 <= p["proxy_latency_s"] < 0.5, p
        pairs.append(p)
    dropped, working = [], []
    for p in pairs:
        if not p["websocket_upgrade_requested"]:
            continue
        item = {"location": p["location"], "front": p["front"], "back": p["back"],
                "request_id": p["request_id"], "front_status": p["front_status"],
                "back_status": p["back_status"], "back_request_line": p["back_request_line"]}
        if p["location"] == "/ws-broken/":
            assert p["front_status"] != 101 and "upgrade" in [h.lower() for h in p["headers_removed"]], p
            item["nginx_fix"] = a.fix
            item["what_happened"] = ("nginx's default proxy_pass sent the handshake upstream as "
                                     f"'{p['back_request_line']}' without Upgrade (Connection: close); "
                                     f"the backend answered {p['back_status']}, the client got "
                                     f"{p['front_status']}")
            dropped.append(item)
        else:
            assert p["front_status"] == 101 and p["back_status"] == 101, p
            working.append(item)
    assert len(dropped) == 1 and len(working) == 1
    common = {
        "proxy": json.loads(a.proxy_json),
        "files": files,
        "file_sets": [[front_f] + [f["file"] for f in files[1:] if f["leg"] == "back"]],
        "reference_clock": f"{front_f}'s (every tcpdump ran on one kernel clock, so the unshifted "
                           f"files need 0; clock_offset_s = the seconds to ADD to a file's timestamps "
                           f"to line it up with the reference)",
        "pairs": pairs,
        "dropped_upgrades": dropped,
        "working_upgrades": working,
        "answered_by_proxy": [{"front": p["front"], "request_line": p["front_request_line"],
                               "status": p["front_status"], "location": p["location"]}
                              for p in pairs if p["back"] is None],
        "nginx_access_log": log,
        "nginx_access_log_agrees": True,
        "how": "pairs: tools/proxy_legs.py from the client's and the backend's logs (curl --trace, "
               "ws_client.py, proxy_backend.py, ws_server.py), checked against nginx's access log "
               "($request_id, $upstream_addr, $upstream_status) and against tshark's view of every "
               "file (front request frame by client port and index, back by X-Request-Id)",
    }
    shifted = [f for f in files if f["shifted_by_s"]]
    common["file_sets"] = ([[front_f, back_f]]
                           + [[f["file"], back_f] if f["leg"] == "front" else [front_f, f["file"]]
                              for f in shifted])
    if nat:
        common["nat"] = {"inside_to_outside": nat, "how": "tools/nat_box.py (stateless 1:1, userspace)"}
    if a.rotated:
        # the rotated set and the gzipped back file hold the same packets
        rot_dir = os.path.join(cap, "rotated")
        rot = sorted((f for f in os.listdir(rot_dir) if f.startswith(front_f) and f != front_f),
                     key=lambda f: int(f[len(front_f):]))
        recs, parts = [], []
        for f in rot:
            r = pcap_records(os.path.join(rot_dir, f))
            parts.append({"file": f"rotated/{f}", "packets": len(r),
                          "bytes": os.path.getsize(os.path.join(rot_dir, f)),
                          "sha256": sha(os.path.join(rot_dir, f)),
                          "first_time_epoch": f"{r[0][0]}.{r[0][1]:06d}",
                          "last_time_epoch": f"{r[-1][0]}.{r[-1][1]:06d}"})
            recs.extend(r)
        assert recs == pcap_records(os.path.join(cap, front_f)), "the rotated set differs from the front file"
        gz = os.path.join(rot_dir, back_f + ".gz")
        with gzip.open(gz, "rb") as f:
            assert hashlib.sha256(f.read()).hexdigest() == sha(os.path.join(cap, back_f))
        common["file_sets"].append([f"rotated/{front_f}0..{len(rot) - 1}", f"rotated/{back_f}.gz"])
        common["rotated_front"] = {
            "files": parts, "equals": front_f,
            "how": f"editcap -F pcap -c 12 {front_f} (tcpdump 4.99 -C takes whole megabytes only), "
                   "renamed .pcap0, .pcap1, ... in order; their packets in order are exactly the front file's"}
        common["gzipped_back"] = {"file": f"rotated/{back_f}.gz", "bytes": os.path.getsize(gz),
                                  "sha256": sha(gz), "how": f"gzip -n -c {back_f}",
                                  "decompressed_equals": back_f}
    nb = sum(1 for p in pairs if p["back"])
    lat = [p["proxy_latency_s"] for p in pairs if p["back"]]
    summary = (f"{len(pairs)} client requests on the front leg, {nb} of them forwarded "
               f"(paired by X-Request-Id = nginx's $request_id); nginx answered "
               f"{len(pairs) - nb} itself; one WebSocket upgrade works (/ws-ok/), one is dropped "
               f"(/ws-broken/, fix: {a.fix}); proxy latency {min(lat) * 1000:.2f}..{max(lat) * 1000:.2f} ms")
    for fd in files:
        det = {"split_legs": dict(common, this_file=fd),
               "summary": f"{fd['leg']} leg of a split capture (clock_offset_s "
                          f"{fd['clock_offset_s']}): " + summary}
        with open(os.path.join(d, f"{fd['file']}.details.json"), "w") as f:
            json.dump(det, f, indent=1)
    # tshark's view of the files
    with open(a.tshark_out, "w") as f:
        for fd in files:
            fn = fd["file"]
            path = os.path.join(cap, fn)
            f.write(f"### {fn}: tshark -r {fn} -q -z conv,tcp\n")
            f.write(run("tshark", "-r", path, "-q", "-z", "conv,tcp"))
            f.write(f"\n### {fn}: tshark -r {fn} -Y http -T fields -e frame.number "
                    "-e frame.time_epoch -e ip.src -e tcp.srcport -e ip.dst -e tcp.dstport "
                    "-e http.request.method -e http.request.uri -e http.response.code "
                    "-e http.response.phrase -E occurrence=f -d tcp.port==8765,http\n")
            f.write(run("tshark", "-r", path, "-Y", "http", "-T", "fields", "-E", "occurrence=f",
                        "-e", "frame.number", "-e", "frame.time_epoch", "-e", "ip.src",
                        "-e", "tcp.srcport", "-e", "ip.dst", "-e", "tcp.dstport",
                        "-e", "http.request.method", "-e", "http.request.uri",
                        "-e", "http.response.code", "-e", "http.response.phrase"))
            f.write("\n")
        for p in common.get("rotated_front", {}).get("files", []):
            f.write(f"### {p['file']}: {p['packets']} packets, {p['first_time_epoch']} .. "
                    f"{p['last_time_epoch']}\n")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("split")
    s.add_argument("input")
    s.add_argument("--proxy", required=True, help="the proxy's listen address IP:PORT")
    s.add_argument("--upstream", action="append", help="an upstream server IP:PORT (repeatable)")
    s.add_argument("--front", required=True)
    s.add_argument("--back", required=True)
    s.add_argument("--shift-back", type=float, default=0.0)
    s.add_argument("--shift-front", type=float, default=0.0)
    s.add_argument("--facts")
    s.add_argument("--source-facts")
    f = sub.add_parser("facts")
    for k in ("--name", "--dir", "--work", "--fix", "--tshark-out", "--proxy-json"):
        f.add_argument(k, required=True)
    f.add_argument("--file", action="append", required=True, help="FILE|LEG|SHIFT|CAPTURED-ON; the first: the front reference")
    f.add_argument("--nat", action="append", help="INSIDE_IP=OUTSIDE_IP: what nginx sees of a front address")
    f.add_argument("--rotated", action="store_true")
    a = ap.parse_args()
    cmd_split(a) if a.cmd == "split" else cmd_facts(a)


if __name__ == "__main__":
    main()
