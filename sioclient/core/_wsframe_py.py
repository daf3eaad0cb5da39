"""WebSocket framing (RFC 6455) for the client side: the data-path hot loop, sans I/O.

``FrameReader.feed(data)`` splits what the server sent into frames.  The common case, a whole
unfragmented text or binary message with no reserved bit set, comes out as the message itself
(``str`` or ``bytes``); every other frame (control frames, fragments, compressed frames, text
that is not UTF-8) comes out as a ``(first_byte, payload)`` tuple for the caller to handle,
in stream order (``others`` tells how many of the last ``feed``'s items are such tuples: none,
and the list holds whole messages only).  A violation that the header alone shows stops the parsing: ``feed`` returns
what came before it and ``error`` holds a ``FrameError`` with the close code to send.  The size
bound is checked on the header, before the payload is buffered.

``FrameWriter.encode(messages)`` frames client messages (``str`` as text, bytes as binary),
masked with keys from a pool of ``os.urandom`` bytes, into one ``bytes``.

Why by hand rather than wsproto's framing: profiling the client's message loop showed
wsproto's per-frame work (event objects, generic state machine, masking in Python) as its
largest cost; this loop, compiled, took a server-to-client flood from about 27,000 to over
100,000 events/s.  wsproto still supplies the handshake helpers and the extension interface.
"""

from __future__ import annotations

import os
from typing import Iterable, Tuple, Union

try:  # Cython's pure-Python shim: True only in the compiled twin
    import cython

    _COMPILED = bool(cython.compiled)
except ImportError:
    _COMPILED = False

OP_CONTINUATION = 0
OP_TEXT = 1
OP_BINARY = 2
OP_CLOSE = 8
OP_PING = 9
OP_PONG = 10

#: what ``FrameReader.feed`` returns: a whole message, or ``(first_byte, payload)``
Message = Union[str, bytes, Tuple[int, bytes]]

_MASK_POOL = 512  # bytes of urandom fetched at once (128 mask keys): small per connection


class FrameError(Exception):
    """The server broke the framing; ``code`` is the close code to answer with."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class FrameReader:
    """Splits the server's byte stream into messages and frames (see the module docstring)."""

    def __init__(self, max_size: int) -> None:
        self.max_size = max_size
        self._buf = b""
        self._fragmented = False  # a fragmented message is being received
        #: the FrameError that stopped the parsing, if any (nothing more is parsed after it)
        self.error: FrameError | None = None
        self._partial_out: list[Message] | None = (
            None  # the output of a feed() cut short by an error
        )
        #: how many items of the last ``feed()``'s list are ``(first_byte, payload)`` frames
        self.others = 0

    def feed(self, data: bytes) -> list[Message]:
        self.others = 0
        if self.error is not None:
            return []
        try:
            return self._feed(data)
        except FrameError as exc:
            # kept without its traceback, whose frames would hold the caller's objects (the
            # connection reading) in a cycle through this reader
            self.error = exc.with_traceback(None)
            self._buf = b""
            partial = self._partial_out
            # _feed sets it before anything can raise, so it is never None here
            return partial if partial is not None else []

    def _feed(self, data: bytes) -> list[Message]:
        buf = self._buf + data if self._buf else data
        n = len(buf)
        pos = 0
        out: list[Message] = []
        self._partial_out = out
        fragmented = self._fragmented
        others = 0
        while n - pos >= 2:
            b0 = buf[pos]
            b1 = buf[pos + 1]
            if b1 & 0x80:
                raise FrameError(1002, "masked frame from the server")
            length = b1 & 0x7F
            head = 2
            if length == 126:
                if n - pos < 4:
                    break
                length = (buf[pos + 2] << 8) | buf[pos + 3]
                head = 4
            elif length == 127:
                if n - pos < 10:
                    break
                if buf[pos + 2] & 0x80:
                    raise FrameError(1002, "frame length over 2**63")
                length = int.from_bytes(buf[pos + 2 : pos + 10], "big")
                head = 10
            opcode = b0 & 0x0F
            if opcode >= 8:
                if opcode > OP_PONG:
                    raise FrameError(1002, f"unknown opcode {opcode}")
                if length > 125 or not b0 & 0x80:
                    raise FrameError(1002, "control frames are short and unfragmented")
            elif opcode > OP_BINARY:
                raise FrameError(1002, f"unknown opcode {opcode}")
            if length > self.max_size:
                raise FrameError(1009, f"message over {self.max_size} bytes")
            if n - pos - head < length:
                break
            start = pos + head
            pos = start + length
            # a whole message: fin set, no reserved bit, text (0x81) or binary (0x82); text is
            # decoded straight from the buffer (compiled, without a slice of it first)
            if b0 == 0x81 and not fragmented:
                try:
                    out.append(buf[start:pos].decode("utf-8"))
                except UnicodeDecodeError:
                    out.append((b0, buf[start:pos]))
                    others += 1
                    self.others = others
                continue
            payload = buf[start:pos]
            if b0 == 0x82 and not fragmented:
                out.append(payload)
                continue
            if opcode < 8:
                # fin clear on a data frame starts (or continues) a fragmented message
                fragmented = not b0 & 0x80
            out.append((b0, payload))
            others += 1
            self.others = others
        self._fragmented = fragmented
        self._buf = buf[pos:] if pos < n else b""
        self._partial_out = None
        return out


class FrameWriter:
    """Frames and masks client messages."""

    def __init__(self) -> None:
        self._pool = b""
        self._at = 0

    def _mask_key(self) -> bytes:
        at = self._key_at()
        return self._pool[at : at + 4]

    def _key_at(self) -> int:
        """Where the next mask key starts in the pool (refilled when used up)."""
        at = self._at
        if at + 4 > len(self._pool):
            self._pool = os.urandom(_MASK_POOL)
            at = 0
        self._at = at + 4
        return at

    def text(self, text: str) -> bytes:
        """The text frame of ``text``: ``frame(0x81, text.encode("utf-8"))``."""
        if _COMPILED:
            at = self._key_at()
            return _ws_text_frame(text, self._pool, at)  # type: ignore[name-defined,no-any-return] # noqa: F821
        return self.frame(0x81, text.encode("utf-8"))

    def frame(self, first: int, payload: bytes) -> bytes:
        """One frame: ``first`` is the first header byte (fin, rsv bits, opcode)."""
        if _COMPILED:
            at = self._key_at()
            return _ws_frame(first, payload, self._pool, at)  # type: ignore[name-defined,no-any-return] # noqa: F821
        n = len(payload)
        if n < 126:
            head = bytes((first, 0x80 | n))
        elif n < 65536:
            head = bytes((first, 0xFE, n >> 8, n & 0xFF))
        else:
            head = bytes((first, 0xFF)) + n.to_bytes(8, "big")
        key = self._mask_key()
        if not n:
            return head + key
        # XOR as one big integer: linear time in C, even for long payloads
        k = int.from_bytes((key * ((n >> 2) + 1))[:n], "little")
        masked = (int.from_bytes(payload, "little") ^ k).to_bytes(n, "little")
        return head + key + masked

    def encode(self, messages: Iterable[str | bytes | bytearray | memoryview]) -> bytes:
        """Frames ``str`` messages as text and bytes-like ones as binary, in order."""
        parts = []
        for m in messages:
            if isinstance(m, str):
                parts.append(self.text(m))
            else:
                parts.append(self.frame(0x82, bytes(m)))
        return b"".join(parts)


__all__ = [
    "OP_BINARY",
    "OP_CLOSE",
    "OP_CONTINUATION",
    "OP_PING",
    "OP_PONG",
    "OP_TEXT",
    "FrameError",
    "FrameReader",
    "FrameWriter",
]
