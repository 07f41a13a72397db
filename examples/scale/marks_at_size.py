# Times a judge's mark submission on the Seoul prize with N extra applications in the award.
# usage: python3 examples/scale/marks_at_size.py target/release/laurel N   (PERF=1 records a profile,
# SHEETS=n marks more sheets)
import json, sys, subprocess, time, socket, urllib.request, os, shutil, statistics, concurrent.futures as cf
bin, n = sys.argv[1], int(sys.argv[2])
root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import tempfile
d = tempfile.mkdtemp(prefix="laurel-")
s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
log = open(f"{d}/log", "w")
p = subprocess.Popen([bin, "serve", "--data", f"{d}/data", "--key-file", f"{d}/k", "--listen", f"127.0.0.1:{port}", "--rubrics", f"{root}/rubrics", "--rate-limit", "100000000"], stdout=log, stderr=subprocess.STDOUT)
try:
    for _ in range(300):
        time.sleep(0.1)
        t = open(f"{d}/log").read()
        if "listening on" in t: break
    key = [l.split(": ")[-1] for l in t.splitlines() if "admin key" in l][0].strip()
    def call(m, path, body=None, k=key):
        r = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=m, data=None if body is None else json.dumps(body).encode(), headers={"authorization": f"Bearer {k}", "content-type": "application/json"})
        try:
            with urllib.request.urlopen(r) as resp: return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as e: return e.code, json.loads(e.read() or b"null")
    A = "/v1/awards/seoul-smart-city-prize-2023"
    call("POST", f"{A}/open", {})
    call("POST", f"{A}/timeline", {"closes": "2027-06-01T00:00:00Z", "reason": "probe"})
    integ = call("POST", "/v1/keys", {"role": "integrator"})[1]["key"]
    apps = json.load(open(f"{root}/examples/seoul-smart-city-prize-2023/applications.json"))
    for a in apps:
        a["fields"] = {k: v for k, v in a["fields"].items() if not (isinstance(v, dict) and "sha256" in v)}
    marks = json.load(open(f"{root}/examples/seoul-smart-city-prize-2023/marks.json"))
    for a in apps:
        st, v = call("POST", f"{A}/applications", a, integ); assert st == 201, v
    eligible = [a for a in apps if a["id"] not in {r["application"] for r in marks["review_decisions"]}]
    def extra(i):
        a = dict(eligible[i % len(eligible)], id=f"x-{i:06d}")
        st, v = call("POST", f"{A}/applications", a, integ)
        return st
    with cf.ThreadPoolExecutor(8) as ex:
        sts = list(ex.map(extra, range(n)))
    for r in marks["review_decisions"]:
        call("POST", f"{A}/applications/{r['application']}/review", {"eligible": r["eligible"], "reason": r["reason"]})
    call("POST", f"{A}/close", {})
    judges = json.load(open(f"{root}/examples/seoul-smart-city-prize-2023/judges.json"))
    keys = {}
    for j in judges:
        st, v = call("PUT", f"{A}/judges/{j['id']}", j); assert st == 200, v
        keys[j["id"]] = call("POST", "/v1/keys", {"role": "judge", "subject": j["id"], "award": "seoul-smart-city-prize-2023"})[1]["key"]
    st, v = call("POST", f"{A}/rounds/screening/open", {}); assert st in (200, 201), v
    call("POST", f"{A}/rounds/screening/close", {})
    call("POST", f"{A}/rounds/screening/advance", {})
    st, exp = call("POST", f"{A}/rounds/expert/open", {"seed": 2023}); assert st in (200, 201), exp
    award = json.load(open(f"{root}/rubrics/seoul-smart-city-prize-2023/award.json"))
    inds = {c["id"]: [i["id"] for cr in c["criteria"] for i in cr["indicators"]] for c in award["categories"]}
    cat = {a["id"]: a["category"] for a in apps}
    for i in range(n): cat[f"x-{i:06d}"] = eligible[i % len(eligible)]["category"]
    sheets = [(j, a) for j, aa in exp["assignments"].items() for a in aa][:int(os.environ.get("SHEETS", "60"))]
    if os.environ.get("PERF"):
        perf = subprocess.Popen(["perf", "record", "-F", "500", "--call-graph", "dwarf,16384", "-p", str(p.pid), "-o", "perf.data"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1)
    times = []
    for j, a in sheets:
        body = {"marks": {ind: (len(a) + k) % 11 for k, ind in enumerate(inds[cat[a]])}}
        t0 = time.perf_counter()
        st, v = call("PUT", f"{A}/rounds/expert/marks/{a}", body, keys[j])
        times.append(time.perf_counter() - t0)
        assert st == 200, (st, v)
    if os.environ.get("PERF"):
        perf.send_signal(2); perf.wait()
    times.sort()
    print(f"N={n} applications+{len(apps)}: {len(times)} marks, p50 {statistics.median(times)*1e3:.1f} ms, p90 {times[int(len(times)*0.9)]*1e3:.1f} ms, min {times[0]*1e3:.1f} ms")
finally:
    p.terminate(); p.wait()
    shutil.rmtree(d, ignore_errors=True)
