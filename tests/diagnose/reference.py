#!/usr/bin/env python3
"""Independent reference values for `laurel diagnose`, from the `krippendorff` and `pingouin`
packages (PyPI), on the cases listed below. Written from the definitions in the diagnose
module's documentation, not from Laurel's code:

- a judge's mark on a criterion is the weighted mean of their marks on its indicators; their
  overall mark is the weighted mean of their criterion marks (weights from the rubric);
- only admitted applications count (from the case's eligibility file when it has one);
- alpha: krippendorff.alpha(level_of_measurement="interval") over judges x applications, with
  NaN where a judge did not mark an application; per indicator also "ordinal" (the values
  given as the ordered categories);
- ranked_by: where the rubric normalises by z-score, alpha on each judge's overall marks
  standardised among their own marks in the category (judges with fewer than `min_marks`
  marks left out); Laurel rounds criterion scores and totals as the rubric says, so the two
  agree to about 1e-3, not to the last digit; the ICC of those z-scores too, when every
  application has as many;
- ICC: pingouin.intraclass_corr on the overall marks, when every application has the same
  number of judges: raters are the judges when every judge marked every application (two-way),
  otherwise the first, second, ... judge of each application, by judge id (one-way);
- severity: statsmodels OLS of the overall marks on application and judge (deviation coding,
  `C(judge, Sum)`), each judge's coefficient (the last one's is minus the others' sum) and
  its standard error (from the coefficients' covariance), with the residual degrees of freedom.

    python3 tests/diagnose/reference.py > tests/diagnose/expected.json

`tests/diagnose.rs` runs this script and compares its output with the committed file, and
compares Laurel's values with the committed file.
"""
import csv
import json
import sys
import warnings
from pathlib import Path

import krippendorff
import numpy as np
import pandas as pd
import pingouin
import statsmodels.formula.api as smf

warnings.filterwarnings("ignore")
root = Path(__file__).resolve().parents[2]
CASES = {
    "seoul-example": (root / "rubrics/seoul-smart-city-prize-2023/award.json",
                      root / "examples/seoul-smart-city-prize-2023/applications.json",
                      root / "examples/seoul-smart-city-prize-2023/marks.json",
                      root / "examples/seoul-smart-city-prize-2023/expected/eligibility.csv"),
    "complete-design": (root / "tests/diagnose/complete/award.json",
                        root / "tests/diagnose/complete/applications.json",
                        root / "tests/diagnose/complete/marks.json", None),
}


def weighted(pairs):
    pairs = [(w, v) for w, v in pairs if v is not None]
    if not pairs:
        return None
    total = sum(w for w, _ in pairs)
    if total > 0:
        return sum(w * v for w, v in pairs) / total
    return sum(v for _, v in pairs) / len(pairs)


def case(award_path, apps_path, marks_path, eligibility):
    award = json.loads(award_path.read_text())
    apps = json.loads(apps_path.read_text())
    marks = json.loads(marks_path.read_text())["evaluations"]
    if eligibility:
        with open(eligibility) as f:
            admitted = {r["application"] for r in csv.DictReader(f) if r["admitted"] == "true"}
    else:
        admitted = {a["id"] for a in apps}
    out = {}
    for category in award["categories"]:
        ids = [a["id"] for a in apps if a["category"] == category["id"] and a["id"] in admitted]
        sheets = {}  # (judge, app) -> (criteria marks, overall)
        for e in marks:
            if e["application"] not in ids:
                continue
            crit = [weighted([(float(i["weight"]), float(e["marks"][i["id"]]) if i["id"] in e["marks"] else None)
                              for i in c["indicators"]]) for c in category["criteria"]]
            overall = weighted([(float(c["weight"]), v) for c, v in zip(category["criteria"], crit)])
            marks_of = {i["id"]: (float(e["marks"][i["id"]]) if i["id"] in e["marks"] else None)
                        for c in category["criteria"] for i in c["indicators"]}
            sheets[(e["judge"], e["application"])] = (crit, overall, marks_of)
        if not sheets:
            continue
        judges = sorted({j for j, _ in sheets})
        units = [a for a in ids if any((j, a) in sheets for j in judges)]

        def alpha(pick):
            data = np.array([[np.nan if (j, a) not in sheets or pick(sheets[(j, a)]) is None
                              else pick(sheets[(j, a)]) for a in units] for j in judges], dtype=float)
            return float(krippendorff.alpha(reliability_data=data, level_of_measurement="interval"))

        def ordinal(pick):
            data = np.array([[np.nan if (j, a) not in sheets or pick(sheets[(j, a)]) is None
                              else pick(sheets[(j, a)]) for a in units] for j in judges], dtype=float)
            return float(krippendorff.alpha(reliability_data=data, level_of_measurement="ordinal"))

        result = {"overall": alpha(lambda s: s[1]),
                  "criteria": {c["id"]: alpha(lambda s, k=k: s[0][k])
                               for k, c in enumerate(category["criteria"])},
                  "indicators": {i["id"]: {"interval": alpha(lambda s, i=i: s[2][i["id"]]),
                                           "ordinal": ordinal(lambda s, i=i: s[2][i["id"]])}
                                 for c in category["criteria"] for i in c["indicators"]}}
        # What the rubric ranks by when it normalises by z-score: each judge's overall mark as a
        # z-score among that judge's marks in the category (population SD), for judges with at
        # least `min_marks` of them (5 by default in format 1.1); alpha on those.
        norm = award.get("scoring", {}).get("normalisation", {})
        if norm.get("method") == "z_score":
            least = norm.get("min_marks", 5)
            z = {}
            for j in judges:
                theirs = [(a, sheets[(j, a)][1]) for a in units if (j, a) in sheets]
                values = np.array([v for _, v in theirs], dtype=float)
                if len(values) < least or values.std() == 0:
                    continue
                for a, v in theirs:
                    z[(j, a)] = (v - values.mean()) / values.std()
            data = np.array([[z.get((j, a), np.nan) for a in units] for j in judges], dtype=float)
            result["ranked_by"] = float(krippendorff.alpha(reliability_data=data, level_of_measurement="interval"))
            zs = {a: [j for j in judges if (j, a) in z] for a in units}
            zs = {a: js for a, js in zs.items() if js}
            sizes = {len(v) for v in zs.values()}
            if len(sizes) == 1 and min(sizes) >= 2:
                complete = all(len(v) == len(judges) for v in zs.values())
                rows = [{"target": a, "rater": (j if complete else f"r{n}"), "rating": z[(j, a)]}
                        for a, js in zs.items() for n, j in enumerate(js)]
                icc = pingouin.intraclass_corr(data=pd.DataFrame(rows), targets="target",
                                               raters="rater", ratings="rating")
                values = {row["Type"]: float(row["ICC"]) for _, row in icc.iterrows()}
                result["ranked_by_icc"] = {"model": "two-way" if complete else "one-way",
                                           "panel": values["ICC(A,k)" if complete else "ICC(1,k)"]}
        per_app = {a: [j for j in judges if (j, a) in sheets] for a in units}
        sizes = {len(v) for v in per_app.values()}
        if len(sizes) == 1 and sizes.pop() >= 2:
            complete = all(len(v) == len(judges) for v in per_app.values())
            rows = [{"target": a, "rater": (j if complete else f"r{n}"), "rating": sheets[(j, a)][1]}
                    for a, js in per_app.items() for n, j in enumerate(js)]
            icc = pingouin.intraclass_corr(data=pd.DataFrame(rows), targets="target",
                                           raters="rater", ratings="rating")
            values = {row["Type"]: float(row["ICC"]) for _, row in icc.iterrows()}
            result["icc"] = {"model": "two-way" if complete else "one-way", "values": values}
        rows = [{"app": a, "judge": j, "y": sheets[(j, a)][1]} for (j, a) in sheets
                if sheets[(j, a)][1] is not None]
        if len(judges) >= 2:
            fit = smf.ols("y ~ C(app) + C(judge, Sum)", data=pd.DataFrame(rows)).fit()
            names = [n for n in fit.params.index if n.startswith("C(judge, Sum)")]
            cov = fit.cov_params().loc[names, names].to_numpy()
            coef = fit.params[names].to_numpy()
            # The last judge's effect is minus the others' sum: its variance is 1' Σ 1.
            effects = list(coef) + [-coef.sum()]
            variances = list(np.diag(cov)) + [cov.sum()]
            result["severity"] = {"df": float(fit.df_resid), "judges": {
                j: {"effect": float(e), "se": float(np.sqrt(v))}
                for j, e, v in zip(judges, effects, variances)}}
        out[category["id"]] = result
    return out


json.dump({name: case(*paths) for name, paths in CASES.items()}, sys.stdout, indent=2, sort_keys=True)
print()
