"""Engine.IO packets and payloads, revisions 3 and 4 (hot module; compiled twin ``_eio_c``).

A packet is a pair ``(type, data)``: ``type`` is one of the integer constants below and ``data``
is ``str`` (text) or ``bytes`` (binary); a packet without data has ``data == ''``.

Functions:

``encode_packet(ptype, data, revision, binary_ok=True) -> str | bytes``
    One WebSocket frame.  Text is ``<type digit><data>`` in both revisions.  Binary data: revision
    3 frames it as one type byte followed by the data, revision 4 sends the bytes as they are (a
    binary frame is always a message).  With ``binary_ok=False`` binary goes out as base64 text
    (``b4<base64>`` in revision 3, ``b<base64>`` in revision 4).

``decode_packet(frame, revision) -> (type, data)``
    The reverse, for a WebSocket frame (``str`` or bytes-like).

``encode_payload(packets, revision, b64=True) -> str | bytes``
    A polling request body.  Revision 3: ``<length>:<packet>`` where the length counts UTF-16
    code units as JavaScript does, binary as ``b<type><base64>``; with ``b64=False`` and binary
    among the packets, the XHR2 binary framing instead (bytes, to be posted as
    ``application/octet-stream``).  Revision 4: packets joined by ``\\x1e``, binary as
    ``b<base64>``.

``decode_payload(body, revision, max_payload=None) -> list[(type, data)]``
    A polling response body.  Revision 3 accepts both the text framing and the XHR2 binary
    framing (a ``bytes`` body starting with ``\\x00`` or ``\\x01``); any other ``bytes`` body is
    decoded as UTF-8 text first.  ``max_payload`` caps the body length.

``detect_revision(body) -> 3 | 4``
    Which framing a polling handshake answer uses (see ARCHITECTURE.md, "Protocol detection").

``utf16_len(text) -> int`` and ``payload_item_size(ptype, data, revision) -> int`` help callers
size batches.  Every malformed input raises ``sioclient.ProtocolError`` carrying the offending
input, truncated; nothing is built from a length before the length is checked.
"""

from __future__ import annotations

import base64
import binascii
from typing import List, Tuple, Union

from ..exceptions import ProtocolError

#: what a packet carries: text, bytes, or (for ping, pong... without data) nothing
Data = Union[str, bytes, bytearray, memoryview, None]
#: a decoded packet: ``(type, data)``, the data as text or bytes
Decoded = Tuple[int, Union[str, bytes]]

OPEN = 0
CLOSE = 1
PING = 2
PONG = 3
MESSAGE = 4
UPGRADE = 5
NOOP = 6

TYPE_NAMES = ("open", "close", "ping", "pong", "message", "upgrade", "noop")

#: longest decimal length accepted in a revision-3 payload (10 digits allow 9_999_999_999)
MAX_LENGTH_DIGITS = 10

SEPARATOR = "\x1e"
_DIGITS = "0123456789"
_TYPE_DIGITS = "0123456"


def _b64encode(data: bytes) -> str:
    return binascii.b2a_base64(data, newline=False).decode("ascii")


def _b64decode(text: str, whole: object) -> bytes:
    try:
        # validate=True: reject characters outside the alphabet instead of skipping them
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ProtocolError("invalid base64 in Engine.IO packet", whole) from None


def _as_bytes(data: bytes | bytearray | memoryview) -> bytes:
    if type(data) is bytes:
        return data
    return bytes(data)


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units (JavaScript's ``String.length``)."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le", "surrogatepass")) >> 1


# ---------------------------------------------------------------- single packets (WebSocket)


def encode_packet(
    ptype: int,
    data: str | bytes | bytearray | memoryview | None,
    revision: int,
    binary_ok: bool = True,
) -> str | bytes:
    if ptype < 0 or ptype > 6:
        raise ValueError(f"unknown Engine.IO packet type {ptype!r}")
    if data is None:
        return _TYPE_DIGITS[ptype]
    if isinstance(data, str):
        return _TYPE_DIGITS[ptype] + data
    raw = _as_bytes(data)
    if revision == 3:
        if binary_ok:
            return bytes((ptype,)) + raw
        return "b" + _TYPE_DIGITS[ptype] + _b64encode(raw)
    if ptype != MESSAGE:
        raise ValueError("revision 4 carries binary data in message packets only")
    if binary_ok:
        return raw
    return "b" + _b64encode(raw)


def _decode_text(text: str, revision: int) -> Decoded:
    """One packet written as text (a WebSocket text frame or one packet of a payload)."""
    n = len(text)
    if n == 0:
        raise ProtocolError("empty Engine.IO packet", text)
    first = text[0]
    if first == "b":
        if revision == 3:
            if n < 2:
                raise ProtocolError("truncated base64 Engine.IO packet", text)
            ptype = _TYPE_DIGITS.find(text[1])
            if ptype < 0:
                raise ProtocolError("unknown Engine.IO packet type", text)
            return (ptype, _b64decode(text[2:], text))
        return (MESSAGE, _b64decode(text[1:], text))
    ptype = _TYPE_DIGITS.find(first)
    if ptype < 0:
        raise ProtocolError("unknown Engine.IO packet type", text)
    return (ptype, text[1:])


def decode_packet(frame: str | bytes | bytearray | memoryview, revision: int) -> Decoded:
    if isinstance(frame, str):
        return _decode_text(frame, revision)
    raw = _as_bytes(frame)
    if revision == 3:
        if len(raw) == 0:
            raise ProtocolError("empty Engine.IO binary packet", raw)
        ptype = raw[0]
        if ptype > 6:
            raise ProtocolError("unknown Engine.IO packet type", raw)
        return (ptype, raw[1:])
    return (MESSAGE, raw)


# ---------------------------------------------------------------- payloads (polling)


def payload_item_size(
    ptype: int, data: str | bytes | bytearray | memoryview | None, revision: int
) -> int:
    """Bytes that one packet adds to a text payload (UTF-8), framing included."""
    if data is None:
        size = 1
    elif isinstance(data, str):
        size = 1 + (len(data) if data.isascii() else len(data.encode("utf-8", "surrogatepass")))
    else:
        n = len(data)
        size = 4 * ((n + 2) // 3) + (2 if revision == 3 else 1)
    if revision == 3:
        # "<length>:" in front; the length is in UTF-16 units, at most as many digits as bytes
        return size + len(str(size)) + 1
    return size + 1


def _encode_text_v3(ptype: int, data: str | bytes | bytearray | memoryview | None) -> str:
    if data is None:
        return _TYPE_DIGITS[ptype]
    if isinstance(data, str):
        return _TYPE_DIGITS[ptype] + data
    return "b" + _TYPE_DIGITS[ptype] + _b64encode(_as_bytes(data))


def _encode_binary_v3(packets: List[Tuple[int, Data]]) -> bytes:
    """The XHR2 framing: kind byte, one byte per length digit, 0xFF, then the packet."""
    out = bytearray()
    for item in packets:
        ptype = item[0]
        data = item[1]
        if ptype < 0 or ptype > 6:
            raise ValueError(f"unknown Engine.IO packet type {ptype!r}")
        if data is None or isinstance(data, str):
            body = (_TYPE_DIGITS[ptype] + ("" if data is None else data)).encode(
                "utf-8", "surrogatepass"
            )
            out.append(0)
        else:
            body = bytes((ptype,)) + _as_bytes(data)
            out.append(1)
        for ch in str(len(body)):
            out.append(ord(ch) - 48)
        out.append(255)
        out += body
    return bytes(out)


def encode_payload(packets: List[Tuple[int, Data]], revision: int, b64: bool = True) -> str | bytes:
    parts = []
    if revision == 3:
        if not b64:
            for item in packets:
                if not (item[1] is None or isinstance(item[1], str)):
                    return _encode_binary_v3(packets)
        if len(packets) == 0:
            return "0:"
        for item in packets:
            ptype = item[0]
            if ptype < 0 or ptype > 6:
                raise ValueError(f"unknown Engine.IO packet type {ptype!r}")
            text = _encode_text_v3(ptype, item[1])
            parts.append(str(utf16_len(text)))
            parts.append(":")
            parts.append(text)
        return "".join(parts)
    for item in packets:
        ptype = item[0]
        data = item[1]
        if ptype < 0 or ptype > 6:
            raise ValueError(f"unknown Engine.IO packet type {ptype!r}")
        if data is None:
            parts.append(_TYPE_DIGITS[ptype])
        elif isinstance(data, str):
            if SEPARATOR in data:
                # the separator cannot be escaped: the server would split the packet in two
                raise ValueError("a revision 4 polling payload cannot carry '\\x1e' in text")
            parts.append(_TYPE_DIGITS[ptype] + data)
        else:
            if ptype != MESSAGE:
                raise ValueError("revision 4 carries binary data in message packets only")
            parts.append("b" + _b64encode(_as_bytes(data)))
    return SEPARATOR.join(parts)


def _has_astral(text: str) -> bool:
    if text.isascii():
        return False
    return len(text.encode("utf-16-le", "surrogatepass")) != 2 * len(text)


def _decode_text_v3(body: str) -> List[Decoded]:
    end = len(body)
    if end == 0:
        raise ProtocolError("empty Engine.IO payload", body)
    astral = _has_astral(body)
    packets = []
    pos = 0
    while pos < end:
        # the decimal length, digits bounded before anything is built from it
        i = pos
        n = 0
        limit = pos + MAX_LENGTH_DIGITS
        while True:
            if i >= end or i > limit:
                raise ProtocolError("bad length in Engine.IO payload", body[pos : pos + 40])
            ch = body[i]
            if ch == ":":
                break
            if ch < "0" or ch > "9":
                raise ProtocolError("bad length in Engine.IO payload", body[pos : pos + 40])
            n = n * 10 + (ord(ch) - 48)
            i += 1
        if i == pos:
            raise ProtocolError("bad length in Engine.IO payload", body[pos : pos + 40])
        colon = i
        start = colon + 1
        if astral:
            # the length counts UTF-16 units: walk code points, astral ones count two
            stop = start
            units = 0
            while units < n and stop < end:
                units += 2 if ord(body[stop]) > 0xFFFF else 1
                stop += 1
            if units != n:
                raise ProtocolError("Engine.IO payload length does not match", body[pos : pos + 40])
        else:
            stop = start + n
            if stop > end:
                raise ProtocolError("Engine.IO payload length past the end", body[pos : pos + 40])
        if stop > start:
            packets.append(_decode_text(body[start:stop], 3))
        pos = stop
    return packets


def _decode_binary_v3(body: bytes) -> List[Decoded]:
    end = len(body)
    packets = []
    pos = 0
    while pos < end:
        kind = body[pos]
        if kind > 1:
            raise ProtocolError("bad packet kind in Engine.IO binary payload", body[pos : pos + 40])
        i = pos + 1
        n = 0
        digits = 0
        while True:
            if i >= end:
                raise ProtocolError("truncated Engine.IO binary payload", body[pos : pos + 40])
            d = body[i]
            i += 1
            if d == 255:
                break
            if d > 9 or digits == MAX_LENGTH_DIGITS:
                raise ProtocolError("bad length in Engine.IO binary payload", body[pos : pos + 40])
            n = n * 10 + d
            digits += 1
        if digits == 0:
            raise ProtocolError("bad length in Engine.IO binary payload", body[pos : pos + 40])
        if n > end - i:
            raise ProtocolError("Engine.IO payload length past the end", body[pos : pos + 40])
        chunk = body[i : i + n]
        if kind == 0:
            try:
                text = chunk.decode("utf-8")
            except UnicodeDecodeError:
                raise ProtocolError("invalid UTF-8 in Engine.IO payload", chunk) from None
            packets.append(_decode_text(text, 3))
        else:
            if n == 0:
                raise ProtocolError("empty Engine.IO binary packet", body[pos : pos + 40])
            ptype = chunk[0]
            if ptype > 6:
                raise ProtocolError("unknown Engine.IO packet type", chunk)
            packets.append((ptype, chunk[1:]))
        pos = i + n
    return packets


def _decode_text_v4(body: str) -> List[Decoded]:
    packets = []
    for part in body.split(SEPARATOR):
        packets.append(_decode_text(part, 4))
    return packets


def decode_payload(
    body: str | bytes | bytearray | memoryview, revision: int, max_payload: int | None = None
) -> List[Decoded]:
    if not isinstance(body, str):
        raw = _as_bytes(body)
        if max_payload is not None and len(raw) > max_payload:
            raise ProtocolError("Engine.IO payload larger than allowed", raw)
        if revision == 3 and len(raw) > 0 and raw[0] <= 1:
            return _decode_binary_v3(raw)
        try:
            body = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ProtocolError("invalid UTF-8 in Engine.IO payload", raw) from None
    elif max_payload is not None and len(body) > max_payload:
        raise ProtocolError("Engine.IO payload larger than allowed", body)
    if revision == 3:
        return _decode_text_v3(body)
    return _decode_text_v4(body)


def detect_revision(body: str | bytes | bytearray | memoryview) -> int:
    """3 when ``body`` uses revision-3 framing (``<digits>:`` or binary), else 4."""
    if isinstance(body, str):
        head = body[: MAX_LENGTH_DIGITS + 1]
    else:
        raw = _as_bytes(body[: MAX_LENGTH_DIGITS + 1])
        if len(raw) > 0 and raw[0] <= 1:
            return 3
        head = raw.decode("latin-1")
    i = 0
    n = len(head)
    while i < n and head[i] in _DIGITS:
        i += 1
    if 0 < i < n and head[i] == ":":
        return 3
    return 4
