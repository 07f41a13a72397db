#!/usr/bin/env python3
"""Turns three FIS ski jumping World Cup competitions (official.csv: every jump's distance, five
judges' style marks, published wind and gate points and official distance, style and jump
points, from the FIS results) into Laurel's own formats: award.json (the rubric),
applications.json (one per athlete and competition), marks.json (each judge's style marks) and
expected.json. Run from this folder: python3 load.py

The three are the competitions in which a jump's points came out negative and counted as 0:
Ruka 2014 (large hill), PyeongChang 2017 (normal hill, women) and Oberstdorf 2019 (ski flying).
The rubric is configuration only. Each competition is a category; each jump a criterion with:
- distance points, a formula: points at K + (distance - K) x metre value, with the hill's
  constants (60 points at K, 120 on a flying hill);
- style points: five judges' marks, of which the middle three add up (`middle_sum`, count 3)
  from the `style` panel;
- wind and gate points as published, formulas reading the application's fields;
- a floor of 0: a jump's negative points count as 0.
A second jump not made (30 go on to the second round) has no data and counts nothing
(`missing_marks: skip`). The athlete's total adds the jumps.
"""
import csv
import json
from decimal import Decimal

rows = list(csv.DictReader(open("official.csv")))
competitions = {}
for r in rows:
    competitions.setdefault(r["competition"], r)


def slug(name):
    return "-".join(name.split())


def constant(cid, what):
    return f"{what}_{cid.split('-')[0]}"


award = {
    "$schema": "../../../schemas/award.schema.json",
    "format_version": "1.1", "id": "fis-ski-jumping-floors",
    "name": "FIS ski jumping: three competitions with a jump floored at 0", "edition": "2014-2019",
    "description": "Distance points by formula, style by the middle three of five judges, published wind and gate points, a floor of 0 per jump: a reproduction of the official results.",
    "languages": {"default": "en", "available": ["en"]},
    "timeline": {"time_zone": "UTC", "opens": "2014-11-01T00:00", "closes": "2019-02-03T00:00", "results": "2019-02-04T00:00"},
    "applicant_types": [{"id": "athlete", "name": "Athlete"}],
    "form": {"fields": [{"id": "athlete", "type": "short_text", "label": "Athlete", "required": True}]
             + [{"id": f"{what}{n}", "type": "number", "label": f"{label}, jump {n}"}
                for n in (1, 2) for what, label in (("distance", "Distance (m)"), ("wind", "Wind points"), ("gate", "Gate points"))]},
    "scales": [{"id": "style", "min": 0, "max": 20, "step": 0.5}],
    "categories": [],
    "scoring": {"scale": "style", "aggregate_at": "indicator", "missing_marks": "skip",
                "criterion": "weighted_sum", "total": "weighted_sum",
                "rounding": {"final": {"places": 1}},
                "panels": {"style": ["J1", "J2", "J3", "J4", "J5"]}, "constants": {}},
}
for cid, c in competitions.items():
    for what, key in (("k", "k_point"), ("metre", "metre_value"), ("at_k", "points_at_k")):
        award["scoring"]["constants"][constant(cid, what)] = json.loads(c[key])
    k, m, at_k = (constant(cid, w) for w in ("k", "metre", "at_k"))
    award["categories"].append({
        "id": cid, "name": c["description"], "applicant_types": ["athlete"], "winners": 3,
        "criteria": [{
            "id": f"jump{n}", "name": f"Jump {n}", "weight": 1, "floor": 0, "panel": "style",
            "indicators": [
                {"id": f"distance{n}", "name": "Distance points", "weight": 1,
                 "formula": f"{at_k} + (fields.distance{n} - {k}) * {m}"},
                {"id": f"style{n}", "name": "Style points", "weight": 1,
                 "aggregation": {"method": "middle_sum", "count": 3}},
                {"id": f"wind{n}", "name": "Wind points", "weight": 1, "formula": f"fields.wind{n}"},
                {"id": f"gate{n}", "name": "Gate points", "weight": 1, "formula": f"fields.gate{n}"},
            ]} for n in (1, 2)],
    })
apps = {}
evaluations = {}
expected = {"jumps": {}, "totals": {}, "ranks": {}}
for r in rows:
    app_id = f"{r['competition']}-{slug(r['athlete'])}"
    n = r["round"]
    app = apps.setdefault(app_id, {"id": app_id, "category": r["competition"], "applicant_type": "athlete",
                                   "fields": {"athlete": r["athlete"]}})
    app["fields"][f"distance{n}"] = json.loads(r["distance"])
    app["fields"][f"wind{n}"] = json.loads(r["wind_points"])
    app["fields"][f"gate{n}"] = json.loads(r["gate_points"])
    for j in range(1, 6):
        ev = evaluations.setdefault((j, app_id), {"judge": f"J{j}", "application": app_id, "marks": {}})
        ev["marks"][f"style{n}"] = json.loads(r[f"j{j}"])
    expected["jumps"][f"{app_id}/jump{n}"] = {
        "distance": r["distance_points"], "style": r["style_points"], "points": r["jump_points"]}
# Totals add the official jump points; places go by the round reached, then the total, equal
# totals sharing a place.
for app_id in apps:
    jumps = [v["points"] for k, v in expected["jumps"].items() if k.startswith(app_id + "/")]
    expected["totals"][app_id] = (len(jumps), str(sum(Decimal(p) for p in jumps)))
for app_id, (n, total) in expected["totals"].items():
    cat = apps[app_id]["category"]
    better = sum(1 for other, (m, t) in expected["totals"].items()
                 if apps[other]["category"] == cat and (m, Decimal(t)) > (n, Decimal(total)))
    expected["ranks"][app_id] = 1 + better
expected["totals"] = {k: v[1] for k, v in expected["totals"].items()}


def dump(name, value):
    with open(name, "w") as out:
        json.dump(value, out, ensure_ascii=False, indent=1)
        out.write("\n")


dump("award.json", award)
dump("applications.json", sorted(apps.values(), key=lambda a: a["id"]))
dump("marks.json", {"$schema": "../../../schemas/marks.schema.json",
                    "evaluations": sorted(evaluations.values(), key=lambda e: (e["judge"], e["application"]))})
dump("expected.json", expected)
print(f"{len(competitions)} competitions, {len(apps)} athletes' entries, {len(expected['jumps'])} jumps")
