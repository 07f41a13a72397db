#!/usr/bin/env python3
"""Generates the synthetic Seoul Smart City Prize 2023 data set: applications.json and marks.json.

Deterministic (seeded). 62 applications across the three categories and four applicant types,
some ineligible for stated reasons, marked by 7 judges of different severity, each application
by 5 of them. Run from this folder: python3 generate.py
"""
import hashlib
import os
import json
import random

rng = random.Random(2023)
TECH = ["technological-novelty", "transformative-implementation", "user-friendliness", "application-complexity",
        "technological-applicability", "transparency", "institution-and-policy", "accountability",
        "monitoring-and-evaluation", "digital-compatibility", "collaborative-effort", "stakeholder-diversity",
        "advocacy-for-data-security", "data-management-strategy", "organizational-responsibility",
        "encryption-of-private-data"]
HUMAN = ["addressing-digital-divide", "dei", "environmental-sustainability", "user-friendliness",
         "service-accessibility", "technological-applicability", "transparency", "institution-and-policy",
         "accountability", "monitoring-and-evaluation", "digital-compatibility", "collaborative-effort",
         "stakeholder-diversity", "citizen-voices", "advocacy-for-data-security", "data-management-strategy",
         "organizational-responsibility", "encryption-of-private-data"]
LEAD = ["technological-novelty", "creative-application", "impact-on-quality-of-life", "impact-on-smart-city-field",
        "cross-sector-partnerships", "citizens-voices", "knowledge-sharing", "social-media"]
INDICATORS = {"tech-innovacity": TECH, "human-centricity": HUMAN, "leadership": LEAD}
CITIES = [("Seoul", "KR"), ("Bogotá", "CO"), ("Tallinn", "EE"), ("Kigali", "RW"),
          ("Surabaya", "ID"), ("Porto", "PT"), ("Montevideo", "UY"), ("Ulaanbaatar", "MN"),
          ("Amman", "JO"), ("Da Nang", "VN"), ("Kazan", "RU"), ("Busan", "KR"),
          ("Makati", "PH"), ("Tunis", "TN"), ("Quito", "EC"), ("Tbilisi", "GE"),
          ("Almaty", "KZ"), ("Nairobi", "KE"), ("Helsinki", "FI"), ("Medellín", "CO")]
SECTORS = ["mobility", "safety", "welfare", "environment", "energy", "culture", "governance"]
GROUPS = ["elderly", "youth", "disabled", "low_income", "migrants", "other"]
INSTITUTIONS = ["governmental", "non_governmental", "association", "public_agency", "international_organization", "academic", "non_profit"]


def sha(text):
    return hashlib.sha256(text.encode()).hexdigest()


# The files applications refer to (letters of recommendation): small real PDFs, written to
# files/, which a portal uploads before it submits (the server accepts a reference only to a
# file its submitter uploaded).
FILES = {}


def pdf(name, text):
    content = f"%PDF-1.4\n% {text}\n".encode()
    FILES[name] = content
    return {"name": name, "media_type": "application/pdf", "sha256": hashlib.sha256(content).hexdigest()}


def project_fields(n, category, city, country):
    f = {
        "country": country, "city": city,
        "contact": {"name": f"Contact {n}", "email": f"contact{n:03d}@example.org", "phone": f"+82 2 {1000 + n} 5678"},
        "project_title": f"Project {n}: {rng.choice(['Open', 'Smart', 'Inclusive', 'Green', 'Digital'])} {rng.choice(['Mobility', 'Care', 'Services', 'Data', 'Commons'])} for {city}",
        "project_summary": ("A city-wide programme that " + rng.choice(["connects", "serves", "supports", "equips"]) +
                            " residents through public digital services, designed with citizens and evaluated every year. ") * 2,
        "project_start": f"20{rng.randint(18, 22)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        "sectors": sorted(rng.sample(SECTORS, rng.randint(1, 3))),
        "population": rng.randint(80_000, 10_000_000),
        "gdp_per_capita_usd": rng.randint(1_500, 65_000),
        "internet_penetration_pct": rng.randint(35, 99),
        "digital_maturity": rng.choice(["emerging", "developing", "advanced"]),
    }
    if category == "human-centricity":
        f["target_groups"] = sorted(rng.sample(GROUPS, rng.randint(1, 3)))
    return f


apps = []
n = 0


def add(category, applicant_type, extra, name=None):
    global n
    n += 1
    city, country = CITIES[n % len(CITIES)]
    if category == "leadership":
        fields = {"country": country, "city": city,
                  "contact": {"name": f"Candidate {n}", "email": f"candidate{n:03d}@example.org"},
                  "achievements": ("Led the city's open data programme and a regional network of smart city practitioners, "
                                   "sharing tools and methods with peer cities. ") * 2}
    else:
        fields = project_fields(n, category, city, country)
    fields["applicant_name"] = name or f"{city} {applicant_type} {n}"
    fields.update(extra)
    apps.append({"id": f"app-{n:03d}", "category": category, "applicant_type": applicant_type, "fields": fields})
    return apps[-1]["id"]


notes = {}
for category, counts in [("tech-innovacity", {"city": 12, "corporation": 8, "institution": 6}),
                         ("human-centricity", {"city": 10, "corporation": 6, "institution": 8})]:
    for t, k in counts.items():
        for _ in range(k):
            if t == "city":
                extra = {"government_level": rng.choice(["local", "local", "regional"]), "targets_select_cities": rng.random() < 0.5}
            elif t == "corporation":
                extra = {"company_size": rng.choice(["mnc", "sme", "startup"]), "for_profit": True}
            else:
                extra = {"institution_kind": rng.choice(INSTITUTIONS)}
            add(category, t, extra)
# Stated reasons for ineligibility or review.
notes[add("tech-innovacity", "corporation", {"company_size": "sme", "for_profit": False})] = "non-profit corporation: ineligible"
notes[add("human-centricity", "corporation", {"company_size": "startup", "for_profit": False})] = "non-profit corporation: ineligible"
notes[add("tech-innovacity", "city", {"government_level": "national", "targets_select_cities": False}, "Ministry of Digital Affairs")] = "national government, no select cities: review, admitted"
notes[add("human-centricity", "city", {"government_level": "national", "targets_select_cities": False}, "National Inclusion Agency")] = "national government, no select cities: review, refused"
notes[add("tech-innovacity", "city", {"government_level": "national", "targets_select_cities": True}, "National Smart Villages Office")] = "national government targeting select cities: eligible"
notes[add("tech-innovacity", "individual", {})] = "an individual cannot enter Tech-InnovaCity: ineligible"
for i in range(12):
    kind = "self" if i % 3 == 0 else "nominated"
    extra = {"nomination_type": kind}
    if kind == "self":
        extra["recommendation_letter"] = pdf(f"letter-{i}.pdf", f"letter {i}")
    else:
        extra["candidate_permission"] = True
        extra["nominator"] = {"name": f"Nominator {i}", "organisation": "WeGO member city", "email": f"nominator{i}@example.org"}
    add("leadership", "individual", extra, f"Candidate {i + 1}")
notes[add("leadership", "individual", {"nomination_type": "nominated", "candidate_permission": False,
                                        "nominator": {"name": "N. Nominator", "organisation": "City Hall", "email": "nn@example.org"}}, "Unconsenting Candidate")] = "nominated without permission: ineligible"
notes[add("leadership", "individual", {"nomination_type": "self"}, "Letterless Candidate")] = "self-nominated without a letter: ineligible"
notes[add("leadership", "city", {"government_level": "local", "targets_select_cities": True, "nomination_type": "self",
                                  "recommendation_letter": pdf("l.pdf", "l")})] = "a city cannot enter Leadership: ineligible"
unmarked = add("human-centricity", "institution", {"institution_kind": "academic"}, "Late University")
notes[unmarked] = "eligible, but no judge marked it: unscored"

ineligible = {a for a, why in notes.items() if "ineligible" in why or "refused" in why}
# Seven judges: severity (offset) and spread (how much of the quality they express).
JUDGES = [("judge-kim", -1.5, 0.8), ("judge-garcia", -0.5, 1.0), ("judge-okafor", 0.0, 1.2), ("judge-larsen", 0.5, 0.6),
          ("judge-tanaka", 1.0, 1.0), ("judge-haddad", -1.0, 1.4), ("judge-silva", 1.5, 0.7)]
evaluations = []
for k, app in enumerate(apps):
    if app["id"] in ineligible or app["id"] == unmarked:
        continue
    inds = INDICATORS[app["category"]]
    quality = {i: rng.uniform(3.0, 9.0) for i in inds}
    base = rng.uniform(-1.0, 1.0)
    panel = [JUDGES[(k + j) % 7] for j in range(5)]
    for judge, offset, spread in panel:
        marks = {}
        for i in inds:
            raw = 6 + spread * (quality[i] + base - 6) + offset + rng.gauss(0, 0.6)
            marks[i] = max(0.0, min(10.0, round(raw * 2) / 2))
        evaluations.append({"judge": judge, "application": app["id"], "marks": {i: (int(v) if v == int(v) else v) for i, v in marks.items()}})

# Two leadership candidates marked identically by the same judges: a tie that nothing breaks.
twin = [dict(e, application="app-067") for e in evaluations if e["application"] == "app-066"]
evaluations = [e for e in evaluations if e["application"] != "app-067"] + twin
notes["app-067"] = "marked exactly as app-066: shares its rank"

review = [
    {"application": a, "eligible": "admitted" in why, "reason": "The evaluation bodies deem the initiative in line with the Prize objective." if "admitted" in why else "The initiative targets the whole country, not a select number of cities."}
    for a, why in notes.items() if "review" in why
]
mentions = [{"application": "app-004", "reason": "An exemplary citizen data charter."},
            {"application": "app-031", "reason": "Outstanding outreach to elderly residents."}]
marks = {"$schema": "../../schemas/marks.schema.json", "evaluations": evaluations, "review_decisions": review, "special_mentions": mentions}
os.makedirs("files", exist_ok=True)
for name, content in FILES.items():
    with open(os.path.join("files", name), "wb") as f:
        f.write(content)

with open("applications.json", "w") as f:
    json.dump(apps, f, ensure_ascii=False, indent=1)
    f.write("\n")
with open("marks.json", "w") as f:
    json.dump(marks, f, ensure_ascii=False, indent=1)
    f.write("\n")
with open("expected/notes.json", "w") as f:
    json.dump(notes, f, indent=1)
    f.write("\n")
print(f"{len(apps)} applications, {len(evaluations)} evaluations, {len(ineligible)} ineligible or refused")
