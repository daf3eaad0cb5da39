"""End-to-end benchmark: sioclient against python-socketio and Node's socket.io-client.

    .venv/bin/python benchmarks/e2e.py [--quick] [--clients N] [--repeat R] [--peers a,b]
                                       [--no-eio3] [--json out.json]

A Node socket.io 4.8 server (and a 2.5 one for the protocol revision 4 path) is started on
127.0.0.1 and stopped at the end.  Every client runs in a subprocess of its own, so that
monkey-patching stays local and the memory figures belong to one peer.  Scenarios, all over
WebSocket:

- ``connect``: one connection from nothing to the namespace's ``connect`` (ms, median);
- ``rtt``: sequential ``ack`` round trips, one in flight, for 5 s (per second);
- ``pipelined``: 10,000 ``ack`` emits, 100 in flight (acks per second);
- ``flood``: the server emits 100,000 small events (events handled per second);
- ``clients``: N clients in one process (N=1000, ``--clients 10000`` for the big run):
  the time to connect them all and the resident memory per client (KiB).

Every figure is the median of ``--repeat`` runs (each in a fresh process).  The table gives the
ratio of sioclient to each peer (above 1 is better for sioclient; for times and memory the
ratio is inverted so that it reads the same way).
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

PEERS = ("sioclient", "psio", "psio-gevent", "psio-async", "node")
# short column labels: psio = python-socketio
PEER_NAMES = {
    "sioclient": "sioclient",
    "psio": "psio Client",
    "psio-gevent": "psio Client+gevent",
    "psio-async": "psio AsyncClient",
    "node": "Node client",
}
#: peers that speak protocol revision 4 (Engine.IO 3); python-socketio only speaks 5
EIO3_PEERS = ("sioclient", "node")
SCENARIOS = ("connect", "rtt", "pipelined", "flood")
#: how each figure is read: True when higher is better
HIGHER_BETTER = {
    "connect": False,
    "rtt": True,
    "pipelined": True,
    "flood": True,
    "clients_s": False,
    "kib": False,
}
UNITS = {
    "connect": "ms",
    "rtt": "round trips/s",
    "pipelined": "acks/s",
    "flood": "events/s",
    "clients_s": "s to connect all",
    "kib": "KiB RSS/client",
}
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
        for _ in range(n):
            pool.spawn(one)
        ok = all_done.wait(timeout * 4)
        elapsed = time.perf_counter() - t0
        pool.join(timeout=timeout)
        after = rss_kib()
        for s in socks:
            s.disconnect()
        warm.disconnect()
        if not ok:
            raise RuntimeError(f"only {count[0]} of {n} clients connected")
        return {"clients_s": elapsed, "kib": (after - base) / n}

    out: dict[str, Any] = {}
    samples = []
    for _ in range(p["connects"]):
        t0 = time.perf_counter()
        sock = connected()
        samples.append((time.perf_counter() - t0) * 1000.0)
        sock.disconnect()
    out["connect"] = statistics.median(samples)

    sock = connected()
    # rtt: one in flight
    end = time.perf_counter() + p["rtt_seconds"]
    n = 0
    t0 = time.perf_counter()
    while time.perf_counter() < end:
        sock.call("ack", n, timeout=timeout)
        n += 1
    out["rtt"] = n / (time.perf_counter() - t0)

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
    for _ in range(min(window, total)):
        state["sent"] += 1
        sock.emit("ack", state["sent"], on_ack)
    if not finished.wait(timeout):
        raise RuntimeError(f"pipelined: {state['acked']} of {total} acks")
    out["pipelined"] = total / (time.perf_counter() - t0)

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
    sock.emit("flood", count, p["payload"])
    if not flood_done.wait(timeout):
        raise RuntimeError(f"flood: {got[0]} of {count} events")
    out["flood"] = count / (time.perf_counter() - t0)
    sock.disconnect()
    gevent.sleep(0)
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
        with ThreadPoolExecutor(CONNECT_CONCURRENCY) as ex:
            clients = list(ex.map(lambda _: connected(), range(n), timeout=timeout * 4))
        elapsed = time.perf_counter() - t0
        after = rss_kib()
        for c in clients:
            c.disconnect()
        warm.disconnect()
        return {"clients_s": elapsed, "kib": (after - base) / n}

    out: dict[str, Any] = {}
    samples = []
    for _ in range(p["connects"]):
        t0 = time.perf_counter()
        c = connected()
        samples.append((time.perf_counter() - t0) * 1000.0)
        c.disconnect()
    out["connect"] = statistics.median(samples)

    c = connected()
    end = time.perf_counter() + p["rtt_seconds"]
    n = 0
    t0 = time.perf_counter()
    while time.perf_counter() < end:
        c.call("ack", n, timeout=timeout)
        n += 1
    out["rtt"] = n / (time.perf_counter() - t0)

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
    for _ in range(min(window, total)):
        with lock:
            state["sent"] += 1
            k = state["sent"]
        c.emit("ack", k, callback=on_ack)
    if not finished.wait(timeout):
        raise RuntimeError(f"pipelined: {state['acked']} of {total} acks")
    out["pipelined"] = total / (time.perf_counter() - t0)

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
    c.emit("flood", (count, p["payload"]))
    if not flood_done.wait(timeout):
        raise RuntimeError(f"flood: {got[0]} of {count} events")
    out["flood"] = count / (time.perf_counter() - t0)
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
        cs = await asyncio.wait_for(asyncio.gather(*(one() for _ in range(n))), timeout * 4)
        elapsed = time.perf_counter() - t0
        after = rss_kib()
        for c in cs:
            await c.disconnect()
        await warm.disconnect()
        return {"clients_s": elapsed, "kib": (after - base) / n}

    async def scenarios() -> dict[str, Any]:
        out: dict[str, Any] = {}
        samples = []
        for _ in range(p["connects"]):
            t0 = time.perf_counter()
            c = await connected()
            samples.append((time.perf_counter() - t0) * 1000.0)
            await c.disconnect()
        out["connect"] = statistics.median(samples)

        c = await connected()
        end = time.perf_counter() + p["rtt_seconds"]
        n = 0
        t0 = time.perf_counter()
        while time.perf_counter() < end:
            await c.call("ack", n, timeout=timeout)
            n += 1
        out["rtt"] = n / (time.perf_counter() - t0)

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
        for _ in range(min(window, total)):
            state["sent"] += 1
            await c.emit("ack", state["sent"], callback=on_ack)
        await asyncio.wait_for(finished.wait(), timeout)
        out["pipelined"] = total / (time.perf_counter() - t0)

        count = p["flood"]
        got = [0]
        flood_done = asyncio.Event()

        async def on_flood(i: int, payload: str) -> None:
            got[0] += 1
            if got[0] == count:
                flood_done.set()

        c.on("flood", on_flood)
        t0 = time.perf_counter()
        await c.emit("flood", (count, p["payload"]))
        await asyncio.wait_for(flood_done.wait(), timeout)
        out["flood"] = count / (time.perf_counter() - t0)
        await c.disconnect()
        return out

    return asyncio.run(clients() if mode == "clients" else scenarios())


def worker_main(argv: list[str]) -> None:
    peer, url, protocol, mode, params = argv[0], argv[1], int(argv[2]), argv[3], argv[4]
    p = json.loads(params)
    if peer == "psio-gevent":
        from gevent import monkey

        monkey.patch_all()
    if peer == "sioclient":
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
    }


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
    if key in ("connect",):
        return f"{value:.2f}"
    if key == "clients_s":
        return f"{value:.2f}"
    if key == "kib":
        return f"{value:.1f}"
    return f"{value:,.0f}"


def ratio(ours: float | None, theirs: float | None, key: str) -> str:
    if not ours or not theirs:
        return "-"
    r = ours / theirs if HIGHER_BETTER[key] else theirs / ours
    return f"{r:.2f}x"


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
    results: dict[str, dict] = {}
    for peer in peers:
        runs = []
        for i in range(repeat):
            log(f"  {peer}: scenarios, run {i + 1}/{repeat}")
            runs.append(run_worker(peer, server_url, protocol, "scenarios", p))
        if clients:
            cp = dict(p, clients=clients)
            for i in range(repeat):
                log(f"  {peer}: {clients} clients, run {i + 1}/{repeat}")
                runs.append(run_worker(peer, server_url, protocol, "clients", cp))
        results[peer] = medians(runs)
    return results


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker_main(sys.argv[2:])
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="short runs, one repeat")
    ap.add_argument("--clients", type=int, default=1000, help="concurrent clients (0: skip)")
    ap.add_argument("--repeat", type=int, default=None, help="runs per figure (default 3)")
    ap.add_argument("--peers", default=",".join(PEERS), help=f"subset of {','.join(PEERS)}")
    ap.add_argument("--no-eio3", action="store_true", help="skip the socket.io 2.x server")
    ap.add_argument("--json", help="also write the results to this file")
    args = ap.parse_args()
    peers = [x for x in args.peers.split(",") if x]
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
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)


if __name__ == "__main__":
    main()
