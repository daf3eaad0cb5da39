"""Soak: N clients against a Node socket.io 4 server for T minutes, with a fault every period.

    .venv/bin/python benchmarks/soak.py                  # 10,000 clients, 10 minutes
    .venv/bin/python benchmarks/soak.py --quick          # 1 minute, periods of 30 s
    .venv/bin/python benchmarks/soak.py --clients 500 --minutes 3 --out /tmp/soak

Everything runs on 127.0.0.1: one server (``tests/node/server.js``, socket.io 4.8, started by
``tests/servers.py``'s ``ServerProcess``) and every client in this one process, over WebSocket,
with the library's default reconnection settings.  Each client emits the server's ``ack`` event
with an ack callback at a steady rate (``--rate`` per second, spread evenly over the clients),
numbering its emits.  The server records every event it receives (its ``record`` file), so
losses and duplicates are counted on the server side.

Faults, one per period (``--period`` seconds, 60 by default; each comes 10 s into its period), alternately:

- ``restart``: the server is stopped (SIGTERM) and started again on the same port;
- ``blackhole``: the server process is frozen with SIGSTOP for ``--blackhole`` seconds, then
  resumed with SIGCONT.  Nothing it receives is read and nothing is sent, connections stay
  open: a blackhole at the cost of two signals, where a proxy in Python would cost more CPU than
  the clients for 10,000 connections.  It lasts longer than pingInterval + pingTimeout, so the
  clients notice it by their heartbeat, and reconnect once the server runs again.

Each period ends with a row: RSS, greenlet objects, open file descriptors, acks completed,
emits lost (made while disconnected, never seen by the server), emits lost in flight (made
while the socket looked connected, never acked, never seen: allowed when the server dies),
emits seen twice by the server, clients connected, clients that reconnected in the period, the
reconnect times of that period (the downtime from ``disconnect`` to ``connect``, p50/p99, and
the longest time a client took to be back once the server was available again), the CPU this
process used, and where its memory is: live Python blocks (at the end of the period, and the
most seen during it, sampled every 0.25 s) and the bytes they hold, the small-object
allocator's 1 MiB arenas (held now, and the most ever held: a storm's peak of small objects
leaves arenas that later objects keep partly used), glibc malloc's bytes in use and its heap, and with
``--trim`` the RSS before ``malloc_trim`` (the ``RSS`` column is read after it).  The reconnect times are counted in histograms of 10 ms bins and the server's
record is read a line at a time: the run's own bookkeeping allocates nothing per reconnection,
so that it does not weigh on the memory it measures.  An emit is judged once a later emit of the same
client was acked (the server handles a client's emits in order).

At the end: the table, the targets with PASS/MISS, a JSON file and a PNG plot of RSS and
reconnect times (``--out``).  The exit status is 1 when a target was missed.
"""

from __future__ import annotations

import argparse
import array
import ctypes
import gc
import json
import os
import platform
import resource
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, ROOT)

import gevent  # noqa: E402
import gevent.event  # noqa: E402
import gevent.pool  # noqa: E402
import greenlet  # noqa: E402
from servers import ServerProcess  # noqa: E402

import sioclient  # noqa: E402

#: handshakes in flight while the clients first connect (as benchmarks/e2e.py)
CONNECT_CONCURRENCY = 200
#: the emit driver's tick (s): each tick emits for the clients whose turn it is
TICK = 0.05
#: the server's heartbeat (ms): a frozen server is noticed within 9 s
PING_INTERVAL = 5000
PING_TIMEOUT = 4000
#: the first fault of a period comes this long after the period started (s)
FAULT_OFFSET = 10.0
#: how long the end of the run waits for every client to be back and acked (s)
SETTLE = 90.0
#: the reconnect-time histograms: bins of 10 ms up to 120 s (longer ones count in the last)
HIST_BIN = 0.01
HIST_BINS = 12_000
#: how often the live Python blocks are sampled for each period's peak (s)
SAMPLE_BLOCKS = 0.25


def release_free_memory() -> None:
    """glibc keeps freed heap pages; malloc_trim hands them back, so that RSS shows what is
    live rather than the peak of a reconnection storm (no-op elsewhere)."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


def heap_stats() -> dict[str, float]:
    """Where the memory is, in MiB: the bytes of live Python objects in the small-object
    allocator (``py_used``) and its arenas (``py_arenas``: 1 MiB each, freed only when every
    object in one is gone), and glibc malloc's bytes in use and its heap (``c_used``,
    ``c_heap``: larger objects, buffers, greenlet stacks).  Linux/glibc; {} elsewhere."""
    out: dict[str, float] = {}
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallinfo2.restype = _MallInfo2
        info = libc.mallinfo2()
        out["c_used"] = (info.uordblks + info.hblkhd) / 2**20
        out["c_heap"] = (info.arena + info.hblkhd) / 2**20
    except (OSError, AttributeError):
        pass
    # sys._debugmallocstats() writes to the C stderr: catch it in a file
    with tempfile.TemporaryFile() as tmp:
        sys.stderr.flush()
        saved = os.dup(2)
        try:
            os.dup2(tmp.fileno(), 2)
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        tmp.seek(0)
        for line in tmp.read().decode("ascii", "replace").splitlines():
            name, _, value = line.partition("=")
            value = value.strip().replace(",", "")
            if name.startswith("# arenas allocated current"):
                out["py_arenas"] = int(value)  # 1 MiB arenas
            elif name.startswith("# arenas highwater mark"):
                out["py_arenas_peak"] = int(value)  # the most held at once, ever
            elif name.startswith("# bytes in allocated blocks"):
                out["py_used"] = int(value) / 2**20
    return out


def rss_bytes() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def greenlet_count() -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, greenlet.greenlet))


def fd_count() -> int:
    return len(os.listdir("/proc/self/fd"))


class Histogram:
    """Counts of durations in fixed bins: the bookkeeping of a storm of thousands of
    reconnections allocates nothing per reconnection, so that it does not weigh on the memory
    it measures."""

    __slots__ = ("counts", "n", "max")

    def __init__(self) -> None:
        self.counts = array.array("I", bytes(4 * HIST_BINS))
        self.n = 0
        self.max = float("nan")

    def add(self, seconds: float) -> None:
        self.counts[min(HIST_BINS - 1, int(seconds / HIST_BIN))] += 1
        self.n += 1
        if not seconds <= self.max:  # also the first (nan)
            self.max = seconds

    def pct(self, q: float) -> float:
        """The q-quantile, to the bin (nan when empty)."""
        if not self.n:
            return float("nan")
        rank = min(self.n - 1, int(round(q * (self.n - 1))))
        seen = 0
        for i, c in enumerate(self.counts):
            seen += c
            if seen > rank:
                return (i + 0.5) * HIST_BIN
        return HIST_BINS * HIST_BIN


def raise_nofile(wanted: int) -> tuple[int, int]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, wanted)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


@dataclass
class Period:
    index: int
    fault: str
    started: float
    fault_end: float | None = None
    acks: int = 0
    reconnects: Histogram = field(default_factory=Histogram)  # downtime, s
    back_after_fault: Histogram = field(default_factory=Histogram)  # s after the server was back
    reasons: dict[str, int] = field(default_factory=dict)  # disconnect reasons and counts
    peak_blocks: int = 0  # the most live Python blocks seen (sampled every SAMPLE_BLOCKS s)
    row: dict[str, Any] = field(default_factory=dict)


class Soak:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.n = args.clients
        self.out = args.out
        os.makedirs(self.out, exist_ok=True)
        self.record = os.path.join(self.out, "record.jsonl")
        if os.path.exists(self.record):
            os.unlink(self.record)
        self.server = ServerProcess(
            "node4",
            pingInterval=PING_INTERVAL,
            pingTimeout=PING_TIMEOUT,
            record=self.record,
        )
        self.socks: list[Any] = []
        n = self.n
        self.next_seq = [0] * n
        self.hi = [-1] * n  # highest acked seq
        # one byte per emit, made at the start for the whole run (grown only past that): seen
        # by the server, and made while disconnected (a set of those grew, and kept its larger
        # table, in every fault: the run's own memory in the peak it measures)
        room = int(args.rate * (args.minutes * 60 + SETTLE) * 1.2) + 16
        self.seen = [bytearray(room) for _ in range(n)]
        self.offline = [bytearray(room) for _ in range(n)]
        self.checked = [0] * n  # seqs below this were judged
        self.down_since: list[float | None] = [None] * n
        self.record_offset = 0
        self.lost = 0
        self.lost_in_flight = 0
        self.duplicated = 0
        self.acks_total = 0
        self.emits_total = 0
        self.periods: list[Period] = []
        self.rss_samples: list[tuple[float, int]] = []
        # for the plot, per second of the run: reconnections completed, and the longest downtime
        seconds = int(args.minutes * 60 + SETTLE + 120)
        self.recon_count = array.array("I", bytes(4 * seconds))
        self.recon_max = array.array("d", bytes(8 * seconds))
        self.t0 = 0.0
        self.connect_all_s = 0.0
        self.emitting = False
        self._ack_callback = self._on_ack  # made once: see _on_ack

    # -- clients ------------------------------------------------------------------------

    def _on_ack(self, i: int, seq: int) -> None:
        """The ack of emit ``seq`` of client ``i``: the server's ``ack`` event answers with the
        arguments it got, so one callback serves every emit (a closure per emit would be the
        run's own memory, thousands of them waiting through each fault)."""
        if seq > self.hi[i]:
            self.hi[i] = seq
        self.acks_total += 1
        if self.periods:
            self.periods[-1].acks += 1

    def _on_disconnect(self, i: int, reason: str) -> None:
        self.down_since[i] = time.monotonic()
        if self.periods:
            reasons = self.periods[-1].reasons
            reasons[reason] = reasons.get(reason, 0) + 1

    def _on_connect(self, i: int) -> None:
        now = time.monotonic()
        since = self.down_since[i]
        if since is None or not self.periods:
            return
        self.down_since[i] = None
        p = self.periods[-1]
        down = now - since
        p.reconnects.add(down)
        second = min(len(self.recon_count) - 1, int(now - self.t0))
        self.recon_count[second] += 1
        if down > self.recon_max[second]:
            self.recon_max[second] = down
        if p.fault_end is not None:
            p.back_after_fault.add(max(0.0, now - p.fault_end))

    def connect_all(self) -> None:
        url = self.server.url
        pool = gevent.pool.Pool(CONNECT_CONCURRENCY)
        connected = [0]
        all_done = gevent.event.Event()

        def one(i: int) -> None:
            done = gevent.event.Event()
            sock = sioclient.io(url, transports=["websocket"], force_new=True, auto_connect=False)
            sock.on("connect", lambda i=i: self._on_connect(i))
            sock.on("disconnect", lambda reason, i=i: self._on_disconnect(i, reason))
            sock.once("connect", done.set)
            self.socks[i] = sock
            sock.open()
            if done.wait(120):
                connected[0] += 1
                if connected[0] == self.n:
                    all_done.set()

        self.socks = [None] * self.n
        started = time.monotonic()
        for i in range(self.n):
            pool.spawn(one, i)
        ok = all_done.wait(max(120.0, self.n / 20))
        self.connect_all_s = time.monotonic() - started
        pool.join(timeout=10)
        if not ok:
            raise SystemExit(f"only {connected[0]} of {self.n} clients connected")

    def driver(self) -> None:
        """Emits for the clients whose turn it is, TICK after TICK, round robin."""
        per_tick = self.n * self.args.rate * TICK
        owed = 0.0
        i = 0
        next_tick = time.monotonic()
        while self.emitting:
            owed += per_tick
            while owed >= 1.0:
                owed -= 1.0
                self._emit(i)
                i = (i + 1) % self.n
            next_tick += TICK
            gevent.sleep(max(0.0, next_tick - time.monotonic()))  # the pace of the load

    def _emit(self, i: int) -> None:
        sock = self.socks[i]
        seq = self.next_seq[i]
        self.next_seq[i] = seq + 1
        if not sock.connected:
            offline = self.offline[i]
            if len(offline) <= seq:
                offline.extend(bytes(seq + 1 - len(offline)))
            offline[seq] = 1
        self.emits_total += 1
        sock.emit("ack", i, seq, ack=self._ack_callback)

    # -- server-side counting -------------------------------------------------------------

    def read_record(self) -> None:
        try:
            f = open(self.record, "rb")
        except FileNotFoundError:
            return
        with f:
            f.seek(self.record_offset)
            # a line at a time: a period's record (100,000 lines) read at once would be a
            # storm of its own in the memory this run measures
            for line in f:
                if not line.endswith(b"\n"):
                    break  # being written: read with the rest next time
                self.record_offset += len(line)
                self._count(line)

    def _count(self, line: bytes) -> None:
        """Counts one line of the server's record (an event it received)."""
        _, event, args = json.loads(line)
        if event != "ack" or len(args) != 2:
            return
        i, seq = args
        seen = self.seen[i]
        if len(seen) <= seq:
            seen.extend(bytes(seq + 1 - len(seen)))
        if seen[seq]:
            self.duplicated += 1
        else:
            seen[seq] = 1

    def judge(self, upto_emitted: bool = False) -> None:
        """Judges every emit below the highest acked one of its client (or every emit)."""
        for i in range(self.n):
            stop = self.next_seq[i] if upto_emitted else self.hi[i]
            seen = self.seen[i]
            offline = self.offline[i]
            for seq in range(self.checked[i], stop):
                if seq < len(seen) and seen[seq]:
                    continue
                if seq < len(offline) and offline[seq]:
                    self.lost += 1
                else:
                    self.lost_in_flight += 1
            self.checked[i] = max(self.checked[i], stop)

    # -- faults ---------------------------------------------------------------------------

    def fault(self, kind: str, period: Period) -> None:
        if kind == "restart":
            self.server.restart()
        else:
            proc = self.server.process
            assert proc is not None
            os.kill(proc.pid, signal.SIGSTOP)
            try:
                gevent.sleep(self.args.blackhole)  # the length of the fault
            finally:
                os.kill(proc.pid, signal.SIGCONT)
        period.fault_end = time.monotonic()

    # -- the run --------------------------------------------------------------------------

    def sampler(self) -> None:
        ticks_per_rss = int(round(5.0 / SAMPLE_BLOCKS))
        tick = 0
        while True:
            if tick % ticks_per_rss == 0:
                self.rss_samples.append((time.monotonic() - self.t0, rss_bytes()))
            tick += 1
            if self.periods:
                # the storm's peak of small objects: the arenas it fills stay with the process
                blocks = sys.getallocatedblocks()
                period = self.periods[-1]
                if blocks > period.peak_blocks:
                    period.peak_blocks = blocks
            gevent.sleep(SAMPLE_BLOCKS)  # the sampling interval

    def run(self) -> int:
        self.server.start()
        try:
            return self._run()
        finally:
            self.emitting = False
            for sock in self.socks:
                if sock is not None:
                    try:
                        sock.io.close()
                    except Exception:  # noqa: BLE001 - the run is over
                        pass
            self.server.close()

    def _run(self) -> int:
        args = self.args
        self.connect_all()
        print(f"# {self.n} clients connected in {self.connect_all_s:.1f} s")
        self.t0 = time.monotonic()
        self.emitting = True
        driver = gevent.spawn(self.driver)
        sampler = gevent.spawn(self.sampler)
        gevent.sleep(5.0)  # let the load settle before the baseline
        base_glets, base_fds, base_rss = greenlet_count(), fd_count(), rss_bytes()
        print(f"# baseline: RSS {base_rss / 2**20:.0f} MiB, {base_glets} greenlets, {base_fds} fds")
        header = (
            f"{'period':>6} {'fault':>9} {'RSS MiB':>8} {'glets':>6} {'fds':>6} "
            f"{'acks':>8} {'lost':>5} {'inflight':>8} {'dup':>4} {'conn':>6} "
            f"{'recon':>6} {'down p50':>8} {'down p99':>8} {'back max':>8} {'cpu %':>6} {'blocks':>8}"
            f" {'peak':>7} {'py used':>7} {'arenas':>6} {'ar max':>6} {'C used':>6} {'C heap':>6}"
            f" {'RSS raw':>7}"
        )
        print(header)
        n_periods = max(1, int(round(args.minutes * 60 / args.period)))
        start = time.monotonic()
        cpu_mark = time.process_time()
        nan = float("nan")
        for k in range(n_periods):
            kind = "restart" if k % 2 == 0 else "blackhole"
            period = Period(k + 1, kind, time.monotonic())
            self.periods.append(period)
            fault_at = start + k * args.period + FAULT_OFFSET
            gevent.sleep(max(0.0, fault_at - time.monotonic()))  # the schedule
            self.fault(kind, period)
            end_at = start + (k + 1) * args.period
            gevent.sleep(max(0.0, end_at - time.monotonic()))  # the schedule
            self.read_record()
            self.judge()
            cpu_now = time.process_time()
            cpu = 100.0 * (cpu_now - cpu_mark) / max(1e-9, time.monotonic() - period.started)
            cpu_mark = cpu_now
            rss_raw = rss_bytes() / 2**20
            if args.trim:
                gc.collect()
                release_free_memory()
            row = {
                "period": k + 1,
                "fault": kind,
                "t": round(time.monotonic() - self.t0, 1),
                "rss_mib": rss_bytes() / 2**20,
                "rss_raw_mib": rss_raw,  # before malloc_trim (with --trim)
                **heap_stats(),
                # live Python allocations: flat when nothing leaks, whatever RSS does
                "py_blocks": sys.getallocatedblocks(),
                "py_blocks_peak": period.peak_blocks,
                "greenlets": greenlet_count(),
                "fds": fd_count(),
                "acks": period.acks,
                "lost": self.lost,
                "lost_in_flight": self.lost_in_flight,
                "duplicated": self.duplicated,
                "connected": sum(1 for s in self.socks if s.connected),
                "down_p50": period.reconnects.pct(0.5),
                "down_p99": period.reconnects.pct(0.99),
                "back_max": period.back_after_fault.max,
                "reconnected": period.reconnects.n,
                "cpu_percent": cpu,
                "disconnect_reasons": dict(period.reasons),
            }
            period.row = row
            print(
                f"{row['period']:>6} {kind:>9} {row['rss_mib']:>8.1f} {row['greenlets']:>6} "
                f"{row['fds']:>6} {row['acks']:>8} {row['lost']:>5} {row['lost_in_flight']:>8} "
                f"{row['duplicated']:>4} {row['connected']:>6} {row['reconnected']:>6} "
                f"{row['down_p50']:>8.2f} {row['down_p99']:>8.2f} {row['back_max']:>8.2f} "
                f"{cpu:>6.0f} {row['py_blocks'] / 1e6:>7.2f}M {row['py_blocks_peak'] / 1e6:>6.2f}M "
                f"{row.get('py_used', nan):>7.1f} {row.get('py_arenas', nan):>6} "
                f"{row.get('py_arenas_peak', nan):>6} {row.get('c_used', nan):>6.1f} "
                f"{row.get('c_heap', nan):>6.1f} {row['rss_raw_mib']:>7.1f}  {dict(period.reasons)}",
                flush=True,
            )
        self.emitting = False
        driver.join(timeout=10)
        settled = self.settle()
        sampler.kill()
        self.server.stop()  # flushes the record
        self.read_record()
        self.judge(upto_emitted=settled)
        return self.report(base_glets, base_fds, settled)

    def settle(self) -> bool:
        """Waits (bounded) until every client is connected and its last emit acked."""
        deadline = time.monotonic() + SETTLE
        while time.monotonic() < deadline:
            if all(
                s.connected and self.hi[i] == self.next_seq[i] - 1 for i, s in enumerate(self.socks)
            ):
                return True
            gevent.sleep(0.5)  # re-check; the deadline bounds it
        return False

    def report(self, base_glets: int, base_fds: int, settled: bool) -> int:
        args = self.args
        rows = [p.row for p in self.periods]
        first_rss = rows[0]["rss_mib"]
        later = [r["rss_mib"] for r in rows[1:]]
        rss_ok = all(abs(v - first_rss) <= 0.05 * first_rss for v in later) if later else True
        # how much RSS moves once every kind of fault has happened (from the second period on)
        settled_rss = [r["rss_mib"] for r in rows[1:]]
        spread = (
            (max(settled_rss) - min(settled_rss)) / min(settled_rss) * 100 if settled_rss else 0.0
        )
        glets_ok = all(r["greenlets"] <= base_glets * 1.01 + 20 for r in rows)
        fds_ok = all(r["fds"] <= base_fds + 10 for r in rows)
        backoff_max = 5.0  # reconnection_delay_max, the library's default
        bound = backoff_max + self.connect_all_s
        back_max = max(
            (p.back_after_fault.max for p in self.periods if p.back_after_fault.n), default=0.0
        )
        all_back = all(r["connected"] == self.n for r in rows)
        back_ok = back_max <= bound and all_back
        lost_ok = self.lost == 0
        print()
        print(
            f"# totals: {self.emits_total} emits, {self.acks_total} acks, lost {self.lost}, "
            f"lost in flight {self.lost_in_flight}, duplicated {self.duplicated}, "
            f"settled at the end: {settled}"
        )
        targets = [
            (
                "RSS flat within 5% after the first period",
                rss_ok,
                f"{first_rss:.1f} MiB -> "
                + ", ".join(f"{v:.1f}" for v in later)
                + f" (from the second period on, within {spread:.1f}%)",
            ),
            (
                "greenlets back to the baseline after each fault",
                glets_ok,
                f"baseline {base_glets}, rows {[r['greenlets'] for r in rows]}",
            ),
            (
                "fds back to the baseline after each fault",
                fds_ok,
                f"baseline {base_fds}, rows {[r['fds'] for r in rows]}",
            ),
            ("0 emits made while disconnected lost", lost_ok, f"{self.lost} lost"),
            (
                "every client back within backoff max + connect-all time",
                back_ok,
                f"longest {back_max:.1f} s, bound {backoff_max:g} + {self.connect_all_s:.1f} s;"
                f" all connected at each row: {all_back}",
            ),
        ]
        for name, ok, detail in targets:
            print(f"# {'PASS' if ok else 'MISS'} {name}: {detail}")
        summary = {
            "machine": platform.platform(),
            "python": sys.version.split()[0],
            "args": vars(args),
            "clients": self.n,
            "connect_all_s": self.connect_all_s,
            "baseline": {"greenlets": base_glets, "fds": base_fds},
            "rows": rows,
            "totals": {
                "emits": self.emits_total,
                "acks": self.acks_total,
                "lost": self.lost,
                "lost_in_flight": self.lost_in_flight,
                "duplicated": self.duplicated,
                "settled": settled,
            },
            "targets": {name: ok for name, ok, _ in targets},
        }
        with open(os.path.join(self.out, "soak.json"), "w") as f:
            json.dump(summary, f, indent=1, default=str)
        self.plot()
        print(f"# wrote {self.out}/soak.json and {self.out}/soak.png")
        return 0 if all(ok for _, ok, _ in targets) else 1

    def plot(self) -> None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, (ax1, ax2) = plt.subplots(2, 1, sharex=True, figsize=(9, 6))
        ts = [t for t, _ in self.rss_samples]
        ax1.plot(ts, [v / 2**20 for _, v in self.rss_samples], color="tab:blue")
        ax1.set_ylabel("RSS (MiB)")
        ax1.set_title(f"sioclient soak: {self.n} clients, socket.io 4 server on 127.0.0.1")
        for p in self.periods:
            if p.fault_end is not None:
                x = p.fault_end - self.t0
                for ax in (ax1, ax2):
                    ax.axvline(x, color="grey", lw=0.6, ls=":")
                ax1.annotate(
                    f"{p.fault} ends", (x, 0), xycoords=("data", "axes fraction"), fontsize=7
                )
        ax1.set_ylim(bottom=0)
        busy = [t for t, c in enumerate(self.recon_count) if c]
        if busy:
            ax2.scatter(
                busy,
                [self.recon_max[t] for t in busy],
                s=[min(40.0, 2 + self.recon_count[t] / 50) for t in busy],
                alpha=0.5,
                color="tab:orange",
                label="longest downtime of the reconnections of each second",
            )
        for p in self.periods:
            if p.reconnects.n and p.fault_end is not None:
                x = p.fault_end - self.t0
                ax2.plot([x], [p.reconnects.pct(0.5)], "k_", ms=12)
                ax2.plot([x], [p.reconnects.pct(0.99)], "r_", ms=12)
        ax2.set_ylabel("disconnect -> connect (s)")
        ax2.set_xlabel("time since the load started (s)  (black: p50, red: p99)")
        fig.tight_layout()
        fig.savefig(os.path.join(self.out, "soak.png"), dpi=100)
        plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, default=10_000)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--quick", action="store_true", help="1 minute, periods of 30 s")
    ap.add_argument("--period", type=float, default=60.0, help="seconds between faults")
    ap.add_argument("--rate", type=float, default=0.2, help="emits per second per client")
    ap.add_argument("--blackhole", type=float, default=12.0, help="seconds the server is frozen")
    ap.add_argument("--out", default="/tmp/sioclient-soak", help="folder for JSON and PNG")
    ap.add_argument(
        "--trim",
        action="store_true",
        help="hand freed memory back to the OS (glibc malloc_trim) before each RSS reading",
    )
    args = ap.parse_args(argv)
    if args.quick:
        args.minutes = 1.0
        args.period = 30.0
    if args.period < FAULT_OFFSET + args.blackhole + 5:
        ap.error(f"--period must be at least {FAULT_OFFSET + 5:g} s + --blackhole")
    # this process holds one descriptor per client (the server, a child, inherits the limit)
    soft, hard = raise_nofile(args.clients + 1000)
    print(
        f"# soak: {args.clients} clients, {args.minutes:g} min, periods of {args.period:g} s, "
        f"{args.rate:g} emits/s per client, blackhole {args.blackhole:g} s; "
        f"RLIMIT_NOFILE raised to {soft} (hard limit {hard})"
    )
    if soft < args.clients + 200:
        print(
            f"# this machine cannot hold {args.clients} clients (RLIMIT_NOFILE {soft}): "
            f"running {soft - 200}"
        )
        args.clients = soft - 200
    return Soak(args).run()


if __name__ == "__main__":
    sys.exit(main())
