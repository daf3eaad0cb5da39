"""The Engine.IO session as a sans-I/O state machine (no sockets, no timers, no gevent).

The I/O layer owns the HTTP requests, the WebSocket connections, greenlets and sleeping; the
:class:`Session` owns every protocol decision.  It is fed what arrived (polling bodies,
WebSocket frames) together with ``now``, a monotonic clock reading in seconds, and hands back
events, data to send, and the next deadline at which it wants :meth:`Session.tick` called.

Driving it
==========

::

    s = Session(protocol=None, transports=("polling", "websocket"))
    s.begin("polling")                       # or "websocket"
    params = s.query()                       # EIO, transport, t?, b64?  (+ the user's query)

    # polling: GET the handshake
    status, body = http_get(params)
    if status != 200:
        err = s.handshake_refused(status, body, content_type)
        # err is None: ask again with s.query() (websocket-only detection: EIO=3 -> EIO=4)
    events = s.receive_payload(body, now)    # -> [Opened(handshake), Message("0"), ...]

    # websocket: open the connection with s.query(), then
    s.transport_opened(now)                  # starts the detection deadline, if any
    events = s.receive_frame(frame, now)     # for each frame read

Websocket-only detection (``protocol=None``): the first connection asks for ``EIO=3``.  A 2.x
server (or a 4.x one with ``allowEIO3``) answers with an open packet and revision 3 is spoken.
Newer servers refuse it, each in its own way: an HTTP error, 400 or 403 (report it with
:meth:`handshake_refused`, which returns None), a 101 followed by a raw HTTP 400 written into the
stream or by a close (report it with :meth:`transport_error` / :meth:`transport_closed`, or feed
the odd frame to :meth:`receive_frame`), or a 101 followed by silence (the deadline of
``detect_timeout`` seconds, run by :meth:`tick`).  Each gives a ``HandshakeRetry`` event instead
of ``Closed``: drop that connection and connect again with ``query()``, which now asks for
``EIO=4``.  Only one retry is made; :attr:`detecting` tells whether one is still possible.

Every method that returns ``list[Event]`` drains the session's event queue, so each event comes
out exactly once and in order.  :meth:`take_payload`, :meth:`take_frames` and
:meth:`finish_upgrade` can queue events too (``PongSent``); collect them with
:meth:`next_events`.  After each call the I/O layer looks at:

* :attr:`wants_write` -- output is ready: call :meth:`take_payload` (polling: POST the body;
  ``str`` is sent as ``text/plain; charset=UTF-8``) or :meth:`take_frames` (websocket: write each
  frame, ``str`` as a text frame, ``bytes`` as a binary one);
* :attr:`polling_active` -- polling may have a GET/POST in flight (False while the upgrade pauses
  polling, and after the session moved to websocket or closed);
* :meth:`next_deadline` -- sleep until then (or until I/O happens), then call :meth:`tick`.

Sending: :meth:`send_message` queues one Engine.IO message (``str`` or ``bytes``).
:attr:`queued_size` is the size of what waits in the queue (each message counts its length
plus ``QUEUE_ITEM_OVERHEAD``); the session never refuses a message, the I/O layer holds its
senders back while :attr:`queue_full` (``queued_size`` at least ``max_queue``).

Write stalls: the I/O layer reports with :meth:`write_stalled` the time since which bytes it
took out (``take_*``) wait unwritten with no progress (a peer that stopped reading), or None
once none wait; when the heartbeat window (``ping_interval + ping_timeout``) passes from that
time, :meth:`tick` gives the connection up with ``Closed("transport error", TimeoutError)``.

Heartbeat (follows the revision actually spoken, see ``revisions.py``):

* revision 3: the session queues a ping every ``ping_interval`` (event ``PingSent``), and
  expects the pong within ``ping_timeout`` (else ``Closed("ping timeout")``); on the pong,
  ``Pong(latency_ms)``.
* revision 4: the server pings; the session queues the pong and emits ``PingReceived``; when the
  pong is handed out by ``take_*``, ``PongSent(latency_ms)`` (time between the ping's arrival and
  the pong leaving).  Any packet from the server proves it alive: the session closes with
  ``Closed("ping timeout")`` when nothing arrived for ``ping_interval + ping_timeout``.

Upgrade (polling -> websocket), when :attr:`can_upgrade`:

1. open a WebSocket with ``s.query("websocket")`` (carries the sid);
2. write the frames of :meth:`start_probe` on it (``2probe``);
3. feed what that WebSocket receives to :meth:`receive_probe_frame`: ``3probe`` gives
   ``ProbeSucceeded`` (anything else, or :meth:`probe_failed` for a connection error, or the
   probe deadline passing in :meth:`tick`, gives ``UpgradeFailed`` and polling carries on);
4. after ``ProbeSucceeded``, :attr:`polling_active` is False: start no new GET/POST and wait for
   those in flight to finish (a revision-3 server ends a pending GET with a ``noop``), feeding
   their answers to :meth:`receive_payload` as usual;
5. call :meth:`finish_upgrade`: write its frames (``5``, then whatever was queued meanwhile) on
   the WebSocket, which is from then on the transport (:meth:`receive_frame`/:meth:`take_frames`).

Closing: :meth:`close` gives ``Closed("forced close")`` and queues the close packet after the
pending output: take it (``take_*``) and write it, then tear down.  A close packet from the
server gives ``Closed("transport close")``; the I/O layer reports a dropped connection with
:meth:`transport_closed` and a failure with :meth:`transport_error` (``Closed("transport
error", error)``).  ``Closed`` while :attr:`was_opened` is False means the handshake never
completed.

Malformed input raises :class:`sioclient.ProtocolError` (nothing is half-processed: a payload is
decoded whole before any event is produced); the I/O layer reports it with
:meth:`transport_error`.  Input arriving after the session closed is ignored.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass
from typing import Any, Union

from ..exceptions import ConnectionError, ProtocolError, TimeoutError
from . import _accel
from .handshake import Handshake, error_from_http, parse_open
from .revisions import EIO3, EIO4, Revision, by_eio, by_protocol

OPEN_PACKET = 0
CLOSE_PACKET = 1
PING_PACKET = 2
PONG_PACKET = 3
MESSAGE_PACKET = 4
UPGRADE_PACKET = 5
NOOP_PACKET = 6

# session states
OPENING = "opening"
OPEN = "open"
CLOSING = "closing"  # closed for the user; the close packet still waits to be taken
CLOSED = "closed"

# upgrade states
_UP_NONE = 0
_UP_PROBING = 1
_UP_PAUSING = 2
_UP_DONE = 3
_UP_FAILED = 4

POLLING = "polling"
WEBSOCKET = "websocket"
# python-engineio drops (with an HTTP 200) a POST payload of more than 16 packets, so a polling
# body never carries more; the rest goes in the next POST.
MAX_PAYLOAD_PACKETS = 16
#: default bound of the outgoing queue, ``max_queue`` (bytes, see ``queued_size``)
DEFAULT_MAX_QUEUE = 1024 * 1024
#: what a queued message counts on top of its length (the queue entry itself)
QUEUE_ITEM_OVERHEAD = 64
TRANSPORTS = (POLLING, WEBSOCKET)

Frame = Union[str, bytes]


# ---------------------------------------------------------------- events


@dataclass(frozen=True)
class Opened:
    """The handshake completed."""

    handshake: Handshake


@dataclass(frozen=True)
class Message:
    """An Engine.IO message (``str`` or ``bytes``): a Socket.IO packet or attachment."""

    data: Frame


@dataclass(frozen=True)
class PingSent:
    """Revision 3: a ping was queued for the server (the manager's ``ping`` event)."""


@dataclass(frozen=True)
class Pong:
    """Revision 3: the server answered the ping after ``latency_ms``."""

    latency_ms: float


@dataclass(frozen=True)
class PingReceived:
    """Revision 4: the server pinged; the pong is queued."""


@dataclass(frozen=True)
class PongSent:
    """Revision 4: the pong was handed out for writing, ``latency_ms`` after the ping arrived."""

    latency_ms: float


@dataclass(frozen=True)
class ProbeSucceeded:
    """The upgrade probe was answered: pause polling, then call ``finish_upgrade()``."""


@dataclass(frozen=True)
class UpgradeFailed:
    """The upgrade was abandoned; polling carries on."""

    reason: str
    error: BaseException | None = None


@dataclass(frozen=True)
class HandshakeRetry:
    """Websocket-only detection: the ``EIO=3`` attempt failed before the open packet.

    Drop that connection and open a new one with ``query()`` (which now asks for ``EIO=4``).
    """

    reason: str
    error: BaseException | None = None


@dataclass(frozen=True)
class Closed:
    """The session ended.  ``reason``: ``'forced close'``, ``'transport close'``,
    ``'transport error'`` or ``'ping timeout'``."""

    reason: str
    error: BaseException | None = None


Event = Union[
    Opened,
    Message,
    PingSent,
    Pong,
    PingReceived,
    PongSent,
    ProbeSucceeded,
    UpgradeFailed,
    HandshakeRetry,
    Closed,
]


_YEAST_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_"


def _yeast(value: int) -> str:
    out = []
    while True:
        out.append(_YEAST_ALPHABET[value & 63])
        value >>= 6
        if not value:
            return "".join(reversed(out))


class Session:
    """One Engine.IO session (see the module docstring for how to drive it).

    ``protocol``: Socket.IO revision to speak (4 or 5), or None to detect it.
    ``transports``: the transports allowed, in the order of preference.
    ``upgrade``: try to move from polling to websocket when the server offers it.
    ``force_base64``: ask the server to send binary as base64 text (``b64=1``) and do the same.
    ``timestamp_requests`` / ``timestamp_param``: add a unique cache-busting query parameter.
    ``max_payload``: largest polling body accepted from the server (None: no limit here; the
    I/O layer should bound what it reads).
    ``detect_timeout``: websocket-only detection gives up on an ``EIO=3`` connection that
    brought no open packet within this many seconds (a socket.io 3.x server without
    ``allowEIO3`` accepts the WebSocket and then stays silent).
    ``max_queue``: :attr:`queue_full` once the queued messages reach this size (bytes).
    """

    #: see ``max_queue`` above (a class attribute unless given: instances stay under 30
    #: attributes, beyond which CPython gives each its own 1.5 KiB dict)
    max_queue = DEFAULT_MAX_QUEUE

    def __init__(
        self,
        *,
        protocol: int | None = None,
        transports: tuple[str, ...] | list[str] = TRANSPORTS,
        upgrade: bool = True,
        force_base64: bool = False,
        timestamp_requests: bool = False,
        timestamp_param: str = "t",
        max_payload: int | None = None,
        detect_timeout: float = 5.0,
        max_queue: int = DEFAULT_MAX_QUEUE,
    ) -> None:
        if protocol is not None:
            by_protocol(protocol)  # validates
        for name in transports:
            if name not in TRANSPORTS:
                raise ValueError(f"unknown transport {name!r} (expected polling or websocket)")
        if not transports:
            raise ValueError("at least one transport is needed")
        self.requested_protocol = protocol
        self.transports = tuple(transports)
        self.upgrade = upgrade
        self.force_base64 = force_base64
        self.timestamp_requests = timestamp_requests
        self.timestamp_param = timestamp_param
        self.max_payload = max_payload
        self.detect_timeout = detect_timeout
        if max_queue != DEFAULT_MAX_QUEUE:
            self.max_queue = max_queue

        self.state = OPENING
        self.transport: str | None = None
        self.handshake: Handshake | None = None
        self.was_opened = False
        #: the revision spoken (None while it is still to be detected)
        self.revision: Revision | None = by_protocol(protocol) if protocol is not None else None
        self._asked_eio: int | None = None
        self._retried = False
        self._open_deadline: float | None = None  # websocket detection: the open packet is due

        self._events: list[Event] = []
        # outgoing packets: (type, data, ping arrival time for a revision-4 pong else None)
        # (made on the first packet and dropped once drained: a WebSocket session writes
        # most messages past it, and an empty deque holds a 0.5 KiB block per connection)
        self._out: deque[tuple[int, Any, float | None]] | None = None
        #: size of the queued messages (see the module docstring)
        self.queued_size = 0
        self._write_deadline: float | None = None  # unwritten bytes must move by then

        # heartbeat
        self._next_ping: float | None = None  # revision 3: when to send the next ping
        self._ping_sent_at: float | None = None  # revision 3: the ping awaiting its pong
        self._pong_deadline: float | None = None  # revision 3
        self._alive_deadline: float | None = None  # revision 4

        # upgrade
        self._upgrade = _UP_NONE
        self._probe_deadline: float | None = None

        self._t_prefix = _yeast(random.getrandbits(30))
        self._t_count = 0

    # ------------------------------------------------------------ read-only views

    @property
    def sid(self) -> str | None:
        return self.handshake.sid if self.handshake is not None else None

    @property
    def eio(self) -> int | None:
        """Engine.IO revision spoken (3 or 4), None until known."""
        return self.revision.eio if self.revision is not None else None

    @property
    def protocol(self) -> int | None:
        """Socket.IO protocol revision spoken (4 or 5), None until known."""
        return self.revision.sio if self.revision is not None else None

    @property
    def ping_interval(self) -> float | None:
        return self.handshake.ping_interval if self.handshake is not None else None

    @property
    def ping_timeout(self) -> float | None:
        return self.handshake.ping_timeout if self.handshake is not None else None

    @property
    def can_upgrade(self) -> bool:
        """True when the I/O layer should start the websocket upgrade now."""
        return (
            self.state == OPEN
            and self.transport == POLLING
            and self.upgrade
            and self._upgrade == _UP_NONE
            and WEBSOCKET in self.transports
            and self.handshake is not None
            and WEBSOCKET in self.handshake.upgrades
        )

    @property
    def upgrading(self) -> bool:
        """True between ``start_probe()`` and the end of the upgrade (either way)."""
        return self._upgrade in (_UP_PROBING, _UP_PAUSING)

    @property
    def polling_active(self) -> bool:
        """True when polling requests may run (the transport is polling and not paused)."""
        if self.transport != POLLING or self._upgrade == _UP_PAUSING:
            return False
        return self.state in (OPENING, OPEN) or (self.state == CLOSING and bool(self._out))

    @property
    def wants_write(self) -> bool:
        """True when ``take_payload()`` / ``take_frames()`` has something to hand out."""
        if not self._out or self.state not in (OPEN, CLOSING):
            return False
        if self.transport == POLLING:
            return self._upgrade != _UP_PAUSING
        return True

    @property
    def queue_full(self) -> bool:
        """True while the queued messages take at least ``max_queue`` bytes."""
        return self.queued_size >= self.max_queue

    def next_deadline(self) -> float | None:
        """The earliest time at which ``tick()`` has work to do, or None."""
        if self.state == OPENING:
            return self._open_deadline
        if self.state != OPEN:
            return None
        best: float | None = None
        for when in (
            self._next_ping,
            self._pong_deadline,
            self._alive_deadline,
            self._probe_deadline,
            self._write_deadline,
        ):
            if when is not None and (best is None or when < best):
                best = when
        return best

    def next_events(self) -> list[Event]:
        """Drain the events queued so far."""
        events = self._events
        self._events = []
        return events

    # ------------------------------------------------------------ opening

    def begin(self, transport: str) -> None:
        """Start the handshake on ``transport`` ('polling' or 'websocket')."""
        if transport not in self.transports:
            raise ValueError(f"transport {transport!r} is not among {self.transports}")
        if self.state != OPENING or self.handshake is not None:
            raise RuntimeError("begin() starts a new session only")
        self.transport = transport

    @property
    def handshake_eio(self) -> int:
        """The ``EIO`` value to ask for in the handshake request."""
        if self.revision is not None:
            return self.revision.eio
        if self._asked_eio is not None:
            return self._asked_eio
        # polling: the answer's framing tells; websocket: the frames look alike, so ask for
        # revision 3 first (never opens a namespace twice on a 2.x server)
        return 4 if self.transport == POLLING else 3

    @property
    def detecting(self) -> bool:
        """True while the websocket-only ``EIO=3`` attempt may still be retried with EIO=4."""
        return (
            self.state == OPENING
            and self.handshake is None
            and self.revision is None
            and self.transport == WEBSOCKET
            and not self._retried
        )

    def transport_opened(self, now: float) -> list[Event]:
        """The handshake's WebSocket connected: while detecting, the open packet is now due
        within ``detect_timeout``."""
        if self.detecting:
            self._open_deadline = now + self.detect_timeout
        return self.next_events()

    def _retry_detection(self, reason: str, error: BaseException | None) -> None:
        # engine.io 4+ refuses EIO=3 in odd ways over WebSocket: 101 then a raw 400 written
        # into the stream (5.x/6.x), 101 then silence (4.1), 101 then a close (python-engineio)
        self._retried = True
        self._asked_eio = 4
        self._open_deadline = None
        self._events.append(HandshakeRetry(reason, error))

    def handshake_refused(
        self, status: int, body: bytes | str = b"", content_type: str | None = None
    ) -> ConnectionError | None:
        """The handshake request got HTTP ``status``.

        Returns None when the session wants the handshake asked again (build the request anew
        with ``query()``): that is websocket-only detection, whose ``EIO=3`` attempt a 3.x/4.x
        server without ``allowEIO3`` refuses, whatever the status (socket.io answers 400,
        python-engineio under an ASGI server 403).  Otherwise returns the error to report; the
        session is then closed.
        """
        if self.detecting:
            self._retry_detection(f"HTTP {status}", None)
            self._events.pop()  # the return value says it
            return None
        self.state = CLOSED
        return error_from_http(status, body, content_type)

    def query(self, transport: str | None = None) -> dict[str, str]:
        """Query parameters of the next request on ``transport`` (default: the current one).

        The I/O layer adds the user's own query parameters and the path.
        """
        transport = transport or self.transport
        if transport not in TRANSPORTS:
            raise ValueError(f"unknown transport {transport!r}")
        eio = self.handshake_eio  # the revision spoken, once known
        params = {"EIO": str(eio), "transport": transport}
        if self.handshake is not None:
            params["sid"] = self.handshake.sid
        if self.timestamp_requests:
            params[self.timestamp_param] = self._timestamp()
        if self.force_base64:
            params["b64"] = "1"
        return params

    def _timestamp(self) -> str:
        self._t_count += 1
        return f"{self._t_prefix}.{_yeast(self._t_count)}"

    # ------------------------------------------------------------ receiving

    def receive_payload(self, body: Union[str, bytes], now: float) -> list[Event]:
        """A polling GET answer (``bytes`` as received, or text already decoded)."""
        if self.state != OPENING and self.state != OPEN:
            return self.next_events()
        if self.transport != POLLING:
            raise RuntimeError("receive_payload() on a websocket session")
        if self.revision is None:
            self.revision = by_eio(_accel.load("eio").detect_revision(body))
        elif self.handshake is None:
            spoken = _accel.load("eio").detect_revision(body)
            if spoken != self.revision.eio and spoken == 3:
                raise ProtocolError(
                    "the server speaks Engine.IO 3 (socket.io 2.x), not the Socket.IO protocol "
                    f"revision {self.revision.sio} asked for; use protocol=4 or None",
                    body,
                )
        packets = self.revision.decode_payload(body, self.max_payload)
        for ptype, data in packets:
            self._on_packet(ptype, data, now)
            if self.state != OPENING and self.state != OPEN:
                break
        return self.next_events()

    def receive_frame(self, frame: Frame, now: float) -> list[Event]:
        """A frame read from the session's WebSocket."""
        if self.state != OPENING and self.state != OPEN:
            return self.next_events()
        if self.transport != WEBSOCKET:
            raise RuntimeError("receive_frame() on a polling session (see receive_probe_frame)")
        if self.detecting:
            return self._first_detection_frame(frame, now)
        if self.revision is None:
            # websocket: the revision is the one the server accepted
            self.revision = by_eio(self.handshake_eio)
        ptype, data = self.revision.decode_packet(frame)
        self._on_packet(ptype, data, now)
        return self.next_events()

    def message_of(self, frame: Frame, now: float) -> str | None:
        """The data of a text message read on the open WebSocket, or None: then hand the frame
        to :meth:`receive_frame`.  Equal to ``receive_frame(frame, now)`` reporting
        ``[Message(data)]`` (the heartbeat deadline moves the same way), without its event."""
        if (
            type(frame) is not str
            or frame[:1] != "4"
            or self.state != OPEN
            or self.transport != WEBSOCKET
            or self._events
        ):
            return None
        rev = self.revision
        if rev is None:
            return None
        if not rev.client_pings:
            hs = self.handshake
            assert hs is not None
            self._alive_deadline = now + (hs.ping_interval + hs.ping_timeout)
        return frame[1:]

    def messages_of(self, frames: list[Frame], start: int, now: float) -> list[str]:
        """:meth:`message_of` over ``frames[start:]`` at once: the data of the text messages
        the frames begin with, up to the first frame that is not one (hand that one to
        :meth:`receive_frame`).  Every frame of one read arrives at the same ``now``, so the
        heartbeat deadline moves once, where ``message_of`` would have left it."""
        out: list[str] = []
        if self.state != OPEN or self.transport != WEBSOCKET or self._events:
            return out
        rev = self.revision
        if rev is None:
            return out
        n = len(frames)
        i = start
        while i < n:
            frame = frames[i]
            if type(frame) is not str or frame[:1] != "4":
                break
            out.append(frame[1:])
            i += 1
        if out and not rev.client_pings:
            hs = self.handshake
            assert hs is not None
            self._alive_deadline = now + (hs.ping_interval + hs.ping_timeout)
        return out

    def _first_detection_frame(self, frame: Frame, now: float) -> list[Event]:
        """The first frame of the ``EIO=3`` attempt: an open packet, or a refusal in disguise."""
        try:
            ptype, data = EIO3.decode_packet(frame)
            if ptype != OPEN_PACKET:
                raise ProtocolError("expected the Engine.IO open packet", frame)
            handshake = parse_open(data, 3)
        except ProtocolError as exc:
            self._retry_detection("no open packet", exc)
            return self.next_events()
        self.revision = EIO3
        self._open_deadline = None
        self._opened(handshake, now)
        return self.next_events()

    def _on_packet(self, ptype: int, data: Any, now: float) -> None:
        rev = self.revision
        assert rev is not None
        if self.state == OPENING:
            if ptype == NOOP_PACKET:
                return
            if ptype != OPEN_PACKET:
                raise ProtocolError("expected the Engine.IO open packet", (ptype, data))
            self._on_open(data, now)
            return
        if not rev.client_pings:
            # revision 4: anything from the server proves it alive
            self._alive_deadline = now + self._heartbeat_window()
        if ptype == MESSAGE_PACKET:
            self._events.append(Message(data))
        elif ptype == PING_PACKET:
            if not rev.client_pings:
                self._push((PONG_PACKET, data if data else None, now))
                self._events.append(PingReceived())
            # revision 3: servers never ping; ignore rather than answer in the wrong direction
        elif ptype == PONG_PACKET:
            if rev.client_pings and self._ping_sent_at is not None and data != "probe":
                self._events.append(Pong((now - self._ping_sent_at) * 1000.0))
                self._ping_sent_at = None
                self._pong_deadline = None
                self._next_ping = now + self.handshake.ping_interval  # type: ignore[union-attr]
        elif ptype == CLOSE_PACKET:
            self._close("transport close", None)
        elif ptype == OPEN_PACKET:
            raise ProtocolError("a second Engine.IO open packet", (ptype, data))
        # NOOP and UPGRADE from the server carry nothing for the client

    def _heartbeat_window(self) -> float:
        hs = self.handshake
        assert hs is not None
        return hs.ping_interval + hs.ping_timeout

    def _on_open(self, data: Any, now: float) -> None:
        rev = self.revision
        assert rev is not None
        self._opened(parse_open(data, rev.eio), now)

    def _opened(self, hs: Handshake, now: float) -> None:
        rev = self.revision
        assert rev is not None
        self.handshake = hs
        self.state = OPEN
        self.was_opened = True
        if rev.client_pings:
            self._next_ping = now + hs.ping_interval
        else:
            self._alive_deadline = now + self._heartbeat_window()
        self._events.append(Opened(hs))

    # ------------------------------------------------------------ timers

    def tick(self, now: float) -> list[Event]:
        """Run the timers due at ``now``."""
        if self.state == OPENING:
            if self._open_deadline is not None and now >= self._open_deadline:
                self._retry_detection("no open packet", None)
            return self.next_events()
        if self.state != OPEN:
            return self.next_events()
        if self._pong_deadline is not None and now >= self._pong_deadline:
            self._close("ping timeout", None)
            return self.next_events()
        if self._alive_deadline is not None and now >= self._alive_deadline:
            self._close("ping timeout", None)
            return self.next_events()
        if self._write_deadline is not None and now >= self._write_deadline:
            waited = self._heartbeat_window()
            self._close(
                "transport error",
                TimeoutError(f"the server read nothing of what was sent for {waited:g} s"),
            )
            return self.next_events()
        if self._probe_deadline is not None and now >= self._probe_deadline:
            self._fail_upgrade("probe timeout", None)
        if self._next_ping is not None and now >= self._next_ping:
            self._next_ping = None
            self._ping_sent_at = now
            self._pong_deadline = now + self.handshake.ping_timeout  # type: ignore[union-attr]
            self._push((PING_PACKET, None, None))
            self._events.append(PingSent())
        return self.next_events()

    # ------------------------------------------------------------ sending

    def send_message(self, data: Frame) -> None:
        """Queue one Engine.IO message (``str`` or bytes-like); dropped once closing."""
        if isinstance(data, (bytearray, memoryview)):
            data = bytes(data)
        elif not isinstance(data, (str, bytes)):
            raise TypeError(f"an Engine.IO message is str or bytes, not {type(data).__name__}")
        if self.state in (CLOSING, CLOSED):
            return  # as engine.io-client: nothing is sent once closing
        if (
            self.transport == POLLING
            and type(data) is str
            and "\x1e" in data
            and (self.revision is None or self.revision.eio == 4)
        ):
            # revision 4 polling separates packets with \x1e: the server would split this
            # message in two (a parser's JSON never holds the raw character; a custom one might)
            raise ValueError("a text message holding \\x1e cannot travel over polling (EIO=4)")
        self._push((MESSAGE_PACKET, data, None))
        self.queued_size += len(data) + QUEUE_ITEM_OVERHEAD

    def frame_now(self, data: Frame) -> str | None:
        """The WebSocket frame of a text message that may be written at once, or None: then
        queue it with :meth:`send_message`.  At once means the session is open on WebSocket
        with nothing queued, so the frame is what ``send_message(data)`` then
        ``take_frames()`` would give, and nothing is queued."""
        if self._out or self.state != OPEN or self.transport != WEBSOCKET or type(data) is not str:
            return None
        return "4" + data

    @property
    def write_stall_watched(self) -> bool:
        """True while a write stall reported by :meth:`write_stalled` has a deadline."""
        return self._write_deadline is not None

    def write_stalled(self, since: float | None) -> None:
        """Bytes taken out wait unwritten, with no progress since ``since``; None: none wait.

        From ``since + write_timeout`` on, :meth:`tick` gives the connection up."""
        if since is None or self.state != OPEN:
            self._write_deadline = None
        else:
            self._write_deadline = since + self._heartbeat_window()

    def take_payload(self, now: float) -> Union[str, bytes] | None:
        """The next polling POST body (or None): the queued packets that fit in the server's
        ``maxPayload`` (at least one), oldest first."""
        if self.transport != POLLING or not self.wants_write:
            return None
        rev = self.revision
        assert rev is not None
        limit = self.handshake.max_payload if self.handshake is not None else None
        batch: list[tuple[int, Any]] = []
        size = 0
        out = self._out
        while out and len(batch) < MAX_PAYLOAD_PACKETS:
            ptype, data, arrived = out[0]
            if limit:
                item = rev.payload_item_size(ptype, data)
                if batch and size + item > limit:
                    break
                size += item
            out.popleft()
            if ptype == MESSAGE_PACKET:
                self.queued_size -= len(data) + QUEUE_ITEM_OVERHEAD
            batch.append((ptype, data))
            self._handed_out(ptype, arrived, now)
        body = rev.encode_payload(batch, True)
        self._after_take()
        return body

    def take_frames(self, now: float) -> list[Frame]:
        """The frames to write on the session's WebSocket, in order."""
        if self.transport != WEBSOCKET or not self.wants_write:
            return []
        frames = self._drain_frames(now)
        self._after_take()
        return frames

    def _drain_frames(self, now: float) -> list[Frame]:
        rev = self.revision
        assert rev is not None
        binary_ok = not self.force_base64
        frames = []
        out = self._out
        while out:
            ptype, data, arrived = out.popleft()
            frames.append(rev.encode_packet(ptype, data, binary_ok))
            self._handed_out(ptype, arrived, now)
        self.queued_size = 0
        return frames

    def _handed_out(self, ptype: int, arrived: float | None, now: float) -> None:
        if ptype == PONG_PACKET and arrived is not None:
            self._events.append(PongSent((now - arrived) * 1000.0))

    def _push(self, item: tuple[int, Any, float | None]) -> None:
        out = self._out
        if out is None:
            out = self._out = deque()
        out.append(item)

    def _after_take(self) -> None:
        if not self._out:
            self._out = None
            if self.state == CLOSING:
                self.state = CLOSED

    # ------------------------------------------------------------ upgrade

    def start_probe(self, now: float) -> list[Frame]:
        """Frames to write on the freshly opened upgrade WebSocket."""
        if not self.can_upgrade:
            raise RuntimeError("no upgrade possible now")
        self._upgrade = _UP_PROBING
        self._probe_deadline = now + self.handshake.ping_timeout  # type: ignore[union-attr]
        return [self.revision.encode_packet(PING_PACKET, "probe")]  # type: ignore[union-attr]

    def receive_probe_frame(self, frame: Frame, now: float) -> list[Event]:
        """A frame read from the upgrade WebSocket while probing."""
        if self._upgrade != _UP_PROBING or self.state != OPEN:
            return self.next_events()
        rev = self.revision
        assert rev is not None
        try:
            ptype, data = rev.decode_packet(frame)
        except ProtocolError as exc:
            self._fail_upgrade("probe error", exc)
            return self.next_events()
        if ptype == PONG_PACKET and data == "probe":
            self._upgrade = _UP_PAUSING
            self._probe_deadline = None
            self._events.append(ProbeSucceeded())
        elif ptype != NOOP_PACKET:
            self._fail_upgrade("probe error", ProtocolError("unexpected probe answer", frame))
        return self.next_events()

    def probe_failed(self, error: BaseException | None = None) -> list[Event]:
        """The upgrade WebSocket could not be opened, or failed while probing."""
        if self.upgrading and self.state == OPEN:
            self._fail_upgrade("probe error", error)
        return self.next_events()

    def _fail_upgrade(self, reason: str, error: BaseException | None) -> None:
        self._upgrade = _UP_FAILED
        self._probe_deadline = None
        self._events.append(UpgradeFailed(reason, error))

    def finish_upgrade(self, now: float) -> list[Frame]:
        """Polling is paused (nothing in flight): the frames that complete the upgrade.

        Write them on the upgrade WebSocket, which becomes the session's transport.
        """
        if self._upgrade != _UP_PAUSING:
            raise RuntimeError("finish_upgrade() needs a successful probe first")
        if self.state != OPEN:
            return []
        rev = self.revision
        assert rev is not None
        self._upgrade = _UP_DONE
        self.transport = WEBSOCKET
        frames = [rev.encode_packet(UPGRADE_PACKET, None)]
        frames.extend(self._drain_frames(now))
        return frames

    # ------------------------------------------------------------ closing

    def close(self) -> list[Event]:
        """Close the session: ``Closed("forced close")``; the close packet waits to be taken."""
        if self.state in (CLOSING, CLOSED):
            return self.next_events()
        if self.state == OPEN:
            if self._upgrade == _UP_PAUSING or self._upgrade == _UP_PROBING:
                # abandon the upgrade: the close packet goes out on the current transport
                self._upgrade = _UP_FAILED
                self._probe_deadline = None
            self._stop_timers()
            self._push((CLOSE_PACKET, None, None))
            self.state = CLOSING
            self._events.append(Closed("forced close"))
        else:
            self._close("forced close", None)
        return self.next_events()

    def transport_closed(self) -> list[Event]:
        """The connection (WebSocket, or the polling server) went away without a close packet.

        While :attr:`detecting`, this gives ``HandshakeRetry`` instead of ``Closed``."""
        if self.detecting:
            self._retry_detection("connection closed", None)
        elif self.state in (OPENING, OPEN):
            self._close("transport close", None)
        elif self.state == CLOSING:
            self._finish_closed()
        return self.next_events()

    def transport_error(self, error: BaseException) -> list[Event]:
        """A request, the WebSocket, or the decoding of their data failed.

        While :attr:`detecting`, this gives ``HandshakeRetry`` instead of ``Closed``."""
        if self.detecting:
            self._retry_detection("connection error", error)
        elif self.state in (OPENING, OPEN):
            self._close("transport error", error)
        elif self.state == CLOSING:
            self._finish_closed()
        return self.next_events()

    def _close(self, reason: str, error: BaseException | None) -> None:
        self._finish_closed()
        self._events.append(Closed(reason, error))

    def _finish_closed(self) -> None:
        self.state = CLOSED
        self._out = None
        self.queued_size = 0
        self._stop_timers()
        if self._upgrade in (_UP_PROBING, _UP_PAUSING):
            self._upgrade = _UP_FAILED

    def _stop_timers(self) -> None:
        self._next_ping = None
        self._ping_sent_at = None
        self._pong_deadline = None
        self._alive_deadline = None
        self._probe_deadline = None
        self._write_deadline = None


__all__ = [
    "CLOSED",
    "CLOSING",
    "EIO3",
    "EIO4",
    "OPEN",
    "OPENING",
    "POLLING",
    "WEBSOCKET",
    "Closed",
    "Event",
    "HandshakeRetry",
    "Message",
    "Opened",
    "PingReceived",
    "PingSent",
    "Pong",
    "PongSent",
    "ProbeSucceeded",
    "Session",
    "UpgradeFailed",
]
