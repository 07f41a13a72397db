#!/usr/bin/env bash
# A walkthrough of the Laurel service with curl and the `laurel` CLI, on the real clock: the
# Seoul prize's 2023 call is rescheduled for a rehearsal, takes the example applications, runs
# its three judging rounds (screening, expert evaluation, final committee), publishes results
# that an applicant can read, then is backed up, restored and its audit chain verified.
# CI runs it (`.ci/run`); run it yourself with `bash examples/walkthrough.sh`.
set -euo pipefail
cd "$(dirname "$0")/.."
laurel=${LAUREL:-target/debug/laurel}
[ -x "$laurel" ] || cargo build --quiet
laurel=$(realpath "$laurel")
data=$(mktemp -d)
log="$data/serve.log"
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$data"' EXIT
example=examples/seoul-smart-city-prize-2023
award=seoul-smart-city-prize-2023

step() { printf '\n== %s\n' "$*"; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

step "laurel serve --data $data/laurel-data --key-file $data/laurel.key --listen 127.0.0.1:0"
"$laurel" serve --data "$data/laurel-data" --key-file "$data/laurel.key" \
  --listen 127.0.0.1:0 >"$log" 2>/dev/null &
pid=$!
for _ in $(seq 1 100); do grep -q "listening on" "$log" && break; sleep 0.1; done
cat "$log"
url=$(sed -n 's/^laurel: listening on //p' "$log")
admin=$(sed -n 's/^laurel: admin key (shown once; only its hash is stored): //p' "$log")
export LAUREL_KEY=$admin
auth=(-H "Authorization: Bearer $admin")
a="$url/v1/awards/$award"
rounds() { "$laurel" rounds "$@" --award "$award" --server "$url"; }

step "curl $url/v1/health"
curl -sf "$url/v1/health"; echo

step "open the Seoul prize (installed from rubrics/ as version 1)"
curl -sf -X POST "${auth[@]}" "$a/open" | json 'd["state"]'

step "an applicant key; the 2023 call closed long ago, so an application is refused (409)"
applicant=$(curl -sf -X POST "${auth[@]}" -d '{"role": "applicant", "label": "walkthrough"}' "$url/v1/keys" | json 'd["key"]')
python3 -c "import json; a=json.load(open('$example/applications.json'))[0]; del a['id']; print(json.dumps(a))" > "$data/app.json"
curl -s -X POST -H "Authorization: Bearer $applicant" --data-binary @"$data/app.json" "$a/applications" | json 'd["status"], d["detail"]'

step "reschedule the call to close in 30 days, for a rehearsal (the reason is audited)"
closes=$(date -u -d '+30 days' +%Y-%m-%dT18:00:00)
curl -sf -X POST "${auth[@]}" -d "{\"closes\": \"$closes\", \"reason\": \"a rehearsal of the 2023 call\"}" "$a/timeline" | json 'd["schedule"]'

step "an applicant uploads a document (its type read from its content), then submits an application that refers to it (the server names it)"
printf '%%PDF-1.4\n%% the walkthrough report\n' > "$data/report.pdf"
doc=$(curl -sf -X POST -H "Authorization: Bearer $applicant" --data-binary @"$data/report.pdf" "$a/uploads?field=supporting_documents&name=report.pdf")
echo "$doc"
python3 -c "import json,sys; a=json.load(open('$data/app.json')); a['fields']['supporting_documents']=[json.loads(sys.argv[1])]; print(json.dumps(a))" "$doc" > "$data/app-with-document.json"
mine=$(curl -sf -X POST -H "Authorization: Bearer $applicant" --data-binary @"$data/app-with-document.json" "$a/applications" | json 'd["id"]')
echo "$mine"
curl -sf -X POST -H "Authorization: Bearer $applicant" "$a/applications/$mine/withdraw" | json 'd["status"]'

step "a portal's applications (an integrator key, its own ids)"
portal=$(curl -sf -X POST "${auth[@]}" -d '{"role": "integrator", "label": "a partner portal"}' "$url/v1/keys" | json 'd["key"]')
python3 - "$a" "$portal" "$example" <<'EOF'
import collections, json, sys, urllib.error, urllib.request
base, key, example = sys.argv[1:]
seen = collections.Counter()
uploaded = 0
for app in json.load(open(f"{example}/applications.json")):
    # A file the application refers to is uploaded first, by the portal's own key.
    for field, ref in app["fields"].items():
        if isinstance(ref, dict) and "sha256" in ref:
            up = urllib.request.Request(f"{base}/uploads?field={field}&name={ref['name']}",
                                        open(f"{example}/files/{ref['name']}", "rb").read(), method="POST",
                                        headers={"Authorization": f"Bearer {key}"})
            urllib.request.urlopen(up)
            uploaded += 1
    req = urllib.request.Request(f"{base}/applications", json.dumps(app).encode(), method="POST",
                                 headers={"Authorization": f"Bearer {key}"})
    try:
        seen[json.load(urllib.request.urlopen(req))["eligibility"]["status"]] += 1
    except urllib.error.HTTPError as e:
        sys.exit(f"{app.get('id')}: {e.code} {e.read().decode()}")
print(dict(seen), f"({uploaded} letters uploaded first)")
EOF

step "an invalid application: every problem located (422, problem+json)"
sed 's/"population": [0-9]*/"population": "many"/' "$data/app.json" > "$data/bad.json"
curl -s -X POST -H "Authorization: Bearer $applicant" --data-binary @"$data/bad.json" "$a/applications" | json '[(e["pointer"], e["message"]) for e in d["errors"]]'

step "the secretariat decides the applications that needed review, then closes the call"
python3 - "$a" "$admin" "$example" <<'EOF'
import json, sys, urllib.request
base, key, example = sys.argv[1:]
for r in json.load(open(f"{example}/marks.json"))["review_decisions"]:
    body = {"eligible": r["eligible"], "reason": r["reason"]}
    req = urllib.request.Request(f"{base}/applications/{r['application']}/review", json.dumps(body).encode(),
                                 method="POST", headers={"Authorization": f"Bearer {key}"})
    urllib.request.urlopen(req)
    print(r["application"], "eligible" if r["eligible"] else "not eligible", "-", r["reason"])
EOF
curl -sf -X POST "${auth[@]}" "$a/close" | json 'd["state"]'

step "laurel rounds judges $example/judges.json; a key for each judge"
rounds judges "$example/judges.json"
python3 - "$url" "$admin" "$example" > "$data/judge-keys.json" <<'EOF'
import json, sys, urllib.request
url, key, example = sys.argv[1:]
keys = {}
for j in json.load(open(f"{example}/judges.json")):
    req = urllib.request.Request(f"{url}/v1/keys", json.dumps({"role": "judge", "subject": j["id"], "award": "seoul-smart-city-prize-2023"}).encode(),
                                 method="POST", headers={"Authorization": f"Bearer {key}"})
    keys[j["id"]] = json.load(urllib.request.urlopen(req))["key"]
print(json.dumps(keys))
EOF

step "people, not keys: invite a judge by e-mail (no SMTP given, so the mail is a file the log names)"
curl -sf -X POST "${auth[@]}" -d '{"email": "kim@example.org", "name": "Kim Ji-won", "language": "ko", "role": "judge", "judge": "judge-kim"}' "$a/invitations" | json 'd'
for _ in $(seq 1 50); do grep -q "laurel: mail to" "$log" && break; sleep 0.1; done
grep "laurel: mail to" "$log"
mail=$(sed -n 's/^laurel: mail to .* (\(.*\.eml\))$/\1/p' "$log" | head -1)
token=$(python3 -c "import email, re, sys
m = email.message_from_binary_file(open(sys.argv[1], 'rb'))
text = next(p.get_payload(decode=True).decode() for p in m.walk() if p.get_content_type() == 'text/plain')
print(re.search(r'sign-in\?token=([A-Za-z0-9_-]+)', text).group(1))" "$mail")
curl -s -c "$data/cookies" -o /dev/null -w '%{http_code} → %{redirect_url}\n' -d "token=$token" "$url/v1/sign-in/redeem"
curl -sf -b "$data/cookies" "$url/v1/me" | json 'd["email"], d["grants"]'

# Every judge marks what they are assigned in a round, as a judge's browser would: their work
# list, then one PUT per application (marks that differ by judge, application and round).
mark_round() {
  python3 - "$url" "$a" "$1" "$data/judge-keys.json" "rubrics/$award/award.json" <<'EOF'
import json, sys, urllib.request
url, base, rnd, keys_file, rubric = sys.argv[1:]
keys = json.load(open(keys_file))
indicators = {c["id"]: [i["id"] for cr in c["criteria"] for i in cr["indicators"]]
              for c in json.load(open(rubric))["categories"]}
def call(method, path, key, body=None):
    req = urllib.request.Request(path, None if body is None else json.dumps(body).encode(), method=method,
                                 headers={"Authorization": f"Bearer {key}"})
    return json.load(urllib.request.urlopen(req))
n = 0
for judge, key in keys.items():
    for work in call("GET", f"{url}/v1/me/work", key)["rounds"]:
        if work["round"] != rnd:
            continue
        for app in work["due"]:
            view = call("GET", f"{base}/rounds/{rnd}/applications/{app}", key)
            seed = sum(f"{app}{judge}{rnd}".encode())
            marks = {i: (seed + k * 7) % 11 for k, i in enumerate(indicators[view["application"]["category"]])}
            call("PUT", f"{base}/rounds/{rnd}/marks/{app}", key, {"marks": marks})
            n += 1
print(f"{n} evaluations marked in round `{rnd}`")
EOF
}

step "round 1, screening: every admitted application goes on"
rounds open screening | json 'len(d["entrants"]), "entrants"'
rounds close screening >/dev/null
rounds advance screening | json 'len(d["advanced"]), "advanced"'

step "round 2, expert evaluation: 3 judges each, drawn with seed 2023, free of conflicts"
rounds open expert --seed 2023 | json 'd["coverage"]'
mark_round expert
rounds close expert | json '"results_sha256", d["results_sha256"]'
rounds advance expert | json '[(x["application"]) for x in d["advanced"]]'

step "round 3, the final committee: 5 judges each; the committee decides the winners"
rounds open final --seed 7 | json 'd["coverage"]'
mark_round final
rounds close final >/dev/null
curl -sf "${auth[@]}" "$a/rounds/final/results" > "$data/final.json"
python3 - "$data/final.json" "rubrics/$award/award.json" > "$data/decisions.json" <<'EOF'
import json, sys
results, rubric = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
winners = {c["id"]: c.get("winners", 1) for c in rubric["categories"]}
decisions = [{"application": p["application"], "reason": f"the committee's choice in {c['category']}"}
             for c in results["results"]["categories"] for p in c["ranking"][:winners[c["category"]]]]
print(json.dumps({"decisions": decisions}))
EOF
curl -sf -X POST "${auth[@]}" --data-binary @"$data/decisions.json" "$a/rounds/final/advance" | json '[x["application"] for x in d["advanced"]]'

step "compute and publish the final results; results.csv"
curl -sf -X POST "${auth[@]}" "$a/results" | json 'd["results_sha256"]'
curl -sf -X POST "${auth[@]}" "$a/results/publish" | json 'd["published"]'
curl -sf "${auth[@]}" -D "$data/headers" -o "$data/results.csv" "$a/results.csv"
head -8 "$data/results.csv"
grep -i '^laurel-' "$data/headers"

step "anyone verifies the published results offline: the signed certificate and its public bundle"
curl -sf "$a/certificates" | json '[(c["number"], c["statement"]["bundle_sha256"], c["recomputes"]) for c in d["certificates"]]'
curl -sf -o "$data/results.laurel.json" "$a/certificates/1"
curl -sf -o "$data/results-keys.json" "$url/v1/keys/results"
"$laurel" verify "$data/results.laurel.json" --key "$data/results-keys.json"
curl -sf -H "Authorization: Bearer $portal" -o "$data/receipt.json" "$a/applications/app-001/receipt"
"$laurel" verify "$data/results.laurel.json" --server "$url" --receipt "$data/receipt.json" | tail -2

step "the portal reads an applicant's outcome"
curl -sf -H "Authorization: Bearer $portal" "$a/applications/app-001/outcome" | json 'd'

step "the audit chain, and a backup restored into a new data folder"
curl -sf "${auth[@]}" "$url/v1/audit/verify" | json 'd'
"$laurel" backup --server "$url" --out "$data/backup.json"
kill -TERM $pid; wait $pid || true; pid=
"$laurel" audit verify "$data/laurel-data" --witness "$data/laurel.witness"
"$laurel" restore "$data/backup.json" --data "$data/restored" --key-file "$data/laurel.key"
"$laurel" audit verify "$data/restored"
echo "walkthrough: ok"
