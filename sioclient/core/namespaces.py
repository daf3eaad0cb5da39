"""The Socket.IO client protocol as a sans-I/O state machine (no sockets, no timers, no gevent).

``core/session.py`` speaks Engine.IO; this module speaks Socket.IO over it: namespaces, their
CONNECT and refusal, acks, the buffers, and why each namespace was left.  The gevent classes
``Manager`` and ``Socket`` feed it and carry out what it hands back.

The objects
===========

* :class:`Connection` -- one per ``Manager``: the namespaces of its connection (across
  reconnections), the revision spoken, a counter of the connections opened (``session``: an ack
  belongs to one), and the revision-4 rules for ``/``.
* :class:`Namespace` -- one per ``Socket``: its state, its pending acks with their deadlines, the
  offline send buffer and the events received before ``connect``.

Feeding it
==========

=====================================  ==========================================================
the I/O layer saw                      call
=====================================  ==========================================================
the engine opened                      ``conn.opened(protocol, engine_id, now)``
the engine closed (or ``close()``)     ``conn.closed(reason)``
a decoded packet                       ``conn.receive(packet, now)``
a ping / pong of revision 3            ``conn.ping_sent()`` / ``conn.pong_received()``
the user opens / leaves a namespace    ``ns.activate()`` then ``ns.join(now)`` / ``ns.leave(now)``
an emit                                ``ns.add_ack(...)`` (connected) or ``ns.buffer(...)``
``now`` reached ``ns.next_deadline()`` ``ns.tick(now)``
=====================================  ==========================================================

Every method that changes state returns a list of events (the classes below), to be carried out
in order: packets to write (:class:`Send`, :class:`Flush`) and things to tell the user.  The hot
paths return less: an emit on a connected namespace is a :class:`PendingAck` registration (or
nothing) and the caller writes the packet it built; a received event is one :class:`Received`.

Namespace states
================

::

    DISCONNECTED --activate/join--> CONNECTING --CONNECT (sid)--> CONNECTED
         ^                            |   ^                          |
         |                            |   +--connection reopens------+ (connection closed)
         +--leave / server DISCONNECT-+---------------------------------+
    CONNECTING --CONNECT_ERROR--> REFUSED (stays until the user opens it again)

``CONNECTING`` means "wants a connection": the CONNECT goes out each time the connection opens
(at most once per connection, and no sooner than :data:`REJOIN_DELAY` after leaving it there).

Differences between revisions are read from ``revisions.py``: whether the server connects ``/`` by
itself, whether the CONNECT carries the query (revision 4) or an auth payload (revision 5), and
whether a refusal is also reported as ``error``.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from typing import Any, Callable

from ..exceptions import ConnectionError, DisconnectedError, TimeoutError
from ..url import encode_query
from .packet import ACK, BINARY_ACK, BINARY_EVENT, CONNECT, CONNECT_ERROR, DISCONNECT, EVENT, Packet
from .revisions import EIO4, Revision, by_protocol

#: after leaving a namespace, the least time before asking for it again on the same connection:
#: socket.io servers handle a DISCONNECT one tick late, and a CONNECT of that namespace read in
#: the same tick makes a 4.x server close the connection ("invalid state") and a 2.x server
#: lose track of the new socket.  Apart, the two are read apart.
REJOIN_DELAY = 0.1

DISCONNECTED = "disconnected"
CONNECTING = "connecting"
CONNECTED = "connected"
REFUSED = "refused"


# ---- events ---------------------------------------------------------------------------------


class Event:
    """Something the I/O layer must do or tell, about namespace ``nsp``."""

    __slots__ = ("nsp",)
    nsp: str
    kind = 0

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={getattr(self, k)!r}" for k in self.__slots__)
        return f"{type(self).__name__}(nsp={self.nsp!r}, {fields})"

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        names = ("nsp", *self.__slots__)
        return all(getattr(self, n) == getattr(other, n) for n in names)

    __hash__ = None  # type: ignore[assignment]


class Send(Event):
    """Write ``packet`` now (CONNECT, DISCONNECT, an ack to the server)."""

    __slots__ = ("packet",)
    kind = 1

    def __init__(self, nsp: str, packet: Packet) -> None:
        self.nsp = nsp
        self.packet = packet


class Connected(Event):
    """The namespace is connected: tell ``connect``, then hand out ``early`` (events received
    before it, as ``(data, ack_id, session)``), then write ``buffered`` (the offline buffer's
    ``(ack_id, extra)`` entries, in order; mark each one's ack sent as it leaves), then
    ``resend`` (the at-least-once emits waiting for their ack, :class:`QueuedEmit`, in order)."""

    __slots__ = ("id", "early", "buffered", "resend")
    kind = 2

    def __init__(
        self,
        nsp: str,
        id: str | None,  # noqa: A002
        early: list[Any],
        buffered: list[Any],
        resend: list[Any] | None = None,
    ) -> None:
        self.nsp = nsp
        self.id = id
        self.early = early
        self.buffered = buffered
        self.resend = resend if resend is not None else []


class Closed(Event):
    """The namespace is gone (``reason``); ``was_connected``: tell ``disconnect``."""

    __slots__ = ("reason", "was_connected")
    kind = 3

    def __init__(self, nsp: str, reason: str, was_connected: bool) -> None:
        self.nsp = nsp
        self.reason = reason
        self.was_connected = was_connected


class ConnectFailed(Event):
    """Tell ``connect_error`` with ``error`` (and ``error`` too when ``also_error``, as
    revision 4 does).  ``log``: the failure is the user's own code (an auth callable).
    ``timeout`` not None: the server left the CONNECT unanswered that many seconds; tell
    ``connect_timeout`` too."""

    __slots__ = ("error", "also_error", "log", "timeout")
    kind = 4

    def __init__(
        self,
        nsp: str,
        error: BaseException,
        also_error: bool,
        log: bool,
        timeout: float | None = None,
    ) -> None:
        self.nsp = nsp
        self.error = error
        self.also_error = also_error
        self.log = log
        self.timeout = timeout


class ErrorReceived(Event):
    """The server reported an error on a connected namespace: tell ``error``."""

    __slots__ = ("error",)
    kind = 5

    def __init__(self, nsp: str, error: BaseException) -> None:
        self.nsp = nsp
        self.error = error


class Received(Event):
    """A server event for the handlers: ``data`` is ``[name, *args]``; ``ack_id`` not None:
    the server waits for an ack (send it with :meth:`Namespace.ack` on ``session``)."""

    __slots__ = ("data", "ack_id", "session")
    kind = 6

    def __init__(self, nsp: str, data: list[Any], ack_id: int | None, session: int) -> None:
        self.nsp = nsp
        self.data = data
        self.ack_id = ack_id
        self.session = session


class AckDone(Event):
    """Call ``pending``'s callback with ``args`` (the ack's arguments, with the error first
    when ``pending.with_error``; or just the error: timeout, disconnection)."""

    __slots__ = ("pending", "args")
    kind = 7

    def __init__(self, nsp: str, pending: PendingAck, args: tuple[Any, ...]) -> None:
        self.nsp = nsp
        self.pending = pending
        self.args = args


class BoundReached(Event):
    """A bound was reached: ``message % args`` is a warning the first time on a connection
    (``first``), a debug record after."""

    __slots__ = ("message", "args", "first")
    kind = 8

    def __init__(self, nsp: str, message: str, args: tuple[Any, ...], first: bool) -> None:
        self.nsp = nsp
        self.message = message
        self.args = args
        self.first = first


class Unused(Event):
    """No namespace wants the connection any more: the I/O layer closes it."""

    __slots__ = ()
    kind = 9

    def __init__(self, nsp: str) -> None:
        self.nsp = nsp


class Resend(Event):
    """Write the packets of ``entries`` (:class:`QueuedEmit`) again, in order: the oldest
    at-least-once emit waiting for its ack passed its deadline (a retry round)."""

    __slots__ = ("entries",)
    kind = 10

    def __init__(self, nsp: str, entries: list[QueuedEmit]) -> None:
        self.nsp = nsp
        self.entries = entries


SEND, CONNECTED_EVENT, CLOSED, CONNECT_FAILED, ERROR_RECEIVED = 1, 2, 3, 4, 5
RECEIVED, ACK_DONE, BOUND_REACHED, UNUSED, RESEND = 6, 7, 8, 9, 10


class Limits:
    """The default bounds (the ``Socket`` class attributes of the same names)."""

    max_pending_acks: float = 10_000
    max_pending_events: int = 10_000


class PendingAck:
    """An emitted packet's ack callback, waiting for the server's answer.  ``callback`` is the
    I/O layer's business; the core only keeps it, with the packet's deadline."""

    __slots__ = ("callback", "with_error", "internal", "sent", "deadline")

    def __init__(
        self,
        callback: Any,
        with_error: bool,
        internal: bool,
        deadline: float | None = None,
    ) -> None:
        self.callback = callback
        self.with_error = with_error  # callback(err, *args) rather than callback(*args)
        self.internal = internal  # call()'s own callback (the I/O layer runs it in place)
        self.sent = False
        self.deadline = deadline

    def __repr__(self) -> str:
        return f"<PendingAck sent={self.sent} deadline={self.deadline}>"


#: makes a PendingAck whose fields the caller sets (see add_ack)
_new_ack = object.__new__


class QueuedEmit(PendingAck):
    """An at-least-once emit (``retries`` > 0): its packet, kept until the server acks it.

    ``callback`` is None for an emit without one; it is called at the first ack.  ``tries`` counts the retry rounds it was
    sent again in; ``timeout`` is the deadline of each try (None: it waits, and is only sent
    again after a reconnection)."""

    __slots__ = ("packet", "compress", "tries", "timeout", "done")

    def __init__(
        self,
        packet: Packet,
        callback: Any,
        internal: bool,
        timeout: float | None,
        compress: bool,
    ) -> None:
        super().__init__(callback, True, internal)
        self.packet = packet
        self.compress = compress
        self.tries = 0
        self.timeout = timeout
        #: answered, yet kept in the queue behind an older emit still unanswered: it goes
        #: again with that one, so that the server's last delivery of each keeps their order
        self.done = False

    def __repr__(self) -> str:
        return f"<QueuedEmit {self.packet.id} sent={self.sent} tries={self.tries}>"


def refusal(data: Any) -> ConnectionError:
    """The server's namespace refusal as the exception users see."""
    if isinstance(data, Mapping) and "message" in data:
        return ConnectionError(str(data["message"]), data.get("data"))
    if isinstance(data, str):
        return ConnectionError(data)
    return ConnectionError(str(data), data)


# ---- the connection --------------------------------------------------------------------------


class Connection:
    """The namespaces of one ``Manager`` and what they share: the connection's revision and
    number, and the revision-4 state of ``/``."""

    __slots__ = (
        "namespaces",
        "active",
        "revision",
        "session",
        "open",
        "engine_id",
        "default_auth",
        "root_connected",
        "root_left",
        "root_joining",
        "retries",
        "ack_timeout",
        "connect_timeout",
    )

    def __init__(self, default_auth: Callable[[], Any] | None = None) -> None:
        self.namespaces: dict[str, Namespace] = {}
        #: the namespaces that want the connection, in the order they asked
        self.active: list[Namespace] = []
        #: the revision of the current (or last) connection; revision 5 before any
        self.revision: Revision = EIO4
        #: counts the connections opened (an ack belongs to one)
        self.session = 0
        self.open = False
        self.engine_id: str | None = None
        #: the manager's ``auth`` option, read each time a CONNECT is made
        self.default_auth = default_auth
        # revision 4: a 2.x server connects `/` by itself once per connection
        self.root_connected = False
        self.root_left = False
        # ... and joins it again silently when asked once more (no `40` unless `/` has a
        # middleware): 1 = CONNECT sent, 2 = a ping left after it, whose pong proves the join
        self.root_joining = 0
        #: at-least-once emits: how many times an unanswered emit is sent again (0: off)
        self.retries = 0
        #: the default ack deadline of an emit with an ack (seconds; None: no deadline)
        self.ack_timeout: float | None = None
        #: how long a CONNECT may stay unanswered before ``connect_error`` (None: unbounded)
        self.connect_timeout: float | None = None

    def namespace(
        self,
        name: str,
        query: Mapping[str, str] | None = None,
        auth: Any = None,
        limits: Any = None,
    ) -> Namespace:
        """The namespace ``name`` (made once)."""
        ns = self.namespaces.get(name)
        if ns is None:
            ns = self.namespaces[name] = Namespace(self, name, query, auth, limits)
        return ns

    # ---- the engine ------------------------------------------------------------------------

    def opened(self, protocol: int | None, engine_id: str | None, now: float) -> list[Event]:
        """The engine opened (speaking Socket.IO revision ``protocol``): every namespace that
        wants the connection asks for it."""
        self.revision = by_protocol(protocol or 5)
        self.engine_id = engine_id
        self.session += 1
        self.open = True
        self.root_connected = False
        self.root_left = False
        self.root_joining = 0
        events: list[Event] = []
        for ns in list(self.active):
            events += ns.join(now)
        return events

    def closed(self, reason: str) -> list[Event]:
        """The connection is gone; its namespaces stay wanted and ask again on the next one."""
        self.open = False
        events: list[Event] = []
        for ns in list(self.active):
            events += ns._close(reason)
        return events

    def ping_sent(self) -> None:
        """Revision 3: a ping left (after our CONNECT for `/`, if one is in flight)."""
        if self.root_joining == 1:
            self.root_joining = 2

    def pong_received(self, now: float = 0.0) -> list[Event]:
        """Revision 3: a pong came; if a ping left after our CONNECT for `/`, the server has
        read that CONNECT, and a 2.x server joins `/` without answering it."""
        if self.root_joining != 2:
            return []
        self.root_joining = 0
        self.root_connected = True
        self.root_left = False
        ns = self.namespaces.get("/")
        if ns is not None and ns.state == CONNECTING:
            return ns._connect(None, None, now)
        return []

    # ---- packets ---------------------------------------------------------------------------

    def event_data(self, packet: Packet) -> list[Any] | None:
        """The reader's shortcut for the packet that comes by the thousand: a server event
        without an ack id for a connected namespace.  Its ``[name, *args]`` (the recovery
        offset taken off as :meth:`receive` takes it), or None: then hand the packet to
        :meth:`receive`.  Equal to ``receive(packet, now)`` reporting
        ``[Received(nsp, data, None, session)]``, without the event."""
        if packet.id is not None:
            return None
        kind = packet.type
        if kind != EVENT and kind != BINARY_EVENT:
            return None
        ns = self.namespaces.get(packet.nsp or "/")
        if ns is None or ns.state != CONNECTED:
            return None
        data = packet.data
        if type(data) is not list or not data or type(data[0]) is not str:
            return None
        if ns.pid is not None:
            ns._take_offset(data)
        return data

    def ack_of(self, packet: Packet, now: float) -> tuple[PendingAck, tuple[Any, ...]] | None:
        """The reader's shortcut for the other packet that comes by the thousand: the ack of
        an emit (a ``call()``'s, mostly) on a connected namespace.  ``(pending, args)``, the
        ack taken off the namespace, or None with nothing changed: then hand the packet to
        :meth:`receive`.  Equal to ``receive(packet, now)`` reporting
        ``[AckDone(nsp, pending, args)]``, without the event and its list."""
        if packet.type != ACK:
            return None
        ns = self.namespaces.get(packet.nsp or "/")
        # at-least-once emits keep their own order (see _on_ack): not here
        if ns is None or ns.state != CONNECTED or ns.queue:
            return None
        data = packet.data
        if type(data) is not list:
            return None
        pending = ns.acks.pop(packet.id, None)  # type: ignore[arg-type]
        if pending is None:
            return None
        if pending.with_error:
            deadline = pending.deadline
            if deadline is not None and deadline <= now:
                # too late: the deadline passed before the answer was read
                return pending, (TimeoutError("operation has timed out"),)
            return pending, (None, *data)
        ns.plain_acks -= 1
        return pending, tuple(data)

    def receive(self, packet: Packet, now: float) -> list[Event]:
        """A decoded packet from the server."""
        nsp = packet.nsp or "/"
        kind = packet.type
        if kind == EVENT or kind == BINARY_EVENT:
            # the hot path first
            ns = self.namespaces.get(nsp)
            if ns is not None and ns.state == CONNECTED:
                data = packet.data
                if type(data) is list and data and type(data[0]) is str:
                    if ns.pid is not None and packet.id is None:
                        ns._take_offset(data)
                    return [Received(nsp, data, packet.id, self.session)]
        if nsp == "/" and self.revision.auto_connects_default_namespace:
            if kind == CONNECT:
                self.root_connected = True
                self.root_left = False
                self.root_joining = 0
            elif kind == CONNECT_ERROR:
                # a 2.x server reports a failure of `/` (its middleware) to every namespace
                events: list[Event] = []
                for member in list(self.active):
                    events += member._on_error_packet(packet.data)
                return events
        ns = self.namespaces.get(nsp)
        if ns is None or ns.state == DISCONNECTED or ns.state == REFUSED:
            return []
        if kind == EVENT or kind == BINARY_EVENT:
            return ns._on_event(packet)
        if kind == ACK or kind == BINARY_ACK:
            return ns._on_ack(packet, now)
        if kind == CONNECT:
            if not self.revision.connect_auth:
                return ns._connect(None, None, now)
            data = packet.data
            if isinstance(data, Mapping) and data.get("sid"):
                pid = data.get("pid")
                return ns._connect(str(data["sid"]), pid if isinstance(pid, str) else None, now)
            return [
                ConnectFailed(
                    nsp,
                    ConnectionError("the server answered CONNECT without a sid (a 2.x server?)"),
                    False,
                    False,
                )
            ]
        if kind == DISCONNECT:
            return ns._on_server_disconnect()
        if kind == CONNECT_ERROR:
            return ns._on_error_packet(packet.data)
        return []

    def next_deadline(self) -> float | None:
        """The earliest deadline of any namespace (see :meth:`Namespace.next_deadline`)."""
        deadlines = [
            d for d in (ns.next_deadline() for ns in self.namespaces.values()) if d is not None
        ]
        return min(deadlines) if deadlines else None

    def tick(self, now: float) -> list[Event]:
        events: list[Event] = []
        for ns in list(self.namespaces.values()):
            events += ns.tick(now)
        return events

    def _deactivate(self, ns: Namespace) -> list[Event]:
        if ns in self.active:
            self.active.remove(ns)
            if not self.active:
                return [Unused(ns.name)]
        return []


# ---- one namespace ---------------------------------------------------------------------------


class Namespace:
    """One namespace of a :class:`Connection` (one ``Socket``)."""

    __slots__ = (
        "conn",
        "name",
        "query",
        "auth",
        "state",
        "id",
        "opened",
        "acks",
        "plain_acks",
        "send_buffer",
        "receive_buffer",
        "connect_session",
        "left",
        "rejoin_at",
        "connect_deadline",
        "warned_session",
        "limits",
        "_deadlines",
        "_next_id",
        "pid",
        "offset",
        "recovered",
        "queue",
    )

    def __init__(
        self,
        conn: Connection,
        name: str,
        query: Mapping[str, str] | None,
        auth: Any,
        limits: Any = None,
    ) -> None:
        self.conn = conn
        #: where the bounds are read, when they are reached: ``max_pending_acks`` (callbacks
        #: without a deadline) and ``max_pending_events`` (events kept before `connect`)
        self.limits: Any = limits if limits is not None else Limits()
        self.name = name
        self.query = query
        self.auth = auth
        self.state = DISCONNECTED
        self.id: str | None = None
        #: activate() was called once: a namespace not wanted now was closed
        self.opened = False
        self.acks: dict[int, PendingAck] = {}
        self.plain_acks = 0  # entries of acks without a deadline (see add_ack's limit)
        #: emits made while not connected: (packet, extra), ``extra`` the I/O layer's
        #: emits made while not connected, in order: (ack id or None, what the I/O layer
        #: keeps to write them: their encoding, and the packet when it needs it)
        self.send_buffer: list[tuple[int | None, Any]] = []
        #: events received before `connect`: (data, ack_id, session)
        self.receive_buffer: list[tuple[list[Any], int | None, int]] = []
        self.connect_session = -1  # the connection our CONNECT went out on
        self.left: tuple[int, float] = (-1, 0.0)  # (session, time) of our last DISCONNECT
        self.rejoin_at: float | None = None
        #: when an unanswered CONNECT is reported (a middleware that never calls next())
        self.connect_deadline: float | None = None
        self.warned_session = -1  # the connection a bound was last reported on
        self._deadlines: list[tuple[float, int]] = []  # a heap of (deadline, ack id)
        self._next_id = 0
        #: connection state recovery (socket.io >= 4.6): the private session id the server
        #: gave in its CONNECT answer (None: the server does not recover sessions) ...
        self.pid: str | None = None
        #: ... and the offset of the last event handed out, both sent in the next CONNECT
        self.offset: str | None = None
        #: the last CONNECT restored the session (same pid, the missed events follow)
        self.recovered = False
        #: at-least-once emits waiting for their ack, in the order they were made (by ack id)
        self.queue: dict[int, QueuedEmit] = {}

    def __repr__(self) -> str:
        return f"<Namespace {self.name!r} {self.state}>"

    @property
    def connected(self) -> bool:
        return self.state == CONNECTED

    @property
    def active(self) -> bool:
        """Wants a connection (connecting or connected)."""
        return self.state == CONNECTING or self.state == CONNECTED

    # ---- user intents ----------------------------------------------------------------------

    def activate(self) -> None:
        """The user opens the namespace: it wants the connection from now on."""
        if self.state != CONNECTED:
            self.state = CONNECTING
        self.opened = True
        if self not in self.conn.active:
            self.conn.active.append(self)

    def join(self, now: float) -> list[Event]:
        """Ask for the namespace on the open connection (once per connection)."""
        conn = self.conn
        if self.state != CONNECTING or not conn.open or self.connect_session == conn.session:
            return []
        if self.left[0] == conn.session:
            due = self.left[1] + REJOIN_DELAY
            if due > now:
                if self.rejoin_at is None:
                    self.rejoin_at = due
                return []
        self.connect_session = conn.session
        name = self.name
        revision = conn.revision
        if name == "/" and revision.auto_connects_default_namespace:
            # a 2.x server connects `/` on its own; only a namespace that left it asks again
            if conn.root_connected:
                return self._connect(None, None, now)
            if conn.root_left:
                conn.root_joining = 1
                return [Send(name, Packet(CONNECT, "/"))]
            return []
        if not revision.connect_auth:
            if self.query:
                name = f"{name}?{encode_query(self.query)}"
            self._expect_answer(now)
            return [Send(self.name, Packet(CONNECT, name))]
        auth = self.auth
        if auth is None and conn.default_auth is not None:
            auth = conn.default_auth()
        if callable(auth):
            try:
                auth = auth()
            except Exception as exc:
                return [ConnectFailed(name, exc, False, True)]
        if auth is not None and not isinstance(auth, Mapping):
            return [ConnectFailed(name, ValueError("auth must be a dict"), False, False)]
        data = dict(auth) if auth else None
        if self.pid is not None:
            # ask the server to restore the session: the auth payload's own keys win, as
            # socket.io-client merges them
            session: dict[str, Any] = {"pid": self.pid}
            if self.offset is not None:
                session["offset"] = self.offset
            data = {**session, **(data or {})}
        self._expect_answer(now)
        return [Send(name, Packet(CONNECT, name, data))]

    def _expect_answer(self, now: float) -> None:
        # `/` of a 2.x server is joined silently (proved by a pong), so it has no deadline
        timeout = self.conn.connect_timeout
        self.connect_deadline = None if timeout is None else now + timeout

    def leave(self, now: float) -> list[Event]:
        """The user closes the namespace."""
        conn = self.conn
        was_connected = self.state == CONNECTED
        server_leaves = was_connected
        events: list[Event] = []
        if was_connected:
            if (
                conn.revision.auto_connects_default_namespace
                and self.name == "/"
                and any(ns is not self for ns in conn.active)
            ):
                # A 2.x server holds back the CONNECT of every other namespace while the
                # connection is not in `/`, and joins `/` again without a word: the namespace
                # leaves `/` on this side only while other namespaces use the connection.
                server_leaves = False
            else:
                events.append(Send(self.name, Packet(DISCONNECT, self.name)))
                self.left = (conn.session, now)
        events += self._destroy(server_leaves, DISCONNECTED)
        if was_connected:
            events += self._gone("io client disconnect", True)
        return events

    def ack(self, ack_id: int, args: list[Any], session: int) -> Packet | None:
        """The packet that answers the server's ack request ``ack_id`` of connection
        ``session``, or None when that connection is gone (the ack would be meaningless)."""
        if self.state == CONNECTED and self.conn.session == session:
            return Packet(ACK, self.name, args, ack_id)
        return None

    # ---- emits and acks --------------------------------------------------------------------

    def next_ack_id(self) -> int:
        ack_id = self._next_id
        self._next_id = ack_id + 1
        return ack_id

    def add_ack(
        self,
        packet: Packet,
        callback: Any,
        timeout: float | None,
        internal: bool,
        now: float,
    ) -> tuple[PendingAck, list[Event]]:
        """Register ``callback`` for ``packet``'s ack (giving the packet an id); ``timeout``
        seconds from ``now`` it fails.  Beyond ``limit`` callbacks without a deadline, the
        oldest is given up (a :class:`BoundReached`)."""
        if packet.id is None:
            # next_ack_id(), inlined: one per emit with an ack
            packet.id = ack_id = self._next_id
            self._next_id = ack_id + 1
        with_error = internal or timeout is not None
        # PendingAck(callback, with_error, internal), without the call of its __init__
        pending = _new_ack(PendingAck)
        pending.callback = callback
        pending.with_error = with_error
        pending.internal = internal
        pending.sent = False
        self.acks[packet.id] = pending
        if timeout is not None:
            deadline = pending.deadline = now + timeout
            heapq.heappush(self._deadlines, (deadline, packet.id))
            return pending, []
        pending.deadline = None
        if not with_error:
            self.plain_acks += 1
            limit = self.limits.max_pending_acks
            if self.plain_acks > limit:
                return pending, self._give_up_oldest_ack(limit)
        return pending, []

    def forget_ack(self, ack_id: int | None) -> PendingAck | None:
        """Drop a pending ack (its packet could not be written)."""
        if ack_id is None:
            return None
        pending = self.acks.pop(ack_id, None)
        if pending is not None and not pending.with_error:
            self.plain_acks -= 1
        if self.queue and self.queue.pop(ack_id, None) is not None:
            self._drop_done()
        return pending

    def buffer_full(self, limit: float | None) -> bool:
        """True when ``limit`` emits wait already (None: no bound; 0: nothing is buffered);
        at-least-once emits waiting for their ack count too."""
        return limit is not None and len(self.send_buffer) + len(self.queue) >= limit

    def enqueue(
        self,
        packet: Packet,
        callback: Any,
        timeout: float | None,
        internal: bool,
        compress: bool,
        now: float,
    ) -> QueuedEmit:
        """An at-least-once emit (the connection's ``retries`` > 0): ``packet`` gets an ack id
        and is kept until the server acks it.  Connected, the caller writes it now (its
        deadline runs from ``now``); otherwise it leaves with the next ``Connected``."""
        if packet.id is None:
            packet.id = self.next_ack_id()
        entry = QueuedEmit(packet, callback, internal, timeout, compress)
        self.acks[packet.id] = entry
        self.queue[packet.id] = entry
        if self.state == CONNECTED:
            entry.sent = True
            if timeout is not None:
                entry.deadline = now + timeout
        return entry

    def buffer(self, ack_id: int | None, extra: Any, limit: float | None) -> bool:
        """Keep an emit made while not connected (``ack_id``: its ack's id, None without
        one); False when ``limit`` emits wait already."""
        if self.buffer_full(limit):
            return False
        self.send_buffer.append((ack_id, extra))
        return True

    def requeue(self, entries: list[tuple[int | None, Any]]) -> None:
        """Packets of the offline buffer that the connection did not take (it dropped while
        they were being written) go back to the front of the buffer, in order, unsent."""
        for ack_id, _ in entries:
            pending = self.acks.get(ack_id) if ack_id is not None else None
            if pending is not None:
                pending.sent = False
        self.send_buffer[:0] = entries

    def give_up_buffered(self) -> list[Event]:
        """Closed for good: whoever waits on the ack of a still-buffered packet hears
        DisconnectedError, and that packet will not leave later.  Plain emits stay buffered
        with their callbacks, for an ``activate()`` that may come."""
        ids = [i for i, p in self.acks.items() if not p.sent and p.with_error]
        if not ids:
            return []
        given_up = set(ids)
        self.send_buffer = [b for b in self.send_buffer if b[0] not in given_up]
        err = DisconnectedError("socket is closed")
        events: list[Event] = []
        if self.queue:
            # answered emits kept behind the given-up ones go too
            self.queue = {i: e for i, e in self.queue.items() if not e.done and i not in given_up}
        for i in ids:
            pending = self.acks.pop(i)
            if pending.callback is not None:
                events.append(AckDone(self.name, pending, (err,)))
        return events

    def next_deadline(self) -> float | None:
        """When :meth:`tick` has work: an ack's deadline, or the time to ask for the namespace
        again after leaving it."""
        heap = self._deadlines
        acks = self.acks
        while heap and heap[0][1] not in acks:
            heapq.heappop(heap)  # answered or dropped since
        due = heap[0][0] if heap else None
        if self.queue:
            # only the oldest at-least-once emit's deadline starts a retry round
            head = next(iter(self.queue.values()))
            if head.sent and head.deadline is not None and (due is None or head.deadline < due):
                due = head.deadline
        if self.rejoin_at is not None and (due is None or self.rejoin_at < due):
            due = self.rejoin_at
        if self.connect_deadline is not None and (due is None or self.connect_deadline < due):
            due = self.connect_deadline
        return due

    def tick(self, now: float) -> list[Event]:
        """Acks past their deadline fail with TimeoutError; a rejoin that is due is made."""
        events: list[Event] = []
        heap = self._deadlines
        while heap and heap[0][0] <= now:
            _, ack_id = heapq.heappop(heap)
            events += self._expire(ack_id)
        if self.queue:
            events += self._retry(now)
        if self.rejoin_at is not None and self.rejoin_at <= now:
            self.rejoin_at = None
            events += self.join(now)
        if self.connect_deadline is not None and self.connect_deadline <= now:
            self.connect_deadline = None
            if self.state == CONNECTING and self.connect_session == self.conn.session:
                # reported, not given up: a late answer still connects the namespace
                timeout = self.conn.connect_timeout or 0.0
                err = TimeoutError(
                    f"namespace {self.name!r}: the server did not answer CONNECT "
                    f"within {timeout:g} s"
                )
                events.append(ConnectFailed(self.name, err, False, False, timeout))
        return events

    def _expire(self, ack_id: int) -> list[Event]:
        pending = self.acks.pop(ack_id, None)
        if pending is None:
            return []
        # a packet that never left must not leave later: nobody waits for its answer any more
        if not pending.sent:
            self.send_buffer = [b for b in self.send_buffer if b[0] != ack_id]
        return [AckDone(self.name, pending, (TimeoutError("operation has timed out"),))]

    def _retry(self, now: float) -> list[Event]:
        """The oldest at-least-once emit passed its deadline: it fails when its retries are
        spent, else it and every later emit waiting for an ack are sent again, in order (the
        server sees the unanswered emits again in the order they were made)."""
        events: list[Event] = []
        queue = self.queue
        retries = self.conn.retries
        while queue:
            head = next(iter(queue.values()))
            deadline = head.deadline
            if not head.sent or deadline is None or deadline > now:
                break
            if head.tries >= retries:
                ack_id = head.packet.id
                queue.pop(ack_id)  # type: ignore[arg-type]
                self.acks.pop(ack_id, None)  # type: ignore[arg-type]
                self._drop_done()
                if head.callback is not None:
                    err = TimeoutError("operation has timed out")
                    events.append(AckDone(self.name, head, (err,)))
                continue
            # go back to the oldest unanswered emit: it and everything after it, answered or
            # not, leave again in order
            entries = [e for e in queue.values() if e.sent]
            for entry in entries:
                entry.tries += 1
                if entry.timeout is not None:
                    entry.deadline = now + entry.timeout
            events.append(Resend(self.name, entries))
            break
        return events

    def _drop_done(self) -> None:
        """Answered emits at the head of the queue have nothing older to wait for."""
        queue = self.queue
        while queue:
            ack_id, entry = next(iter(queue.items()))
            if not entry.done:
                break
            del queue[ack_id]

    def _give_up_oldest_ack(self, limit: float) -> list[Event]:
        oldest = next((i for i, p in self.acks.items() if not p.with_error), None)
        if oldest is None:
            return []
        self.forget_ack(oldest)
        return [
            self._bound(
                "%r: more than %s ack callbacks wait without a timeout; the oldest are given "
                "up (Socket.max_pending_acks)",
                (self.name, limit),
            )
        ]

    def _bound(self, message: str, args: tuple[Any, ...]) -> BoundReached:
        session = self.conn.session
        first = self.warned_session != session
        self.warned_session = session
        return BoundReached(self.name, message, args, first)

    def report(self, message: str, *args: Any) -> BoundReached:
        """A bound the I/O layer watches was reached (see :class:`BoundReached`)."""
        return self._bound(message, args)

    # ---- packets ---------------------------------------------------------------------------

    def _on_event(self, packet: Packet) -> list[Event]:
        data = packet.data
        if not isinstance(data, list) or not data or not isinstance(data[0], str):
            return [
                BoundReached(self.name, "ignoring an event without a name: %s", (packet,), True)
            ]
        if self.state == CONNECTED:
            if self.pid is not None and packet.id is None:
                self._take_offset(data)
            return [Received(self.name, data, packet.id, self.conn.session)]
        limit = self.limits.max_pending_events
        if len(self.receive_buffer) < limit:
            self.receive_buffer.append((data, packet.id, self.conn.session))
            return []
        return [
            self._bound(
                "%r: more than %s events arrived before `connect`; dropping %r "
                "(Socket.max_pending_events)",
                (self.name, limit, data[0]),
            )
        ]

    def _on_ack(self, packet: Packet, now: float) -> list[Event]:
        ack_id = packet.id
        pending = self.acks.pop(ack_id, None) if ack_id is not None else None
        if pending is None:
            return []
        queue = self.queue
        if queue and ack_id in queue:
            # an at-least-once emit: answered, even past its deadline (a retry round or its
            # failure would have come first)
            entry = queue[ack_id]
            entry.done = True
            if next(iter(queue)) == ack_id:
                self._drop_done()
            if pending.callback is None:
                return []
            data = packet.data if isinstance(packet.data, list) else []
            return [AckDone(self.name, pending, (None, *data))]
        if pending.with_error:
            deadline = pending.deadline
            if deadline is not None and deadline <= now:
                # too late: the deadline passed before the answer was read
                return [AckDone(self.name, pending, (TimeoutError("operation has timed out"),))]
        else:
            self.plain_acks -= 1
        data = packet.data if isinstance(packet.data, list) else []
        args = (None, *data) if pending.with_error else tuple(data)
        return [AckDone(self.name, pending, args)]

    def _take_offset(self, data: list[Any]) -> None:
        """A server that recovers sessions appends the event's offset to every event without
        an ack: remember it (the last event handed out) and take it off the arguments."""
        if len(data) > 1 and type(data[-1]) is str:
            self.offset = data.pop()

    def _connect(self, sid: str | None, pid: str | None = None, now: float = 0.0) -> list[Event]:
        if self.state != CONNECTING:
            return []
        if sid is None:
            engine_id = self.conn.engine_id
            sid = engine_id if self.name == "/" else f"{self.name}#{engine_id}"
        self.id = sid
        self.state = CONNECTED
        self.rejoin_at = None
        self.connect_deadline = None
        self.recovered = pid is not None and pid == self.pid
        if not self.recovered:
            self.offset = None  # an offset of another session would replay its events
        self.pid = pid
        early, self.receive_buffer = self.receive_buffer, []
        if pid is not None:
            # the events the server missed (a recovered session) come before its CONNECT
            for data, ack_id, _ in early:
                if ack_id is None:
                    self._take_offset(data)
        buffered, self.send_buffer = self.send_buffer, []
        resend: list[Any] = []
        if self.queue:
            resend = list(self.queue.values())
            for entry in resend:
                entry.sent = True
                entry.deadline = None if entry.timeout is None else now + entry.timeout
        return [Connected(self.name, sid, early, buffered, resend)]

    def _on_error_packet(self, data: Any) -> list[Event]:
        err = refusal(data)
        if self.state == CONNECTED:
            return [ErrorReceived(self.name, err)]
        # the server refused the namespace: stop asking for it
        events = self._destroy(True, REFUSED)
        also_error = self.conn.revision.refusal_also_error
        events.append(ConnectFailed(self.name, err, also_error, False))
        return events

    def _on_server_disconnect(self) -> list[Event]:
        was_connected = self.state == CONNECTED
        events = self._destroy(True, DISCONNECTED)
        return events + self._gone("io server disconnect", was_connected)

    def _close(self, reason: str) -> list[Event]:
        """The namespace is gone on this connection: the connection closed, or one side
        left it.  Still wanted, it asks again when the connection opens."""
        was_connected = self.state == CONNECTED
        if was_connected:
            self.state = CONNECTING
        return self._gone(reason, was_connected)

    def _gone(self, reason: str, was_connected: bool) -> list[Event]:
        self.id = None
        self.connect_session = -1
        self.connect_deadline = None
        # events of this connection not handed out yet go with it (their acks would be dead)
        self.receive_buffer = []
        events: list[Event] = []
        # at-least-once emits wait for the next connection, and leave again on it
        for entry in self.queue.values():
            entry.sent = False
            entry.deadline = None
        # acks of packets that left with the connection will never come; buffered ones still may
        for ack_id in [i for i, p in self.acks.items() if p.sent]:
            pending = self.forget_ack(ack_id)
            assert pending is not None
            if pending.with_error:
                err = DisconnectedError("socket has been disconnected")
                events.append(AckDone(self.name, pending, (err,)))
        events.append(Closed(self.name, reason, was_connected))
        return events

    def _destroy(self, server_leaves: bool, state: str) -> list[Event]:
        conn = self.conn
        if server_leaves and self.name == "/" and conn.revision.auto_connects_default_namespace:
            conn.root_connected = False
            conn.root_left = True
        self.state = state
        self.connect_session = -1  # a later activate() asks for the namespace again
        self.rejoin_at = None
        self.connect_deadline = None
        self.receive_buffer = []
        return conn._deactivate(self)


__all__ = [
    "CONNECTED",
    "CONNECTING",
    "DISCONNECTED",
    "REFUSED",
    "REJOIN_DELAY",
    "AckDone",
    "BoundReached",
    "Closed",
    "ConnectFailed",
    "Connected",
    "Connection",
    "ErrorReceived",
    "Event",
    "Namespace",
    "PendingAck",
    "QueuedEmit",
    "Received",
    "Resend",
    "Send",
    "Unused",
    "refusal",
]
