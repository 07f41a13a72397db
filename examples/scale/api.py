#!/usr/bin/env python3
"""The scale run through the API's batch path: POST /v1/evaluate, chunk by chunk.

    python3 examples/scale/api.py DIR BASE_URL API_KEY [APPLICATIONS_PER_REQUEST] [CLIENTS]

Reads DIR/applications.json and DIR/marks.json (written by generate.py), and scores them in
requests of APPLICATIONS_PER_REQUEST applications (1,000 by default) with their marks, the
Seoul rubric inline, `?trace=false`, from CLIENTS concurrent clients (2 by default). A request
body is capped at 8 MiB, so a batch is at most a couple of thousand applications: each request
is scored on its own (judges are normalised within it), which is what an integrator scoring
its portal's submissions in batches gets. Prints the time, the rate and what was scored.
"""
import base64
import json
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

root = Path(__file__).resolve().parents[2]
folder, base, key = Path(sys.argv[1]), sys.argv[2].rstrip("/"), sys.argv[3]
per = int(sys.argv[4]) if len(sys.argv) > 4 else 1000
clients = int(sys.argv[5]) if len(sys.argv) > 5 else 2
rubric = root / "rubrics/seoul-smart-city-prize-2023"
definition = json.loads((rubric / "award.json").read_text())
files = {
    f"plugins/{p.name}": base64.b64encode(p.read_bytes()).decode()
    for p in (rubric / "plugins").iterdir()
}
apps = json.loads((folder / "applications.json").read_text())
by_app = {}
for e in json.loads((folder / "marks.json").read_text())["evaluations"]:
    by_app.setdefault(e["application"], []).append(e)
bodies = []
for start in range(0, len(apps), per):
    chunk = apps[start:start + per]
    evaluations = [e for a in chunk for e in by_app.get(a["id"], [])]
    bodies.append(json.dumps({"definition": definition, "files": files, "applications": chunk,
                               "marks": {"evaluations": evaluations}}).encode())
del by_app


def post(body):
    request = urllib.request.Request(
        f"{base}/v1/evaluate?trace=false", data=body, method="POST",
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as answer:
        results = json.loads(answer.read())
    return sum(len(c["ranking"]) for c in results["categories"]), \
        sum(len(c["unscored"]) for c in results["categories"])


started = time.monotonic()
with ThreadPoolExecutor(clients) as pool:
    done = list(pool.map(post, bodies))
elapsed = time.monotonic() - started
scored = sum(s for s, _ in done)
unscored = sum(u for _, u in done)
largest = max(len(b) for b in bodies) / 1e6
print(f"  through the API: {len(apps)} applications in {len(bodies)} requests of {per} "
      f"(at most {largest:.1f} MB each, {clients} clients): {elapsed:.1f} s, "
      f"{len(apps) / elapsed:.0f} applications/s; {scored} ranked, {unscored} unscored")
