"""Load generators side by side against one Node socket.io 4.8 server.

    .venv/bin/python benchmarks/loadgen.py                 # both scenarios, every tool, 15 s each
    .venv/bin/python benchmarks/loadgen.py --duration 30 --tools sioclient,locust-builtin
    .venv/bin/python benchmarks/loadgen.py --out /tmp/loadgen   # loadgen.json and loadgen.png

Scenarios (every user connects over WebSocket, then loops: emit ``ack`` with a small payload,
wait for the ack, think):

- ``think100``: 1000 users, a constant 100 ms think time (10,000 calls/s offered);
- ``nothink``: 100 users, no think time.

Tools, each one generator process (one core at most):

- ``sioclient``: Locust with ``sioclient.contrib.locust.SocketIOUser``;
- ``locust-builtin``: Locust with its own ``locust.contrib.socketio.SocketIOUser``
  (python-socketio's client);
- ``artillery``: Artillery's socketio engine (first
  ``npm ci --ignore-scripts --prefix benchmarks/artillery``; skipped when not installed);
- ``sioclient-script``: the same users without Locust, one greenlet each in a plain gevent
  script (what Locust's task loop and statistics cost, in the same run).

What is measured, the same way for every tool: the harness keeps one more connection to the
server and polls it every 0.2 s for the sockets connected and the ``ack`` events the server
has answered so far, and reads the generator's CPU time (user+system of its process and every
descendant, from /proc) at each poll.  The *window* is the span during which every user was
connected, less 0.5 s at either end: handshakes and start-up before it, stopping users after
it.  Calls/s is the server's count of answered calls over the window; CPU-s is the generator's
CPU time over the same window, and calls per CPU-second their ratio (also split into user
and system microseconds per call: the generator's own code, and the kernel on its behalf).
Locust (and the script) runs until every user has been connected for ``--duration`` plus 1 s,
then gets SIGTERM; Artillery's users loop a count of calls that outlasts ``--duration`` by a
few seconds with think time (without it each makes 150 calls per second of ``--duration``),
and its window ends when the first user is done.  Also printed: the whole run's CPU-s (wait4
of the process tree, Node's or Locust's start-up and every handshake included) and peak RSS.

Latencies: for the Python tools every call's unrounded ``perf_counter`` time (a listener on
Locust's request event keeps them; the script keeps its own), those acked within the window;
Artillery reports its own percentiles over its whole run (``socketio.response_time``, a
DDSketch of its client-side measures, rounded to 0.1 ms).  Each run is bounded
(``--duration`` plus 90 s).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))  # the monitor connection uses this checkout's sioclient

SCENARIOS = {"think100": (1000, 0.1), "nothink": (100, 0.0)}
TOOLS = ("sioclient", "locust-builtin", "artillery", "sioclient-script")
ARTILLERY = HERE / "artillery" / "node_modules" / ".bin" / "artillery"
INSTALL = "npm ci --ignore-scripts --prefix benchmarks/artillery"
CLK_TCK = os.sysconf("SC_CLK_TCK")
POLL = 0.2  # seconds between the monitor's polls
SETTLE = 0.5  # seconds left out of the window after the last connect and before the first leave
# Artillery's users make calls this much longer than --duration: its arrivals and handshakes
MARGIN = 3.0

LOCUSTFILE = """
import json, os, time
from locust import constant, events, task
{import_line}

THINK = float(os.environ["LG_THINK"])
SAMPLES = []  # (perf_counter at the ack, latency ms)
CONNECTED = []  # perf_counter when each user was connected

@events.request.add_listener
def _record(request_type, name, response_time, exception, **kw):
    # the built-in user's call() also reports the emit inside it ("WSE", 0 ms): the calls
    # are "WSC" there, "socketio" with sioclient
    if name == "ack" and exception is None and request_type in ("socketio", "WSC"):
        SAMPLES.append((time.perf_counter(), response_time))

@events.quitting.add_listener
def _dump(environment, **kw):
    with open(os.environ["LG_SAMPLES"], "w") as f:
        json.dump({{"samples": SAMPLES, "connected": CONNECTED}}, f)

class U(SocketIOUser):
    wait_time = constant(THINK)

    def on_start(self):
        {connect}
        CONNECTED.append(time.perf_counter())
{body}
"""

SIOCLIENT_CONNECT = "super().on_start()"
SIOCLIENT_BODY = """
    options = {"transports": ["websocket"], "reconnection": False}
    count_received = False

    @task
    def ack(self):
        self.client.call("ack", {"text": "hello", "n": 42}, timeout=30)
"""

BUILTIN_CONNECT = 'self.sio.connect(self.host, transports=["websocket"])'
BUILTIN_BODY = """
    @task
    def ack(self):
        self.sio.call("ack", {"text": "hello", "n": 42}, timeout=30)
"""

# the Locust tools: the import of their user class, its connect, its task
LOCUST_USERS = {
    "sioclient": (
        "from sioclient.contrib.locust import SocketIOUser",
        SIOCLIENT_CONNECT,
        SIOCLIENT_BODY,
    ),
    "locust-builtin": (
        "from locust.contrib.socketio import SocketIOUser",
        BUILTIN_CONNECT,
        BUILTIN_BODY,
    ),
}

# the same users without Locust: what its task loop and statistics cost, in the same run
SCRIPT = """
import json, os, signal, time
import gevent, gevent.event
import sioclient

URL, USERS = os.environ["LG_URL"], int(os.environ["LG_USERS"])
THINK = float(os.environ["LG_THINK"])
SAMPLES = []  # (perf_counter at the ack, latency ms)
CONNECTED = []  # perf_counter when each user was connected
stop = gevent.event.Event()
perf = time.perf_counter

def user(i):
    gevent.sleep(i / USERS)  # arrivals over one second, as Locust's and Artillery's
    sock = sioclient.connect(URL, transports=["websocket"], reconnection=False, force_new=True)
    ready = gevent.event.Event()
    sock.on("connect", ready.set)
    if not sock.connected and not ready.wait(30):
        return
    CONNECTED.append(perf())
    while not stop.is_set():
        t0 = perf()
        sock.call("ack", {"text": "hello", "n": 42}, timeout=30)
        t1 = perf()
        SAMPLES.append((t1, (t1 - t0) * 1000.0))
        gevent.sleep(THINK)
    sock.close()

gevent.signal_handler(signal.SIGTERM, stop.set)
users = [gevent.spawn(user, i) for i in range(USERS)]
stop.wait()
gevent.joinall(users, timeout=5)
with open(os.environ["LG_SAMPLES"], "w") as f:
    json.dump({"samples": SAMPLES, "connected": CONNECTED}, f)
"""

ARTILLERY_SCRIPT = """
config:
  target: "{url}"
  phases:
    - duration: 1
      arrivalCount: {users}
  socketio:
    transports: ["websocket"]
scenarios:
  - engine: socketio
    flow:
      - loop:
          - emit:
              channel: "ack"
              data: {{"text": "hello", "n": 42}}
            acknowledge: {{}}
{think}        count: {count}
"""


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def tree_cpu(root: int) -> tuple[float, float]:
    """CPU-seconds (user, system) used so far by a process and its live descendants, from
    /proc; descendants that have exited and were waited for count through the root's
    cutime/cstime."""
    stats: dict[int, list[str]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    text = f.read()
            except OSError:
                continue
            stats[int(entry)] = text[text.rindex(")") + 2 :].split()
    children: dict[int, list[int]] = {}
    for pid, parsed in stats.items():
        children.setdefault(int(parsed[1]), []).append(pid)
    user = system = 0
    todo = [root]
    while todo:
        pid = todo.pop()
        fields = stats.get(pid)
        if fields is None:
            continue
        user += int(fields[11])  # utime
        system += int(fields[12])  # stime
        if pid == root:
            user += int(fields[13])  # cutime
            system += int(fields[14])  # cstime
        todo.extend(children.get(pid, ()))
    return user / CLK_TCK, system / CLK_TCK


class Monitor:
    """Polls the server (sockets connected, ``ack`` events answered) and the generator's CPU
    every POLL seconds while it runs, from one more connection of its own."""

    def __init__(self, url: str) -> None:
        import sioclient

        self.socket = sioclient.connect(url, transports=["websocket"], reconnection=False)
        # (perf_counter, sockets, acks, (user, system) CPU-s)
        self.polls: list[tuple[float, int, int, tuple[float, float]]] = []

    def poll(self, pid: int) -> None:
        sock = self.socket
        sockets = sock.call("count", timeout=10)
        acks = sock.call("acks-answered", timeout=10)
        self.polls.append((time.perf_counter(), int(sockets), int(acks), tree_cpu(pid)))

    def full_since(self, users: int) -> float | None:
        """When every user (and the monitor) was first seen connected."""
        for at, sockets, _, _ in self.polls:
            if sockets >= users + 1:
                return at
        return None

    def window(self, users: int) -> dict[str, Any]:
        """The polls while every user was connected, less SETTLE seconds at either end (when
        some users never connected: while the most were)."""
        most = max((p[1] for p in self.polls), default=0)
        full = [p for p in self.polls if p[1] >= min(users + 1, most)]
        if most < 2 or len(full) < 2:
            return {}
        first = [p for p in full if p[0] >= full[0][0] + SETTLE]
        inner = [p for p in first if p[0] <= full[-1][0] - SETTLE]
        if len(inner) < 2:
            inner = full
        a, b = inner[0], inner[-1]
        span = b[0] - a[0]
        calls = b[2] - a[2]
        user, system = b[3][0] - a[3][0], b[3][1] - a[3][1]
        cpu = user + system
        return {
            "window": (a[0], b[0]),
            "window_s": span,
            "users_connected": most - 1,
            "calls": calls,
            "calls_per_s": calls / span,
            "cpu_s": cpu,
            "calls_per_cpu_s": calls / cpu if cpu else float("nan"),
            # where a call's CPU goes: the generator's own code, and the kernel on its behalf
            "user_us_per_call": user / calls * 1e6 if calls else float("nan"),
            "sys_us_per_call": system / calls * 1e6 if calls else float("nan"),
        }

    def close(self) -> None:
        self.socket.close()


def run_measured(
    cmd: list[str],
    cwd: str,
    env: dict[str, str],
    timeout: float,
    monitor: Monitor,
    stop: tuple[int, float] | None = None,
) -> dict[str, Any]:
    """Runs a generator, polling the monitor meanwhile; its whole run's CPU time and peak RSS
    from wait4 (its process tree).  ``stop`` (users, seconds): SIGTERM once every user has been
    connected that long."""
    import gevent

    t0 = time.perf_counter()
    log = open(os.path.join(cwd, "output.log"), "w")
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout
    while True:
        pid, status, ru = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            proc.kill()
            pid, status, ru = os.wait4(proc.pid, 0)
            break
        monitor.poll(proc.pid)
        if stop is not None:
            since = monitor.full_since(stop[0])
            if since is not None and time.perf_counter() - since >= stop[1]:
                proc.send_signal(signal.SIGTERM)  # Locust stops its users and writes its samples
                stop = None
        gevent.sleep(POLL)
    log.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {
        "wall_s": time.perf_counter() - t0,
        "run_cpu_s": ru.ru_utime + ru.ru_stime,
        "rss_mib": ru.ru_maxrss / 1024,
        "returncode": proc.returncode,
    }


def run_python(
    tool: str, url: str, users: int, think: float, duration: float, monitor: Monitor
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        if tool == "sioclient-script":
            Path(tmp, "script.py").write_text(SCRIPT)
            cmd = [sys.executable, "script.py"]
        else:
            imp, connect, body = LOCUST_USERS[tool]
            Path(tmp, "locustfile.py").write_text(
                LOCUSTFILE.format(import_line=imp, connect=connect, body=body)
            )
            cmd = [
                sys.executable, "-m", "locust", "-f", "locustfile.py", "--host", url,
                "--headless", "-u", str(users), "-r", str(users), "-t", f"{duration + 60:g}s",
                "--stop-timeout", "5", "--only-summary", "--loglevel", "WARNING",
            ]  # fmt: skip
        samples = os.path.join(tmp, "samples.json")
        env = dict(os.environ)
        env.update(
            LG_URL=url,
            LG_USERS=str(users),
            LG_THINK=str(think),
            LG_SAMPLES=samples,
            PYTHONPATH=str(ROOT),
        )
        r = run_measured(cmd, tmp, env, duration + 90, monitor, (users, duration + 2 * SETTLE))
        try:
            with open(samples) as f:
                got = json.load(f)
        except OSError:
            got = {"samples": [], "connected": []}
            r["error"] = Path(tmp, "output.log").read_text()[-2000:]
    r.update(monitor.window(users))
    if "window" in r:
        # latencies of the calls acked within the window (perf_counter: one clock for every
        # process of the machine)
        lo, hi = r.pop("window")
        lat = [ms for at, ms in got["samples"] if lo <= at <= hi]
    else:
        lat = [ms for _, ms in got["samples"]]
    if got["connected"]:
        r["ramp_s"] = max(got["connected"]) - min(got["connected"])
    r.update(
        mean_ms=sum(lat) / len(lat) if lat else float("nan"),
        p50_ms=pct(lat, 0.5),
        p95_ms=pct(lat, 0.95),
        p99_ms=pct(lat, 0.99),
    )
    return r


def run_artillery(
    url: str, users: int, think: float, duration: float, monitor: Monitor
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        # the loop count that lasts the duration (no think: a generous guess; the window ends
        # when the first user has made its calls)
        count = int((duration + MARGIN) / think) if think else int((duration + MARGIN) * 150)
        # a fraction of a second must be written with its unit: "think: 0.1" is read as 0 ms
        think_step = f'          - think: "{think * 1000:g}ms"\n' if think else ""
        script = ARTILLERY_SCRIPT.format(url=url, users=users, think=think_step, count=count)
        Path(tmp, "script.yml").write_text(script)
        report = os.path.join(tmp, "report.json")
        cmd = [str(ARTILLERY), "run", "--output", report, "script.yml"]
        env = dict(os.environ, ARTILLERY_DISABLE_TELEMETRY="true")
        r = run_measured(cmd, tmp, env, duration + 90, monitor)
        try:
            with open(report) as f:
                agg = json.load(f)["aggregate"]
        except (OSError, KeyError, ValueError):
            r["error"] = Path(tmp, "output.log").read_text()[-2000:]
            return r
    r.update(monitor.window(users))
    r.pop("window", None)
    # its own sketch of every call's latency, over the whole run
    rt = agg.get("summaries", {}).get("socketio.response_time", {})
    r.update(
        mean_ms=rt.get("mean", float("nan")),
        p50_ms=rt.get("median", float("nan")),
        p95_ms=rt.get("p95", float("nan")),
        p99_ms=rt.get("p99", float("nan")),
    )
    return r


LABELS = {
    "sioclient": "Locust +\nsioclient",
    "locust-builtin": "Locust's own\nSocketIOUser",
    "artillery": "Artillery",
    "sioclient-script": "sioclient,\nno Locust",
}


def chart(results: list[dict[str, Any]], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, len(SCENARIOS), figsize=(11, 7), squeeze=False)
    for col, scenario in enumerate(SCENARIOS):
        rows = [r for r in results if r["scenario"] == scenario and r.get("calls")]
        names = [LABELS.get(r["tool"], r["tool"]) for r in rows]
        top, bottom = axes[0][col], axes[1][col]
        top.bar(names, [r["calls_per_s"] for r in rows], color="#4c72b0")
        top.set_title(f"{scenario}: acked calls/s (p99 ms above)")
        for i, r in enumerate(rows):
            top.annotate(f"p99 {r['p99_ms']:.1f}", (i, r["calls_per_s"]), ha="center", va="bottom")
        bottom.bar(names, [r["calls_per_cpu_s"] for r in rows], color="#55a868")
        bottom.set_title(f"{scenario}: calls per generator CPU-second")
        for ax in (top, bottom):
            ax.margins(y=0.12)  # room for the figures above the bars
        for i, r in enumerate(rows):
            bottom.annotate(
                f"{r['calls_per_cpu_s']:,.0f}", (i, r["calls_per_cpu_s"]), ha="center", va="bottom"
            )
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--duration", type=float, default=15.0, help="seconds per run")
    ap.add_argument("--tools", default=",".join(TOOLS))
    ap.add_argument("--scenarios", default=",".join(SCENARIOS))
    ap.add_argument("--out", default="/tmp/sioclient-loadgen")
    args = ap.parse_args()
    from servers import ServerProcess

    os.makedirs(args.out, exist_ok=True)
    results: list[dict[str, Any]] = []
    print(
        f"{'scenario':<9} {'tool':<16} {'calls/s':>8} {'offered':>7} {'cycle':>6} {'mean':>6} "
        f"{'p50':>7} {'p95':>7} {'p99':>7} "
        f"{'window':>6} {'CPU-s':>6} {'calls/CPU-s':>11} {'user/sys us':>11} "
        f"{'run CPU-s':>9} {'RSS MiB':>8}"
    )
    for scenario in args.scenarios.split(","):
        users, think = SCENARIOS[scenario]
        for tool in args.tools.split(","):
            if tool == "artillery" and not ARTILLERY.exists():
                print(f"{scenario:<9} {tool:<16} skipped: {INSTALL}")
                continue
            server = ServerProcess("node4", transports=["websocket"]).start()
            monitor = Monitor(server.url)
            try:
                if tool == "artillery":
                    r = run_artillery(server.url, users, think, args.duration, monitor)
                else:
                    r = run_python(tool, server.url, users, think, args.duration, monitor)
            finally:
                monitor.close()
                server.stop()
            r.update(scenario=scenario, tool=tool, users=users, think_s=think)
            results.append(r)
            if not r.get("calls"):
                print(f"{scenario:<9} {tool:<16} failed: {r.get('error', '')[-500:]}")
                continue
            # each user's mean cycle: its think time, the ack, and what the generator adds
            # (waking late from the think time, its task loop)
            r["cycle_ms"] = users / r["calls_per_s"] * 1000
            offered = f"{100 * r['calls_per_s'] * think / users:6.1f}%" if think else "-"
            print(
                f"{scenario:<9} {tool:<16} {r['calls_per_s']:8.0f} {offered:>7} "
                f"{r['cycle_ms']:6.1f} {r['mean_ms']:6.2f} {r['p50_ms']:7.2f} "
                f"{r['p95_ms']:7.2f} {r['p99_ms']:7.2f} {r['window_s']:6.1f} {r['cpu_s']:6.2f} "
                f"{r['calls_per_cpu_s']:11.0f} "
                f"{r['user_us_per_call']:5.1f}/{r['sys_us_per_call']:5.1f} "
                f"{r['run_cpu_s']:9.1f} {r['rss_mib']:8.0f}",
                flush=True,
            )
    with open(os.path.join(args.out, "loadgen.json"), "w") as f:
        json.dump(results, f, indent=1)
    chart(results, os.path.join(args.out, "loadgen.png"))
    print(f"\n{args.out}/loadgen.json, {args.out}/loadgen.png")


if __name__ == "__main__":
    main()
