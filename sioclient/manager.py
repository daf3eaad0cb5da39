"""``Manager``: one Engine.IO connection shared by namespaces (socket.io-client's ``Manager``).

It owns the connection's life: opening an Engine (a new one per attempt), the connect timeout,
the reconnection loop with its backoff, and the parser and a decoder per Engine.  The namespaces'
protocol is a ``core.namespaces.Connection``: the manager feeds it the engine's opening and
closing, pings, pongs and decoded packets, and hands what it reports to the ``Socket`` of each
event's namespace.

The Engine calls the ``_Link`` from its own greenlets.  Nothing here blocks: user listeners run
on greenlets of their own (``Emitter._dispatch``), except those of ``reconnect_attempt`` and
``reconnecting``, which run on the reconnection greenlet before the attempt starts, so that
their edits of ``opts`` apply to the attempt they announce.
"""

from __future__ import annotations

import logging
import math
import time
import weakref
from collections.abc import Mapping
from typing import Any, Callable, overload

import gevent

from .backoff import Backoff
from .core.namespaces import ACK_DONE, RECEIVED, Connection, Event, Namespace
from .core.packet import DISCONNECT, Packet
from .dispatch import spawn
from .emitter import Emitter
from .exceptions import ConnectionError, TimeoutError
from .options import check, connect_timeout, normalize, normalize_socket, validate
from .redact import Secrets, summary
from .socket import Socket
from .transports.cookies import CookieJar
from .url import ParsedURL, parse_url, server_key

logger = logging.getLogger("sioclient")

_MISSING: Any = object()

monotonic = time.monotonic

#: the events whose exception argument is scrubbed of the user's secrets first
_ERROR_EVENTS = frozenset(("connect_error", "error", "reconnect_error"))

EngineFactory = Callable[[str, dict[str, Any], Any], Any]

#: the revision websocket-only detection found, per server (``url.server_key``), for every
#: Manager of the process: a load generator's thousand users pay the ``EIO=3`` probe once, not
#: once each.  Forgotten as a Manager's own memory was (see ``Manager._forget``).
_detected: dict[tuple[str, str, int, str], int] = {}
#: the servers whose revision an attempt is detecting now, and the attempts waiting for it
_detecting: dict[tuple[str, str, int, str], list[_Link]] = {}


def forget_detected() -> None:
    """Forgets every revision detection found: the next connections detect again."""
    _detected.clear()


class _Link:
    """The listener handed to one Engine.  Once the manager lets go of that Engine (it closed,
    timed out or was replaced) the link goes dead and late callbacks are dropped.

    The Engine holds its link, so the link holds the Engine weakly: a strong reference both
    ways would be a cycle, and every connection given up (a reconnection storm: thousands at
    once) would then stay in memory, sockets, buffers and all, until the cycle collector
    runs.  The manager's ``engine`` keeps the current one alive.
    """

    __slots__ = ("manager", "_engine", "live", "may_open", "resume")

    def __init__(self, manager: Manager) -> None:
        self.manager = manager
        self._engine: Callable[[], Any] = _no_engine
        self.live = True
        self.may_open = True
        #: where the Engine goes on when on_engine_messages raised
        self.resume = 0

    @property
    def engine(self) -> Any:
        return self._engine()

    @engine.setter
    def engine(self, engine: Any) -> None:
        try:
            self._engine = weakref.ref(engine)
        except TypeError:  # an engine_factory's engine without weak references
            self._engine = lambda: engine

    def on_engine_open(self, engine: Any) -> None:
        if self.live and self.may_open:
            self.manager._on_engine_open(self)

    def on_engine_message(self, data: str | bytes) -> None:
        # the manager's own work, done here: this runs once per message received (a call
        # into the manager per message cost a Python frame each)
        if not self.live:
            return
        manager = self.manager
        decoder = manager._decoder
        if decoder is None:
            return
        try:
            packets = decoder.feed(data)
        except Exception as exc:
            manager._undecodable(self, exc)
            return
        conn = manager._conn
        nsps = manager.nsps
        for packet in packets:
            # a server event without an ack, or the ack of a call: straight to its socket,
            # without an event object (a packet with an id never is a plain event)
            if packet.id is None:
                args = conn.event_data(packet)
                if args is not None:
                    nsps[packet.nsp or "/"]._on_data(args)
                    continue
            else:
                acked = conn.ack_of(packet, monotonic())
                if acked is not None:
                    nsps[packet.nsp or "/"]._acked(acked[0], acked[1])
                    continue
            self._receive(packet)

    def on_engine_messages(self, run: list[str], start: int) -> int:
        """``on_engine_message`` over ``run[start:]`` (see the Engine's listener interface):
        a read of many events costs one call.  Stops after a message that did more than hand
        events to sockets (its socket paused the reading, the connection changed, a packet was
        undecodable) and returns the index after it."""
        i = start
        n = len(run)
        try:
            if not self.live:
                return n
            manager = self.manager
            decoder = manager._decoder
            if decoder is None:
                return n
            conn = manager._conn
            nsps = manager.nsps
            event_data = conn.event_data
            while i < n:
                try:
                    packets = decoder.feed(run[i])
                except Exception as exc:
                    manager._undecodable(self, exc)
                    return i + 1
                more = True
                for packet in packets:
                    # a packet with an id (the ack of a call, mostly) never is a plain event
                    args = event_data(packet) if packet.id is None else None
                    if args is not None:
                        if nsps[packet.nsp or "/"]._on_data(args):
                            more = False  # the socket paused the reading
                    else:
                        acked = conn.ack_of(packet, monotonic()) if packet.id is not None else None
                        if acked is not None:
                            nsps[packet.nsp or "/"]._acked(acked[0], acked[1])
                        else:
                            self._receive(packet)
                        more = False
                i += 1
                if not more:
                    return i
            return n
        except BaseException:
            self.resume = i + 1  # the message that raised counts as handled
            raise

    def _receive(self, packet: Packet) -> None:
        """A packet other than a server event without an ack: through the namespace core."""
        manager = self.manager
        nsps = manager.nsps
        for event in manager._conn.receive(packet, monotonic()):
            kind = event.kind
            if kind == ACK_DONE:
                nsps[event.nsp]._acked(event.pending, event.args)  # type: ignore[attr-defined]
            elif kind == RECEIVED:
                nsps[event.nsp]._on_event(event)  # type: ignore[arg-type]
            else:
                nsps[event.nsp]._on_core_event(event)

    def on_engine_close(self, reason: str, error: BaseException | None = None) -> None:
        if self.live:
            self.manager._on_engine_close(self, reason, error)

    def on_engine_error(self, error: BaseException) -> None:
        if self.live:
            self.manager._on_engine_error(self, error)

    def on_engine_ping(self) -> None:
        if self.live:
            self.manager._on_engine_ping()

    def on_engine_pong(self, latency_ms: float) -> None:
        if self.live:
            self.manager._on_engine_pong(latency_ms)


def _no_engine() -> None:
    return None


def _default_engine_factory(url: str, opts: dict[str, Any], listener: Any) -> Any:
    from .engine import Engine

    # one cookie jar per Manager: sticky-session cookies survive reconnections
    return Engine(url, opts, listener, cookies=listener.manager.cookies)


class Manager(Emitter):
    """The seed's ``io.Manager``: ``Manager(url, options=None, **kwargs)``.

    ``options`` is a JavaScript-style options dict (``reconnectionDelay`` in ms...), keyword
    arguments are Python (``reconnection_delay`` in seconds); see ``sioclient.options``.
    """

    #: builds the Engine of each attempt; tests replace it with an in-memory one
    engine_factory: EngineFactory = staticmethod(_default_engine_factory)

    def __init__(
        self, url: str | None = None, options: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> None:
        super().__init__()
        if isinstance(url, Mapping) and options is None:
            url, options = None, url  # Manager({...}) as in JavaScript
        parsed = parse_url(url)
        self.opts: dict[str, Any] = normalize(options, kwargs)
        if parsed.query:
            self.opts["query"] = {**parsed.query, **self.opts["query"]}
        self.uri = parsed.href
        self._url: ParsedURL = parsed
        self.nsps: dict[str, Socket] = {}
        self.engine: Any = None
        #: cookies the server set (sticky-session load balancers), kept across reconnections
        self.cookies = CookieJar()
        self._backoff = Backoff(
            self.opts["reconnection_delay"],
            self.opts["reconnection_delay_max"],
            self.opts["randomization_factor"],
        )
        self._ready_state = "closed"
        self._reconnecting = False  # a reconnection is scheduled or in flight
        self._reconnect_pending = False  # the attempt in flight is a reconnection
        self._skip_reconnect = False
        self._generation = 0  # bumped by close(): a scheduled attempt from before is void
        # loop timers, not greenlets parked in sleep: a reconnection storm of thousands of
        # managers waits on these without a greenlet (and its stack) each
        self._reconnect_timer: Any = None  # the next attempt, after its backoff delay
        self._open_timer: Any = None  # the attempt in flight times out
        self._open_callbacks: list[Callable[[BaseException | None], Any]] = []
        self._link: _Link | None = None
        #: the key of the server in `_detected` the current attempt used, and the revision
        #: it asked for from there (None when it detected, or the user fixed the revision)
        self._server_key: tuple[str, str, int, str] | None = None
        self._remembered: int | None = None
        #: the server whose revision this manager's attempt in flight is detecting for all
        self._detecting_key: tuple[str, str, int, str] | None = None
        #: `opts` with the remembered revision, for the engines (kept, as `opts` is: see _assign)
        self._engine_opts: dict[str, Any] = {}
        #: the namespaces' protocol state (see core/namespaces.py)
        self._conn = Connection(default_auth=lambda: self.opts.get("auth"))
        self._conn.retries = self.opts["retries"]
        self._conn.ack_timeout = self.opts["ack_timeout"]
        self._conn.connect_timeout = connect_timeout(self.opts)
        self._parser: Any = None  # the parser of the current (or last) connection
        self._parsers: dict[tuple[str, int], Any] = {}  # built-in parsers by (name, revision)
        self._decoder: Any = None
        #: `opts` were checked a moment ago and nothing could have changed them since
        self._checked = False
        if self.opts["auto_connect"]:
            self._checked = True
            self.open()

    def __repr__(self) -> str:
        return f"<sioclient.Manager {self.uri} {self._ready_state}>"

    # ---- options: no argument reads, one argument sets and returns the manager -----------

    def _option(self, name: str, value: Any) -> Any:
        if value is _MISSING:
            return self.opts[name]
        self.opts[name] = check(name, value)
        return self

    @overload
    def reconnection(self) -> bool: ...

    @overload
    def reconnection(self, value: bool) -> Manager: ...

    def reconnection(self, value: bool = _MISSING) -> bool | Manager:
        result: bool | Manager = self._option("reconnection", value)
        return result

    @overload
    def reconnection_attempts(self) -> float: ...

    @overload
    def reconnection_attempts(self, value: float | None) -> Manager: ...

    def reconnection_attempts(self, value: float | None = _MISSING) -> float | Manager:
        result: float | Manager = self._option("reconnection_attempts", value)
        return result

    @overload
    def reconnection_delay(self) -> float: ...

    @overload
    def reconnection_delay(self, value: float) -> Manager: ...

    def reconnection_delay(self, value: float = _MISSING) -> float | Manager:
        result: float | Manager = self._option("reconnection_delay", value)
        return result

    @overload
    def reconnection_delay_max(self) -> float: ...

    @overload
    def reconnection_delay_max(self, value: float) -> Manager: ...

    def reconnection_delay_max(self, value: float = _MISSING) -> float | Manager:
        result: float | Manager = self._option("reconnection_delay_max", value)
        return result

    @overload
    def randomization_factor(self) -> float: ...

    @overload
    def randomization_factor(self, value: float) -> Manager: ...

    def randomization_factor(self, value: float = _MISSING) -> float | Manager:
        result: float | Manager = self._option("randomization_factor", value)
        return result

    @overload
    def timeout(self) -> float | None: ...

    @overload
    def timeout(self, value: float | None) -> Manager: ...

    def timeout(self, value: float | None = _MISSING) -> float | None | Manager:
        result: float | None | Manager = self._option("timeout", value)
        return result

    @property
    def ready_state(self) -> str:
        """'closed', 'opening' or 'open'."""
        return self._ready_state

    @property
    def protocol(self) -> int | None:
        """The Socket.IO revision of the current (or last) connection, 4 or 5."""
        return getattr(self.engine, "protocol", None)

    # ---- public API ------------------------------------------------------------------------

    def open(self, callback: Callable[[BaseException | None], Any] | None = None) -> Manager:
        """Starts connecting; ``callback(err)`` is called once with None or the failure."""
        if callback is not None:
            if self._ready_state == "open":
                spawn(_call_open_callback, callback, None)
            else:
                self._open_callbacks.append(callback)
        if self._ready_state in ("open", "opening"):
            return self
        self._skip_reconnect = False
        self._start()
        return self

    connect = open

    def socket(self, nsp: str = "/", options: Mapping[str, Any] | None = None) -> Socket:
        """The Socket of namespace ``nsp`` (one per namespace); ``options``: query, auth."""
        if not nsp.startswith("/"):
            nsp = "/" + nsp
        sock = self.nsps.get(nsp)
        if sock is None:
            sock = Socket(self, nsp, normalize_socket(options))
            self.nsps[nsp] = sock
            if self.opts["auto_connect"]:
                sock.open()
        return sock

    def close(self) -> Manager:
        """Closes the connection and stops reconnecting; sockets see 'forced close'."""
        self._skip_reconnect = True
        self._reconnecting = False
        self._reconnect_pending = False
        self._generation += 1
        _stop(self._reconnect_timer)
        self._reconnect_timer = None
        _stop(self._open_timer)
        self._open_timer = None
        self._backoff.reset()
        state, self._ready_state = self._ready_state, "closed"
        link = self._link
        if link is not None and link.live:
            link.live = False
            try:
                if link.engine is not None:  # None: the attempt waited for a detection
                    link.engine.close()
            except Exception:
                logger.exception("closing the engine failed")
            if state == "open":
                self._decoder = None
                self._dispatch("close", "forced close")
                self._deliver(self._conn.closed("forced close"))
            elif state == "opening":
                err = ConnectionError("the manager was closed before the connection opened")
                callbacks, self._open_callbacks = self._open_callbacks, []
                for cb in callbacks:
                    spawn(_call_open_callback, cb, err)
        self._end_detection()
        self._pulse_all()
        return self

    disconnect = close

    # ---- opening ---------------------------------------------------------------------------

    def _start(self) -> None:
        opts = self.opts
        if self._checked:
            self._checked = False  # the first attempt, right from the constructor
        else:
            try:
                # a reconnect_attempt handler may have changed any option, in any spelling: a
                # bad value fails this attempt (reconnect_error) and the next one checks again
                checked = validate(opts)
            except ValueError as exc:
                self._ready_state = "closed"
                self._open_failed(exc)
                return
            _assign(opts, checked)
        # at-least-once emits: an edit of `opts` applies from this attempt on
        self._conn.retries = opts.get("retries", 0)
        self._conn.ack_timeout = opts.get("ack_timeout")
        self._conn.connect_timeout = connect_timeout(opts)
        self._ready_state = "opening"
        link = _Link(self)
        self._link = link
        timeout = opts["timeout"]
        if timeout is not None:
            # timeout 0: the attempt times out at once, whatever the engine does
            link.may_open = timeout > 0
            _stop(self._open_timer)
            self._open_timer = _later(timeout, self._open_timer_due, link)
        self._launch(link)

    def _launch(self, link: _Link) -> None:
        """Creates and opens the Engine of an attempt, or, when another manager is detecting
        the revision of the same server, waits for what it finds (see `_end_detection`)."""
        opts = self.opts
        engine_opts = opts
        self._remembered = None
        if opts["protocol"] is None and opts["transports"][0] == "websocket":
            # (polling tells the revision from the answer's framing, at no cost: it detects
            # every time, and what it finds is not what a websocket probe would find on a
            # server that speaks both)
            key = self._server_key = server_key(self._url, opts["path"])
            known = _detected.get(key)
            if known is not None:
                # the probe was paid once for this server; the user's own value stays None
                self._remembered = known
                engine_opts = self._engine_opts
                _assign(engine_opts, opts)
                engine_opts["protocol"] = known
            else:
                waiting = _detecting.get(key)
                if waiting is not None:
                    # one probe at a time per server: a thousand users started at once pay one
                    # (this attempt's own timeout still bounds the wait)
                    waiting.append(link)
                    return
                _detecting[key] = []
                self._detecting_key = key
        else:
            self._server_key = None
        try:
            engine = self.engine_factory(self.uri, engine_opts, link)
        except Exception as exc:
            link.live = False
            self._ready_state = "closed"
            logger.exception("could not create the engine")
            err = ConnectionError(f"could not create the engine: {type(exc).__name__}")
            err.__cause__ = exc
            self._open_failed(err)
            return
        link.engine = engine
        self.engine = engine
        try:
            engine.open()
        except Exception as exc:
            self._on_engine_error(link, exc)

    def _end_detection(self) -> None:
        """This manager's detecting attempt ended (opened, failed, timed out or was closed):
        the attempts that waited for it go on, asking for what it found, or one of them
        detecting in its turn."""
        key = self._detecting_key
        if key is None:
            return
        self._detecting_key = None
        for link in _detecting.pop(key, ()):
            manager = link.manager
            if link.live and manager._link is link and manager._ready_state == "opening":
                manager._launch(link)

    def _on_engine_open(self, link: _Link) -> None:
        _stop(self._open_timer)
        self._open_timer = None
        engine = link.engine
        try:
            parser = self._parser_for(engine.protocol or 5)
            self._parser = parser
            self._decoder = parser.decoder()
        except Exception as exc:
            logger.exception("no parser for this connection")
            link.live = False
            engine.close()
            self._ready_state = "closed"
            self._open_failed(ConnectionError(f"no parser: {exc}"))
            return
        if self._server_key is not None and engine.protocol in (4, 5):
            _detected[self._server_key] = engine.protocol
        self._ready_state = "open"
        self._dispatch("open")
        self._deliver(self._conn.opened(engine.protocol, engine.id, time.monotonic()))
        for sock in list(self.nsps.values()):
            sock._arm()  # a namespace left moments ago asks again after a delay
        self._finish_open(None)

    def _open_timer_due(self, link: _Link) -> None:
        # in the event loop: nothing below blocks (closing the engine and telling the sockets
        # only schedules work), and it runs at once, ahead of the engine's own connect timeout
        try:
            self._on_open_timeout(link)
        except Exception:  # noqa: BLE001 - never into the event loop
            logger.exception("error in the connect timeout")

    def _on_open_timeout(self, link: _Link) -> None:
        if not link.live or self._link is not link or self._ready_state != "opening":
            return
        self._open_timer = None
        link.live = False
        try:
            if link.engine is not None:
                link.engine.close()
        except Exception:
            logger.exception("closing the engine failed")
        timeout = self.opts["timeout"]
        self._ready_state = "closed"
        err = TimeoutError(f"connection timed out after {timeout} s")
        self._emit_all("connect_error", err)
        self._emit_all("connect_timeout", timeout)
        self._finish_open(err)

    def _on_engine_error(self, link: _Link, error: BaseException) -> None:
        if self._ready_state == "open":
            self._emit_all("error", error)
            return
        link.live = False
        self._ready_state = "closed"
        self._forget_protocol(link)
        if not isinstance(error, Exception):
            error = ConnectionError(str(error))
        self._open_failed(error)

    def _forget_protocol(self, link: _Link) -> None:
        # an attempt that reached a server and failed: it may have been replaced by one of
        # another generation, so the next attempt detects again (an unreachable server says
        # nothing about that, and a restart keeps what was learnt)
        if getattr(link.engine, "reached", True):
            self._forget(self._remembered)

    def _forget(self, revision: int | None) -> None:
        # only the revision this connection asked for or spoke: another manager may have
        # learnt a newer one since
        key = self._server_key
        if key is not None and revision is not None and _detected.get(key) == revision:
            del _detected[key]

    def _open_failed(self, error: BaseException) -> None:
        _stop(self._open_timer)
        self._open_timer = None
        self._emit_all("connect_error", error)
        self._finish_open(error)

    def _finish_open(self, error: BaseException | None) -> None:
        self._end_detection()
        callbacks, self._open_callbacks = self._open_callbacks, []
        for cb in callbacks:
            spawn(_call_open_callback, cb, error)
        if self._reconnect_pending:
            self._reconnect_pending = False
            if error is not None:
                self._reconnecting = False
                self._reconnect()
                self._emit_all("reconnect_error", error)
            else:
                attempt = self._backoff.attempts
                self._reconnecting = False
                self._backoff.reset()
                self._emit_all("reconnect", attempt)
        elif error is not None and not callbacks:
            # only the first failure starts the loop; the loop handles its own failures
            if not self._reconnecting and self._backoff.attempts == 0 and self.opts["reconnection"]:
                self._reconnect()
        self._pulse_all()

    # ---- the open connection ---------------------------------------------------------------

    def _undecodable(self, link: _Link, exc: Exception) -> None:
        """The engine of ``link`` brought a message that could not be decoded."""
        logger.warning("closing the connection: a packet could not be decoded (%s)", _why(exc))
        self._emit_all("error", exc)
        link.live = False  # the engine's own 'forced close' report is not the reason
        try:
            link.engine.close()
        except Exception:
            logger.exception("closing the engine failed")
        self._on_engine_close(link, "parse error", exc)

    def _deliver(self, events: list[Event]) -> None:
        """Hands what the namespaces' state machine reported to the sockets, in order."""
        nsps = self.nsps
        for event in events:
            nsps[event.nsp]._on_core_event(event)

    def _on_engine_ping(self) -> None:
        self._conn.ping_sent()
        self._emit_all("ping")

    def _on_engine_pong(self, latency_ms: float) -> None:
        self._deliver(self._conn.pong_received(time.monotonic()))
        self._emit_all("pong", latency_ms)

    def _on_engine_close(self, link: _Link, reason: str, error: BaseException | None) -> None:
        link.live = False
        if self._ready_state != "open":
            self._ready_state = "closed"
            self._forget_protocol(link)
            self._open_failed(error if error is not None else ConnectionError(reason))
            return
        self._decoder = None
        self._ready_state = "closed"
        self._backoff.reset()
        if reason not in ("transport close", "forced close"):
            # a ping timeout or a malformed packet may mean a server of another generation
            # now answers there (it accepted the revision asked and cannot speak it): detect
            # again; a clean close (a restart, say) keeps what was learnt
            self._forget(getattr(link.engine, "protocol", None))
        if error is not None:
            # socket.io-client forwards the engine's error (a reset, a malformed payload)
            self._emit_all("error", error)
        self._dispatch("close", reason)
        # scheduled before the sockets hear of it, so that what waits for the next connection
        # (at-least-once emits) is not taken for closed for good
        if self.opts["reconnection"] and not self._skip_reconnect:
            self._reconnect()
        self._deliver(self._conn.closed(reason))
        self._pulse_all()

    def _packet(self, packet: Packet, compress: bool = True) -> bool:
        """Encodes and writes one packet of one of our sockets; False when the engine did not
        take it (not open, or given up while the packet waited for room)."""
        if self._ready_state != "open" or self._parser is None:
            logger.debug("not connected, dropping a %s", summary(packet))
            return False
        if packet.type == DISCONNECT:
            # from close(), which must not wait for room in the engine's buffers
            return bool(self.engine.send(self._parser.encode(packet), compress, False))
        return bool(self.engine.send(self._parser.encode(packet), compress))

    def _packet_encoded(
        self, packet: Packet | None, parser: Any, messages: list[Any], compress: bool = True
    ) -> bool:
        """Writes a packet encoded while disconnected; encoded again when the revision that
        the connection speaks needs another parser than the one that encoded it (``packet``
        may be None only when it is the same).  False when the engine did not take it (the
        connection is not open any more)."""
        if self._ready_state != "open" or self._parser is None:
            return False
        if parser is not self._parser:
            assert packet is not None
            messages = self._parser.encode(packet)
        return bool(self.engine.send(messages, compress))

    def _parser_for(self, revision: int) -> Any:
        """The parser for a revision: a custom parser object as it is, a built-in one made
        once per (name, revision) so that packets encoded for it can be sent as they are."""
        parser = self.opts["parser"]
        if not isinstance(parser, str):
            return parser
        key = (parser, revision)
        built = self._parsers.get(key)
        if built is None:
            from . import parsers

            built = self._parsers[key] = parsers.get(parser, revision)
        return built

    def _offline_parser(self) -> Any:
        """The parser that encodes an emit made while disconnected: the last connection's, or
        before any, that of the revision asked for (5, the likely one, when detecting)."""
        if self._parser is not None:
            return self._parser
        return self._parser_for(self.opts["protocol"] or 5)

    # ---- reconnection ----------------------------------------------------------------------

    def _reconnect(self) -> None:
        if self._reconnecting or self._skip_reconnect:
            return
        backoff = self._backoff
        # the live options win, so `manager.opts[...] = x` works as well as the setters; a bad
        # value there is reported and the last good one used (reconnection never dies of it)
        try:
            limit = check("reconnection_attempts", self.opts["reconnection_attempts"])
            backoff.min = check("reconnection_delay", self.opts["reconnection_delay"])
            backoff.max = check("reconnection_delay_max", self.opts["reconnection_delay_max"])
            backoff.jitter = check("randomization_factor", self.opts["randomization_factor"])
        except (KeyError, ValueError) as exc:
            self._emit_all("reconnect_error", exc)
            limit = math.inf
        if backoff.attempts >= limit:
            backoff.reset()
            self._reconnecting = False
            self._emit_all("reconnect_failed")
            self._pulse_all()
            return
        delay = backoff.duration()
        self._reconnecting = True
        self._reconnect_timer = _later(delay, self._attempt_due, self._generation)

    def _attempt_due(self, generation: int) -> None:
        # in the event loop, which must not block: the attempt gets a greenlet of its own,
        # as its reconnect_attempt handlers may block
        self._reconnect_timer = None
        if not self._skip_reconnect and generation == self._generation:
            spawn(self._attempt, generation)

    def _attempt(self, generation: int) -> None:
        if self._skip_reconnect or generation != self._generation:
            return
        attempt = self._backoff.attempts
        self._emit_all("reconnect_attempt", attempt, now=True)
        self._emit_all("reconnecting", attempt, now=True)
        # a handler may have closed the manager (socket.disconnect()) or opened it again
        if self._skip_reconnect or generation != self._generation:
            return
        self._reconnect_pending = True
        if self._ready_state == "open":
            self._finish_open(None)
        elif self._ready_state == "closed":
            self._start()

    # ---- helpers ---------------------------------------------------------------------------

    def _emit_all(self, event: str, *args: Any, now: bool = False) -> None:
        """Emits on the manager and on every socket, as socket.io-client 2.x does."""
        if event in _ERROR_EVENTS:
            secrets = self._secrets()
            for arg in args:
                if isinstance(arg, BaseException):
                    secrets.scrub_error(arg)
        targets: list[Emitter] = [self, *self.nsps.values()]
        for target in targets:
            if now:
                target._emit_local(event, *args)
            else:
                target._dispatch(event, *args)

    def _secrets(self) -> Secrets:
        """What must not appear in the errors we report (see ``sioclient.redact``)."""
        socks = list(self.nsps.values())
        return Secrets.of(
            self.opts,
            *(s.query for s in socks if s.query),
            *(s.auth for s in socks if s.auth is not None),
            cookies=self.cookies,
        )

    # ---- what a Socket asks of its manager ---------------------------------------------

    def _namespace(self, nsp: str, query: Any, auth: Any, limits: Any) -> Namespace:
        """The protocol state of namespace ``nsp`` on this manager's connection."""
        return self._conn.namespace(nsp, query, auth, limits)

    def _wanted(self) -> None:
        """A socket wants the connection: open it, unless a reconnection is on its way."""
        if not self._reconnecting:
            self.open()

    def _unused(self) -> None:
        """No socket wants the connection any more."""
        self.close()

    def _will_connect(self) -> bool:
        return self._ready_state != "closed" or self._reconnecting

    def _pulse_all(self) -> None:
        for sock in list(self.nsps.values()):
            sock._pulse()


def _call_open_callback(callback: Callable[..., Any], error: BaseException | None) -> None:
    try:
        callback(error)
    except Exception:
        logger.exception("error in the open callback %r", callback)


def _why(exc: BaseException) -> str:
    # the exception's kind and its reason, without the input it quotes
    reason = getattr(exc, "reason", None)
    return f"{type(exc).__name__}: {reason}" if reason else type(exc).__name__


def _assign(target: dict[str, Any], source: Mapping[str, Any]) -> None:
    """Makes ``target`` equal to ``source`` in place, touching only what differs.

    Every connection attempt validates the options again; rebuilding the dicts each time
    would give each of them a new table (about 1 KiB) per attempt, made in the middle of a
    reconnection storm and kept: the allocator could then not give that memory back.
    """
    for name, value in source.items():
        old = target.get(name, _MISSING)
        if old is not value and (type(old) is not type(value) or old != value):
            target[name] = value
    if len(target) != len(source):
        for name in [n for n in target if n not in source]:
            del target[name]


def _later(seconds: float, callback: Callable[..., Any], *args: Any) -> Any:
    """A started loop timer that calls ``callback(*args)`` in the event loop once due."""
    timer = gevent.get_hub().loop.timer(max(0.0, seconds))
    timer.start(callback, *args)
    return timer


def _stop(timer: Any) -> None:
    if timer is not None:
        timer.close()


__all__ = ["Manager"]
