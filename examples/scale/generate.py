#!/usr/bin/env python3
"""Writes a large Seoul-prize-shaped input for the scale run (examples/scale/run.sh).

    python3 examples/scale/generate.py OUT_DIR [APPLICATIONS] [JUDGES_PER_APPLICATION]

The example's 72 applications are repeated under new ids; each application gets marks from
JUDGES_PER_APPLICATION of a pool of 60 judges, every indicator 0 to 10, drawn from a fixed
seed so that every run scores the same input.
"""
import json
import random
import sys
from pathlib import Path

root = Path(__file__).resolve().parents[2]
out = Path(sys.argv[1])
n = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
k = int(sys.argv[3]) if len(sys.argv) > 3 else 7
out.mkdir(parents=True, exist_ok=True)
examples = json.loads((root / "examples/seoul-smart-city-prize-2023/applications.json").read_text())
award = json.loads((root / "rubrics/seoul-smart-city-prize-2023/award.json").read_text())
indicators = {
    c["id"]: [i["id"] for cr in c["criteria"] for i in cr["indicators"]] for c in award["categories"]
}
rng = random.Random(20261130)
pool = [f"judge-{j:02}" for j in range(60)]
with open(out / "applications.json", "w") as apps, open(out / "marks.json", "w") as marks:
    apps.write("[")
    marks.write('{"evaluations": [')
    first = True
    for a in range(n):
        app = dict(examples[a % len(examples)])
        app["id"] = f"s-{a:06}"
        apps.write(("" if a == 0 else ",\n") + json.dumps(app))
        for judge in rng.sample(pool, k):
            e = {"judge": judge, "application": app["id"],
                 "marks": {i: rng.randint(0, 10) for i in indicators[app["category"]]}}
            marks.write(("" if first else ",\n") + json.dumps(e))
            first = False
    apps.write("]\n")
    marks.write("]}\n")
print(f"{n} applications x {k} judges in {out}")
