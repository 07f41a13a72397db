#!/usr/bin/env python3
"""Turns the ISU 2025-26 Grand Prix data (shared/conformance/isu_2025gp_*.csv) into Laurel's
own formats: award.json (the rubric), applications.json, marks.json, and expected.json (the
official numbers to reproduce). Run from this folder: python3 load.py [path/to/conformance]

The rubric is plain Laurel configuration, no code: each segment is a category; each element
slot is an indicator marked with GOE grades -5..+5, whose points are grade x the element's GOE
step (a per-item factor read from the application), rounded to 2 places; the panel drops the
highest and lowest of 9 and averages, rounded to 2 places (the GOE); the element's base value
is added (a per-item base from the application). Components are trimmed means of 9 marks,
rounded, times the segment's factor (the indicator's weight), rounded. TES and PCS are
weighted sums; deductions are an adjustment. Slots a skater did not fill are skipped.
"""
import csv
import json
import sys
from collections import defaultdict

src = sys.argv[1] if len(sys.argv) > 1 else "../../../../shared/conformance"
perfs = list(csv.DictReader(open(f"{src}/isu_2025gp_performances.csv")))
elements = list(csv.DictReader(open(f"{src}/isu_2025gp_elements.csv")))
components = list(csv.DictReader(open(f"{src}/isu_2025gp_components.csv")))

SEGMENTS = {("Men", "Short"): ("men-short", "1.67"), ("Men", "Free"): ("men-free", "3.33"),
            ("Women", "Short"): ("women-short", "1.33"), ("Women", "Free"): ("women-free", "2.67")}
COMPONENTS = {"Composition": "composition", "Presentation": "presentation", "Skating Skills": "skating-skills"}
SLOTS = 12
R2 = {"places": 2, "mode": "half_up"}

fields = [{"id": "skater", "type": "short_text", "label": "Skater", "hidden_from_judges": True},
          {"id": "nation", "type": "short_text", "label": "Nation"},
          {"id": "competition", "type": "short_text", "label": "Competition"},
          {"id": "deductions", "type": "number", "label": "Deductions (negative)", "max": 0}]
for n in range(1, SLOTS + 1):
    fields += [{"id": f"e{n}_code", "type": "short_text", "label": f"Element {n}: code"},
               {"id": f"e{n}_base", "type": "number", "label": f"Element {n}: base value (as printed, bonus included)", "min": 0},
               {"id": f"e{n}_step", "type": "number", "label": f"Element {n}: GOE step (points per grade)", "min": 0}]

categories = []
for (gender, segment), (cid, factor) in SEGMENTS.items():
    tes = [{"id": f"e{n}", "name": f"Element {n}", "weight": 1, "scale": "goe",
            "mark_factor": {"field": f"e{n}_step"}, "base": {"field": f"e{n}_base"}} for n in range(1, SLOTS + 1)]
    pcs = [{"id": i, "name": name, "weight": factor, "scale": "components"} for name, i in COMPONENTS.items()]
    categories.append({"id": cid, "name": f"{gender} {segment.lower()} program", "applicant_types": ["skater"], "winners": 3,
                       "criteria": [{"id": "tes", "name": "Technical elements score", "weight": 1, "indicators": tes},
                                    {"id": "pcs", "name": "Program components score", "weight": 1, "indicators": pcs}]})
award = {
    "$schema": "../../../schemas/award.schema.json",
    "format_version": "1.1", "id": "isu-grand-prix-2025", "name": "ISU Grand Prix of Figure Skating 2025-26 (singles)",
    "edition": "2025-26",
    "description": "The ISU Judging System for singles, as configuration: a reproduction of the official results.",
    "languages": {"default": "en", "available": ["en"]},
    "timeline": {"time_zone": "UTC", "opens": "2025-10-01T00:00:00Z", "closes": "2025-12-31T00:00:00Z", "results": "2025-12-31T00:00:00Z"},
    "applicant_types": [{"id": "skater", "name": "Skater"}],
    "form": {"fields": fields},
    "scales": [{"id": "goe", "name": "Grade of execution", "min": -5, "max": 5, "step": 1},
               {"id": "components", "name": "Program component marks", "min": 0.25, "max": 10, "step": 0.25}],
    "categories": categories,
    "scoring": {"scale": "goe", "aggregate_at": "indicator", "missing_marks": "skip",
                "criterion": "weighted_sum", "total": "weighted_sum",
                "aggregation": {"method": "trimmed_mean", "trim": 1},
                "adjustments": [{"field": "deductions"}],
                "rounding": {"mark": R2, "panel": R2, "indicator": R2, "weighted": R2, "criterion": R2, "total": R2, "final": R2}},
}

by_perf = defaultdict(list)
for e in elements:
    by_perf[e["source_perf_id"]].append(e)
comps = defaultdict(list)
for c in components:
    comps[c["source_perf_id"]].append(c)

def num(text):
    """A decimal as written, as a JSON number (the engine reads its shortest text exactly)."""
    return json.loads(text)

apps, evaluations, expected = [], [], []
for p in perfs:
    pid = p["source_perf_id"]
    cid, factor = SEGMENTS[(p["category"], p["segment"])]
    app_id = f"perf-{int(pid):03d}"
    f = {"skater": p["skater"], "nation": p["nation"], "competition": p["competition"], "deductions": num(p["official_deductions"])}
    marks = {f"J{j}": {} for j in range(1, 10)}
    goes = []
    for e in sorted(by_perf[pid], key=lambda e: int(e["no"])):
        n = int(e["no"])
        f[f"e{n}_code"] = e["code_as_parsed"] or "-"
        f[f"e{n}_base"] = num(e["base_value"])
        f[f"e{n}_step"] = num(e["goe_step_DERIVED"] or "0")
        graded = all(e[f"J{j}"] != "" for j in range(1, 10))
        if graded:
            for j in range(1, 10):
                marks[f"J{j}"][f"e{n}"] = int(e[f"J{j}"])
        goes.append({"element": f"e{n}", "code": e["code_as_parsed"], "graded": graded,
                     "official_goe": e["official_goe"], "official_score": e["official_score"]})
    for c in comps[pid]:
        assert c["factor"] == factor, (pid, c["factor"], factor)
        for j in range(1, 10):
            marks[f"J{j}"][COMPONENTS[c["component"]]] = num(c[f"J{j}"])
    apps.append({"id": app_id, "category": cid, "applicant_type": "skater", "fields": f})
    for judge, m in marks.items():
        evaluations.append({"judge": judge, "application": app_id, "marks": m})
    expected.append({"application": app_id, "skater": p["skater"], "segment": f"{p['category']} {p['segment']}",
                     "competition": p["competition"], "elements": goes,
                     "official_TES": p["official_TES"], "official_PCS": p["official_PCS"],
                     "official_deductions": p["official_deductions"], "official_TSS": p["official_TSS"]})

def dump(name, value):
    with open(name, "w") as out:
        json.dump(value, out, ensure_ascii=False, indent=1)
        out.write("\n")

dump("award.json", award)
dump("applications.json", apps)
dump("marks.json", {"$schema": "../../../schemas/marks.schema.json", "evaluations": evaluations})
dump("expected.json", expected)
print(f"{len(apps)} performances, {len(evaluations)} judges' sheets, {sum(len(e['elements']) for e in expected)} elements")
