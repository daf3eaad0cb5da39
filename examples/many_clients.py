"""Many clients in one process: each a greenlet with its own connection, all emitting with acks.

    python examples/many_clients.py [--url URL] [--clients 1000] [--duration 5]

Thousands of clients need as many file descriptors (``ulimit -n``); the embedded echo server is
single-process Python and becomes the bottleneck well before the clients do, so point ``--url``
at the server you want to load.  For distributed load with reports, see examples/locustfile.py.
"""

from __future__ import annotations

import statistics
import time

import gevent
import gevent.pool
from _server import arguments, server_url
from gevent.event import Event

import sioclient


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def client(url: str, transports: list[str], stop: Event, out: dict[str, list[float]]) -> None:
    t0 = time.perf_counter()
    # force_new: each simulated user has a connection of its own, as separate browsers would.
    socket = sioclient.io(url, force_new=True, transports=transports, reconnection=False)
    ready = Event()
    socket.on("connect", ready.set)
    socket.on("connect_error", lambda err: ready.set())
    try:
        if not ready.wait(30) or not socket.connected:
            out["failures"].append(1.0)
            return
        out["connect"].append(time.perf_counter() - t0)
        while not stop.is_set():
            t1 = time.perf_counter()
            socket.call("echo", {"t": t1}, timeout=10)
            out["rtt"].append(time.perf_counter() - t1)
    except sioclient.SocketIOError:
        out["failures"].append(1.0)
    finally:
        socket.close()


def run(url: str, clients: int, duration: float, transports: list[str]) -> None:
    out: dict[str, list[float]] = {"connect": [], "rtt": [], "failures": []}
    stop = Event()
    group = gevent.pool.Group()
    t0 = time.perf_counter()
    for _ in range(clients):
        group.spawn(client, url, transports, stop, out)
    gevent.sleep(duration)  # the measurement window itself, not a synchronisation
    stop.set()
    group.join(timeout=30)
    group.kill(timeout=5)
    elapsed = time.perf_counter() - t0
    connected = len(out["connect"])
    print(
        f"{connected}/{clients} clients connected over {transports}, {len(out['failures'])} failures"
    )
    if connected:
        c = out["connect"]
        print(
            f"connect time: median {statistics.median(c) * 1e3:.1f} ms, "
            f"p95 {percentile(c, 0.95) * 1e3:.1f} ms"
        )
    if out["rtt"]:
        r = out["rtt"]
        print(
            f"{len(r):,} emits with ack in {elapsed:.1f} s ({len(r) / elapsed:,.0f}/s); latency "
            f"median {statistics.median(r) * 1e3:.2f} ms, p99 {percentile(r, 0.99) * 1e3:.2f} ms"
        )
    if out["failures"] or connected < clients:
        raise SystemExit(1)


def main() -> None:
    ap = arguments(__doc__)
    ap.add_argument("--clients", type=int, default=200)
    ap.add_argument("--duration", type=float, default=3.0, help="seconds of emitting")
    ap.add_argument("--transport", choices=["polling", "websocket", "both"], default="websocket")
    args = ap.parse_args()
    transports = ["polling", "websocket"] if args.transport == "both" else [args.transport]
    with server_url(args.url) as url:
        run(url, args.clients, args.duration, transports)


if __name__ == "__main__":
    main()
