#!/usr/bin/env python3
"""Turns the Eurovision Song Contest 2014 final (shared/conformance/eurovision_2014_final.json)
into Laurel's own formats: award.json (the rubric), applications.json (the 26 songs),
marks.json (each voting country's jury and televote rankings) and expected.json. Run from this
folder: python3 load.py [path/to/conformance]

The rubric is configuration only: rank-based judging with two sources, `jury` and `televote`,
combined by the sum of the ranks, ties going to the better televote rank; places 1 to 10 give
12, 10, 8, 7, 6, 5, 4, 3, 2, 1 points; the panel sums the voters' points. Albania and San
Marino vote by jury alone and Georgia by televote alone: they give only that ranking.
"""
import json
import sys

src = sys.argv[1] if len(sys.argv) > 1 else "../../../../shared/conformance"
data = json.load(open(f"{src}/eurovision_2014_final.json"))
voters = data["voters"]
songs = sorted({s for v in voters.values() for s in v["jury_rank"]})

award = {
    "$schema": "../../../schemas/award.schema.json",
    "format_version": "1.1", "id": "eurovision-2014-final", "name": "Eurovision Song Contest 2014, grand final",
    "edition": "2014",
    "description": "The 2013-2015 voting system, as configuration: a reproduction of the official results.",
    "languages": {"default": "en", "available": ["en"]},
    "timeline": {"time_zone": "Europe/Copenhagen", "opens": "2014-05-10T21:00:00+02:00", "closes": "2014-05-10T23:30:00+02:00", "results": "2014-05-10T23:59:00+02:00"},
    "applicant_types": [{"id": "song", "name": "Song"}],
    "form": {"fields": [{"id": "country", "type": "short_text", "label": "Country", "required": True}]},
    "scales": [{"id": "unused", "min": 0, "max": 1}],
    "categories": [{"id": "final", "name": "Grand final", "applicant_types": ["song"], "criteria": [], "winners": 1}],
    "scoring": {"scale": "unused", "aggregation": {"method": "sum"},
                "ranking": {"sources": ["jury", "televote"], "combine": {"method": "rank_sum", "tie_break": "televote"},
                            "points": {"method": "table", "table": [12, 10, 8, 7, 6, 5, 4, 3, 2, 1]}}},
}
apps = [{"id": s, "category": "final", "applicant_type": "song", "fields": {"country": s}} for s in songs]
rankings = []
expected_voters = {}
for country, v in sorted(voters.items()):
    note = v.get("note", "")
    sources = ["jury"] if "jury only" in note else ["televote"] if "televote only" in note else ["jury", "televote"]
    for source in sources:
        ranks = v[f"{source}_rank"]
        rankings.append({"judge": country, "category": "final", "source": source, "order": sorted(ranks, key=ranks.get)})
    expected_voters[country] = {"sources": sources, "combined_rank": v["combined_rank_published_in_source"],
                                "points": v["points_awarded_recomputed"]}
totals = {song: t for song, t in data["verification"]["totals"].items()}

def dump(name, value):
    with open(name, "w") as out:
        json.dump(value, out, ensure_ascii=False, indent=1)
        out.write("\n")

dump("award.json", award)
dump("applications.json", apps)
dump("marks.json", {"$schema": "../../../schemas/marks.schema.json", "rankings": rankings})
dump("expected.json", {"voters": expected_voters, "totals": totals, "repairs": data.get("repairs", [])})
print(f"{len(apps)} songs, {len(voters)} voters, {len(rankings)} rankings")
