"""Durable submissions to the Seoul prize from K clients for T seconds, on sled: writes a
second, and the server's CPU per write (read from /proc, the server's own threads only).

    python3 examples/scale/writes_cpu.py target/release/laurel K T [perf] [limit] [probe]

Starts the server in a throwaway folder with the shipped rubrics (at_size.py), opens the call,
and submits new applications (each its own city) over keep-alive connections. With `perf`,
records the server's profile meanwhile into /tmp/laurel-writes.perf (`perf report -i ...`);
`PERF_EVENTS` replaces perf's sampling options (default `-F 999`), e.g.
`PERF_EVENTS="-e sched:sched_switch"` records why each thread left its core.
With `limit`, the award has a limit across applications (two per city, in one category), as
in limits_at_size.py: every submission then reads and writes the limit's groups. Answers
other than 201 are counted by status. The server's context switches per write are counted
too (from /proc, by thread name): on two cores each one costs several microseconds of CPU.
With `probe`, a process of its own (no lock shared with the writers' threads) asks for
`GET /v1/health` on one keep-alive connection every 2 ms, 500 times before the writes and
throughout them: its p50 and p99 under the writes, each beside the idle figure. `PROBE_PREFIX`
is put before the probe's command, e.g. `PROBE_PREFIX="nice -n -10"` to run it above the load
generator's priority, as a health checker on a machine of its own would be."""
import http.client
import json
import os
import subprocess
import sys
import threading
import time

from at_size import SEOUL, Server, by_thread, example_applications
binary, k, T = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
perf = "perf" in sys.argv[4:]
probe = "probe" in sys.argv[4:]
PROBE = """
import http.client, sys, time, os
port, n, stop_file = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
c = http.client.HTTPConnection("127.0.0.1", port)
took = []
while (n and len(took) < n) or (not n and not os.path.exists(stop_file)):
    t = time.perf_counter(); c.request("GET", "/v1/health"); r = c.getresponse(); r.read()
    assert r.status == 200
    took.append(time.perf_counter() - t); time.sleep(0.002)
print(" ".join(f"{x:.7f}" for x in took))
"""
PROBE_PREFIX = os.environ.get("PROBE_PREFIX", "").split()
def probing(n, stop_file="/nonexistent"):
    return subprocess.Popen(PROBE_PREFIX + [sys.executable, "-c", PROBE, str(server.port), str(n), stop_file],
                            stdout=subprocess.PIPE, text=True)
def quantiles(out):
    v = sorted(float(x) for x in out.split())
    return v[len(v) // 2], v[int((len(v) - 1) * 0.99)], len(v)
limit = {"id": "two-per-city", "field": "city", "max_applications": 2, "max_categories": 1,
         "message": "A city sends at most two applications, in one category."}
server = Server(binary, limits=[limit]) if "limit" in sys.argv[4:] else Server(binary)
A = f"/v1/awards/{SEOUL}"
st, v = server.call("POST", f"{A}/open", {}); assert st == 200, v
server.call("POST", f"{A}/timeline", {"closes": "2027-06-01T00:00:00Z", "reason": "probe"})
integ = server.call("POST", "/v1/keys", {"role": "integrator"})[1]["key"]
base = [a for a in example_applications() if a["applicant_type"] == "city"][0]
stop = time.time() + T
counts = [0] * k
errors = []
def run(w):
    c = http.client.HTTPConnection("127.0.0.1", server.port)
    i = 0
    while time.time() < stop:
        a = dict(base, id=f"w{w}-{i:07d}", fields=dict(base["fields"], city=f"c{w}-{i}"))
        c.request("POST", f"{A}/applications", json.dumps(a), {"authorization": f"Bearer {integ}", "content-type": "application/json"})
        r = c.getresponse(); body = r.read()
        if r.status != 201: errors.append((r.status, body[:200]))
        else: counts[w] += 1
        i += 1
def cpu(pid):
    f = open(f"/proc/{pid}/stat").read().split(")")[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
def switches(pid):
    """Context switches so far, by thread name without its number."""
    return {name: n for name, (n, _) in by_thread(pid).items()}
pid = server.proc.pid
p = None
if perf:
    p = subprocess.Popen(["perf", "record"] + os.environ.get("PERF_EVENTS", "-F 999").split() + ["-g", "--call-graph", "dwarf,16384", "-p", str(pid), "-o", "/tmp/laurel-writes.perf"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1)
if probe:
    idle = quantiles(probing(500).communicate()[0])
    stop_file = f"/tmp/laurel-probe-stop-{os.getpid()}"
    busy_probe = probing(0, stop_file)
    stop = time.time() + T
c0 = cpu(pid); s0 = switches(pid); t0 = time.time()
ts = [threading.Thread(target=run, args=(w,)) for w in range(k)]
[t.start() for t in ts]; [t.join() for t in ts]
c1 = cpu(pid); s1 = switches(pid); dt = time.time() - t0
if probe:
    open(stop_file, "w").close()
    busy = quantiles(busy_probe.communicate()[0])
    os.remove(stop_file)
if p: p.send_signal(2); p.wait()
n = sum(counts)
by_status = {}
for status, _ in errors:
    by_status[status] = by_status.get(status, 0) + 1
print(f"{n} writes in {dt:.1f}s = {n/dt:.0f}/s; laurel CPU {c1-c0:.2f}s = {(c1-c0)/n*1e6:.0f} us/write; "
      f"other answers {by_status or 'none'} {errors[:1]}")
grew = sorted(((s1[t] - s0.get(t, 0), t) for t in s1), reverse=True)
print(f"context switches per write {sum(d for d, _ in grew) / max(n, 1):.1f}: "
      + ", ".join(f"{t} {d / max(n, 1):.1f}" for d, t in grew[:4]))
if probe:
    print(f"GET /v1/health while {k} clients write ({busy[2]} probes): p50 {busy[0]*1e3:.2f} ms "
          f"(idle {idle[0]*1e3:.2f}, ratio {busy[0]/idle[0]:.1f}), p99 {busy[1]*1e3:.2f} ms "
          f"(idle {idle[1]*1e3:.2f}, ratio {busy[1]/idle[1]:.1f})")
server.close()
