"""The json and msgpack parsers: vectors from the npm packages' own test suites, notepack.io's
encoding rules, the decoding bounds, and the shared packet mapping (compiled and pure)."""

from __future__ import annotations

import datetime

import msgpack
import pytest

from sioclient import ProtocolError
from sioclient.core import _accel
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


@pytest.fixture
def json4(accel_mode):
    return get("json", 4)


@pytest.fixture
def json5(accel_mode):
    return get("json", 5)


@pytest.fixture
def mp4(accel_mode):
    return get("msgpack", 4)


@pytest.fixture
def mp5(accel_mode):
    return get("msgpack", 5)


def feed1(parser, message):
    packets = parser.decoder().feed(message)
    assert len(packets) == 1
    return packets[0]


def test_parsers_use_the_selected_implementation(accel_mode):
    mod = _accel.load("msgpack")
    assert get("msgpack", 5)._impl is mod
    assert get("json", 4)._impl is mod
    assert mod.__name__.endswith("_c" if accel_mode == "compiled" else "_py")


# ---- the invalid inputs of socket.io-json-parser's test suite (2.1.1 and 3.0.0) -------------

JSON_INVALID = [
    ("{", "invalid JSON"),
    ("{}", "invalid packet type"),
    ('{"type":"a"}', "invalid packet type"),
    ('{"type":7}', "invalid packet type"),
    ('{"type":2}', "invalid namespace"),
    ('{"type":2,"nsp":2}', "invalid namespace"),
    ('{"type":2,"nsp":"/"}', "invalid payload"),
    ('{"type":2,"nsp":"/","data":4}', "invalid payload"),
    ('{"type":4,"nsp":"/","data":[]}', "invalid payload"),
    ('{"type":2,"nsp":"/","data":[],"id":"a"}', "invalid"),  # ours: an event needs a name
    ('{"type":2,"nsp":"/","data":["a"],"id":"a"}', "invalid packet id"),
]


@pytest.mark.parametrize("protocol", [4, 5])
@pytest.mark.parametrize(("text", "error"), JSON_INVALID)
def test_json_parser_rejects_the_npm_test_vectors(accel_mode, protocol, text, error):
    with pytest.raises(ProtocolError, match=error) as info:
        get("json", protocol).decoder().feed(text)
    assert info.value.data == text


# ---- ... and of socket.io-msgpack-parser's (2.2.1 and 3.0.2) --------------------------------

MSGPACK_INVALID = [
    (b"", "empty"),
    (msgpack.packb({}), "invalid packet type"),
    (msgpack.packb({"type": "a"}), "invalid packet type"),
    (msgpack.packb({"type": 7}), "invalid packet type"),
    (msgpack.packb(b"\x01"), "invalid packet type"),
    (bytes([1]), "invalid packet type"),
    (msgpack.packb({"type": 2}), "invalid namespace"),
    (msgpack.packb({"type": 2, "nsp": 2}), "invalid namespace"),
    (msgpack.packb({"type": 2, "nsp": "/"}), "invalid payload"),
    (msgpack.packb({"type": 2, "nsp": "/", "data": 4}), "invalid payload"),
    (msgpack.packb({"type": 4, "nsp": "/", "data": []}), "invalid payload"),
    (msgpack.packb({"type": 2, "nsp": "/", "data": ["a"], "id": "a"}), "invalid packet id"),
]


@pytest.mark.parametrize("protocol", [4, 5])
@pytest.mark.parametrize(("raw", "error"), MSGPACK_INVALID)
def test_msgpack_parser_rejects_the_npm_test_vectors(accel_mode, protocol, raw, error):
    with pytest.raises(ProtocolError, match=error) as info:
        get("msgpack", protocol).decoder().feed(raw)
    assert info.value.data == raw


def test_msgpack_v2_takes_json_text_as_its_tests_do(mp4):
    with pytest.raises(ProtocolError, match="invalid JSON"):
        mp4.decoder().feed("{")
    with pytest.raises(ProtocolError, match="invalid namespace"):
        mp4.decoder().feed('{"type":2}')
    assert feed1(mp4, '{"type":2,"nsp":"/","data":["a"]}') == Packet(EVENT, "/", ["a"])


def test_msgpack_v3_refuses_text(mp5):
    with pytest.raises(ProtocolError, match="text message"):
        mp5.decoder().feed('{"type":2,"nsp":"/","data":["a"]}')


# ---- revision differences ---------------------------------------------------------------------


def test_type_ranges(json4, json5, mp4, mp5):
    for parser in (json4, mp4):
        assert feed1(parser, '{"type":5,"nsp":"/","data":["a"]}').type == BINARY_EVENT
        assert feed1(parser, '{"type":6,"nsp":"/","data":[],"id":1}').type == BINARY_ACK
    with pytest.raises(ProtocolError, match="invalid packet type"):
        json5.decoder().feed('{"type":5,"nsp":"/","data":["a"]}')
    with pytest.raises(ProtocolError, match="invalid packet type"):
        mp5.decoder().feed(msgpack.packb({"type": 6, "nsp": "/", "data": []}))


def test_connect_error_payloads(json4, json5, mp4, mp5):
    # 2.x: ERROR carries a string; json 3.x: an object; msgpack 3.x: either
    assert feed1(json4, '{"type":4,"nsp":"/","data":"nope"}').data == "nope"
    assert feed1(mp4, '{"type":4,"nsp":"/","data":"nope"}').data == "nope"
    with pytest.raises(ProtocolError, match="invalid payload"):
        json4.decoder().feed('{"type":4,"nsp":"/","data":{"message":"nope"}}')
    assert feed1(json5, '{"type":4,"nsp":"/","data":{"message":"m"}}').data == {"message": "m"}
    with pytest.raises(ProtocolError, match="invalid payload"):
        json5.decoder().feed('{"type":4,"nsp":"/","data":"nope"}')
    raw = msgpack.packb({"type": 4, "nsp": "/", "data": "nope"})
    assert feed1(mp5, raw).data == "nope"


def test_connect_and_disconnect_payloads(json4, json5, mp5):
    assert feed1(json5, '{"type":0,"nsp":"/","data":{"sid":"x"}}').data == {"sid": "x"}
    assert feed1(json5, '{"type":0,"nsp":"/a"}') == Packet(CONNECT, "/a")
    with pytest.raises(ProtocolError, match="invalid payload"):
        json4.decoder().feed('{"type":0,"nsp":"/","data":{"sid":"x"}}')
    for text in ('{"type":0,"nsp":"/","data":null}', '{"type":1,"nsp":"/","data":null}'):
        with pytest.raises(ProtocolError, match="invalid payload"):
            json5.decoder().feed(text)
    with pytest.raises(ProtocolError, match="invalid payload"):
        mp5.decoder().feed(msgpack.packb({"type": 1, "nsp": "/", "data": None}))


def test_numbers_as_javascript_reads_them(json5, mp5):
    # 2.0 is an integer to Number.isInteger; true is not
    assert feed1(json5, '{"type":2.0,"nsp":"/","data":["a"],"id":7.0}') == Packet(
        EVENT, "/", ["a"], 7
    )
    for text in ('{"type":true,"nsp":"/","data":["a"]}', '{"type":2.5,"nsp":"/","data":["a"]}'):
        with pytest.raises(ProtocolError, match="invalid packet type"):
            json5.decoder().feed(text)
    with pytest.raises(ProtocolError, match="invalid packet id"):
        json5.decoder().feed('{"type":3,"nsp":"/","data":[],"id":null}')
    raw = msgpack.packb({"type": 3.0, "nsp": "/", "data": [], "id": 0})
    assert feed1(mp5, raw) == Packet(ACK, "/", [], 0)


def test_extra_keys_are_ignored(json5, mp5):
    text = '{"type":2,"data":["a"],"options":{"compress":true},"nsp":"/"}'
    assert feed1(json5, text) == Packet(EVENT, "/", ["a"])
    raw = msgpack.packb({"type": 2, "data": ["a"], "options": {"compress": True}, "nsp": "/"})
    assert feed1(mp5, raw) == Packet(EVENT, "/", ["a"])


def test_json_decoder_reads_utf8_bytes(json5):
    assert feed1(json5, '{"type":2,"nsp":"/","data":["é"]}'.encode()).data == ["é"]
    with pytest.raises(ProtocolError, match="UTF-8"):
        json5.decoder().feed(b'{"type":2,"nsp":"/","data":["\xff"]}')


# ---- encoding ---------------------------------------------------------------------------------


def test_json_key_order_and_absent_keys(json4, json5):
    assert json5.encode(Packet(CONNECT, "/")) == ['{"type":0,"nsp":"/"}']
    assert json5.encode(Packet(CONNECT, "/a", {"t": 1})) == ['{"type":0,"data":{"t":1},"nsp":"/a"}']
    assert json4.encode(Packet(DISCONNECT, "/a")) == ['{"type":1,"nsp":"/a"}']
    assert json5.encode(Packet(EVENT, "/", ["a", 1], 0)) == [
        '{"type":2,"data":["a",1],"id":0,"nsp":"/"}'
    ]
    # an ACK is built as {type, id, data} by socket.io-client
    assert json5.encode(Packet(ACK, "/", [], 3)) == ['{"type":3,"id":3,"data":[],"nsp":"/"}']


def test_json_refuses_bytes_clearly(json5):
    with pytest.raises(TypeError, match=r"binary data \(data\[1\]\['k'\] is bytes\)"):
        json5.encode(Packet(EVENT, "/", ["a", {"k": b"\x00"}]))


def test_binary_types_become_plain_on_revision_5(json5, mp5, mp4):
    assert json5.encode(Packet(BINARY_EVENT, "/", ["a"])) == ['{"type":2,"data":["a"],"nsp":"/"}']
    assert msgpack.unpackb(mp5.encode(Packet(BINARY_ACK, "/", [b"x"], 1))[0])["type"] == ACK
    assert msgpack.unpackb(mp4.encode(Packet(BINARY_ACK, "/", [b"x"], 1))[0])["type"] == 6


def test_encode_rejects_bad_packets(json5, mp5):
    for parser in (json5, mp5):
        with pytest.raises(ValueError, match="type"):
            parser.encode(Packet(9, "/"))
        with pytest.raises(ValueError, match="namespace"):
            parser.encode(Packet(EVENT, None, ["a"]))
        with pytest.raises(ValueError, match="id"):
            parser.encode(Packet(EVENT, "/", ["a"], "1"))


def test_msgpack_v2_sends_connect_disconnect_error_as_json(mp4):
    assert mp4.encode(Packet(CONNECT, "/chat")) == ['{"type":0,"nsp":"/chat"}']
    assert mp4.encode(Packet(DISCONNECT, "/chat")) == ['{"type":1,"nsp":"/chat"}']
    assert mp4.encode(Packet(CONNECT_ERROR, "/", "no")) == ['{"type":4,"data":"no","nsp":"/"}']
    (raw,) = mp4.encode(Packet(EVENT, "/", ["a"]))
    assert isinstance(raw, bytes)


# Bytes checked against notepack.io 2.2.0 (see test_parsers_npm_compat.py for the live check).
NOTEPACK_VECTORS = [
    # {type: 2, data: ["a", 1, 1.5, <Buffer 00 01>], id: 3, nsp: "/"}
    (
        Packet(EVENT, "/", ["a", 1.0, 1.5, b"\x00\x01"], 3),
        "84a474797065 02 a464617461 94 a161 01 cb3ff8000000000000 c4020001 a26964 03 a36e7370 a12f",
    ),
    # {type: 3, id: 0, data: [], nsp: "/"}
    (Packet(ACK, "/", [], 0), "84a474797065 03 a26964 00 a464617461 90 a36e7370 a12f"),
    # {type: 1, nsp: "/"}: no data key at all
    (Packet(DISCONNECT, "/"), "82a474797065 01 a36e7370 a12f"),
]


@pytest.mark.parametrize(("packet", "hexbytes"), NOTEPACK_VECTORS)
def test_msgpack_vectors(mp5, packet, hexbytes):
    raw = bytes.fromhex(hexbytes.replace(" ", ""))
    assert mp5.encode(packet) == [raw]
    assert feed1(mp5, raw) == packet


@pytest.mark.parametrize(
    ("value", "hexbytes"),
    [
        (0, "00"),
        (127, "7f"),
        (128, "cc80"),
        (255, "ccff"),
        (256, "cd0100"),
        (65536, "ce00010000"),
        (2**32, "cf0000000100000000"),
        (2**64 - 1, "cfffffffffffffffff"),
        (-1, "ff"),
        (-32, "e0"),
        (-33, "d0df"),
        (-129, "d1ff7f"),
        (-32769, "d2ffff7fff"),
        (-(2**31) - 1, "d3ffffffff7fffffff"),
        (-(2**63), "d38000000000000000"),
        (3.0, "03"),  # a whole number is an integer to JavaScript
        (-0.0, "00"),
        (-5.0, "fb"),
        (2.0**60, "cf1000000000000000"),
        (0.5, "cb3fe0000000000000"),
        (float("inf"), "cb7ff0000000000000"),
        (1e300, "cb7e37e43c8800759c"),  # beyond 64 bits notepack would corrupt it; kept a float
        (True, "c3"),
        (None, "c0"),
        ("x" * 31, "bf" + "78" * 31),
        ("x" * 32, "d920" + "78" * 32),
        (b"\x01" * 3, "c403010101"),
        (bytearray(b"\x01"), "c40101"),
        (memoryview(b"\x01"), "c40101"),
        ((1, 2), "920102"),
        ({"b": 1, "10": 2, "2": 3, "01": 4}, "84a132 03 a23130 02 a162 01 a23031 04"),
        ({1: "a", None: "b"}, "82a131a161a46e756c6ca162"),
        (
            datetime.datetime(2023, 11, 14, 22, 13, 20, tzinfo=datetime.timezone.utc),
            "d7000000018bcfe56800",
        ),
    ],
)
def test_notepack_value_encodings(msgpack_impl, value, hexbytes):
    obj = msgpack_impl.packet_map(EVENT, "/", ["e", value], None, True)
    packed = msgpack.packb(obj, use_bin_type=True)
    prefix = bytes.fromhex("83a474797065 02 a464617461 92 a165".replace(" ", ""))
    suffix = bytes.fromhex("a36e7370a12f")
    assert packed == prefix + bytes.fromhex(hexbytes.replace(" ", "")) + suffix


def test_normalisation_copies_only_what_changes(msgpack_impl):
    inner = ["x", {"a": 1}]
    data = ["e", inner, 2.0]
    out = msgpack_impl.packet_map(EVENT, "/", data, None, True)["data"]
    assert out == ["e", inner, 2] and type(out[2]) is int
    assert out[1] is inner and data[2] == 2.0 and type(data[2]) is float


def test_encode_rejects_what_msgpack_cannot_hold(mp5):
    with pytest.raises(ValueError, match="64 bits"):
        mp5.encode(Packet(EVENT, "/", ["e", 2**64]))
    with pytest.raises(TypeError, match="object"):
        mp5.encode(Packet(EVENT, "/", ["e", object()]))
    with pytest.raises(ValueError, match="naive"):
        mp5.encode(Packet(EVENT, "/", ["e", datetime.datetime(2020, 1, 1)]))


# ---- decoding notepack's extensions -------------------------------------------------------------


def _event(payload_hex):
    # {type: 2, nsp: "/", data: ["e", <payload>]}
    return bytes.fromhex("83a474797065 02 a36e7370 a12f a464617461 92 a165" + payload_hex)


@pytest.mark.parametrize(
    ("payload_hex", "expected"),
    [
        ("d40000", None),  # undefined
        ("c7010000", b"\x00"),  # a 1-byte ArrayBuffer, same payload as undefined
        (
            "d7000000018bcfe56800",
            datetime.datetime(2023, 11, 14, 22, 13, 20, tzinfo=datetime.timezone.utc),
        ),
        ("c708000000018bcfe56800", bytes.fromhex("0000018bcfe56800")),  # 8-byte ArrayBuffer
        ("c7020501ff", [5, b"\x01\xff"]),
        ("d50001ff", [0, b"\x01\xff"]),
        ("81a161d40000", {"a": None}),
        ("92d40000c7010000", [None, b"\x00"]),
    ],
)
def test_msgpack_extensions_decode_as_notepack_does(msgpack_impl, payload_hex, expected):
    raw = _event(payload_hex.replace(" ", ""))
    obj = msgpack_impl.unpack(raw)
    packet = msgpack_impl.map_to_packet(obj, 5, msgpack_impl.FLAVOUR_MSGPACK, raw)
    assert packet.data == ["e", expected]


def test_undefined_at_the_top_level_is_absent(msgpack_impl):
    # notepack writes a key whose value is undefined: {type: 1, nsp: "/", data: undefined}
    raw = bytes.fromhex("83a474797065 01 a36e7370 a12f a464617461 d40000".replace(" ", ""))
    obj = msgpack_impl.unpack(raw)
    packet = msgpack_impl.map_to_packet(obj, 5, msgpack_impl.FLAVOUR_MSGPACK, raw)
    assert packet == Packet(DISCONNECT, "/")


# ---- decoding bounds ------------------------------------------------------------------------------


def _deep(levels):
    value = []
    for _ in range(levels):
        value = [value]
    return value


def test_nesting_depth_is_bounded(msgpack_impl, mp5):
    limit = msgpack_impl.MAX_DEPTH
    ok = msgpack.packb({"type": 2, "nsp": "/", "data": ["e", _deep(limit - 3)]})
    assert feed1(mp5, ok).data[0] == "e"
    deep = msgpack.packb({"type": 2, "nsp": "/", "data": ["e", _deep(limit - 2)]})
    with pytest.raises(ProtocolError, match="nested deeper"):
        msgpack_impl.unpack(deep)
    with pytest.raises(ProtocolError, match="nested deeper"):
        msgpack_impl.unpack(b"\x91" * 100_000 + b"\xc0")
    with pytest.raises(ValueError, match="nested deeper"):
        mp5.encode(Packet(EVENT, "/", ["e", _deep(limit - 2)]))
    assert mp5.encode(Packet(EVENT, "/", ["e", _deep(limit - 3)]))


@pytest.mark.parametrize("parser_name", ["json"])
def test_json_nesting_depth_is_bounded(accel_mode, parser_name):
    parser = get(parser_name, 5)
    limit = _accel.load("msgpack").MAX_DEPTH
    ok = '{"type":2,"nsp":"/","data":["e",' + "[" * (limit - 2) + "]" * (limit - 2) + "]}"
    assert feed1(parser, ok).data[0] == "e"
    deep = '{"type":2,"nsp":"/","data":["e",' + "[" * (limit - 1) + "]" * (limit - 1) + "]}"
    with pytest.raises(ProtocolError, match="nested deeper"):
        parser.decoder().feed(deep)
    with pytest.raises(ProtocolError):
        parser.decoder().feed("[" * 100_000 + "]" * 100_000)


@pytest.mark.parametrize(
    "raw",
    [
        b"\x85",  # map of 5 with nothing after
        b"\xdf\xff\xff\xff\xff",  # a map that claims 4 billion entries
        b"\xdd\x00\x01\x00\x00\xc0",  # an array that claims 65536 items, holds one
        b"\xdb\xff\xff\xff\xff" + b"a" * 10,  # str 32 longer than the message
        b"\xc6\x7f\xff\xff\xff",  # bin 32 likewise
        b"\xc9\x00\x00\x00\x10\x00",  # ext 32 likewise
        b"\xc6\x80\x00\x00\x00",  # a length with the top bit set (no sign overflow)
        b"\xdd\x80\x00\x00\x00\xc0",
        b"\xc1",  # never used
        b"\x80\xc0",  # trailing bytes
        b"\xa2\xff\xfe",  # invalid UTF-8 in a str
        b"\x81\x01\x02",  # a map key that is not a string
        b"\xd7\x00" + b"\x7f" * 8,  # a Date out of Python's range
    ],
)
def test_malformed_msgpack_is_a_protocol_error(msgpack_impl, mp5, raw):
    with pytest.raises(ProtocolError) as info:
        mp5.decoder().feed(raw)
    assert info.value.data == raw[:200]
    with pytest.raises(ProtocolError):
        msgpack_impl.unpack(raw)


def test_protocol_error_data_is_truncated(mp5):
    raw = b"\xc1" + b"\x00" * 10_000
    with pytest.raises(ProtocolError) as info:
        mp5.decoder().feed(raw)
    assert len(info.value.data) == 200


def test_scan_records_type0_extension_headers(msgpack_impl):
    raw = bytes.fromhex("94 d40000 c7010000 d7000000000000000000 c800010001".replace(" ", ""))
    assert msgpack_impl.scan(raw) == [0, 2, 1, 2]


def test_depth_bound_is_the_same_in_both_twins(accel_mode):
    # the compiled twin's reader counts the depth itself: it must stop exactly where scan() does
    impl = _accel.load("msgpack")
    for levels in range(impl.MAX_DEPTH - 3, impl.MAX_DEPTH + 3):
        for leaf in ([], [1]):
            value = leaf
            for _ in range(levels):
                value = [value]
            raw = msgpack.packb(value)
            try:
                impl.scan(raw)
            except ProtocolError:
                with pytest.raises(ProtocolError, match="nested deeper"):
                    impl.unpack(raw)
            else:
                assert impl.unpack(raw) == value


def test_announced_sizes_allocate_nothing_ahead(accel_mode):
    # a hundred nested arrays, each announcing 4 billion items, in 500 bytes: refused at once,
    # nothing sized from the announcements
    impl = _accel.load("msgpack")
    for header in (b"\xdd\xff\xff\xff\xff", b"\xdf\xff\xff\xff\xff", b"\xdc\xff\xff"):
        with pytest.raises(ProtocolError):
            impl.unpack(header * 99 + b"\xc0")
