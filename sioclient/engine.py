"""The Engine: one Engine.IO connection driven over gevent.

Every protocol decision lives in the sans-I/O :class:`sioclient.core.session.Session`; this
module owns the sockets, the greenlets and the clock, and reports to a listener (the Manager):
``on_engine_open(engine)``, ``on_engine_message(data)``, ``on_engine_close(reason, error)``,
``on_engine_error(error)`` (the connection could not be opened), ``on_engine_ping()`` and
``on_engine_pong(latency_ms)``.  Listener methods are called from the Engine's greenlets.
A listener may also take the messages of one read at once: ``on_engine_messages(run, start)``
handles ``run[start]`` and may go on with the messages after it; it returns the index after
the last one it handled, stopping after any that did more than hand events to sockets, so
that the Engine sees whether to read on.  When it raises, its ``resume`` attribute holds
that index (the message that raised counts as handled, as ``on_engine_message``'s would).

Greenlets per connection (bounded): one *reader* (the long-polling GET loop, or the WebSocket
receive loop) while opening; after that an idle WebSocket parks no greenlet: its reads wait on
an I/O watcher and the session's deadlines (heartbeat, detection, probe) on a libev timer.  The
timer hands its work, when due, to the runner greenlets of ``dispatch.submit_io`` (which keep
order, never let one blocked job stall the others, and never run user handlers: a burst of
slow handlers cannot delay a ping).  The watcher of an open WebSocket reads in the hub itself
(see ``_readable``: nothing the reading leads to blocks, and a hand-off would cost two switches
and a loop callback per wake-up); while opening, a runner reads.  Polling adds a short-lived
*poster* while a POST is in flight, and an upgrade a *prober* whose WebSocket becomes the
reader once the upgrade completes.  Sends on WebSocket are written from the caller's greenlet
(no switch on the hot path) and never block: what the kernel does not take at once waits in
the WebSocket's buffer, flushed from the event loop, so the order of ``send()`` calls is the
order on the wire and no greenlet holds anything across a blocking write.  (The WebSocket
writes the first send of a loop iteration at once and gathers the later ones of the same
iteration into one write before the loop polls again; see ``WebSocket._write``.)  One
exception: a send made while other watchers of the same loop iteration are still to run
(hundreds of users woken together) only frames its message into the WebSocket's gathered
write (or queues it in the session, when something waits there already), and
``dispatch.defer_write``'s writer writes them a slice at a time between polls, so that the
answers to the first requests of a burst are read while the rest is written (see
``dispatch._BurstWriter``); the order stays that of the ``send()`` calls, since later sends
join the gathered write and every write takes the session's whole queue.

Back-pressure (what ``send()`` does when the peer cannot keep up):

- Two buffers are bounded: the session's queue (messages waiting for a polling POST, or for
  the upgrade to complete) at ``MAX_QUEUE`` bytes, and the WebSocket's unwritten bytes at
  ``MAX_WRITE_BUFFER``.  A ``send()`` that finds either full waits, in the caller's greenlet,
  until there is room, then queues its messages (so each buffer holds at most its bound plus
  one packet).  ``send()`` never waits in the event loop's greenlet, nor from within the
  engine's own listener calls (the Manager flushing its offline buffer on connect): those go
  over the bound, which the offline buffer they come from bounds in turn.
- Every write is bounded in time: a POST by the request timeout, and WebSocket bytes that make
  no progress for a heartbeat window (``ping_interval + ping_timeout``) give the connection up
  (``transport error``, a ``sioclient.TimeoutError``).  The heartbeat and ``close()`` never
  wait for a write.  So a waiting ``send()`` returns at the latest when the client gives the
  connection up, whatever the peer does.
- ``send(messages, compress=True, wait=True)`` returns True once the messages are queued for
  writing (that is not delivery: a connection lost later loses them), and False when they
  were not because the engine is not open, or was closed or given up while the caller waited.
  ``wait=False`` never waits (for small control packets such as a namespace's DISCONNECT sent
  by ``close()``, which must return at once).
"""

from __future__ import annotations

import logging
import time
from typing import Any, Sequence, Union

import gevent
import gevent.event
from gevent import get_hub

from . import dispatch
from .core import session as S
from .core.handshake import http_answer
from .dispatch import defer_write, in_burst, spawn, submit_io
from .exceptions import ConnectionError, ProtocolError, SocketIOError, TimeoutError
from .options import connect_timeout
from .transports import websocket as ws_mod
from .transports.cookies import CookieJar
from .transports.http import HTTPClient
from .transports.tls import create_ssl_context
from .url import Proxy, encode_query, proxy_for, split_url

logger = logging.getLogger("sioclient.engine")

Frame = Union[str, bytes]

monotonic = time.monotonic

# engine.io-client keeps this per process ("priorWebsocketSuccess"): with remember_upgrade, a
# later connection goes straight to WebSocket once one upgrade succeeded, until a transport
# fails or a connection opens on polling.
_prior_websocket_success = False

# bounds on waiting for polling to pause during the upgrade (the server ends the pending GET
# with a noop within ~100 ms of the probe)
_PAUSE_TIMEOUT = 10.0

#: bound of the session's queue (bytes of messages, see ``Session.queued_size``)
MAX_QUEUE = S.DEFAULT_MAX_QUEUE
#: bound of the bytes a WebSocket holds unwritten, beyond what the kernel took
MAX_WRITE_BUFFER = ws_mod.DEFAULT_MAX_BUFFER
#: how long the closing handshake of a WebSocket may take after ``close()`` (in the background)
_CLOSE_GRACE = 2.0


class Engine:
    """One Engine.IO session over gevent (see the module docstring)."""

    def __init__(
        self, url: str, opts: dict[str, Any], listener: Any, cookies: CookieJar | None = None
    ) -> None:
        secure, host, port, _ = split_url(url)
        self.url = url
        self.secure = secure
        self.host = host
        self.port = port
        self.opts = opts
        self.listener = listener
        self.cookies = cookies if cookies is not None else CookieJar()
        self.id: str | None = None
        self.transport: str | None = None
        self.protocol: int | None = None
        self.ping_interval: float | None = None
        self.ping_timeout: float | None = None
        self.ready_state = "closed"
        #: True once the server answered (an HTTP response, or a WebSocket connected)
        self.reached = False

        self._session: S.Session | None = None
        self._ssl_context: Any = None
        self._http: HTTPClient | None = None
        self._ws: ws_mod.WebSocket | None = None
        self._probe_ws: ws_mod.WebSocket | None = None
        self._reader: gevent.Greenlet | None = None
        # the session's next deadline runs on a libev timer whose work goes to the shared
        # runners when due (a parked greenlet per connection costs ~8 KiB; think 10,000 clients)
        self._timer: Any = None
        self._timer_at: float | None = None
        self._watcher: Any = None  # readability of the WebSocket (see _ws_read)
        self._poster: gevent.Greenlet | None = None
        self._prober: gevent.Greenlet | None = None
        # set whenever senders waiting for room should look again (see send()); made when
        # a sender first waits
        self._room: gevent.event.Event | None = None
        self._calling: Any = None  # the greenlet calling the listener, if any
        # (29 attributes: one more and CPython gives every Engine an unshared 1.5 KiB dict)
        self._finished = False  # the listener got its final report
        self._opened = False

    # ------------------------------------------------------------------ public

    def open(self) -> None:
        """Start connecting in the background; the listener hears how it went."""
        if self.ready_state != "closed" or self._finished:
            return
        opts = self.opts
        transports = list(opts["transports"])
        first = transports[0]
        if opts["remember_upgrade"] and _prior_websocket_success and "websocket" in transports:
            first = "websocket"
        self._session = S.Session(
            protocol=opts["protocol"],
            transports=tuple(transports),
            upgrade=opts["upgrade"],
            force_base64=opts["force_base64"],
            timestamp_requests=bool(opts["timestamp_requests"]),
            timestamp_param=opts["timestamp_param"],
            max_queue=MAX_QUEUE,
        )
        self._session.begin(first)
        self.transport = first
        self.ready_state = "opening"
        self._reader = spawn(self._run_polling if first == "polling" else self._run_ws)

    def send(self, messages: Sequence[Frame], compress: bool = True, wait: bool = True) -> bool:
        """Queue the Engine.IO messages of one Socket.IO packet and write them out.

        True once they are queued; False when they were not (the engine is not open, or was
        closed or given up while waiting for room).  See "Back-pressure" in the module doc.
        """
        s = self._session
        if s is None or self.ready_state not in ("open", "opening"):
            return False
        ws = self._ws
        if ws is not None:
            # the loop of the reading watcher, when there is one: get_hub() costs more
            watcher = self._watcher
            loop = get_hub().loop if watcher is None else watcher.loop
            frame = s.frame_now(messages[0]) if len(messages) == 1 else None
            if frame is not None:
                # the common case: one text message, nothing queued ahead of it: framed and
                # written at once if there is room in the socket's buffer, the session's
                # queue untouched.  In a burst of wake-ups (dispatch.in_burst, inlined) the
                # frame waits in the socket's gathered write, which the burst writer writes
                try:
                    taken = ws.send_now(
                        frame,
                        compress,
                        loop,
                        defer_write
                        if compress and dispatch.DEFER_IN_BURSTS and loop.pendingcnt
                        else None,
                    )
                except SocketIOError as exc:
                    spawn(self._fail, exc)
                    taken = True
                if taken:
                    if ws.stalled_since is not None:
                        self._write_stalled(ws)
                    return True
                if taken is None:
                    return False  # broken: see below
            elif ws.broken:
                # the write failed and the reader is about to report it: what is queued now
                # would be lost with the socket, while the caller can keep it for the next one
                return False
        if wait:
            if s.queued_size >= s.max_queue or (
                ws is not None and ws.buffered_amount >= ws.max_buffer
            ):
                if not self._wait_room():
                    return False
        for m in messages:
            s.send_message(m)
        if s.wants_write:
            if ws is not None and compress and in_burst():
                # one of many greenlets woken in this loop iteration: written in a slice
                # between polls, so that answers are read while the burst is written
                defer_write(self._write_deferred)
            else:
                self._flush(compress)
        return True

    def _write_deferred(self) -> None:
        """The burst writer's turn for this engine: what send() queued goes out now."""
        s = self._session
        if s is None or self._finished or self._ws is None or not s.wants_write:
            return
        try:
            self._flush(True)
        except Exception as exc:  # noqa: BLE001 - reported, never lost in the writer
            submit_io(self._fail, exc)
            return
        self._wake_senders()

    def _has_room(self) -> bool:
        s = self._session
        assert s is not None
        ws = self._ws
        if ws is not None and (ws.buffered_amount >= ws.max_buffer or ws.broken):
            return False  # a broken WebSocket: the reader (or the heartbeat) ends the engine
        return s.queued_size < s.max_queue

    def _wait_room(self) -> bool:
        """Waits until the buffers have room (True) or the engine is no longer open."""
        cur = gevent.getcurrent()
        if cur is self._calling or cur is gevent.get_hub():
            return True  # never here: it would stall the reads that make the room
        room = self._room
        if room is None:
            room = self._room = gevent.event.Event()
        while True:
            if self._finished or self.ready_state not in ("open", "opening"):
                return False
            if self._has_room():
                return True
            room.clear()
            # woken by every change that may make room; the period only re-checks
            room.wait(1.0)

    def _wake_senders(self) -> None:
        room = self._room
        if room is not None and not room.is_set():
            room.set()

    def close(self) -> None:
        """Close the connection: the close packet goes out after what is queued.

        Returns at once: a WebSocket gets up to a couple of seconds in the background to
        write what it holds and the closing handshake, then is dropped.
        """
        s = self._session
        if s is None or self._finished:
            return
        self.ready_state = "closing"
        events = s.close()
        self._flush_close()
        self._process(events)

    # ------------------------------------------------------------------ helpers

    def _ssl(self) -> Any:
        if self.secure and self._ssl_context is None:
            o = self.opts
            self._ssl_context = create_ssl_context(
                o["verify"], o["cert"], o["key"], o["passphrase"], o["ciphers"]
            )
        return self._ssl_context

    def _proxy(self) -> Proxy | None:
        # read once per connection, so that an environment change shows on the next one
        return proxy_for(self.opts["proxy"], self.host, self.secure)

    def _headers(self, transport: str) -> dict[str, str]:
        o = self.opts
        headers = dict(o["extra_headers"])
        # a transport's own options hold only what was given for it
        topts = o["transport_options"].get(transport, {})
        headers.update(topts.get("extra_headers", {}))
        return headers

    def _target(self, transport: str) -> str:
        assert self._session is not None
        o = self.opts
        path = o["path"].rstrip("/") + "/"
        topts = o["transport_options"].get(transport, {})
        params = dict(o["query"])
        params.update(topts.get("query", {}))
        params.update(self._session.query(transport))
        return f"{path}?{encode_query(params)}"

    def _request_timeout(self) -> float:
        rt = self.opts["request_timeout"]
        if rt:
            return float(rt)
        if self.ping_interval is not None:
            # a long-poll GET lasts at most one ping interval on a live server
            return self.ping_interval + (self.ping_timeout or 0) + 5.0
        return connect_timeout(self.opts)

    def _http_client(self) -> HTTPClient:
        if self._http is None:
            self._http = HTTPClient(
                host=self.host,
                port=self.port,
                secure=self.secure,
                ssl_context=self._ssl(),
                cookies=self.cookies,
                connect_timeout=connect_timeout(self.opts),
                proxy=self._proxy(),
                local_address=self.opts["local_address"],
            )
        return self._http

    def _ws_connect(self, transport_target: str) -> ws_mod.WebSocket:
        return ws_mod.connect(
            host=self.host,
            port=self.port,
            target=transport_target,
            secure=self.secure,
            headers=self._headers("websocket"),
            per_message_deflate=self.opts["per_message_deflate"],
            timeout=connect_timeout(self.opts),
            ssl_context=self._ssl(),
            cookies=self.cookies,
            proxy=self._proxy(),
            local_address=self.opts["local_address"],
        )

    # ------------------------------------------------------------------ events

    def _process(self, events: list[Any]) -> None:
        if self._calling is not None:
            # nested (the slot is ours already), or another greenlet is inside the listener
            # (its sends stay exempt from waiting; this one's may wait, on its own runner)
            self._dispatch_events(events)
            return
        self._calling = gevent.getcurrent()
        try:
            self._dispatch_events(events)
        finally:
            self._calling = None

    def _dispatch_events(self, events: list[Any]) -> None:
        # the session's events (S.Event), told apart by exact type: cheaper than isinstance
        for ev in events:
            kind = type(ev)
            try:
                if kind is S.Message:
                    self.listener.on_engine_message(ev.data)
                elif kind is S.Opened:
                    self._on_opened(ev.handshake)
                elif kind is S.Closed:
                    self._on_closed(ev.reason, ev.error)
                elif kind is S.PingSent or kind is S.PingReceived:
                    self._schedule()
                    self.listener.on_engine_ping()
                elif kind is S.Pong or kind is S.PongSent:
                    self._schedule()
                    self.listener.on_engine_pong(ev.latency_ms)
                elif kind is S.UpgradeFailed:
                    logger.debug("upgrade failed: %s %s", ev.reason, ev.error or "")
                    self._drop_probe()
                elif kind is S.HandshakeRetry:
                    logger.debug("handshake retried with EIO=4: %s", ev.reason)
                    self._retry_ws()
                # ProbeSucceeded is handled by the prober itself
            except Exception as exc:  # noqa: BLE001 - a listener bug must not kill the connection
                self._listener_failed(exc)

    def _message(self, data: Frame) -> None:
        """``_process([Message(data)])``, for the one event that comes by the thousand."""
        if self._calling is not None:
            try:
                self.listener.on_engine_message(data)
            except Exception as exc:  # noqa: BLE001
                self._listener_failed(exc)
            return
        self._calling = gevent.getcurrent()
        try:
            self.listener.on_engine_message(data)
        except Exception as exc:  # noqa: BLE001 - a listener bug must not kill the connection
            self._listener_failed(exc)
        finally:
            self._calling = None

    def _listener_failed(self, exc: Exception) -> None:
        logger.exception("error in an engine event handler")
        try:
            self.listener.on_engine_error(exc)  # and the user hears of it
        except Exception:  # noqa: BLE001
            logger.exception("error in an engine event handler")

    def _on_opened(self, hs: Any) -> None:
        s = self._session
        assert s is not None
        self.id = hs.sid
        self.protocol = s.protocol
        self.ping_interval = hs.ping_interval
        self.ping_timeout = hs.ping_timeout
        self.transport = s.transport
        self.ready_state = "open"
        self._opened = True
        global _prior_websocket_success
        _prior_websocket_success = s.transport == "websocket"
        self._schedule()
        self.listener.on_engine_open(self)
        if s.can_upgrade and self._prober is None:
            self._prober = spawn(self._probe)

    def _on_closed(self, reason: str, error: BaseException | None) -> None:
        if self._finished:
            return
        self._finished = True
        self.ready_state = "closed"
        self._wake_senders()
        if reason == "transport error" or not self._opened:
            # as engine.io-client's onError: a remembered WebSocket that failed (a proxy that
            # refuses upgrades, say) is not tried first again; the next attempt polls
            global _prior_websocket_success
            _prior_websocket_success = False
        self._teardown()
        if not self._opened:
            err = error
            if not isinstance(err, SocketIOError):
                msg = f"could not open the connection ({reason})"
                if error is not None:
                    msg += f": {error}"
                err = ConnectionError(msg)
                err.__cause__ = error  # the real cause, with its traceback
            self.listener.on_engine_error(err)
        else:
            self.listener.on_engine_close(reason, error)

    def _fail(self, error: BaseException) -> None:
        """A transport failed (or its data was malformed)."""
        s = self._session
        if s is None or self._finished:
            return
        if isinstance(error, ProtocolError):
            # the reason only: the offending input may echo what the client sent
            logger.warning("protocol error from %s: %s", self.url, error.reason)
        self._process(s.transport_error(error))

    def _guarded(self, work: Any) -> None:
        """Runs timer work on a shared runner: what it raises fails this connection, reported,
        rather than end in the runner's log."""
        try:
            work()
        except Exception as exc:  # noqa: BLE001
            self._fail(exc)

    def _teardown(self) -> None:
        cur = gevent.getcurrent()
        for ws in (self._ws, self._probe_ws):
            if ws is not None:
                ws.on_writable = None
        if self._timer is not None:
            self._timer.close()
            self._timer = None
        self._stop_watch()
        for g in (self._reader, self._poster, self._prober):
            if g is not None and g is not cur and not g.dead:
                g.kill(block=False)
        # a killed greenlet keeps its GreenletExit, whose traceback holds our frames: holding
        # the greenlet too would make a cycle that keeps this engine until the collector runs
        self._reader = self._poster = self._prober = None
        for ws in (self._ws, self._probe_ws):
            if ws is not None:
                ws.abort()
        if self._http is not None:
            self._http.close()

    # ------------------------------------------------------------------ timers

    def _schedule(self) -> None:
        """(Re)arm the timer for the session's next deadline."""
        s = self._session
        if s is None or self._finished:
            return
        deadline = s.next_deadline()
        timer = self._timer
        if timer is not None:
            if deadline == self._timer_at and timer.active:
                return
            timer.close()
            self._timer = None
        self._timer_at = deadline
        if deadline is None:
            return
        timer = self._timer = gevent.get_hub().loop.timer(max(0.0, deadline - monotonic()))
        timer.start(self._on_timer)

    def _on_timer(self) -> None:
        # runs in the hub, which must not block: the work goes to the shared runners
        self._timer_at = None
        if not self._finished:
            submit_io(self._guarded, self._tick)

    def _tick(self) -> None:
        s = self._session
        if s is None or self._finished:
            return
        ws = self._ws
        if ws is not None and s.write_stall_watched:
            s.write_stalled(ws.stalled_since)
        events = s.tick(monotonic())
        self._flush(True)
        self._process(events)
        self._schedule()

    # ------------------------------------------------------------------ writing

    def _flush(self, compress: bool) -> None:
        """Write what the session has queued (never blocks)."""
        s = self._session
        assert s is not None
        if not s.wants_write:
            return
        if s.transport == "websocket":
            ws = self._ws
            if ws is None:
                return  # still opening: the queue is written once the socket is up
            frames = s.take_frames(monotonic())
            events = s.next_events()
            try:
                ws.send_many(frames, compress)
            except SocketIOError as exc:
                spawn(self._fail, exc)
            if ws.stalled_since is not None and not s.write_stall_watched:
                # bytes wait: the session bounds how long they may (see write_stalled)
                s.write_stalled(ws.stalled_since)
                self._schedule()
            if events:
                self._process(events)
        elif s.polling_active and self._poster is None and self._opened:
            self._poster = spawn(self._post_loop)

    def _write_stalled(self, ws: ws_mod.WebSocket) -> None:
        """Bytes of a frame written past the session's queue (``Session.frame_now``) wait:
        the session bounds how long they may, as after any write."""
        s = self._session
        assert s is not None
        if not s.write_stall_watched:
            s.write_stalled(ws.stalled_since)
            self._schedule()

    def _ws_writable(self) -> None:
        """The WebSocket's ``on_writable``: there may be room for waiting senders, or bytes
        of a gathered write now wait (see ``WebSocket._write``): the session bounds how long
        they may, as after any write."""
        self._wake_senders()
        s = self._session
        ws = self._ws
        if s is None or ws is None or self._finished or ws.stalled_since is None:
            return
        if not s.write_stall_watched:
            s.write_stalled(ws.stalled_since)
            self._schedule()

    def _flush_close(self) -> None:
        """Write the close packet (the session queued it after what was pending)."""
        s = self._session
        assert s is not None
        if s.transport == "websocket" and self._ws is not None:
            frames = s.take_frames(monotonic())
            ws = self._ws
            try:
                ws.send_many(frames)
            except SocketIOError:
                pass
            # the closing handshake owns the socket now (the teardown must not abort it): it
            # writes what is held, then the close frame, and drops the socket after the grace
            self._ws = None
            self._stop_watch()
            ws.on_writable = None
            # what this loop iteration gathered, the close packet last, goes to the kernel
            # now: a program that closes and then exits without yielding still sends it
            ws.flush()
            spawn(ws.close, 1000, "", _CLOSE_GRACE)
        elif s.transport == "polling" and self._opened:
            # a payload holds a bounded number of packets: the close packet may need a few
            bodies = []
            while True:
                body = s.take_payload(monotonic())
                if body is None:
                    break
                bodies.append(body)
            if bodies and self._http is not None:
                http = self._http
                target = self._target("polling")
                self._http = None  # keep the teardown from aborting the close POSTs

                def post_close() -> None:
                    try:
                        for body in bodies:
                            self._post(http, target, body, timeout=5.0)
                    except Exception as exc:  # noqa: BLE001 - closing anyway
                        logger.debug("the close packet was not delivered: %s", type(exc).__name__)
                    finally:
                        http.close()

                spawn(post_close)

    def _post(self, http: HTTPClient, target: str, body: Frame, timeout: float) -> None:
        if isinstance(body, str):
            data = body.encode("utf-8")
            ctype = "text/plain;charset=UTF-8"
        else:
            data = body
            ctype = "application/octet-stream"
        headers = self._headers("polling")
        headers["Content-Type"] = ctype
        resp = http.request("POST", target, headers, data, timeout=timeout)
        if resp.status != 200:
            raise ConnectionError(
                f"POST answered {http_answer(resp.status, resp.body, resp.header('content-type'))}"
            )

    def _post_loop(self) -> None:
        s = self._session
        assert s is not None
        try:
            while not self._finished:
                if not s.polling_active or not s.wants_write:
                    self._poster = None
                    return
                body = s.take_payload(monotonic())
                events = s.next_events()
                self._wake_senders()
                if events:
                    self._process(events)
                if body is None:
                    continue
                self._post(
                    self._http_client(), self._target("polling"), body, self._request_timeout()
                )
        except Exception as exc:  # noqa: BLE001 - reported, never lost with the greenlet
            self._poster = None
            self._fail(exc)
        finally:
            if self._poster is gevent.getcurrent():
                self._poster = None

    # ------------------------------------------------------------------ polling

    def _run_polling(self) -> None:
        s = self._session
        assert s is not None
        try:
            http = self._http_client()
            while not self._finished and s.polling_active:
                resp = http.request(
                    "GET",
                    self._target("polling"),
                    self._headers("polling"),
                    timeout=self._request_timeout(),
                )
                self.reached = True
                if self._finished:
                    return
                if resp.status != 200:
                    if not s.was_opened:
                        err = s.handshake_refused(
                            resp.status, resp.body, resp.header("content-type")
                        )
                        if err is None:
                            continue
                        self._on_closed("transport error", err)
                        return
                    raise ConnectionError(
                        f"GET answered {http_answer(resp.status, resp.body, resp.header('content-type'))}"
                    )
                events = s.receive_payload(resp.body, monotonic())
                self._process(events)
                self._flush(True)
        except SocketIOError as exc:
            self._fail(exc)
        except OSError as exc:
            err = ConnectionError(str(exc))
            err.__cause__ = exc
            self._fail(err)
        except Exception as exc:  # noqa: BLE001 - reported, never lost with the greenlet
            self._fail(exc)

    # ------------------------------------------------------------------ websocket

    def _run_ws(self) -> None:
        s = self._session
        assert s is not None
        while True:
            target = self._target("websocket")
            t0 = monotonic()
            try:
                ws = self._ws_connect(target)
            except ws_mod.HandshakeRefused as exc:
                self.reached = True
                err = s.handshake_refused(exc.status, exc.body, None)
                if err is None:
                    # detection: ask again with EIO=4
                    logger.debug("handshake retried with EIO=4: HTTP %s", exc.status)
                    continue
                self._on_closed("transport error", err)
                return
            except TimeoutError as exc:
                self._on_closed("transport error", exc)
                return
            except SocketIOError as exc:
                if s.detecting:
                    # the EIO=3 attempt failed before any open packet: however the server
                    # refused it (a close before the 101, say), ask again with EIO=4
                    logger.debug("handshake retried with EIO=4: %s", type(exc).__name__)
                    s.transport_error(exc)
                    continue
                self._on_closed("transport error", exc)
                return
            except Exception as exc:  # noqa: BLE001 - reported, never lost with the greenlet
                self._on_closed("transport error", exc)
                return
            # a 2.x server writes its open packet right behind the 101: waiting a few
            # handshake times for it is plenty, and bounds the delay on silent servers
            s.detect_timeout = min(5.0, max(0.5, 4 * (monotonic() - t0)))
            ws.max_buffer = MAX_WRITE_BUFFER
            ws.on_writable = self._ws_writable
            self.reached = True
            self._ws = ws
            try:
                self._process(s.transport_opened(monotonic()))
                self._schedule()
            except Exception as exc:  # noqa: BLE001
                self._fail(exc)
                return
            self._read_as_reader(ws)
            return

    def _retry_ws(self) -> None:
        """HandshakeRetry: drop this WebSocket and connect again (the session now asks EIO=4)."""
        ws = self._ws
        self._ws = None
        self._stop_watch()
        if ws is not None:
            ws.abort()
        if not self._finished:
            self._reader = spawn(self._run_ws)

    def _ws_read(self, ws: ws_mod.WebSocket) -> None:
        """Handle every frame readable now, then wait for more on an I/O watcher.

        No greenlet stays parked on an idle connection: the watcher spawns one when data
        arrives, which reads until the socket would block.
        """
        s = self._session
        assert s is not None
        current = gevent.getcurrent()
        try:
            while not self._finished and self._ws is ws:
                frames = ws.receive_available()
                if frames is None:
                    self._pause_watch()
                    self._process(s.transport_closed())
                    return
                if not frames:
                    self._watch(ws)
                    return
                now = monotonic()
                i = 0
                n = len(frames)
                listener = self.listener
                on_message = listener.on_engine_message
                if n == 1:
                    # one message (a call's ack, mostly): without a run
                    data = s.message_of(frames[0], now)
                    if data is not None:
                        i = 1
                        if self._calling is None:
                            self._calling = current
                            try:
                                on_message(data)
                            except Exception as exc:  # noqa: BLE001 - as in _message
                                self._listener_failed(exc)
                            finally:
                                self._calling = None
                        else:
                            self._message(data)
                        # _read_stops(ws, frames, 1, current), inlined: once per call's ack
                        if self._ws is not ws or self._finished:
                            return
                        reader = self._reader
                        if reader is not None and reader is not current:
                            self._pause_watch()  # handed over, with nothing left to read
                            return
                if i < n:
                    # a listener that takes a run of messages at once saves a call per message
                    messages_of = s.messages_of
                    on_messages = getattr(listener, "on_engine_messages", None)
                while i < n:
                    # the run of messages the frames begin with, without an event each
                    run = messages_of(frames, i, now)
                    if not run:
                        events = s.receive_frame(frames[i], now)
                        i += 1
                        if events:
                            self._process(events)
                        if self._read_stops(ws, frames, i, current):
                            return
                        continue
                    # _message per item, inlined; the run ends where the reading must stop
                    nested = self._calling is not None
                    if not nested:
                        self._calling = current
                    try:
                        first = i
                        m = len(run)
                        k = 0
                        while k < m:
                            if on_messages is not None:
                                try:
                                    k = on_messages(run, k)
                                except Exception as exc:  # noqa: BLE001 - as in _message
                                    k = listener.resume
                                    self._listener_failed(exc)
                            else:
                                try:
                                    on_message(run[k])
                                except Exception as exc:  # noqa: BLE001 - as in _message
                                    self._listener_failed(exc)
                                k += 1
                            i = first + k
                            if self._read_stops(ws, frames, i, current):
                                return
                    finally:
                        if not nested:
                            self._calling = None
                if s.wants_write:
                    self._flush(True)
                if not ws.closed:
                    # the socket was read until it would block; the (level-triggered) watcher
                    # fires at once if more arrived meanwhile
                    watcher = self._watcher
                    if watcher is None or not watcher.active:
                        self._watch(ws)
                    return
        except Exception as exc:  # noqa: BLE001 - reported, never lost with the runner
            if self._ws is ws:
                self._pause_watch()
                self._fail(exc)

    def _read_stops(self, ws: ws_mod.WebSocket, frames: list[Any], i: int, current: Any) -> bool:
        """True when ``_ws_read`` must stop after ``frames[:i]``: the connection changed, or
        the reading was handed over (see hand_over), the rest being that greenlet's to read."""
        if self._ws is not ws or self._finished:
            return True
        reader = self._reader
        if reader is not None and reader is not current:
            self._pause_watch()
            ws.unread(frames[i:])
            return True
        return False

    def _watch(self, ws: ws_mod.WebSocket) -> None:
        watcher = self._watcher
        if watcher is None:
            watcher = self._watcher = gevent.get_hub().loop.io(ws.fileno(), 1)
        watcher.start(self._readable, ws)

    def _pause_watch(self) -> None:
        watcher = self._watcher
        if watcher is not None:
            watcher.stop()

    def _readable(self, ws: ws_mod.WebSocket) -> None:
        # runs in the hub, which must not block.  Once the connection is open, nothing that
        # reading leads to blocks (user handlers go to the dispatcher's runners, an ack wakes
        # its caller, writes never wait in the hub), so the hub reads at once: a hand-off to
        # a runner would cost two greenlet switches and a loop callback per wake-up.  The
        # watcher stays started while the hub reads (stopped and started again per wake-up
        # cost more than the read); it stops when the reading goes to a greenlet.  The one
        # reader that must wait, for handlers to catch up (Socket.max_pending_events), is
        # handed over to a greenlet (hand_over).  While opening, the listener may run the
        # user's code (an auth callable), so a shared runner greenlet reads.
        if self._finished or self._ws is not ws:
            self._pause_watch()
            return
        self._reader = None
        if self.ready_state == "open":
            self._ws_read(ws)
        else:
            self._pause_watch()
            submit_io(self._ws_read, ws)

    def hand_over(self, work: Any) -> None:
        """Called by the listener while it handles what was read: ``work()`` must be able to
        wait.  A greenlet reading runs it at once; the hub (see ``_readable``) stops
        reading, and a greenlet runs ``work()`` then reads the rest."""
        if gevent.getcurrent() is not gevent.get_hub():
            work()
            return
        ws = self._ws
        if ws is None or self._finished:
            return
        self._reader = spawn(self._read_after, ws, work)

    def _read_after(self, ws: ws_mod.WebSocket, work: Any) -> None:
        try:
            work()
        except Exception as exc:  # noqa: BLE001 - reported, never lost with the greenlet
            if self._ws is ws:
                self._fail(exc)
            return
        if self._ws is ws and not self._finished:
            self._read_as_reader(ws)

    def _read_as_reader(self, ws: ws_mod.WebSocket) -> None:
        """``_ws_read`` from the greenlet that is ``_reader``, which ends when it returns: the
        watcher reads from then on.  The finished greenlet is let go at once, not at the next
        read: about five blocks a connection, and after an outage thousands of connections
        open at once while their servers are too busy to write to them."""
        self._ws_read(ws)
        if self._reader is gevent.getcurrent():
            self._reader = None

    def _stop_watch(self) -> None:
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.close()

    # ------------------------------------------------------------------ upgrade

    def _probe(self) -> None:
        try:
            self._run_probe()
        except Exception as exc:  # noqa: BLE001
            # a network failure only ends the probe (polling carries on); anything else is
            # no network condition and must not be lost with the greenlet: the connection
            # fails with it, the user hears it, and reconnection starts over
            self._prober = None
            self._fail(exc)

    def _run_probe(self) -> None:
        s = self._session
        assert s is not None
        global _prior_websocket_success
        _prior_websocket_success = False  # until this probe succeeds
        try:
            ws = self._ws_connect(self._target("websocket"))
        except SocketIOError as exc:
            self._process(s.probe_failed(exc))
            self._prober = None
            return
        if self._finished or not s.can_upgrade:
            ws.abort()
            return
        self._probe_ws = ws
        try:
            ws.send_many(s.start_probe(monotonic()))
            self._schedule()
            while not self._finished:
                frame = ws.receive()
                if frame is None:
                    self._process(s.probe_failed(ConnectionError("probe connection closed")))
                    return
                events = s.receive_probe_frame(frame, monotonic())
                if any(type(e) is S.ProbeSucceeded for e in events):
                    self._process([e for e in events if type(e) is not S.ProbeSucceeded])
                    self._complete_upgrade(ws)
                    return
                self._process(events)
                if not s.upgrading:
                    return
        except SocketIOError as exc:
            self._process(s.probe_failed(exc))

    def _complete_upgrade(self, ws: ws_mod.WebSocket) -> None:
        s = self._session
        assert s is not None
        # polling is paused: let the requests in flight finish (their answers still count)
        pending = [g for g in (self._reader, self._poster) if g is not None and not g.dead]
        if pending:
            gevent.joinall(pending, timeout=_PAUSE_TIMEOUT)
            for g in pending:
                if not g.dead:
                    logger.warning("a polling request outlived the upgrade pause; dropped")
                    g.kill(block=False)
        if self._finished:
            return
        frames = s.finish_upgrade(monotonic())
        events = s.next_events()
        ws.max_buffer = MAX_WRITE_BUFFER
        ws.on_writable = self._ws_writable
        try:
            ws.send_many(frames)
        except SocketIOError as exc:
            self._probe_ws = None
            self._ws = ws
            self._fail(exc)
            return
        self._ws = ws
        self._probe_ws = None
        self.transport = "websocket"
        self._wake_senders()  # the queue held while paused is now the WebSocket's
        if ws.stalled_since is not None:
            s.write_stalled(ws.stalled_since)
            self._schedule()
        global _prior_websocket_success
        _prior_websocket_success = True
        self._process(events)
        http, self._http = self._http, None
        if http is not None:
            http.close()
        self._reader = gevent.getcurrent()
        self._prober = None
        self._read_as_reader(ws)

    def _drop_probe(self) -> None:
        ws, self._probe_ws = self._probe_ws, None
        if ws is not None:
            ws.abort()
        self._prober = None


__all__ = ["Engine"]
