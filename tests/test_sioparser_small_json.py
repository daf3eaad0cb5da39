"""The compiled parser writes and reads the JSON of small packets by hand
(``_speedups/_jsonfast.h``) and leaves everything else to orjson.  These tests aim at the
edges of what it handles (integer lengths, escapes, whitespace, nesting, the buffer size) and
check that the compiled module gives, byte for byte and value for value, what the pure twin
gives, and refuses what it refuses."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sioclient import ProtocolError
from sioclient.core import _accel
from sioclient.core.packet import ACK, EVENT, Packet

PURE = _accel.pure("sioparser")
COMPILED = None if _accel.NO_EXTENSIONS else _accel.compiled("sioparser")

pytestmark = pytest.mark.skipif(COMPILED is None, reason="compiled module not built")

SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# integers on both sides of 18 digits and of the 64-bit range
edge_ints = st.sampled_from(
    [0, 1, -1, 10**17, 10**18 - 1, 10**18, -(10**18) + 1, -(10**18), 2**63 - 1, -(2**63), 2**63]
    + [2**64 - 1, 2**64, -(2**63) - 1]
)
# printable ASCII, the characters JSON escapes, DEL, and a little beyond ASCII
short_text = st.text(
    st.sampled_from(list("ab /,:{}[]0e.") + ['"', "\\", "\x00", "\x1f", "\x7f", "\xe9", "\u2028"]),
    max_size=8,
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | edge_ints
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.just(1.0)
    | short_text
    | st.binary(max_size=3)
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(short_text | st.integers(0, 3), inner, max_size=4)
    ),
    max_leaves=16,
)
namespaces = st.sampled_from(["/", "/admin", "/a,b", "/\xe9", None, 5])
ack_ids = st.sampled_from([None, 0, 42, 2**53, 2**63, 2**64, -1, True, 1.0])


def _encode(mod, packet):
    try:
        return mod.encode(packet, 5)
    except (TypeError, ValueError) as exc:
        return type(exc).__name__


@SETTINGS
@given(st.sampled_from((EVENT, ACK)), namespaces, ack_ids, st.lists(values, max_size=4))
def test_encoding_agrees(ptype, nsp, pid, items):
    data = ["ev", *items] if ptype == EVENT else items
    packet = Packet(ptype, nsp, data, pid)
    assert _encode(COMPILED, packet) == _encode(PURE, packet)


def _nested(depth, leaf):
    for _ in range(depth):
        leaf = [leaf] if depth % 2 else {"k": leaf}
    return leaf


@pytest.mark.parametrize("depth", [30, 31, 32, 33, 40])
def test_nesting_around_the_bound_agrees(depth):
    for leaf in (1, "x", 1.5, b"x"):
        packet = Packet(EVENT, "/", ["ev", _nested(depth, leaf)], 7)
        messages = COMPILED.encode(packet, 5)
        assert messages == PURE.encode(packet, 5)
        assert _decoded(COMPILED, messages[0]) == _decoded(PURE, messages[0])


@pytest.mark.parametrize("size", [900, 1000, 1020, 1030, 2040, 2050, 2100, 5000])
def test_data_around_the_buffer_size_agrees(size):
    packet = Packet(EVENT, "/admin", ["ev", "x" * size], 12345)
    messages = COMPILED.encode(packet, 5)
    assert messages == PURE.encode(packet, 5)
    assert _decoded(COMPILED, messages[0]) == _decoded(PURE, messages[0])


@pytest.mark.parametrize("count", [63, 64, 65, 1000])
def test_containers_around_the_item_bound_agree(count):
    for data in (list(range(count)), {f"k{i}": i for i in range(count)}):
        packet = Packet(EVENT, "/", ["ev", data])
        messages = COMPILED.encode(packet, 5)
        assert messages == PURE.encode(packet, 5)
        assert _decoded(COMPILED, messages[0]) == _decoded(PURE, messages[0])


def _decoded(mod, text):
    try:
        packet = mod.decode_text(text, 4)
    except ProtocolError as exc:
        return ("error", exc.args)
    return (packet.type, packet.nsp, packet.id, repr(packet.data))


# the pieces of the texts below, "|" between them
JSON_PIECES = st.sampled_from(
    (
        '[|]|{|}|,|:| |\n|\t|\r|"|"a"|"k"|"\\n"|"\\u00e9"|"\x01"|"\xe9"|0|-0|01|-|1|12|1.5|1e3|1E3|'
        "1.0|123456789012345678|1234567890123456789|-123456789012345678|9223372036854775807|"
        "18446744073709551616|true|false|null|tru|nul|NaN|Infinity|x"
    ).split("|")
)


@SETTINGS
@given(st.lists(JSON_PIECES, max_size=24).map("".join), st.sampled_from(["2", "3", "3/a,7"]))
def test_reading_arbitrary_json_agrees(body, head):
    text = head + body
    assert _decoded(COMPILED, text) == _decoded(PURE, text)


@SETTINGS
@given(values)
def test_reading_what_json_writes_agrees(value):
    try:
        body = json.dumps(["ev", value], ensure_ascii=True)
    except (TypeError, ValueError):
        return
    for text in ("2" + body, "2/x,1" + body.replace(",", ", ")):
        assert _decoded(COMPILED, text) == _decoded(PURE, text)


def test_repeated_keys_and_many_keys():
    # the last value of a repeated key wins, at the first key's place (as orjson and json do)
    text = '2["ev",{"a":1,"b":2,"a":3}]'
    assert COMPILED.decode_text(text, 5).data == ["ev", {"a": 3, "b": 2}]
    assert list(COMPILED.decode_text(text, 5).data[1]) == ["a", "b"]
    # more keys than the key cache holds, read twice: every key read back as written
    keys = [f"k{i}" for i in range(1000)] + ["x" * n for n in range(40)]
    body = json.dumps(["ev", {k: i for i, k in enumerate(keys)}], separators=(",", ":"))
    for _ in range(2):
        got = COMPILED.decode_text("2" + body, 5).data
        assert got == PURE.decode_text("2" + body, 5).data
        assert list(got[1]) == keys


def test_malformed_json_is_a_protocol_error_with_the_message():
    for text in ('2["ev",01]', '2["ev",]', '2["ev"', '2["ev" x', '2["ev",tru]', '2["ev","\x01"]'):
        with pytest.raises(ProtocolError) as info:
            COMPILED.decode_text(text, 5)
        assert str(info.value) == _error_text(PURE, text)


def _error_text(mod, text):
    with pytest.raises(ProtocolError) as info:
        mod.decode_text(text, 5)
    return str(info.value)


def test_namespaces_read_back_as_written():
    # namespaces are kept in the cache of recent strings: many of them, of every length, one
    # beyond ASCII, and a message that ends inside its namespace
    names = [f"/n{i}" for i in range(600)] + ["/" + "x" * n for n in range(40)] + ["/\xe9", "/"]
    for _ in range(2):
        for name in names:
            for text in (f'2{name},["ev"]', f"3{name},5[]", f"2{name}"):
                assert _decoded(COMPILED, text) == _decoded(PURE, text)
            assert COMPILED.decode_text(f'2{name},["ev"]', 5).nsp == name


class _Bytes(bytes):
    pass


@pytest.mark.parametrize("ptype", [EVENT, ACK])
def test_attachments_agree(ptype):
    # placeholders past the 32 kept as orjson fragments; buffers of every kind in one packet
    many = [[bytes([i])] * 2 for i in range(40)]
    for data in (
        ["up", b"", {"a": b"x", "b": [b"y", {"c": b"z"}]}, b"w"],
        ["up", *many],
        ["up", b"x", bytearray(b"y"), memoryview(b"z"), _Bytes(b"s")],
        ["up", b"x", 1.5],
        ["up", {"k": b"x"}, "\xe9"],
    ):
        for nsp, pid in (("/", None), ("/admin", 42)):
            packet = Packet(ptype, nsp, data, pid)
            messages = COMPILED.encode(packet, 5)
            assert messages == PURE.encode(packet, 5)
            assert [type(m) for m in messages] == [type(m) for m in PURE.encode(packet, 5)]
