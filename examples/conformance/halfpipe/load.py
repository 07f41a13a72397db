#!/usr/bin/env python3
"""Turns the men's snowboard halfpipe final of the Milano Cortina 2026 Olympic Winter Games
(official.csv: every run's six judges' marks and official score, each athlete's official best
score and final rank, from olympics.com) into Laurel's own formats: award.json (the rubric),
applications.json (the 12 athletes), marks.json (each judge's mark of each run) and
expected.json. Run from this folder: python3 load.py

The rubric is configuration only: each run is a criterion judges mark directly (0-100); the
panel's mark of a run is the mean of the six judges' marks without the highest and the lowest
(`trimmed_mean`, trim 1) at two places; a run not made ("DNI") has no marks and counts nothing
(`missing_marks: skip`); the athlete's score is the best run (`total: best`).
"""
import csv
import json

rows = list(csv.DictReader(open("official.csv")))
athletes = {}
for r in rows:
    athletes.setdefault(r["athlete"], r)


def slug(name):
    """`Campbell MELVILLE IVES` -> `melville-ives-campbell`: the surname (in capitals) first."""
    surname = [w for w in name.split() if w.isupper()]
    given = [w for w in name.split() if not w.isupper()]
    return "-".join(w.lower() for w in surname + given)


ids = {name: slug(name) for name in athletes}

award = {
    "$schema": "../../../schemas/award.schema.json",
    "format_version": "1.1", "id": "halfpipe-milano-cortina-2026",
    "name": "Milano Cortina 2026, men's snowboard halfpipe final", "edition": "2026",
    "description": "Three runs, six judges, the best run counts: a reproduction of the official results.",
    "languages": {"default": "en", "available": ["en"]},
    "timeline": {"time_zone": "Europe/Rome", "opens": "2026-02-13T19:30", "closes": "2026-02-13T21:00",
                 "results": "2026-02-13T21:30"},
    "applicant_types": [{"id": "athlete", "name": "Athlete"}],
    "form": {"fields": [{"id": "country", "type": "short_text", "label": "Country", "required": True}]},
    "scales": [{"id": "hundred", "min": 0, "max": 100, "step": 1}],
    "categories": [{"id": "final", "name": "Final", "applicant_types": ["athlete"], "winners": 3,
                    "criteria": [{"id": f"run{n}", "name": f"Run {n}", "weight": 1} for n in (1, 2, 3)]}],
    "scoring": {"scale": "hundred", "aggregate_at": "indicator", "missing_marks": "skip",
                "aggregation": {"method": "trimmed_mean", "trim": 1}, "total": "best",
                "rounding": {"panel": {"places": 2}, "final": {"places": 2}}},
}
apps = [{"id": ids[n], "category": "final", "applicant_type": "athlete", "fields": {"country": r["country"]}}
        for n, r in sorted(athletes.items(), key=lambda x: ids[x[0]])]
evaluations = []
for j in range(1, 7):
    for name in sorted(athletes, key=lambda n: ids[n]):
        marks = {f"run{r['run']}": int(r[f"j{j}"]) for r in rows if r["athlete"] == name and r[f"j{j}"] != ""}
        if marks:
            evaluations.append({"judge": f"J{j}", "application": ids[name], "marks": marks})
expected = {
    "runs": {f"{ids[r['athlete']]}/run{r['run']}": r["run_score"] for r in rows if r["run_score"]},
    "best": {ids[n]: r["best_score"] for n, r in athletes.items()},
    "rank": {ids[n]: int(r["final_rank"]) for n, r in athletes.items()},
}


def dump(name, value):
    with open(name, "w") as out:
        json.dump(value, out, ensure_ascii=False, indent=1)
        out.write("\n")


dump("award.json", award)
dump("applications.json", apps)
dump("marks.json", {"$schema": "../../../schemas/marks.schema.json", "evaluations": evaluations})
dump("expected.json", expected)
print(f"{len(apps)} athletes, {len(expected['runs'])} runs scored, {len(evaluations)} evaluations")
