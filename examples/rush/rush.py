#!/usr/bin/env python3
"""A deadline rush, rehearsed: applicants submitting to one award as fast as they can while
other awards run their expert rounds (judges marking, administrators reading lists), against
one or more `laurel serve` processes, either behind a balancer (one base, `--proxy nginx`) or
with each client spreading its requests over the processes as a balancer would. Reports requests, p50 and p99 per route, errors, and each process's CPU.

    python3 examples/rush/rush.py --admin KEY --seconds 60 --awards 8 \
        --pids 123,124,125 http://127.0.0.1:8081 http://127.0.0.1:8082 http://127.0.0.1:8083

Standard library only. The setup (the awards, their applications and rounds) is not timed.
"""

import argparse
import http.client
import json
import os
import signal
import threading
import time
import urllib.parse
from collections import defaultdict

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
SEOUL = "seoul-smart-city-prize-2023"


def example(name):
    with open(os.path.join(ROOT, "examples", SEOUL, name)) as f:
        return json.load(f)


class Client:
    """Keep-alive connections to every process, taken in turn."""

    def __init__(self, bases, key):
        self.key = key
        self.conns = []
        for b in bases:
            u = urllib.parse.urlparse(b)
            self.conns.append((u.hostname, u.port))
        self.open = [None] * len(self.conns)
        self.turn = 0

    def call(self, method, path, body=None, key=None):
        i = self.turn % len(self.conns)
        self.turn += 1
        for attempt in range(2):
            if self.open[i] is None:
                self.open[i] = http.client.HTTPConnection(*self.conns[i], timeout=60)
            c = self.open[i]
            headers = {"Authorization": "Bearer " + (key or self.key)}
            data = None
            if isinstance(body, bytes):
                data = body
                headers["Content-Type"] = "application/octet-stream"
            elif body is not None:
                data = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
            try:
                c.request(method, path, data, headers)
                r = c.getresponse()
                text = r.read()
                if r.getheader("connection", "").lower() == "close":
                    c.close()
                    self.open[i] = None
                return r.status, text
            except (http.client.HTTPException, OSError):
                c.close()
                self.open[i] = None
                if attempt == 1:
                    return 0, b""
        return 0, b""


def must(status, text, what):
    if status not in (200, 201):
        raise SystemExit(f"setup: {what}: {status} {text[:300]!r}")
    return json.loads(text) if text else None


def setup(bases, admin, awards):
    """The rush award open for a month; `awards` copies of Seoul with their expert round open.
    Returns the judges' work: (award, round, application, judge key, indicators)."""
    c = Client(bases[:1], admin)
    closes = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 30 * 86400))
    status, text = c.call("POST", f"/v1/awards/{SEOUL}/open", {})
    if status not in (200, 409):
        must(status, text, "open the rush award")
    must(*c.call("POST", f"/v1/awards/{SEOUL}/timeline", {"closes": closes, "reason": "rush rehearsal"}), "timeline")
    with open(os.path.join(ROOT, "rubrics", SEOUL, "award.json")) as f:
        definition = json.load(f)
    indicators = {
        cat["id"]: [i["id"] for k in cat["criteria"] for i in k.get("indicators", [])]
        for cat in definition["categories"]
    }
    apps, judges = example("applications.json"), example("judges.json")
    work = []
    for n in range(awards):
        award = f"rush-other-{n}"
        d = dict(definition, id=award, name=f"Other award {n}")
        must(*c.call("POST", "/v1/awards", d), f"create {award}")
        must(*c.call("POST", f"/v1/awards/{award}/publish", {}), "publish")
        must(*c.call("POST", f"/v1/awards/{award}/open", {}), "open")
        must(*c.call("POST", f"/v1/awards/{award}/timeline", {"closes": closes, "reason": "rush rehearsal"}), "timeline")
        for a in apps:
            # Files first, as an applicant's portal uploads them (the examples' own).
            for field, v in a["fields"].items():
                if isinstance(v, dict) and "sha256" in v:
                    with open(os.path.join(ROOT, "examples", SEOUL, "files", v["name"]), "rb") as f:
                        q = urllib.parse.urlencode({"field": field, "name": v["name"]})
                        must(*c.call("POST", f"/v1/awards/{award}/uploads?{q}", f.read()), "a file")
            must(*c.call("POST", f"/v1/awards/{award}/applications", a), "an application")
        must(*c.call("POST", f"/v1/awards/{award}/close", {}), "close")
        keys = {}
        for j in judges:
            must(*c.call("PUT", f"/v1/awards/{award}/judges/{j['id']}", j), "a judge")
            keys[j["id"]] = must(*c.call("POST", "/v1/keys", {"role": "judge", "subject": j["id"], "award": award}), "a judge's key")["key"]
        for step in ["open", "close", "advance"]:
            must(*c.call("POST", f"/v1/awards/{award}/rounds/screening/{step}", {}), f"screening {step}")
        expert = must(*c.call("POST", f"/v1/awards/{award}/rounds/expert/open", {"seed": n}), "expert open")
        category = {a["id"]: a["category"] for a in apps}
        for judge, assigned in expert["assignments"].items():
            for app in assigned:
                work.append((award, app, keys[judge], indicators[category[app]]))
    return work


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.times = defaultdict(list)
        self.errors = defaultdict(int)

    def note(self, route, status, seconds):
        with self.lock:
            self.times[route].append(seconds)
            if status not in (200, 201):
                self.errors[(route, status)] += 1


def timed(rec, route, client, *args, **kw):
    t = time.perf_counter()
    status, _ = client.call(*args, **kw)
    rec.note(route, status, time.perf_counter() - t)


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_of(name):
    """CPU of every process on the machine called `name` (PostgreSQL's backends, nginx's
    workers)."""
    total = 0.0
    for pid in os.listdir("/proc"):
        try:
            with open(f"/proc/{pid}/comm") as f:
                if f.read().strip() != name:
                    continue
            total += cpu_seconds(int(pid))
        except (OSError, ValueError):
            pass
    return total


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("bases", nargs="+")
    p.add_argument("--admin", required=True)
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--awards", type=int, default=8)
    p.add_argument("--applicants", type=int, default=8, help="applicant clients")
    p.add_argument("--judges", type=int, default=4, help="judge clients")
    p.add_argument("--pids", default="", help="the processes' ids, for their CPU")
    p.add_argument("--proxy", default="", help="the balancer's process name (nginx), for its CPU; "
                   "the one base is then the balancer's")
    p.add_argument("--stop-one-after", type=float, default=0, metavar="S",
                   help="stop the last of --pids (SIGTERM, as a rolling restart does) S seconds "
                   "into the rush: behind a balancer, no request may fail")
    a = p.parse_args()
    work = setup(a.bases, a.admin, a.awards)
    integrator = must(*Client(a.bases[:1], a.admin).call("POST", "/v1/keys", {"role": "integrator"}), "a key")["key"]
    template = example("applications.json")[0]
    rec = Recorder()
    stop = time.monotonic() + a.seconds
    pids = [int(x) for x in a.pids.split(",") if x]
    before = {pid: cpu_seconds(pid) for pid in pids}
    proxy_before = cpu_of(a.proxy) if a.proxy else 0.0
    database_before, own_before = cpu_of("postgres"), sum(os.times()[:2])

    def applicant(w):
        c, i = Client(a.bases, integrator), 0
        c.turn = w
        while time.monotonic() < stop:
            app = dict(template, id=f"rush-{w}-{i}")
            timed(rec, "POST /v1/awards/{award}/applications", c, "POST", f"/v1/awards/{SEOUL}/applications", app)
            i += 1

    def judge(w):
        c, i = Client(a.bases, a.admin), w
        c.turn = w
        while time.monotonic() < stop and work:
            award, app, key, inds = work[i % len(work)]
            marks = {ind: (i + k * 7) % 11 for k, ind in enumerate(inds)}
            timed(rec, "PUT /v1/awards/{award}/rounds/{round}/marks/{application}", c, "PUT",
                  f"/v1/awards/{award}/rounds/expert/marks/{app}", {"marks": marks}, key=key)
            i += a.judges

    def administrator():
        c, i = Client(a.bases, a.admin), 0
        while time.monotonic() < stop:
            timed(rec, "GET /v1/awards/{award}/counts", c, "GET", f"/v1/awards/{SEOUL}/counts")
            if a.awards:
                other = f"/v1/awards/rush-other-{i % a.awards}"
                timed(rec, "GET /v1/awards/{award}/applications?limit=50", c, "GET", f"{other}/applications?limit=50")
                timed(rec, "GET /v1/awards/{award}/rounds/{round}", c, "GET", f"{other}/rounds/expert")
            else:
                timed(rec, "GET /v1/awards/{award}/applications?limit=50", c, "GET", f"/v1/awards/{SEOUL}/applications?limit=50")
            i += 1

    def prober():
        c = Client(a.bases, a.admin)
        while time.monotonic() < stop:
            timed(rec, "GET /v1/health", c, "GET", "/v1/health")
            time.sleep(0.05)

    stopped = {}

    def stopper():
        time.sleep(a.stop_one_after)
        pid = pids[-1]
        stopped[pid] = (cpu_seconds(pid), time.monotonic() - started)
        os.kill(pid, signal.SIGTERM)

    threads = [threading.Thread(target=applicant, args=(w,)) for w in range(a.applicants)]
    threads += [threading.Thread(target=judge, args=(w,)) for w in range(a.judges)]
    threads += [threading.Thread(target=administrator), threading.Thread(target=prober)]
    if a.stop_one_after and pids:
        threads.append(threading.Thread(target=stopper))
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.monotonic() - started
    behind = f" behind {a.proxy}" if a.proxy else ""
    print(f"{len(pids) or len(a.bases)} process(es){behind}, {a.awards} other award(s) in their expert round, {took:.0f} s:")
    print(f"  {'route':<62} {'requests':>8} {'per s':>7} {'p50 ms':>7} {'p99 ms':>7}")
    total = 0
    for route, ts in sorted(rec.times.items()):
        ts = sorted(ts)
        total += len(ts)
        p50, p99 = ts[len(ts) // 2] * 1000, ts[min(len(ts) - 1, int(len(ts) * 0.99))] * 1000
        print(f"  {route:<62} {len(ts):>8} {len(ts) / took:>7.0f} {p50:>7.1f} {p99:>7.1f}")
    errors = sum(rec.errors.values())
    print(f"  all: {total} requests, {total / took:.0f} per second, {errors} errors")
    for (route, status), n in sorted(rec.errors.items()):
        print(f"    error {status} on {route}: {n}")
    laurel_cpu = 0.0
    for pid in pids:
        if pid in stopped:
            cpu, at = stopped[pid]
            used = cpu - before[pid]
            laurel_cpu += used
            print(f"  laurel process {pid}: {used:.1f} s of CPU ({used / at:.2f} cores) until it was "
                  f"stopped {at:.0f} s in")
            continue
        used = cpu_seconds(pid) - before[pid]
        laurel_cpu += used
        print(f"  laurel process {pid}: {used:.1f} s of CPU ({used / took:.2f} cores)")
    if pids:
        print(f"  laurel in all: {laurel_cpu / max(total, 1) * 1e6:.0f} µs of CPU a request")
    database = cpu_of("postgres") - database_before
    print(f"  PostgreSQL: {database:.1f} s of CPU ({database / took:.2f} cores, {database / max(total, 1) * 1e6:.0f} µs a request)")
    if a.proxy:
        proxy = cpu_of(a.proxy) - proxy_before
        print(f"  {a.proxy}: {proxy:.1f} s of CPU ({proxy / took:.2f} cores, {proxy / max(total, 1) * 1e6:.0f} µs a request)")
    own = sum(os.times()[:2]) - own_before
    print(f"  this load generator: {own:.1f} s of CPU ({own / took:.2f} cores)")
    raise SystemExit(1 if errors else 0)


if __name__ == "__main__":
    main()
