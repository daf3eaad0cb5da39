"""``sioclient bench``: N clients calling an event in a loop, with latency percentiles.

Each client connects (all of them before the clock starts), then loops: ``call(event, ...)``,
waits for the ack, records the time from the emit to the ack (``perf_counter``, in
microseconds) in an HdrHistogram, and, with ``--rate``, waits for its next slot.  Slots are
spaced ``1/rate`` apart from a random phase per client, so that the clients do not fire in
lockstep; a client that fell behind skips the slots it missed instead of bursting.

Once a second a line of progress goes to stderr (when it is a terminal, or with ``--progress``),
and the run's timeline keeps that second's calls and percentiles.  At the end: the totals and
percentiles as text, or ``--json``; ``--plot FILE.png`` draws the timeline and the latency
distribution (matplotlib).  HdrHistogram comes with the ``cli`` extra, matplotlib with ``plot``.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from typing import Any

import gevent
from gevent.event import AsyncResult, Event

import sioclient

from .cli_common import (
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_TIMEOUT,
    EXIT_USAGE,
    SLACK,
    CommandError,
    Output,
    build_options,
    connection_flags,
    count,
    describe,
    interruptible,
    parse_json_args,
    positive,
    shown_url,
    to_json,
)

#: the histogram's range, microseconds: 1 µs to 5 minutes, 3 significant digits
_LOWEST_US = 1
_HIGHEST_US = 300_000_000
_DIGITS = 3

PERCENTILES = (50.0, 75.0, 90.0, 95.0, 99.0, 99.9, 99.99)


def _histogram() -> Any:
    try:
        from hdrh.histogram import HdrHistogram
    except ImportError:
        raise CommandError(
            EXIT_USAGE,
            "bench needs the hdrhistogram package: pip install 'sioclient[cli]'",
        ) from None
    return HdrHistogram(_LOWEST_US, _HIGHEST_US, _DIGITS)


def _ms(us: float) -> float:
    return round(us / 1000.0, 3)


def summary(hist: Any) -> dict[str, Any]:
    """Latencies of a histogram in milliseconds."""
    if hist.get_total_count() == 0:
        return {}
    out: dict[str, Any] = {
        "min": _ms(hist.get_min_value()),
        "mean": _ms(hist.get_mean_value()),
        "stddev": _ms(hist.get_stddev()),
    }
    for p in PERCENTILES:
        out[f"p{p:g}"] = _ms(hist.get_value_at_percentile(p))
    out["max"] = _ms(hist.get_max_value())
    return out


class Bench:
    def __init__(self, args: argparse.Namespace, out: Output, values: list[Any]) -> None:
        self.args = args
        self.out = out
        self.values = values
        self.total = _histogram()
        self.window = _histogram()
        self.calls = 0
        self.window_calls = 0
        self.errors: Counter[str] = Counter()
        self.timeline: list[dict[str, Any]] = []
        self.running = Event()
        self.failed = Event()
        self.fatal: CommandError | None = None
        self.stopped = False
        self.sockets: list[Any] = []
        self.connect_us = _histogram()
        self.connect_errors: Counter[str] = Counter()
        self.first_error: BaseException | None = None
        self.started = 0.0
        self.ended = 0.0
        self.progress = args.progress or sys.stderr.isatty()
        self.tty = sys.stderr.isatty()

    # -- connecting -------------------------------------------------------------------------

    def connect_all(self, stop: Event) -> list[Any]:
        try:
            opts = build_options(self.args)
        except (ValueError, TypeError) as exc:
            raise CommandError(EXIT_USAGE, str(exc)) from None
        results: list[AsyncResult] = []
        for _ in range(self.args.clients):
            try:
                sock = sioclient.io(self.args.url, **opts)
            except (ValueError, TypeError) as exc:
                raise CommandError(EXIT_USAGE, str(exc)) from None
            self.sockets.append(sock)
            results.append(self._open(sock))
        timeout = self.sockets[0].io.opts.get("timeout")
        bound = None if timeout is None else timeout + SLACK
        waiter = gevent.spawn(gevent.wait, results, timeout=bound)
        gevent.wait([waiter, stop], count=1)
        if stop.is_set():
            raise CommandError(EXIT_INTERRUPTED, "")
        connected = []
        for sock, result in zip(self.sockets, results):
            if not result.ready():
                self.connect_errors["TimeoutError"] += 1
            elif result.value is None:
                connected.append(sock)
            else:
                self.connect_errors[type(result.value).__name__] += 1
                if self.first_error is None:
                    self.first_error = result.value
        return connected

    def _open(self, sock: Any) -> AsyncResult:
        result: AsyncResult = AsyncResult()
        t0 = time.perf_counter()

        def on_connect() -> None:
            if not result.ready():
                self.connect_us.record_value(max(1, int((time.perf_counter() - t0) * 1e6)))
                result.set(None)

        def on_error(err: Any) -> None:
            if not result.ready():
                if not isinstance(err, BaseException):
                    err = sioclient.ConnectionError(str(err))
                result.set(err)

        sock.once("connect", on_connect)
        sock.once("connect_error", on_error)
        sock.open()
        return result

    # -- the load ---------------------------------------------------------------------------

    def worker(self, sock: Any) -> None:
        args = self.args
        interval = 1.0 / args.rate if args.rate else 0.0
        call = sock.call
        event, values, timeout = args.event, self.values, args.timeout
        perf_counter = time.perf_counter
        self.running.wait()
        slot = perf_counter() + random.uniform(0.0, interval)
        while not self.stopped:
            if interval:
                now = perf_counter()
                if slot > now:
                    gevent.sleep(slot - now)
                    if self.stopped:
                        return
                elif now - slot > interval:
                    slot = now  # behind: skip the missed slots rather than burst
                slot += interval
            t0 = perf_counter()
            try:
                call(event, *values, timeout=timeout)
            except sioclient.TimeoutError:
                self.errors["timeout"] += 1
                continue
            except sioclient.DisconnectedError:
                self.errors["disconnected"] += 1
                if sock.io.ready_state == "closed" and not sock.active:
                    return
                gevent.sleep(0.1)  # the socket reconnects meanwhile; no busy loop
                continue
            except (TypeError, ValueError) as exc:
                # the arguments cannot be sent: the whole run stops with a usage error
                if self.fatal is None:
                    self.fatal = CommandError(EXIT_USAGE, str(exc))
                self.failed.set()
                return
            except sioclient.SocketIOError as exc:
                self.errors[type(exc).__name__] += 1
                continue
            if self.stopped:
                return
            us = int((perf_counter() - t0) * 1e6) or 1
            self.total.record_value(us)
            self.window.record_value(us)
            self.calls += 1
            self.window_calls += 1

    def ticker(self, connected: int) -> None:
        next_tick = self.started + 1.0
        while True:
            gevent.sleep(max(0.0, next_tick - time.perf_counter()))
            self.tick(time.perf_counter(), connected)
            next_tick += 1.0

    def tick(self, now: float, connected: int) -> None:
        window, self.window = self.window, _histogram()
        calls, self.window_calls = self.window_calls, 0
        elapsed = now - self.started
        span = elapsed - (self.timeline[-1]["t"] if self.timeline else 0.0)
        entry = {
            "t": round(elapsed, 3),
            "calls": calls,
            "calls_per_s": round(calls / span, 1) if span > 0 else 0.0,
            "errors": sum(self.errors.values()),
        }
        if calls:
            # percentiles only: the mean and deviation walk every bucket (tens of ms)
            entry["p50_ms"] = _ms(window.get_value_at_percentile(50.0))
            entry["p99_ms"] = _ms(window.get_value_at_percentile(99.0))
            entry["max_ms"] = _ms(window.get_max_value())
        self.timeline.append(entry)
        if self.progress:
            line = (
                f"[{elapsed:6.1f}/{self.args.duration:g} s] {connected} clients  "
                f"{entry['calls_per_s']:>10,.0f} calls/s  "
                f"p50 {entry.get('p50_ms', 0):8.3f} ms  p99 {entry.get('p99_ms', 0):8.3f} ms  "
                f"errors {entry['errors']}"
            )
            end = "\r" if self.tty else "\n"
            sys.stderr.write(("\x1b[K" if self.tty else "") + line + end)
            sys.stderr.flush()

    def run(self, stop: Event) -> int:
        connected = self.connect_all(stop)
        if not connected:
            code, text = describe(self.first_error) if self.first_error else (EXIT_TIMEOUT, "")
            text = text or "no connection within the timeout"
            raise CommandError(
                code, f"no client could connect to {shown_url(self.args.url)}: {text}"
            )
        workers = [gevent.spawn(self.worker, sock) for sock in connected]
        self.started = time.perf_counter()
        self.running.set()
        ticker = gevent.spawn(self.ticker, len(connected))
        interrupted = False
        try:
            done = gevent.spawn(gevent.sleep, self.args.duration)
            gevent.wait([done, stop, self.failed], count=1)
            if self.fatal is not None:
                raise self.fatal
            interrupted = stop.is_set()
            done.kill()
        finally:
            self.stopped = True
            self.ended = time.perf_counter()
            ticker.kill()
            # calls in flight finish (each bounded by --timeout) but count no more
            gevent.joinall(workers, timeout=min(self.args.timeout, 2.0) + 0.5)
            gevent.killall(workers, timeout=1.0)
        if self.progress:
            last = self.timeline[-1]["t"] if self.timeline else 0.0
            if self.window_calls and self.ended - self.started - last >= 0.25:
                self.tick(self.ended, len(connected))  # a last partial second worth showing
            if self.tty:
                sys.stderr.write("\n")
        report = self.report(len(connected))
        if self.args.json:
            self.out.data(json.dumps(report, indent=2))
        else:
            self.out.data(self.text(report))
        if self.args.plot:
            plot(report, self.total, self.args.plot)
            self.out.status(f"plot written to {self.args.plot}")
        if interrupted:
            return EXIT_INTERRUPTED
        if self.calls == 0:
            only_timeouts = set(self.errors) <= {"timeout"}
            raise CommandError(
                EXIT_TIMEOUT if only_timeouts and self.errors else EXIT_ERROR,
                f"no call was acknowledged ({_errors_text(self.errors) or 'no call made'})",
            )
        return EXIT_OK

    def close(self) -> None:
        for sock in self.sockets:
            try:
                sock.close()
                sock.io.close()
            except Exception:  # noqa: BLE001 - closing must not hide the result
                pass
        # a moment for the closing handshakes; the ack deadline timers keep the loop busy,
        # so this does not wait for the loop to go quiet
        gevent.sleep(0.2)

    # -- results ----------------------------------------------------------------------------

    def report(self, connected: int) -> dict[str, Any]:
        duration = max(1e-9, self.ended - self.started)
        transport = protocol = None
        for sock in self.sockets:
            engine = sock.io.engine
            if engine is not None:
                transport, protocol = engine.transport, engine.protocol
                break
        return {
            "url": shown_url(self.args.url),
            "event": self.args.event,
            "clients": self.args.clients,
            "connected": connected,
            "connect_errors": dict(self.connect_errors),
            "connect_ms": summary(self.connect_us),
            "transport": transport,
            "protocol": protocol,
            "speedups": bool(sioclient.speedups),
            "rate_per_client": self.args.rate,
            "duration_s": round(duration, 3),
            "calls": self.calls,
            "errors": dict(self.errors),
            "calls_per_s": round(self.calls / duration, 1),
            "latency_ms": summary(self.total),
            "timeline": self.timeline,
        }

    @staticmethod
    def text(report: dict[str, Any]) -> str:
        lat = report["latency_ms"]
        lines = [
            f"{report['url']}  event {report['event']!r}  "
            f"{report['connected']}/{report['clients']} clients connected "
            f"({report['transport']}, protocol revision {report['protocol']})",
            f"{report['calls']:,} calls acknowledged in {report['duration_s']:g} s: "
            f"{report['calls_per_s']:,.1f} calls/s"
            + (f"  errors: {_errors_text(report['errors'])}" if report["errors"] else ""),
        ]
        if report["connect_errors"]:
            lines.append(f"connect errors: {_errors_text(report['connect_errors'])}")
        if lat:
            lines.append("latency, ms (emit to ack):")
            lines.append("  " + "  ".join(f"{k} {v:g}" for k, v in lat.items()))
        return "\n".join(lines)


def _errors_text(errors: dict[str, int]) -> str:
    return ", ".join(f"{name} {count}" for name, count in sorted(errors.items()))


def _check_plot_support() -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise CommandError(
            EXIT_USAGE, "--plot needs matplotlib: pip install 'sioclient[plot]'"
        ) from None


def plot(report: dict[str, Any], hist: Any, path: str) -> None:
    """Two panels: calls/s and p50/p99 per second; latency by percentile (HdrHistogram)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 7))
    timeline = report["timeline"]
    t = [e["t"] for e in timeline]
    top.plot(t, [e["calls_per_s"] for e in timeline], ".-", color="tab:blue", label="calls/s")
    top.set_xlabel("s")
    top.set_ylabel("acknowledged calls/s")
    right = top.twinx()
    for key, colour in (("p50_ms", "tab:green"), ("p99_ms", "tab:red")):
        right.plot(t, [e.get(key) for e in timeline], ".-", color=colour, label=key[:-3], lw=1)
    right.set_ylabel("ms")
    lines = top.get_lines() + right.get_lines()
    top.legend(lines, [line.get_label() for line in lines], loc="lower right")
    top.set_title(
        f"{report['connected']} clients, {report['event']!r} on {report['url']}: "
        f"{report['calls_per_s']:,.0f} calls/s"
    )
    xs, ys = [], []
    if hist.get_total_count():
        for item in hist.get_percentile_iterator(5):
            p = min(item.percentile, 99.9999)
            xs.append(1.0 / (1.0 - p / 100.0))
            ys.append(item.value_iterated_to / 1000.0)
    bottom.plot(xs, ys, color="tab:purple")
    bottom.set_xscale("log")
    ticks = [1, 2, 10, 100, 1000, 10000]
    bottom.set_xticks(ticks)
    bottom.set_xticklabels(["0%", "50%", "90%", "99%", "99.9%", "99.99%"])
    bottom.set_xlabel("percentile")
    bottom.set_ylabel("latency, ms (emit to ack)")
    bottom.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def cmd_bench(args: argparse.Namespace, out: Output) -> int:
    values = parse_json_args(args.args) if args.args else ["hello"]
    if args.plot:
        _check_plot_support()
    args.reconnect = True  # a load test outlives a dropped connection; drops count as errors
    bench = Bench(args, out, values)
    try:
        return interruptible(bench.run)
    finally:
        bench.close()


def add_bench_parser(sub: Any) -> None:
    p = sub.add_parser(
        "bench",
        help="N clients calling an event in a loop; latency percentiles",
        description="Connects --clients clients, then each calls EVENT (default 'echo', "
        'with the JSON arguments given, default "hello") in a loop for --duration seconds, '
        "--rate times a second or as fast as the acks come.  Latency is the time from the emit "
        "to the ack.  Prints totals and HdrHistogram percentiles (--json: as JSON).",
    )
    connection_flags(p)
    p.add_argument("event", metavar="EVENT", nargs="?", default="echo")
    p.add_argument(
        "args", metavar="JSON", nargs="*", default=[], help="arguments, one JSON value each"
    )
    p.add_argument("-c", "--clients", type=count, default=10, metavar="N", help="(10)")
    p.add_argument(
        "-r", "--rate", type=positive, metavar="R", help="calls/s per client (default: no limit)"
    )
    p.add_argument("-d", "--duration", type=positive, default=10.0, metavar="S", help="(10)")
    p.add_argument(
        "--timeout",
        type=positive,
        default=10.0,
        metavar="S",
        help="seconds allowed for connecting and for each ack (10)",
    )
    p.add_argument(
        "--progress", action="store_true", help="progress lines on stderr even when not a terminal"
    )
    p.add_argument("--json", action="store_true", help="the results as JSON on stdout")
    p.add_argument("--plot", metavar="FILE", help="a PNG chart of the run (needs matplotlib)")
    p.set_defaults(func=cmd_bench)


__all__ = ["Bench", "add_bench_parser", "cmd_bench", "plot", "summary", "to_json"]
