"""`POST /v1/evaluate` for one Seoul application and its five judges' marks (the request of
`cargo bench --bench http`) from K clients for T seconds: requests a second, and the server's
CPU per request, read from /proc (the server's own threads only), which a closed-loop rate on
two shared cores hides.

    python3 examples/scale/evaluate_cpu.py target/release/laurel K T [notrace|civic]

`notrace` asks for numbers only (`?trace=false`); `civic` scores the civic fellowship (no
plugin) instead."""
import http.client
import json
import os
import sys
import threading
import time

from at_size import ROOT, SEOUL, Server

binary, k, T = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
flags = sys.argv[4:]
path = "/v1/evaluate?trace=false" if "notrace" in flags else "/v1/evaluate"
if "civic" in flags:
    app = {"id": "r-1", "category": "research-fellowship", "applicant_type": "researcher",
           "fields": {"title": "Open budgets", "resident_in_city": True, "budget_requested": 30000,
                      "phd_year": 2018, "open_source_license": "mit"}}
    marks = [{"judge": f"j{j}", "application": "r-1",
              "marks": {"policy-relevance": 1 + j % 5, "method": 1 + (j + 1) % 5,
                        "track-record": 1 + (j + 2) % 5}} for j in range(1, 6)]
    body = {"award": {"id": "civic-tech-fellowship-2025"}, "applications": [app],
            "marks": {"evaluations": marks}}
else:
    app = json.load(open(f"{ROOT}/examples/{SEOUL}/applications.json"))[0]
    marks = json.load(open(f"{ROOT}/examples/{SEOUL}/marks.json"))["evaluations"]
    body = {"award": {"id": SEOUL}, "applications": [app],
            "marks": {"evaluations": [e for e in marks if e["application"] == app["id"]]}}
payload = json.dumps(body)
server = Server(binary)
stop = time.time() + T
counts = [0] * k
errors = []


def run(w):
    c = http.client.HTTPConnection("127.0.0.1", server.port)
    headers = {"authorization": f"Bearer {server.admin}", "content-type": "application/json"}
    while time.time() < stop:
        c.request("POST", path, payload, headers)
        r = c.getresponse()
        answer = r.read()
        if r.status != 200:
            errors.append((r.status, answer[:200]))
        else:
            counts[w] += 1


def cpu(pid):
    f = open(f"/proc/{pid}/stat").read().split(")")[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


pid = server.proc.pid
c0, t0 = cpu(pid), time.time()
ts = [threading.Thread(target=run, args=(w,)) for w in range(k)]
[t.start() for t in ts]
[t.join() for t in ts]
c1, dt = cpu(pid), time.time() - t0
n = sum(counts)
print(f"{n} requests in {dt:.1f}s = {n / dt:.0f}/s; laurel CPU {c1 - c0:.2f}s = "
      f"{(c1 - c0) / max(n, 1) * 1e6:.0f} us/request; errors {len(errors)} {errors[:1]}")
server.close()
