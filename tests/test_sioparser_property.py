"""Properties of the socket.io-parser format: round trips, and the compiled module and its pure
twin agreeing byte for byte (on encoding, on decoded packets and on which inputs they refuse)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sioclient import ProtocolError
from sioclient.core import _accel
from sioclient.core.packet import (
    ACK,
    BINARY_EVENT,
    CONNECT,
    CONNECT_ERROR,
    DISCONNECT,
    EVENT,
    Packet,
)

PURE = _accel.pure("sioparser")
COMPILED = None if _accel.NO_EXTENSIONS else _accel.compiled("sioparser")

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    # whole floats, written as JavaScript writes them (1.0 as 1): the rewriting paths
    | st.integers(min_value=-(2**53), max_value=2**53).map(float)
    | st.sampled_from([1e16, -(2.0**60), 1e20, 2.0**70, 1e21, 1.5e-6, -9.99e-6, 1e-7])
    | st.text(max_size=20)
    | st.sampled_from(["\ud800", "a\udfffb", "\u2028/\u00e9"])  # lone surrogates: the slow paths
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
binary_values = st.recursive(
    scalars | st.binary(max_size=16),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
namespaces = st.just("/") | st.text(max_size=10).filter(lambda s: "," not in s).map(
    lambda s: "/" + s
)
ack_ids = st.none() | st.integers(min_value=0, max_value=2**53)
event_names = st.text(max_size=12).filter(lambda s: s not in PURE.RESERVED_EVENTS) | st.integers(
    min_value=-(2**31), max_value=2**31
)


@st.composite
def packets(draw):
    protocol = draw(st.sampled_from((4, 5)))
    ptype = draw(st.sampled_from((CONNECT, DISCONNECT, EVENT, ACK, CONNECT_ERROR)))
    nsp = draw(namespaces)
    pid = None
    if ptype == CONNECT:
        data = (
            None
            if protocol == 4
            else draw(st.none() | st.dictionaries(st.text(max_size=8), json_values, max_size=4))
        )
    elif ptype == DISCONNECT:
        data = None
    elif ptype == CONNECT_ERROR:
        data = draw(
            st.text(max_size=20) | st.dictionaries(st.text(max_size=8), json_values, max_size=3)
        )
    elif ptype == EVENT:
        data = [draw(event_names)] + draw(st.lists(binary_values, max_size=4))
        pid = draw(ack_ids)
    else:
        data = draw(st.lists(binary_values, max_size=4))
        pid = draw(ack_ids)
    return protocol, Packet(ptype, nsp, data, pid)


def _has_bytes(data):
    if isinstance(data, bytes):
        return True
    if isinstance(data, list):
        return any(_has_bytes(x) for x in data)
    if isinstance(data, dict):
        return any(_has_bytes(x) for x in data.values())
    return False


def _decode(mod, protocol, messages):
    decoder = mod.Decoder(protocol)
    out = []
    for message in messages:
        out.extend(decoder.feed(message))
    return out


def _same_number_values(got, sent):
    """``got`` is ``sent`` as JavaScript reads it back: a whole float went out as an integer
    (its shortest digits, then zeros beyond 2**53) and comes back as an int of the same
    double value."""
    if isinstance(sent, float) and isinstance(got, int) and not isinstance(got, bool):
        return sent.is_integer() and float(got) == sent
    if isinstance(sent, (list, tuple)) and isinstance(got, list):
        return len(got) == len(sent) and all(map(_same_number_values, got, sent))
    if isinstance(sent, dict) and isinstance(got, dict):
        return list(got) == [str(k) for k in sent] and all(
            _same_number_values(g, s) for g, s in zip(got.values(), sent.values())
        )
    return got == sent


def _same_packets(a, b):
    return [(p.type, p.nsp, p.id, p.attachments, repr(p.data)) for p in a] == [
        (p.type, p.nsp, p.id, p.attachments, repr(p.data)) for p in b
    ]


IMPLS = [PURE] + ([COMPILED] if COMPILED is not None else [])


@pytest.mark.parametrize("mod", IMPLS, ids=lambda m: m.__name__.rsplit("_", 1)[-1])
@SETTINGS
@given(packets())
def test_round_trip(mod, case):
    protocol, packet = case
    messages = mod.encode(packet, protocol)
    decoded = _decode(mod, protocol, messages)
    assert len(decoded) == 1
    got = decoded[0]
    binary = _has_bytes(packet.data)
    assert got.type == (packet.type + 3 if binary else packet.type)
    assert got.nsp == packet.nsp and got.id == packet.id
    assert got.attachments == len(messages) - 1
    assert repr(got.data) == repr(packet.data) or _same_number_values(got.data, packet.data)


def test_compiled_module_is_there():
    if _accel.NO_EXTENSIONS:
        pytest.skip("SIOCLIENT_NO_EXTENSIONS=1")
    assert COMPILED is not None


@pytest.mark.skipif(COMPILED is None, reason="compiled module not built")
@SETTINGS
@given(packets())
def test_compiled_and_pure_agree_on_encoding_and_decoding(case):
    protocol, packet = case
    messages = COMPILED.encode(packet, protocol)
    assert messages == PURE.encode(packet, protocol)
    assert [type(m) for m in messages] == [type(m) for m in PURE.encode(packet, protocol)]
    assert _same_packets(_decode(COMPILED, protocol, messages), _decode(PURE, protocol, messages))


WIRE_ALPHABET = st.sampled_from(
    list('0123456789-/,[]{}":_ ntrufalsex') + ['"_placeholder":true', '"num":']
)
wire_texts = st.one_of(
    st.text(max_size=40),
    st.lists(WIRE_ALPHABET, max_size=30).map("".join),
    st.builds(
        lambda t, rest: t + rest,
        st.sampled_from(["0", "1", "2", "3", "4", "5", "6", "51-", "52-", "61-", "5", "6"]),
        st.lists(WIRE_ALPHABET, max_size=30).map("".join),
    ),
)
wire_messages = st.lists(st.one_of(wire_texts, st.binary(max_size=8)), min_size=1, max_size=5)


def _outcome(mod, protocol, messages):
    decoder = mod.Decoder(protocol, max_attachments=3, max_depth=4)
    out = []
    for message in messages:
        try:
            packets = decoder.feed(message)
        except ProtocolError:
            out.append("error")
        else:
            out.append([(p.type, p.nsp, p.id, p.attachments, repr(p.data)) for p in packets])
    return out


@pytest.mark.skipif(COMPILED is None, reason="compiled module not built")
@SETTINGS
@given(st.sampled_from((4, 5)), wire_messages)
def test_compiled_and_pure_agree_on_arbitrary_input(protocol, messages):
    assert _outcome(COMPILED, protocol, messages) == _outcome(PURE, protocol, messages)


@SETTINGS
@given(st.sampled_from((4, 5)), wire_messages)
def test_decoder_raises_nothing_but_protocol_error(protocol, messages):
    _outcome(PURE, protocol, messages)
    if COMPILED is not None:
        _outcome(COMPILED, protocol, messages)


def test_binary_event_type_survives():
    assert PURE.encode(Packet(EVENT, "/", ["a", b"x"]), 5)[0].startswith(str(BINARY_EVENT))
