"""End-to-end benchmark: sioclient against python-socketio, Node's socket.io-client and the floor.

    .venv/bin/python benchmarks/e2e.py [--quick] [--clients N] [--repeat R] [--peers a,b]
                                       [--floor] [--no-eio3] [--json out.json] [--png out.png]

A Node socket.io 4.8 server (and a 2.5 one for the protocol revision 4 path) is started on
127.0.0.1 and stopped at the end.  Every client runs in a subprocess of its own, so that
monkey-patching stays local and the memory and CPU figures belong to one peer.  Scenarios, all
over WebSocket:

- ``connect``: one connection from nothing to the namespace's ``connect`` (ms, median);
- ``rtt``: sequential ``ack`` round trips, one in flight, for 5 s (per second);
- ``pipelined``: 10,000 ``ack`` emits, 100 in flight (acks per second);
- ``flood``: the server emits 100,000 small events (events handled per second);
- ``clients``: N clients in one process (N=1000, ``--clients 10000`` for the big run):
  the time to connect them all and the resident memory per client (KiB).

Each scenario also gives the client's CPU time per operation (``*_cpu``, µs, user+system time
of the client process from ``getrusage``; Node's ``process.cpuUsage()``): on a shared machine
wall-clock rates move 2x from minute to minute, CPU time per operation hardly does.

The ``floor`` peer is a bare blocking-socket Python loop: the WebSocket handshake by hand, then
the same scenarios with frames built once beforehand (no framework, no parsing beyond the frame
header): what any Python client pays at least.  It takes no part in ``clients``.  The
``floor-gevent`` peer runs the same loop in a greenlet over gevent's cooperative socket (no
monkey patching): what any client that leaves the waiting to gevent's loop pays at least.
``--floor`` adds both.

Every figure is the median of ``--repeat`` runs, each in a fresh process, the peers taking turns
(A, B, C, A, B, C...) so that a burst of load on the machine hits all of them alike.  The ratio
columns give "times better than the peer" for sioclient (above 1 is better for sioclient,
whichever way the unit goes); for rtt, pipelined and flood they compare CPU time per operation,
the wall-clock rates being too noisy.  The report goes to ``--json`` (default
``build/bench/e2e.json``); ``--png`` draws the ratios as bar charts (matplotlib).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from typing import Any, Callable

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
NODE_DIR = os.path.join(ROOT, "tests", "node")
NODE_CLIENT = os.path.join(HERE, "node_client.js")

PEERS = ("floor", "floor-gevent", "sioclient", "psio", "psio-gevent", "psio-async", "node")
# short column labels: psio = python-socketio
PEER_NAMES = {
    "floor": "floor",
    "floor-gevent": "floor on gevent",
    "sioclient": "sioclient",
    "psio": "psio Client",
    "psio-gevent": "psio Client+gevent",
    "psio-async": "psio AsyncClient",
    "node": "Node client",
}
#: peers that speak protocol revision 4 (Engine.IO 3); python-socketio only speaks 5
EIO3_PEERS = ("floor", "floor-gevent", "sioclient", "node")
SCENARIOS = ("connect", "rtt", "pipelined", "flood")
#: how each figure is read: True when higher is better
HIGHER_BETTER = {
    "connect": False,
    "connect_cpu": False,
    "rtt": True,
    "rtt_cpu": False,
    "pipelined": True,
    "pipelined_cpu": False,
    "flood": True,
    "flood_cpu": False,
    "clients_s": False,
    "clients_cpu": False,
    "kib": False,
}
UNITS = {
    "connect": "ms",
    "connect_cpu": "µs CPU/connect",
    "rtt": "round trips/s",
    "rtt_cpu": "µs CPU/round trip",
    "pipelined": "acks/s",
    "pipelined_cpu": "µs CPU/ack",
    "flood": "events/s",
    "flood_cpu": "µs CPU/event",
    "clients_s": "s to connect all",
    "clients_cpu": "µs CPU/client",
    "kib": "KiB RSS/client",
}
#: figures whose ratio is not given: wall-clock rates, compared through their CPU time
NO_RATIO = ("rtt", "pipelined", "flood")
#: what the charts show: CPU time per operation, and memory
CHARTED = ("connect_cpu", "rtt_cpu", "pipelined_cpu", "flood_cpu", "clients_cpu", "kib")
FLOOD_PAYLOAD = "0123456789abcdef"
WORKER_TIMEOUT = 600.0
# handshakes in flight while many clients connect (the server's accept backlog is bounded)
CONNECT_CONCURRENCY = 200


def full_params(quick: bool) -> dict[str, Any]:
    if quick:
        return {
            "connects": 3,
            "rtt_seconds": 1.0,
            "pipelined": 2000,
            "window": 100,
            "flood": 20000,
            "payload": FLOOD_PAYLOAD,
            "timeout": 60.0,
        }
    return {
        "connects": 7,
        "rtt_seconds": 5.0,
        "pipelined": 10000,
        "window": 100,
        "flood": 100000,
        "payload": FLOOD_PAYLOAD,
        "timeout": 120.0,
    }


def cpu_s() -> float:
    """User+system CPU time of this process (every thread), in seconds."""
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def per_op_us(cpu0: float, ops: int) -> float:
    return (cpu_s() - cpu0) / max(ops, 1) * 1e6


def rss_kib() -> float:
    """Resident memory of this process in KiB (Linux /proc, else the peak from resource)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return float(line.split()[1])
    except OSError:
        pass
    import resource

    return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


# ---------------------------------------------------------------------------- sioclient worker


def run_sioclient(url: str, protocol: int, p: dict[str, Any], mode: str) -> dict[str, Any]:
    import gevent
    import gevent.event
    import gevent.pool

    import sioclient

    timeout = p["timeout"]

    def client(done: gevent.event.Event | None = None) -> Any:
        sock = sioclient.connect(
            url,
            transports=["websocket"],
            protocol=protocol,
            force_new=True,
            reconnection=False,
        )
        if done is not None:
            sock.on("connect", lambda: done.set())
        return sock

    def connected() -> Any:
        done = gevent.event.Event()
        sock = client(done)
        if not done.wait(timeout):
            raise RuntimeError("connect timed out")
        return sock

    if mode == "clients":
        n = p["clients"]
        warm = connected()  # the imports and one connection are not counted
        base = rss_kib()
        count = [0]
        all_done = gevent.event.Event()
        pool = gevent.pool.Pool(CONNECT_CONCURRENCY)
        socks = []

        def one() -> None:
            done = gevent.event.Event()
            socks.append(client(done))
            if done.wait(timeout):
                count[0] += 1
                if count[0] == n:
                    all_done.set()

        t0 = time.perf_counter()
        c0 = cpu_s()
        for _ in range(n):
            pool.spawn(one)
        ok = all_done.wait(timeout * 4)
        elapsed = time.perf_counter() - t0
        cpu = per_op_us(c0, n)
        pool.join(timeout=timeout)
        after = rss_kib()
        for s in socks:
            s.disconnect()
        warm.disconnect()
        if not ok:
            raise RuntimeError(f"only {count[0]} of {n} clients connected")
        return {"clients_s": elapsed, "clients_cpu": cpu, "kib": (after - base) / n}

    out: dict[str, Any] = {}
    samples = []
    cpus = []
    for _ in range(p["connects"]):
        t0 = time.perf_counter()
        c0 = cpu_s()
        sock = connected()
        samples.append((time.perf_counter() - t0) * 1000.0)
        cpus.append(per_op_us(c0, 1))
        sock.disconnect()
    out["connect"] = statistics.median(samples)
    out["connect_cpu"] = statistics.median(cpus)

    sock = connected()
    # rtt: one in flight
    end = time.perf_counter() + p["rtt_seconds"]
    n = 0
    t0 = time.perf_counter()
    c0 = cpu_s()
    while time.perf_counter() < end:
        sock.call("ack", n, timeout=timeout)
        n += 1
    out["rtt"] = n / (time.perf_counter() - t0)
    out["rtt_cpu"] = per_op_us(c0, n)

    # pipelined: a window of emits in flight, each ack sends the next
    total, window = p["pipelined"], p["window"]
    state = {"sent": 0, "acked": 0}
    finished = gevent.event.Event()

    def on_ack(*_: Any) -> None:
        state["acked"] += 1
        if state["acked"] == total:
            finished.set()
        elif state["sent"] < total:
            state["sent"] += 1
            sock.emit("ack", state["sent"], on_ack)

    t0 = time.perf_counter()
    c0 = cpu_s()
    for _ in range(min(window, total)):
        state["sent"] += 1
        sock.emit("ack", state["sent"], on_ack)
    if not finished.wait(timeout):
        raise RuntimeError(f"pipelined: {state['acked']} of {total} acks")
    out["pipelined"] = total / (time.perf_counter() - t0)
    out["pipelined_cpu"] = per_op_us(c0, total)

    # flood: count the handled events
    count = p["flood"]
    got = [0]
    flood_done = gevent.event.Event()

    def on_flood(i: int, payload: str) -> None:
        got[0] += 1
        if got[0] == count:
            flood_done.set()

    sock.on("flood", on_flood)
    t0 = time.perf_counter()
    c0 = cpu_s()
    sock.emit("flood", count, p["payload"])
    if not flood_done.wait(timeout):
        raise RuntimeError(f"flood: {got[0]} of {count} events")
    out["flood"] = count / (time.perf_counter() - t0)
    out["flood_cpu"] = per_op_us(c0, count)
    sock.disconnect()
    gevent.sleep(0)
    return out


# ---------------------------------------------------------------------------------- the floor


class _FloorSocket:
    """A WebSocket carrying Engine.IO/Socket.IO by hand over one blocking socket: the least
    any Python client does per message (no framework, frames built once, no JSON)."""

    def __init__(self, url: str, protocol: int, timeout: float, cooperative: bool = False) -> None:
        import base64
        import socket
        from urllib.parse import urlsplit

        if cooperative:
            import gevent.socket as socket  # type: ignore[no-redef]

        parts = urlsplit(url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        self.eio3 = protocol == 4
        sock = socket.create_connection((host, port), timeout=timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        key = base64.b64encode(os.urandom(16)).decode()
        eio = 3 if self.eio3 else 4
        sock.sendall(
            (
                f"GET /socket.io/?EIO={eio}&transport=websocket HTTP/1.1\r\n"
                f"Host: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = sock.recv(65536)
            if not chunk:
                raise RuntimeError("the server closed the connection during the handshake")
            buf += chunk
        head, _, self.buf = buf.partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 101"):
            raise RuntimeError(f"handshake refused: {head[:40]!r}")
        self.sock = sock
        self.pong = self.frame("3")
        self.ping = self.frame("2")
        opened = self.message()
        if not opened.startswith(b"0{"):
            raise RuntimeError(f"expected the open packet, got {opened[:40]!r}")
        self.ping_every = json.loads(opened[1:])["pingInterval"] / 2000.0
        self.next_ping = time.monotonic() + self.ping_every
        if not self.eio3:
            self.sock.sendall(self.frame("40"))  # a 2.x server connects `/` by itself
        while not self.message().startswith(b"40"):
            pass

    @staticmethod
    def frame(text: str) -> bytes:
        """A masked text frame (built once per kind of message, outside the measured loops)."""
        import struct

        data = text.encode()
        mask = os.urandom(4)
        n = len(data)
        head = bytes([0x81, 0x80 | n]) if n < 126 else bytes([0x81, 0xFE]) + struct.pack(">H", n)
        return head + mask + bytes(b ^ mask[i & 3] for i, b in enumerate(data))

    def message(self) -> bytes:
        """The next message's payload; the server's pings are answered on the way."""
        while True:
            buf = self.buf
            if len(buf) >= 2:
                n = buf[1] & 0x7F
                at = 2
                if n == 126:
                    n = int.from_bytes(buf[2:4], "big")
                    at = 4
                elif n == 127:
                    n = int.from_bytes(buf[2:10], "big")
                    at = 10
                if len(buf) >= at + n:
                    self.buf = buf[at + n :]
                    payload = buf[at : at + n]
                    if payload == b"2":
                        self.sock.sendall(self.pong)
                        continue
                    return payload
            chunk = self.sock.recv(65536)
            if not chunk:
                raise RuntimeError("the server closed the connection")
            self.buf = buf + chunk

    def keep_alive(self) -> None:
        """Revision 3: the client pings (outside the hot loops, a clock reading per call)."""
        if self.eio3 and time.monotonic() >= self.next_ping:
            self.sock.sendall(self.ping)
            self.next_ping = time.monotonic() + self.ping_every

    def close(self) -> None:
        self.sock.close()


def run_floor(
    url: str, protocol: int, p: dict[str, Any], mode: str, cooperative: bool = False
) -> dict[str, Any]:
    if mode == "clients":
        return {}
    if cooperative:
        import gevent

        return gevent.spawn(_floor_scenarios, url, protocol, p, True).get()
    return _floor_scenarios(url, protocol, p, False)


def _floor_scenarios(
    url: str, protocol: int, p: dict[str, Any], cooperative: bool
) -> dict[str, Any]:
    timeout = p["timeout"]
    out: dict[str, Any] = {}
    samples = []
    cpus = []
    for _ in range(p["connects"]):
        t0 = time.perf_counter()
        c0 = cpu_s()
        conn = _FloorSocket(url, protocol, timeout, cooperative)
        samples.append((time.perf_counter() - t0) * 1000.0)
        cpus.append(per_op_us(c0, 1))
        conn.close()
    out["connect"] = statistics.median(samples)
    out["connect_cpu"] = statistics.median(cpus)

    conn = _FloorSocket(url, protocol, timeout, cooperative)
    send = conn.sock.sendall
    message = conn.message
    ack = conn.frame('421["ack",1]')

    # rtt: one in flight
    end = time.perf_counter() + p["rtt_seconds"]
    n = 0
    t0 = time.perf_counter()
    c0 = cpu_s()
    while time.perf_counter() < end:
        send(ack)
        while message()[:2] != b"43":
            pass
        n += 1
        if n & 255 == 0:
            conn.keep_alive()
    out["rtt"] = n / (time.perf_counter() - t0)
    out["rtt_cpu"] = per_op_us(c0, n)

    # pipelined: a window in flight, each ack sends the next
    total, window = p["pipelined"], p["window"]
    t0 = time.perf_counter()
    c0 = cpu_s()
    sent = min(window, total)
    send(ack * sent)
    acked = 0
    while acked < total:
        if message()[:2] == b"43":
            acked += 1
            if sent < total:
                send(ack)
                sent += 1
    out["pipelined"] = total / (time.perf_counter() - t0)
    out["pipelined_cpu"] = per_op_us(c0, total)
    conn.keep_alive()

    # flood: count the server's events
    count = p["flood"]
    t0 = time.perf_counter()
    c0 = cpu_s()
    flood = json.dumps(["flood", count, p["payload"]], separators=(",", ":"))
    send(conn.frame("42" + flood))
    got = 0
    while got < count:
        if message()[:10] == b'42["flood"':
            got += 1
    out["flood"] = count / (time.perf_counter() - t0)
    out["flood_cpu"] = per_op_us(c0, count)
    conn.close()
    return out


# ------------------------------------------------------------------- python-socketio workers


def run_psio(url: str, p: dict[str, Any], mode: str) -> dict[str, Any]:
    """python-socketio's threaded ``Client`` (also used under gevent monkey-patching)."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    import socketio

    timeout = p["timeout"]

    def connected() -> Any:
        c = socketio.Client(reconnection=False)
        c.connect(url, transports=["websocket"], wait_timeout=timeout)
        return c

    if mode == "clients":
        n = p["clients"]
        warm = connected()
        base = rss_kib()
        t0 = time.perf_counter()
        c0 = cpu_s()
        with ThreadPoolExecutor(CONNECT_CONCURRENCY) as ex:
            clients = list(ex.map(lambda _: connected(), range(n), timeout=timeout * 4))
        elapsed = time.perf_counter() - t0
        cpu = per_op_us(c0, n)
        after = rss_kib()
        for c in clients:
            c.disconnect()
        warm.disconnect()
        return {"clients_s": elapsed, "clients_cpu": cpu, "kib": (after - base) / n}

    out: dict[str, Any] = {}
    samples = []
    cpus = []
    for _ in range(p["connects"]):
        t0 = time.perf_counter()
        c0 = cpu_s()
        c = connected()
        samples.append((time.perf_counter() - t0) * 1000.0)
        cpus.append(per_op_us(c0, 1))
        c.disconnect()
    out["connect"] = statistics.median(samples)
    out["connect_cpu"] = statistics.median(cpus)

    c = connected()
    end = time.perf_counter() + p["rtt_seconds"]
    n = 0
    t0 = time.perf_counter()
    c0 = cpu_s()
    while time.perf_counter() < end:
        c.call("ack", n, timeout=timeout)
        n += 1
    out["rtt"] = n / (time.perf_counter() - t0)
    out["rtt_cpu"] = per_op_us(c0, n)

    total, window = p["pipelined"], p["window"]
    lock = threading.Lock()
    state = {"sent": 0, "acked": 0}
    finished = threading.Event()

    def on_ack(*_: Any) -> None:
        with lock:
            state["acked"] += 1
            if state["acked"] == total:
                finished.set()
                return
            if state["sent"] >= total:
                return
            state["sent"] += 1
            k = state["sent"]
        c.emit("ack", k, callback=on_ack)

    t0 = time.perf_counter()
    c0 = cpu_s()
    for _ in range(min(window, total)):
        with lock:
            state["sent"] += 1
            k = state["sent"]
        c.emit("ack", k, callback=on_ack)
    if not finished.wait(timeout):
        raise RuntimeError(f"pipelined: {state['acked']} of {total} acks")
    out["pipelined"] = total / (time.perf_counter() - t0)
    out["pipelined_cpu"] = per_op_us(c0, total)

    count = p["flood"]
    got = [0]
    flood_done = threading.Event()

    def on_flood(i: int, payload: str) -> None:
        with lock:
            got[0] += 1
            if got[0] == count:
                flood_done.set()

    c.on("flood", on_flood)
    t0 = time.perf_counter()
    c0 = cpu_s()
    c.emit("flood", (count, p["payload"]))
    if not flood_done.wait(timeout):
        raise RuntimeError(f"flood: {got[0]} of {count} events")
    out["flood"] = count / (time.perf_counter() - t0)
    out["flood_cpu"] = per_op_us(c0, count)
    c.disconnect()
    return out


def run_psio_async(url: str, p: dict[str, Any], mode: str) -> dict[str, Any]:
    import asyncio

    import socketio

    timeout = p["timeout"]

    async def connected() -> Any:
        c = socketio.AsyncClient(reconnection=False)
        await c.connect(url, transports=["websocket"], wait_timeout=timeout)
        return c

    async def clients() -> dict[str, Any]:
        n = p["clients"]
        warm = await connected()
        base = rss_kib()
        sem = asyncio.Semaphore(CONNECT_CONCURRENCY)

        async def one() -> Any:
            async with sem:
                return await connected()

        t0 = time.perf_counter()
        c0 = cpu_s()
        cs = await asyncio.wait_for(asyncio.gather(*(one() for _ in range(n))), timeout * 4)
        elapsed = time.perf_counter() - t0
        cpu = per_op_us(c0, n)
        after = rss_kib()
        for c in cs:
            await c.disconnect()
        await warm.disconnect()
        return {"clients_s": elapsed, "clients_cpu": cpu, "kib": (after - base) / n}

    async def scenarios() -> dict[str, Any]:
        out: dict[str, Any] = {}
        samples = []
        cpus = []
        for _ in range(p["connects"]):
            t0 = time.perf_counter()
            c0 = cpu_s()
            c = await connected()
            samples.append((time.perf_counter() - t0) * 1000.0)
            cpus.append(per_op_us(c0, 1))
            await c.disconnect()
        out["connect"] = statistics.median(samples)
        out["connect_cpu"] = statistics.median(cpus)

        c = await connected()
        end = time.perf_counter() + p["rtt_seconds"]
        n = 0
        t0 = time.perf_counter()
        c0 = cpu_s()
        while time.perf_counter() < end:
            await c.call("ack", n, timeout=timeout)
            n += 1
        out["rtt"] = n / (time.perf_counter() - t0)
        out["rtt_cpu"] = per_op_us(c0, n)

        total, window = p["pipelined"], p["window"]
        state = {"sent": 0, "acked": 0}
        finished = asyncio.Event()

        async def on_ack(*_: Any) -> None:
            state["acked"] += 1
            if state["acked"] == total:
                finished.set()
            elif state["sent"] < total:
                state["sent"] += 1
                await c.emit("ack", state["sent"], callback=on_ack)

        t0 = time.perf_counter()
        c0 = cpu_s()
        for _ in range(min(window, total)):
            state["sent"] += 1
            await c.emit("ack", state["sent"], callback=on_ack)
        await asyncio.wait_for(finished.wait(), timeout)
        out["pipelined"] = total / (time.perf_counter() - t0)
        out["pipelined_cpu"] = per_op_us(c0, total)

        count = p["flood"]
        got = [0]
        flood_done = asyncio.Event()

        async def on_flood(i: int, payload: str) -> None:
            got[0] += 1
            if got[0] == count:
                flood_done.set()

        c.on("flood", on_flood)
        t0 = time.perf_counter()
        c0 = cpu_s()
        await c.emit("flood", (count, p["payload"]))
        await asyncio.wait_for(flood_done.wait(), timeout)
        out["flood"] = count / (time.perf_counter() - t0)
        out["flood_cpu"] = per_op_us(c0, count)
        await c.disconnect()
        return out

    return asyncio.run(clients() if mode == "clients" else scenarios())


def worker_main(argv: list[str]) -> None:
    peer, url, protocol, mode, params = argv[0], argv[1], int(argv[2]), argv[3], argv[4]
    p = json.loads(params)
    if peer == "psio-gevent":
        from gevent import monkey

        monkey.patch_all()
    if peer in ("floor", "floor-gevent"):
        result = run_floor(url, protocol, p, mode, cooperative=peer == "floor-gevent")
    elif peer == "sioclient":
        sys.path.insert(0, ROOT)
        result = run_sioclient(url, protocol, p, mode)
    elif peer in ("psio", "psio-gevent"):
        result = run_psio(url, p, mode)
    elif peer == "psio-async":
        result = run_psio_async(url, p, mode)
    else:
        raise SystemExit(f"unknown peer {peer}")
    sys.stdout.write("RESULT " + json.dumps(result) + "\n")
    sys.stdout.flush()
    os._exit(0)  # no lingering client threads at exit


# ------------------------------------------------------------------------------ orchestration


def run_worker(peer: str, url: str, protocol: int, mode: str, p: dict[str, Any]) -> dict:
    if peer == "node":
        cmd = ["node", NODE_CLIENT, url, str(protocol), mode, json.dumps(p)]
    else:
        cmd = [
            sys.executable,
            os.path.abspath(__file__),
            "--worker",
            peer,
            url,
            str(protocol),
            mode,
            json.dumps(p),
        ]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=WORKER_TIMEOUT, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {WORKER_TIMEOUT:g} s"}
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
    return {"error": f"exit {proc.returncode}: {' | '.join(tail)}"}


def medians(runs: list[dict]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    errors = [r["error"] for r in runs if "error" in r]
    good = [r for r in runs if "error" not in r]
    for key in HIGHER_BETTER:
        values = [r[key] for r in good if key in r]
        if values:
            out[key] = statistics.median(values)
    if errors:
        out["errors"] = errors
    return out


def machine() -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "cpu": f"{cpu} x{os.cpu_count()}",
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "load average": load_average(),
    }


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "-"


def versions() -> dict[str, str]:
    from importlib import metadata

    out = {}
    sys.path.insert(0, ROOT)
    import sioclient

    out["sioclient"] = f"{sioclient.__version__} (speedups: {sioclient.speedups})"
    for dist in ("python-socketio", "python-engineio", "gevent", "aiohttp", "websocket-client"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "-"
    try:
        node = subprocess.run(["node", "--version"], capture_output=True, text=True, timeout=10)
        out["node"] = node.stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        out["node"] = "-"
    for pkg in ("socket.io-v4", "socket.io-v2", "socket.io-client-v4", "socket.io-client-v2"):
        try:
            with open(os.path.join(NODE_DIR, "node_modules", pkg, "package.json")) as f:
                out[pkg] = json.load(f)["version"]
        except OSError:
            out[pkg] = "-"
    return out


def fmt(value: float | None, key: str) -> str:
    if value is None:
        return "-"
    if key in ("connect", "clients_s"):
        return f"{value:.2f}"
    if key == "kib" or key.endswith("_cpu") and value < 1000:
        return f"{value:.1f}"
    return f"{value:,.0f}"


def ratio_value(ours: float | None, theirs: float | None, key: str) -> float | None:
    """How many times better sioclient does than the peer on this figure."""
    if not ours or not theirs:
        return None
    return ours / theirs if HIGHER_BETTER[key] else theirs / ours


def ratio(ours: float | None, theirs: float | None, key: str) -> str:
    if key in NO_RATIO:
        return ""
    r = ratio_value(ours, theirs, key)
    return "-" if r is None else f"{r:.2f}x"


def print_table(title: str, results: dict[str, dict], peers: list[str]) -> None:
    print(f"\n## {title}\n")
    head = ["", *[PEER_NAMES[p] for p in peers]]
    others = [p for p in peers if p != "sioclient"]
    if "sioclient" in peers:
        head += [f"vs {PEER_NAMES[p]}" for p in others]
    rows = []
    for key in HIGHER_BETTER:
        if not any(key in results.get(p, {}) for p in peers):
            continue
        row = [f"{key} ({UNITS[key]})"]
        row += [fmt(results.get(p, {}).get(key), key) for p in peers]
        if "sioclient" in peers:
            ours = results.get("sioclient", {}).get(key)
            row += [ratio(ours, results.get(p, {}).get(key), key) for p in others]
        rows.append(row)
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(head, widths)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print("| " + " | ".join(str(c).rjust(w) for c, w in zip(r, widths)) + " |")
    for p in peers:
        for err in results.get(p, {}).get("errors", []):
            print(f"  ! {PEER_NAMES[p]}: {err}")


def measure(
    server_url: str,
    protocol: int,
    peers: list[str],
    p: dict[str, Any],
    repeat: int,
    clients: int,
    log: Callable[[str], None],
) -> dict[str, dict]:
    """Every peer's runs, the peers taking turns: run i of each peer, then run i+1."""
    runs: dict[str, list[dict]] = {peer: [] for peer in peers}
    for i in range(repeat):
        for peer in peers:
            log(f"  {peer}: scenarios, run {i + 1}/{repeat}")
            runs[peer].append(run_worker(peer, server_url, protocol, "scenarios", p))
    if clients:
        cp = dict(p, clients=clients)
        for i in range(repeat):
            for peer in peers:
                if peer in ("floor", "floor-gevent"):
                    continue
                log(f"  {peer}: {clients} clients, run {i + 1}/{repeat}")
                runs[peer].append(run_worker(peer, server_url, protocol, "clients", cp))
    return {peer: medians(runs[peer]) for peer in peers}


def draw_charts(
    report: dict[str, Any], sections: list[tuple[str, str, list[str]]], path: str
) -> None:
    """One bar chart per server: for each figure, sioclient's ratio to each peer."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import ticker

    fig, axes = plt.subplots(len(sections), 1, figsize=(10, 4.2 * len(sections)), squeeze=False)
    for ax, (title, kind, peers) in zip(axes[:, 0], sections):
        results = report[kind]
        others = [peer for peer in peers if peer != "sioclient"]
        keys = [k for k in CHARTED if any(k in results.get(peer, {}) for peer in peers)]
        width = 0.8 / max(len(others), 1)
        ours = results.get("sioclient", {})
        for j, peer in enumerate(others):
            values = [ratio_value(ours.get(k), results.get(peer, {}).get(k), k) for k in keys]
            xs = [i + (j - (len(others) - 1) / 2) * width for i in range(len(keys))]
            bars = ax.bar(xs, [v or 0 for v in values], width, label=PEER_NAMES[peer])
            for bar, v in zip(bars, values):
                if v:
                    ax.annotate(
                        f"{v:.2f}",
                        (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                        ha="center",
                        va="bottom",
                        fontsize=7,
                    )
        ax.axhline(1.0, color="black", linewidth=0.8)
        ax.set_xticks(range(len(keys)))
        ax.set_xticklabels([UNITS[k] for k in keys], fontsize=8)
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(ticker.FormatStrFormatter("%g"))
        ax.yaxis.set_minor_formatter(ticker.FormatStrFormatter("%g"))
        ax.tick_params(axis="y", which="minor", labelsize=7)
        ax.set_ylabel("sioclient is N times better")
        ax.set_title(f"{title}: sioclient against each peer (above 1: sioclient better)")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker_main(sys.argv[2:])
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="short runs, one repeat")
    ap.add_argument("--clients", type=int, default=1000, help="concurrent clients (0: skip)")
    ap.add_argument("--repeat", type=int, default=None, help="runs per figure (default 3)")
    ap.add_argument("--peers", default=",".join(PEERS), help=f"subset of {','.join(PEERS)}")
    ap.add_argument(
        "--floor",
        action="store_true",
        help="add the bare-socket floors (blocking, and on gevent) to the --peers given",
    )
    ap.add_argument("--no-eio3", action="store_true", help="skip the socket.io 2.x server")
    ap.add_argument(
        "--json",
        default=os.path.join(ROOT, "build", "bench", "e2e.json"),
        help="where the report goes (default build/bench/e2e.json)",
    )
    ap.add_argument("--png", help="draw the ratios as bar charts into this file (matplotlib)")
    args = ap.parse_args()
    peers = [x for x in args.peers.split(",") if x]
    if args.floor:
        peers[:0] = [x for x in ("floor", "floor-gevent") if x not in peers]
    for x in peers:
        if x not in PEERS:
            ap.error(f"unknown peer {x!r}")
    repeat = args.repeat or (1 if args.quick else 3)
    clients = args.clients if not args.quick else min(args.clients, 200)
    p = full_params(args.quick)

    sys.path.insert(0, os.path.join(ROOT, "tests"))
    from servers import ServerProcess

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    report: dict[str, Any] = {"machine": machine(), "versions": versions(), "params": p}
    t_start = time.monotonic()
    sections = [("socket.io 4.8 server (protocol revision 5)", "node4", 5, peers)]
    if not args.no_eio3:
        eio3_peers = [x for x in peers if x in EIO3_PEERS]
        if eio3_peers:
            sections.append(("socket.io 2.5 server (protocol revision 4)", "node2", 4, eio3_peers))
    for title, kind, protocol, section_peers in sections:
        log(f"{title}:")
        server = ServerProcess(kind, transports=["websocket"]).start()
        try:
            report[kind] = measure(server.url, protocol, section_peers, p, repeat, clients, log)
        finally:
            server.stop()

    report["machine"]["load average at the end"] = load_average()
    print("# sioclient end-to-end benchmark (WebSocket, 127.0.0.1)\n")
    for k, v in report["machine"].items():
        print(f"- {k}: {v}")
    print("- versions: " + ", ".join(f"{k} {v}" for k, v in report["versions"].items()))
    print(
        f"- medians of {repeat} run(s); rtt {p['rtt_seconds']:g} s, pipelined {p['pipelined']} "
        f"with {p['window']} in flight, flood {p['flood']} events, {clients} clients; "
        f"total {time.monotonic() - t_start:.0f} s"
    )
    for title, kind, _, section_peers in sections:
        print_table(title, report[kind], section_peers)
        results = report[kind]
        ours = results.get("sioclient", {}).get("rtt_cpu")
        for peer in ("floor", "floor-gevent", "node"):
            theirs = results.get(peer, {}).get("rtt_cpu")
            if ours and theirs and peer in section_peers:
                print(
                    f"\nsioclient's CPU per round trip: {ours / theirs:.2f}x that of "
                    f"{PEER_NAMES[peer]} ({ours:.1f} against {theirs:.1f} µs)"
                )
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)
        log(f"report written to {args.json}")
    if args.png:
        os.makedirs(os.path.dirname(os.path.abspath(args.png)), exist_ok=True)
        charted = [(t, k, sp) for t, k, _, sp in sections if "sioclient" in sp]
        draw_charts(report, charted, args.png)
        log(f"charts drawn in {args.png}")


if __name__ == "__main__":
    main()
