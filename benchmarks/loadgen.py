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
  ``npm ci --ignore-scripts --prefix benchmarks/artillery``; skipped when not installed).

For the Locust tools every call's latency is kept unrounded (``perf_counter``, a listener on
Locust's request event writes them at the end); Artillery reports its own percentiles
(``socketio.response_time``, a DDSketch of its client-side measures, rounded to 0.1 ms), and
its calls/s is over one second of arrivals plus its longest user session.  Artillery's loop
is a count, not a duration: without think time each user makes 150 calls per second of
``--duration``, so that run lasts as long as it takes. Calls are the completed
calls over the run, users connected first (the ramp is one second), so calls/s is slightly
below the steady rate for every tool alike. Printed per tool and scenario: calls/s,
p50/p95/p99 ms, generator CPU-seconds (user+system of its process tree), calls per CPU-second
and peak RSS. Each run is bounded (``--duration`` plus a minute).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests"))

SCENARIOS = {"think100": (1000, 0.1), "nothink": (100, 0.0)}
TOOLS = ("sioclient", "locust-builtin", "artillery")
ARTILLERY = HERE / "artillery" / "node_modules" / ".bin" / "artillery"
INSTALL = "npm ci --ignore-scripts --prefix benchmarks/artillery"

LOCUSTFILE = """
import json, os, time
from locust import constant, events, task
{import_line}

THINK = float(os.environ["LG_THINK"])
SAMPLES = []  # (perf_counter at the ack, latency ms)
CONNECTED = []  # perf_counter when each user was connected

@events.request.add_listener
def _record(request_type, name, response_time, exception, **kw):
    if name == "ack" and exception is None:
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


def run_measured(cmd: list[str], cwd: str, env: dict[str, str], timeout: float) -> dict[str, Any]:
    """Runs a generator; its CPU time and peak RSS from wait4 (its whole process tree)."""
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
        time.sleep(0.1)
    log.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {
        "wall_s": time.perf_counter() - t0,
        "cpu_s": ru.ru_utime + ru.ru_stime,
        "rss_mib": ru.ru_maxrss / 1024,
        "returncode": proc.returncode,
    }


def run_locust(tool: str, url: str, users: int, think: float, duration: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        if tool == "sioclient":
            imp = "from sioclient.contrib.locust import SocketIOUser"
            connect, body = SIOCLIENT_CONNECT, SIOCLIENT_BODY
        else:
            imp = "from locust.contrib.socketio import SocketIOUser"
            connect, body = BUILTIN_CONNECT, BUILTIN_BODY
        Path(tmp, "locustfile.py").write_text(
            LOCUSTFILE.format(import_line=imp, connect=connect, body=body)
        )
        samples = os.path.join(tmp, "samples.json")
        env = dict(os.environ)
        env.update(LG_THINK=str(think), LG_SAMPLES=samples, PYTHONPATH=str(ROOT))
        cmd = [
            sys.executable, "-m", "locust", "-f", "locustfile.py", "--host", url,
            "--headless", "-u", str(users), "-r", str(users), "-t", f"{duration:g}s",
            "--stop-timeout", "5", "--only-summary", "--loglevel", "WARNING",
        ]  # fmt: skip
        r = run_measured(cmd, tmp, env, duration + 60)
        try:
            with open(samples) as f:
                got = json.load(f)
        except OSError:
            got = {"samples": [], "connected": []}
            r["error"] = Path(tmp, "output.log").read_text()[-2000:]
    return finish(r, got["samples"], got["connected"], users, duration)


def run_artillery(url: str, users: int, think: float, duration: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        # the loop count that lasts the duration (no think: a generous guess, then cut)
        count = int(duration / think) if think else int(duration * 150)
        # a fraction of a second must be written with its unit: "think: 0.1" is read as 0 ms
        think_step = f'          - think: "{think * 1000:g}ms"\n' if think else ""
        script = ARTILLERY_SCRIPT.format(url=url, users=users, think=think_step, count=count)
        Path(tmp, "script.yml").write_text(script)
        report = os.path.join(tmp, "report.json")
        cmd = [str(ARTILLERY), "run", "--output", report, "script.yml"]
        env = dict(os.environ, ARTILLERY_DISABLE_TELEMETRY="true")
        r = run_measured(cmd, tmp, env, duration + 60)
        try:
            with open(report) as f:
                agg = json.load(f)["aggregate"]
        except (OSError, KeyError, ValueError):
            r["error"] = Path(tmp, "output.log").read_text()[-2000:]
            return r
    counters, summ = agg.get("counters", {}), agg.get("summaries", {})
    rt = summ.get("socketio.response_time", {})
    calls = counters.get("socketio.emit", 0)
    # the users arrive over one second, then the longest one's session: Node's start-up is
    # not run time (its counters are stamped by 10 s period, too coarse for this)
    session = summ.get("vusers.session_length", {}).get("max")
    span = session / 1000 + 1.0 if session else r["wall_s"]
    r.update(
        calls=calls,
        calls_per_s=calls / span,
        p50_ms=rt.get("median", float("nan")),
        p95_ms=rt.get("p95", float("nan")),
        p99_ms=rt.get("p99", float("nan")),
    )
    r["calls_per_cpu_s"] = calls / r["cpu_s"] if r["cpu_s"] else float("nan")
    return r


def finish(
    r: dict[str, Any],
    samples: list[list[float]],
    connected: list[float],
    users: int,
    duration: float,
) -> dict[str, Any]:
    """Calls/s and latencies once every user is connected (Locust starts them all at once,
    and their handshakes are not the scenario); CPU per call over the whole run."""
    calls = len(samples)
    window = [s for s in samples if connected and s[0] >= max(connected)]
    if len(connected) == users and len(window) > 1:
        span = window[-1][0] - max(connected)
        rate = len(window) / span if span > 0 else float("nan")
        r["ramp_s"] = max(connected) - min(connected)
    else:  # not every user connected: the whole run
        window, rate = samples, calls / duration
    lat = [ms for _, ms in window]
    r.update(
        calls=calls,
        calls_per_s=rate,
        p50_ms=pct(lat, 0.5),
        p95_ms=pct(lat, 0.95),
        p99_ms=pct(lat, 0.99),
        calls_per_cpu_s=calls / r["cpu_s"] if r["cpu_s"] else float("nan"),
    )
    return r


def chart(results: list[dict[str, Any]], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(SCENARIOS), figsize=(11, 4))
    for ax, scenario in zip(axes, SCENARIOS):
        rows = [r for r in results if r["scenario"] == scenario and "calls" in r]
        names = [r["tool"] for r in rows]
        ax.bar(names, [r["calls_per_s"] for r in rows], color="#4c72b0")
        ax.set_title(f"{scenario}: calls/s (p99 ms above)")
        for i, r in enumerate(rows):
            ax.annotate(f"p99 {r['p99_ms']:.1f}", (i, r["calls_per_s"]), ha="center", va="bottom")
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
        f"{'scenario':<9} {'tool':<15} {'calls/s':>8} {'p50':>7} {'p95':>7} {'p99':>7} "
        f"{'CPU-s':>6} {'calls/CPU-s':>11} {'RSS MiB':>8}"
    )
    for scenario in args.scenarios.split(","):
        users, think = SCENARIOS[scenario]
        for tool in args.tools.split(","):
            if tool == "artillery" and not ARTILLERY.exists():
                print(f"{scenario:<9} {tool:<15} skipped: {INSTALL}")
                continue
            server = ServerProcess("node4", transports=["websocket"]).start()
            try:
                if tool == "artillery":
                    r = run_artillery(server.url, users, think, args.duration)
                else:
                    r = run_locust(tool, server.url, users, think, args.duration)
            finally:
                server.stop()
            r.update(scenario=scenario, tool=tool)
            results.append(r)
            if "calls" not in r or not r["calls"]:
                print(f"{scenario:<9} {tool:<15} failed: {r.get('error', '')[-500:]}")
                continue
            print(
                f"{scenario:<9} {tool:<15} {r['calls_per_s']:8.0f} {r['p50_ms']:7.2f} "
                f"{r['p95_ms']:7.2f} {r['p99_ms']:7.2f} {r['cpu_s']:6.1f} "
                f"{r['calls_per_cpu_s']:11.0f} {r['rss_mib']:8.0f}",
                flush=True,
            )
    with open(os.path.join(args.out, "loadgen.json"), "w") as f:
        json.dump(results, f, indent=1)
    chart(results, os.path.join(args.out, "loadgen.png"))
    print(f"\n{args.out}/loadgen.json, {args.out}/loadgen.png")


if __name__ == "__main__":
    main()
