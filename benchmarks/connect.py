"""What a connection costs the client: CPU per websocket-only connect to one Node socket.io 4.x
server, each a new Manager (as each user of a load generator is).

    .venv/bin/python benchmarks/connect.py                  # the three patterns below
    .venv/bin/python benchmarks/connect.py --profile 40     # cProfile of the sequential one

Patterns, each on a fresh server in this process:

- ``sequential``: ``--count`` Managers one after the other, each waiting for ``connect``, then
  closed (after a few to warm up);
- ``ramp``: ``--users`` Managers started 1 ms apart (a Locust ramp), all kept open until every
  one connected;
- ``burst``: ``--users`` Managers started in one loop with no pause (a script that creates all
  its clients at once).

Printed: ms of client CPU (``time.process_time``) per connect, and the ``EIO=3`` probes paid
(websocket-only protocol detection, counted from the engine's DEBUG log).  Wall-clock figures
mean nothing on a shared machine; to compare two versions, run this in a checkout of each,
alternating, and take medians.
"""

from __future__ import annotations

import argparse
import cProfile
import logging
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import gevent  # noqa: E402
from gevent.event import AsyncResult  # noqa: E402
from servers import ServerProcess  # noqa: E402

import sioclient  # noqa: E402

OPTIONS = {"transports": ["websocket"], "reconnection": False}


class _Probes(logging.Handler):
    count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("handshake retried with EIO=4"):
            _Probes.count += 1


def _start(url: str) -> tuple[sioclient.Socket, AsyncResult]:
    sock = sioclient.Manager(url, **OPTIONS).socket("/")
    result: AsyncResult = AsyncResult()
    sock.once("connect", lambda *a: result.set(True))
    sock.once("connect_error", lambda err: result.set(err))
    return sock, result


def _check(result: AsyncResult) -> None:
    outcome = result.get(timeout=30)
    if outcome is not True:
        raise SystemExit(f"a connect failed: {outcome!r}")


def sequential(url: str, count: int) -> None:
    for _ in range(count):
        sock, result = _start(url)
        _check(result)
        sock.io.close()


def many(url: str, users: int, gap: float) -> None:
    started = []
    for _ in range(users):
        started.append(_start(url))
        if gap:
            gevent.sleep(gap)
    for _, result in started:
        _check(result)
    for sock, _ in started:
        sock.io.close()


def measure(name: str, run: object, warm_up: int = 0) -> None:
    server = ServerProcess("node4", pingInterval=10000, pingTimeout=10000).start()
    try:
        if warm_up:
            sequential(server.url, warm_up)
        probes = _Probes.count
        t0 = time.process_time()
        n = run(server.url)  # type: ignore[operator]
        cpu = time.process_time() - t0
        print(
            f"{name:10} {cpu / n * 1000:6.3f} ms CPU per connect, "
            f"{_Probes.count - probes} probes paid in {n} connects"
        )
    finally:
        server.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=500, help="sequential connects")
    ap.add_argument("--users", type=int, default=1000, help="Managers of the ramp and burst")
    ap.add_argument("--profile", type=int, metavar="N", help="cProfile, top N functions")
    args = ap.parse_args()
    logger = logging.getLogger("sioclient.engine")
    logger.setLevel(logging.DEBUG)
    logger.addHandler(_Probes())
    logger.propagate = False
    if args.profile:
        server = ServerProcess("node4", pingInterval=10000, pingTimeout=10000).start()
        try:
            sequential(server.url, 20)
            profile = cProfile.Profile()
            profile.runcall(sequential, server.url, args.count)
            pstats.Stats(profile).sort_stats("tottime").print_stats(args.profile)
        finally:
            server.close()
        return

    def seq(url: str) -> int:
        sequential(url, args.count)
        return args.count

    def ramp(url: str) -> int:
        many(url, args.users, 0.001)
        return args.users

    def burst(url: str) -> int:
        many(url, args.users, 0.0)
        return args.users

    measure("sequential", seq, warm_up=20)
    measure("ramp", ramp)
    measure("burst", burst)


if __name__ == "__main__":
    main()
