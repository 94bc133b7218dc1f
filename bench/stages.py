#!/usr/bin/env python3
"""Instructions by stage from `callgrind_annotate --inclusive=yes` outputs.

Usage: python3 bench/stages.py PACKETS ANNOTATED [SPINE_ANNOTATED]

ANNOTATED is what `callgrind_annotate --inclusive=yes OUT` printed for a full run, SPINE_ANNOTATED
the same for a `--tcp-only` run of the same file (then the analyzers are told from the spine).

Each stage is the inclusive count of the functions that enter it (the largest count any of
their names has: callgrind names an inlined function once per file it is attributed to), less
what it hands to the next stage. Functions of several threads are summed by callgrind itself
when it writes one file for the whole process (the default).
"""
import re
import sys

# (stage, [symbol substrings entering it]); a symbol matches when the text after the file
# name contains the substring.
ENTRY = {
    "total": ["PROGRAM TOTALS"],
    "read": ["PacketSource>::next", "capture::merge::MergedSource::read_ahead"],
    # The drive loop calls the engine's parts itself (the front, then one shard's segment,
    # memory check and sweeps, and its end); builds before the one drive loop called
    # `Engine::handle_packet` and `Engine::finish`, which hold the same parts (`engine_old`).
    "engine": [
        "engine::Front::begin",
        "engine::Front::decode",
        "engine::Tcp<A>::segment",
        "<impl hopscope::engine::Tcp<A>>::check_memory",
        "engine::Tcp<A>::sweep",
        "engine::Shard<A>::sweep",
        "<hopscope::pipeline::One<A> as hopscope::pipeline::Back<S>>::finish",
    ],
    "engine_old": ["engine::Engine<A>::handle_packet", "engine::Engine<A>::finish"],
    "records": ["<hopscope::pipeline::Tail<S> as hopscope::model::RecordSink>::record"],
    "semantics+sink": ["<hopscope::pipeline::SemStep<S> as hopscope::model::RecordSink>::record"],
    "sink": ["<hopscope::pipeline::End<S> as hopscope::model::RecordSink>::record"],
    "alloc": ["malloc.c:malloc ", "malloc.c:free ", "malloc.c:realloc "],
}

LINE = re.compile(r"^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(.*)$")


def parse(path: str) -> dict[str, int]:
    best: dict[str, int] = {}
    with open(path) as f:
        for line in f:
            m = LINE.match(line)
            if not m:
                continue
            n = int(m.group(1).replace(",", ""))
            sym = m.group(2) + " "
            for stage, names in ENTRY.items():
                for name in names:
                    if name in sym:
                        key = f"{stage}\0{name}"
                        best[key] = max(best.get(key, 0), n)
    return best


def inc(best: dict[str, int], stage: str) -> int:
    vals = [v for k, v in best.items() if k.startswith(stage + "\0")]
    # The read-ahead is called by next: only the larger counts.
    if stage == "read":
        return max(vals, default=0)
    return sum(vals)


def stages(best: dict[str, int]) -> dict[str, int]:
    total = inc(best, "total")
    records = inc(best, "records")
    sink = inc(best, "sink")
    # Without the semantics step (--tcp-only) records go straight on to the sink.
    sem_sink = inc(best, "semantics+sink") or sink
    read = inc(best, "read")
    # Records are made inside the engine; every one then goes through the steps.
    engine = (inc(best, "engine_old") or inc(best, "engine")) - records
    out = {
        "read": read,
        "engine": engine,
        "correlation": records - sem_sink,
        "semantics": sem_sink - sink,
        "sink": sink,
    }
    out["other"] = max(0, total - sum(out.values()))
    out["total"] = total
    out["alloc"] = inc(best, "alloc")
    return out


def main() -> None:
    packets = int(sys.argv[1])
    full = stages(parse(sys.argv[2]))
    spine = stages(parse(sys.argv[3])) if len(sys.argv) > 3 else None
    rows = [("read (file, merge)", full["read"])]
    if spine:
        # The spine's engine (decode, flows, reassembly, connection records) measured alone;
        # the analyzers are what the full run's engine adds to it.
        rows += [
            ("decode, flows, reassembly (spine run)", spine["engine"]),
            ("analyzers (full engine less the spine's)", full["engine"] - spine["engine"]),
        ]
    else:
        rows.append(("decode, flows, reassembly, analyzers", full["engine"]))
    rows += [
        ("proxy-hop correlation", full["correlation"]),
        ("semantics", full["semantics"]),
        ("serialization and write", full["sink"]),
        ("other (start, end, summary, progress)", full["other"]),
    ]
    total = full["total"]
    print(f"{'stage':44} {'instructions':>16} {'per packet':>11} {'share':>7}")
    for name, v in rows:
        print(f"{name:44} {v:16,} {v / packets:11,.0f} {100 * v / max(total, 1):6.1f}%")
    print(f"{'total':44} {total:16,} {total / packets:11,.0f} {100.0:6.1f}%")
    a = full["alloc"]
    print(f"{'(of which malloc, free, realloc)':44} {a:16,} {a / packets:11,.0f} {100 * a / max(total, 1):6.1f}%")


if __name__ == "__main__":
    main()
