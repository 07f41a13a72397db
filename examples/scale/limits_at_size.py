# Times submissions to the Seoul prize with a two-per-city limit, after N applications.
# usage: python3 examples/scale/limits_at_size.py target/release/laurel N
import json, sys, subprocess, time, socket, urllib.request, os, shutil, statistics, concurrent.futures as cf
bin, n = sys.argv[1], int(sys.argv[2])
root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import tempfile
d = tempfile.mkdtemp(prefix="laurel-")
rub = f"{d}/rubrics"; shutil.copytree(f"{root}/rubrics", rub)
p = f"{rub}/seoul-smart-city-prize-2023/award.json"; a = json.load(open(p))
a["limits"] = [{"id": "two-per-city", "field": "city", "max_applications": 2, "max_categories": 1, "message": "A city sends at most two applications, in one category."}]
json.dump(a, open(p, "w"))
s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
log = open(f"{d}/log", "w")
proc = subprocess.Popen([bin, "serve", "--data", f"{d}/data", "--key-file", f"{d}/k", "--listen", f"127.0.0.1:{port}", "--rubrics", rub, "--rate-limit", "100000000"], stdout=log, stderr=subprocess.STDOUT)
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
    st, v = call("POST", f"{A}/open", {}); assert st == 200, v
    call("POST", f"{A}/timeline", {"closes": "2027-06-01T00:00:00Z", "reason": "probe"})
    integ = call("POST", "/v1/keys", {"role": "integrator"})[1]["key"]
    apps = json.load(open(f"{root}/examples/seoul-smart-city-prize-2023/applications.json"))
    base = [x for x in apps if x["applicant_type"] == "city"][0]
    base["fields"] = {k: v for k, v in base["fields"].items() if not (isinstance(v, dict) and "sha256" in v)}
    def one(i, city):
        a = dict(base, id=f"x-{i:06d}", fields=dict(base["fields"], city=city))
        t0 = time.perf_counter(); st, v = call("POST", f"{A}/applications", a, integ); dt = time.perf_counter() - t0
        return st, dt, v
    conflicts = 0
    def fill(i):
        while True:
            st, _, v = one(i, f"city-{i}")
            if st != 409: return st
    with cf.ThreadPoolExecutor(4) as ex:
        sts = list(ex.map(fill, range(n)))
    assert all(s == 201 for s in sts), set(sts)
    times = []
    for i in range(n, n + 60):
        st, dt, v = one(i, f"city-{i}"); assert st == 201, v; times.append(dt)
    st, _, v = one(n + 100, "city-0"); assert st == 201, v
    st, _, v = one(n + 101, "city-0"); assert st == 422, (st, v)
    times.sort()
    print(f"after {n} applications: 60 submissions, p50 {statistics.median(times)*1e3:.1f} ms, p90 {times[54]*1e3:.1f} ms; the third of a city refused: {v['errors'][0]['message'][:60]}")
finally:
    proc.terminate(); proc.wait()
    shutil.rmtree(d, ignore_errors=True)
