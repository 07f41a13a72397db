#!/usr/bin/env python3
"""Chooses the OpenAPI document's examples from exchanges recorded by the tests.

    LAUREL_CONTRACT_DUMP=/tmp/dump.jsonl cargo test --workspace
    python3 tests/tools/choose_examples.py /tmp/dump.jsonl > engine/server/src/server/openapi/examples.json

For each operation without an example yet (every operation with `--refresh`): the smallest
successful exchange (a non-empty list preferred), long ones cut, secrets replaced. Examples
written by hand stay unless refreshed. A unit test checks every example against its
operation's schemas.
"""
import json
import re
import sys
from pathlib import Path

CURRENT = Path(__file__).resolve().parents[2] / "engine/server/src/server/openapi/examples.json"
SECRET = {"key": "lk_EXAMPLE-shown-once-only-its-hash-is-stored", "secret": "whsec_EXAMPLE0000000000000000000000",
          "csrf": "EXAMPLE-csrf-token"}


def clean(v, top=True):
    if isinstance(v, list):
        return [clean(x, False) for x in (v[:2] if top else v)]
    if isinstance(v, dict):
        return {k: (SECRET[k] if k in SECRET and isinstance(x, str) and re.match(r"^(lk_|whsec_|[A-Za-z0-9_-]{20,})", x) else clean(x, False))
                for k, x in v.items()}
    return v


def trim(v):
    """Lists to three items (tuples of three stay whole) and long strings cut, at every depth: for examples too long to read."""
    if isinstance(v, list):
        return [trim(x) for x in v[:3]]
    if isinstance(v, dict):
        return {k: trim(x) for k, x in v.items()}
    if isinstance(v, str) and len(v) > 160:
        return v[:120] + "…"
    return v


def short(v):
    return v if len(json.dumps(v)) <= 6000 else trim(v)


def main(dump, refresh):
    best = {}
    for line in open(dump):
        try:
            d = json.loads(line)
        except ValueError:
            continue
        if not 200 <= d["status"] < 300 or not d["op"]:
            continue
        body, request = d["body"], d.get("request")
        if isinstance(body, str) or isinstance(request, str):
            continue  # not JSON (CSV, files)
        size = len(json.dumps(body)) + len(json.dumps(request or {}))
        empty = body in ([], {}) 
        rank = (empty, size)
        if d["op"] not in best or rank < best[d["op"]][0]:
            best[d["op"]] = (rank, {"status": d["status"], "request": request, "response": body})
    out = json.loads(CURRENT.read_text()) if CURRENT.exists() else {}
    for op, (_, ex) in best.items():
        if op in out and not refresh:
            continue
        if op == "getOpenApi":
            continue  # the document itself: its example is written by hand
        entry = {"response": short(clean(ex["response"]))}
        if ex["request"] is not None:
            entry["request"] = short(clean(ex["request"], False))
        out[op] = entry
    json.dump(dict(sorted(out.items())), sys.stdout, indent=1, ensure_ascii=False)
    print()


if __name__ == "__main__":
    main(sys.argv[1], "--refresh" in sys.argv[2:])
