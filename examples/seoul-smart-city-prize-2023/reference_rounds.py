#!/usr/bin/env python3
"""An independent reference of the Seoul prize's three rounds, written from the rubric's
README (not from Laurel's code): screening (every admitted application goes on), expert
evaluation (z-score per judge and category, except for judges with fewer than 5 marks in the
category, whose totals are used as marked; the best 5 of each category and any tied with the
fifth go on) and the final committee (no normalisation; the committee's decisions make the
winners). It reads what the rounds held and prints the final results as CSV, in the layout of
Laurel's results.csv, for tests/rounds.rs to compare.

Usage: python3 reference_rounds.py rounds.json > results.csv, where rounds.json holds
{"applications": [...], "reviews": [...], "rounds": {"expert": {"entrants": [...], "marks":
[...]}, "final": {...}}, "advanced": {"expert": [...]}, "decisions": [...], "mentions": [...]}.
It also prints, to stderr, the applications the expert round sends on, one per line.
"""
import csv
import json
import sys
from decimal import Decimal

from reference import D, context_adjusted, eligibility, r, weighted_mean

MIN_MARKS = 5


def round_results(award, apps_by_id, entrants, marks, normalise):
    """Each category's ranking in a round: (application, score, rank), best first."""
    categories = {c["id"]: c for c in award["categories"]}
    by_app = {}
    for e in marks:
        by_app.setdefault(e["application"], []).append(e)
    out = {}
    for cid, cat in categories.items():
        members = [a for a in entrants if apps_by_id[a]["category"] == cid and by_app.get(a)]
        totals = {}
        for a in members:
            for e in by_app[a]:
                crit = {c["id"]: r(weighted_mean([(D(i["weight"]), D(e["marks"][i["id"]])) for i in c["indicators"]]), 2)
                        for c in cat["criteria"]}
                total = r(weighted_mean([(D(c["weight"]), crit[c["id"]]) for c in cat["criteria"]]), 2)
                totals[(e["judge"], a)] = (total, crit)
        stats = {}
        for judge in {j for j, _ in totals}:
            ts = [t for (j, _), (t, _) in totals.items() if j == judge]
            if normalise and len(ts) >= MIN_MARKS:
                mean = sum(ts) / len(ts)
                sd = (sum((t - mean) ** 2 for t in ts) / len(ts)).sqrt()
                stats[judge] = (mean, sd)
        rows = []
        for a in members:
            values, relevance = [], []
            for e in by_app[a]:
                total, crit = totals[(e["judge"], a)]
                if e["judge"] in stats:
                    mean, sd = stats[e["judge"]]
                    z = Decimal(0) if sd == 0 else (total - mean) / sd
                    v = r(min(Decimal(10), max(Decimal(0), Decimal(5) + z * Decimal(10) / Decimal(6))), 4)
                else:
                    v = total
                values.append(v)
                relevance.append(crit["relevance"])
            panel = r(sum(values) / len(values), 2)
            score = r(context_adjusted(apps_by_id[a]["fields"], panel), 2)
            rel = r(sum(relevance) / len(relevance), 2)
            rows.append((score, rel, a))
        rows.sort(key=lambda x: (-x[0], -x[1], x[2]))
        ranked = []
        for score, rel, a in rows:
            first = next(k for k, (s2, r2, _) in enumerate(rows) if (s2, r2) == (score, rel))
            ranked.append((a, score, first + 1))
        out[cid] = ranked
    return out


def main():
    award = json.load(open("../../rubrics/seoul-smart-city-prize-2023/award.json"))
    data = json.load(open(sys.argv[1]))
    apps = data["applications"]
    apps_by_id = {a["id"]: a for a in apps}
    reviews = {d["application"]: d for d in data["reviews"]}
    status = {a["id"]: eligibility(a)[0] for a in apps}

    def admitted(a):
        s = status[a]
        return s == "eligible" or (s == "needs_review" and reviews.get(a, {}).get("eligible") is True)

    screening = [a["id"] for a in apps if admitted(a["id"])]
    expert = data["rounds"]["expert"]
    expert_results = round_results(award, apps_by_id, expert["entrants"], expert["marks"], True)
    advanced = []
    for cid, ranked in expert_results.items():
        if len(ranked) >= 5:
            cutoff = ranked[4][2]
            advanced += [a for a, _, rank in ranked if rank <= cutoff]
        else:
            advanced += [a for a, _, _ in ranked]
    for a in sorted(advanced):
        print(a, file=sys.stderr)
    final = data["rounds"]["final"]
    final_results = round_results(award, apps_by_id, final["entrants"], final["marks"], False)
    winners = {d["application"] for d in data["decisions"]}
    mentions = {m["application"] for m in data["mentions"]}
    places = {}
    for rid, results in (("expert", expert_results), ("final", final_results)):
        for ranked in results.values():
            for a, score, rank in ranked:
                places[(rid, a)] = (score, rank)
    w = csv.writer(sys.stdout, lineterminator="\n")
    # The place over the whole award: the round reached (further first), winners first, then
    # the rank in that round (none, as in screening, ranks after every rank).
    order = {"screening": 0, "expert": 1, "final": 2}
    keys = {}
    for a in apps:
        aid = a["id"]
        if status[aid] == "ineligible" or not admitted(aid):
            continue
        furthest = "final" if aid in final["entrants"] else "expert" if aid in expert["entrants"] else "screening" if aid in screening else None
        if furthest is None:
            continue
        rank = places.get((furthest, aid), (None, None))[1]
        keys[aid] = (a["category"], -order[furthest], aid not in winners, rank if rank is not None else float("inf"))
    place = {aid: 1 + sum(1 for b, kb in keys.items() if kb[0] == k[0] and kb < k) for aid, k in keys.items()}
    w.writerow(["category", "application", "outcome", "eligibility", "review", "furthest_round", "place",
                "screening_score", "screening_rank", "expert_score", "expert_rank", "final_score", "final_rank"])
    for a in sorted(apps, key=lambda x: (x["category"], x["id"])):
        aid = a["id"]
        s = status[aid]
        review = reviews.get(aid)
        review_text = "" if review is None else ("admitted: " if review["eligible"] else "refused: ") + review["reason"]
        if s == "ineligible":
            outcome = "ineligible"
        elif not admitted(aid):
            outcome = "not_admitted"
        elif aid in winners:
            outcome = "winner"
        elif aid in mentions:
            outcome = "special_mention"
        else:
            outcome = "not_awarded"
        furthest = ""
        if aid in screening:
            furthest = "screening"
        if aid in expert["entrants"]:
            furthest = "expert"
        if aid in final["entrants"]:
            furthest = "final"
        row = [a["category"], aid, outcome, s, review_text, furthest, str(place.get(aid, "")), "", ""]
        for rid in ("expert", "final"):
            score, rank = places.get((rid, aid), ("", ""))
            row += [f"{score}", f"{rank}"]
        w.writerow(row)


if __name__ == "__main__":
    main()
