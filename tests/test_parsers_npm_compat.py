"""Byte-compatibility with the npm parsers, checked live against them (tests/node/parser_oracle.js).

For every packet below, both revisions and all three parsers: our encoding equals the npm
encoding byte for byte, and the npm encoding decodes with ours to the same packet.
"""

from __future__ import annotations

import base64
import datetime
import importlib.util
import json
import os
import queue
import shutil
import subprocess
import threading

import pytest

from sioclient import ProtocolError
from sioclient.parsers import (
    ACK,
    BINARY_ACK,
    BINARY_EVENT,
    CONNECT,
    CONNECT_ERROR,
    DISCONNECT,
    EVENT,
    Packet,
    get,
)

pytestmark = pytest.mark.node

NODE_DIR = os.path.join(os.path.dirname(__file__), "node")
ORACLE = os.path.join(NODE_DIR, "parser_oracle.js")
HAVE_DEFAULT = importlib.util.find_spec("sioclient.parsers.default") is not None
REPLY_TIMEOUT = 15.0


class Oracle:
    """One Node process serving encode/decode requests, one JSON line each way."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            ["node", ORACLE],
            cwd=NODE_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            encoding="utf-8",
            bufsize=1,
        )
        self.replies: queue.Queue[str] = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.next_id = 0

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.replies.put(line)

    def call(self, request: dict) -> dict:
        self.next_id += 1
        request = dict(request, id=self.next_id)
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        reply = json.loads(self.replies.get(timeout=REPLY_TIMEOUT))
        assert reply["id"] == self.next_id
        return reply

    def close(self) -> None:
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.reader.join(timeout=10)


@pytest.fixture(scope="module")
def oracle():
    if shutil.which("node") is None or not os.path.isdir(os.path.join(NODE_DIR, "node_modules")):
        pytest.skip("node or tests/node/node_modules missing")
    peer = Oracle()
    yield peer
    peer.close()


# ---- the packet <-> oracle JSON mapping ----------------------------------------------------------


def to_wire(value):
    if isinstance(value, (bytes, bytearray)):
        return {"$bin": base64.b64encode(value).decode()}
    if isinstance(value, datetime.datetime):
        return {"$date": int(value.timestamp() * 1000)}
    if isinstance(value, list):
        return [to_wire(v) for v in value]
    if isinstance(value, dict):
        return {k: to_wire(v) for k, v in value.items()}
    return value


def from_wire(value):
    if isinstance(value, list):
        return [from_wire(v) for v in value]
    if isinstance(value, dict):
        if "$bin" in value:
            return base64.b64decode(value["$bin"])
        if "$undefined" in value:
            return None
        if "$date" in value:
            return datetime.datetime.fromtimestamp(value["$date"] / 1000, datetime.timezone.utc)
        return {k: from_wire(v) for k, v in value.items()}
    return value


def packet_spec(packet: Packet) -> dict:
    spec = {"type": packet.type, "nsp": packet.nsp}
    if packet.data is not None:
        spec["data"] = to_wire(packet.data)
    if packet.id is not None:
        spec["id"] = packet.id
    return spec


def messages_to_wire(messages):
    return [
        {"s": m} if isinstance(m, str) else {"b": base64.b64encode(m).decode()} for m in messages
    ]


def messages_from_wire(messages):
    return [m["s"] if "s" in m else base64.b64decode(m["b"]) for m in messages]


def has_bytes(value) -> bool:
    if isinstance(value, (bytes, bytearray)):
        return True
    if isinstance(value, list):
        return any(has_bytes(v) for v in value)
    if isinstance(value, dict):
        return any(has_bytes(v) for v in value.values())
    return False


def npm_name(parser: str, protocol: int) -> str:
    if parser == "default":
        return "default-v3" if protocol == 4 else "default-v4"
    return f"{parser}-v{2 if protocol == 4 else 3}"


def decode_all(parser, messages):
    decoder = parser.decoder()
    out = []
    for message in messages:
        out.extend(decoder.feed(message))
    return out


# ---- the packets ---------------------------------------------------------------------------------

INTS = [0, 1, 127, 128, 255, 256, 65535, 65536, 2**32 - 1, 2**32, 2**53 - 1]
INTS += [-1, -32, -33, -128, -129, -32768, -32769, -(2**31), -(2**31) - 1, -(2**53 - 1)]
NESTED = {"a": [1, {"b": None, "c": True}], "d": False, "e": {"f": {"g": []}}, "h": "ü"}
LONG_LIST = list(range(20))
WIDE_MAP = {f"k{i}": i for i in range(20)}
INDEX_KEYS = {"b": 1, "10": 2, "2": 3, "01": 4}
TEXT = ["héllo", "日本語", "emoji 😀", "a" * 31, "a" * 32, "b" * 300, "c" * 70_000, ""]
FLOATS = [1.5, -0.25, 1e-7, 123456.789, -2.5e-300, 4503599627370495.5]

COMMON = [
    Packet(EVENT, "/", ["hello"]),
    Packet(EVENT, "/", ["hello", "world"], 0),
    Packet(EVENT, "/chat", ["ints", *INTS], 42),
    Packet(EVENT, "/", ["floats", *FLOATS]),
    # JSON.stringify writes a whole number without a fraction, and switches to the exponent
    # below 1e-6 and from 1e21 on; msgpack writes the whole ones as integers
    Packet(EVENT, "/", ["whole floats", 3.0, -0.0, -5.0, 2.0**52, -(2.0**40), 1e15, 1e16]),
    Packet(ACK, "/", [{"n": 2.0, "l": [0.0, {"m": -1.0}], "s": "1.0 e+16"}], 3),
    Packet(EVENT, "/", ["text", *TEXT], 2**31 - 1),
    Packet(EVENT, "/ünï", ["nested", NESTED, LONG_LIST, WIDE_MAP, None, True, False]),
    Packet(EVENT, "/", ["empties", [], {}, ""]),
    Packet(ACK, "/", [], 0),
    Packet(ACK, "/chat", ["answer", {"x": 1}], 7),
]
BINARY = [
    Packet(EVENT, "/", ["bin", b"\x00\x01\xff"]),
    Packet(EVENT, "/chat", ["bin", {"k": b"x" * 300, "l": [b"", b"y"]}, "tail"], 5),
    Packet(ACK, "/", [b"\x00" * 70_000], 1),
]
V4_ONLY = [
    Packet(CONNECT, "/"),
    Packet(CONNECT, "/chat"),
    Packet(CONNECT, "/chat?token=abc"),
    Packet(DISCONNECT, "/chat"),
    Packet(CONNECT_ERROR, "/", "Not authorized"),
    Packet(BINARY_EVENT, "/", ["typed as binary", 1]),
    Packet(BINARY_ACK, "/", [], 3),
]
V5_ONLY = [
    Packet(CONNECT, "/"),
    Packet(CONNECT, "/admin", {"token": "abc", "n": 1}),
    Packet(DISCONNECT, "/admin"),
    Packet(CONNECT_ERROR, "/", {"message": "Not authorized", "data": {"code": 4}}),
]
# Only the msgpack encoding writes array-index keys first, as JavaScript does; jsoncodec leaves
# them in Python's order (see its docstring).
# notepack writes whole floats beyond the 64-bit integers as wrapped-around integers
TEXT_ONLY = [
    Packet(EVENT, "/", ["big and small", 1e20, -1e21, 1.5e300, 1.5e-5, 1e-6, 1e-7, 5e-324]),
]
MSGPACK_ONLY = [
    Packet(EVENT, "/", ["index keys", INDEX_KEYS]),
]


def cases():
    out = []
    for protocol in (4, 5):
        specific = V4_ONLY if protocol == 4 else V5_ONLY
        for parser in ("json", "msgpack", "default"):
            packets = COMMON + specific
            if parser != "json":
                packets = packets + BINARY
            if parser != "msgpack":
                packets = packets + TEXT_ONLY
            if parser == "msgpack":
                packets = packets + MSGPACK_ONLY
                if protocol == 5:
                    packets = packets + [Packet(CONNECT_ERROR, "/", "a plain message")]
            if parser == "default" and protocol == 4:
                # socket.io-parser 3.x writes ERROR data as JSON, CONNECT paths as they are
                packets = [p for p in packets if p.type != CONNECT_ERROR]
            marks = []
            if parser == "default" and not HAVE_DEFAULT:
                marks = [pytest.mark.skip(reason="sioclient.parsers.default not available")]
            for i, packet in enumerate(packets):
                out.append(
                    pytest.param(
                        parser, protocol, packet, id=f"{parser}-{protocol}-{i}", marks=marks
                    )
                )
    return out


def npm_type(parser: str, protocol: int, packet: Packet) -> int:
    """The type the npm encoder is handed for what our encoder is handed."""
    if parser == "default" and protocol == 4 and has_bytes(packet.data):
        # socket.io-parser 3.x only looks for attachments in the BINARY_* types
        return {EVENT: BINARY_EVENT, ACK: BINARY_ACK}.get(packet.type, packet.type)
    if parser != "default" and protocol == 5:
        return {BINARY_EVENT: EVENT, BINARY_ACK: ACK}.get(packet.type, packet.type)
    return packet.type


def wire_type(parser: str, protocol: int, packet: Packet) -> int:
    """The type a decoder reports: the default parser marks packets that carry bytes."""
    ptype = npm_type(parser, protocol, packet)
    if parser == "default" and has_bytes(packet.data):
        return {EVENT: BINARY_EVENT, ACK: BINARY_ACK}.get(ptype, ptype)
    return ptype


def npm_decoded_type(parser: str, protocol: int, packet: Packet) -> int:
    """The type the npm decoder reports: socket.io-parser 4.x folds BINARY_* into the plain ones."""
    ptype = wire_type(parser, protocol, packet)
    if parser == "default" and protocol == 5:
        return {BINARY_EVENT: EVENT, BINARY_ACK: ACK}.get(ptype, ptype)
    return ptype


@pytest.mark.parametrize(("parser_name", "protocol", "packet"), cases())
def test_encoding_is_byte_identical(oracle, accel_mode, parser_name, protocol, packet):
    ours = get(parser_name, protocol).encode(packet)
    spec = packet_spec(packet)
    spec["type"] = npm_type(parser_name, protocol, packet)
    reply = oracle.call({"op": "encode", "parser": npm_name(parser_name, protocol), "packet": spec})
    assert reply["ok"], reply
    assert ours == messages_from_wire(reply["messages"])


@pytest.mark.parametrize(("parser_name", "protocol", "packet"), cases())
def test_npm_encoding_decodes_to_the_same_packet(oracle, accel_mode, parser_name, protocol, packet):
    spec = packet_spec(packet)
    spec["type"] = npm_type(parser_name, protocol, packet)
    reply = oracle.call({"op": "encode", "parser": npm_name(parser_name, protocol), "packet": spec})
    assert reply["ok"], reply
    decoded = decode_all(get(parser_name, protocol), messages_from_wire(reply["messages"]))
    expected = Packet(wire_type(parser_name, protocol, packet), packet.nsp, packet.data, packet.id)
    assert decoded == [expected]


@pytest.mark.parametrize(("parser_name", "protocol", "packet"), cases())
def test_npm_decodes_our_encoding(oracle, accel_mode, parser_name, protocol, packet):
    ours = get(parser_name, protocol).encode(packet)
    reply = oracle.call(
        {
            "op": "decode",
            "parser": npm_name(parser_name, protocol),
            "messages": messages_to_wire(ours),
        }
    )
    assert reply["ok"], reply
    (decoded,) = reply["packets"]
    assert decoded["type"] == npm_decoded_type(parser_name, protocol, packet)
    assert decoded["nsp"] == packet.nsp
    assert decoded.get("id") == packet.id
    assert from_wire(decoded.get("data")) == packet.data


# ---- what only the npm side writes ----------------------------------------------------------------


@pytest.mark.parametrize("protocol", [4, 5])
def test_undefined_and_dates_from_notepack(oracle, accel_mode, protocol):
    when = datetime.datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=datetime.timezone.utc)
    spec = {
        "type": EVENT,
        "nsp": "/",
        "data": ["e", {"$undefined": 1}, {"a": {"$undefined": 1}}, {"$date": 1700000000123}],
    }
    reply = oracle.call({"op": "encode", "parser": npm_name("msgpack", protocol), "packet": spec})
    (raw,) = messages_from_wire(reply["messages"])
    (packet,) = get("msgpack", protocol).decoder().feed(raw)
    assert packet.data == ["e", None, {"a": None}, when]
    # and a datetime goes back as a Date
    (ours,) = get("msgpack", protocol).encode(Packet(EVENT, "/", ["e", when]))
    reply = oracle.call(
        {
            "op": "decode",
            "parser": npm_name("msgpack", protocol),
            "messages": messages_to_wire([ours]),
        }
    )
    assert reply["packets"][0]["data"] == ["e", {"$date": 1700000000123}]


@pytest.mark.parametrize("parser_name", ["json", "msgpack"])
@pytest.mark.parametrize("protocol", [4, 5])
def test_both_sides_reject_the_same_packets(oracle, accel_mode, parser_name, protocol):
    bad = [
        {"type": DISCONNECT, "nsp": "/", "data": None},
        {"type": CONNECT_ERROR, "nsp": "/", "data": []},
        {"type": EVENT, "nsp": "/", "data": "x"},
        {"type": 7, "nsp": "/", "data": []},
        {"type": EVENT, "nsp": 1, "data": ["x"]},
        {"type": EVENT, "nsp": "/", "data": ["x"], "id": "1"},
    ]
    if protocol == 5:
        bad.append({"type": BINARY_EVENT, "nsp": "/", "data": ["x"]})
    for spec in bad:
        # the npm encoders write anything; the decoders must refuse it, on both sides
        enc = oracle.call(
            {"op": "encode", "parser": npm_name(parser_name, protocol), "packet": spec}
        )
        assert enc["ok"], enc
        dec = oracle.call(
            {"op": "decode", "parser": npm_name(parser_name, protocol), "messages": enc["messages"]}
        )
        assert not dec["ok"], (spec, dec)
        with pytest.raises(ProtocolError):
            decode_all(get(parser_name, protocol), messages_from_wire(enc["messages"]))


def _random_floats(count: int) -> list[float]:
    import random

    rnd = random.Random(20261130)
    out: list[float] = []
    for _ in range(count):
        kind = rnd.randrange(4)
        if kind == 0:  # whole numbers of every size
            out.append(float(rnd.randrange(-(2**60), 2**60)) * 10.0 ** rnd.randrange(0, 8))
        elif kind == 1:  # any magnitude
            out.append(rnd.uniform(-1, 1) * 10.0 ** rnd.randrange(-330, 309))
        elif kind == 2:  # around the thresholds of the exponent form
            out.append(rnd.choice((1, -1)) * rnd.random() * 10.0 ** rnd.randrange(-8, 23))
        else:  # short decimals
            out.append(round(rnd.uniform(-1e6, 1e6), rnd.randrange(0, 6)))
    return [f for f in out if f == f and abs(f) != float("inf")]


@pytest.mark.parametrize("parser_name", ["default", "json"])
def test_floats_are_written_as_javascript_writes_them(oracle, accel_mode, parser_name):
    """Thousands of floats, whole and not, of every magnitude: byte-identical to npm."""
    if parser_name == "default" and not HAVE_DEFAULT:
        pytest.skip("sioclient.parsers.default not available")
    floats = _random_floats(3000)
    # whole floats beyond 2**64 send a packet down the standard library's path: those apart,
    # so that the orjson path is checked as well
    small = [f for f in floats if abs(f) < 2**63]
    chunks = [small[i : i + 500] for i in range(0, len(small), 500)]
    chunks += [floats[i : i + 500] for i in range(0, len(floats), 500)]
    for chunk in chunks:
        packet = Packet(EVENT, "/", ["floats", *chunk])
        ours = get(parser_name, 5).encode(packet)
        spec = packet_spec(packet)
        reply = oracle.call({"op": "encode", "parser": npm_name(parser_name, 5), "packet": spec})
        assert reply["ok"], reply
        assert ours == messages_from_wire(reply["messages"])
