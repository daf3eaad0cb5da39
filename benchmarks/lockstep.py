"""Users with a constant think time against one Node socket.io 4.x server: do they keep pace?

    .venv/bin/python benchmarks/lockstep.py                      # 1000 users, 100 ms, 3 runs
    .venv/bin/python benchmarks/lockstep.py --jitter 0.1         # think 90-110 ms
    .venv/bin/python benchmarks/lockstep.py --breakdown          # where an ack's time goes
    .venv/bin/python benchmarks/lockstep.py --profile 30         # cProfile, top 30 functions
    .venv/bin/python benchmarks/lockstep.py --direct-writes      # without the burst writer

Each user (one greenlet, one WebSocket connection) loops: ``call('ack', payload)``, then
``gevent.sleep(think)``.  The offered load is users / think calls per second (``--think 0``:
no offered load, each user calls again as soon as it has yielded once).  Each run is a
fresh client process and a fresh server; the figures are the median of ``--repeat`` runs, with
the spread (least and greatest) beside them, since the machine may be shared.

Printed per run and as medians:

- achieved calls/s, and as a share of the offered load;
- timer lateness: how much later than asked ``gevent.sleep(think)`` returned (p50/p99), and
  the same for a probe greenlet sleeping 1 ms in a loop;
- ack latency: ``call()`` start to return (p50/p99), all with ``perf_counter``;
- measures that other processes on the machine do not skew (wall-clock latencies grow when
  the machine is busy; these do not): the client's CPU use (100 = one core) and calls per
  client CPU-second (split into user and system microseconds per call: the process's own
  code, and the kernel on its behalf), and the *wake batch*: how many users woke from their
  think time in the same loop iteration as a given user (p50/p99).  Users spread evenly over
  the think time wake one or a few per iteration; users in lockstep wake by the hundred.

``--breakdown`` splits an ack's latency (instrumenting the engine, which costs a little):
emit (``call()`` start to the frame handed to the kernel, by ``call()`` itself or, in a burst,
by the burst writer's gathered write), wire (to the loop noticing the
socket readable: the server's time, and the loop's, when it is busy elsewhere), queue (from
then to the read's start: 0 once the connection is open, since the hub reads at once), read
(reading and decoding, up to the ack handed to its socket) and resume (the user's greenlet
running again); and the *read batch*: how many connections were read in the same loop
iteration as a given one.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, ROOT)

perf = time.perf_counter


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


# ---------------------------------------------------------------------------- one run (child)


def run(args: argparse.Namespace, url: str) -> dict[str, Any]:
    import random

    import gevent
    import gevent.event

    import sioclient
    from sioclient import dispatch as dispatch_mod
    from sioclient import engine as engine_mod

    if args.direct_writes:
        dispatch_mod.DEFER_IN_BURSTS = False

    hub = gevent.get_hub()
    loop = hub.loop
    payload = {"text": "x" * 32}
    think, jitter = args.think, args.jitter
    measuring = [False]
    stop = [False]
    acks: list[float] = []
    late: list[float] = []
    probe_late: list[float] = []
    batches: list[int] = []  # for each wake-up measured, the size of its wake batch
    read_batches: list[int] = []  # --breakdown: for each read, the reads of its iteration
    reads = [0]
    iterations = [0]
    stages: dict[str, list[float]] = {k: [] for k in ("emit", "wire", "queue", "read", "resume")}
    woke = [0]

    def on_prepare() -> None:
        # once per loop iteration: the users that woke in the last one were a batch
        n = woke[0]
        if n:
            woke[0] = 0
            if measuring[0]:
                batches.extend([n] * n)
        n = reads[0]
        if n:
            reads[0] = 0
            if measuring[0]:
                read_batches.extend([n] * n)
        if measuring[0]:
            iterations[0] += 1

    prepare = loop.prepare()
    prepare.start(on_prepare)

    if args.breakdown:
        # per engine: when the last frame was sent, noticed readable, and read by a runner
        flush, readable, ws_read = (
            engine_mod.Engine._flush,
            engine_mod.Engine._readable,
            engine_mod.Engine._ws_read,
        )

        from sioclient.transports import websocket as ws_mod

        send_now, write_gathered = ws_mod.WebSocket.send_now, ws_mod.WebSocket._write_gathered

        def flush_(self: Any, *a: Any, **k: Any) -> None:
            # the frames handed to the kernel from the session's queue
            s = self._session
            writes = s is not None and s.wants_write
            flush(self, *a, **k)
            if writes and self._ws is not None:
                self._ws._t_sent = perf()

        def send_now_(self: Any, text: str, *a: Any) -> Any:
            # a frame handed to the kernel by send() itself (not when deferred: see below)
            taken = send_now(self, text, *a)
            if len(a) < 3 or a[2] is None:
                self._t_sent = perf()
            return taken

        def write_gathered_(self: Any) -> None:
            # a gathered write: at the end of a loop iteration, or by the burst writer
            gathered = self._gather is not None
            write_gathered(self)
            if gathered:
                self._t_sent = perf()

        ws_mod.WebSocket.send_now = send_now_  # type: ignore[method-assign, assignment]
        ws_mod.WebSocket._write_gathered = write_gathered_  # type: ignore[method-assign]

        def readable_(self: Any, ws: Any) -> None:
            self._t_readable = perf()
            readable(self, ws)

        def ws_read_(self: Any, ws: Any) -> None:
            self._t_read = perf()
            reads[0] += 1
            ws_read(self, ws)

        from sioclient import socket as socket_mod

        # the ack read: where the reader hands the ack to its socket, which resumes the caller
        acked = socket_mod.Socket._acked

        def acked_(self: Any, pending: Any, a: Any) -> None:
            e = self.io.engine
            if e is not None:
                e._t_done = perf()
            acked(self, pending, a)

        socket_mod.Socket._acked = acked_  # type: ignore[method-assign, assignment]
        engine_mod.Engine._flush = flush_  # type: ignore[method-assign]
        engine_mod.Engine._readable = readable_  # type: ignore[method-assign]
        engine_mod.Engine._ws_read = ws_read_  # type: ignore[method-assign]

    connected = [0]
    all_connected = gevent.event.Event()

    def user(i: int) -> None:
        sock = sioclient.connect(url, transports=["websocket"], reconnection=False, force_new=True)
        ready = gevent.event.Event()
        sock.on("connect", ready.set)
        if not sock.connected and not ready.wait(30):
            raise SystemExit(f"user {i} could not connect")
        connected[0] += 1
        if connected[0] == args.users:
            all_connected.set()
        all_connected.wait()
        # start spread evenly over one think time, as a ramp-up would leave them
        gevent.sleep(think * i / args.users)
        engine = sock.io.engine
        while not stop[0]:
            t0 = perf()
            sock.call("ack", payload, timeout=30)
            t1 = perf()
            if measuring[0]:
                acks.append(t1 - t0)
                if args.breakdown:
                    e = engine
                    ts = getattr(e._ws, "_t_sent", 0.0)
                    tr, tq = e._t_readable, e._t_read
                    if t0 <= ts <= tr <= tq <= t1:
                        stages["emit"].append(ts - t0)
                        stages["wire"].append(tr - ts)
                        stages["queue"].append(tq - tr)
                        stages["read"].append(getattr(e, "_t_done", tq) - tq)
                        stages["resume"].append(t1 - getattr(e, "_t_done", tq))
            want = think * (1.0 + jitter * (2.0 * random.random() - 1.0)) if jitter else think
            t2 = perf()
            gevent.sleep(want)
            t3 = perf()
            woke[0] += 1
            if measuring[0]:
                late.append(t3 - t2 - want)
        sock.close()

    def probe() -> None:
        while not stop[0]:
            t = perf()
            gevent.sleep(0.001)
            if measuring[0]:
                probe_late.append(perf() - t - 0.001)

    t_connect = perf()
    users = [gevent.spawn(user, i) for i in range(args.users)]
    if not all_connected.wait(120):
        raise SystemExit("the users did not connect within 120 s")
    t_connect = perf() - t_connect
    prober = gevent.spawn(probe)
    gevent.sleep(think + args.warmup)

    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    cpu0, w0 = time.process_time(), perf()
    measuring[0] = True
    gevent.sleep(args.duration)
    measuring[0] = False
    cpu1, w1 = time.process_time(), perf()
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    if profiler is not None:
        profiler.disable()
    stop[0] = True
    gevent.joinall(users + [prober], timeout=30)
    prepare.stop()

    wall = w1 - w0
    calls = len(acks)
    offered = args.users / think if think else float("nan")
    out: dict[str, Any] = {
        "users": args.users,
        "think_ms": think * 1000,
        "jitter": jitter,
        "offered": offered,
        "achieved": calls / wall,
        "share": calls / wall / offered,
        "late_p50_ms": pct(late, 0.5) * 1000,
        "late_p99_ms": pct(late, 0.99) * 1000,
        "probe_p50_ms": pct(probe_late, 0.5) * 1000,
        "probe_p99_ms": pct(probe_late, 0.99) * 1000,
        "ack_p50_ms": pct(acks, 0.5) * 1000,
        "ack_p99_ms": pct(acks, 0.99) * 1000,
        "cpu_pct": (cpu1 - cpu0) / wall * 100,
        "calls_per_cpu_s": calls / max(1e-9, cpu1 - cpu0),
        "batch_p50": pct([float(b) for b in batches], 0.5),
        "batch_p99": pct([float(b) for b in batches], 0.99),
        "iterations_per_s": iterations[0] / wall,
        "preempted": ru1.ru_nivcsw - ru0.ru_nivcsw,
        # where a call's CPU goes: the process's own code, and the kernel on its behalf
        "user_us_per_call": (ru1.ru_utime - ru0.ru_utime) / max(1, calls) * 1e6,
        "sys_us_per_call": (ru1.ru_stime - ru0.ru_stime) / max(1, calls) * 1e6,
        "connect_s": t_connect,
    }
    if args.breakdown:
        out["read_batch_p50"] = pct([float(b) for b in read_batches], 0.5)
        out["read_batch_p99"] = pct([float(b) for b in read_batches], 0.99)
        for k, v in stages.items():
            out[f"{k}_p50_ms"] = pct(v, 0.5) * 1000
            out[f"{k}_p99_ms"] = pct(v, 0.99) * 1000
    if profiler is not None:
        import io
        import pstats

        buf = io.StringIO()
        pstats.Stats(profiler, stream=buf).sort_stats("tottime").print_stats(args.profile)
        out["profile"] = buf.getvalue()
    return out


def child(args: argparse.Namespace) -> None:
    print(json.dumps(run(args, args.url)), flush=True)


# ---------------------------------------------------------------------------- the runs (parent)

COLUMNS = [
    ("achieved", "calls/s", "{:8.0f}"),
    ("share", "of offered", "{:8.1%}"),
    ("late_p50_ms", "late p50", "{:6.2f}"),
    ("late_p99_ms", "late p99", "{:6.2f}"),
    ("probe_p50_ms", "1ms-probe p50", "{:6.2f}"),
    ("probe_p99_ms", "1ms-probe p99", "{:6.2f}"),
    ("ack_p50_ms", "ack p50", "{:6.2f}"),
    ("ack_p99_ms", "ack p99", "{:6.2f}"),
    ("cpu_pct", "client CPU %", "{:5.0f}"),
    ("calls_per_cpu_s", "calls/CPU-s", "{:7.0f}"),
    ("user_us_per_call", "user us/call", "{:6.1f}"),
    ("sys_us_per_call", "sys us/call", "{:6.1f}"),
    ("batch_p50", "wake batch p50", "{:5.0f}"),
    ("batch_p99", "wake batch p99", "{:5.0f}"),
    ("iterations_per_s", "loop iter/s", "{:6.0f}"),
    ("preempted", "preempted", "{:6d}"),
    ("server_cpu_pct", "server CPU %", "{:5.0f}"),
]
STAGES = ["emit", "wire", "queue", "read", "resume"]


def server_cpu(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--users", type=int, default=1000)
    ap.add_argument("--think", type=float, default=0.1, help="seconds (default 0.1)")
    ap.add_argument("--jitter", type=float, default=0.0, help="think +/- this fraction")
    ap.add_argument("--duration", type=float, default=10.0, help="measured seconds per run")
    ap.add_argument("--warmup", type=float, default=3.0, help="seconds before measuring")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--breakdown", action="store_true", help="split the ack latency in stages")
    ap.add_argument("--profile", type=int, default=0, metavar="N", help="cProfile, top N")
    ap.add_argument(
        "--direct-writes",
        action="store_true",
        help="every send written by its caller at once, bursts too (for comparison)",
    )
    ap.add_argument("--json", metavar="FILE", help="write every run's figures here")
    ap.add_argument("--url", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.url:
        child(args)
        return

    from servers import ServerProcess

    runs: list[dict[str, Any]] = []
    argv = (
        [
            f"--users={args.users}",
            f"--think={args.think}",
            f"--jitter={args.jitter}",
            f"--duration={args.duration}",
            f"--warmup={args.warmup}",
            f"--profile={args.profile}",
        ]
        + (["--breakdown"] if args.breakdown else [])
        + (["--direct-writes"] if args.direct_writes else [])
    )
    for i in range(args.repeat):
        server = ServerProcess("node4", transports=["websocket"]).start()
        try:
            assert server.process is not None
            s0 = server_cpu(server.process.pid)
            done = subprocess.run(
                [sys.executable, __file__, *argv, "--url", server.url],
                capture_output=True,
                text=True,
                timeout=args.duration + args.warmup + 300,
            )
            s1 = server_cpu(server.process.pid)
        finally:
            server.stop()
        if done.returncode != 0:
            raise SystemExit(f"run {i + 1} failed:\n{done.stderr}")
        r = json.loads(done.stdout.strip().splitlines()[-1])
        r["server_cpu_s"] = s1 - s0
        # the whole run's calls: the server's CPU per call, roughly (connecting included)
        r["server_cpu_pct"] = (
            (s1 - s0) / (args.duration + args.warmup + args.think + r["connect_s"]) * 100
        )
        runs.append(r)
        line = "  ".join(f"{h}={fmt.format(r[k]).strip()}" for k, h, fmt in COLUMNS)
        print(f"run {i + 1}: {line}", flush=True)
        if args.breakdown:
            print(
                "  ack stages p50/p99 ms: "
                + "  ".join(f"{s} {r[s + '_p50_ms']:.2f}/{r[s + '_p99_ms']:.2f}" for s in STAGES)
                + f"  read batch p50/p99: {r['read_batch_p50']:.0f}/{r['read_batch_p99']:.0f}"
            )
        if args.profile:
            print(r["profile"])

    offered = f", offered {args.users / args.think:,.0f} calls/s" if args.think else ""
    print(
        f"\n{args.users} users, think {args.think * 1000:g} ms"
        + (f" +/-{args.jitter:.0%}" if args.jitter else "")
        + f"{offered}; median (least-greatest) of {len(runs)} runs"
    )
    keys = COLUMNS + (
        [(f"{s}_p{q}_ms", f"{s} p{q}", "{:6.2f}") for s in STAGES for q in (50, 99)]
        + [(f"read_batch_p{q}", f"read batch p{q}", "{:5.0f}") for q in (50, 99)]
        if args.breakdown
        else []
    )
    for key, head, fmt in keys:
        values = [r[key] for r in runs]
        med = statistics.median(values)
        med_s = fmt.format(type(values[0])(med) if isinstance(values[0], int) else med).strip()
        lo, hi = fmt.format(min(values)).strip(), fmt.format(max(values)).strip()
        print(f"  {head:<16} {med_s:>9}   ({lo} - {hi})")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(runs, f, indent=1)


if __name__ == "__main__":
    main()
