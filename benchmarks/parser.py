"""Encode+decode cost of the default parser against its peers.

    .venv/bin/python benchmarks/parser.py [--repeat 7] [--ms 40] [--no-node] [--json out.json]

Each measurement is one full cycle: encode a packet, feed every resulting message to a decoder,
get the packet back.  Cases: (a) a small event on ``/``, (b) the same with ack id 42 on
``/admin``, (c) an event with two nested 1 KiB buffers and a 4 KiB one, (d) an event holding
1000 small dicts.  Every figure is the median of ``--repeat`` runs of about ``--ms`` ms each.
Node's socket.io-parser 3.x/4.x and socket.io-msgpack-parser 3.x are measured by
``node_parser.js`` in the same run, on the same data.
"""

from __future__ import annotations

import argparse
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
from sioclient.core.packet import EVENT, Packet  # noqa: E402

CASES = ("a", "b", "c", "d")
CASE_NAMES = {
    "a": "small event",
    "b": "ack id, /admin",
    "c": "binary 2x1K+4K",
    "d": "1000 dicts",
}
NODE_V4 = "socket.io-parser v4"


def make_cases() -> dict[str, Packet]:
    small = ["chat", {"user": "alice", "text": "hello world", "ts": 1700000000}]
    bulk = [{"id": i, "name": f"item{i}", "ok": True} for i in range(1000)]
    upload = [
        "upload",
        {"meta": {"a": b"x" * 1024, "b": [b"y" * 1024]}},
        b"z" * 4096,
    ]
    return {
        "a": Packet(EVENT, "/", small),
        "b": Packet(EVENT, "/admin", small, 42),
        "c": Packet(EVENT, "/", upload),
        "d": Packet(EVENT, "/", ["bulk", bulk]),
    }


# --- implementations: each factory returns cycle(packet) -> decoded data -----------------------


def sioclient_cycle(mod: Any) -> Callable[[], Callable[[Packet], Any]]:
    def factory() -> Callable[[Packet], Any]:
        _accel._loaded["sioparser"] = mod
        from sioclient.parsers.default import DefaultParser

        parser = DefaultParser(5)
        encode = parser.encode
        feed = parser.decoder().feed

        def cycle(packet: Packet) -> Any:
            for message in encode(packet):
                out = feed(message)
            return out[0].data

        return cycle

    return factory


def sioclient_parser_cycle(name: str) -> Callable[[], Callable[[Packet], Any]]:
    def factory() -> Callable[[Packet], Any]:
        from sioclient import parsers

        parser = parsers.get(name, 5)
        encode = parser.encode
        feed = parser.decoder().feed

        def cycle(packet: Packet) -> Any:
            for message in encode(packet):
                out = feed(message)
            return out[0].data

        return cycle

    return factory


def python_socketio_cycle() -> Callable[[Packet], Any]:
    from socketio.packet import Packet as SioPacket

    def cycle(packet: Packet) -> Any:
        encoded = SioPacket(EVENT, packet.data, packet.nsp, packet.id).encode()
        if isinstance(encoded, list):
            decoded = SioPacket(encoded_packet=encoded[0])
            for attachment in encoded[1:]:
                decoded.add_attachment(attachment)
        else:
            decoded = SioPacket(encoded_packet=encoded)
        return decoded.data

    return cycle


def python_socketio_msgpack_cycle() -> Callable[[Packet], Any]:
    from socketio.msgpack_packet import MsgPackPacket

    def cycle(packet: Packet) -> Any:
        encoded = MsgPackPacket(EVENT, packet.data, packet.nsp, packet.id).encode()
        return MsgPackPacket(encoded_packet=encoded).data

    return cycle


def orjson_cycle() -> Callable[[Packet], Any]:
    import orjson

    def cycle(packet: Packet) -> Any:
        return orjson.loads(orjson.dumps(packet.data))

    return cycle


def stdlib_json_cycle() -> Callable[[Packet], Any]:
    encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
    decoder = json.JSONDecoder()

    def cycle(packet: Packet) -> Any:
        return decoder.decode(encoder.encode(packet.data))

    return cycle


def implementations() -> dict[str, tuple[Callable[[], Callable[[Packet], Any]], tuple]]:
    """name -> (factory, cases it can run)."""
    impls: dict[str, tuple[Callable[[], Callable[[Packet], Any]], tuple]] = {}
    compiled = _accel.compiled("sioparser")
    if compiled is not None:
        impls["sioclient compiled"] = (sioclient_cycle(compiled), CASES)
    impls["sioclient pure"] = (sioclient_cycle(_accel.pure("sioparser")), CASES)
    try:
        from sioclient import parsers

        parsers.get("msgpack", 5)
        impls["sioclient msgpack"] = (sioclient_parser_cycle("msgpack"), CASES)
    except Exception as exc:  # noqa: BLE001 - optional peer
        print(f"(sioclient msgpack parser skipped: {exc})", file=sys.stderr)
    impls["python-socketio Packet"] = (python_socketio_cycle, CASES)
    impls["python-socketio MsgPackPacket"] = (python_socketio_msgpack_cycle, CASES)
    impls["bare JSON: orjson"] = (orjson_cycle, ("a", "b", "d"))
    impls["bare JSON: stdlib"] = (stdlib_json_cycle, ("a", "b", "d"))
    return impls


# --- measuring ---------------------------------------------------------------------------------


def measure(cycle: Callable[[Packet], Any], packet: Packet, repeat: int, ms: float) -> list:
    """ns/op of each of ``repeat`` runs of about ``ms`` milliseconds."""
    clock = time.perf_counter_ns
    n = 1
    while True:  # calibrate
        t0 = clock()
        for _ in range(n):
            cycle(packet)
        dt = clock() - t0
        if dt > ms * 1e6 / 4:
            n = max(1, round(n * ms * 1e6 / dt))
            break
        n *= 4
    samples = []
    for _ in range(repeat):
        t0 = clock()
        for _ in range(n):
            cycle(packet)
        samples.append((clock() - t0) / n)
    return samples


def run_python(repeat: int, ms: float) -> dict[str, dict[str, float]]:
    cases = make_cases()
    results: dict[str, dict[str, float]] = {}
    saved = dict(_accel._loaded)
    try:
        for name, (factory, runs) in implementations().items():
            results[name] = {}
            for key in runs:
                cycle = factory()
                packet = cases[key]
                if cycle(packet) != packet.data:
                    raise SystemExit(f"{name} ({key}): the round trip changed the data")
                results[name][key] = statistics.median(measure(cycle, packet, repeat, ms))
    finally:
        _accel._loaded.clear()
        _accel._loaded.update(saved)
    return results


def run_node(repeat: int, ms: float) -> tuple[dict, dict]:
    node = shutil.which("node")
    if node is None:
        print("(node not found on PATH: Node peers skipped)", file=sys.stderr)
        return {}, {}
    node_dir = os.path.join(ROOT, "tests", "node")
    if not os.path.isdir(os.path.join(node_dir, "node_modules")):
        subprocess.run(["npm", "ci", "--prefix", node_dir], check=True, timeout=300)
    proc = subprocess.run(
        [node, os.path.join(HERE, "node_parser.js"), str(repeat), str(ms)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    out = json.loads(proc.stdout)
    results = {
        name: {key: statistics.median(samples) for key, samples in cases.items()}
        for name, cases in out["results"].items()
    }
    versions = {"node": out["node"], **out["versions"]}
    return results, versions


# --- report ------------------------------------------------------------------------------------


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


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for dist in ("orjson", "Cython", "python-socketio", "msgpack"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "absent"
    return out


def fmt_ns(ns: float | None) -> str:
    if ns is None:
        return "-"
    return f"{ns:,.0f}"


def report(results: dict[str, dict[str, float]], vers: dict[str, str]) -> str:
    lines = [
        f"machine : {machine()}",
        "versions: " + ", ".join(f"{k} {v}" for k, v in vers.items()),
        "",
        "encode+decode, ns/op (median)   ops/s in brackets",
    ]
    head = f"{'implementation':32}" + "".join(f"{f'({k}) {CASE_NAMES[k]}':>26}" for k in CASES)
    lines += [head, "-" * len(head)]
    for name, row in results.items():
        cells = ""
        for key in CASES:
            ns = row.get(key)
            cell = "-" if ns is None else f"{fmt_ns(ns)} ({1e9 / ns:,.0f}/s)"
            cells += f"{cell:>26}"
        lines.append(f"{name:32}{cells}")
    lines.append("")
    base = results.get("sioclient compiled") or results.get("sioclient pure", {})
    label = "sioclient compiled" if "sioclient compiled" in results else "sioclient pure"
    for peer in ("python-socketio Packet", NODE_V4):
        if peer not in results:
            continue
        ratios = []
        for key in CASES:
            mine, theirs = base.get(key), results[peer].get(key)
            ratios.append("-" if not mine or not theirs else f"{theirs / mine:.2f}x")
        lines.append(
            f"{label} speed vs {peer}: " + ", ".join(f"({k}) {r}" for k, r in zip(CASES, ratios))
        )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=7, help="runs per figure (median)")
    ap.add_argument("--ms", type=float, default=40.0, help="duration of one run, ms")
    ap.add_argument("--no-node", action="store_true", help="skip the Node peers")
    ap.add_argument("--json", help="also write the figures to this file")
    args = ap.parse_args()
    t0 = time.monotonic()
    results = run_python(args.repeat, args.ms)
    vers = versions()
    if not args.no_node:
        node_results, node_versions = run_node(args.repeat, args.ms)
        results.update(node_results)
        vers.update(node_versions)
    print(report(results, vers))
    print(f"\n(total {time.monotonic() - t0:.1f} s)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": machine(), "versions": vers, "ns_per_op": results}, f, indent=2)


if __name__ == "__main__":
    main()
