"""The tour: starts a local Socket.IO server and drives it with sioclient.

Run with ``make demo`` (or ``python examples/demo.py [--url URL]`` against your own server that
implements the same events as examples/echo_server.py).  Shows a connection, emits with
acknowledgements, binary attachments, an automatic reconnect with a buffered emit, and a short
throughput measurement.
"""

from __future__ import annotations

import os
import statistics
import time

from _server import arguments, server_url
from gevent.event import AsyncResult, Event

import sioclient


def step(title: str) -> None:
    print(f"\n== {title}")


def main() -> None:
    ap = arguments(__doc__)
    ap.add_argument("--transport", choices=["polling", "websocket", "both"], default="both")
    args = ap.parse_args()
    transports = {
        "polling": ["polling"],
        "websocket": ["websocket"],
        "both": ["polling", "websocket"],
    }[args.transport]
    print(f"sioclient {sioclient.__version__}, compiled speedups: {sioclient.speedups}")
    if args.url is None:
        print("starting the local echo server (python-socketio on gevent)")
    with server_url(args.url) as url:
        print(f"server: {url}")
        run(url, transports)


def run(url: str, transports: list[str]) -> None:
    sock = sioclient.io(url, transports=transports, reconnection_delay=0.1)
    connected = Event()
    welcomed = AsyncResult()

    @sock.on("connect")
    def on_connect():
        print(
            f"connected: id={sock.id} transport={sock.io.engine.transport} "
            f"protocol={sock.io.engine.protocol}"
        )
        connected.set()

    sock.on("welcome", lambda data: welcomed.set(data))
    disconnected = Event()

    @sock.on("disconnect")
    def on_disconnect(reason):
        print(f"disconnected: {reason}")
        disconnected.set()

    sock.on("reconnect_attempt", lambda n: print(f"reconnect attempt {n}"))
    sock.on("reconnect", lambda n: print(f"reconnected after {n} attempt(s)"))

    step("connect")
    if not connected.wait(10):
        raise SystemExit("could not connect")
    print("server says:", welcomed.get(timeout=5))

    step("emit with an acknowledgement")
    print("echo ->", sock.call("echo", {"hello": "world", "n": 42}, timeout=5))
    done = AsyncResult()
    sock.emit("echo", "via a callback", done.set)
    print("callback got ->", done.get(timeout=5))

    step("binary attachments")
    blob = os.urandom(4096)
    back = sock.call("echo", {"name": "blob", "payload": blob}, timeout=5)
    print(
        f"sent {len(blob)} bytes, got {len(back['payload'])} back, equal: {back['payload'] == blob}"
    )

    step("reconnect (the server drops the transport)")
    connected.clear()
    sock.emit("kick-me")
    if not disconnected.wait(10):
        raise SystemExit("the server did not drop the connection")
    result = AsyncResult()
    sock.emit("echo", "buffered while disconnected", result.set)
    if not connected.wait(10):
        raise SystemExit("no reconnect")
    print("buffered emit delivered ->", result.get(timeout=5))

    step("a short benchmark")
    rtts = []
    deadline = time.perf_counter() + 2.0
    while time.perf_counter() < deadline:
        t0 = time.perf_counter()
        sock.call("echo", "ping", timeout=5)
        rtts.append(time.perf_counter() - t0)
    print(
        f"sequential emit+ack for 2 s: {len(rtts) / 2.0:,.0f} round trips/s, "
        f"median {statistics.median(rtts) * 1e6:,.0f} us"
    )

    got = Event()
    count = 20000
    sock.on("flood-done", lambda n: got.set())
    sock.on("tick", lambda i: None)
    t0 = time.perf_counter()
    sock.emit("flood", count)
    if got.wait(30):
        dt = time.perf_counter() - t0
        print(f"server-to-client, {count:,} events: {count / dt:,.0f} events/s")

    sock.close()
    print("\nclosed; bye")


if __name__ == "__main__":
    main()
