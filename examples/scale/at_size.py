"""What the measurements of one entry's cost share: a release `laurel serve` on sled in a
throwaway folder, its administrator key, and a JSON call. Used by marks_at_size.py,
limits_at_size.py, writes_cpu.py and idle_cpu.py."""
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SEOUL = "seoul-smart-city-prize-2023"


class Server:
    """`laurel serve` on a free port of 127.0.0.1, with `rubrics` (the shipped ones when None)
    and a folder that goes with it; `LAUREL_SERVE_ARGS` (split on spaces) adds options, e.g.
    `--workers 4`."""

    def __init__(self, binary, rubrics=None, limits=None):
        self.dir = tempfile.mkdtemp(prefix="laurel-")
        if rubrics is None:
            rubrics = f"{ROOT}/rubrics"
        if limits is not None:
            # The shipped rubrics, the Seoul prize with these limits across applications.
            copy = f"{self.dir}/rubrics"
            shutil.copytree(rubrics, copy)
            path = f"{copy}/{SEOUL}/award.json"
            award = json.load(open(path))
            award["limits"] = limits
            json.dump(award, open(path, "w"))
            rubrics = copy
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        log = open(f"{self.dir}/log", "w")
        self.proc = subprocess.Popen(
            [binary, "serve", "--data", f"{self.dir}/data", "--key-file", f"{self.dir}/k",
             "--listen", f"127.0.0.1:{self.port}", "--rubrics", rubrics,
             "--rate-limit", "100000000"] + os.environ.get("LAUREL_SERVE_ARGS", "").split(),
            stdout=log, stderr=subprocess.STDOUT)
        text = ""
        for _ in range(300):
            time.sleep(0.1)
            text = open(f"{self.dir}/log").read()
            if "listening on" in text:
                break
        self.admin = [l.split(": ")[-1] for l in text.splitlines() if "admin key" in l][0].strip()

    def call(self, method, path, body=None, key=None):
        """(status, JSON answer) of one request, as the administrator unless `key` is given."""
        r = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"authorization": f"Bearer {key or self.admin}",
                     "content-type": "application/json"})
        try:
            with urllib.request.urlopen(r) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def close(self):
        self.proc.terminate()
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def example_applications():
    """The Seoul example's applications, without their uploaded files (a file is uploaded
    before the application that names it)."""
    apps = json.load(open(f"{ROOT}/examples/{SEOUL}/applications.json"))
    for a in apps:
        a["fields"] = {k: v for k, v in a["fields"].items()
                       if not (isinstance(v, dict) and "sha256" in v)}
    return apps


def by_thread(pid):
    """Per thread name (without its number): context switches (voluntary and not) and CPU
    seconds so far, read from /proc."""
    by = {}
    for t in os.listdir(f"/proc/{pid}/task"):
        try:
            name = open(f"/proc/{pid}/task/{t}/comm").read().strip().rstrip("0123456789-")
            stat = open(f"/proc/{pid}/task/{t}/stat").read().split(")")[1].split()
            status = open(f"/proc/{pid}/task/{t}/status").read().splitlines()
        except OSError:
            continue
        switches = sum(int(l.split()[1]) for l in status if "ctxt_switches" in l)
        cpu = (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")
        totals = by.setdefault(name, [0, 0.0])
        totals[0] += switches
        totals[1] += cpu
    return by
