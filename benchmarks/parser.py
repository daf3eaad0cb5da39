"""What a packet costs the parsers: per emit (encode) and per received message (decode).

    .venv/bin/python benchmarks/parser.py [--repeat 9] [--ms 50] [--clock cpu|wall] [--no-node]
                                          [--json out.json] [--png out.png] [--no-files]

Method (the same for every implementation, Python and Node):

- **encode** = build the packet from an event name and its arguments as the client's ``emit``
  does (sioclient: ``Socket``'s own packet builder, then the ack id; python-socketio:
  ``Client.emit``'s ``Packet(EVENT, namespace=..., data=[event] + data, id=...)``; Node:
  socket.io-client 4's ``Socket.emit``), then the parser's encode, to the Engine.IO messages;
- **decode** = each of those messages fed to one long-lived decoder, as the engine feeds a
  connection's decoder (sioclient: ``Decoder.feed``; python-socketio: ``Client``'s
  ``_handle_eio_message`` logic, ``Packet(encoded_packet=...)`` then ``add_attachment``;
  Node: ``Decoder.add`` with a ``decoded`` listener);
- each figure is the best of ``--repeat`` calibrated repeats of about ``--ms`` ms (the
  medians are printed and kept too), timed in CPU time by default (``--clock cpu``: the
  thread's for Python, the process's user+system for Node, which includes V8's helper
  threads), so that time spent descheduled on a shared machine is not counted;
  ``--clock wall`` times them by the wall clock, and the repeats are interleaved: repeat 1 of every
  implementation on every case, then repeat 2...  Node runs in a child process
  (``node_parser.js``) driven line by line, so its repeats are interleaved with ours too, and
  a burst of load from elsewhere hits every column alike; V8 gets 300 ms of warm-up per loop
  before its calibration, so that no repeat runs in its lower tiers.

Cases: (a) a small event on ``/``, (b) the same with ack id 42 on ``/admin``, (c) an event with
two nested 1 KiB buffers and a 4 KiB one, (d) an event holding 1000 small dicts.

Allocations: the memory blocks (``sys.getallocatedblocks``) still held per operation when 200
results are kept alive: what one encode or decode leaves behind (the messages, the packet and
its data).  Temporaries freed before the call returns are not counted.

Ratios read "times faster than the peer" (the peer's ns over ours, encode+decode).  The JSON
holds every figure and every repeat; the PNG (matplotlib, the ``bench`` extra) charts the
ratios; both land in ``build/bench/`` unless told otherwise.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from importlib import metadata
from typing import Any, Callable

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

from sioclient.core import _accel  # noqa: E402

CASES = ("a", "b", "c", "d")
CASE_NAMES = {
    "a": "small event",
    "b": "ack id on /admin",
    "c": "binary 2x1K+4K",
    "d": "1000 items",
}
OPS = ("encode", "decode")

# implementation names
COMPILED = "sioclient default (compiled)"
PURE = "sioclient default (pure Python)"
MSGPACK = "sioclient msgpack (compiled)"
MSGPACK_PURE = "sioclient msgpack (pure Python)"
PSIO = "python-socketio Packet"
PSIO_MSGPACK = "python-socketio MsgPackPacket"
NODE = "socket.io-parser v4"
NODE_MSGPACK = "socket.io-msgpack-parser v3"
NODE_IMPLS = (NODE, NODE_MSGPACK)

#: where `make bench` leaves the figures and the chart
DEFAULT_JSON = os.path.join(ROOT, "build", "bench", "parser.json")
DEFAULT_PNG = os.path.join(ROOT, "build", "bench", "parser.png")

#: (ours, peer, target ratio) rows of the ratio table and the chart
COMPARISONS = (
    (COMPILED, NODE, 1.5),
    (COMPILED, PSIO, 8.0),
    (MSGPACK, NODE_MSGPACK, 1.5),
    (MSGPACK, PSIO_MSGPACK, 2.0),
)


class Case:
    def __init__(self, nsp: str, event: str, args: tuple[Any, ...], ack_id: int | None) -> None:
        self.nsp = nsp
        self.event = event
        self.args = args
        self.id = ack_id


def make_cases() -> dict[str, Case]:
    small = {"user": "alice", "text": "hello world", "ts": 1700000000}
    bulk = [{"id": i, "name": f"item{i}", "ok": True} for i in range(1000)]
    upload = ({"meta": {"a": b"x" * 1024, "b": [b"y" * 1024]}}, b"z" * 4096)
    return {
        "a": Case("/", "chat", (small,), None),
        "b": Case("/admin", "chat", (small,), 42),
        "c": Case("/", "upload", upload, None),
        "d": Case("/", "bulk", (bulk,), None),
    }


# --- Python implementations: each returns (encode(n) -> last messages, decode(n) -> data) -------


Loop = Callable[[int], Any]


def sioclient_loops(parser_name: str, impl: str, case: Case) -> tuple[Loop, Loop]:
    """sioclient as ``Socket.emit`` and the engine's message handler use it."""
    saved = dict(_accel._loaded)
    try:
        for name in ("sioparser", "msgpack"):
            mod = _accel.compiled(name) if impl == "compiled" else _accel.pure(name)
            if mod is None:
                raise SystemExit("the compiled speedups are not built (make build)")
            _accel._loaded[name] = mod
        from sioclient import parsers

        parser = parsers.get(parser_name, 5)
        decoder = parser.decoder()
        # the packet builder Socket uses for every emit
        event_packet = _accel.load("sioparser").event_packet
    finally:
        _accel._loaded.clear()
        _accel._loaded.update(saved)
    encode = parser.encode
    feed = decoder.feed
    nsp, event, args, ack_id = case.nsp, case.event, case.args, case.id

    def encode_loop(n: int) -> Any:
        out = None
        for _ in range(n):
            packet = event_packet(nsp, event, args)
            if ack_id is not None:
                packet.id = ack_id  # what the namespace's add_ack does for an emit with an ack
            out = encode(packet)
        return out

    messages = encode_loop(1)
    single = messages[0] if len(messages) == 1 else None

    def decode_loop(n: int) -> Any:
        # the engine calls feed() once per message it receives
        out = None
        if single is not None:
            for _ in range(n):
                out = feed(single)
        else:
            for _ in range(n):
                for message in messages:
                    out = feed(message)
        return out[0]

    return encode_loop, decode_loop


def psio_loops(msgpack: bool, case: Case) -> tuple[Loop, Loop]:
    """python-socketio's Client: ``emit`` builds the packet, ``_send_packet`` encodes it;
    ``_handle_eio_message`` decodes, a binary packet waiting for its attachments."""
    from socketio import packet as sio_packet

    if msgpack:
        from socketio.msgpack_packet import MsgPackPacket as packet_class
    else:
        packet_class = sio_packet.Packet
    EVENT = sio_packet.EVENT
    binary_types = (sio_packet.BINARY_EVENT, sio_packet.BINARY_ACK)
    nsp, event, args, ack_id = case.nsp, case.event, case.args, case.id

    def encode_loop(n: int) -> Any:
        out = None
        for _ in range(n):
            data = list(args)  # emit(event, data=tuple) makes a list of a tuple
            pkt = packet_class(EVENT, namespace=nsp, data=[event] + data, id=ack_id)
            out = pkt.encode()
        return out

    encoded = encode_loop(1)
    messages = encoded if isinstance(encoded, list) else [encoded]
    state: dict[str, Any] = {"binary": None}

    def decode_loop(n: int) -> Any:
        pkt = None
        if len(messages) == 1:  # what _handle_eio_message does for a packet of one message
            message = messages[0]
            for _ in range(n):
                pkt = packet_class(encoded_packet=message)
            return pkt
        for _ in range(n):
            for message in messages:
                binary = state["binary"]
                if binary is not None:
                    if binary.add_attachment(message):
                        state["binary"] = None
                        pkt = binary
                else:
                    pkt = packet_class(encoded_packet=message)
                    if pkt.packet_type in binary_types:
                        state["binary"] = pkt
        return pkt

    return encode_loop, decode_loop


def python_impls() -> dict[str, Callable[[Case], tuple[Loop, Loop]]]:
    impls: dict[str, Callable[[Case], tuple[Loop, Loop]]] = {}
    if _accel.compiled("sioparser") is not None:
        impls[COMPILED] = lambda c: sioclient_loops("default", "compiled", c)
    impls[PURE] = lambda c: sioclient_loops("default", "pure", c)
    if _accel.compiled("msgpack") is not None:
        impls[MSGPACK] = lambda c: sioclient_loops("msgpack", "compiled", c)
    impls[MSGPACK_PURE] = lambda c: sioclient_loops("msgpack", "pure", c)
    impls[PSIO] = lambda c: psio_loops(False, c)
    impls[PSIO_MSGPACK] = lambda c: psio_loops(True, c)
    return impls


def expected(case: Case) -> list[Any]:
    return [case.event, *case.args]


# --- measuring ----------------------------------------------------------------------------------


#: warm-up of each Python loop before its calibration, ms (Node's: node_parser.js)
WARM_MS = 20

#: what a repeat is timed by (``--clock``): CPU time leaves out the time a loaded machine
#: spends running something else
CLOCKS = {"cpu": time.thread_time_ns, "wall": time.perf_counter_ns}
clock = CLOCKS["cpu"]


def timed(loop: Loop, n: int) -> float:
    t0 = clock()
    loop(n)
    return (clock() - t0) / n


def calibrate(loop: Loop, ms: float) -> int:
    """Iterations that take about ``ms``: after WARM_MS of warm-up, grow n until a batch takes
    a quarter of that, the batch timed three times (the fastest counts, so that one cold or
    interrupted batch cannot leave n at 1)."""
    end = clock() + WARM_MS * 1_000_000
    while clock() < end:
        loop(1)
    n = 1
    while True:
        dt = min(timed(loop, n) * n for _ in range(3))
        if dt > ms * 1e6 / 4:
            return max(1, round(n * ms * 1e6 / dt))
        n *= 4


def blocks_per_op(loop: Loop, keep: int = 200) -> float:
    """Memory blocks still held per operation (the messages, or the packet with its data),
    ``keep`` results kept alive."""
    gc.collect()
    held = []
    loop(1)
    before = sys.getallocatedblocks()
    for _ in range(keep):
        held.append(loop(1))
    after = sys.getallocatedblocks()
    # the list that holds the results grows too: count its own blocks out
    return max(0.0, (after - before - (1 if held else 0)) / keep)


class NodeRunner:
    """node_parser.js as a child process, one request per line."""

    def __init__(self) -> None:
        node = shutil.which("node")
        if node is None:
            raise RuntimeError("node is not on PATH")
        node_dir = os.path.join(ROOT, "tests", "node")
        if not os.path.isdir(os.path.join(node_dir, "node_modules")):
            subprocess.run(
                ["npm", "ci", "--prefix", node_dir, "--no-audit", "--no-fund"],
                check=True,
                timeout=600,
            )
        self.proc = subprocess.Popen(
            [node, os.path.join(HERE, "node_parser.js")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def ask(self, req: dict[str, Any]) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("node_parser.js exited")
        out: dict[str, Any] = json.loads(line)
        if "error" in out:
            raise RuntimeError(f"node_parser.js: {out['error']}")
        return out

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def run(repeat: int, ms: float, with_node: bool, clock_name: str = "cpu") -> dict[str, Any]:
    global clock
    clock = CLOCKS[clock_name]
    cases = make_cases()
    loops: dict[tuple[str, str, str], Loop] = {}
    counts: dict[tuple[str, str, str], int] = {}
    blocks: dict[str, dict[str, dict[str, float]]] = {}
    for name, factory in python_impls().items():
        blocks[name] = {}
        for key, case in cases.items():
            enc, dec = factory(case)
            got = dec(1).data
            if got != expected(case):
                raise SystemExit(f"{name} ({key}): the round trip changed the data: {got!r:.200}")
            loops[(name, key, "encode")] = enc
            loops[(name, key, "decode")] = dec
            blocks[name][key] = {
                "encode": blocks_per_op(enc),
                "decode": blocks_per_op(dec),
            }
    node: NodeRunner | None = None
    versions = python_versions()
    if with_node:
        try:
            node = NodeRunner()
            info = node.ask({"op": "versions"})
            versions["node"] = info["node"]
            versions.update(info["versions"])
        except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
            print(f"(Node peers skipped: {exc})", file=sys.stderr)
            node = None
    names = list(blocks) + (list(NODE_IMPLS) if node is not None else [])
    samples: dict[str, dict[str, dict[str, list[float]]]] = {
        name: {key: {op: [] for op in OPS} for key in CASES} for name in names
    }
    try:
        for key in CASES:  # calibrate (and warm up) each loop once
            for (name, k, op), loop in loops.items():
                if k == key:
                    counts[(name, k, op)] = calibrate(loop, ms)
        for _ in range(repeat):
            for key in CASES:
                for name in names:
                    for op in OPS:
                        if name in NODE_IMPLS:
                            assert node is not None
                            req = {
                                "op": "run",
                                "impl": name,
                                "case": key,
                                "what": op,
                                "ms": ms,
                                "clock": clock_name,
                            }
                            ns = node.ask(req)["ns"]
                        else:
                            loop = loops[(name, key, op)]
                            ns = timed(loop, counts[(name, key, op)])
                        samples[name][key][op].append(ns)
    finally:
        if node is not None:
            node.close()
    best = {
        name: {key: {op: min(samples[name][key][op]) for op in OPS} for key in CASES}
        for name in names
    }
    median = {
        name: {key: {op: statistics.median(samples[name][key][op]) for op in OPS} for key in CASES}
        for name in names
    }
    return {
        "machine": machine(),
        "load_average": load_average(),
        "versions": versions,
        "method": {
            "repeat": repeat,
            "ms_per_repeat": ms,
            "clock": clock_name,
            "statistic": "best of repeats",
        },
        "ns_per_op": best,
        "median_ns_per_op": median,
        "samples": samples,
        "blocks_per_op": blocks,
        "ratios": ratios(best),
        "median_ratios": ratios(median),
    }


def total(figures: dict[str, float]) -> float:
    return figures["encode"] + figures["decode"]


def ratios(best: dict[str, dict[str, dict[str, float]]]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for ours, peer, _target in COMPARISONS:
        if ours in best and peer in best:
            out[f"{ours} vs {peer}"] = {
                key: total(best[peer][key]) / total(best[ours][key]) for key in CASES
            }
    return out


# --- report -------------------------------------------------------------------------------------


def machine() -> str:
    model = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"


def load_average() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def python_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for dist in ("orjson", "msgpack", "Cython", "python-socketio"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "absent"
    return out


def report(result: dict[str, Any]) -> str:
    best = result["ns_per_op"]
    blocks = result["blocks_per_op"]
    lines = [
        f"machine : {result['machine']}",
        f"load    : {' '.join(map(str, result['load_average']))} (1, 5, 15 min)",
        "versions: " + ", ".join(f"{k} {v}" for k, v in result["versions"].items()),
        f"method  : best of {result['method']['repeat']} interleaved repeats of "
        f"~{result['method']['ms_per_repeat']:g} ms of {result['method'].get('clock', 'wall')} "
        "time; encode = emit's packet building + "
        "encode, decode = feed() into one decoder",
        "",
        "ns per encode / per decode (blocks held per encode / per decode)",
    ]
    width = 30
    head = f"{'implementation':34}" + "".join(f"{f'({k}) {CASE_NAMES[k]}':>{width}}" for k in CASES)
    lines += [head, "-" * len(head)]
    for name, row in best.items():
        cells = ""
        for key in CASES:
            cell = f"{row[key]['encode']:,.0f} / {row[key]['decode']:,.0f}"
            b = blocks.get(name, {}).get(key)
            if b is not None:
                cell += f" ({b['encode']:.0f}/{b['decode']:.0f})"
            cells += f"{cell:>{width}}"
        lines.append(f"{name:34}{cells}")
    for title, table in (("best", "ratios"), ("median", "median_ratios")):
        lines += [
            "",
            f"encode+decode, times faster than the peer, from the {title} of the repeats "
            "(target in brackets)",
        ]
        for ours, peer, target in COMPARISONS:
            key = f"{ours} vs {peer}"
            if key not in result[table]:
                continue
            row = result[table][key]
            cells = ", ".join(
                f"({k}) {row[k]:.2f}x{'' if row[k] >= target else ' MISS'}" for k in CASES
            )
            lines.append(f"{key} [{target:g}x]: {cells}")
    return "\n".join(lines)


def plot(result: dict[str, Any], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [(o, p, t) for o, p, t in COMPARISONS if f"{o} vs {p}" in result["ratios"]]
    fig, ax = plt.subplots(figsize=(10, 5.5))
    width = 0.8 / max(1, len(rows))
    for i, (ours, peer, target) in enumerate(rows):
        values = [result["ratios"][f"{ours} vs {peer}"][k] for k in CASES]
        xs = [j + (i - (len(rows) - 1) / 2) * width for j in range(len(CASES))]
        bars = ax.bar(
            xs, values, width, label=f"{ours.split(' (')[0]} vs {peer} (target {target:g}x)"
        )
        for bar, value in zip(bars, values):
            ax.annotate(
                f"{value:.2f}",
                (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                ha="center",
                va="bottom",
                fontsize=7,
            )
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_yscale("log")
    ax.set_xticks(range(len(CASES)))
    ax.set_xticklabels([f"({k}) {CASE_NAMES[k]}" for k in CASES])
    ax.set_ylabel("times faster than the peer (encode+decode, best of repeats, log)")
    load = " ".join(map(str, result["load_average"]))
    ax.set_title(f"sioclient parsers vs peers, best of {result['method']['repeat']} (load {load})")
    fig.legend(loc="lower center", ncol=2, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--repeat",
        type=int,
        default=9,
        help="repeats per figure (the best counts; 9 keep the median steady on a shared machine)",
    )
    ap.add_argument("--ms", type=float, default=50.0, help="duration of one repeat, ms")
    ap.add_argument("--no-node", action="store_true", help="skip the Node peers")
    ap.add_argument(
        "--clock",
        choices=sorted(CLOCKS),
        default="cpu",
        help="time repeats in CPU time (default) or by the wall clock",
    )
    ap.add_argument(
        "--json", default=DEFAULT_JSON, help=f"write every figure here (default {DEFAULT_JSON})"
    )
    ap.add_argument(
        "--png", default=DEFAULT_PNG, help=f"chart the ratios here (default {DEFAULT_PNG})"
    )
    ap.add_argument("--no-files", action="store_true", help="print only: no JSON, no chart")
    args = ap.parse_args()
    if args.no_files:
        args.json = args.png = None
    t0 = time.monotonic()
    result = run(args.repeat, args.ms, not args.no_node, args.clock)
    print(report(result))
    print(f"\n(total {time.monotonic() - t0:.1f} s)")
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
        print(f"figures: {args.json}")
    if args.png:
        try:
            import matplotlib  # noqa: F401 - in the bench extra
        except ImportError:
            print("(no chart: matplotlib is not installed; pip install -e '.[bench]')")
            return
        os.makedirs(os.path.dirname(os.path.abspath(args.png)), exist_ok=True)
        plot(result, args.png)
        print(f"chart: {args.png}")


if __name__ == "__main__":
    main()
