"""The socket.io-parser format: vectors from socket.io-parser 3.4.x and 4.2.x test suites and
from the socket.io-protocol test suite, run on the compiled module and on its pure twin."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from sioclient import ProtocolError, parsers
from sioclient.core import _accel
from sioclient.core.packet import (
    ACK,
    BINARY_ACK,
    BINARY_EVENT,
    CONNECT,
    CONNECT_ERROR,
    DISCONNECT,
    EVENT,
    Packet,
)

BOTH = (4, 5)
NODE_DIR = os.path.join(os.path.dirname(__file__), "node")


def ph(n):
    return {"_placeholder": True, "num": n}


def PH(n):  # noqa: N802 - the placeholder as written on the wire
    return '{"_placeholder":true,"num":' + str(n) + "}"


def feed_all(decoder, messages):
    out = []
    for message in messages:
        out.extend(decoder.feed(message))
    return out


def roundtrip(mod, packet, protocol):
    messages = mod.encode(packet, protocol)
    decoded = feed_all(mod.Decoder(protocol), messages)
    assert len(decoded) == 1
    return messages, decoded[0]


# --- encoding: socket.io-parser's own vectors ---------------------------------------------------

ENCODE_VECTORS = [
    # (packet, protocols, messages)
    (Packet(CONNECT, "/woot"), BOTH, ["0/woot,"]),
    (Packet(CONNECT, "/"), BOTH, ["0"]),
    (Packet(CONNECT, "/woot", {"token": "123"}), (5,), ['0/woot,{"token":"123"}']),
    (Packet(DISCONNECT, "/woot"), BOTH, ["1/woot,"]),
    (Packet(EVENT, "/", ["a", 1, {}]), BOTH, ['2["a",1,{}]']),
    (Packet(EVENT, "/", [1, "a", {}]), BOTH, ['2[1,"a",{}]']),
    (Packet(EVENT, "/test", ["a", 1, {}], 1), BOTH, ['2/test,1["a",1,{}]']),
    (Packet(ACK, "/", ["a", 1, {}], 123), BOTH, ['3123["a",1,{}]']),
    (Packet(ACK, "/", [], 0), BOTH, ["30[]"]),  # ack id 0 is written
    (Packet(CONNECT_ERROR, "/", "Unauthorized"), BOTH, ['4"Unauthorized"']),
    (
        Packet(CONNECT_ERROR, "/", {"message": "Unauthorized"}),
        BOTH,
        ['4{"message":"Unauthorized"}'],
    ),
    (
        Packet(EVENT, "/cool", ["a", b"abc"], 23),
        BOTH,
        [f'51-/cool,23["a",{PH(0)}]', b"abc"],
    ),
    (
        Packet(EVENT, "/cool", ["a", {"b": ["c", b"abc"]}], 23),
        BOTH,
        [f'51-/cool,23["a",{{"b":["c",{PH(0)}]}}]', b"abc"],
    ),
    (
        Packet(ACK, "/back", ["a", b"xxx", {}], 127),
        BOTH,
        [f'61-/back,127["a",{PH(0)},{{}}]', b"xxx"],
    ),
    (
        Packet(EVENT, "/", ["a", bytearray(2)], 0),
        BOTH,
        [f'51-0["a",{PH(0)}]', b"\x00\x00"],
    ),
    (
        Packet(EVENT, "/", ["a", memoryview(bytes(range(5)))], 0),
        BOTH,
        [f'51-0["a",{PH(0)}]', bytes(range(5))],
    ),
    (
        Packet(
            EVENT,
            "/deep",
            ["a", {"a": "hi", "b": {"why": bytes(3)}, "c": {"a": "bye", "b": {"a": bytes(6)}}}],
            999,
        ),
        BOTH,
        [
            '52-/deep,999["a",{"a":"hi","b":{"why":'
            + PH(0)
            + '},"c":{"a":"bye","b":{"a":'
            + PH(1)
            + "}}}]",
            bytes(3),
            bytes(6),
        ],
    ),
    (
        Packet(EVENT, "/", ["a", {"a": "b", "c": 4, "e": {"g": None}, "h": bytes(9)}], 600),
        BOTH,
        ['51-600["a",{"a":"b","c":4,"e":{"g":null},"h":' + PH(0) + "}]", bytes(9)],
    ),
    # socket.io-protocol test suite
    (
        Packet(EVENT, "/", ["message", 1, "2", {"3": [True]}]),
        BOTH,
        ['2["message",1,"2",{"3":[true]}]'],
    ),
    (
        Packet(EVENT, "/", ["message", b"\x01\x02\x03", b"\x04\x05\x06"]),
        BOTH,
        [f'52-["message",{PH(0)},{PH(1)}]', b"\x01\x02\x03", b"\x04\x05\x06"],
    ),
    (
        Packet(ACK, "/", [b"\x01\x02\x03", b"\x04\x05\x06"], 789),
        BOTH,
        [f"62-789[{PH(0)},{PH(1)}]", b"\x01\x02\x03", b"\x04\x05\x06"],
    ),
    (Packet(ACK, "/", [1, "2", {"3": [False]}], 456), BOTH, ['3456[1,"2",{"3":[false]}]']),
    (
        Packet(EVENT, "/custom", ["auth", {"token": "abc"}]),
        BOTH,
        ['2/custom,["auth",{"token":"abc"}]'],
    ),
    (Packet(EVENT, "/", ("tuple", (1, 2))), BOTH, ['2["tuple",[1,2]]']),
    (Packet(BINARY_EVENT, "/", ["no binary"]), BOTH, ['50-["no binary"]']),
]


@pytest.mark.parametrize("packet, protocols, messages", ENCODE_VECTORS)
def test_encode_vectors(sioparser_impl, packet, protocols, messages):
    for protocol in protocols:
        out = sioparser_impl.encode(packet, protocol)
        assert out == messages
        assert [type(m) for m in out] == [type(m) for m in messages]


@pytest.mark.parametrize("packet, protocols, messages", ENCODE_VECTORS)
def test_vectors_decode_whole_and_one_by_one(sioparser_impl, packet, protocols, messages):
    for protocol in protocols:
        decoder = sioparser_impl.Decoder(protocol)
        for message in messages[:-1]:
            assert decoder.feed(message) == []
            assert decoder.pending
        (decoded,) = decoder.feed(messages[-1])
        assert not decoder.pending
        binary = len(messages) > 1 or packet.type >= BINARY_EVENT
        expected_type = packet.type + 3 if binary and packet.type < BINARY_EVENT else packet.type
        assert decoded.type == expected_type  # binary packets keep their wire type
        assert decoded.nsp == packet.nsp
        assert decoded.id == packet.id
        assert decoded.attachments == len(messages) - 1
        expected = json.loads(json.dumps(packet.data, default=lambda b: bytes(b).hex()))
        got = json.loads(json.dumps(decoded.data, default=lambda b: bytes(b).hex()))
        assert got == expected


def test_encode_does_not_modify_the_packet(sioparser_impl):
    data = ["a", bytearray(b"\x01\x02"), {"k": [b"\x03"]}]
    packet = Packet(EVENT, "/", data)
    sioparser_impl.encode(packet, 5)
    assert packet.type == EVENT
    assert packet.data == ["a", bytearray(b"\x01\x02"), {"k": [b"\x03"]}]


def test_encoder_class_matches_function(sioparser_impl):
    packet = Packet(EVENT, "/x", ["e", b"1", {"n": b"22"}], 7)
    for protocol in BOTH:
        encoder = sioparser_impl.Encoder(protocol)
        assert encoder.encode(packet) == sioparser_impl.encode(packet, protocol)
        assert encoder.encode(Packet(EVENT, "/", ["plain"])) == ['2["plain"]']  # hook reset


@pytest.mark.parametrize(
    "packet, protocol",
    [
        (Packet(7, "/"), 5),
        (Packet(-1, "/"), 5),
        (Packet("2", "/"), 5),
        (Packet(EVENT, "/", ["a"], -1), 5),
        (Packet(EVENT, "/", ["a"], True), 5),
        (Packet(EVENT, "/", ["a"], "1"), 5),
        (Packet(EVENT, "/a,b", ["a"]), 5),
        (Packet(EVENT, b"/a", ["a"]), 5),
        (Packet(CONNECT, "/", {"token": "x"}), 4),  # no auth payload in socket.io 2.x
    ],
)
def test_encode_refuses_unwritable_packets(sioparser_impl, packet, protocol):
    with pytest.raises(ValueError):
        sioparser_impl.encode(packet, protocol)


@pytest.mark.parametrize("data", [["a", object()], ["a", {1, 2}]])
def test_encode_refuses_unjsonable_data(sioparser_impl, data):
    with pytest.raises(TypeError):
        sioparser_impl.encode(Packet(EVENT, "/", data), 5)


def test_encode_big_ints_and_nan(sioparser_impl):
    out = sioparser_impl.encode(Packet(EVENT, "/", ["n", 2**70, float("nan"), b"x"]), 5)
    assert out == [f'51-["n",{2**70},null,{PH(0)}]', b"x"]


# --- decoding: the protocol test suite and the README examples ----------------------------------

DECODE_VECTORS = [
    # (text, protocols, type, nsp, id, data)
    ('0{"token":"123"}', (5,), CONNECT, "/", None, {"token": "123"}),
    ("0/custom,", BOTH, CONNECT, "/custom", None, None),
    ('0/custom,{"token":"abc"}', (5,), CONNECT, "/custom", None, {"token": "abc"}),
    (
        '0/admin,{"sid":"oSO0OpakMV_3jnilAAAA"}',
        (5,),
        CONNECT,
        "/admin",
        None,
        {"sid": "oSO0OpakMV_3jnilAAAA"},
    ),
    ("0/random", BOTH, CONNECT, "/random", None, None),  # no trailing comma
    ("0/admin?token=1,", BOTH, CONNECT, "/admin?token=1", None, None),
    ("0", BOTH, CONNECT, "/", None, None),
    ("1", BOTH, DISCONNECT, "/", None, None),
    ("1/admin,", BOTH, DISCONNECT, "/admin", None, None),
    (
        '4/random,{"message":"Invalid namespace"}',
        BOTH,
        CONNECT_ERROR,
        "/random",
        None,
        {"message": "Invalid namespace"},
    ),
    (
        '4{"message":"Not authorized","data":{"x":1}}',
        BOTH,
        CONNECT_ERROR,
        "/",
        None,
        {"message": "Not authorized", "data": {"x": 1}},
    ),
    ('4"Unauthorized"', BOTH, CONNECT_ERROR, "/", None, "Unauthorized"),
    ('2["foo"]', BOTH, EVENT, "/", None, ["foo"]),
    ('2[1,"a",{}]', BOTH, EVENT, "/", None, [1, "a", {}]),
    ('2/admin,["bar"]', BOTH, EVENT, "/admin", None, ["bar"]),
    ('212["foo"]', BOTH, EVENT, "/", 12, ["foo"]),
    ('3/admin,13["bar"]', BOTH, ACK, "/admin", 13, ["bar"]),
    (
        '2456["message-with-ack",1,"2",{"3":[false]}]',
        BOTH,
        EVENT,
        "/",
        456,
        ["message-with-ack", 1, "2", {"3": [False]}],
    ),
    ("3/admin,13", BOTH, ACK, "/admin", 13, None),
    ('2/admin,0123["x"]', BOTH, EVENT, "/admin", 123, ["x"]),
    ('2["é ✓ 😀"]', BOTH, EVENT, "/", None, ["é ✓ 😀"]),
    # accepted by socket.io-parser 3.x only
    ("0[]", (4,), CONNECT, "/", None, []),
    ("0null", (4,), CONNECT, "/", None, None),
    ('2["connect"]', (4,), EVENT, "/", None, ["connect"]),
    ('2["disconnect","123"]', (4,), EVENT, "/", None, ["disconnect", "123"]),
    ('4["x"]', (4,), CONNECT_ERROR, "/", None, ["x"]),
]


@pytest.mark.parametrize("text, protocols, ptype, nsp, pid, data", DECODE_VECTORS)
def test_decode_vectors(sioparser_impl, text, protocols, ptype, nsp, pid, data):
    for protocol in protocols:
        (packet,) = sioparser_impl.Decoder(protocol).feed(text)
        assert (packet.type, packet.nsp, packet.id, packet.data) == (ptype, nsp, pid, data)
        assert type(packet.id) in (int, type(None))
        assert packet == Packet(ptype, nsp, data, pid)


BINARY_VECTORS = [
    # socket.io-protocol test suite
    (
        [f'52-["message",{PH(0)},{PH(1)}]', b"\x01\x02\x03", b"\x04\x05\x06"],
        BINARY_EVENT,
        "/",
        None,
        ["message", b"\x01\x02\x03", b"\x04\x05\x06"],
    ),
    (
        [f'52-789["message-with-ack",{PH(0)},{PH(1)}]', b"\x01\x02\x03", b"\x04\x05\x06"],
        BINARY_EVENT,
        "/",
        789,
        ["message-with-ack", b"\x01\x02\x03", b"\x04\x05\x06"],
    ),
    (
        [f"62-789[{PH(0)},{PH(1)}]", b"\x01\x02\x03", b"\x04\x05\x06"],
        BINARY_ACK,
        "/",
        789,
        [b"\x01\x02\x03", b"\x04\x05\x06"],
    ),
    # socket.io-protocol README
    ([f'51-["baz",{PH(0)}]', b"\x01"], BINARY_EVENT, "/", None, ["baz", b"\x01"]),
    (
        [f'52-/admin,["baz",{PH(0)},{PH(1)}]', b"\x01", b"\x02"],
        BINARY_EVENT,
        "/admin",
        None,
        ["baz", b"\x01", b"\x02"],
    ),
    ([f'61-15["bar",{PH(0)}]', b"\x01"], BINARY_ACK, "/", 15, ["bar", b"\x01"]),
    ([f"61-/admin,1[{PH(0)}]", b"\xff"], BINARY_ACK, "/admin", 1, [b"\xff"]),
    # placeholders out of order, reused, nested in objects; bytes-like attachments
    (
        [f'52-["x",{{"b":{PH(1)},"a":[{PH(0)},{PH(1)}]}}]', bytearray(b"A"), memoryview(b"B")],
        BINARY_EVENT,
        "/",
        None,
        ["x", {"b": b"B", "a": [b"A", b"B"]}],
    ),
    # labelled binary, nothing attached
    (['50-["hello"]'], BINARY_EVENT, "/", None, ["hello"]),
]


@pytest.mark.parametrize("messages, ptype, nsp, pid, data", BINARY_VECTORS)
def test_decode_binary_vectors(sioparser_impl, messages, ptype, nsp, pid, data):
    for protocol in BOTH:
        decoder = sioparser_impl.Decoder(protocol)
        for message in messages[:-1]:
            assert decoder.feed(message) == []
        (packet,) = decoder.feed(messages[-1])
        assert (packet.type, packet.nsp, packet.id, packet.data) == (ptype, nsp, pid, data)
        assert packet.attachments == len(messages) - 1
        for value in _leaves(packet.data):
            assert type(value) is not bytearray and type(value) is not memoryview
        # the decoder is ready for the next packet
        assert decoder.feed('2["next"]') == [Packet(EVENT, "/", ["next"])]


def _leaves(data):
    if isinstance(data, list):
        for item in data:
            yield from _leaves(item)
    elif isinstance(data, dict):
        for item in data.values():
            yield from _leaves(item)
    else:
        yield data


# --- must-reject lists -------------------------------------------------------------------------

REJECT_BOTH = [
    # socket.io-parser 3.4.x and 4.2.x "isInvalidPayload"
    '442["some","data"',
    '0/admin,"invalid"',
    "1/admin,{}",
    '2/admin,"invalid',
    "2/admin,{}",
    '2[{"toString":"foo"}]',
    '2[true,"foo"]',
    '2[null,"bar"]',
    "999",  # unknown packet type 9
    "5",  # illegal attachments
    # socket.io-protocol test suite
    "abc",  # ("4abc") unknown packet type
    "2{}",  # ("42{}") invalid payload format
    '2abc["message-with-ack",1,"2",{"3":[false]}]',  # invalid ack id
    # more
    "",
    "7",
    "2",  # an event with nothing to dispatch
    "2[]",
    "2/admin,",
    '2["a"',
    "2[NaN]",
    '2["a"] x',
    "3{}",
    '3"x"',
    "1{}",
    '0"x"',
    "4true",
    "5-[]",
    "5a-[]",
    "51[]",
    "51-",
    "61-",  # binary ack without data
    '5-1-["a"]',
    '50-["a",{"_placeholder":true,"num":0}]',  # a placeholder with nothing attached
]

REJECT_V5_ONLY = [
    "0[]",
    "0null",
    '2["connect"]',
    '2["disconnect","123"]',
    '2["newListener"]',
    '4["x"]',
    "4null",
]


@pytest.mark.parametrize("text", REJECT_BOTH)
@pytest.mark.parametrize("protocol", BOTH)
def test_reject(sioparser_impl, text, protocol):
    decoder = sioparser_impl.Decoder(protocol)
    with pytest.raises(ProtocolError):
        decoder.feed(text)
    assert not decoder.pending
    assert decoder.feed('2["ok"]') == [Packet(EVENT, "/", ["ok"])]


@pytest.mark.parametrize("text", REJECT_V5_ONLY)
def test_reject_revision_5_only(sioparser_impl, text):
    with pytest.raises(ProtocolError):
        sioparser_impl.Decoder(5).feed(text)
    assert len(sioparser_impl.Decoder(4).feed(text)) == 1


def test_error_message_carries_the_truncated_input(sioparser_impl):
    text = '2[true,"' + "x" * 5000 + '"]'
    with pytest.raises(ProtocolError) as info:
        sioparser_impl.Decoder(5).feed(text)
    assert "invalid payload" in str(info.value)
    assert info.value.data == text[:200]


@pytest.mark.parametrize(
    "header, attachment",
    [
        ('51-["hello",{"_placeholder":true,"num":"splice"}]', b"world"),  # parser test suites
        ('51-["hello",{"_placeholder":true,"num":1}]', b"world"),  # out of bound
        ('51-["hello",{"_placeholder":true,"num":-1}]', b"world"),  # must not count from the end
        ('51-["hello",{"_placeholder":true,"num":true}]', b"world"),  # bool is not an int
        ('51-["hello",{"_placeholder":true,"num":0.0}]', b"world"),
        ('51-["hello",{"_placeholder":true,"num":null}]', b"world"),
        ('51-["hello",{"_placeholder":true}]', b"world"),
        ('51-["hello",{"_placeholder":true,"num":1e300}]', b"world"),
    ],
)
def test_illegal_placeholders(sioparser_impl, header, attachment):
    for protocol in BOTH:
        decoder = sioparser_impl.Decoder(protocol)
        with pytest.raises(ProtocolError, match="placeholder"):
            decoder.feed(header)
            decoder.feed(attachment)
        assert not decoder.pending


def test_placeholder_flag_must_be_true(sioparser_impl):
    decoder = sioparser_impl.Decoder(5)
    assert decoder.feed('51-["a",{"_placeholder":1,"num":0}]') == []
    (packet,) = decoder.feed(b"x")
    assert packet.data == ["a", {"_placeholder": 1, "num": 0}]


def test_binary_without_header(sioparser_impl):
    decoder = sioparser_impl.Decoder(5)
    with pytest.raises(ProtocolError, match="binary"):
        decoder.feed(b"world")


def test_text_while_attachments_pending(sioparser_impl):
    decoder = sioparser_impl.Decoder(5)
    assert decoder.feed(f'51-["hello",{PH(0)}]') == []
    with pytest.raises(ProtocolError, match="attachments"):
        decoder.feed('2["hello"]')
    # the decoder starts over
    assert not decoder.pending
    assert decoder.feed('2["hello"]') == [Packet(EVENT, "/", ["hello"])]


def test_reset_drops_a_partial_packet(sioparser_impl):
    decoder = sioparser_impl.Decoder(5)
    decoder.feed(f'52-["foo",{PH(0)},{PH(1)}]')
    decoder.feed(b"1")
    decoder.reset()
    assert not decoder.pending
    assert decoder.feed('2["hello"]') == [Packet(EVENT, "/", ["hello"])]


def test_unsupported_message_type(sioparser_impl):
    with pytest.raises(ProtocolError):
        sioparser_impl.Decoder(5).feed(42)


def test_str_subclass_is_text(sioparser_impl):
    class S(str):
        pass

    assert sioparser_impl.Decoder(5).feed(S('2["x"]')) == [Packet(EVENT, "/", ["x"])]


# --- bounds ------------------------------------------------------------------------------------


def test_attachment_count_bound(sioparser_impl):
    decoder = sioparser_impl.Decoder(5, max_attachments=3)
    with pytest.raises(ProtocolError, match="attachments"):
        decoder.feed('54-["a"]')
    assert decoder.feed('53-["a"]') == []
    default = sioparser_impl.Decoder(5)
    with pytest.raises(ProtocolError):
        default.feed(f'5{sioparser_impl.DEFAULT_MAX_ATTACHMENTS + 1}-["a"]')


@pytest.mark.parametrize("digits", [10, 50, 100_000])
def test_attachment_digits_bound(sioparser_impl, digits):
    with pytest.raises(ProtocolError):
        sioparser_impl.Decoder(5, max_attachments=10**12).feed("5" + "1" * digits + '-["a"]')


def test_ack_id_digits_bound(sioparser_impl):
    decoder = sioparser_impl.Decoder(5)
    longest = "9" * sioparser_impl.MAX_ID_DIGITS
    (packet,) = decoder.feed(f'3{longest}["a"]')
    assert packet.id == int(longest)
    for text in (f'3{longest}9["a"]', "3" + "1" * 100_000 + "[]"):
        with pytest.raises(ProtocolError, match="ack id"):
            decoder.feed(text)


def _nested(depth, leaf):
    text = leaf
    for _ in range(depth):
        text = f"[{text}]"
    return text


def test_depth_bound_on_binary_packets(sioparser_impl):
    limit = sioparser_impl.DEFAULT_MAX_DEPTH
    decoder = sioparser_impl.Decoder(5)
    # the event array is level 1; a placeholder is a leaf, not a level
    assert decoder.feed(f'51-["a",{_nested(limit - 1, PH(0))}]') == []
    assert len(decoder.feed(b"x")) == 1
    with pytest.raises(ProtocolError, match="deeper"):
        decoder.feed(f'51-["a",{_nested(limit, PH(0))}]')
        decoder.feed(b"x")
    custom = sioparser_impl.Decoder(5, max_depth=3)
    with pytest.raises(ProtocolError, match="deeper"):
        custom.feed('50-["a",[[[1]]]]')


def test_very_deep_binary_packet_is_a_protocol_error(sioparser_impl):
    decoder = sioparser_impl.Decoder(5, max_depth=10**6)
    text = '51-["a",' + _nested(900, PH(0)) + "]"
    decoder.feed(text)  # the bound is the depth; JSON itself allows this much
    assert len(decoder.feed(b"x")) == 1
    with pytest.raises(ProtocolError):
        sioparser_impl.Decoder(5).feed('51-["a",' + "[" * 200_000 + "]" * 200_000 + "]")


def test_deep_plain_event_is_fine(sioparser_impl):
    (packet,) = sioparser_impl.Decoder(5).feed(f'2["a",{_nested(200, "1")}]')
    assert packet.data[0] == "a"


def test_deconstruct_reconstruct_has_binary(sioparser_impl):
    data = ["a", {"x": b"1", "y": [bytearray(b"2"), {"z": memoryview(b"3")}]}, (b"4",)]
    stripped, buffers = sioparser_impl.deconstruct(data)
    assert buffers == [b"1", b"2", b"3", b"4"]
    assert all(type(b) is bytes for b in buffers)
    assert stripped == ["a", {"x": ph(0), "y": [ph(1), {"z": ph(2)}]}, [ph(3)]]
    assert sioparser_impl.has_binary(data)
    assert not sioparser_impl.has_binary(stripped)
    assert sioparser_impl.has_binary(b"x")
    assert not sioparser_impl.has_binary(["a", {"b": [1, 2.5, None, True]}])
    plain = ["a", {"b": [1]}]
    assert sioparser_impl.deconstruct(plain)[0] is plain  # nothing copied without binary
    rebuilt = sioparser_impl.reconstruct(json.loads(json.dumps(stripped)), buffers)
    assert rebuilt == ["a", {"x": b"1", "y": [b"2", {"z": b"3"}]}, [b"4"]]
    assert sioparser_impl.reconstruct(ph(0), [b"only"]) == b"only"
    with pytest.raises(ProtocolError):
        sioparser_impl.reconstruct([ph(1)], [b"only"])
    with pytest.raises(ProtocolError):
        sioparser_impl.reconstruct([[[ph(0)]]], [b"x"], 2)
    with pytest.raises(ValueError):
        sioparser_impl.has_binary([[[b"x"]]], 2)


def test_encode_depth_bound(sioparser_impl):
    deep: list = [b"x"]
    for _ in range(sioparser_impl.ENCODE_MAX_DEPTH + 5):
        deep = [deep]
    with pytest.raises((ValueError, RecursionError)):
        sioparser_impl.encode(Packet(EVENT, "/", ["a", deep, 2**70]), 5)


def test_packet_slots_match_the_fast_constructor():
    # the decoder fills these slots directly instead of calling Packet.__init__
    assert Packet.__slots__ == ("type", "nsp", "data", "id", "attachments")


# --- the public parser -------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", BOTH)
def test_default_parser(accel_mode, protocol):
    parser = parsers.get("default", protocol)
    expected = _accel.load("sioparser")
    assert parser.encode.__self__.__class__.__module__ == expected.__name__
    packet = Packet(EVENT, "/chat", ["msg", {"file": b"\x00\x01"}], 3)
    messages = parser.encode(packet)
    assert messages == [f'51-/chat,3["msg",{{"file":{PH(0)}}}]', b"\x00\x01"]
    decoder = parser.decoder()
    assert feed_all(decoder, messages) == [Packet(BINARY_EVENT, "/chat", packet.data, 3)]
    assert decoder.max_depth == parser.max_depth


def test_default_parser_bounds():
    from sioclient.parsers.default import DefaultParser

    parser = DefaultParser(5, max_attachments=1, max_depth=4)
    with pytest.raises(ProtocolError):
        parser.decoder().feed('52-["a"]')


def test_bad_protocol(sioparser_impl):
    with pytest.raises(ValueError):
        sioparser_impl.Decoder(3)
    with pytest.raises(ValueError):
        sioparser_impl.Encoder(6)


# --- byte-for-byte against the npm packages ----------------------------------------------------

NODE_SCRIPT = r"""
const path = require("path");
const nm = process.argv[process.argv.length - 1];
const v3 = require(path.join(nm, "socket.io-parser-v3"));
const v4 = require(path.join(nm, "socket.io-parser-v4"));
const hasBinary = require(path.join(nm, "has-binary2"));
const revive = (d) => JSON.parse(JSON.stringify(d), (k, v) =>
  v && v.__b !== undefined ? Buffer.from(v.__b, "hex") : v);
const show = (msgs) => msgs.map((m) => typeof m === "string" ? m : {b: Buffer.from(m).toString("hex")});
const packets = JSON.parse(require("fs").readFileSync(0, "utf8"));
const out = packets.map((p) => {
  const packet = {type: p.type, nsp: p.nsp, data: revive(p.data)};
  if (p.id !== null) packet.id = p.id;
  const r = {v4: show(new v4.Encoder().encode({...packet}))};
  const p3 = {...packet};
  if ((p3.type === 2 || p3.type === 3) && hasBinary(p3.data)) p3.type += 3;
  new v3.Encoder().encode(p3, (msgs) => { r.v3 = show(msgs); });
  return r;
});
process.stdout.write(JSON.stringify(out));
"""

NPM_PACKETS = [
    Packet(EVENT, "/", ["chat", {"user": "alice", "text": "héllo / ✓", "ts": 1700000000}]),
    Packet(EVENT, "/admin", ["x", 1, 2.5, None, True, {"a": [1, {"b": "c"}]}], 42),
    Packet(ACK, "/", [], 0),
    Packet(EVENT, "/", ["upload", {"meta": {"a": b"\x01" * 4, "b": [b"\x02"]}}, b"\x03" * 8]),
    Packet(ACK, "/nsp", [b"\x00", {"k": b"\xff"}], 9),
    Packet(CONNECT, "/woot"),
    Packet(DISCONNECT, "/"),
    Packet(CONNECT_ERROR, "/", "Unauthorized"),
]


def _to_json(data):
    if isinstance(data, (bytes, bytearray)):
        return {"__b": bytes(data).hex()}
    if isinstance(data, list):
        return [_to_json(x) for x in data]
    if isinstance(data, dict):
        return {k: _to_json(v) for k, v in data.items()}
    return data


@pytest.fixture(scope="module")
def npm_encodings():
    node = shutil.which("node")
    modules = os.path.join(NODE_DIR, "node_modules")
    if node is None or not os.path.isdir(modules):
        pytest.skip("node or tests/node/node_modules missing")
    payload = json.dumps(
        [{"type": p.type, "nsp": p.nsp, "id": p.id, "data": _to_json(p.data)} for p in NPM_PACKETS]
    )
    proc = subprocess.run(
        [node, "-e", NODE_SCRIPT, modules],
        input=payload,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.mark.node
@pytest.mark.parametrize("index", range(len(NPM_PACKETS)))
def test_encode_matches_npm_byte_for_byte(sioparser_impl, npm_encodings, index):
    for protocol, key in ((4, "v3"), (5, "v4")):
        ours = sioparser_impl.encode(NPM_PACKETS[index], protocol)
        shown = [m if isinstance(m, str) else {"b": m.hex()} for m in ours]
        assert shown == npm_encodings[index][key]
