#!/usr/bin/env python3
"""An independent reference implementation of the Seoul rubric's rules, in Python's decimal
module, written from the rubric's README (not from Laurel's code). It writes the golden files
that tests/examples.rs compares Laurel's results with.

Run from this folder: python3 reference.py
"""
import csv
import json
from decimal import ROUND_HALF_UP, Decimal, getcontext

getcontext().prec = 28


def r(x, places):
    return x.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def D(x):
    return Decimal(str(x))


# Eligibility, as the README states it.
def eligibility(app):
    f, t, c = app["fields"], app["applicant_type"], app["category"]
    failed = []
    allowed = {"tech-innovacity": {"city", "corporation", "institution"},
               "human-centricity": {"city", "corporation", "institution"}, "leadership": {"individual"}}[c]
    if t not in allowed:
        failed.append(("category-admits-applicant-type", "ineligible"))
    if t == "city" and not (f.get("government_level") in ("local", "regional") or f.get("targets_select_cities") is True):
        failed.append(("city-government-level", "review"))
    if t == "corporation" and f.get("for_profit") is not True:
        failed.append(("corporation-for-profit", "ineligible"))
    if c == "human-centricity" and len(f.get("target_groups", [])) < 1:
        failed.append(("human-target-groups", "ineligible"))
    if c == "leadership":
        # The nomination rules (the rhai plugin's, as the README states them).
        kind = f.get("nomination_type")
        ok = (kind == "nominated" and f.get("candidate_permission") is True and (f.get("nominator") or {}).get("name")) or \
             (kind == "self" and f.get("recommendation_letter"))
        if not ok:
            failed.append(("leadership-nomination", "ineligible"))
    if any(o == "ineligible" for _, o in failed):
        return "ineligible", failed
    return ("needs_review" if failed else "eligible"), failed


# Scoring: weighted means (all weights 1 in the rubric, but read them), 2 places half-up for
# criteria and judges' totals; z-score per judge over their applications in the category,
# placed at 5 + z x 10/6, clamped to 0..10, 4 places; panel mean, 2 places; final 2 places.
def weighted_mean(parts):
    return sum(w * v for w, v in parts) / sum(w for w, _ in parts)


def context_adjusted(f, total):
    """The statistical formula (plugins/seoul-context-score/README.md)."""
    if not all(k in f for k in ("gdp_per_capita_usd", "internet_penetration_pct", "digital_maturity")):
        return total
    gdp = D(f["gdp_per_capita_usd"])
    income = Decimal(1) if gdp <= 1135 else Decimal("0.6667") if gdp <= 4465 else Decimal("0.3333") if gdp <= 13845 else Decimal(0)
    offline = r((100 - D(f["internet_penetration_pct"])) / 100, 4)
    stage = {"emerging": Decimal(1), "developing": Decimal("0.5"), "advanced": Decimal(0)}[f["digital_maturity"]]
    index = r((income + offline + stage) / 3, 4)
    return min(Decimal(10), r(total * (1 + index / 10), 4))




def main():
    award = json.load(open("../../rubrics/seoul-smart-city-prize-2023/award.json"))
    apps = json.load(open("applications.json"))
    marks = json.load(open("marks.json"))
    reviews = {d["application"]: d["eligible"] for d in marks["review_decisions"]}
    status = {}
    with open("expected/eligibility.csv", "w", newline="") as out:
        w = csv.writer(out)
        w.writerow(["application", "status", "admitted", "failed_rules"])
        for app in apps:
            s, failed = eligibility(app)
            admitted = s == "eligible" or (s == "needs_review" and reviews.get(app["id"]) is True)
            status[app["id"]] = admitted
            w.writerow([app["id"], s, str(admitted).lower(), ";".join(rule for rule, _ in failed)])

    categories = {c["id"]: c for c in award["categories"]}
    by_app = {}
    for e in marks["evaluations"]:
        by_app.setdefault(e["application"], []).append(e)


    with open("expected/results.csv", "w", newline="") as out:
        w = csv.writer(out)
        w.writerow(["category", "rank", "application", "score", "winner", "tied", "relevance"])
        for cid, cat in categories.items():
            members = [a for a in apps if a["category"] == cid and status[a["id"]] and by_app.get(a["id"])]
            judge_totals = {}  # (judge, app) -> (total, {criterion: score})
            for a in members:
                for e in by_app[a["id"]]:
                    crit = {}
                    for c in cat["criteria"]:
                        crit[c["id"]] = r(weighted_mean([(D(i["weight"]), D(e["marks"][i["id"]])) for i in c["indicators"]]), 2)
                    total = r(weighted_mean([(D(c["weight"]), crit[c["id"]]) for c in cat["criteria"]]), 2)
                    judge_totals[(e["judge"], a["id"])] = (total, crit)
            stats = {}
            for judge in {j for j, _ in judge_totals}:
                ts = [t for (j, _), (t, _) in judge_totals.items() if j == judge]
                mean = sum(ts) / len(ts)
                sd = (sum((t - mean) ** 2 for t in ts) / len(ts)).sqrt()
                stats[judge] = (mean, sd)
            rows = []
            for a in members:
                normalised, relevance = [], []
                for e in by_app[a["id"]]:
                    total, crit = judge_totals[(e["judge"], a["id"])]
                    mean, sd = stats[e["judge"]]
                    z = Decimal(0) if sd == 0 else (total - mean) / sd
                    v = min(Decimal(10), max(Decimal(0), Decimal(5) + z * Decimal(10) / Decimal(6)))
                    normalised.append(r(v, 4))
                    relevance.append(crit["relevance"])
                panel = r(sum(normalised) / len(normalised), 2)
                score = r(context_adjusted(a["fields"], panel), 2)
                rel = r(sum(relevance) / len(relevance), 2)
                rows.append((score, rel, a["id"]))
            rows.sort(key=lambda x: (-x[0], -x[1], x[2]))
            for i, (score, rel, aid) in enumerate(rows):
                first = next(k for k, (s2, r2, _) in enumerate(rows) if (s2, r2) == (score, rel))
                rank = first + 1
                tied = sum(1 for s2, r2, _ in rows if (s2, r2) == (score, rel)) > 1
                w.writerow([cid, rank, aid, f"{score}", str(rank <= cat["winners"]).lower(), str(tied).lower(), f"{rel}"])
    print("wrote expected/results.csv and expected/eligibility.csv")


if __name__ == "__main__":
    main()
