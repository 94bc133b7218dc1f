#!/usr/bin/env python3
"""Writes docs/report.schema.json: the JSON Schema of hopscope's report (the JSON document and
the NDJSON records), from reports of every sample and corpus capture and the rules below.

    python3 tools/report_schema.py OUT_DIR_OF_REPORTS > docs/report.schema.json

OUT_DIR_OF_REPORTS holds `*.json` (documents) and `*.ndjson` (streams) that hopscope wrote
(`tests/it/report_schema.rs` says how it makes them). The shapes are read off the reports,
then `RULES` adds what reports cannot show: enumerations from the model, maps whose keys are
data, and fields the samples never fill. The test validates every sample's and corpus
capture's report against the result, with additional properties refused, so a field added to
the model without being added here (and to docs/json-format.md) fails it.
"""
import json
import os
import sys

# Objects whose keys are data (link type names, codes, header names...): their values' shape.
MAPS = {
    "capture.link_types",
    "capture.tls.not_decrypted",
    "http2.frames.client_to_server",
    "http2.frames.server_to_client",
}

# Enumerations of the model (src/model): the values a field can take, seen or not.
ENUMS = {
    "transaction.state": ["complete", "no-response", "no-request", "reset", "not-processed"],
    "transaction.scheme": ["http", "https"],
    "finding.severity": ["info", "warning", "error"],
    "finding.direction": ["client_to_server", "server_to_client"],
    "websocket_message.direction": ["client", "server"],
}

STR = {"type": "string"}
INT = {"type": "integer"}
BOOL = {"type": "boolean"}
CHANGE = {"type": "object", "required": ["front", "back"], "additionalProperties": False,
          "properties": {"front": STR, "back": STR}}

# Fields the model can write that no sample fills (`skip_serializing_if` ones), by the path
# of the object that holds them: (path, field, schema). Paths are as in the reports, `[]` for
# an array's items.
EXTRA = [
    ("transaction.request", "method_b64", STR),
    ("transaction.request", "target_b64", STR),
    ("transaction.response", "reason_b64", STR),
    ("transaction", "promised_by", {
        "type": "object", "required": ["stream_id", "transaction"],
        "additionalProperties": False,
        "properties": {"stream_id": INT, "transaction": {"type": ["integer", "null"]}}}),
    # `--filter EXPR` only.
    ("capture", "filter", {
        "type": "object", "required": ["expression", "transactions_kept", "transactions_dropped"],
        "additionalProperties": False,
        "properties": {"expression": STR, "transactions_kept": INT, "transactions_dropped": INT}}),
    ("capture", "dropped", {
        "type": ["object", "null"], "required": ["kernel", "interface", "hopscope"],
        "additionalProperties": False,
        "properties": {"kernel": INT, "interface": INT, "hopscope": INT}}),
    ("capture.files[]", "dropped", {
        "type": "object", "required": ["kernel", "interface", "hopscope"],
        "additionalProperties": False,
        "properties": {"kernel": INT, "interface": INT, "hopscope": INT}}),
    ("finding", "count", INT),
    ("finding", "packets", {"type": "array", "items": INT}),
    ("websocket_message", "declared_length", INT),
    ("websocket_message.frame_list[]", "declared_length", INT),
    ("transaction.semantics.cache.request_directives[]", "unknown", BOOL),
    ("transaction.semantics.cache.response_directives[]", "unknown", BOOL),
    ("transaction.semantics.range.ranges[]", "suffix", INT),
    ("transaction.semantics.cookies.set[]", "partitioned", BOOL),
    ("transaction.semantics.cookies.set[]", "deletes", BOOL),
    ("transaction.semantics.cookies.set[]", "other_attributes", {"type": "array", "items": STR}),
    ("transaction.semantics.cors", "expose_headers", {"type": "array", "items": STR}),
    ("transaction.semantics.auth.challenges[]", "token68", STR),
    ("transaction.semantics.auth.challenges[]", "params", {"type": "array", "items": {
        "type": "object", "required": ["name", "value"], "additionalProperties": False,
        "properties": {"name": STR, "value": STR}}}),
    ("proxy_hop", "status", CHANGE),
    ("proxy_hop", "body_length", CHANGE),
    ("proxy_hop", "target", CHANGE),
    ("proxy_hop.response", "status", CHANGE),
    ("proxy_hop.response", "body_length", CHANGE),
    ("proxy_hop.response", "target", CHANGE),
]


def nullable_fields(model_dir):
    """Names of fields the model writes as `null` when empty: `Option<..>` without
    `skip_serializing_if` (a capture may leave any of them empty: a WebSocket whose handshake
    was not captured has no `host`). Applied by name wherever the name appears."""
    import re
    names = set()
    for f in sorted(os.listdir(model_dir)):
        src = open(os.path.join(model_dir, f)).read()
        for m in re.finditer(r"((?:[ \t]*(?:///[^\n]*|#\[[^\n]*)\n)*)[ \t]*pub (\w+): Option<", src):
            attrs, name = m.group(1), m.group(2)
            if "skip_serializing_if" in attrs or "serde(skip)" in attrs:
                continue
            r = re.search(r'rename = "([^"]+)"', attrs)
            names.add(r.group(1) if r else name)
    return names


NULLABLE = nullable_fields(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "model"))


def at_path(defs, path):
    """The schema of the object at `path` (`transaction.request`, `x.list[]`), or None."""
    parts = path.replace("[]", ".[]").split(".")
    cur = defs.get(parts[0])
    for p in parts[1:]:
        if cur is None:
            return None
        cur = cur.get("items") if p == "[]" else cur.get("properties", {}).get(p)
    return cur


def kind(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "integer"
    if isinstance(v, float):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


class Shape:
    """What was seen at one path: types, and for objects each property's shape and count."""

    def __init__(self):
        self.types = set()
        self.count = 0
        self.objects = 0
        self.props = {}
        self.prop_counts = {}
        self.items = None
        self.map_values = None

    def add(self, v, path):
        self.count += 1
        t = kind(v)
        self.types.add(t)
        if t == "object":
            self.objects += 1
            if path in MAPS:
                if self.map_values is None:
                    self.map_values = Shape()
                for x in v.values():
                    self.map_values.add(x, path + ".*")
                return
            for k, x in v.items():
                self.props.setdefault(k, Shape()).add(x, f"{path}.{k}")
                self.prop_counts[k] = self.prop_counts.get(k, 0) + 1
        elif t == "array":
            if self.items is None:
                self.items = Shape()
            for x in v:
                self.items.add(x, path + "[]")

    def schema(self, path):
        types = set(self.types)
        if path.rsplit(".", 1)[-1] in NULLABLE and types:
            types.add("null")
        if "integer" in types and "number" in types:
            types.discard("integer")
        s = {}
        if len(types) == 1:
            s["type"] = next(iter(types))
        elif types:
            s["type"] = sorted(types)
        if path in ENUMS:
            values = list(ENUMS[path])
            if "null" in types:
                values.append(None)
            s["enum"] = values
        if "object" in types:
            if self.map_values is not None:
                s["additionalProperties"] = self.map_values.schema(path + ".*")
            else:
                s["properties"] = {
                    k: self.props[k].schema(f"{path}.{k}") for k in sorted(self.props)
                }
                req = sorted(k for k, c in self.prop_counts.items() if c == self.objects)
                if req:
                    s["required"] = req
                s["additionalProperties"] = False
        if "array" in types:
            s["items"] = self.items.schema(path + "[]") if self.items and self.items.types else {}
        return s


def main():
    d = sys.argv[1]
    records = {}
    start = Shape()
    end = Shape()
    for name in sorted(os.listdir(d)):
        p = os.path.join(d, name)
        if name.endswith(".json"):
            try:
                v = json.load(open(p))
            except ValueError:
                continue
            if isinstance(v.get("capture"), dict):
                end.add(v["capture"], "capture")
            # The document's arrays hold the NDJSON records less their type.
            for key, t in [("connections", "connection"), ("transactions", "transaction"),
                           ("tunnels", "tunnel"), ("http2", "http2"),
                           ("proxy_hops", "proxy_hop"), ("findings", "finding")]:
                for r in v.get(key, []):
                    records.setdefault(t, Shape()).add(r, t)
            for w in v.get("websockets", []):
                w = dict(w)
                for m in w.pop("messages", []):
                    records.setdefault("websocket_message", Shape()).add(m, "websocket_message")
                records.setdefault("websocket", Shape()).add(w, "websocket")
        elif name.endswith(".ndjson"):
            for line in open(p):
                try:
                    r = json.loads(line)
                except ValueError:
                    continue
                t = r.pop("type", None)
                if t == "start":
                    start.add(r, "start")
                elif t == "capture":
                    end.add(r, "capture")
                elif t:
                    records.setdefault(t, Shape()).add(r, t)
    defs = {t: s.schema(t) for t, s in sorted(records.items())}
    defs["capture"] = end.schema("capture")
    defs["start"] = start.schema("start")
    for path, field, sch in EXTRA:
        obj = at_path(defs, path)
        if obj is None:
            sys.exit(f"EXTRA: no object at {path} in the reports")
        # Replaces a shape read off the reports (a field only ever seen null).
        obj.setdefault("properties", {})[field] = sch
    defs["tool"] = {
        "type": "object",
        "required": ["name", "version"],
        "additionalProperties": False,
        "properties": {"name": {"const": "hopscope"}, "version": {"type": "string"}},
    }
    kinds = sorted(records)
    # A record's own fields are listed open (no additionalProperties at its top) and closed
    # where it is used, so the NDJSON line can add its `type` (unevaluatedProperties sees
    # through the $ref).
    for t in kinds + ["capture", "start"]:
        defs[t].pop("additionalProperties", None)

    def closed(t, **extra):
        return {"$ref": f"#/$defs/{t}", **extra, "unevaluatedProperties": False}

    defs["ndjson_line"] = {
        "oneOf": [
            closed(t, properties={"type": {"const": t}}, required=["type"])
            for t in kinds + ["start", "capture"]
        ]
    }
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://hopscope.invalid/report.schema.json",
        "title": "hopscope report",
        "description": "The JSON document (`--format json`); each line of `--format ndjson` "
                       "is an instance of $defs/ndjson_line. Generated by "
                       "tools/report_schema.py; docs/json-format.md says what each field means.",
        "type": "object",
        "required": ["schema_version", "tool", "capture", "connections", "transactions",
                     "websockets", "tunnels", "http2", "proxy_hops", "findings"],
        "additionalProperties": False,
        "properties": {
            "schema_version": {"type": "integer"},
            "tool": {"$ref": "#/$defs/tool"},
            "capture": closed("capture"),
            "connections": {"type": "array", "items": closed("connection")},
            "transactions": {"type": "array", "items": closed("transaction")},
            "websockets": {"type": "array", "items": closed("websocket", properties={
                "messages": {"type": "array", "items": closed("websocket_message")}})},
            "tunnels": {"type": "array", "items": closed("tunnel")},
            "http2": {"type": "array", "items": closed("http2")},
            "proxy_hops": {"type": "array", "items": closed("proxy_hop")},
            "findings": {"type": "array", "items": closed("finding")},
        },
        "$defs": defs,
    }
    json.dump(schema, sys.stdout, indent=1, sort_keys=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
