"""The WebSocket frame reader/writer hot module, compiled and pure."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from wsproto.frame_protocol import FrameProtocol, Opcode

from sioclient.core import _accel

SETTINGS = settings(max_examples=150, deadline=None)


def server_frame(first: int, payload: bytes) -> bytes:
    """An unmasked frame as a server writes it."""
    n = len(payload)
    if n < 126:
        head = bytes((first, n))
    elif n < 65536:
        head = bytes((first, 126)) + n.to_bytes(2, "big")
    else:
        head = bytes((first, 127)) + n.to_bytes(8, "big")
    return head + payload


def test_whole_messages_come_out_directly(wsframe_impl):
    r = wsframe_impl.FrameReader(1 << 20)
    data = (
        server_frame(0x81, "héllo".encode())
        + server_frame(0x82, b"\x00\x01")
        + server_frame(0x81, b"x" * 300)
        + server_frame(0x82, b"y" * 70000)
    )
    assert r.feed(data) == ["héllo", b"\x00\x01", "x" * 300, b"y" * 70000]
    assert r.error is None
    assert r.others == 0  # messages only: the caller may take the list as it is


def test_byte_by_byte_gives_the_same(wsframe_impl):
    r = wsframe_impl.FrameReader(1 << 20)
    data = server_frame(0x81, b"abc") + server_frame(0x82, b"z" * 200) + server_frame(0x89, b"p")
    out = []
    for i in range(len(data)):
        out += r.feed(data[i : i + 1])
    assert out == ["abc", b"z" * 200, (0x89, b"p")]


def test_other_frames_are_left_to_the_caller(wsframe_impl):
    r = wsframe_impl.FrameReader(1 << 20)
    data = (
        server_frame(0x01, b"frag")  # text, fin clear
        + server_frame(0x89, b"ping")  # a control frame between fragments
        + server_frame(0x80, b"ment")  # final continuation
        + server_frame(0xC1, b"deflated")  # rsv1
        + server_frame(0x81, b"\xff")  # not UTF-8
        + server_frame(0x88, b"\x03\xe8")
    )
    assert r.feed(data) == [
        (0x01, b"frag"),
        (0x89, b"ping"),
        (0x80, b"ment"),
        (0xC1, b"deflated"),
        (0x81, b"\xff"),
        (0x88, b"\x03\xe8"),
    ]
    assert r.others == 6
    assert r.feed(
        server_frame(0x81, b"a") + server_frame(0x8A, b"") + server_frame(0x82, b"b")
    ) == [
        "a",
        (0x8A, b""),
        b"b",
    ]
    assert r.others == 1
    assert r.feed(b"") == [] and r.others == 0


@pytest.mark.parametrize(
    "data, code",
    [
        (bytes((0x81, 0x81)) + b"mask" + b"x", 1002),  # masked by the server
        (server_frame(0x83, b""), 1002),  # reserved opcode
        (server_frame(0x8B, b""), 1002),
        (server_frame(0x09, b""), 1002),  # fragmented control frame
        (server_frame(0x89, b"x" * 126), 1002),  # long control frame
        (bytes((0x82, 127)) + (1 << 63).to_bytes(8, "big"), 1002),
        (bytes((0x82, 127)) + (2000).to_bytes(8, "big"), 1009),  # over the bound: header only
    ],
)
def test_violations(wsframe_impl, data, code):
    r = wsframe_impl.FrameReader(1000)
    assert r.feed(server_frame(0x89, b"") + server_frame(0x81, b"before") + data) == [
        (0x89, b""),
        "before",
    ]
    assert r.error is not None and r.error.code == code
    assert r.others == 1  # what came before the violation
    assert r.feed(server_frame(0x81, b"after")) == []


@SETTINGS
@given(st.lists(st.one_of(st.text(max_size=300), st.binary(max_size=70000)), max_size=5))
def test_writer_output_parses_back_with_wsproto(messages):
    for impl in (_accel.pure("wsframe"), _accel.load("wsframe")):
        w = impl.FrameWriter()
        data = w.encode(messages)
        proto = FrameProtocol(client=False, extensions=[])
        proto.receive_bytes(data)
        got = []
        for frame in proto.received_frames():
            assert frame.frame_finished and frame.message_finished
            assert frame.opcode in (Opcode.TEXT, Opcode.BINARY)
            got.append(frame.payload)
        assert got == messages


def test_masking_is_the_same_both_ways():
    payload = os.urandom(1000)
    pure = _accel.pure("wsframe").FrameWriter().frame(0x82, payload)
    # unmask with the key the frame carries
    key = pure[4:8]
    body = pure[8:]
    assert bytes(b ^ key[i & 3] for i, b in enumerate(body)) == payload
    comp = _accel.load("wsframe").FrameWriter().frame(0x82, payload)
    key = comp[4:8]
    assert bytes(b ^ key[i & 3] for i, b in enumerate(comp[8:])) == payload


def _read_all(impl, chunks, max_size):
    reader = impl.FrameReader(max_size)
    out = []
    for chunk in chunks:
        items = reader.feed(chunk)
        assert reader.others == sum(type(item) is tuple for item in items)
        out.extend(items)
        if reader.error is not None:
            return out, (reader.error.code, reader.error.reason)
    return out, None


@SETTINGS
@given(
    st.lists(st.binary(max_size=300), max_size=6),
    st.integers(min_value=0, max_value=400),
)
def test_reader_compiled_and_pure_agree(chunks, max_size):
    """Random bytes from a server: both twins give the same messages and the same error."""
    pure = _read_all(_accel.pure("wsframe"), chunks, max_size)
    assert _read_all(_accel.load("wsframe"), chunks, max_size) == pure


@pytest.mark.parametrize("n", [0, 1, 7, 8, 125, 126, 65535, 65536])
@pytest.mark.parametrize("char", ["a", "é", "💡"])
def test_text_frames_both_ways(wsframe_impl, n, char):
    """``text(s)`` is ``frame(0x81, s.encode())``: the same header, the payload masked with
    the key the frame carries, for every length class and any UTF-8 width."""
    text = (char * n)[:n] if n else ""
    writer = wsframe_impl.FrameWriter()
    for out in (writer.text(text), writer.frame(0x81, text.encode())):
        proto = FrameProtocol(client=False, extensions=[])
        proto.receive_bytes(out)
        (frame,) = proto.received_frames()
        assert frame.opcode == Opcode.TEXT and frame.message_finished
        assert frame.payload == text


def test_text_that_is_not_unicode_text_raises(wsframe_impl):
    with pytest.raises(UnicodeEncodeError):
        wsframe_impl.FrameWriter().text("\udc00")
