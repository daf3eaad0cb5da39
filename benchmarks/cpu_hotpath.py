"""CPU time of the client's hot paths against a Node socket.io 4.x server over WebSocket.

    .venv/bin/python benchmarks/cpu_hotpath.py [--repeat 5] [--emits 20000] [--events 20000]
                                               [--calls 3000] [--protocol 5]

Three figures, each the client process's CPU time (``time.process_time``, the server runs in a
process of its own) divided by the operations; the median and the least of ``--repeat`` runs
(on a shared machine the least is the steadier figure: other load only adds):

- ``emit``: ``socket.emit('ack', i)`` without a callback (the server sends nothing back);
- ``event``: the server emits small events (``flood``), each handled by a listener;
- ``call``: sequential ``socket.call('ack', i)`` round trips, one in flight;
- ``acked``: ``socket.emit('ack', i, callback)``, 100 in flight, each callback emitting the next.

``--count`` instead counts what runs per sequential ``call()`` round trip (``--calls`` of them,
``timeout=10`` as a program would): greenlet switches (``greenlet.settrace``), event loop
iterations, hub callbacks (calls of the loop's ``run_callback``: only visible when gevent runs
as pure Python, ``GEVENT_LOOP=libev-cffi PURE_PYTHON=1``; its compiled loop shows 0), Python
function calls (the package's own and all, ``sys.setprofile``; with pure-Python gevent, all
includes gevent's), calls of C functions, and system calls (``strace -c -f`` attached to this
process, when strace is installed and allowed).
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import gevent.event  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))

from servers import ServerProcess  # noqa: E402

import sioclient  # noqa: E402
from sioclient.core import _accel  # noqa: E402


def connect(url: str, protocol: int) -> sioclient.Socket:
    sock = sioclient.connect(url, transports=["websocket"], protocol=protocol, reconnection=False)
    ready = gevent.event.Event()
    sock.on("connect", ready.set)
    if not sock.connected and not ready.wait(10):
        raise SystemExit("could not connect")
    return sock


def cpu_per_emit(sock: sioclient.Socket, n: int) -> float:
    sock.call("ack", timeout=10)
    start = time.process_time()
    for i in range(n):
        sock.emit("ack", i)
    sock.call("ack", timeout=30)  # every emit has left and been read
    return (time.process_time() - start) / n


def cpu_per_event(sock: sioclient.Socket, n: int) -> float:
    done = gevent.event.Event()
    seen = [0]

    def on_flood(i: int, payload: str) -> None:
        seen[0] += 1

    sock.on("flood", on_flood)
    sock.on("flood-done", lambda count: done.set())
    start = time.process_time()
    sock.emit("flood", n, "x")
    if not done.wait(60):
        raise SystemExit("flood did not finish")
    while seen[0] < n:
        gevent.sleep(0.001)
    cpu = time.process_time() - start
    sock.off("flood")
    sock.off("flood-done")
    return cpu / n


def cpu_per_call(sock: sioclient.Socket, n: int) -> float:
    start = time.process_time()
    for i in range(n):
        sock.call("ack", i, timeout=10)
    return (time.process_time() - start) / n


def cpu_per_acked_emit(sock: sioclient.Socket, n: int, window: int = 100) -> float:
    done = gevent.event.Event()
    state = [0, 0]  # sent, acked

    def on_ack(*_: object) -> None:
        state[1] += 1
        if state[1] == n:
            done.set()
        elif state[0] < n:
            state[0] += 1
            sock.emit("ack", state[0], on_ack)

    start = time.process_time()
    for _ in range(min(window, n)):
        state[0] += 1
        sock.emit("ack", state[0], on_ack)
    if not done.wait(60):
        raise SystemExit("the acks did not come")
    return (time.process_time() - start) / n


def count_per_call(sock: sioclient.Socket, n: int) -> dict[str, float]:
    """What runs per call() round trip (see the module docstring)."""
    import collections
    import shutil
    import subprocess
    import tempfile

    import greenlet

    for i in range(200):
        sock.call("ack", i, timeout=10)
    loop = gevent.get_hub().loop
    switches = [0]

    def on_switch(event: str, args: object) -> None:
        if event in ("switch", "throw"):
            switches[0] += 1

    calls: collections.Counter[str] = collections.Counter()
    root = os.path.dirname(sioclient.__file__)

    def on_call(frame: object, event: str, arg: object) -> None:
        if event == "call":
            code = frame.f_code  # type: ignore[attr-defined]
            calls["python"] += 1
            if code.co_filename.startswith(root):
                calls["sioclient"] += 1
            if code.co_name == "run_callback":
                calls["callbacks"] += 1
        elif event == "c_call":
            calls["c"] += 1
            if getattr(arg, "__name__", "") == "run_callback":
                calls["callbacks"] += 1

    iterations = loop.iteration
    greenlet.settrace(on_switch)
    sys.setprofile(on_call)
    for i in range(n):
        sock.call("ack", i, timeout=10)
    sys.setprofile(None)
    greenlet.settrace(None)
    out = {
        "greenlet switches": switches[0] / n,
        "loop iterations": (loop.iteration - iterations) / n,
        "hub callbacks": calls["callbacks"] / n,
        "Python calls (sioclient's)": calls["sioclient"] / n,
        "Python calls (all)": calls["python"] / n,
        "C calls": calls["c"] / n,
    }
    strace = shutil.which("strace")
    if strace:
        with tempfile.NamedTemporaryFile("r", suffix=".strace") as f:
            proc = subprocess.Popen(
                [strace, "-c", "-f", "-o", f.name, "-p", str(os.getpid())],
                stderr=subprocess.PIPE,
                text=True,
            )
            gevent.sleep(1.0)  # attached (strace says so on stderr, read below)
            for i in range(n):
                sock.call("ack", i, timeout=10)
            proc.terminate()
            proc.wait(10)
            total = 0
            for line in f.read().splitlines():
                parts = line.split()
                if len(parts) >= 5 and parts[-1] != "total" and parts[3].isdigit():
                    out[f"syscall {parts[-1]}"] = int(parts[3]) / n
                    total += int(parts[3])
            out["syscalls"] = total / n
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--emits", type=int, default=20000)
    ap.add_argument("--events", type=int, default=8000)
    ap.add_argument("--calls", type=int, default=3000)
    ap.add_argument("--protocol", type=int, default=5)
    ap.add_argument("--count", action="store_true", help="count what runs per call()")
    args = ap.parse_args()
    server = ServerProcess("node4" if args.protocol == 5 else "node2")
    server.start()
    try:
        sock = connect(server.url, args.protocol)
        if args.count:
            counts = count_per_call(sock, args.calls)
            sock.close()
            print(f"{server.kind} websocket, per call() round trip ({args.calls} calls)")
            for name, value in counts.items():
                print(f"  {name:<28} {value:6.2f}")
            return
        rows: dict[str, list[float]] = {"emit": [], "event": [], "call": [], "acked": []}
        for _ in range(args.repeat):
            rows["emit"].append(cpu_per_emit(sock, args.emits))
            rows["event"].append(cpu_per_event(sock, args.events))
            rows["call"].append(cpu_per_call(sock, args.calls))
            rows["acked"].append(cpu_per_acked_emit(sock, args.emits // 2))
        sock.close()
    finally:
        server.stop()
    ext = "compiled" if _accel.speedups_in_use() else "pure"
    print(f"{server.kind} websocket, speedups {ext}, {args.repeat} runs, us CPU per operation")
    for name, values in rows.items():
        med, low = statistics.median(values) * 1e6, min(values) * 1e6
        print(f"  {name:<6} median {med:6.1f}  min {low:6.1f}")


if __name__ == "__main__":
    main()
