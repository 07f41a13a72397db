"""Times a judge's mark in the Seoul prize's expert round with N more applications in the award.

    python3 examples/scale/marks_at_size.py target/release/laurel N

Starts the server on sled in a throwaway folder, submits the example's 72 applications and N
copies of its eligible ones, runs the screening, opens the expert round, and times 60 marks
(SHEETS=n for more) from one client: p50, p90 and the fastest. PERF=1 records a profile of
the server while it marks (perf.data).
"""
import concurrent.futures as cf
import json
import os
import signal
import statistics
import subprocess
import sys
import time

from at_size import ROOT, SEOUL, Server, example_applications

binary, n = sys.argv[1], int(sys.argv[2])
server = Server(binary)
call = server.call
try:
    A = f"/v1/awards/{SEOUL}"
    call("POST", f"{A}/open", {})
    call("POST", f"{A}/timeline", {"closes": "2027-06-01T00:00:00Z", "reason": "probe"})
    integ = call("POST", "/v1/keys", {"role": "integrator"})[1]["key"]
    apps = example_applications()
    marks = json.load(open(f"{ROOT}/examples/{SEOUL}/marks.json"))
    for a in apps:
        st, v = call("POST", f"{A}/applications", a, integ)
        assert st == 201, v
    reviewed = {r["application"] for r in marks["review_decisions"]}
    eligible = [a for a in apps if a["id"] not in reviewed]

    def extra(i):
        return call("POST", f"{A}/applications", dict(eligible[i % len(eligible)], id=f"x-{i:06d}"), integ)[0]

    with cf.ThreadPoolExecutor(8) as ex:
        assert all(s == 201 for s in ex.map(extra, range(n)))
    for r in marks["review_decisions"]:
        call("POST", f"{A}/applications/{r['application']}/review", {"eligible": r["eligible"], "reason": r["reason"]})
    call("POST", f"{A}/close", {})
    keys = {}
    for j in json.load(open(f"{ROOT}/examples/{SEOUL}/judges.json")):
        st, v = call("PUT", f"{A}/judges/{j['id']}", j)
        assert st == 200, v
        keys[j["id"]] = call("POST", "/v1/keys", {"role": "judge", "subject": j["id"], "award": SEOUL})[1]["key"]
    st, v = call("POST", f"{A}/rounds/screening/open", {})
    assert st in (200, 201), v
    call("POST", f"{A}/rounds/screening/close", {})
    call("POST", f"{A}/rounds/screening/advance", {})
    st, expert = call("POST", f"{A}/rounds/expert/open", {"seed": 2023})
    assert st in (200, 201), expert
    award = json.load(open(f"{ROOT}/rubrics/{SEOUL}/award.json"))
    indicators = {c["id"]: [i["id"] for cr in c["criteria"] for i in cr["indicators"]] for c in award["categories"]}
    category = {a["id"]: a["category"] for a in apps}
    for i in range(n):
        category[f"x-{i:06d}"] = eligible[i % len(eligible)]["category"]
    sheets = [(j, a) for j, assigned in expert["assignments"].items() for a in assigned]
    sheets = sheets[: int(os.environ.get("SHEETS", "60"))]
    perf = None
    if os.environ.get("PERF"):
        perf = subprocess.Popen(["perf", "record", "-F", "500", "--call-graph", "dwarf,16384",
                                 "-p", str(server.proc.pid), "-o", "perf.data"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1)
    times = []
    for j, a in sheets:
        body = {"marks": {ind: (len(a) + k) % 11 for k, ind in enumerate(indicators[category[a]])}}
        t0 = time.perf_counter()
        st, v = call("PUT", f"{A}/rounds/expert/marks/{a}", body, keys[j])
        times.append(time.perf_counter() - t0)
        assert st == 200, (st, v)
    if perf:
        perf.send_signal(signal.SIGINT)
        perf.wait()
    times.sort()
    print(f"N={n} applications+{len(apps)}: {len(times)} marks, p50 {statistics.median(times) * 1e3:.1f} ms, "
          f"p90 {times[int(len(times) * 0.9)] * 1e3:.1f} ms, min {times[0] * 1e3:.1f} ms")
finally:
    server.close()
