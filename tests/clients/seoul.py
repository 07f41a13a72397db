"""The Seoul prize through a client generated from schemas/openapi.json (openapi-python-client):
an award created from the Seoul rubric (its plugin files uploaded first), published and opened;
applications submitted; scoring through POST /v1/evaluate; results computed and read.

Env: LAUREL_URL, LAUREL_KEY, LAUREL_ROOT (the repository). Exits non-zero on any surprise."""

import hashlib
import json
import os
import sys
from pathlib import Path

from laurel_client import AuthenticatedClient
from laurel_client.api.applications import list_applications, submit_application
from laurel_client.api.awards import create_award, open_award, publish_award, upload_plugin_file
from laurel_client.api.keys import create_key
from laurel_client.api.results import compute_results, get_results
from laurel_client.api.scoring import evaluate
from laurel_client.models import (
    EvaluateRequest,
    LaurelApplication,
    LaurelApplicationFromAnApplicant,
    LaurelAwardDefinition,
    NewKey,
)
from laurel_client.types import File

root = Path(os.environ["LAUREL_ROOT"])
client = AuthenticatedClient(base_url=os.environ["LAUREL_URL"], token=os.environ["LAUREL_KEY"])
rubric = root / "rubrics" / "seoul-smart-city-prize-2023"


def expect(condition, what):
    if not condition:
        print(f"client program: {what}", file=sys.stderr)
        sys.exit(1)


definition = json.loads((rubric / "award.json").read_text())
definition["id"] = "seoul-client-rehearsal"
# The plugins the rubric pins, uploaded by their SHA-256.
for plugin in definition["plugins"]:
    data = (rubric / plugin["path"]).read_bytes()
    expect(hashlib.sha256(data).hexdigest() == plugin["sha256"], f"{plugin['path']} is pinned")
    r = upload_plugin_file.sync_detailed(plugin["sha256"], client=client, body=File(payload=data))
    expect(r.status_code in (200, 201), f"upload {plugin['path']}: {r.status_code} {r.content[:200]}")

r = create_award.sync_detailed(client=client, body=LaurelAwardDefinition.from_dict(definition))
expect(r.status_code == 201, f"create: {r.status_code} {r.content[:300]}")
expect(r.headers.get("location") == "/v1/awards/seoul-client-rehearsal", f"location {r.headers}")
r = publish_award.sync_detailed("seoul-client-rehearsal", client=client)
expect(r.status_code == 201, f"publish: {r.status_code} {r.content[:300]}")
r = open_award.sync_detailed("seoul-client-rehearsal", client=client)
expect(r.status_code == 200, f"open: {r.status_code} {r.content[:300]}")

applications = json.loads((root / "examples/seoul-smart-city-prize-2023/applications.json").read_text())[:8]
for a in applications:
    r = submit_application.sync_detailed("seoul-client-rehearsal", client=client, body=LaurelApplication.from_dict(a))
    expect(r.status_code == 201, f"submit {a['id']}: {r.status_code} {r.content[:300]}")
# An applicant submits their own, without an id: the server names it.
r = create_key.sync_detailed(client=client, body=NewKey.from_dict({"role": "applicant", "label": "an applicant"}))
expect(r.status_code == 201, f"applicant key: {r.status_code} {r.content[:300]}")
applicant = AuthenticatedClient(base_url=os.environ["LAUREL_URL"], token=json.loads(r.content)["key"])
everything = json.loads((root / "examples/seoul-smart-city-prize-2023/applications.json").read_text())
own = next(a for a in everything[8:] if "sha256" not in json.dumps(a))
own = {k: v for k, v in own.items() if k != "id"}
r = submit_application.sync_detailed(
    "seoul-client-rehearsal", client=applicant, body=LaurelApplicationFromAnApplicant.from_dict(own)
)
expect(r.status_code == 201, f"applicant's submission: {r.status_code} {r.content[:300]}")
named = json.loads(r.content)["id"]
expect(named.startswith("a-"), f"the server names it: {named}")
expect(r.headers.get("location", "").endswith("/" + named), f"its location: {r.headers}")
listed = list_applications.sync_detailed("seoul-client-rehearsal", client=client, limit=5)
expect(listed.status_code == 200 and len(json.loads(listed.content)) == 5, "a page of 5")
expect('rel="next"' in listed.headers.get("link", ""), "a next link")

# Scoring without storing: the published award, the example's marks.
marks = json.loads((root / "examples/seoul-smart-city-prize-2023/marks.json").read_text())
ids = {a["id"] for a in applications}
request = {
    "award": {"id": "seoul-client-rehearsal"},
    "applications": applications,
    "marks": {"evaluations": [e for e in marks["evaluations"] if e["application"] in ids]},
}
r = evaluate.sync_detailed(client=client, body=EvaluateRequest.from_dict(request))
expect(r.status_code == 200, f"evaluate: {r.status_code} {r.content[:300]}")
scored = json.loads(r.content)
ranked = [p["application"] for c in scored["categories"] for p in c["ranking"]]
expect(len(ranked) > 0, "someone is ranked")

r = compute_results.sync_detailed("seoul-client-rehearsal", client=client)
expect(r.status_code == 201, f"compute: {r.status_code} {r.content[:300]}")
r = get_results.sync_detailed("seoul-client-rehearsal", client=client)
expect(r.status_code == 200, f"results: {r.status_code}")
print(f"client program: ok ({len(applications)} applications, {len(ranked)} ranked by /v1/evaluate)")
