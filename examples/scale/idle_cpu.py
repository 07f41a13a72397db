"""What an idle server costs: a release `laurel serve` on sled with the shipped rubrics (whose
plugins it loads and calls at start-up), one application submitted to the Seoul prize, then T
seconds of nothing: the server's CPU and context switches a second, by thread (from /proc).

    python3 examples/scale/idle_cpu.py target/release/laurel T
"""
import sys
import time

from at_size import SEOUL, Server, by_thread, example_applications

binary, T = sys.argv[1], float(sys.argv[2])
server = Server(binary)
A = f"/v1/awards/{SEOUL}"
st, v = server.call("POST", f"{A}/open", {}); assert st == 200, v
server.call("POST", f"{A}/timeline", {"closes": "2027-06-01T00:00:00Z", "reason": "probe"})
base = [a for a in example_applications() if a["applicant_type"] == "city"][0]
st, v = server.call("POST", f"{A}/applications", dict(base, id="idle-probe")); assert st == 201, v
# The work that follows a write (the outbox, the clock's work) settles first.
time.sleep(2)
pid = server.proc.pid


before = by_thread(pid)
time.sleep(T)
after = by_thread(pid)
grew = {k: (after[k][0] - before.get(k, [0, 0])[0], after[k][1] - before.get(k, [0, 0.0])[1]) for k in after}
switches = sum(s for s, _ in grew.values())
cpu = sum(c for _, c in grew.values())
top = sorted(grew.items(), key=lambda kv: -kv[1][0])[:4]
print(f"idle for {T:.0f} s: {switches / T:.0f} context switches a second, {cpu * 1000 / T:.1f} ms of CPU a second; "
      + ", ".join(f"{k} {s / T:.0f}/s" for k, (s, _) in top))
server.close()
