"""``Socket``: one namespace on a ``Manager``'s connection (socket.io-client's ``Socket``).

The namespace's protocol (its state, CONNECT, acks, buffers, disconnect reasons) is a
``core.namespaces.Namespace``; this class is its gevent shell.

Threading model: the Manager hands the namespace's events to ``_on_core_event`` from the
Engine's greenlets or the hub; it never blocks, except a reader held back by
``max_pending_events`` (the hub hands that wait to a greenlet).  Every user callback (event handlers, ack callbacks, the reserved
events) runs on a greenlet of its own, spawned in arrival order, so that handlers start in order
and a handler that blocks (sleeps, ``call()``, I/O) stalls neither the reads nor the next
handler.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Callable, NamedTuple

import gevent
from gevent import get_hub
from gevent.event import Event
from gevent.hub import Waiter

from .core import _accel
from .core.namespaces import (
    ACK_DONE,
    BOUND_REACHED,
    CLOSED,
    CONNECT_FAILED,
    CONNECTED,
    CONNECTED_EVENT,
    ERROR_RECEIVED,
    RECEIVED,
    REJOIN_DELAY,
    RESEND,
    SEND,
    UNUSED,
    AckDone,
    Connected,
    Namespace,
    PendingAck,
    QueuedEmit,
    Received,
)
from .core.packet import Packet
from .dispatch import dispatcher as _dispatcher
from .dispatch import submit
from .emitter import Emitter
from .exceptions import BufferFullError, DisconnectedError

if TYPE_CHECKING:
    from .manager import Manager

logger = logging.getLogger("sioclient")

#: builds the EVENT packet of every emit: ``Packet(EVENT, nsp, [event, *args])`` without the
#: Python frame of Packet.__init__ when the speedups are compiled (benchmarks/parser.py uses it)
_event_packet = _accel.load("sioparser").event_packet

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
#: call()'s flags for a given timeout (int or float seconds)
_TIMEOUT_FLAGS: dict[float, _Flags] = {}


class _Flow:
    """The server events of one connection of a socket that were handed to the dispatcher and
    whose handlers have not returned yet; the reader waits here when there are too many.
    ``dispatcher`` is that of the hub that reads the connection and ``deliver`` the socket's
    ``_deliver`` (both looked up once, not per event)."""

    __slots__ = ("count", "waiter", "closed", "dispatcher", "deliver")

    def __init__(self, deliver: Callable[[_Flow, str, tuple[Any, ...]], None]) -> None:
        self.count = 0
        self.waiter: Event | None = None
        self.closed = False
        self.dispatcher = _dispatcher()
        self.deliver = deliver

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
        packet = sock._ns.ack(self.id, list(args), self.session)
        if packet is not None:
            sock._send_packet(packet, True)

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


def _resume_level(bound: int) -> int:
    """Where a reader paused at ``max_pending_events`` goes on: a short pause, since the
    heartbeat is not read meanwhile, yet not one per event."""
    return bound - max(1, bound // 10)


def _run_listener(listener: Callable[..., Any], args: tuple[Any, ...]) -> None:
    try:
        listener(*args)
    except Exception:
        logger.exception("error in the outgoing catch-all handler %r", listener)


def _resume(waiter: Waiter, args: tuple[Any, ...]) -> None:
    """The ack callback of ``call()`` (an "internal" one): ``args`` is ``(None, *values)`` or
    ``(error,)``.  The hub switches to the caller once it is done with what it is doing
    (reading the rest of a batch, say): one loop callback, no AsyncResult and its links.
    The value is the ack's one argument, a tuple of several, or None."""
    err = args[0]
    if err is None:
        n = len(args)
        value = None if n == 1 else args[1] if n == 2 else args[1:]
        waiter.hub.loop.run_callback(waiter.switch, value)
    else:
        waiter.hub.loop.run_callback(waiter.throw, err)


def _run_callback(callback: Callable[..., Any], args: tuple[Any, ...]) -> None:
    try:
        callback(*args)
    except Exception:
        logger.exception("error in the ack callback %r", callback)


class Socket(Emitter):
    """A namespace of a ``Manager``; obtained from ``io()`` or ``manager.socket()``.

    The namespace's protocol state (connecting, connected, acks, buffers) is a
    ``core.namespaces.Namespace``; this class turns calls into its intents, runs its deadlines on
    a timer, hands its events to the listeners, and blocks the caller of ``call()``/``wait()``.

    Two bounds are class attributes (set one on the class for every socket, or on one socket):

    ``max_pending_acks``
        ack callbacks waiting without a timeout (plain ``emit(..., callback)``).  Beyond it
        the oldest is given up: its callback is never called, as after a disconnection, and a
        warning is logged.  ``call()`` and ``timeout()`` callbacks are bounded by their
        deadlines and are never given up.
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
        self._ns: Namespace = io._namespace(nsp, options.get("query"), options.get("auth"), self)
        self._flow = _Flow(self._deliver)
        self._timer: Any = None  # a libev timer for the namespace's next deadline
        self._timer_at = 0.0
        self._changed = Event()
        #: on_any_outgoing() listeners (copy-on-write, as the Emitter's lists)
        self._any_outgoing: list[Callable[..., Any]] = []
        #: the parser of the buffered packets kept in the short form (see _kept)
        self._kept_parser: Any = None

    def __repr__(self) -> str:
        state = "connected" if self.connected else "disconnected"
        return f"<sioclient.Socket {self.nsp!r} {state} id={self.id!r}>"

    @property
    def query(self) -> dict[str, str] | None:
        """The namespace's query (revision 4 sends it with the CONNECT); may be changed."""
        return self._ns.query  # type: ignore[return-value]

    @query.setter
    def query(self, value: dict[str, str] | None) -> None:
        self._ns.query = value

    @property
    def auth(self) -> Any:
        """The namespace's auth payload, or a callable giving it (revision 5); may be changed."""
        return self._ns.auth

    @auth.setter
    def auth(self, value: Any) -> None:
        self._ns.auth = value

    @property
    def connected(self) -> bool:
        return self._ns.state == CONNECTED

    @property
    def disconnected(self) -> bool:
        return self._ns.state != CONNECTED

    @property
    def id(self) -> str | None:
        """The namespace's session id (None until connected and again after a disconnect)."""
        return self._ns.id

    @property
    def active(self) -> bool:
        """True while the socket wants a connection (it reconnects when the manager does)."""
        return self._ns.active

    @property
    def recovered(self) -> bool:
        """True when the last connection restored the session (connection state recovery of
        a socket.io >= 4.6 server): same ``id``, and the events emitted during the gap follow
        ``connect``.  Always False against servers that do not recover sessions."""
        return self._ns.recovered

    # what waits in the namespace, for tests and debugging
    @property
    def _acks(self) -> dict[int, PendingAck]:
        return self._ns.acks

    @property
    def _send_buffer(self) -> list[tuple[int | None, Any]]:
        return self._ns.send_buffer

    @property
    def _receive_buffer(self) -> list[Any]:
        return self._ns.receive_buffer

    # ---- public API ------------------------------------------------------------------------

    def open(self) -> Socket:
        """Connects the namespace (or reconnects it after ``disconnect()``)."""
        if self.connected:
            return self
        self._ns.activate()
        io = self.io
        io._wanted()
        if io.ready_state == "open":
            self._apply(self._ns.join(time.monotonic()))
            self._arm()
        return self

    connect = open

    def close(self) -> Socket:
        """Leaves the namespace; the manager closes its connection when no socket is left."""
        self._apply(self._ns.leave(time.monotonic()))
        self._pulse()
        return self

    disconnect = close

    def emit(self, event: str, *args: Any, ack: Callable[..., Any] | None = None) -> Socket:
        """Sends ``event``; a trailing callable (or ``ack=``) is called with the server's ack."""
        self._emit_packet(_NO_FLAGS, event, args, ack, False)
        return self

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
        flags = _NO_FLAGS
        if timeout is not None:
            # the flags of the few timeouts a program uses are made once (bool is no number)
            known = _TIMEOUT_FLAGS.get(timeout) if type(timeout) in (int, float) else None
            if known is None:
                known = _Flags(timeout=_check_timeout(timeout))
                if len(_TIMEOUT_FLAGS) < 64:
                    _TIMEOUT_FLAGS[timeout] = known
            flags = known
        # _call(), inlined: one Python call less per round trip
        waiter = Waiter(get_hub())
        self._emit_packet(flags, event, args, waiter, True)
        return waiter.get()

    def compress(self, flag: bool = True) -> EmitView:
        return EmitView(self, _Flags(compress=bool(flag)))

    def on_any_outgoing(self, callback: Callable[..., Any]) -> Socket:
        """Adds a listener called as ``callback(event, *args)`` for every event packet this
        socket sends (each time it is sent: at-least-once emits may be sent again); not for
        acks.  Listeners run on the dispatcher's greenlets, in order."""
        self._any_outgoing = [*self._any_outgoing, callback]
        return self

    def prepend_any_outgoing(self, callback: Callable[..., Any]) -> Socket:
        """``on_any_outgoing``, the listener first."""
        self._any_outgoing = [callback, *self._any_outgoing]
        return self

    def off_any_outgoing(self, callback: Callable[..., Any] | None = None) -> Socket:
        """Removes one outgoing catch-all listener, or all of them."""
        if callback is None:
            self._any_outgoing = []
        else:
            listeners = list(self._any_outgoing)
            if callback in listeners:
                listeners.remove(callback)
                self._any_outgoing = listeners
        return self

    def listeners_any_outgoing(self) -> list[Callable[..., Any]]:
        return list(self._any_outgoing)

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
        packet = _event_packet(self.nsp, event, args)
        ns = self._ns
        conn = ns.conn
        if conn.retries and not flags.volatile:
            self._emit_queued(flags, packet, ack, internal)
            return
        if ack is not None and flags.timeout is None and conn.ack_timeout is not None:
            flags = flags._replace(timeout=conn.ack_timeout)
        if ns.state != CONNECTED:
            self._emit_offline(flags, packet, ack, internal)
        elif ack is None:
            if self._any_outgoing:
                self._notify_outgoing(packet)
            if not self.io._packet(packet, flags.compress) and not flags.volatile:
                self._buffer(packet, flags.compress)
        else:
            if self._any_outgoing:
                self._notify_outgoing(packet)
            # registered before the write, which may wait for room; marked sent once the
            # engine took the packet (a disconnection meanwhile leaves an unsent ack waiting)
            timeout = flags.timeout
            # _add_ack(), inlined: one per emit with an ack
            if timeout is None:
                pending, events = ns.add_ack(packet, ack, None, internal, 0.0)
                if events:
                    self._apply(events)
            else:
                pending, _ = ns.add_ack(packet, ack, timeout, internal, time.monotonic())
                timer = self._timer
                if timer is not None and self._timer_at <= pending.deadline:  # type: ignore[operator]
                    if not timer.ref:
                        timer.ref = True  # see _add_ack
                else:
                    self._arm()
            try:
                taken = self.io._packet(packet, flags.compress)
            except BaseException:
                ns.forget_ack(packet.id)
                raise
            if taken:
                pending.sent = True
            elif flags.volatile:
                ns.forget_ack(packet.id)
                if pending.with_error:
                    err = DisconnectedError("the connection was lost (volatile packet dropped)")
                    if internal:
                        raise err
                    submit(_run_callback, ack, (err,))
            elif packet.id is not None and ns.acks.get(packet.id) is pending:
                # it waited for room and the connection was given up meanwhile: it never
                # left, so it waits for the next connection like an emit made offline
                self._buffer(packet, flags.compress)

    def _emit_queued(
        self, flags: _Flags, packet: Packet, ack: Callable[..., Any] | None, internal: bool
    ) -> None:
        """An at-least-once emit (``retries`` > 0): kept with an ack id until the server acks
        it, sent again in order after its deadline or a reconnection (core: ``enqueue``)."""
        ns = self._ns
        timeout = flags.timeout if flags.timeout is not None else ns.conn.ack_timeout
        connected = ns.state == CONNECTED
        if not connected and ack is not None and self._refused_closed(ack, internal):
            return
        # connected or not, the emits kept until the server acks them are bounded
        self._check_room("a connection or an ack")
        if not connected:
            self.io._offline_parser().encode(packet)  # a bad argument raises here
            ns.enqueue(packet, ack, timeout, internal, flags.compress, 0.0)
            return
        ns.enqueue(packet, ack, timeout, internal, flags.compress, time.monotonic())
        if self._any_outgoing:
            self._notify_outgoing(packet)
        try:
            # not taken: the connection is going; the emit leaves again on the next one
            self.io._packet(packet, flags.compress)
        except BaseException:
            ns.forget_ack(packet.id)
            raise
        if timeout is not None:
            self._arm()

    def _resend(self, entries: list[QueuedEmit]) -> None:
        """At-least-once emits sent again (a retry round, or a new connection), in order."""
        io = self.io
        queue = self._ns.queue
        for entry in entries:
            packet = entry.packet
            if packet.id not in queue or not entry.sent:
                continue  # answered or failed meanwhile, or the connection went
            if self._any_outgoing:
                self._notify_outgoing(packet)
            try:
                io._packet(packet, entry.compress)
            except Exception as exc:
                # encoded again for another revision than expected, and that failed
                logger.exception("could not send an emit of %r again", self.nsp)
                self._ns.forget_ack(packet.id)
                if entry.callback is not None:
                    self._call_ack(entry, (exc,))
        self._arm()

    def _refused_closed(self, ack: Callable[..., Any], internal: bool) -> bool:
        """True when the socket is closed for good: no connection will carry the emit and
        nobody may wait for it, so ``call()`` raises and the callback hears the error."""
        if not (self._ns.opened and self._finished()):
            return False
        err = DisconnectedError("socket is closed")
        if internal:
            raise err
        submit(_run_callback, ack, (err,))
        return True

    def _check_room(self, waiting_for: str) -> None:
        """Raises BufferFullError when ``max_buffered_emits`` emits are kept already."""
        limit = self.io.opts["max_buffered_emits"]
        if self._ns.buffer_full(limit):
            raise BufferFullError(
                f"the send buffer of {self.nsp!r} is full: {limit} emits wait for "
                f"{waiting_for} (option max_buffered_emits)"
            )

    def _notify_outgoing(self, packet: Packet) -> None:
        for fn in self._any_outgoing:
            submit(_run_listener, fn, tuple(packet.data))

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
        ns = self._ns
        if ack is not None and with_error and self._refused_closed(ack, internal):
            return
        self._check_room("a connection")
        if ack is not None:
            packet.id = ns.next_ack_id()
        # encoded now, so that a bad argument raises here and not when the buffer is sent
        parser = self.io._offline_parser()
        kept = self._kept(packet, parser, parser.encode(packet), flags.compress)
        if ack is not None:
            self._add_ack(packet, ack, flags.timeout, internal)
        ns.buffer(packet.id, kept, None)

    def _buffer(self, packet: Packet, compress: bool) -> None:
        """A packet that was accepted while connected but never left: sent on the next
        `connect` (past ``max_buffered_emits`` if need be: the caller was told it was sent)."""
        parser = self.io._offline_parser()
        kept = self._kept(packet, parser, parser.encode(packet), compress)
        self._ns.buffer(packet.id, kept, None)

    def _kept(self, packet: Packet, parser: Any, messages: Any, compress: bool) -> Any:
        """How a buffered packet is kept: (packet, parser, messages, compress), or in the
        short form, its one message alone (every packet but a binary one), compressed, encoded
        by ``_kept_parser`` (the parser of the socket's first buffered packet, and in practice
        of every later one).  The packet itself is read back from that message in the rare
        case that needs it (see ``_flush``).  The buffer's entry is then two blocks (its pair
        and the message) where the full form takes six, and when a server goes away every
        client of the process buffers its emits at the same time."""
        if compress and type(messages) is list and len(messages) == 1:
            message = messages[0]
            if isinstance(message, (str, bytes)):
                if self._kept_parser is None:
                    self._kept_parser = parser
                if parser is self._kept_parser:
                    return message
        return (packet, parser, messages, compress)

    def _add_ack(
        self,
        packet: Packet,
        ack: Callable[..., Any],
        timeout: float | None,
        internal: bool,
    ) -> PendingAck:
        if timeout is None:
            pending, events = self._ns.add_ack(packet, ack, None, internal, 0.0)
            if events:
                self._apply(events)
            return pending
        pending, _ = self._ns.add_ack(packet, ack, timeout, internal, time.monotonic())
        timer = self._timer
        if timer is not None and self._timer_at <= pending.deadline:  # type: ignore[operator]
            # what _arm() would do, without asking the namespace for its next deadline: the
            # timer fires first and arms again for what is left then
            if not timer.ref:
                timer.ref = True
        else:
            self._arm()
        return pending

    def _call(self, flags: _Flags, event: str, args: tuple[Any, ...]) -> Any:
        # the "internal" ack callback of call() is its Waiter itself: no closure per call
        # (see _resume)
        waiter = Waiter(get_hub())
        self._emit_packet(flags, event, args, waiter, internal=True)
        return waiter.get()

    def _send_packet(self, packet: Packet, compress: bool) -> None:
        self.io._packet(packet, compress)

    def _flush(self, buffered: list[tuple[int | None, Any]]) -> None:
        io = self.io
        acks = self._ns.acks
        for i, (ack_id, kept) in enumerate(buffered):
            packet: Packet | None
            if type(kept) is tuple:
                packet, parser, messages, compress = kept
            else:
                packet, parser, messages, compress = None, self._kept_parser, [kept], True
                if self._any_outgoing or parser is not io._parser:
                    # the short form (see _kept): the listeners get the packet, another
                    # revision's parser encodes it again
                    (packet,) = parser.decoder().feed(kept)
            pending = acks.get(ack_id) if ack_id is not None else None
            if pending is not None:
                pending.sent = True
            if packet is not None and self._any_outgoing:
                self._notify_outgoing(packet)
            try:
                if not io._packet_encoded(packet, parser, messages, compress):
                    # the connection dropped while the buffer was written: what it did not
                    # take waits for the next one, in order, ahead of later emits
                    self._ns.requeue(buffered[i:])
                    return
            except Exception as exc:
                # encoded again for another revision than expected, and that failed
                logger.exception("could not send a buffered packet of %r", self.nsp)
                if pending is not None:
                    self._ns.forget_ack(ack_id)
                    if pending.with_error:
                        self._call_ack(pending, (exc,))

    def _call_ack(self, pending: PendingAck, args: tuple[Any, ...]) -> None:
        if pending.internal:
            _resume(pending.callback, args)
        else:
            _dispatcher().submit(_run_callback, (pending.callback, args))

    def _acked(self, pending: PendingAck, args: tuple[Any, ...]) -> None:
        """``_on_core_event`` for an ack, without its event (the manager calls it directly:
        one per ack read)."""
        if pending.deadline is not None:
            # _unhold_if_idle(), inlined; first: the caller of call() may run from here on.
            # (An ack without a deadline leaves the namespace's next deadline as it was.)
            timer = self._timer
            if timer is not None and timer.ref and self._ns.next_deadline() is None:
                timer.ref = False
        if pending.internal:
            # _resume(), inlined: one per call()
            waiter = pending.callback
            err = args[0]
            if err is None:
                n = len(args)
                value = None if n == 1 else args[1] if n == 2 else args[1:]
                waiter.hub.loop.run_callback(waiter.switch, value)
            else:
                waiter.hub.loop.run_callback(waiter.throw, err)
        else:
            self._flow.dispatcher.submit(_run_callback, (pending.callback, args))

    # ---- the namespace's deadlines ---------------------------------------------------------

    def _arm(self) -> None:
        """Runs the timer for the namespace's next deadline (ack timeouts, a rejoin)."""
        due = self._ns.next_deadline()
        if due is None:
            return
        timer = self._timer
        if timer is not None:
            if self._timer_at <= due:
                # it fires first and arms again for what is left; a timer kept for the next
                # deadline (see _on_core_event) holds the loop again
                if not timer.ref:
                    timer.ref = True
                return
            timer.close()
        # a loop timer, not spawn_later: a greenlet per call() costs more than the call
        timer = self._timer = gevent.get_hub().loop.timer(max(0.0, due - time.monotonic()))
        self._timer_at = due
        timer.start(self._deadline_reached)

    def _disarm_if_idle(self) -> None:
        if self._timer is not None and self._ns.next_deadline() is None:
            # nothing left to time out: an armed timer would keep the loop (and a program
            # that waits for it to empty) busy until it expires
            timer, self._timer = self._timer, None
            timer.close()

    def _unhold_if_idle(self) -> None:
        """``_disarm_if_idle`` after an ack, the timer kept: with nothing left to time out
        it stays armed but no longer holds the loop, for the next call()'s deadline (a timer
        made and closed per call() costs more than the rest of its deadline's bookkeeping);
        when it fires with nothing due, it only arms again for what is left."""
        timer = self._timer
        if timer is not None and timer.ref and self._ns.next_deadline() is None:
            timer.ref = False

    def _deadline_reached(self) -> None:
        # runs in the hub (timer callback): only non-blocking work here; packets are written
        # from a runner
        timer, self._timer = self._timer, None
        if timer is not None:
            timer.close()
        events = self._ns.tick(max(time.monotonic(), self._timer_at))
        rest: list[Any] = []
        for event in events:
            if isinstance(event, AckDone):
                self._call_ack(event.pending, event.args)
            else:
                rest.append(event)  # a rejoin: its CONNECT (and more) is written by a runner
        if rest:
            submit(self._apply, rest)
        self._arm()

    # ---- what the namespace reports (also routed here by the manager) ---------------------

    def _apply(self, events: list[Any]) -> None:
        for event in events:
            self._on_core_event(event)

    def _on_core_event(self, ev: Any) -> None:
        kind = ev.kind
        if kind == RECEIVED:
            self._on_event(ev)
        elif kind == ACK_DONE:
            self._acked(ev.pending, ev.args)
        elif kind == SEND:
            self._send_packet(ev.packet, True)
        elif kind == RESEND:
            self._resend(ev.entries)
        elif kind == CONNECTED_EVENT:
            self._on_connect(ev)
        elif kind == CLOSED:
            self._disarm_if_idle()
            self._flow.release()
            if ev.was_connected:
                self._dispatch("disconnect", ev.reason)
            self._pulse()
        elif kind == CONNECT_FAILED:
            err = ev.error
            if ev.log:
                logger.error("the auth callable of %r failed", self.nsp, exc_info=err)
            self._dispatch("connect_error", err)
            if ev.also_error:
                self._dispatch("error", err)
            if ev.timeout is not None:
                self._dispatch("connect_timeout", ev.timeout)
            self._disarm_if_idle()
            self._pulse()
        elif kind == ERROR_RECEIVED:
            self._dispatch("error", ev.error)
        elif kind == BOUND_REACHED:
            if ev.first:
                logger.warning(ev.message, *ev.args)
            else:
                logger.debug(ev.message, *ev.args)
        elif kind == UNUSED:
            self.io._unused()

    def _on_connect(self, ev: Connected) -> None:
        self._disarm_if_idle()  # the CONNECT's deadline is gone
        self._flow = _Flow(self._deliver)
        # `connect` first, then the events that came early, then what was emitted meanwhile
        self._dispatch("connect")
        for data, ack_id, session in ev.early:
            args = tuple(data) if ack_id is None else (*data, _ServerAck(self, ack_id, session))
            submit(self._emit_any, *args)
        self._flush(ev.buffered)
        if ev.resend:
            self._resend(ev.resend)
        self._pulse()

    def _on_data(self, data: list[Any]) -> bool:
        """``_on_event`` of a ``Received`` without an ack id, without the event object: this
        runs once per event received.  True when the handlers are too far behind (the
        reading paused, or was handed over)."""
        flow = self._flow
        flow.count += 1
        # the name taken off the list in place: the arguments are then one tuple, with no
        # slice of it later
        event = data.pop(0)
        flow.dispatcher.submit(flow.deliver, (flow, event, tuple(data)))
        if flow.count >= self.max_pending_events:
            self._hold(flow)
            return True
        return False

    def _on_event(self, ev: Received) -> None:
        ack_id = ev.ack_id
        data = ev.data
        args = (
            tuple(data[1:]) if ack_id is None else (*data[1:], _ServerAck(self, ack_id, ev.session))
        )
        flow = self._flow
        flow.count += 1
        flow.dispatcher.submit(flow.deliver, (flow, data[0], args))
        if flow.count >= self.max_pending_events:
            self._hold(flow)

    def _deliver(self, flow: _Flow, event: str, args: tuple[Any, ...]) -> None:
        # Emitter._emit_any, inlined: this runs once per event received
        try:
            if self._any:
                for fn in self._any:
                    try:
                        fn(event, *args)
                    except Exception:
                        logger.exception("error in the catch-all handler %r for %r", fn, event)
            for fn in self._handlers.get(event, ()):
                try:
                    fn(*args)
                except Exception:
                    logger.exception("error in the %r handler %r", event, fn)
        finally:
            flow.count -= 1
            waiter = flow.waiter
            if waiter is not None and flow.count <= _resume_level(self.max_pending_events):
                waiter.set()

    def _hold(self, flow: _Flow) -> None:
        """Too many events wait for their handlers: the reader (this greenlet) stops reading
        until a tenth of them are done or the connection is gone.  The hub never waits: when
        it is the reader, the reading goes on in a greenlet that waits here first."""
        if gevent.getcurrent() is gevent.get_hub():
            hand_over = getattr(self.io.engine, "hand_over", None)
            if hand_over is not None:
                hand_over(lambda: self._hold(flow))
            return
        if flow.closed or flow.count <= _resume_level(self.max_pending_events):
            return  # handed over, and the handlers caught up in the meantime
        self._on_core_event(
            self._ns.report(
                "%r: %s events wait for their handlers; the connection pauses reading "
                "(Socket.max_pending_events)",
                self.nsp,
                flow.count,
            )
        )
        while not flow.closed and flow.count > _resume_level(self.max_pending_events):
            waiter = flow.waiter = Event()
            waiter.wait()
        flow.waiter = None

    # ---- helpers ---------------------------------------------------------------------------

    def _pulse(self) -> None:
        changed, self._changed = self._changed, Event()
        changed.set()
        ns = self._ns
        if ns.acks and ns.opened and self._finished():
            self._apply(ns.give_up_buffered())

    def _finished(self) -> bool:
        if self._ns.state == CONNECTED:
            return False
        return not self._ns.active or not self.io._will_connect()


__all__ = ["REJOIN_DELAY", "EmitView", "RESERVED_EVENTS", "Socket"]
