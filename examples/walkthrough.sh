#!/usr/bin/env bash
# A walkthrough of the Laurel service with curl: start it, open the Seoul prize, take an
# application, assign a judge, mark, close, compute results, export CSV, verify the audit chain.
# CI runs it (`.ci/run`); run it yourself with `bash examples/walkthrough.sh`.
set -euo pipefail
cd "$(dirname "$0")/.."
laurel=${LAUREL:-target/debug/laurel}
[ -x "$laurel" ] || cargo build --quiet
data=$(mktemp -d)
log="$data/serve.log"
trap 'kill $pid 2>/dev/null || true; rm -rf "$data"' EXIT

step() { printf '\n== %s\n' "$*"; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

step "laurel serve --data $data/laurel-data --listen 127.0.0.1:0"
"$laurel" serve --data "$data/laurel-data" --listen 127.0.0.1:0 >"$log" 2>/dev/null &
pid=$!
for _ in $(seq 1 100); do grep -q "listening on" "$log" && break; sleep 0.1; done
cat "$log"
url=$(sed -n 's/^laurel: listening on //p' "$log")
admin=$(sed -n 's/^laurel: admin key (shown once; only its hash is stored): //p' "$log")
auth=(-H "Authorization: Bearer $admin")
award=seoul-smart-city-prize-2023

step "curl $url/v1/health"
curl -sf "$url/v1/health"; echo

step "open the Seoul prize (installed from rubrics/ as version 1)"
curl -sf -X POST "${auth[@]}" "$url/v1/awards/$award/open" | json 'd["state"]'

step "an applicant key, and an application"
applicant=$(curl -sf -X POST "${auth[@]}" -d '{"role": "applicant", "label": "walkthrough"}' "$url/v1/keys" | json 'd["key"]')
python3 -c "import json; print(json.dumps(json.load(open('examples/seoul-smart-city-prize-2023/applications.json'))[0]))" > "$data/app.json"
curl -sf -X POST -H "Authorization: Bearer $applicant" --data-binary @"$data/app.json" "$url/v1/awards/$award/applications" | json 'd["id"], d["eligibility"]["status"]'

step "an invalid application: every problem located (422, problem+json)"
sed 's/"population": [0-9]*/"population": "many"/' "$data/app.json" > "$data/bad.json"
curl -s -X POST -H "Authorization: Bearer $applicant" --data-binary @"$data/bad.json" "$url/v1/awards/$award/applications" | json '[(e["pointer"], e["message"]) for e in d["errors"]]'

step "close, assign a judge, mark"
curl -sf -X POST "${auth[@]}" "$url/v1/awards/$award/close" | json 'd["state"]'
curl -sf -X PUT "${auth[@]}" -d '{"applications": ["app-001"]}' "$url/v1/awards/$award/assignments/judge-kim" >/dev/null
judge=$(curl -sf -X POST "${auth[@]}" -d '{"role": "judge", "subject": "judge-kim"}' "$url/v1/keys" | json 'd["key"]')
curl -sf -H "Authorization: Bearer $judge" "$url/v1/awards/$award/applications/app-001" | json '"judge sees contact details:", "contact" in d["application"]["fields"]'
marks=$(python3 -c "import json; m=json.load(open('examples/seoul-smart-city-prize-2023/marks.json')); e=[x for x in m['evaluations'] if x['application']=='app-001'][0]; print(json.dumps({'marks': e['marks']}))")
curl -sf -X PUT -H "Authorization: Bearer $judge" -d "$marks" "$url/v1/awards/$award/marks/app-001" | json 'd["judge"], len(d["marks"]), "marks"'

step "compute results; export CSV"
curl -sf -X POST "${auth[@]}" "$url/v1/awards/$award/results" | json 'd["results_sha256"], [(c["category"], [(p["rank"], p["application"], p["score"]) for p in c["ranking"]]) for c in d["categories"]]'
curl -sf "${auth[@]}" "$url/v1/awards/$award/results.csv"

step "the audit chain"
curl -sf "${auth[@]}" "$url/v1/audit" | json '[(r["seq"], r["action"], r["target"]) for r in d]'
kill -TERM $pid; wait $pid || true
"$laurel" audit verify "$data/laurel-data"
echo "walkthrough: ok"
