"""WebSocket client on wsproto over gevent sockets (TLS, permessage-deflate, bounded messages).

Cooperative under gevent without monkey patching, and correct with it.  Nothing here knows about
Engine.IO::

    ws = connect("wss://example.com/socket.io/?EIO=4&transport=websocket",
                 {"Origin": "https://example.com"}, cookies=jar, ssl_context=ctx, timeout=10)
    ws.send("2probe")                    # str -> text frame, bytes -> binary frame
    ws.send_many(["4a", b"\\x04b"])       # several messages, one sendall
    msg = ws.receive(timeout=30)         # str | bytes, None once the connection is closed
    ws.close()

The opening handshake is written with h11; a refusal (any status but 101) raises
``HandshakeRefused`` (a ``sioclient.ConnectionError``) carrying ``status``, ``headers`` and the
response ``body``.  Cookies from a ``CookieJar`` go into the request and ``Set-Cookie`` headers of
the answer go back into it.  Frames are handled by a ``wsproto.Connection`` given one extension
of ours (``_MessageCodec``), which does two jobs wsproto's own extension cannot:

- per-message compression control: with permessage-deflate negotiated, a message is compressed
  only when ``compress=True`` and it is at least ``threshold`` bytes long (1024, as Node's ``ws``);
  otherwise it goes out as a plain frame with RSV1 clear;
- size bounds: a frame whose header announces more than ``max_message_size`` is refused before
  any of it is buffered, and inflation stops as soon as the output would exceed it, so neither a
  huge frame nor a compression bomb can exhaust memory (close code 1009).

Concurrency: one reader greenlet calls ``receive()``; any number of greenlets may send (writes
are serialised by a lock, which also keeps the compressor's stream in order).  Pings are
answered from ``receive()``.  Performance: the socket is read 64 KiB at a time and every decoded
message queued, and ``send_many`` frames a batch into one ``sendall``.

Errors: ``sioclient.ConnectionError`` (refused, reset, DNS, TLS, sending on a closed socket),
``sioclient.TimeoutError`` (``connect`` or ``receive(timeout=...)``).  A protocol violation by
the server closes the connection with the matching close code: ``receive()`` returns None and
``close_code``/``close_reason`` say why.
"""

from __future__ import annotations

import zlib
from collections import deque
from time import monotonic
from typing import Any, Iterable, Mapping, Sequence, Tuple, Union

import gevent.event
import gevent.lock
import h11
from wsproto.connection import Connection, ConnectionState, ConnectionType
from wsproto.events import (
    BytesMessage,
    CloseConnection,
    Ping,
    Pong,
    TextMessage,
)
from wsproto.extensions import Extension
from wsproto.frame_protocol import CloseReason, Opcode, RsvBits
from wsproto.utilities import LocalProtocolError, generate_accept_token, generate_nonce

from ..exceptions import ConnectionError, TimeoutError
from .cookies import CookieJar
from .http import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_HEADER,
    host_header,
    open_connection,
    parse_url,
    time_limit,
)
from .tls import Verify, create_ssl_context, server_name

#: default bound of one received message, after inflation (bytes)
DEFAULT_MAX_MESSAGE = 64 * 1024 * 1024
#: messages shorter than this are never compressed (Node's ws default)
COMPRESS_THRESHOLD = 1024
#: how much of a refusal's body is kept
MAX_REFUSAL_BODY = 64 * 1024
RECV_SIZE = 65536

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
_OPEN = ConnectionState.OPEN
_REMOTE_CLOSING = ConnectionState.REMOTE_CLOSING


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
        self._data_frame = False
        self._inflating = False
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

    def frame_inbound_header(self, proto, opcode, rsv, payload_length):  # type: ignore[no-untyped-def]
        if payload_length > self.max_size:
            return CloseReason.MESSAGE_TOO_BIG
        if opcode.iscontrol():
            self._data_frame = False
            if rsv.rsv1:
                return CloseReason.PROTOCOL_ERROR
        else:
            self._data_frame = True
            if opcode is Opcode.CONTINUATION:
                if rsv.rsv1:
                    return CloseReason.PROTOCOL_ERROR
            else:
                self._inflating = rsv.rsv1 and self.deflate
                self._inflated = 0
                if self._inflating and self._decompressor is None:
                    # 15 inflates whatever window the server chose
                    self._decompressor = zlib.decompressobj(-15)
        return RsvBits(self.deflate, False, False)

    def _inflate(self, data: bytes) -> bytes | CloseReason:
        room = self.max_size - self._inflated
        try:
            out = self._decompressor.decompress(data, room + 1)
        except zlib.error:
            return CloseReason.INVALID_FRAME_PAYLOAD_DATA
        if len(out) > room:
            return CloseReason.MESSAGE_TOO_BIG
        self._inflated += len(out)
        return out

    def frame_inbound_payload_data(self, proto, data):  # type: ignore[no-untyped-def]
        if self._inflating and self._data_frame:
            return self._inflate(data)
        return data

    def frame_inbound_complete(self, proto, fin):  # type: ignore[no-untyped-def]
        if not (fin and self._inflating and self._data_frame):
            return None
        out = self._inflate(b"\x00\x00\xff\xff")
        self._inflating = False
        if self.server_no_context_takeover:
            self._decompressor = None
        return out

    # -- outbound -----------------------------------------------------------------------------

    def frame_outbound(self, proto, opcode, rsv, data, fin):  # type: ignore[no-untyped-def]
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


def _header_list(headers: Headers) -> list[tuple[str, str]]:
    if headers is None:
        return []
    if isinstance(headers, Mapping):
        return list(headers.items())
    return list(headers)


def _tokens(value: str) -> list[str]:
    return [t.strip() for t in value.split(",") if t.strip()]


class WebSocket:
    """An open WebSocket connection; made by ``connect()`` (see the module docstring)."""

    def __init__(
        self,
        sock: Any,
        conn: Connection,
        codec: _MessageCodec,
        subprotocol: str | None,
        response_headers: list[tuple[str, str]],
        max_message_size: int,
    ) -> None:
        self._sock = sock
        self._conn = conn
        self._codec = codec
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
        self._partial_size = 0
        self._write_lock = gevent.lock.Semaphore()
        self._closed = False
        self._closed_event = gevent.event.Event()
        self._reading = False

    @property
    def closed(self) -> bool:
        """True once the connection is closed (messages already received may still be read)."""
        return self._closed

    # -- sending ------------------------------------------------------------------------------

    def _frame(self, data: str | bytes | bytearray | memoryview) -> bytes:
        if isinstance(data, str):
            return self._conn.send(TextMessage(data=data))
        return self._conn.send(BytesMessage(data=data))

    def _write(self, out: bytes) -> None:
        try:
            self._sock.sendall(out)
        except OSError as exc:
            raise ConnectionError(f"WebSocket send failed: {exc}") from exc

    def send(self, data: str | bytes, compress: bool = True) -> None:
        """Sends one message: ``str`` as a text frame, bytes-like as a binary one."""
        with self._write_lock:
            if self._closed:
                raise ConnectionError("the WebSocket is closed")
            self._codec.compress_next = compress
            try:
                out = self._frame(data)
            except LocalProtocolError as exc:
                raise ConnectionError(f"the WebSocket is closing: {exc}") from exc
            self._write(out)

    def send_many(self, messages: Iterable[str | bytes], compress: bool = True) -> None:
        """Sends several messages, in order, with one ``sendall``."""
        with self._write_lock:
            if self._closed:
                raise ConnectionError("the WebSocket is closed")
            self._codec.compress_next = compress
            frame = self._frame
            try:
                out = b"".join([frame(m) for m in messages])
            except LocalProtocolError as exc:
                raise ConnectionError(f"the WebSocket is closing: {exc}") from exc
            self._write(out)

    def ping(self, payload: bytes = b"") -> None:
        """Sends a WebSocket ping (the answer is consumed by ``receive()``)."""
        with self._write_lock:
            if self._closed:
                raise ConnectionError("the WebSocket is closed")
            self._write(self._conn.send(Ping(payload=payload)))

    def _send_quietly(self, event: Any) -> None:
        # Control answers while closing: a dead socket is not an error worth raising.
        with self._write_lock:
            try:
                self._sock.sendall(self._conn.send(event))
            except (OSError, LocalProtocolError):
                pass

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

    def _pump(self, timeout: float | None) -> None:
        """Reads once from the socket (at most ``timeout`` seconds) and handles the events."""
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
        if self._closed:
            return
        if self._conn.state is ConnectionState.CLOSED:
            self._finish(CloseReason.ABNORMAL_CLOSURE, "connection lost")
            return
        self._conn.receive_data(data or None)  # None: EOF
        self._handle_events()

    def _handle_events(self) -> None:
        ready = self._ready
        for event in self._conn.events():
            kind = type(event)
            if kind is TextMessage or kind is BytesMessage:
                if event.message_finished and not self._partial:
                    ready.append(event.data)
                else:
                    self._add_fragment(event)
            elif kind is Ping:
                self._send_quietly(event.response())
            elif kind is CloseConnection:
                self._on_close(event)
                return
            elif kind is Pong:
                pass

    def _add_fragment(self, event: Any) -> None:
        self._partial.append(event.data)
        self._partial_size += len(event.data)
        if self._partial_size > self.max_message_size:
            self._partial = []
            self._partial_size = 0
            if self._conn.state is _OPEN:
                self._send_quietly(
                    CloseConnection(code=CloseReason.MESSAGE_TOO_BIG, reason="message too big")
                )
            self._finish(CloseReason.MESSAGE_TOO_BIG, "message too big")
            return
        if event.message_finished:
            parts, self._partial, self._partial_size = self._partial, [], 0
            empty = "" if type(event) is TextMessage else b""
            self._ready.append(empty.join(parts))

    def _on_close(self, event: CloseConnection) -> None:
        state = self._conn.state
        if state is _REMOTE_CLOSING:
            self._send_quietly(event.response())  # echo the server's close
        elif state is _OPEN:
            # wsproto reports a protocol violation as a close event without changing state:
            # tell the server why, then drop the connection.
            self._send_quietly(CloseConnection(code=event.code, reason=event.reason))
        reason = event.reason or ""
        if event.code == CloseReason.MESSAGE_TOO_BIG and state is _OPEN:
            reason = f"message over {self.max_message_size} bytes"
        self._finish(int(event.code), reason)

    def _finish(self, code: int, reason: str | None) -> None:
        if self.close_code is None:
            self.close_code = int(code)
            self.close_reason = reason or ""
        self._closed = True
        try:
            self._sock.close()
        finally:
            self._closed_event.set()

    # -- closing ------------------------------------------------------------------------------

    def close(self, code: int = 1000, reason: str = "", timeout: float = 2.0) -> None:
        """The closing handshake: sends a close frame and waits up to ``timeout`` for the
        answer (read by the reader greenlet if there is one), then closes the socket."""
        if self._closed:
            return
        if self._conn.state is _OPEN:
            self._send_quietly(CloseConnection(code=code, reason=reason or None))
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
    h = h11.Connection(h11.CLIENT, max_incomplete_event_size=max_header)
    try:
        sock.sendall(h.send(h11.Request(method="GET", target=target, headers=req_headers)))
    except h11.LocalProtocolError as exc:
        raise ValueError(f"invalid handshake request: {exc}") from exc
    except OSError as exc:
        raise ConnectionError(f"WebSocket handshake failed: {exc}") from exc

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
) -> WebSocket:
    """Opens a WebSocket: TCP (+TLS) and the opening handshake, all within ``timeout``.

    Give ``url`` (``ws://``, ``wss://``, ``http(s)://``) or ``host``/``port``/``target``/
    ``secure``.  ``headers`` are added to the upgrade request.  ``per_message_deflate`` is
    True/False or a dict of ``client_no_context_takeover``, ``server_no_context_takeover``,
    ``client_max_window_bits``, ``server_max_window_bits``, ``threshold``.  TLS comes from
    ``ssl_context``, or is built from ``verify``/``cert``/``key``.
    """
    if url is not None:
        secure, host, port, target = parse_url(url)
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
        sock = open_connection(host, port, None, ssl_context)
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
    conn = Connection(ConnectionType.CLIENT, [codec])
    ws = WebSocket(sock, conn, codec, subprotocol, resp_headers, max_message_size)
    if trailing:
        # Frames the server sent right behind its 101 (an Engine.IO open packet, say).
        conn.receive_data(trailing)
        ws._handle_events()
    return ws


__all__ = [
    "COMPRESS_THRESHOLD",
    "DEFAULT_MAX_MESSAGE",
    "HandshakeRefused",
    "WebSocket",
    "connect",
]
