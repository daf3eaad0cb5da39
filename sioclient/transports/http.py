"""HTTP/1.1 client on h11 over gevent sockets: keep-alive, TLS, cookies, bounded sizes.

Cooperative under gevent without monkey patching (gevent sockets and timeouts; no threads) and
equally correct in a monkey-patched process.  Nothing here knows about Engine.IO.

``HTTPClient`` is the entry point: requests to one origin over a small pool of keep-alive
connections that share one ``CookieJar``.  Two greenlets may call ``request()`` at the same time
(a long-polling GET and a POST); each takes its own connection::

    client = HTTPClient("https://example.com:8443", verify="ca.pem")
    resp = client.request("GET", "/socket.io/?EIO=4&transport=polling", timeout=20)
    resp.status, resp.header("content-type"), resp.body
    client.close()      # also aborts requests in flight: they raise ConnectionError

``HTTPConnection`` is one keep-alive connection (not safe for concurrent use).  A connection the
server closed while idle is replaced before the request is written; if a reused connection is
found dead only after the request was written (no byte of response), an idempotent request is
retried once on a new connection, a POST is not (the server might have acted on it).

Errors: ``sioclient.ConnectionError`` for refused, reset, DNS and TLS failures;
``sioclient.TimeoutError`` when ``connect_timeout`` or a request's ``timeout`` passes;
``sioclient.ProtocolError`` for a malformed response or one over ``max_header``/``max_body``.

Helpers shared with the WebSocket client: ``host_header()``,
``open_connection()`` and ``time_limit()``.
"""

from __future__ import annotations

import socket as _stdsocket
import ssl
import traceback
from typing import Any, List, Mapping, Sequence, Tuple, Union

import gevent
import h11
from gevent import socket as gsocket
from gevent.monkey import get_original

from ..exceptions import ConnectionError, ProtocolError, TimeoutError
from ..url import split_url
from .cookies import CookieJar
from .proxy import Proxy, tunnel
from .tls import Verify, create_ssl_context, server_name, wrap_socket

#: default bound of a response body (bytes)
DEFAULT_MAX_BODY = 64 * 1024 * 1024
#: default bound of a response head: status line plus headers (bytes)
DEFAULT_MAX_HEADER = 64 * 1024
DEFAULT_CONNECT_TIMEOUT = 10.0
RECV_SIZE = 65536

_IDEMPOTENT = frozenset((b"GET", b"HEAD", b"OPTIONS", b"PUT", b"DELETE", b"TRACE"))
# The unpatched select: a zero-timeout poll never blocks, and this way it never yields either.
_select = get_original("select", "select")

Headers = Union[Mapping[str, str], Sequence[Tuple[str, str]], None]


class time_limit:
    """``with time_limit(seconds, what):`` raises ``sioclient.TimeoutError`` in the calling
    greenlet when ``seconds`` pass (None: no limit).

    A class rather than a generator-based context manager: every connection attempt holds one
    while it waits, and the generator, its frame and contextlib's wrapper were three blocks
    more per attempt, times every client of a process after an outage."""

    __slots__ = ("seconds", "what", "timer")

    def __init__(self, seconds: float | None, what: str) -> None:
        self.seconds = seconds
        self.what = what
        self.timer: gevent.Timeout | None = None

    def __enter__(self) -> None:
        if self.seconds is not None:
            timer = self.timer = gevent.Timeout(self.seconds)
            timer.start()

    def __exit__(self, kind: Any, exc: Any, tb: Any) -> None:
        timer = self.timer
        if timer is None:
            return
        self.timer = None
        timer.close()
        if exc is timer:
            # its traceback holds the caller's frames, which hold this limit: a cycle, and
            # through the frames' callers the whole attempt kept until the collector runs
            # (the message says what timed out; where the wait was is of no use)
            exc.__traceback__ = None
            raise TimeoutError(f"{self.what} timed out after {self.seconds:g} s") from None


def host_header(host: str, port: int, secure: bool) -> str:
    """The ``Host`` header: IPv6 literals in brackets, the port unless it is the default."""
    host = server_name(host)
    if ":" in host:
        host = f"[{host}]"
    if port != (443 if secure else 80):
        host = f"{host}:{port}"
    return host


def _resolve(host: str, port: int) -> list[tuple[Any, ...]]:
    try:
        # A literal address needs no resolver (nor gevent's resolver thread pool).
        return _stdsocket.getaddrinfo(
            host, port, 0, _stdsocket.SOCK_STREAM, 0, _stdsocket.AI_NUMERICHOST
        )
    except _stdsocket.gaierror:
        pass
    try:
        found: list[tuple[Any, ...]] = gsocket.getaddrinfo(host, port, 0, _stdsocket.SOCK_STREAM)
        return found
    except _stdsocket.gaierror as exc:
        raise ConnectionError(f"cannot resolve {host!r}: {exc}") from exc


def open_connection(
    host: str,
    port: int,
    timeout: float | None = DEFAULT_CONNECT_TIMEOUT,
    ssl_context: object | None = None,
    server_hostname: str | None = None,
    *,
    proxy: Proxy | None = None,
    local_address: str | None = None,
) -> gsocket.socket:
    """A connected gevent socket (TLS when ``ssl_context`` is given), ``TCP_NODELAY`` set.

    ``timeout`` bounds resolution, TCP connect, the proxy's tunnel and the TLS handshake
    together.  Tries every address the name resolves to, in order.  With ``proxy`` the TCP
    connection goes to the proxy, which opens a CONNECT tunnel to ``host:port`` (TLS runs
    inside it); ``local_address`` binds the source address.
    """
    host = server_name(host)
    with time_limit(timeout, f"connecting to {host}:{port}"):
        if proxy is None:
            sock = _tcp(host, port, local_address)
        else:
            try:
                sock = _tcp(proxy.host, proxy.port, local_address)
            except ConnectionError as exc:
                raise ConnectionError(
                    f"cannot reach the proxy {proxy.host}:{proxy.port}: {exc.__cause__ or exc}"
                ) from exc.__cause__
            try:
                tunnel(sock, proxy, host, port)
            except BaseException:
                sock.close()
                raise
        if ssl_context is None:
            return sock
        try:
            return wrap_socket(sock, ssl_context, server_hostname or host)  # type: ignore[arg-type]
        except OSError as exc:
            sock.close()
            raise ConnectionError(f"TLS handshake with {host}:{port} failed: {exc}") from exc
        except BaseException:
            sock.close()
            raise


def _tcp(host: str, port: int, local_address: str | None) -> gsocket.socket:
    last: OSError | None = None
    sock = None
    for family, kind, proto, _name, addr in _resolve(host, port):
        if local_address is not None and family != _family(local_address):
            continue  # a source address of the other family cannot reach this one
        sock = gsocket.socket(family, kind, proto)
        try:
            sock.setsockopt(_stdsocket.IPPROTO_TCP, _stdsocket.TCP_NODELAY, 1)
            if local_address is not None:
                sock.bind((local_address, 0))
            sock.connect(addr)
            break
        except OSError as exc:
            sock.close()
            sock = None
            last = exc
        except BaseException:
            sock.close()
            raise
    if sock is None:
        if last is None and local_address is not None:
            raise ConnectionError(
                f"cannot connect to {host}:{port} from {local_address}: no address of that family"
            )
        try:
            raise ConnectionError(f"cannot connect to {host}:{port}: {last}") from last
        finally:
            # the error's traceback holds this frame: were `last` still in it, the two would
            # be a cycle, keeping the failed attempt's objects until the collector runs
            last = None
    return sock


def _unlink_frames(exc: BaseException) -> None:
    """Drops the locals of the frames an exception's traceback holds (the lines stay).

    h11 raises its RemoteProtocolError from a method of the error itself, whose frame then
    holds the error that holds the frame: a cycle, and through the frames' callers, the whole
    connection that failed, kept until the collector runs."""
    traceback.clear_frames(exc.__traceback__)


def _family(address: str) -> int:
    return _stdsocket.AF_INET6 if ":" in address else _stdsocket.AF_INET


def invalid_request(exc: h11.LocalProtocolError) -> ValueError:
    """The ValueError for a request h11 will not write, without the value it quotes: header
    values are often credentials."""
    text = str(exc)
    if text.startswith("Illegal header value"):
        text = "a header value HTTP forbids (a control character, or spaces at either end)"
    elif text.startswith("Illegal header name"):
        text = "a header name HTTP forbids"
    return ValueError(f"invalid request: {text}")


def path_of(target: str) -> str:
    """A request target without its query string (which may hold credentials)."""
    return target.split("?", 1)[0]


def _header_list(headers: Headers) -> list[tuple[str, str]]:
    if headers is None:
        return []
    if isinstance(headers, Mapping):
        return list(headers.items())
    return list(headers)


class Response:
    """A complete HTTP response; header names are lower case."""

    __slots__ = ("status", "reason", "headers", "body")

    def __init__(self, status: int, reason: str, headers: List[Tuple[str, str]], body: bytes):
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body

    def header(self, name: str, default: str | None = None) -> str | None:
        """The first value of header ``name`` (any case), or ``default``."""
        name = name.lower()
        for key, value in self.headers:
            if key == name:
                return value
        return default

    def __repr__(self) -> str:
        return f"<Response {self.status} {len(self.body)} bytes>"


class _Stale(Exception):
    """A reused connection turned out dead before any byte of the response arrived."""

    def __init__(self, sent: bool, cause: BaseException | None) -> None:
        super().__init__(str(cause) if cause else "connection closed by the server")
        self.sent = sent


class HTTPConnection:
    """One keep-alive HTTP/1.1 connection to ``host:port`` (see the module docstring).

    Not for concurrent use: one request at a time.  ``close()`` is the exception: it may be
    called from another greenlet to abort a request in flight.
    """

    def __init__(
        self,
        host: str,
        port: int,
        ssl_context: object | None = None,
        *,
        server_hostname: str | None = None,
        connect_timeout: float | None = DEFAULT_CONNECT_TIMEOUT,
        max_header: int = DEFAULT_MAX_HEADER,
        max_body: int = DEFAULT_MAX_BODY,
        cookies: CookieJar | None = None,
        proxy: Proxy | None = None,
        local_address: str | None = None,
    ) -> None:
        self.host = server_name(host)
        self.port = port
        self.ssl_context = ssl_context
        self.server_hostname = server_hostname
        self.connect_timeout = connect_timeout
        self.max_header = max_header
        self.max_body = max_body
        self.cookies = cookies
        self.proxy = proxy
        self.local_address = local_address
        self.secure = ssl_context is not None
        self._host_header = host_header(self.host, port, self.secure)
        self._sock: gsocket.socket | None = None
        self._h11: h11.Connection | None = None
        self._closed = False
        #: how many TCP connections were opened (keep-alive makes this 1 for many requests)
        self.connections_opened = 0

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Closes the connection for good; a request in flight raises ConnectionError."""
        self._closed = True
        self._drop()

    def _drop(self) -> None:
        sock, self._sock, self._h11 = self._sock, None, None
        if sock is not None:
            sock.close()

    def _connect(self) -> None:
        self._sock = open_connection(
            self.host,
            self.port,
            self.connect_timeout,
            self.ssl_context,
            self.server_hostname,
            proxy=self.proxy,
            local_address=self.local_address,
        )
        self._h11 = h11.Connection(h11.CLIENT, max_incomplete_event_size=self.max_header)
        self.connections_opened += 1

    def _idle_is_dead(self) -> bool:
        # An idle keep-alive connection has nothing to read: readable means the server closed
        # it (EOF, TLS close_notify) or sent something unsolicited. Either way it is unusable.
        sock = self._sock
        assert sock is not None  # asked of a kept-alive connection only
        try:
            readable, _, _ = _select([sock], [], [], 0)
        except (OSError, ValueError):
            return True
        if not readable:
            return False
        if not self.secure:
            return True
        # TLS 1.3 session tickets can arrive after the handshake and make an idle socket
        # readable; a non-blocking read consumes them and tells them from a close.
        sock.settimeout(0.0)
        try:
            sock.recv(1)
            return True  # EOF or unsolicited data
        except ssl.SSLWantReadError:
            return False
        except OSError:
            return True
        finally:
            if self._sock is sock:  # not dropped meanwhile
                self._sock.settimeout(None)

    def request(
        self,
        method: str,
        target: str,
        headers: Headers = None,
        body: bytes | str | None = None,
        timeout: float | None = None,
        max_body: int | None = None,
    ) -> Response:
        """Sends one request and reads the whole response.

        ``headers`` are added to ``Host``, ``Content-Length`` and ``Cookie`` (from the jar);
        ``timeout`` bounds the whole exchange, reconnecting included.
        """
        bmethod = method.upper().encode("ascii")
        if isinstance(body, str):
            body = body.encode("utf-8")
        hdrs = [("Host", self._host_header)]
        hdrs.extend(_header_list(headers))
        if body is not None:
            hdrs.append(("Content-Length", str(len(body))))
        if self.cookies is not None:
            cookie = self.cookies.header(target, self.secure)
            if cookie:
                hdrs.append(("Cookie", cookie))
        try:
            req = h11.Request(method=bmethod, target=target, headers=hdrs)
        except h11.LocalProtocolError as exc:
            raise invalid_request(exc) from None
        limit = self.max_body if max_body is None else max_body
        with time_limit(timeout, f"{method} {path_of(target)}"):
            for attempt in (0, 1):
                if self._closed:
                    raise ConnectionError("the HTTP connection was closed")
                reused = self._sock is not None
                if reused and self._idle_is_dead():
                    self._drop()
                    reused = False
                if self._sock is None:
                    self._connect()
                try:
                    resp = self._exchange(req, body, limit)
                except _Stale as exc:
                    self._drop()
                    if reused and attempt == 0 and (not exc.sent or bmethod in _IDEMPOTENT):
                        continue
                    if self._closed:
                        raise ConnectionError("the HTTP connection was closed") from None
                    raise ConnectionError(f"{method} {path_of(target)}: {exc}") from None
                except BaseException:
                    self._drop()
                    raise
                if self.cookies is not None:
                    self.cookies.extract(resp.headers, target, self.secure)
                return resp
        raise AssertionError("unreachable")  # pragma: no cover

    def _exchange(self, req: h11.Request, body: bytes | None, max_body: int) -> Response:
        conn = self._h11
        sock = self._sock
        assert conn is not None and sock is not None
        out = conn.send(req)
        if body:
            out += conn.send(h11.Data(data=body))
        out += conn.send(h11.EndOfMessage())
        try:
            sock.sendall(out)
        except OSError as exc:
            raise _Stale(False, exc) from exc

        got_bytes = False
        head: h11.Response | None = None
        chunks: list[bytes] = []
        size = 0
        while True:
            try:
                event = conn.next_event()
            except h11.RemoteProtocolError as exc:
                _unlink_frames(exc)
                if not got_bytes:
                    raise _Stale(True, exc) from exc
                raise ProtocolError(f"bad HTTP response: {exc}") from exc
            if event is h11.NEED_DATA:
                try:
                    data = sock.recv(RECV_SIZE)
                except OSError as exc:
                    if not got_bytes:
                        raise _Stale(True, exc) from exc
                    raise ConnectionError(f"connection lost: {exc}") from exc
                got_bytes = got_bytes or bool(data)
                conn.receive_data(data)
            elif isinstance(event, h11.Response):
                head = event
                for name, value in event.headers:
                    if name == b"content-length" and int(value) > max_body:
                        raise ProtocolError(f"response body of {int(value)} bytes over {max_body}")
            elif isinstance(event, h11.Data):
                size += len(event.data)
                if size > max_body:
                    raise ProtocolError(f"response body over {max_body} bytes")
                chunks.append(event.data)
            elif isinstance(event, h11.EndOfMessage):
                break
            elif isinstance(event, h11.ConnectionClosed):
                raise ConnectionError("connection closed before the response ended")
            # InformationalResponse (100 Continue): nothing to do
        assert head is not None
        if conn.our_state is h11.DONE and conn.their_state is h11.DONE:
            conn.start_next_cycle()
        else:
            self._drop()  # "Connection: close", HTTP/1.0, or a body delimited by EOF
        headers = [(n.decode("latin-1"), v.decode("latin-1")) for n, v in head.headers]
        return Response(head.status_code, head.reason.decode("latin-1"), headers, b"".join(chunks))


class HTTPClient:
    """Requests to one origin over a pool of keep-alive connections sharing a cookie jar.

    ``url`` (``http(s)://host[:port]``, a path is ignored) or ``host``/``port``/``secure``.
    TLS comes from ``ssl_context``, or is built from ``verify``/``cert``/``key``.  ``headers``
    are sent with every request.  At most ``max_idle`` idle connections are kept.  ``proxy``
    (a ``proxy.Proxy``) tunnels every connection through an HTTP proxy; ``local_address``
    binds their source address.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        host: str | None = None,
        port: int | None = None,
        secure: bool = False,
        ssl_context: object | None = None,
        verify: Verify = True,
        cert: str | None = None,
        key: str | None = None,
        cookies: CookieJar | None = None,
        headers: Headers = None,
        connect_timeout: float | None = DEFAULT_CONNECT_TIMEOUT,
        max_header: int = DEFAULT_MAX_HEADER,
        max_body: int = DEFAULT_MAX_BODY,
        max_idle: int = 2,
        proxy: Proxy | None = None,
        local_address: str | None = None,
    ) -> None:
        if url is not None:
            secure, host, port, _ = split_url(url)
        if host is None:
            raise ValueError("give url or host")
        self.secure = secure or ssl_context is not None
        self.host = server_name(host)
        self.port = port or (443 if self.secure else 80)
        if self.secure and ssl_context is None:
            ssl_context = create_ssl_context(verify, cert, key)
        self.ssl_context = ssl_context
        self.cookies = CookieJar() if cookies is None else cookies
        self.headers = _header_list(headers)
        self.connect_timeout = connect_timeout
        self.max_header = max_header
        self.max_body = max_body
        self.max_idle = max_idle
        self.proxy = proxy
        self.local_address = local_address
        self._idle: list[HTTPConnection] = []
        self._all: set[HTTPConnection] = set()
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    def _new_connection(self) -> HTTPConnection:
        return HTTPConnection(
            self.host,
            self.port,
            self.ssl_context,
            connect_timeout=self.connect_timeout,
            max_header=self.max_header,
            max_body=self.max_body,
            cookies=self.cookies,
            proxy=self.proxy,
            local_address=self.local_address,
        )

    def request(
        self,
        method: str,
        target: str,
        headers: Headers = None,
        body: bytes | str | None = None,
        timeout: float | None = None,
        max_body: int | None = None,
    ) -> Response:
        """``HTTPConnection.request`` on an idle pooled connection, or on a new one."""
        if self._closed:
            raise ConnectionError("the HTTP client was closed")
        conn = self._idle.pop() if self._idle else self._new_connection()
        self._all.add(conn)
        hdrs = self.headers + _header_list(headers) if self.headers else headers
        ok = False
        try:
            resp = conn.request(method, target, hdrs, body, timeout, max_body)
            ok = True
            return resp
        finally:
            if ok and not self._closed and len(self._idle) < self.max_idle:
                self._idle.append(conn)
            else:
                self._all.discard(conn)
                conn.close()

    def close(self) -> None:
        """Closes every connection, aborting requests in flight (they raise ConnectionError)."""
        self._closed = True
        conns = list(self._all)
        self._all.clear()
        self._idle.clear()
        for conn in conns:
            conn.close()


__all__ = [
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_MAX_BODY",
    "DEFAULT_MAX_HEADER",
    "HTTPClient",
    "HTTPConnection",
    "Response",
    "host_header",
    "open_connection",
    "time_limit",
]
