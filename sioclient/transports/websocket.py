"""WebSocket client over gevent sockets (TLS, permessage-deflate, bounded messages).

Cooperative under gevent without monkey patching, and correct with it.  Nothing here knows about
Engine.IO::

    ws = connect("wss://example.com/socket.io/?EIO=4&transport=websocket",
                 {"Origin": "https://example.com"}, cookies=jar, ssl_context=ctx, timeout=10)
    ws.send("2probe")                    # str -> text frame, bytes -> binary frame
    ws.send_many(["4a", b"\\x04b"])       # several messages, one write
    msg = ws.receive(timeout=30)         # str | bytes, None once the connection is closed
    ws.close()

The opening handshake is written with h11; a refusal (any status but 101) raises
``HandshakeRefused`` (a ``sioclient.ConnectionError``) carrying ``status``, ``headers`` and the
response ``body``.  Cookies from a ``CookieJar`` go into the request and ``Set-Cookie`` headers of
the answer go back into it.  Frames are read and written by the ``wsframe`` hot module (compiled,
with a pure-Python twin); ``_MessageCodec`` negotiates permessage-deflate and does two jobs that
wsproto's own extension cannot:

- per-message compression control: with permessage-deflate negotiated, a message is compressed
  only when ``compress=True`` and it is at least ``threshold`` bytes long (1024, as Node's ``ws``);
  otherwise it goes out as a plain frame with RSV1 clear;
- size bounds: a frame whose header announces more than ``max_message_size`` is refused before
  any of it is buffered, and inflation stops as soon as the output would exceed it, so neither a
  huge frame nor a compression bomb can exhaust memory (close code 1009).

Concurrency: one reader at a time, either a greenlet blocked in ``receive()`` or a caller that
waits for readability on ``fileno()`` itself and takes ``receive_available()`` (no greenlet
parked per idle connection); any number of greenlets may send.  Pings are answered as they are
read.  Performance: the socket is read 64 KiB at a time and every decoded message queued,
``send_many`` frames a batch into one write, and the sends after the first of a loop iteration
are gathered (up to ``GATHER_LIMIT`` bytes) and written together before the loop polls again
(``flush()`` writes them at once; ``write_calls`` counts the system calls that wrote).

Sending never blocks: a send writes what the kernel takes at once and keeps the rest, in order,
in a buffer that a write-readiness watcher flushes from the event loop.  ``buffered_amount`` is
the number of bytes waiting there (as a browser's ``bufferedAmount``), ``writable`` is False
while it is at least ``max_buffer`` (a sender that wants back-pressure waits then: the buffer
itself takes every send, so one large message never deadlocks), ``on_writable`` is called
when it falls below that again or the connection fails, and ``stalled_since`` is the last time
a byte went out while some wait (None when none wait): a caller bounds how long a peer that
stopped reading may hold them.  No greenlet ever holds a lock across a blocking write.

Errors: ``sioclient.ConnectionError`` (refused, reset, DNS, TLS, sending on a closed socket),
``sioclient.TimeoutError`` (``connect`` or ``receive(timeout=...)``).  A protocol violation by
the server closes the connection with the matching close code: ``receive()`` returns None and
``close_code``/``close_reason`` say why.
"""

from __future__ import annotations

import atexit
import ssl
import zlib
from collections import deque
from time import monotonic
from typing import Any, Callable, Iterable, Mapping, Sequence, Tuple, Union

import gevent.event
import h11
from gevent import get_hub
from wsproto.extensions import Extension
from wsproto.frame_protocol import CloseReason, FrameDecoder, FrameProtocol, Opcode, RsvBits
from wsproto.utilities import generate_accept_token, generate_nonce

from ..core import _accel
from ..exceptions import ConnectionError, TimeoutError
from ..url import split_url
from .cookies import CookieJar
from .http import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_HEADER,
    _header_list,
    host_header,
    invalid_request,
    open_connection,
    time_limit,
)
from .proxy import Proxy
from .tls import Verify, create_ssl_context, server_name

#: default bound of one received message, after inflation (bytes)
DEFAULT_MAX_MESSAGE = 64 * 1024 * 1024
#: messages shorter than this are never compressed (Node's ws default)
COMPRESS_THRESHOLD = 1024
#: how much of a refusal's body is kept
MAX_REFUSAL_BODY = 64 * 1024
#: default ``max_buffer``: unwritten bytes beyond which ``writable`` is False
DEFAULT_MAX_BUFFER = 1024 * 1024
RECV_SIZE = 65536
#: bytes of the writes of one loop iteration gathered into one write (see ``WebSocket._write``)
GATHER_LIMIT = 64 * 1024

# ``WebSocket._wrote_in`` while its gathered write waits for the burst writer
_DEFERRED = -2

#: system calls that wrote (or tried to write) WebSocket bytes, all connections of the process
write_calls = 0

#: the WebSockets with a gathered write due before the loop polls again: written at exit too, so
#: that a script whose last emits were made without yielding to the loop still sends them
_gathering: set[WebSocket] = set()


@atexit.register
def _write_gathered_at_exit() -> None:
    for ws in list(_gathering):
        try:
            ws._write_gathered()
        except Exception:  # noqa: BLE001 - the process is ending; what failed is lost anyway
            pass


Headers = Union[Mapping[str, str], Sequence[Tuple[str, str]], None]

_DEFLATE_KEYS = frozenset(
    (
        "client_no_context_takeover",
        "server_no_context_takeover",
        "client_max_window_bits",
        "server_max_window_bits",
        "threshold",
    )
)
_NO_RSV = RsvBits(False, False, False)


_NO_ANSWER = "the server closed the connection before answering the WebSocket handshake"


class HandshakeRefused(ConnectionError):
    """The server answered the upgrade request with ``status`` instead of 101."""

    def __init__(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        super().__init__(f"WebSocket handshake refused: HTTP {status}", data=body)
        self.status = status
        self.headers = headers
        self.body = body


class _MessageCodec(Extension):
    """permessage-deflate (RFC 7692) with per-message control, and the inbound size bound.

    Always installed: without deflate negotiated it only bounds frame sizes.
    """

    name = "permessage-deflate"

    def __init__(self, options: Mapping[str, Any] | None, max_size: int) -> None:
        options = dict(options or {})
        unknown = set(options) - _DEFLATE_KEYS
        if unknown:
            raise ValueError(f"unknown per_message_deflate option(s): {sorted(unknown)}")
        self.max_size = max_size
        self.threshold = int(options.get("threshold", COMPRESS_THRESHOLD))
        self._want = options
        self.deflate = False  # negotiated
        self.client_no_context_takeover = False
        self.server_no_context_takeover = False
        self.client_wbits = 15
        #: set by the sender before each message, under the write lock
        self.compress_next = True
        self._compressor: Any = None
        self._decompressor: Any = None
        self._inflated = 0

    def enabled(self) -> bool:
        return True

    def offer(self) -> str:
        want = self._want
        params = ["permessage-deflate"]
        if want.get("client_no_context_takeover"):
            params.append("client_no_context_takeover")
        if want.get("server_no_context_takeover"):
            params.append("server_no_context_takeover")
        bits = want.get("client_max_window_bits", True)
        # A bare client_max_window_bits lets the server pick our window (as Node's ws offers).
        params.append("client_max_window_bits" + ("" if bits is True else f"={int(bits)}"))
        if want.get("server_max_window_bits"):
            params.append(f"server_max_window_bits={int(want['server_max_window_bits'])}")
        return "; ".join(params)

    def finalize(self, accepted: str) -> None:
        """Applies the server's answer; raises ValueError when it is not acceptable."""
        for part in accepted.split(";")[1:]:
            key, _, value = part.strip().partition("=")
            key, value = key.strip().lower(), value.strip().strip('"')
            if key == "client_no_context_takeover":
                self.client_no_context_takeover = True
            elif key == "server_no_context_takeover":
                self.server_no_context_takeover = True
            elif key == "client_max_window_bits":
                bits = int(value) if value else 15
                if not 8 <= bits <= 15:
                    raise ValueError(f"client_max_window_bits={value}")
                self.client_wbits = max(bits, 9)  # zlib cannot do 8 for raw deflate
            elif key == "server_max_window_bits":
                if not value or not 8 <= int(value) <= 15:
                    raise ValueError(f"server_max_window_bits={value}")
            else:
                raise ValueError(f"unknown permessage-deflate parameter {key!r}")
        self.deflate = True

    # -- inbound ------------------------------------------------------------------------------

    def _inflate(self, data: bytes) -> bytes | CloseReason:
        room = self.max_size - self._inflated
        try:
            out: bytes = self._decompressor.decompress(data, room + 1)
        except zlib.error:
            return CloseReason.INVALID_FRAME_PAYLOAD_DATA
        if len(out) > room:
            return CloseReason.MESSAGE_TOO_BIG
        self._inflated += len(out)
        return out

    # -- outbound -----------------------------------------------------------------------------

    def frame_outbound(
        self,
        proto: FrameDecoder | FrameProtocol | None,
        opcode: Opcode,
        rsv: RsvBits,
        data: bytes,
        fin: bool,
    ) -> tuple[RsvBits, bytes]:
        # Only whole messages are sent, so every data frame here is a message of its own.
        if not (self.deflate and self.compress_next) or len(data) < self.threshold:
            return rsv, data
        if opcode.iscontrol():
            return rsv, data
        if self._compressor is None:
            self._compressor = zlib.compressobj(
                zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -self.client_wbits
            )
        out = self._compressor.compress(data) + self._compressor.flush(zlib.Z_SYNC_FLUSH)
        if self.client_no_context_takeover:
            self._compressor = None
        return RsvBits(True, rsv.rsv2, rsv.rsv3), out[:-4]


def _tokens(value: str) -> list[str]:
    return [t.strip() for t in value.split(",") if t.strip()]


# connection states of the data phase
_ST_OPEN = 0
_ST_CLOSING = 1  # our close frame is out; the server's answer is awaited
_ST_CLOSED = 2

_VALID_CLOSE_CODES = frozenset(
    (1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014)
)


class WebSocket:
    """An open WebSocket connection; made by ``connect()`` (see the module docstring).

    After the handshake the frames are read and written by the ``wsframe`` hot module (a
    reader that hands whole messages out directly and a writer that masks): wsproto's
    per-frame machinery cost more than the rest of a Socket.IO event.
    """

    def __init__(
        self,
        sock: Any,
        codec: _MessageCodec,
        subprotocol: str | None,
        response_headers: list[tuple[str, str]],
        max_message_size: int,
        max_buffer: int = DEFAULT_MAX_BUFFER,
    ) -> None:
        wsframe = _accel.load("wsframe")
        self._sock = sock
        self._codec = codec
        self._reader = wsframe.FrameReader(max_message_size)
        self._writer = wsframe.FrameWriter()
        #: the subprotocol the server chose, or None
        self.subprotocol = subprotocol
        #: the headers of the 101 answer, names in lower case
        self.response_headers = response_headers
        #: True when permessage-deflate was negotiated
        self.per_message_deflate = codec.deflate
        self.max_message_size = max_message_size
        #: the close code and reason once closed (1006: the connection dropped without one)
        self.close_code: int | None = None
        self.close_reason: str | None = None
        self._ready: deque[str | bytes] = deque()
        self._partial: list[Any] = []
        self._partial_op = 0  # opcode of the fragmented message being received, 0: none
        self._partial_size = 0
        self._inflating = False
        self._state = _ST_OPEN
        # a plain gevent socket wraps a non-blocking OS socket that can be used directly for
        # reads and writes that must not wait (TLS sockets cannot: records, not bytes)
        self._raw = None if hasattr(sock, "pending") else getattr(sock, "_sock", None)
        # unwritten bytes, in order (a TLS write that would block is retried with the same
        # bytes, so TLS chunks are never split or merged); made when first needed
        self._out: deque[Any] | None = None
        #: bytes waiting in the send buffer
        self.buffered_amount = 0
        #: ``writable`` is False while ``buffered_amount`` is at least this
        self.max_buffer = max_buffer
        #: with bytes waiting: the last time any went out (or the first one waited); else None
        self.stalled_since: float | None = None
        #: called when ``writable`` turns True again, when the connection fails or closes, and
        #: when bytes of a gathered write (see ``_write``) start to wait, which no caller of
        #: ``send()`` saw (from the event loop's greenlet: it must not block)
        self.on_writable: Any = None
        self._write_watcher: Any = None
        self._write_error: ConnectionError | None = None
        # writes after the first of one loop iteration: gathered, written once before the
        # loop polls again (see _write); the iteration of the last write made at once, or
        # _DEFERRED while the gathered write is the burst writer's (see send_now)
        self._gather: bytearray | None = None
        self._wrote_in = -1
        # (29 attributes: one more and CPython gives every WebSocket an unshared 1.5 KiB dict)
        self._closed = False
        self._closed_event = gevent.event.Event()
        self._reading = False

    @property
    def closed(self) -> bool:
        """True once the connection is closed (messages already received may still be read)."""
        return self._closed

    # -- sending ------------------------------------------------------------------------------

    def _encode(self, messages: Iterable[str | bytes | bytearray | memoryview]) -> bytes:
        codec = self._codec
        if not (codec.deflate and codec.compress_next):
            return self._writer.encode(list(messages))
        frame = self._writer.frame
        parts = []
        for m in messages:
            if isinstance(m, str):
                op, data = Opcode.TEXT, m.encode("utf-8")
            else:
                op, data = Opcode.BINARY, bytes(m)
            rsv, data = codec.frame_outbound(None, op, _NO_RSV, data, True)
            parts.append(frame(0x80 | (0x40 if rsv.rsv1 else 0) | int(op), data))
        return b"".join(parts)

    @property
    def broken(self) -> bool:
        """True once nothing more can be sent: the connection is closed, or a write failed."""
        return self._closed or self._write_error is not None

    @property
    def writable(self) -> bool:
        """False while at least ``max_buffer`` bytes wait to be written (see the module doc)."""
        return self.buffered_amount < self.max_buffer or self._closed

    def _write(self, out: bytes | bytearray) -> None:
        """Writes ``out`` after what waits, without blocking; the rest waits in the buffer.

        The first write of a loop iteration goes to the kernel at once; later ones in the
        same iteration (a greenlet emitting many packets back to back, or many acks' callbacks
        run in one pass) are gathered and written together by a loop callback, which runs
        before the loop polls again: one system call instead of one each, the order kept.  At
        most ``GATHER_LIMIT`` bytes are gathered; beyond that they are written at once.
        """
        global write_calls
        if self._out:
            self._hold(out)
            return
        gather = self._gather
        if gather is not None:
            gather += out
            if len(gather) >= GATHER_LIMIT or self._wrote_in == _DEFERRED:
                # beyond the limit; or a write made outside a burst of wake-ups, which takes
                # the burst writer's gathered write along at once
                self._gather = None
                self._wrote_in = -1
                self._write(gather)
            return
        loop = get_hub().loop
        iteration = loop.iteration
        if iteration == self._wrote_in and iteration >= 0:  # (libuv does not count: -1)
            self._gather = bytearray(out)
            loop.run_callback(self._write_gathered)
            _gathering.add(self)
            return
        self._wrote_in = iteration
        write_calls += 1
        raw = self._raw
        if raw is not None:
            # one send() on the non-blocking socket usually takes it all (gevent's sendall
            # would ask the kernel for SO_SNDBUF on every call)
            try:
                sent = raw.send(out)
            except BlockingIOError:
                sent = 0
            except OSError as exc:
                raise ConnectionError(f"WebSocket send failed: {exc}") from exc
            if sent == len(out):
                return
            self._hold(memoryview(out)[sent:] if sent else out)
        else:
            try:
                if self._tls_send(out):
                    return
            except OSError as exc:
                raise ConnectionError(f"WebSocket send failed: {exc}") from exc
            self._hold(out)

    def _write_gathered(self) -> None:
        """The loop callback that writes what ``_write`` gathered in this iteration (or the
        function a deferring ``send_now`` handed it to)."""
        _gathering.discard(self)
        gather = self._gather
        if gather is None:
            return
        self._gather = None
        if self._closed or self._write_error is not None:
            return
        stalled = self.stalled_since
        self._wrote_in = -1
        try:
            self._write(gather)
        except ConnectionError as exc:
            self._write_failed(exc.__cause__ or exc)
            return
        if stalled is None and self.stalled_since is not None and self.on_writable is not None:
            self.on_writable()  # which no caller of send() saw: bytes now wait

    def flush(self) -> None:
        """Hands what the sends of this loop iteration gathered to the kernel now rather than
        before the loop polls again (what it does not take waits in the buffer as usual): for
        a program that may stop without yielding to the loop, after its last sends."""
        self._write_gathered()

    def _tls_send(self, data: Any) -> bool:
        """One non-blocking TLS write: True when all of ``data`` went out, False when it would
        block (retry with the same bytes)."""
        sock = self._sock
        sock.settimeout(0.0)
        try:
            return bool(sock.send(data))  # all or nothing (no partial TLS writes)
        finally:
            if not self._closed:
                sock.settimeout(None)

    def _hold(self, out: Any) -> None:
        if self._out is None:
            self._out = deque()
        self._out.append(out)
        self.buffered_amount += len(out)
        if self.stalled_since is None:
            self.stalled_since = monotonic()
        watcher = self._write_watcher
        if watcher is None:
            watcher = self._write_watcher = get_hub().loop.io(self._sock.fileno(), 2)
        if not watcher.active:
            watcher.start(self._flush_out)

    def _flush_out(self) -> None:
        """Writes what waits until the socket would block (run by the write watcher)."""
        global write_calls
        out = self._out
        if out is None:
            return
        raw = self._raw
        was_full = self.buffered_amount >= self.max_buffer
        wrote = False
        try:
            while out:
                chunk = out[0]
                size = len(chunk)
                write_calls += 1
                if raw is not None:
                    try:
                        sent = raw.send(chunk)
                    except BlockingIOError:
                        break
                else:
                    sent = size if self._tls_send(chunk) else 0
                if sent:
                    wrote = True
                    self.buffered_amount -= sent
                if sent < size:
                    if sent:
                        out[0] = memoryview(chunk)[sent:]
                    break
                out.popleft()
        except (OSError, ValueError) as exc:
            self._write_failed(exc)
            return
        if not out:
            self._stop_writing()
        elif wrote:
            self.stalled_since = monotonic()
        if was_full and self.buffered_amount < self.max_buffer and self.on_writable is not None:
            self.on_writable()

    def _stop_writing(self) -> None:
        self._out = None
        self.stalled_since = None
        watcher = self._write_watcher
        if watcher is not None:
            watcher.stop()

    def _write_failed(self, exc: BaseException) -> None:
        # the reader sees the same failure (a reset, a closed peer) and reports it
        self._write_error = ConnectionError(f"WebSocket send failed: {exc}")
        self._discard_output()
        if self.on_writable is not None:
            self.on_writable()

    def _discard_output(self) -> None:
        self._out = None
        self._gather = None
        _gathering.discard(self)
        self.buffered_amount = 0
        self.stalled_since = None
        watcher, self._write_watcher = self._write_watcher, None
        if watcher is not None:
            watcher.close()

    def _check_open(self) -> None:
        if self._closed:
            raise ConnectionError("the WebSocket is closed")
        if self._state != _ST_OPEN:
            raise ConnectionError("the WebSocket is closing")
        if self._write_error is not None:
            # a copy: the kept error, once raised, would hold this frame (and so this socket)
            # in its traceback, a cycle that only the cycle collector frees
            raise ConnectionError(*self._write_error.args)

    def send(self, data: str | bytes, compress: bool = True) -> None:
        """Sends one message: ``str`` as a text frame, bytes-like as a binary one."""
        if self._closed or self._state != _ST_OPEN or self._write_error is not None:
            self._check_open()
        codec = self._codec
        if type(data) is str:
            if not (codec.deflate and compress) or len(data.encode("utf-8")) < codec.threshold:
                # never compressed: framed as ``_encode`` would, without its list
                self._write(self._writer.text(data))
                return
        codec.compress_next = compress
        self._write(self._encode((data,)))

    def send_now(
        self,
        text: str,
        compress: bool = True,
        loop: Any = None,
        defer: Callable[[Callable[[], None]], None] | None = None,
    ) -> bool | None:
        """``send(text)`` for a caller that checks ``broken`` and ``writable`` first, in one
        call: None when nothing more can be sent (``broken``), False when ``max_buffer``
        bytes wait already (nothing is sent), True once sent (as ``send`` does, it raises
        ``ConnectionError`` when the connection is closing or the write fails).  ``loop``:
        the current thread's event loop, when the caller has it at hand.

        ``defer``: when given, the frame is not written now but starts a gathered write (as
        the second send of a loop iteration does) that ``defer`` is handed to call soon, in
        place of the loop callback; deferred sends made until then join it, in order, and
        any other write takes it along at once."""
        if self._closed or self._write_error is not None:
            return None
        if self.buffered_amount >= self.max_buffer:
            return False
        if self._state != _ST_OPEN:
            self._check_open()
        codec = self._codec
        if codec.deflate and compress and len(text.encode("utf-8")) >= codec.threshold:
            codec.compress_next = True
            out: bytes | bytearray = self._encode((text,))
            if defer is None:
                self._write(out)
                return True
        else:
            out = self._writer.text(text)
        if defer is not None:
            gather = self._gather
            if self._out:
                self._write(out)  # waits behind what waits
            elif gather is None:
                self._gather = bytearray(out)
                self._wrote_in = _DEFERRED
                _gathering.add(self)
                defer(self._write_gathered)
            elif len(gather) + len(out) < GATHER_LIMIT:
                gather += out  # joins the gathered write due anyway
            else:
                self._write(out)
            return True
        raw = self._raw
        if raw is None or self._out or self._gather is not None:
            self._write(out)
            return True
        # _write's first write of a loop iteration, inlined: one per round trip
        iteration = (get_hub().loop if loop is None else loop).iteration
        if iteration == self._wrote_in and iteration >= 0:
            self._write(out)  # gathered
            return True
        global write_calls
        self._wrote_in = iteration
        write_calls += 1
        try:
            sent = raw.send(out)
        except BlockingIOError:
            sent = 0
        except OSError as exc:
            raise ConnectionError(f"WebSocket send failed: {exc}") from exc
        if sent != len(out):
            self._hold(memoryview(out)[sent:] if sent else out)
        return True

    def send_many(self, messages: Iterable[str | bytes], compress: bool = True) -> None:
        """Sends several messages, in order, in one write."""
        self._check_open()
        self._codec.compress_next = compress
        self._write(self._encode(messages))

    def ping(self, payload: bytes = b"") -> None:
        """Sends a WebSocket ping (the answer is consumed by ``receive()``)."""
        self._check_open()
        self._write(self._writer.frame(0x89, bytes(payload)))

    def _send_quietly(self, frame: bytes) -> None:
        # Control answers while closing: a dead socket is not an error worth raising.
        if self._closed or self._write_error is not None:
            return
        try:
            self._write(frame)
        except ConnectionError:
            pass

    def _send_close(self, code: int, reason: str) -> None:
        """Our close frame (once); the state moves to closing."""
        if self._state != _ST_OPEN:
            return
        self._state = _ST_CLOSING
        payload = b"" if code == 1005 else code.to_bytes(2, "big") + reason.encode()[:123]
        self._send_quietly(self._writer.frame(0x88, payload))

    # -- receiving ----------------------------------------------------------------------------

    def receive(self, timeout: float | None = None) -> str | bytes | None:
        """The next message; None once the connection is closed.  One reader at a time.

        Raises ``sioclient.TimeoutError`` when ``timeout`` seconds pass without a message (the
        connection stays usable).
        """
        ready = self._ready
        if ready:
            return ready.popleft()
        if self._closed:
            return None
        self._reading = True
        try:
            if timeout is None:
                while not ready and not self._closed:
                    self._pump(None)
            else:
                deadline = monotonic() + timeout
                while not ready and not self._closed:
                    remaining = deadline - monotonic()
                    if remaining <= 0:
                        raise TimeoutError(f"no WebSocket message within {timeout:g} s")
                    self._pump(remaining)
        finally:
            self._reading = False
        return ready.popleft() if ready else None

    def receive_available(self) -> list[str | bytes] | None:
        """Every message that can be had without blocking: ``[]`` when none has arrived yet,
        None once the connection is closed and nothing is left to read.

        For a caller that waits for readability itself (a watcher on ``fileno()``) rather than
        parking a greenlet in ``receive()``: with thousands of idle connections, a parked
        greenlet each costs more memory than everything else a connection holds.
        """
        ready = self._ready
        if not ready and not self._closed:
            raw = self._raw
            if raw is None:
                self._pump_available()
            else:
                # the first round of _pump_available, inlined: one short read usually
                # drains the kernel buffer
                try:
                    data = raw.recv(RECV_SIZE)
                except BlockingIOError:
                    return []
                except OSError:
                    data = b""
                if not data:
                    self._finish(CloseReason.ABNORMAL_CLOSURE, "connection lost")
                elif len(data) < RECV_SIZE:
                    # a short read drained the kernel buffer; when it held whole messages
                    # only (the common case), the reader's list is the answer as it is
                    reader = self._reader
                    items = reader.feed(data)
                    if not reader.others and reader.error is None:
                        return items  # type: ignore[return-value]  # messages only
                    self._handle(items)
                else:
                    self._receive(data)
                    if not self._closed:
                        self._pump_available()
        if ready:
            out = list(ready)
            ready.clear()
            return out
        return None if self._closed else []

    def unread(self, messages: list[str | bytes]) -> None:
        """Puts messages taken from ``receive_available()`` back, ahead of the others."""
        self._ready.extendleft(reversed(messages))

    def fileno(self) -> int:
        fd: int = self._sock.fileno()
        return fd

    def _pump_available(self) -> None:
        """Reads until the socket would block (TLS may hold records the fd does not show)."""
        sock = self._sock
        raw = self._raw
        while not self._closed:
            if raw is not None:
                try:
                    data = raw.recv(RECV_SIZE)
                except BlockingIOError:
                    return
                except OSError:
                    data = b""
            else:
                sock.settimeout(0.0)
                try:
                    data = sock.recv(RECV_SIZE)
                except (BlockingIOError, ssl.SSLWantReadError):
                    return
                except OSError:
                    data = b""
                finally:
                    if not self._closed:
                        sock.settimeout(None)
            if not self._take(data):
                return
            if raw is not None and len(data) < RECV_SIZE:
                return  # a short read drained the kernel buffer (TLS may still hold records)

    def _pump(self, timeout: float | None) -> None:
        """Reads once from the socket (at most ``timeout`` seconds) and handles the frames."""
        try:
            if timeout is None:
                data = self._sock.recv(RECV_SIZE)
            else:
                # Only the read is interruptible: a timeout in the middle of writing a pong
                # would leave half a frame on the wire.
                with time_limit(timeout, "WebSocket receive"):
                    data = self._sock.recv(RECV_SIZE)
        except OSError:
            data = b""
        self._take(data)

    def _take(self, data: bytes) -> bool:
        """Handles what one read returned (b"": the connection dropped); False once closed."""
        if self._closed:
            return False
        if not data:
            self._finish(CloseReason.ABNORMAL_CLOSURE, "connection lost")
            return False
        self._receive(data)
        return not self._closed

    def _receive(self, data: bytes) -> None:
        self._handle(self._reader.feed(data))

    def _handle(self, items: list[Any]) -> None:
        """What the reader made of one read: messages are kept, frames left to us handled."""
        ready = self._ready
        if not self._reader.others:
            ready.extend(items)
        else:
            for item in items:
                if isinstance(item, tuple):  # (first byte, payload): a frame left to us
                    if not self._frame(item[0], item[1]):
                        return
                else:
                    ready.append(item)
        reader = self._reader
        if reader.error is not None:
            err = reader.error
            self._fail(err.code, err.reason)

    def _frame(self, b0: int, payload: bytes) -> bool:
        """A frame the reader left to us; False once the connection is closed."""
        op = b0 & 0x0F
        if b0 & 0x30 or (b0 & 0x40 and (op >= 8 or op == 0 or not self._codec.deflate)):
            return self._fail(CloseReason.PROTOCOL_ERROR, "reserved bits set")
        if op == 9:
            if self._state == _ST_OPEN:
                self._send_quietly(self._writer.frame(0x8A, payload))
            return True
        if op == 10:
            return True
        if op == 8:
            return self._on_close_frame(payload)
        if op == 0:
            if not self._partial_op:
                return self._fail(CloseReason.PROTOCOL_ERROR, "continuation of nothing")
        else:
            if self._partial_op:
                return self._fail(CloseReason.PROTOCOL_ERROR, "a message inside a fragmented one")
            self._partial_op = op
            self._inflating = bool(b0 & 0x40)
            if self._inflating:
                codec = self._codec
                codec._inflated = 0
                if codec._decompressor is None:
                    codec._decompressor = zlib.decompressobj(-15)  # any window the server chose
        fin = b0 & 0x80
        if self._inflating:
            out = self._codec._inflate(payload)
            if fin and not isinstance(out, CloseReason):
                tail = self._codec._inflate(b"\x00\x00\xff\xff")
                out = tail if isinstance(tail, CloseReason) else out + tail
                if self._codec.server_no_context_takeover:
                    self._codec._decompressor = None
            if isinstance(out, CloseReason):
                why = (
                    "message too big" if out == CloseReason.MESSAGE_TOO_BIG else "bad deflate data"
                )
                return self._fail(out, why)
            payload = out
        self._partial.append(payload)
        self._partial_size += len(payload)
        if self._partial_size > self.max_message_size:
            return self._fail(CloseReason.MESSAGE_TOO_BIG, "message too big")
        if not fin:
            return True
        parts, self._partial, self._partial_size = self._partial, [], 0
        whole = parts[0] if len(parts) == 1 else b"".join(parts)
        op, self._partial_op, self._inflating = self._partial_op, 0, False
        if op == 1:
            try:
                self._ready.append(whole.decode("utf-8"))
            except UnicodeDecodeError:
                return self._fail(CloseReason.INVALID_FRAME_PAYLOAD_DATA, "text is not UTF-8")
        else:
            self._ready.append(whole)
        return True

    def _on_close_frame(self, payload: bytes) -> bool:
        if not payload:
            code, reason = 1005, ""
        elif len(payload) == 1:
            return self._fail(CloseReason.PROTOCOL_ERROR, "one-byte close payload")
        else:
            code = int.from_bytes(payload[:2], "big")
            if code not in _VALID_CLOSE_CODES and not 3000 <= code <= 4999:
                return self._fail(CloseReason.PROTOCOL_ERROR, f"invalid close code {code}")
            try:
                reason = payload[2:].decode("utf-8")
            except UnicodeDecodeError:
                return self._fail(CloseReason.INVALID_FRAME_PAYLOAD_DATA, "close reason not UTF-8")
        self._send_close(code, reason)  # echo the server's close (nothing if ours is out)
        self._finish(code, reason)
        return False

    def _fail(self, code: int, reason: str) -> bool:
        """The server broke the protocol: tell it why, then drop the connection."""
        if code == CloseReason.MESSAGE_TOO_BIG:
            reason = f"message over {self.max_message_size} bytes"
        self._partial, self._partial_size = [], 0
        self._send_close(int(code), reason)
        self._finish(code, reason)
        return False

    def _finish(self, code: int, reason: str | None) -> None:
        if self.close_code is None:
            self.close_code = int(code)
            self.close_reason = reason or ""
        self._closed = True
        self._state = _ST_CLOSED
        self._discard_output()  # the watcher goes before its descriptor
        try:
            self._sock.close()
        finally:
            self._closed_event.set()
            if self.on_writable is not None:
                self.on_writable()

    # -- closing ------------------------------------------------------------------------------

    def close(self, code: int = 1000, reason: str = "", timeout: float = 2.0) -> None:
        """The closing handshake: sends a close frame and waits up to ``timeout`` for the
        answer (read by the reader greenlet if there is one), then closes the socket."""
        if self._closed:
            return
        self._send_close(code, reason)
        if self._reading:
            # The reader greenlet sees the answer and finishes; the wait only bounds it.
            self._closed_event.wait(timeout)
        else:
            self._reading = True
            deadline = monotonic() + timeout
            try:
                while not self._closed and deadline > monotonic():
                    self._pump(deadline - monotonic())
            except TimeoutError:
                pass  # a peer that never answers is closed all the same
            finally:
                self._reading = False
        self._finish(code, reason)

    def abort(self) -> None:
        """Closes the socket at once, without the closing handshake."""
        if not self._closed:
            self._finish(CloseReason.ABNORMAL_CLOSURE, "aborted")


#: how the parser of the answer is told what was asked (see _handshake)
_ANSWER_TO = h11.Request(
    method="GET",
    target="/",
    headers=[("Host", "-"), ("Upgrade", "websocket"), ("Connection", "Upgrade")],
)


def _upgrade_request(
    nonce: bytes,
    host_value: str,
    target: str,
    headers: list[tuple[str, str]],
    subprotocols: Sequence[str] | None,
    codec: _MessageCodec | None,
) -> h11.Request:
    req_headers = [
        ("Host", host_value),
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Key", nonce.decode("ascii")),
        ("Sec-WebSocket-Version", "13"),
    ]
    if subprotocols:
        req_headers.append(("Sec-WebSocket-Protocol", ", ".join(subprotocols)))
    if codec is not None:
        req_headers.append(("Sec-WebSocket-Extensions", codec.offer()))
    req_headers.extend(headers)
    try:
        return h11.Request(method="GET", target=target, headers=req_headers)
    except h11.LocalProtocolError as exc:
        raise invalid_request(exc) from None


def _handshake(
    sock: Any,
    host_value: str,
    target: str,
    headers: list[tuple[str, str]],
    subprotocols: Sequence[str] | None,
    codec: _MessageCodec | None,
    max_header: int,
) -> tuple[bytes, list[tuple[str, str]], str | None]:
    """Sends the upgrade request; returns (bytes after the 101 head, headers, subprotocol)."""
    nonce = generate_nonce()
    request = _upgrade_request(nonce, host_value, target, headers, subprotocols, codec)
    try:
        sock.sendall(h11.Connection(h11.CLIENT).send(request))
    except h11.LocalProtocolError as exc:
        raise invalid_request(exc) from None
    except OSError as exc:
        raise ConnectionError(f"WebSocket handshake failed: {exc}") from exc
    del request
    # The wait for the answer holds neither the request nor h11's state: after an outage every
    # client of a process waits here at once, and those were a dozen blocks more per attempt.
    try:
        data = sock.recv(RECV_SIZE)
    except OSError as exc:
        raise ConnectionError(f"WebSocket handshake failed: {exc}") from exc
    if not data:
        raise ConnectionError(_NO_ANSWER)
    # h11 reads an answer to a request it sent: what it needs of ours (a GET proposing an
    # upgrade) is given to this parser only, the request's bytes being on the wire already
    h = h11.Connection(h11.CLIENT, max_incomplete_event_size=max_header)
    h.send(_ANSWER_TO)
    h.receive_data(data)

    refusal: h11.Response | None = None
    body = bytearray()
    while True:
        try:
            event = h.next_event()
        except h11.RemoteProtocolError as exc:
            raise ConnectionError(f"bad answer to the WebSocket handshake: {exc}") from exc
        if event is h11.NEED_DATA:
            try:
                data = sock.recv(RECV_SIZE)
            except OSError as exc:
                raise ConnectionError(f"WebSocket handshake failed: {exc}") from exc
            if not data and refusal is None:
                # before any answer: h11 would only report a state error; a refusal's body
                # may legitimately end with the connection, so h11 goes on reading that one
                raise ConnectionError(_NO_ANSWER)
            h.receive_data(data)
            continue
        if isinstance(event, h11.InformationalResponse):
            if event.status_code == 101:
                break
            continue
        if isinstance(event, h11.Response):
            refusal = event
        elif isinstance(event, h11.Data):
            if len(body) < MAX_REFUSAL_BODY:
                body += event.data[: MAX_REFUSAL_BODY - len(body)]
        elif isinstance(event, (h11.EndOfMessage, h11.ConnectionClosed)):
            break
    if refusal is not None:
        hdrs = [(n.decode("latin-1"), v.decode("latin-1")) for n, v in refusal.headers]
        raise HandshakeRefused(refusal.status_code, hdrs, bytes(body))
    if not isinstance(event, h11.InformationalResponse):
        raise ConnectionError(_NO_ANSWER)  # the stream ended with neither 101 nor a refusal

    hdrs = [(n.decode("latin-1"), v.decode("latin-1")) for n, v in event.headers]
    values: dict[str, list[str]] = {}
    for name, value in hdrs:
        values.setdefault(name, []).append(value)

    def fail(why: str) -> ConnectionError:
        return ConnectionError(f"bad answer to the WebSocket handshake: {why}")

    if "websocket" not in [t.lower() for v in values.get("upgrade", []) for t in _tokens(v)]:
        raise fail("no 'Upgrade: websocket'")
    if "upgrade" not in [t.lower() for v in values.get("connection", []) for t in _tokens(v)]:
        raise fail("no 'Connection: Upgrade'")
    if values.get("sec-websocket-accept") != [generate_accept_token(nonce).decode("ascii")]:
        raise fail("wrong Sec-WebSocket-Accept")
    chosen = values.get("sec-websocket-protocol")
    subprotocol = None
    if chosen:
        subprotocol = chosen[0].strip()
        if subprotocol not in (subprotocols or ()):
            raise fail(f"subprotocol {subprotocol!r} was not offered")
    for value in values.get("sec-websocket-extensions", []):
        for ext in _tokens(value):
            name = ext.split(";", 1)[0].strip().lower()
            if codec is None or name != "permessage-deflate" or codec.deflate:
                raise fail(f"extension {ext!r} was not offered")
            try:
                codec.finalize(ext)
            except ValueError as exc:
                raise fail(f"permessage-deflate: {exc}") from exc
    return h.trailing_data[0], hdrs, subprotocol


def connect(
    url: str | None = None,
    headers: Headers = None,
    *,
    host: str | None = None,
    port: int | None = None,
    target: str = "/",
    secure: bool = False,
    subprotocols: Sequence[str] | None = None,
    per_message_deflate: bool | Mapping[str, Any] = True,
    timeout: float | None = DEFAULT_CONNECT_TIMEOUT,
    ssl_context: Any = None,
    verify: Verify = True,
    cert: str | None = None,
    key: str | None = None,
    cookies: CookieJar | None = None,
    max_message_size: int = DEFAULT_MAX_MESSAGE,
    max_header: int = DEFAULT_MAX_HEADER,
    proxy: Proxy | None = None,
    local_address: str | None = None,
) -> WebSocket:
    """Opens a WebSocket: TCP (+TLS) and the opening handshake, all within ``timeout``.

    Give ``url`` (``ws://``, ``wss://``, ``http(s)://``) or ``host``/``port``/``target``/
    ``secure``.  ``headers`` are added to the upgrade request.  ``per_message_deflate`` is
    True/False or a dict of ``client_no_context_takeover``, ``server_no_context_takeover``,
    ``client_max_window_bits``, ``server_max_window_bits``, ``threshold``.  TLS comes from
    ``ssl_context``, or is built from ``verify``/``cert``/``key``.  ``proxy`` (a
    ``proxy.Proxy``) opens the connection through an HTTP CONNECT tunnel; ``local_address``
    binds its source address.
    """
    if url is not None:
        secure, host, port, target = split_url(url)
    if host is None:
        raise ValueError("give url or host")
    secure = secure or ssl_context is not None
    host = server_name(host)
    port = port or (443 if secure else 80)
    if secure and ssl_context is None:
        ssl_context = create_ssl_context(verify, cert, key)
    if per_message_deflate is True:
        deflate_options: Mapping[str, Any] | None = {}
    elif per_message_deflate is False or per_message_deflate is None:
        deflate_options = None
    else:
        deflate_options = per_message_deflate
    codec = _MessageCodec(deflate_options or {}, max_message_size)
    extra = _header_list(headers)
    if cookies is not None:
        cookie = cookies.header(target, secure)
        if cookie:
            extra.append(("Cookie", cookie))

    with time_limit(timeout, f"WebSocket connect to {host}:{port}"):
        sock = open_connection(
            host, port, None, ssl_context, proxy=proxy, local_address=local_address
        )
        try:
            trailing, resp_headers, subprotocol = _handshake(
                sock,
                host_header(host, port, secure),
                target,
                extra,
                subprotocols,
                codec if deflate_options is not None else None,
                max_header,
            )
        except HandshakeRefused as exc:
            sock.close()
            if cookies is not None:
                cookies.extract(exc.headers, target, secure)
            raise
        except BaseException:
            sock.close()
            raise
    if cookies is not None:
        cookies.extract(resp_headers, target, secure)
    ws = WebSocket(sock, codec, subprotocol, resp_headers, max_message_size)
    if trailing:
        # Frames the server sent right behind its 101 (an Engine.IO open packet, say).
        ws._receive(trailing)
    return ws


__all__ = [
    "COMPRESS_THRESHOLD",
    "DEFAULT_MAX_MESSAGE",
    "HandshakeRefused",
    "WebSocket",
    "connect",
]
