"""``Socket``: one namespace on a ``Manager``'s connection (socket.io-client's ``Socket``).

Threading model: the Manager calls the ``_on_*`` methods from the Engine's greenlets; they only
update state and never block.  Every user callback (event handlers, ack callbacks, the reserved
events) runs on a greenlet of its own, spawned in arrival order, so that handlers start in order
and a handler that blocks (sleeps, ``call()``, I/O) stalls neither the reads nor the next
handler.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Callable, NamedTuple

import gevent
from gevent.event import AsyncResult, Event

from .core.packet import (
    ACK,
    BINARY_ACK,
    BINARY_EVENT,
    CONNECT,
    CONNECT_ERROR,
    DISCONNECT,
    EVENT,
    Packet,
)
from .emitter import Emitter, submit
from .emitter import dispatcher as _dispatcher
from .exceptions import BufferFullError, ConnectionError, DisconnectedError, TimeoutError
from .redact import summary

if TYPE_CHECKING:
    from .manager import Manager

logger = logging.getLogger("sioclient")

#: names the user may not emit: they are the client's own events (both 2.x and 4.x lists)
RESERVED_EVENTS = frozenset(
    {
        "connect",
        "connect_error",
        "connect_timeout",
        "connecting",
        "disconnect",
        "disconnecting",
        "error",
        "newListener",
        "removeListener",
        "reconnect",
        "reconnect_attempt",
        "reconnect_error",
        "reconnect_failed",
        "reconnecting",
        "ping",
        "pong",
    }
)


class _Flags(NamedTuple):
    compress: bool = True
    binary: bool | None = None  # a hint only: the parser finds bytes by itself
    volatile: bool = False
    timeout: float | None = None


_NO_FLAGS = _Flags()

#: after leaving a namespace, the least time before asking for it again on the same connection:
#: socket.io servers handle a DISCONNECT one tick late, and a CONNECT of that namespace read in
#: the same tick makes a 4.x server close the connection ("invalid state") and a 2.x server
#: lose track of the new socket.  Apart, the two are read apart.
REJOIN_DELAY = 0.1


class _PendingAck:
    """An emitted packet's ack callback, waiting for the server's answer."""

    __slots__ = ("callback", "with_error", "internal", "sent", "timer")

    def __init__(self, callback: Callable[..., Any], with_error: bool, internal: bool) -> None:
        self.callback = callback
        self.with_error = with_error  # callback(err, *args) rather than callback(*args)
        self.internal = internal  # call()'s own callback: cheap, never blocks, run in place
        self.sent = False
        self.timer: Any = None  # a libev timer: no greenlet unless it fires


class _Flow:
    """The server events of one connection of a socket that were handed to the dispatcher and
    whose handlers have not returned yet; the reader waits here when there are too many."""

    __slots__ = ("count", "waiter", "closed")

    def __init__(self) -> None:
        self.count = 0
        self.waiter: Event | None = None
        self.closed = False

    def release(self) -> None:
        self.closed = True
        if self.waiter is not None:
            self.waiter.set()


class _ServerAck:
    """The callable a handler gets when the server asked for an ack; sends it once."""

    __slots__ = ("socket", "id", "session", "used")

    def __init__(self, socket: Socket, ack_id: int, session: int) -> None:
        self.socket = socket
        self.id = ack_id
        self.session = session  # an ack only makes sense on the connection that asked for it
        self.used = False

    def __call__(self, *args: Any) -> None:
        if self.used:
            return
        self.used = True
        sock = self.socket
        if sock.connected and sock.io._session == self.session:
            sock._send_packet(Packet(ACK, sock.nsp, list(args), self.id), True)

    def __repr__(self) -> str:
        return f"<ack {self.id} for {self.socket.nsp}>"


class EmitView:
    """``socket.compress(False)`` and friends: a socket plus the flags for the next emit.

    A view holds its own flags, so greenlets sharing a socket never see each other's modifiers.
    """

    __slots__ = ("_socket", "_flags")

    def __init__(self, socket: Socket, flags: _Flags) -> None:
        self._socket = socket
        self._flags = flags

    def compress(self, flag: bool = True) -> EmitView:
        return EmitView(self._socket, self._flags._replace(compress=bool(flag)))

    def binary(self, flag: bool = True) -> EmitView:
        return EmitView(self._socket, self._flags._replace(binary=bool(flag)))

    @property
    def volatile(self) -> EmitView:
        return EmitView(self._socket, self._flags._replace(volatile=True))

    def timeout(self, seconds: float) -> EmitView:
        return EmitView(self._socket, self._flags._replace(timeout=_check_timeout(seconds)))

    def emit(self, event: str, *args: Any, ack: Callable[..., Any] | None = None) -> Socket:
        return self._socket._emit(self._flags, event, args, ack)

    def send(self, *args: Any, ack: Callable[..., Any] | None = None) -> Socket:
        return self._socket._emit(self._flags, "message", args, ack)

    def call(self, event: str, *args: Any, timeout: float | None = None) -> Any:
        flags = self._flags
        if timeout is not None:
            flags = flags._replace(timeout=_check_timeout(timeout))
        return self._socket._call(flags, event, args)


def _check_timeout(seconds: Any) -> float:
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
        raise ValueError(f"timeout must be a non-negative number of seconds, not {seconds!r}")
    return float(seconds)


def _refusal(data: Any) -> ConnectionError:
    """The server's namespace refusal as the exception users see."""
    if isinstance(data, Mapping) and "message" in data:
        return ConnectionError(str(data["message"]), data.get("data"))
    if isinstance(data, str):
        return ConnectionError(data)
    return ConnectionError(str(data), data)


def _resume_level(bound: int) -> int:
    """Where a reader paused at ``max_pending_events`` goes on: a short pause, since the
    heartbeat is not read meanwhile, yet not one per event."""
    return bound - max(1, bound // 10)


def _run_callback(callback: Callable[..., Any], args: tuple[Any, ...]) -> None:
    try:
        callback(*args)
    except Exception:
        logger.exception("error in the ack callback %r", callback)


class Socket(Emitter):
    """A namespace of a ``Manager``; obtained from ``io()`` or ``manager.socket()``.

    Two bounds are class attributes (set one on the class for every socket, or on one socket):

    ``max_pending_acks``
        ack callbacks waiting without a timeout (plain ``emit(..., callback)``).  Beyond it
        the oldest is given up: its callback is never called, as after a disconnection, and a
        warning is logged.  ``call()`` and ``timeout()`` callbacks are bounded by their
        greenlets and timers and are never given up.
    ``max_pending_events``
        server events handed to the handlers of one connection whose handlers have not
        returned yet.  At the bound the connection stops reading until a tenth of them are
        done: handlers that fall that far behind pause the connection, and if it stays paused
        past the heartbeat (ping interval plus ping timeout) it is given up and reconnects.
        It also bounds the events that arrive before ``connect`` (kept for it, cleared when
        the connection closes); beyond it they are dropped with a warning.
    """

    max_pending_acks: float = 10_000
    max_pending_events: int = 10_000

    def __init__(self, io: Manager, nsp: str, options: Mapping[str, Any] | None = None) -> None:
        super().__init__()
        options = options or {}
        self.io = io
        self.nsp = nsp
        self.id: str | None = None
        self.connected = False
        self.query: dict[str, str] | None = options.get("query")
        self.auth: Any = options.get("auth")
        self._ids = itertools.count()
        self._acks: dict[int, _PendingAck] = {}
        self._plain_acks = 0  # entries of _acks without a timeout (see max_pending_acks)
        # emits made while disconnected, encoded already: (packet, parser, messages, compress)
        self._send_buffer: list[tuple[Packet, Any, list[Any], bool]] = []
        self._receive_buffer: list[tuple[Any, ...]] = []  # (event, *args) before `connect`
        self._flow = _Flow()
        self._warned_session = -1  # the connection a bound was last reported on
        self._active = False  # wants a connection (socket.io-client: has `subs`)
        self._opened = False  # open() was called once: a socket not active now is closed
        self._connect_session = -1  # the manager session our CONNECT went out on
        self._left: tuple[int, float] = (-1, 0.0)  # (session, time) of our last DISCONNECT
        self._rejoin_timer: Any = None
        self._changed = Event()

    def __repr__(self) -> str:
        state = "connected" if self.connected else "disconnected"
        return f"<sioclient.Socket {self.nsp!r} {state} id={self.id!r}>"

    @property
    def disconnected(self) -> bool:
        return not self.connected

    @property
    def active(self) -> bool:
        """True while the socket wants a connection (it reconnects when the manager does)."""
        return self._active

    # ---- public API ------------------------------------------------------------------------

    def open(self) -> Socket:
        """Connects the namespace (or reconnects it after ``disconnect()``)."""
        if self.connected:
            return self
        self._active = True
        self._opened = True
        io = self.io
        io._activate(self)
        if not io._reconnecting:
            io.open()
        if io.ready_state == "open":
            self._on_open()
        return self

    connect = open

    def close(self) -> Socket:
        """Leaves the namespace; the manager closes its connection when no socket is left."""
        was_connected = self.connected
        server_leaves = was_connected
        if was_connected:
            io = self.io
            if io.protocol == 4 and self.nsp == "/" and any(s is not self for s in io._active):
                # A 2.x server holds back the CONNECT of every other namespace while the
                # connection is not in `/`, and joins `/` again without a word: the socket
                # leaves `/` on this side only while other namespaces use the connection.
                server_leaves = False
            else:
                self._send_packet(Packet(DISCONNECT, self.nsp), True)
                self._left = (io._session, time.monotonic())
        self._destroy(server_leaves)
        if was_connected:
            self._on_close("io client disconnect")
        self._pulse()
        return self

    disconnect = close

    def emit(self, event: str, *args: Any, ack: Callable[..., Any] | None = None) -> Socket:
        """Sends ``event``; a trailing callable (or ``ack=``) is called with the server's ack."""
        return self._emit(_NO_FLAGS, event, args, ack)

    def send(self, *args: Any, ack: Callable[..., Any] | None = None) -> Socket:
        """``emit('message', *args)``."""
        return self._emit(_NO_FLAGS, "message", args, ack)

    def call(self, event: str, *args: Any, timeout: float | None = None) -> Any:
        """Emits and waits for the ack: its one argument, a tuple of several, or None.

        Raises ``TimeoutError`` after ``timeout`` seconds, and ``DisconnectedError`` when the
        connection drops after the packet left, at once when the socket is closed for good
        (``close()``, ``reconnect_failed``, a refusal), and at once for ``volatile.call()``
        while disconnected (the packet is dropped, so no ack can come).  Arguments that
        cannot be encoded raise ``TypeError``/``ValueError`` here, connected or not.
        """
        flags = _NO_FLAGS if timeout is None else _Flags(timeout=_check_timeout(timeout))
        return self._call(flags, event, args)

    def compress(self, flag: bool = True) -> EmitView:
        return EmitView(self, _Flags(compress=bool(flag)))

    def binary(self, flag: bool = True) -> EmitView:
        return EmitView(self, _Flags(binary=bool(flag)))

    @property
    def volatile(self) -> EmitView:
        """The next emit is dropped, not buffered, when the socket is not connected
        (``volatile.call()`` then raises ``DisconnectedError`` at once)."""
        return EmitView(self, _Flags(volatile=True))

    def timeout(self, seconds: float) -> EmitView:
        """The next emit's ack is called as ``callback(err, *args)``, ``err`` after ``seconds``."""
        return EmitView(self, _Flags(timeout=_check_timeout(seconds)))

    def wait(self, timeout: float | None = None) -> bool:
        """Blocks until the socket is disconnected for good (no reconnection will follow).

        Returns False when ``timeout`` seconds passed first.
        """
        deadline = None if timeout is None else gevent.get_hub().loop.now() + timeout
        while not self._finished():
            changed = self._changed
            remaining = None if deadline is None else deadline - gevent.get_hub().loop.now()
            if remaining is not None and remaining <= 0:
                return False
            changed.wait(remaining)
        return True

    # ---- emitting --------------------------------------------------------------------------

    def _emit(
        self, flags: _Flags, event: str, args: tuple[Any, ...], ack: Callable[..., Any] | None
    ) -> Socket:
        self._emit_packet(flags, event, args, ack, internal=False)
        return self

    def _emit_packet(
        self,
        flags: _Flags,
        event: str,
        args: tuple[Any, ...],
        ack: Callable[..., Any] | None,
        internal: bool,
    ) -> None:
        if not isinstance(event, str):
            raise TypeError(f"event names are strings, not {type(event).__name__}")
        if event in RESERVED_EVENTS:
            raise ValueError(f"{event!r} is a reserved event name")
        if ack is None and args and callable(args[-1]):
            ack, args = args[-1], args[:-1]
        packet = Packet(EVENT, self.nsp, [event, *args])
        if not self.connected:
            self._emit_offline(flags, packet, ack, internal)
        elif ack is None:
            if not self.io._packet(packet, flags.compress) and not flags.volatile:
                self._buffer(packet, flags.compress)
        else:
            # registered before the write, which may wait for room; marked sent once the
            # engine took the packet (a disconnection meanwhile leaves an unsent ack waiting)
            pending = self._add_ack(packet, ack, flags.timeout, internal)
            try:
                taken = self.io._packet(packet, flags.compress)
            except BaseException:
                self._forget_ack(packet.id)
                raise
            if taken:
                pending.sent = True
            elif flags.volatile:
                self._forget_ack(packet.id)
                if pending.with_error:
                    err = DisconnectedError("the connection was lost (volatile packet dropped)")
                    if internal:
                        raise err
                    submit(_run_callback, ack, (err,))
            elif packet.id is not None and self._acks.get(packet.id) is pending:
                # it waited for room and the connection was given up meanwhile: it never
                # left, so it waits for the next connection like an emit made offline
                self._buffer(packet, flags.compress)

    def _emit_offline(
        self, flags: _Flags, packet: Packet, ack: Callable[..., Any] | None, internal: bool
    ) -> None:
        """An emit while not connected: buffered (encoded now), or dropped when volatile."""
        with_error = internal or flags.timeout is not None
        if flags.volatile:
            if internal:
                raise DisconnectedError("the socket is not connected (volatile packet dropped)")
            if ack is not None and flags.timeout is not None:
                self._add_ack(packet, ack, flags.timeout, False)  # times out, as in JavaScript
            return
        if ack is not None and with_error and self._opened and self._finished():
            # closed for good: no connection will carry it, nobody may wait for it
            err = DisconnectedError("socket is closed")
            if internal:
                raise err
            submit(_run_callback, ack, (err,))
            return
        limit = self.io.opts["max_buffered_emits"]
        if len(self._send_buffer) >= limit:
            raise BufferFullError(
                f"the send buffer of {self.nsp!r} is full: {limit} emits wait for a "
                "connection (option max_buffered_emits)"
            )
        if ack is not None:
            packet.id = next(self._ids)
        # encoded now, so that a bad argument raises here and not when the buffer is sent
        parser = self.io._offline_parser()
        messages = parser.encode(packet)
        if ack is not None:
            self._add_ack(packet, ack, flags.timeout, internal)
        self._send_buffer.append((packet, parser, messages, flags.compress))

    def _buffer(self, packet: Packet, compress: bool) -> None:
        """A packet that was accepted while connected but never left: sent on the next
        `connect` (past ``max_buffered_emits`` if need be: the caller was told it was sent)."""
        parser = self.io._offline_parser()
        self._send_buffer.append((packet, parser, parser.encode(packet), compress))

    def _add_ack(
        self,
        packet: Packet,
        ack: Callable[..., Any],
        timeout: float | None,
        internal: bool,
    ) -> _PendingAck:
        if packet.id is None:
            packet.id = next(self._ids)
        pending = _PendingAck(ack, internal or timeout is not None, internal)
        self._acks[packet.id] = pending
        if timeout is not None:
            # a loop timer, not spawn_later: a greenlet per call() costs more than the call
            timer = pending.timer = gevent.get_hub().loop.timer(timeout)
            timer.start(self._ack_timeout, packet.id)
        elif not pending.with_error:
            self._plain_acks += 1
            if self._plain_acks > self.max_pending_acks:
                self._give_up_oldest_ack()
        return pending

    def _pop_ack(self, ack_id: int) -> _PendingAck | None:
        pending = self._acks.pop(ack_id, None)
        if pending is not None and not pending.with_error:
            self._plain_acks -= 1
        return pending

    def _forget_ack(self, ack_id: Any) -> None:
        pending = self._pop_ack(ack_id)
        if pending is not None and pending.timer is not None:
            pending.timer.close()
            pending.timer = None

    def _give_up_oldest_ack(self) -> None:
        oldest = next((i for i, p in self._acks.items() if not p.with_error), None)
        if oldest is None:
            return
        self._pop_ack(oldest)
        self._report(
            "%r: more than %s ack callbacks wait without a timeout; the oldest are given up "
            "(Socket.max_pending_acks)",
            self.nsp,
            self.max_pending_acks,
        )

    def _report(self, message: str, *args: Any) -> None:
        """A bound was reached: a warning once per connection, then debug records."""
        session = self.io._session
        if self._warned_session != session:
            self._warned_session = session
            logger.warning(message, *args)
        else:
            logger.debug(message, *args)

    def _call(self, flags: _Flags, event: str, args: tuple[Any, ...]) -> Any:
        result: AsyncResult = AsyncResult()

        def done(err: BaseException | None, *values: Any) -> None:
            if err is not None:
                result.set_exception(err)
            elif not values:
                result.set(None)
            else:
                result.set(values[0] if len(values) == 1 else values)

        self._emit_packet(flags, event, args, done, internal=True)
        return result.get()

    def _send_packet(self, packet: Packet, compress: bool) -> None:
        self.io._packet(packet, compress)

    def _flush_send_buffer(self) -> None:
        buffered, self._send_buffer = self._send_buffer, []
        io = self.io
        for packet, parser, messages, compress in buffered:
            pending = self._acks.get(packet.id) if packet.id is not None else None
            if pending is not None:
                pending.sent = True
            try:
                io._packet_encoded(packet, parser, messages, compress)
            except Exception as exc:
                # encoded again for another revision than expected, and that failed
                logger.exception("could not send a buffered packet of %r", self.nsp)
                if pending is not None:
                    self._forget_ack(packet.id)
                    if pending.with_error:
                        self._call_ack(pending, (exc,))

    def _ack_timeout(self, ack_id: int) -> None:
        # runs in the hub (timer callback): only non-blocking work here
        pending = self._acks.pop(ack_id, None)
        if pending is None:
            return
        # a packet that never left must not leave later: nobody waits for its answer any more
        self._send_buffer = [b for b in self._send_buffer if b[0].id != ack_id]
        self._call_ack(pending, (TimeoutError("operation has timed out"),))

    def _call_ack(self, pending: _PendingAck, args: tuple[Any, ...]) -> None:
        if pending.timer is not None:
            pending.timer.close()
            pending.timer = None
        if pending.internal:
            pending.callback(*args)
        else:
            submit(_run_callback, pending.callback, args)

    # ---- events from the manager (Engine greenlets; never block) ------------------------

    def _on_open(self) -> None:
        """The manager's connection is open: ask for the namespace."""
        io = self.io
        if self._connect_session == io._session:
            return  # CONNECT already sent on this connection
        if self._left[0] == io._session:
            wait = self._left[1] + REJOIN_DELAY - time.monotonic()
            if wait > 0:
                if self._rejoin_timer is None:
                    timer = self._rejoin_timer = gevent.get_hub().loop.timer(wait)
                    timer.start(self._rejoin_due)
                return
        self._connect_session = io._session
        if io.protocol == 4:
            if self.nsp == "/":
                # a 2.x server connects `/` on its own; only a socket that left it must ask again
                if io._root_connected:
                    self._on_connect(None)
                elif io._root_left:
                    self._send_packet(Packet(CONNECT, "/"), True)
                    io._root_joining = 1
                return
            nsp = self.nsp
            if self.query:
                from .options import encode_query

                nsp = f"{nsp}?{encode_query(self.query)}"
            self._send_packet(Packet(CONNECT, nsp), True)
            return
        auth = self.auth if self.auth is not None else io.opts.get("auth")
        if callable(auth):
            try:
                auth = auth()
            except Exception as exc:
                logger.exception("the auth callable of %r failed", self.nsp)
                self._dispatch("connect_error", exc)
                return
        if auth is not None and not isinstance(auth, Mapping):
            self._dispatch("connect_error", ValueError("auth must be a dict"))
            return
        self._send_packet(Packet(CONNECT, self.nsp, dict(auth) if auth else None), True)

    def _rejoin_due(self) -> None:
        # runs in the hub (timer callback): the CONNECT is written from a runner
        timer, self._rejoin_timer = self._rejoin_timer, None
        if timer is not None:
            timer.close()
        submit(self._rejoin)

    def _rejoin(self) -> None:
        if self._active and not self.connected and self.io.ready_state == "open":
            self._on_open()

    def _on_packet(self, packet: Packet) -> None:
        kind = packet.type
        if kind == EVENT or kind == BINARY_EVENT:
            self._on_event(packet)
        elif kind == ACK or kind == BINARY_ACK:
            self._on_ack(packet)
        elif kind == CONNECT:
            if self.io.protocol == 4:
                self._on_connect(None)
            elif isinstance(packet.data, Mapping) and packet.data.get("sid"):
                self._on_connect(str(packet.data["sid"]))
            else:
                self._dispatch(
                    "connect_error",
                    ConnectionError("the server answered CONNECT without a sid (a 2.x server?)"),
                )
        elif kind == DISCONNECT:
            self._on_server_disconnect()
        elif kind == CONNECT_ERROR:
            self._on_error_packet(packet.data)

    def _on_connect(self, sid: str | None) -> None:
        if self.connected or not self._active:
            return
        io = self.io
        engine_id = io.engine.id if io.engine is not None else None
        if sid is None:
            self.id = engine_id if self.nsp == "/" else f"{self.nsp}#{engine_id}"
        else:
            self.id = sid
        self.connected = True
        self._flow = _Flow()
        # `connect` first, then the events that came early, then what was emitted meanwhile
        self._dispatch("connect")
        received, self._receive_buffer = self._receive_buffer, []
        for args in received:
            submit(self._emit_any, *args)
        self._flush_send_buffer()
        self._pulse()

    def _on_event(self, packet: Packet) -> None:
        data = packet.data
        if not isinstance(data, list) or not data or not isinstance(data[0], str):
            logger.warning("ignoring an event without a name: %s", summary(packet))
            return
        # (event, *args[, ack]): the arguments of _emit_any as they are
        args = (
            tuple(data)
            if packet.id is None
            else (*data, _ServerAck(self, packet.id, self.io._session))
        )
        if self.connected:
            flow = self._flow
            flow.count += 1
            _dispatcher().submit(self._deliver, (flow, args))
            if flow.count >= self.max_pending_events:
                self._hold(flow)
        elif len(self._receive_buffer) < self.max_pending_events:
            self._receive_buffer.append(args)
        else:
            self._report(
                "%r: more than %s events arrived before `connect`; dropping %r "
                "(Socket.max_pending_events)",
                self.nsp,
                self.max_pending_events,
                data[0],
            )

    def _deliver(self, flow: _Flow, args: tuple[Any, ...]) -> None:
        # Emitter._emit_any, inlined: this runs once per event received
        event = args[0]
        try:
            for fn in self._any:
                try:
                    fn(*args)
                except Exception:
                    logger.exception("error in the catch-all handler %r for %r", fn, event)
            for fn in self._handlers.get(event, ()):
                try:
                    fn(*args[1:])
                except Exception:
                    logger.exception("error in the %r handler %r", event, fn)
        finally:
            flow.count -= 1
            waiter = flow.waiter
            if waiter is not None and flow.count <= _resume_level(self.max_pending_events):
                waiter.set()

    def _hold(self, flow: _Flow) -> None:
        """Too many events wait for their handlers: the reader (this greenlet) stops reading
        until a tenth of them are done or the connection is gone.  The hub never waits."""
        if gevent.getcurrent() is gevent.get_hub():
            return
        self._report(
            "%r: %s events wait for their handlers; the connection pauses reading "
            "(Socket.max_pending_events)",
            self.nsp,
            flow.count,
        )
        while not flow.closed and flow.count > _resume_level(self.max_pending_events):
            waiter = flow.waiter = Event()
            waiter.wait()
        flow.waiter = None

    def _on_ack(self, packet: Packet) -> None:
        pending = self._pop_ack(packet.id) if packet.id is not None else None
        if pending is None:
            logger.debug("ignoring an ack nobody waits for: %s", summary(packet))
            return
        data = packet.data if isinstance(packet.data, list) else []
        args = (None, *data) if pending.with_error else tuple(data)
        self._call_ack(pending, args)

    def _on_error_packet(self, data: Any) -> None:
        err = _refusal(data)
        if self.connected:
            self._dispatch("error", err)
            return
        # the server refused the namespace: stop asking for it
        self._destroy()
        self._dispatch("connect_error", err)
        if self.io.protocol == 4:
            self._dispatch("error", err)
        self._pulse()

    def _on_server_disconnect(self) -> None:
        self._destroy()
        self._on_close("io server disconnect")
        self._pulse()

    def _on_close(self, reason: str) -> None:
        """The namespace is gone: the connection closed, or one side left it."""
        was_connected = self.connected
        self.connected = False
        self.id = None
        self._connect_session = -1
        # events of this connection not handed out yet go with it (their acks would be dead)
        self._receive_buffer = []
        self._flow.release()
        # acks of packets that left with the connection will never come; buffered ones still may
        for ack_id in [i for i, p in self._acks.items() if p.sent]:
            pending = self._pop_ack(ack_id)
            assert pending is not None
            if pending.with_error:
                self._call_ack(pending, (DisconnectedError("socket has been disconnected"),))
            elif pending.timer is not None:
                pending.timer.close()
        if was_connected:
            self._dispatch("disconnect", reason)
        self._pulse()

    def _destroy(self, server_leaves: bool = True) -> None:
        if self.io.protocol == 4 and self.nsp == "/" and server_leaves:
            self.io._root_connected = False
            self.io._root_left = True
        self._active = False
        self._connect_session = -1  # a later open() asks for the namespace again
        self._receive_buffer = []
        self.io._deactivate(self)

    # ---- helpers ---------------------------------------------------------------------------

    def _pulse(self) -> None:
        changed, self._changed = self._changed, Event()
        changed.set()
        if self._acks and self._opened and self._finished():
            self._abandon_buffered()

    def _abandon_buffered(self) -> None:
        """Gone for good: whoever waits on an ack of a still-buffered packet (``call()``, a
        timeout ack) hears DisconnectedError, and that packet will not leave later.  Plain
        emits stay buffered with their callbacks, for an ``open()`` that may come."""
        ids = {i for i, p in self._acks.items() if not p.sent and p.with_error}
        if not ids:
            return
        self._send_buffer = [b for b in self._send_buffer if b[0].id not in ids]
        for ack_id in ids:
            self._call_ack(self._acks.pop(ack_id), (DisconnectedError("socket is closed"),))

    def _finished(self) -> bool:
        if self.connected:
            return False
        return not self._active or not self.io._will_connect()


__all__ = ["EmitView", "RESERVED_EVENTS", "Socket"]
