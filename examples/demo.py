"""The tour: starts a local Socket.IO server and drives it with sioclient.

Run with ``make demo`` (or ``python examples/demo.py [--url URL]`` against your own server that
implements the same events as examples/echo_server.py).  Shows a connection, emits with
acknowledgements, binary attachments, an automatic reconnect with a buffered emit, and a short
throughput measurement.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import gevent
from gevent.event import AsyncResult, Event

import sioclient

HERE = os.path.dirname(os.path.abspath(__file__))


def start_server() -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, os.path.join(HERE, "echo_server.py")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    with gevent.Timeout(20, RuntimeError("the demo server did not start")):
        line = gevent.get_hub().threadpool.spawn(proc.stdout.readline).get()
    port = json.loads(line)["port"]
    return proc, f"http://127.0.0.1:{port}"


def step(title: str) -> None:
    print(f"\n== {title}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--url", help="use this server instead of starting one")
    ap.add_argument("--transport", choices=["polling", "websocket", "both"], default="both")
    args = ap.parse_args()

    proc = None
    url = args.url
    if url is None:
        proc, url = start_server()
    transports = {
        "polling": ["polling"],
        "websocket": ["websocket"],
        "both": ["polling", "websocket"],
    }[args.transport]
    print(f"sioclient {sioclient.__version__}, compiled speedups: {sioclient.speedups}")
    print(f"server: {url}")
    try:
        run(url, transports)
    finally:
        if proc is not None:
            proc.stdin.close()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def run(url: str, transports: list[str]) -> None:
    sock = sioclient.io(url, transports=transports, reconnection_delay=0.1)
    connected = Event()
    welcomed = AsyncResult()

    @sock.on("connect")
    def on_connect():
        print(f"connected: id={sock.id} transport={sock.io.engine.transport} "
              f"protocol={sock.io.engine.protocol}")
        connected.set()

    sock.on("welcome", lambda data: welcomed.set(data))
    sock.on("disconnect", lambda reason: print(f"disconnected: {reason}"))
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
    print(f"sent {len(blob)} bytes, got {len(back['payload'])} back, equal: {back['payload'] == blob}")

    step("reconnect (the server drops the transport)")
    connected.clear()
    sock.emit("kick-me")
    gevent.sleep(0)
    result = AsyncResult()
    sock.emit("echo", "buffered while disconnected", result.set)
    if not connected.wait(10):
        raise SystemExit("no reconnect")
    print("buffered emit delivered ->", result.get(timeout=5))

    step("throughput (2 s each)")
    rtts = []
    deadline = time.perf_counter() + 2.0
    while time.perf_counter() < deadline:
        t0 = time.perf_counter()
        sock.call("echo", "ping", timeout=5)
        rtts.append(time.perf_counter() - t0)
    print(f"sequential emit+ack: {len(rtts) / 2.0:,.0f} round trips/s, "
          f"median {statistics.median(rtts) * 1e6:,.0f} us")

    got = Event()
    count = 20000
    sock.on("flood-done", lambda n: got.set())
    sock.on("tick", lambda i: None)
    t0 = time.perf_counter()
    sock.emit("flood", count)
    if got.wait(30):
        dt = time.perf_counter() - t0
        print(f"server-to-client: {count / dt:,.0f} events/s")

    sock.close()
    print("\nclosed; bye")


if __name__ == "__main__":
    main()
