"""Engine.IO packets and payloads, revisions 3 and 4, compiled and pure.

Vectors come from engine.io-parser 2.x (revision 3) and 5.x (revision 4) test suites and from
the engine.io-protocol test suite; a Node test compares random payloads with the npm packages.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess

import pytest

from sioclient import ProtocolError

NODE_DIR = os.path.join(os.path.dirname(__file__), "node")


# ---------------------------------------------------------------- single packets


@pytest.mark.parametrize("revision", [3, 4])
@pytest.mark.parametrize(
    "ptype, data, frame",
    [
        (4, "test", "4test"),
        (4, "", "4"),
        (0, '{"some":"json"}', '0{"some":"json"}'),
        (1, "", "1"),
        (2, "probe", "2probe"),
        (3, "probe", "3probe"),
        (4, "utf8 — string", "4utf8 — string"),
        (4, "€€€", "4€€€"),
        (5, "", "5"),
        (6, "", "6"),
    ],
)
def test_text_packet_roundtrip(eio_impl, revision, ptype, data, frame):
    assert eio_impl.encode_packet(ptype, data, revision) == frame
    assert eio_impl.decode_packet(frame, revision) == (ptype, data)


def test_packet_without_data(eio_impl):
    assert eio_impl.encode_packet(2, None, 3) == "2"
    assert eio_impl.encode_packet(5, None, 4) == "5"


def test_binary_frame_revision3(eio_impl):
    assert eio_impl.encode_packet(4, b"\x01\x02\x03", 3) == b"\x04\x01\x02\x03"
    assert eio_impl.decode_packet(b"\x04\x01\x02\x03", 3) == (4, b"\x01\x02\x03")
    assert eio_impl.decode_packet(bytearray(b"\x04"), 3) == (4, b"")
    assert eio_impl.decode_packet(memoryview(b"\x02ab"), 3) == (2, b"ab")
    # base64 when binary frames are not wanted
    assert eio_impl.encode_packet(4, b"\x01\x02\x03\x04", 3, False) == "b4AQIDBA=="
    assert eio_impl.decode_packet("b4AQIDBA==", 3) == (4, b"\x01\x02\x03\x04")


def test_binary_frame_revision4(eio_impl):
    assert eio_impl.encode_packet(4, b"\x01\x02\x03", 4) == b"\x01\x02\x03"
    assert eio_impl.decode_packet(b"\x01\x02\x03", 4) == (4, b"\x01\x02\x03")
    assert eio_impl.decode_packet(b"", 4) == (4, b"")
    assert eio_impl.encode_packet(4, bytearray(b"\x01\x02\x03\x04"), 4, False) == "bAQIDBA=="
    assert eio_impl.decode_packet("bAQIDBA==", 4) == (4, b"\x01\x02\x03\x04")
    with pytest.raises(ValueError):
        eio_impl.encode_packet(2, b"\x01", 4)


@pytest.mark.parametrize("revision", [3, 4])
@pytest.mark.parametrize("frame", ["", ":::", "94103", "a123", "7", "b4!!!!", "\u0664x"])
def test_bad_text_packet(eio_impl, revision, frame):
    with pytest.raises(ProtocolError):
        eio_impl.decode_packet(frame, revision)


@pytest.mark.parametrize("frame", [b"", b"\x07abc", b"\xff"])
def test_bad_binary_packet_revision3(eio_impl, frame):
    with pytest.raises(ProtocolError) as info:
        eio_impl.decode_packet(frame, 3)
    assert info.value.data == frame


def test_error_carries_truncated_input(eio_impl):
    with pytest.raises(ProtocolError) as info:
        eio_impl.decode_packet("x" * 10_000, 4)
    assert info.value.data == "x" * 200


def test_unknown_type_on_encode(eio_impl):
    with pytest.raises(ValueError):
        eio_impl.encode_packet(7, "x", 4)
    with pytest.raises(ValueError):
        eio_impl.encode_payload([(9, "x")], 3)


# ---------------------------------------------------------------- revision 3 payloads


def test_payload_v3_counts_utf16_units(eio_impl):
    body = eio_impl.encode_payload([(4, "€€€"), (4, "α")], 3)
    assert body == "4:4€€€2:4α"
    assert eio_impl.decode_payload(body, 3) == [(4, "€€€"), (4, "α")]
    # an astral character is two UTF-16 units, as String.length counts
    assert eio_impl.encode_payload([(4, "😀")], 3) == "3:4😀"
    assert eio_impl.decode_payload("3:4😀2:4a", 3) == [(4, "😀"), (4, "a")]
    assert eio_impl.utf16_len("a😀€") == 4


def test_payload_v3_vectors(eio_impl):
    assert eio_impl.decode_payload("6:4hello", 3) == [(4, "hello")]
    assert eio_impl.decode_payload("6:4test16:4test26:4test3", 3) == [
        (4, "test1"),
        (4, "test2"),
        (4, "test3"),
    ]
    assert eio_impl.decode_payload("1:3", 3) == [(3, "")]
    assert eio_impl.decode_payload("1:6", 3) == [(6, "")]
    assert eio_impl.encode_payload([(2, None), (3, None)], 3) == "1:21:3"
    assert eio_impl.encode_payload([], 3) == "0:"
    assert eio_impl.decode_payload("0:", 3) == []
    body = eio_impl.encode_payload([(4, "hello"), (4, b"\x01\x02\x03\x04")], 3)
    assert body == "6:4hello10:b4AQIDBA=="
    assert eio_impl.decode_payload(body, 3) == [(4, "hello"), (4, b"\x01\x02\x03\x04")]


def test_payload_v3_handshake_with_connect(eio_impl):
    open_json = '{"sid":"abc","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":5000}'
    body = f"{len(open_json) + 1}:0{open_json}2:40"
    assert eio_impl.decode_payload(body, 3) == [(0, open_json), (4, "0")]
    assert eio_impl.decode_payload(body.encode(), 3) == [(0, open_json), (4, "0")]


def test_payload_v3_binary_framing(eio_impl):
    # what engine.io 3.x sends for [message "hello", message <01 02 03 04>] without b64
    body = b"\x00\x06\xff4hello\x01\x05\xff\x04\x01\x02\x03\x04"
    expected = [(4, "hello"), (4, b"\x01\x02\x03\x04")]
    assert eio_impl.decode_payload(body, 3) == expected
    assert eio_impl.encode_payload(expected, 3, False) == body
    # text packets in the binary framing are UTF-8; their length counts bytes
    body = eio_impl.encode_payload([(4, "😀é"), (4, b"\x01\x02"), (2, None)], 3, False)
    assert list(body) == [0, 7, 255, 52, 240, 159, 152, 128, 195, 169] + [
        1,
        3,
        255,
        4,
        1,
        2,
        0,
        1,
        255,
        50,
    ]
    assert eio_impl.decode_payload(body, 3) == [(4, "😀é"), (4, b"\x01\x02"), (2, "")]
    # without binary the text framing stays
    assert eio_impl.encode_payload([(4, "a")], 3, False) == "2:4a"


@pytest.mark.parametrize(
    "body",
    [
        "",
        "1!",
        "))",
        "1:",
        "3:99:",
        "1:aa",
        "1:a2:b",
        "2:4😀",  # the length ends inside a surrogate pair
        ":4a",
        "12345678901:4",  # too many length digits
        "1" * 310 + ":4",
        "6:4hello9:bAQIDBA==",  # base64 without the type digit is not revision 3
        "5:b4!!!",
        b"@",
        b"\x00\xff",
        b"\x00\x01",
        b"\x00\x05\xff4a",
        b"\x02\x01\xff4",
        b"\x00\x0a\xff4",
        b"\x01\x00\xff",
        b"\x01\x01\xff\x09",
        b"\x00" + b"\x01" * 11 + b"\xff",
        b"\x00\x02\xff4\xff",
        b"\x00" + bytes([1] * 310) + b"\xff4",
        b"\xff\xfe",
    ],
)
def test_bad_payload_v3(eio_impl, body):
    with pytest.raises(ProtocolError):
        eio_impl.decode_payload(body, 3)


# ---------------------------------------------------------------- revision 4 payloads


def test_payload_v4_vectors(eio_impl):
    packets = [(0, ""), (1, ""), (2, "probe"), (3, "probe"), (4, "test")]
    body = "0\x1e1\x1e2probe\x1e3probe\x1e4test"
    assert eio_impl.encode_payload(packets, 4) == body
    assert eio_impl.decode_payload(body, 4) == packets
    mixed = [(4, "test"), (4, b"\x01\x02\x03\x04")]
    assert eio_impl.encode_payload(mixed, 4) == "4test\x1ebAQIDBA=="
    assert eio_impl.decode_payload("4test\x1ebAQIDBA==", 4) == mixed
    assert eio_impl.decode_payload(b"4\xc3\xa9", 4) == [(4, "é")]


@pytest.mark.parametrize(
    "body", ["", "{", "{}", '["a123", "a456"]', "4a\x1e", "\x1e4a", "4a\x1e\x1e4b", b"\xff"]
)
def test_bad_payload_v4(eio_impl, body):
    with pytest.raises(ProtocolError):
        eio_impl.decode_payload(body, 4)


def test_payload_v4_refuses_separator_in_text(eio_impl):
    with pytest.raises(ValueError):
        eio_impl.encode_payload([(4, "a\x1eb")], 4)


@pytest.mark.parametrize("revision", [3, 4])
def test_max_payload(eio_impl, revision):
    body = eio_impl.encode_payload([(4, "x" * 100)], revision)
    assert eio_impl.decode_payload(body, revision, len(body)) == [(4, "x" * 100)]
    with pytest.raises(ProtocolError):
        eio_impl.decode_payload(body, revision, len(body) - 1)
    with pytest.raises(ProtocolError):
        eio_impl.decode_payload(body.encode(), revision, 10)


@pytest.mark.parametrize("revision", [3, 4])
def test_payload_item_size_bounds_the_body(eio_impl, revision):
    packets = [(4, "héllo😀"), (4, b"\x00" * 7), (2, None), (4, "")]
    body = eio_impl.encode_payload(packets, revision)
    size = sum(eio_impl.payload_item_size(t, d, revision) for t, d in packets)
    assert size >= len(body.encode("utf-8"))


# ---------------------------------------------------------------- detection


@pytest.mark.parametrize(
    "body, revision",
    [
        ('96:0{"sid":"x"}2:40', 3),
        (b'15:0{"sid":"abc"}', 3),
        (b"\x00\x09\xff0{}", 3),
        ('0{"sid":"x","upgrades":[]}', 4),
        (b'0{"sid":"x"}', 4),
        ("", 4),
        ("1234", 4),
    ],
)
def test_detect_revision(eio_impl, body, revision):
    assert eio_impl.detect_revision(body) == revision


# ---------------------------------------------------------------- the npm packages agree


def _random_packets(rng: random.Random, revision: int) -> list:
    alphabet = "abc€α😀\u00e9 {}\"'\\:0123456789"
    packets = []
    for _ in range(rng.randint(1, 6)):
        if rng.random() < 0.3:
            packets.append((4, bytes(rng.randrange(256) for _ in range(rng.randint(0, 12)))))
        else:
            ptype = 4 if revision == 4 else rng.randint(0, 6)
            text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
            packets.append((ptype, text))
    return packets


NODE_SCRIPT = r"""
const p2 = require('engine.io-parser-v2'), p5 = require('engine.io-parser-v5');
const names = ['open', 'close', 'ping', 'pong', 'message', 'upgrade', 'noop'];
const cases = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const out = cases.map(([rev, packets]) => {
  const pk = packets.map(([t, d, bin]) => ({type: names[t], data: bin ? Buffer.from(d, 'hex') : d}));
  const res = {};
  if (rev === 3) {
    p2.encodePayload(pk, false, (s) => { res.text = s; });
    p2.encodePayload(pk, true, (b) => {
      res.binary = typeof b === 'string' ? null : Buffer.from(b).toString('hex');
    });
  } else {
    p5.encodePayload(pk, (s) => { res.text = s; });
  }
  return res;
});
process.stdout.write(JSON.stringify(out));
"""


@pytest.mark.node
@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_payloads_match_engine_io_parser(eio_impl):
    rng = random.Random(1234)
    cases = [(rev, _random_packets(rng, rev)) for rev in (3, 4) for _ in range(60)]
    wire = [
        [rev, [[t, d.hex() if isinstance(d, bytes) else d, isinstance(d, bytes)] for t, d in p]]
        for rev, p in cases
    ]
    proc = subprocess.run(
        ["node", "-e", NODE_SCRIPT],
        input=json.dumps(wire),
        capture_output=True,
        text=True,
        cwd=NODE_DIR,
        timeout=60,
        check=True,
    )
    results = json.loads(proc.stdout)
    for (rev, packets), res in zip(cases, results):
        assert eio_impl.encode_payload(packets, rev) == res["text"]
        assert eio_impl.decode_payload(res["text"], rev) == packets
        if rev == 3 and res["binary"] is not None:
            body = bytes.fromhex(res["binary"])
            assert eio_impl.encode_payload(packets, 3, False) == body
            assert eio_impl.decode_payload(body, 3) == packets
