"""Property tests of the three parsers: random packets round-trip, and the compiled and
pure-Python hot modules agree byte for byte on what they write and on what they read."""

from __future__ import annotations

import importlib.util

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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

PARSERS = ["json", "msgpack"]
if importlib.util.find_spec("sioclient.parsers.default") is not None:
    PARSERS.append("default")

SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

# ints inside the 64-bit range msgpack holds; floats that survive every format unchanged
# (whole floats come back as ints, which compare equal, or beyond 2**53 as ints of the same
# double value)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
keys = st.text(max_size=8)


def json_values(leaves):
    return st.recursive(
        leaves,
        lambda inner: st.lists(inner, max_size=5) | st.dictionaries(keys, inner, max_size=5),
        max_leaves=20,
    )


plain_data = json_values(scalars)
binary_data = json_values(scalars | st.binary(max_size=40))
# ',' ends a namespace in the default format and '?' starts its query
nsp_chars = st.characters(blacklist_characters=",?", blacklist_categories=("Cs",))
namespaces = st.sampled_from(["/", "/chat", "/ünï"]) | st.text(nsp_chars, min_size=1).map(
    lambda s: "/" + s
)
# names a socket may not emit (socket.io-parser 4.x refuses to decode them)
RESERVED = {
    "connect",
    "connect_error",
    "disconnect",
    "disconnecting",
    "newListener",
    "removeListener",
}
event_names = st.text(min_size=1).filter(lambda name: name not in RESERVED)
ack_ids = st.none() | st.integers(min_value=0, max_value=2**31 - 1)


@st.composite
def packets(draw, protocol: int, parser: str):
    with_bytes = parser != "json"
    data = binary_data if with_bytes else plain_data
    types = [CONNECT, DISCONNECT, EVENT, ACK, CONNECT_ERROR]
    if protocol == 4 and parser != "default":
        types += [BINARY_EVENT, BINARY_ACK]
    ptype = draw(st.sampled_from(types))
    nsp = draw(namespaces)
    if ptype == CONNECT:
        payload = None if protocol == 4 else draw(st.none() | st.dictionaries(keys, plain_data))
        return Packet(CONNECT, nsp, payload)
    if ptype == DISCONNECT:
        return Packet(DISCONNECT, nsp)
    if ptype == CONNECT_ERROR:
        if protocol == 4:
            return Packet(CONNECT_ERROR, nsp, draw(st.text()))
        message = st.fixed_dictionaries({"message": st.text()}, optional={"data": plain_data})
        if parser == "msgpack":
            message = message | st.text()
        return Packet(CONNECT_ERROR, nsp, draw(message))
    args = draw(st.lists(data, max_size=4))
    if ptype in (EVENT, BINARY_EVENT):
        args = [draw(event_names)] + args
    return Packet(ptype, nsp, args, draw(ack_ids))


def expected_type(parser: str, protocol: int, packet: Packet) -> int:
    if parser == "default":
        # the default parser sends (and reports) data with bytes as BINARY_*
        if packet.type in (EVENT, ACK) and _has_bytes(packet.data):
            return BINARY_EVENT if packet.type == EVENT else BINARY_ACK
        return packet.type
    if protocol == 5:
        return {BINARY_EVENT: EVENT, BINARY_ACK: ACK}.get(packet.type, packet.type)
    return packet.type


def _has_bytes(value) -> bool:
    if isinstance(value, bytes):
        return True
    if isinstance(value, list):
        return any(_has_bytes(v) for v in value)
    if isinstance(value, dict):
        return any(_has_bytes(v) for v in value.values())
    return False


def make_parser(name: str, protocol: int, mode: str):
    """A parser bound to the compiled or the pure-Python hot modules."""
    mods = {}
    for hot in _accel.HOT_MODULES:
        mod = _accel.pure(hot) if mode == "pure" else _accel.compiled(hot)
        if mod is None:
            pytest.fail(f"compiled module sioclient.core._{hot}_c is not built")
        mods[hot] = mod
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_accel, "_loaded", mods)
        return get(name, protocol)


def decode_all(parser, messages):
    decoder = parser.decoder()
    out = []
    for message in messages:
        out.extend(decoder.feed(message))
    return out


def _as_doubles(value):
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 2**53:
        return float(value)
    if isinstance(value, float) and value.is_integer() and abs(value) >= 2**53:
        return value
    if isinstance(value, (list, tuple)):
        return [_as_doubles(v) for v in value]
    if isinstance(value, dict):
        return {k: _as_doubles(v) for k, v in value.items()}
    return value


@pytest.mark.parametrize("protocol", [4, 5])
@pytest.mark.parametrize("name", PARSERS)
def test_round_trip(accel_mode, name, protocol):
    parser = get(name, protocol)

    @SETTINGS
    @given(packets(protocol, name))
    def check(packet):
        decoded = decode_all(parser, parser.encode(packet))
        expected = Packet(expected_type(name, protocol, packet), packet.nsp, packet.data, packet.id)
        if decoded != [expected]:
            # a whole float beyond 2**53 goes out in JavaScript's digits (shortest, then
            # zeros) and comes back as an int of the same double value
            (got,) = decoded
            assert (got.type, got.nsp, got.id) == (expected.type, expected.nsp, expected.id)
            assert _as_doubles(got.data) == _as_doubles(expected.data)

    check()


@pytest.mark.parametrize("protocol", [4, 5])
@pytest.mark.parametrize("name", PARSERS)
def test_compiled_and_pure_agree(name, protocol):
    if _accel.NO_EXTENSIONS:
        pytest.skip("SIOCLIENT_NO_EXTENSIONS=1: compiled modules disabled on purpose")
    compiled = make_parser(name, protocol, "compiled")
    pure = make_parser(name, protocol, "pure")

    @SETTINGS
    @given(packets(protocol, name))
    def check(packet):
        written = compiled.encode(packet)
        assert pure.encode(packet) == written
        assert decode_all(compiled, written) == decode_all(pure, written)

    check()


@pytest.mark.parametrize("protocol", [4, 5])
def test_msgpack_mapping_agrees_on_arbitrary_bytes(protocol):
    # any input: both implementations return the same packet or raise the same error
    if _accel.NO_EXTENSIONS:
        pytest.skip("SIOCLIENT_NO_EXTENSIONS=1: compiled modules disabled on purpose")
    compiled = make_parser("msgpack", protocol, "compiled")
    pure = make_parser("msgpack", protocol, "pure")

    def outcome(parser, raw):
        try:
            return decode_all(parser, [raw])
        except Exception as exc:  # noqa: BLE001 - compared, not swallowed
            return (type(exc).__name__, str(exc))

    @SETTINGS
    @given(st.binary(max_size=64))
    def check(raw):
        result = outcome(compiled, raw)
        assert result == outcome(pure, raw)
        if isinstance(result, tuple):
            assert result[0] == "ProtocolError"

    check()


# the entries of a packet map as a peer may write them: the four keys in any order, twice, or
# missing, as str or bin, beside keys of its own, with values of the right type or not
packet_keys = st.sampled_from(["type", "data", "id", "nsp", "extra", "typ", "ü"]) | st.sampled_from(
    [b"type", b"nsp", 2, None]
)
packet_values = (
    st.sampled_from([CONNECT, DISCONNECT, EVENT, ACK, CONNECT_ERROR, BINARY_EVENT, BINARY_ACK])
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.sampled_from([2.0, 3.5, True, None, "/", "/admin", "", [], ["e"], {"a": 1}])
    | st.lists(st.none() | st.integers(-(2**40), 2**40) | st.text(max_size=5), max_size=4)
    | st.lists(st.binary(max_size=5), max_size=2)
)


@pytest.mark.parametrize("protocol", [4, 5])
def test_msgpack_packet_reader_agrees_with_the_general_way(protocol):
    # the compiled twin reads the common packet map straight into a Packet: the same packet
    # as the pure twin's unpackb and mapping, or the same error
    if _accel.NO_EXTENSIONS:
        pytest.skip("SIOCLIENT_NO_EXTENSIONS=1: compiled modules disabled on purpose")
    import msgpack

    compiled = make_parser("msgpack", protocol, "compiled")
    pure = make_parser("msgpack", protocol, "pure")

    def outcome(parser, raw):
        try:
            (packet,) = decode_all(parser, [raw])
        except Exception as exc:  # noqa: BLE001 - compared, not swallowed
            return (type(exc).__name__, str(exc))
        fields = (packet.type, packet.nsp, packet.data, packet.id, packet.attachments)
        return repr(fields), [type(f) for f in fields]

    @SETTINGS
    @given(
        st.lists(st.tuples(packet_keys, packet_values), max_size=6),
        st.sampled_from(["type", "data", "nsp"]),
        st.integers(min_value=0, max_value=80),
    )
    def check(entries, first, cut):
        # mostly well-formed: a valid event first, then what may override or spoil it
        entries = [("type", EVENT), ("data", ["e", 1]), ("nsp", "/"), *entries]
        entries.sort(key=lambda e: e[0] != first)
        raw = bytes([0x80 | len(entries)]) + b"".join(
            msgpack.packb(key, use_bin_type=True) + msgpack.packb(value, use_bin_type=True)
            for key, value in entries
        )
        assert outcome(compiled, raw) == outcome(pure, raw)
        assert outcome(compiled, raw[:cut]) == outcome(pure, raw[:cut])
        assert outcome(compiled, raw + b"\x00") == outcome(pure, raw + b"\x00")

    check()


# msgpack values as any writer may send them: every width of int and float, str and bin keys,
# keys msgpack refuses (ints, nil), and strings that are not UTF-8 spliced in
msgpack_keys = st.text(max_size=40) | st.binary(max_size=8) | st.integers(-5, 5) | st.none()
msgpack_leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, width=32)
    | st.floats(allow_nan=False)
    | st.text(max_size=300)
    | st.binary(max_size=300)
)
msgpack_values = st.recursive(
    msgpack_leaves,
    lambda inner: st.lists(inner, max_size=20) | st.dictionaries(msgpack_keys, inner, max_size=20),
    max_leaves=60,
)


def test_msgpack_reader_agrees_with_unpackb():
    # the compiled twin reads extension-free messages itself: the same objects as the pure
    # twin (msgpack's unpackb), or the same error
    if _accel.NO_EXTENSIONS:
        pytest.skip("SIOCLIENT_NO_EXTENSIONS=1: compiled modules disabled on purpose")
    import msgpack

    compiled = _accel.compiled("msgpack")
    pure = _accel.pure("msgpack")

    def outcome(impl, raw):
        try:
            value = impl.unpack(raw)
        except Exception as exc:  # noqa: BLE001 - compared, not swallowed
            return (type(exc).__name__, str(exc))
        return (repr(value), [type(k) for k in value] if isinstance(value, dict) else None)

    @SETTINGS
    @given(msgpack_values, st.integers(min_value=0, max_value=400))
    def check(value, cut):
        try:  # float 32 as well when every float of the value fits in one
            raw = msgpack.packb(value, use_bin_type=True, use_single_float=True)
        except OverflowError:
            raw = msgpack.packb(value, use_bin_type=True)
        assert outcome(compiled, raw) == outcome(pure, raw)
        # a message cut short, or with a byte that is not UTF-8 where a string was
        if cut < len(raw):
            assert outcome(compiled, raw[:cut]) == outcome(pure, raw[:cut])
            spliced = raw[:cut] + b"\xff" + raw[cut + 1 :]
            assert outcome(compiled, spliced) == outcome(pure, spliced)

    check()


# what emit may be given: tuples, bytearrays, index-like and non-str keys, whole floats, ints
# beyond 64 bits, lone surrogates
emit_keys = (
    st.text(max_size=6) | st.sampled_from(["0", "1", "10", "01", "4294967294"]) | st.integers(-3, 3)
)
emit_leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**65), max_value=2**65)
    | st.floats()
    | st.text(max_size=40)
    | st.binary(max_size=40)
    | st.binary(max_size=8).map(bytearray)
)
emit_values = st.recursive(
    emit_leaves,
    lambda inner: (
        st.lists(inner, max_size=6)
        | st.lists(inner, max_size=4).map(tuple)
        | st.dictionaries(emit_keys, inner, max_size=6)
    ),
    max_leaves=30,
)


@pytest.mark.parametrize("protocol", [4, 5])
def test_msgpack_writer_agrees_with_the_general_path(protocol):
    # the compiled twin writes most packets in one pass: the same bytes as the pure twin's
    # normalisation and Packer, or the same error
    if _accel.NO_EXTENSIONS:
        pytest.skip("SIOCLIENT_NO_EXTENSIONS=1: compiled modules disabled on purpose")
    compiled = make_parser("msgpack", protocol, "compiled")
    pure = make_parser("msgpack", protocol, "pure")

    def outcome(parser, packet):
        try:
            return parser.encode(packet)
        except Exception as exc:  # noqa: BLE001 - compared, not swallowed
            return (type(exc).__name__, str(exc))

    @SETTINGS
    @given(
        emit_values,
        st.sampled_from([EVENT, ACK, BINARY_EVENT, BINARY_ACK]),
        st.none() | st.integers(min_value=0, max_value=2**40),
        st.sampled_from(["/", "/chat", "/ünï"]),
        st.integers(min_value=0, max_value=110),
    )
    def check(value, ptype, pid, nsp, depth):
        data = ["e", value]
        assert outcome(compiled, Packet(ptype, nsp, data, pid)) == outcome(
            pure, Packet(ptype, nsp, data, pid)
        )
        deep: object = value
        for _ in range(depth):
            deep = [deep]
        packet = Packet(EVENT, nsp, ["e", deep], pid)
        assert outcome(compiled, packet) == outcome(pure, packet)

    check()
