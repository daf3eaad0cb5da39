"""A fault-injecting TCP proxy for the tests, on gevent sockets (no monkey patching).

``FaultProxy(upstream_host, upstream_port).start()`` listens on 127.0.0.1 on a free port and
forwards every connection to the upstream.  Its mode can be switched while it runs; a switch
applies to the connections already open and to new ones::

    proxy = FaultProxy("127.0.0.1", server.port).start()
    sock = clients.connect(proxy.url)
    proxy.blackhole()          # nothing passes any more, connections stay open
    proxy.passthrough()        # back to normal

Modes (one at a time; ``proxy.mode`` tells which):

``pass``
    Bytes are forwarded as they come.
``blackhole`` (``direction`` ``'up'``, ``'down'`` or ``'both'``)
    Bytes of that direction are read and dropped; ``up`` is client to server.  The connections
    stay open; a FIN (end of stream) that arrives meanwhile is held and delivered once the
    direction passes again.
``stop-reading``
    The proxy stops calling ``recv`` on the client side: the client's data piles up in the kernel
    buffers until a client ``sendall`` blocks.  The server side stays open and server-to-client
    bytes still pass, so the server notices nothing (unless it misses the client's pings).  The
    accepted sockets have a small receive buffer (``rcvbuf``) so that this happens soon.
``reset``
    Every open connection is reset at once (RST on both sides: ``SO_LINGER`` 0, then close), and
    every connection accepted while the mode lasts is reset as soon as it is accepted, so the
    client sees the connection die after it was established.  ``reset_all()`` is the one-shot
    variant: it resets the open connections and leaves the mode as it is.
``refuse``
    The listener is closed: new connections are refused (``ECONNREFUSED``).  The open
    connections are left alone.  Switching to another mode binds the same port again.
``delay`` (``delay_ms``)
    Each chunk waits ``delay_ms`` before it is forwarded, in each direction (order is kept).
``slice``
    Everything is forwarded one byte per ``send``.
``reject-websocket``
    A request carrying ``Upgrade: websocket`` is answered ``400 Bad Request`` and its connection
    closed; every other request passes (HTTP/1.1 keep-alive requests are followed one by one).
    WebSocket connections that were established before are left alone.

A connection whose upstream cannot be reached (server down) is reset, as a client would see it
through a real network when the server is gone.  Counters: ``accepted``, ``active``, ``resets``,
``rejected_upgrades``, ``upstream_failures``, ``bytes_up``/``bytes_down`` (forwarded) and
``dropped_up``/``dropped_down`` (blackholed) and ``sends`` (send calls made).  ``close()`` stops every greenlet and closes every
socket; the ``fault_proxy`` fixture does it at teardown.
"""

from __future__ import annotations

import errno
import socket as _socket
import struct
import time
from typing import Any, Callable, Iterator

import gevent
import pytest
from gevent import socket
from gevent.event import Event
from gevent.pool import Group

__all__ = [
    "BLACKHOLE",
    "BOTH",
    "DELAY",
    "DOWN",
    "FaultProxy",
    "MODES",
    "PASS",
    "REFUSE",
    "REJECT_WEBSOCKET",
    "RESET",
    "SLICE",
    "STOP_READING",
    "UP",
    "fault_proxy",
]

PASS = "pass"
BLACKHOLE = "blackhole"
STOP_READING = "stop-reading"
RESET = "reset"
REFUSE = "refuse"
DELAY = "delay"
SLICE = "slice"
REJECT_WEBSOCKET = "reject-websocket"
MODES = (PASS, BLACKHOLE, STOP_READING, RESET, REFUSE, DELAY, SLICE, REJECT_WEBSOCKET)

UP = "up"  # client -> server
DOWN = "down"  # server -> client
BOTH = "both"

CHUNK = 65536
CONNECT_TIMEOUT = 5.0
#: receive buffer of the accepted sockets (the kernel doubles it); small so that ``stop-reading``
#: fills the client's buffers after a few hundred kilobytes rather than several megabytes
DEFAULT_RCVBUF = 65536
#: a request head longer than this is not followed (the proxy passes the rest of the stream)
MAX_HEAD = 65536

REJECT_BODY = b"WebSocket upgrade rejected by the proxy\n"
REJECT_RESPONSE = (
    b"HTTP/1.1 400 Bad Request\r\n"
    b"Content-Type: text/plain\r\n"
    b"Content-Length: " + str(len(REJECT_BODY)).encode() + b"\r\n"
    b"Connection: close\r\n\r\n" + REJECT_BODY
)

_LINGER_RST = struct.pack("ii", 1, 0)


def _rst_close(sock: Any) -> None:
    """Closes ``sock`` with a reset (RST) instead of an orderly FIN."""
    try:
        sock.setsockopt(_socket.SOL_SOCKET, _socket.SO_LINGER, _LINGER_RST)
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


def _close(sock: Any) -> None:
    try:
        sock.close()
    except OSError:
        pass


class _RequestScanner:
    """Follows the HTTP/1.1 requests of a client-to-server stream.

    ``feed(data)`` returns True when ``data`` completes the head of a request asking for a
    WebSocket upgrade.  Request bodies are skipped by ``Content-Length``; after an upgrade, a
    chunked body or an over-long head the stream is no longer HTTP it can follow, and it stops.
    """

    def __init__(self) -> None:
        self.head = bytearray()
        self.body_left = 0
        self.off = False

    def feed(self, data: bytes) -> bool:
        view = memoryview(data)
        while len(view) and not self.off:
            if self.body_left:
                n = min(self.body_left, len(view))
                self.body_left -= n
                view = view[n:]
                continue
            start = max(0, len(self.head) - 3)
            self.head += view
            view = view[len(view) :]
            end = self.head.find(b"\r\n\r\n", start)
            if end < 0:
                if len(self.head) > MAX_HEAD:
                    self.off = True
                continue
            head = bytes(self.head[:end])
            view = memoryview(bytes(self.head[end + 4 :]))
            self.head = bytearray()
            headers: dict[str, str] = {}
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                headers[name.strip().lower().decode("latin-1")] = (
                    value.strip().lower().decode("latin-1")
                )
            if "websocket" in headers.get("upgrade", ""):
                self.off = True
                return True
            if "chunked" in headers.get("transfer-encoding", ""):
                self.off = True
                continue
            try:
                self.body_left = int(headers.get("content-length", "0") or 0)
            except ValueError:
                self.off = True
        return False


class _Connection:
    """One proxied connection: the client socket, the upstream socket and two pumps."""

    def __init__(self, proxy: FaultProxy, client: Any, upstream: Any) -> None:
        self.proxy = proxy
        self.client = client
        self.upstream = upstream
        self.scanner = _RequestScanner()
        self.pumps: list[gevent.Greenlet] = []
        self.finished = 0
        self.closed = False

    def abort(self) -> None:
        """Resets both sides and stops both pumps."""
        if self.closed:
            return
        self.closed = True
        self.proxy._connections.discard(self)
        current = gevent.getcurrent()
        for pump in self.pumps:
            if pump is not current:
                pump.kill(block=False)
        _rst_close(self.client)
        _rst_close(self.upstream)

    def reject_upgrade(self) -> None:
        """Answers the client 400 and closes both sides in order."""
        self.closed = True
        self.proxy._connections.discard(self)
        self.proxy.rejected_upgrades += 1
        current = gevent.getcurrent()
        for pump in self.pumps:
            if pump is not current:
                pump.kill(block=False)
        try:
            self.client.sendall(REJECT_RESPONSE)
            self.client.shutdown(_socket.SHUT_WR)
        except OSError:
            pass
        _close(self.client)
        _close(self.upstream)

    def pump_finished(self) -> None:
        self.finished += 1
        if self.finished == 2 and not self.closed:
            self.closed = True
            self.proxy._connections.discard(self)
            _close(self.client)
            _close(self.upstream)


class FaultProxy:
    """A TCP proxy in front of ``(upstream_host, upstream_port)`` whose faults can be switched.

    ``start()`` binds 127.0.0.1 (``port`` 0 picks a free one) and returns the proxy; ``url`` is
    ``http://127.0.0.1:<port>`` (``https`` with ``tls=True``).  See the module documentation for
    the modes and counters.
    """

    def __init__(
        self,
        upstream_host: str,
        upstream_port: int,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: bool = False,
        rcvbuf: int | None = DEFAULT_RCVBUF,
    ) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.host = host
        self.port = port
        self.tls = tls
        self.rcvbuf = rcvbuf
        self._mode = PASS
        self._direction = BOTH
        self._delay = 0.0
        self._changed = Event()
        self._listener: Any = None
        self._acceptor: gevent.Greenlet | None = None
        self._greenlets = Group()
        self._connections: set[_Connection] = set()
        self._accepted_event = Event()
        self._closed = False
        self.accepted = 0
        self.resets = 0
        self.rejected_upgrades = 0
        self.upstream_failures = 0
        self.bytes_up = 0
        self.bytes_down = 0
        self.dropped_up = 0
        self.dropped_down = 0
        self.sends = 0

    # -- what tests read ------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    @property
    def mode(self) -> str:
        return self._mode

    @property
    def direction(self) -> str:
        return self._direction

    @property
    def active(self) -> int:
        """Connections open through the proxy now."""
        return len(self._connections)

    def stats(self) -> dict[str, Any]:
        return {
            "mode": self._mode,
            "accepted": self.accepted,
            "active": self.active,
            "resets": self.resets,
            "rejected_upgrades": self.rejected_upgrades,
            "upstream_failures": self.upstream_failures,
            "bytes_up": self.bytes_up,
            "bytes_down": self.bytes_down,
            "dropped_up": self.dropped_up,
            "dropped_down": self.dropped_down,
            "sends": self.sends,
        }

    def wait_accepted(self, count: int, timeout: float = 10.0) -> None:
        """Waits (bounded) until ``accepted`` reaches ``count``."""
        deadline = time.monotonic() + timeout
        while self.accepted < count:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{self.accepted} connections accepted, expected {count}")
            self._accepted_event.clear()
            if self.accepted < count:
                self._accepted_event.wait(left)

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> FaultProxy:
        if self._listener is not None:
            raise RuntimeError("proxy already started")
        self._listen()
        return self

    def close(self) -> None:
        """Stops accepting, closes every connection and stops every greenlet."""
        if self._closed:
            return
        self._closed = True
        self._unlisten()
        conns = list(self._connections)
        for conn in conns:
            conn.closed = True
        self._greenlets.kill(block=True, timeout=5)
        for conn in conns:
            _close(conn.client)
            _close(conn.upstream)
        self._connections.clear()
        self._wake()

    def __enter__(self) -> FaultProxy:
        return self if self._listener is not None else self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<FaultProxy :{self.port} -> {self.upstream[0]}:{self.upstream[1]} {self._mode}>"

    # -- switching ------------------------------------------------------------------------

    def set(self, mode: str, *, direction: str = BOTH, delay_ms: float = 0.0) -> None:
        """Switches to ``mode`` (one of ``MODES``), for open and new connections."""
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; expected one of {MODES}")
        if direction not in (UP, DOWN, BOTH):
            raise ValueError(f"direction must be 'up', 'down' or 'both', not {direction!r}")
        if self._closed:
            raise RuntimeError("proxy closed")
        previous = self._mode
        self._mode = mode
        self._direction = direction
        self._delay = delay_ms / 1000.0
        if mode == REFUSE:
            self._unlisten()
        elif previous == REFUSE:
            self._listen()
        if mode == RESET:
            self.reset_all()
        self._wake()

    def passthrough(self) -> None:
        self.set(PASS)

    def blackhole(self, direction: str = BOTH) -> None:
        self.set(BLACKHOLE, direction=direction)

    def stop_reading(self) -> None:
        self.set(STOP_READING)

    def reset(self) -> None:
        self.set(RESET)

    def refuse(self) -> None:
        self.set(REFUSE)

    def delay(self, ms: float) -> None:
        self.set(DELAY, delay_ms=ms)

    def slice(self) -> None:
        self.set(SLICE)

    def reject_websocket(self) -> None:
        self.set(REJECT_WEBSOCKET)

    def reset_all(self) -> int:
        """Resets every open connection now (whatever the mode); returns how many."""
        conns = list(self._connections)
        for conn in conns:
            conn.abort()
        self.resets += len(conns)
        return len(conns)

    def _wake(self) -> None:
        changed, self._changed = self._changed, Event()
        changed.set()

    # -- listening ------------------------------------------------------------------------

    def _listen(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if self.rcvbuf:
            # Set before listen() so that accepted sockets inherit it with a matching window.
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.rcvbuf)
        deadline = time.monotonic() + 5.0
        while True:
            try:
                listener.bind((self.host, self.port))
                break
            except OSError as exc:
                # Re-binding the same port right after closing it can meet a socket the kernel
                # has not released yet; retry for a bounded time.
                if exc.errno != errno.EADDRINUSE or time.monotonic() > deadline:
                    listener.close()
                    raise
                gevent.sleep(0.05)
        listener.listen(128)
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._acceptor = self._greenlets.spawn(self._accept_loop, listener)

    def _unlisten(self) -> None:
        listener, self._listener = self._listener, None
        acceptor, self._acceptor = self._acceptor, None
        if acceptor is not None:
            acceptor.kill(block=True, timeout=5)
        if listener is not None:
            listener.close()

    def _accept_loop(self, listener: Any) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            self.accepted += 1
            self._accepted_event.set()
            if self._mode == RESET:
                self.resets += 1
                _rst_close(client)
                continue
            self._greenlets.spawn(self._open, client)

    def _open(self, client: Any) -> None:
        try:
            upstream = socket.create_connection(self.upstream, timeout=CONNECT_TIMEOUT)
        except OSError:
            self.upstream_failures += 1
            _rst_close(client)
            return
        upstream.settimeout(None)
        if self._closed or self._mode == RESET:
            if not self._closed:
                self.resets += 1
            _rst_close(client)
            _rst_close(upstream)
            return
        for s in (client, upstream):
            try:
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass
        conn = _Connection(self, client, upstream)
        self._connections.add(conn)
        conn.pumps = [
            self._greenlets.spawn(self._pump, conn, UP),
            self._greenlets.spawn(self._pump, conn, DOWN),
        ]

    # -- forwarding -----------------------------------------------------------------------

    def _pump(self, conn: _Connection, direction: str) -> None:
        src, dst = (conn.client, conn.upstream) if direction == UP else (conn.upstream, conn.client)
        try:
            while not conn.closed:
                changed = self._changed
                if direction == UP and self._mode == STOP_READING:
                    changed.wait()
                    continue
                data = src.recv(CHUNK)
                if conn.closed:
                    return
                if (
                    direction == UP
                    and data
                    and conn.scanner.feed(data)
                    and self._mode == REJECT_WEBSOCKET
                ):
                    conn.reject_upgrade()
                    return
                self._forward(conn, dst, direction, data)
                if not data:
                    return
        except OSError:
            conn.abort()
        finally:
            conn.pump_finished()

    def _forward(self, conn: _Connection, dst: Any, direction: str, data: bytes) -> None:
        while True:
            changed = self._changed
            if self._mode == BLACKHOLE and self._direction in (BOTH, direction):
                if data:
                    if direction == UP:
                        self.dropped_up += len(data)
                    else:
                        self.dropped_down += len(data)
                    return
                changed.wait()  # hold the FIN until this direction passes again
                if conn.closed:
                    return
                continue
            break
        if self._mode == DELAY and self._delay > 0:
            gevent.sleep(self._delay)  # the fault itself: hold each chunk back
            if conn.closed:
                return
        if not data:
            dst.shutdown(_socket.SHUT_WR)
            return
        if self._mode == SLICE:
            for i in range(len(data)):
                dst.sendall(data[i : i + 1])
            self.sends += len(data)
        else:
            dst.sendall(data)
            self.sends += 1
        if direction == UP:
            self.bytes_up += len(data)
        else:
            self.bytes_down += len(data)


def _upstream_of(target: Any, port: int | None) -> tuple[str, int, bool]:
    if port is not None:
        return str(target), int(port), False
    if isinstance(target, tuple):
        return str(target[0]), int(target[1]), False
    # a ServerProcess (duck-typed: host, port, tls)
    if target.port is None:
        raise RuntimeError(f"{target!r} has not been started")
    return target.host, int(target.port), bool(getattr(target, "tls", False))


@pytest.fixture
def fault_proxy() -> Iterator[Callable[..., FaultProxy]]:
    """Factory: ``fault_proxy(server)`` starts a proxy in front of a started ``ServerProcess``
    (or ``fault_proxy((host, port))``, ``fault_proxy(host, port)``); keyword arguments go to
    ``FaultProxy``.  Every proxy it made is closed at teardown.

    The proxy follows the server across ``server.restart()``, which keeps the port.
    """
    made: list[FaultProxy] = []

    def factory(target: Any, port: int | None = None, **kwargs: Any) -> FaultProxy:
        host, upstream_port, tls = _upstream_of(target, port)
        kwargs.setdefault("tls", tls)
        proxy = FaultProxy(host, upstream_port, **kwargs)
        made.append(proxy)
        return proxy.start()

    try:
        yield factory
    finally:
        for proxy in made:
            proxy.close()
