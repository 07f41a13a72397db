"""Times submissions to the Seoul prize under a limit across applications (two per city, in
one category), after N applications of N cities.

    python3 examples/scale/limits_at_size.py target/release/laurel N

Starts the server on sled in a throwaway folder with the shipped rubrics, the Seoul prize
given that limit, fills the award from four clients (a 409 would be sent again; the server
now runs a submission that met another's change of the limit again itself), then times 60
submissions of new cities from one client (p50, p90) and checks that a city's third
application is refused with the limit's message.
"""
import concurrent.futures as cf
import statistics
import sys
import time

from at_size import SEOUL, Server, example_applications

binary, n = sys.argv[1], int(sys.argv[2])
limit = {"id": "two-per-city", "field": "city", "max_applications": 2, "max_categories": 1,
         "message": "A city sends at most two applications, in one category."}
server = Server(binary, limits=[limit])
call = server.call
try:
    A = f"/v1/awards/{SEOUL}"
    st, v = call("POST", f"{A}/open", {})
    assert st == 200, v
    call("POST", f"{A}/timeline", {"closes": "2027-06-01T00:00:00Z", "reason": "probe"})
    integ = call("POST", "/v1/keys", {"role": "integrator"})[1]["key"]
    base = [a for a in example_applications() if a["applicant_type"] == "city"][0]

    def one(i, city):
        a = dict(base, id=f"x-{i:06d}", fields=dict(base["fields"], city=city))
        t0 = time.perf_counter()
        st, v = call("POST", f"{A}/applications", a, integ)
        return st, time.perf_counter() - t0, v

    def fill(i):
        while True:
            st, _, _ = one(i, f"city-{i}")
            if st != 409:
                return st

    with cf.ThreadPoolExecutor(4) as ex:
        statuses = list(ex.map(fill, range(n)))
    assert all(s == 201 for s in statuses), set(statuses)
    times = []
    for i in range(n, n + 60):
        st, dt, v = one(i, f"city-{i}")
        assert st == 201, v
        times.append(dt)
    st, _, v = one(n + 100, "city-0")
    assert st == 201, v
    st, _, v = one(n + 101, "city-0")
    assert st == 422, (st, v)
    times.sort()
    print(f"after {n} applications: 60 submissions, p50 {statistics.median(times) * 1e3:.1f} ms, "
          f"p90 {times[54] * 1e3:.1f} ms; the third of a city refused: {v['errors'][0]['message'][:60]}")
finally:
    server.close()
