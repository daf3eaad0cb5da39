"""A Locust ``User`` that speaks Socket.IO through sioclient.

Locust runs every simulated user on a gevent greenlet, as sioclient does, so one Locust worker
process holds thousands of Socket.IO connections.  ``SocketIOUser.client`` reports to Locust's
``request`` event, so the statistics, the web UI and distributed runs work as for ``HttpUser``:

- ``connect``: the time from opening the connection to the namespace's ``connect`` (a refusal or
  a timeout is a failure);
- ``reconnect``: the time from an unexpected ``disconnect`` to the next ``connect``;
- ``client.call(event, ...)``: the time from the emit to the server's ack (a timeout or a
  disconnection is a failure); the response length is the ack's size as JSON;
- ``client.emit(event, ...)``: the time to hand the packet to the transport (no ack is awaited);
- ``client.expect(event, timeout)``: the time from the client's last ``emit``/``call`` to the
  next server event of that name (for servers that answer with an event rather than an ack; a
  timeout is a failure);
- ``disconnect``: counted (response time 0); a failure when the client did not ask for it (the
  reason is the error);
- every server event received, counted per name under the request type ``recv`` (response
  time 0, response length its arguments' JSON size): Locust's requests/s of that row is the
  rate the server pushes at.  ``count_received = False`` on the user class turns it off.  (Both
  0 ms rows weigh in Locust's "Aggregated" row: read the rows by name.)

A failed ``call`` is recorded, then ends the task quietly (``locust.exception.RescheduleTask``),
as a failed request of ``HttpUser`` does not raise; set ``reschedule_on_failure = False`` on the
user class to receive the sioclient exception instead.

Usage (``locust -f locustfile.py --host http://localhost:3000``)::

    from locust import between, task
    from sioclient.contrib.locust import SocketIOUser

    class ChatUser(SocketIOUser):
        wait_time = between(0.5, 1.5)
        options = {"transports": ["websocket"]}

        @task
        def echo(self):
            self.client.call("echo", {"text": "hello"})
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any, Callable, TypeVar, overload

from gevent.event import Event
from locust import User
from locust.exception import RescheduleTask

import sioclient
from sioclient.core import jsoncodec

F = TypeVar("F", bound=Callable[..., Any])

_perf = time.perf_counter
_time = time.time

__all__ = ["SocketIOClient", "SocketIOUser"]


_fast_dumps = jsoncodec.orjson_dumps
_FAST_OPTIONS = jsoncodec.ORJSON_OPTIONS


def _size(value: Any) -> int:
    """The ack's size as the server wrote it, roughly: its JSON length (bytes counted as is)."""
    if value is None:
        return 0
    if isinstance(value, (bytes, bytearray, memoryview)):
        return len(value)
    if isinstance(value, str):
        return len(value.encode())
    if _fast_dumps is not None:
        # on every ack: orjson's UTF-8 length, without the JavaScript number spelling
        try:
            return len(_fast_dumps(value, option=_FAST_OPTIONS))
        except TypeError:
            pass  # big integers, bytes inside: the exact path decides
    try:
        return len(jsoncodec.dumps(value))
    except (TypeError, ValueError):
        return 0  # holds bytes: not worth a walk over the structure on every ack


class SocketIOClient:
    """One Socket.IO connection whose operations are reported to a Locust ``request`` event.

    ``url`` is what ``sioclient.io()`` takes (its path is the namespace, its query is sent);
    ``options`` and ``kwargs`` are sioclient options (a JavaScript-style dict and Python keyword
    arguments).  Every client has its own connection (``force_new``), as separate browsers do.
    """

    def __init__(
        self,
        request_event: Any,
        url: str,
        options: Mapping[str, Any] | None = None,
        *,
        request_type: str = "socketio",
        received_type: str | None = "recv",
        reschedule_on_failure: bool = True,
        **kwargs: Any,
    ) -> None:
        self.request_event = request_event
        self.request_type = request_type
        #: request type under which received server events are counted (None: not counted)
        self.received_type = received_type
        self.reschedule_on_failure = reschedule_on_failure
        kwargs["force_new"] = True
        kwargs["auto_connect"] = False
        self.socket: sioclient.Socket = sioclient.io(url, options, **kwargs)
        self._settled = Event()
        self._failed: BaseException | None = None
        self._lost_at: float | None = None  # perf_counter of an unexpected disconnect
        self._up_at: float | None = None  # perf_counter of the last connect
        # expect(): the perf_counter of the last emit, and the server events since (bounded)
        self._emitted_at: float | None = None
        self._inbox: deque[tuple[float, str, tuple[Any, ...]]] = deque(maxlen=256)
        self._arrived = Event()
        self.socket.on("connect", self._on_connect)
        self.socket.on("connect_error", self._on_connect_error)
        self.socket.on("disconnect", self._on_disconnect)
        self.socket.on_any(self._on_any)

    # ---- reporting --------------------------------------------------------------------------

    def _fire(
        self,
        name: str,
        start: float,
        start_time: float,
        length: int = 0,
        exception: BaseException | None = None,
    ) -> None:
        self.request_event.fire(
            request_type=self.request_type,
            name=name,
            start_time=start_time,
            response_time=(time.perf_counter() - start) * 1000.0,
            response_length=length,
            response=None,
            context={},
            exception=exception,
        )

    def _on_any(self, event: str, *args: Any) -> None:
        now = time.perf_counter()
        if self._emitted_at is not None:
            self._inbox.append((now, event, args))
            self._arrived.set()
        if self.received_type is not None:
            self.request_event.fire(
                request_type=self.received_type,
                name=event,
                start_time=time.time(),
                response_time=0,
                response_length=_size(args[0] if len(args) == 1 else list(args)) if args else 0,
                response=None,
                context={},
                exception=None,
            )

    def _on_connect(self) -> None:
        self._settled.set()
        self._up_at = time.perf_counter()
        lost_at, self._lost_at = self._lost_at, None
        if lost_at is not None:
            self._fire("reconnect", lost_at, time.time() - (time.perf_counter() - lost_at))

    def _on_connect_error(self, err: BaseException) -> None:
        self._failed = err
        self._settled.set()  # wakes connect(), which then looks at `connected`

    def _on_disconnect(self, reason: str) -> None:
        self._settled.clear()
        up_at, self._up_at = self._up_at, None
        error: BaseException | None = None
        if reason != "io client disconnect" and reason != "forced close":
            self._lost_at = time.perf_counter()
            error = sioclient.DisconnectedError(reason)
        if up_at is not None:
            # counted, with 0 ms: connection lifetimes would swamp the aggregated percentiles
            now = time.perf_counter()
            self._fire("disconnect", now, time.time(), 0, error)

    def _failure(self, err: BaseException) -> BaseException:
        if self.reschedule_on_failure:
            task_ended: BaseException = RescheduleTask(str(err))
            task_ended.__cause__ = err
            return task_ended
        return err

    # ---- the API tasks use ---------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self.socket.connected

    def connect(self, timeout: float = 20.0, *, raise_on_failure: bool = True) -> sioclient.Socket:
        """Opens the connection and waits (at most ``timeout`` s) for the namespace to connect.

        Reported as ``connect``.  On failure the manager keeps reconnecting in the background
        (unless ``reconnection=False``); with ``raise_on_failure`` the error is raised too.
        """
        start, start_time = time.perf_counter(), time.time()
        self._failed = None
        self._settled.clear()
        self.socket.open()
        error: BaseException | None = None
        if not self._settled.wait(timeout) and not self.socket.connected:
            error = sioclient.TimeoutError(f"not connected after {timeout} s")
        elif not self.socket.connected:
            error = self._failed or sioclient.ConnectionError("connection failed")
        self._fire("connect", start, start_time, exception=error)
        if error is not None and raise_on_failure:
            raise self._failure(error)
        return self.socket

    def emit(self, event: str, *args: Any, name: str | None = None) -> None:
        """Emits without waiting for an ack; reported under ``name`` (default: the event)."""
        start, start_time = time.perf_counter(), time.time()
        self._sent(start)
        try:
            self.socket.emit(event, *args)
        except Exception as exc:
            self._fire(name or event, start, start_time, exception=exc)
            raise
        self._fire(name or event, start, start_time)

    def call(
        self, event: str, *args: Any, timeout: float | None = 30.0, name: str | None = None
    ) -> Any:
        """Emits and waits for the ack (``Socket.call``); reported under ``name`` (the event)."""
        start_time = _time()
        start = self._emitted_at = _perf()
        # as _sent(), inlined: this runs once per request of every user
        if self._inbox:
            self._inbox.clear()
        self._arrived.clear()
        try:
            result = self.socket.call(event, *args, timeout=timeout)
        except sioclient.SocketIOError as exc:
            self._fire(name or event, start, start_time, exception=exc)
            raise self._failure(exc) from exc
        response_time = (_perf() - start) * 1000.0
        # _size(), inlined for the common answer (an object): one call less per request
        if type(result) is dict and _fast_dumps is not None:
            try:
                length = len(_fast_dumps(result, option=_FAST_OPTIONS))
            except TypeError:
                length = _size(result)
        else:
            length = _size(result)
        self.request_event.fire(
            request_type=self.request_type,
            name=name or event,
            start_time=start_time,
            response_time=response_time,
            response_length=length,
            response=None,
            context={},
            exception=None,
        )
        return result

    def _sent(self, at: float) -> None:
        # the events before an emit cannot answer it
        self._emitted_at = at
        self._inbox.clear()
        self._arrived.clear()

    def expect(
        self,
        event: str,
        timeout: float = 30.0,
        *,
        name: str | None = None,
        match: Callable[..., bool] | None = None,
    ) -> Any:
        """Waits (at most ``timeout`` s) for the server event ``event`` that follows this
        client's last ``emit()`` or ``call()``, and returns its argument (a tuple when there are
        several, None when none).

        Reported under ``name`` (default: the event) as the time from that emit to the event's
        arrival; ``match(*args)`` picks among several events of that name.  A timeout is a
        failure (``sioclient.TimeoutError``).  An event that arrived between the emit and this
        call counts: it is looked for first.
        """
        sent = self._emitted_at
        if sent is None:
            raise RuntimeError("expect() answers an emit: emit() or call() first")
        start_time = time.time() - (time.perf_counter() - sent)
        deadline = time.perf_counter() + timeout
        inbox = self._inbox
        while True:
            while inbox:
                at, got, args = inbox.popleft()
                if got == event and (match is None or match(*args)):
                    value = args[0] if len(args) == 1 else (args or None)
                    self.request_event.fire(
                        request_type=self.request_type,
                        name=name or event,
                        start_time=start_time,
                        response_time=(at - sent) * 1000.0,
                        response_length=_size(value),
                        response=None,
                        context={},
                        exception=None,
                    )
                    return value
            self._arrived.clear()
            left = deadline - time.perf_counter()
            if left <= 0 or not self._arrived.wait(left):
                if inbox:
                    continue
                err = sioclient.TimeoutError(f"no {event!r} event within {timeout} s")
                self._fire(name or event, sent, start_time, exception=err)
                raise self._failure(err)

    @overload
    def on(self, event: str) -> Callable[[F], F]: ...

    @overload
    def on(self, event: str, callback: Callable[..., Any]) -> sioclient.Socket: ...

    def on(
        self, event: str, callback: Callable[..., Any] | None = None
    ) -> sioclient.Socket | Callable[[F], F]:
        """``Socket.on``: handlers of server events (not reported; time them as you need)."""
        if callback is None:
            return self.socket.on(event)
        return self.socket.on(event, callback)

    def close(self) -> None:
        """Leaves the namespace and closes the connection."""
        self.socket.close()


# locust is not analysed (see pyproject.toml), so its User is Any to the checker
class SocketIOUser(User):  # type: ignore[misc]
    """A Locust user with a Socket.IO connection in ``self.client``.

    ``host`` (``--host``) is the server URL; its path picks the namespace, as with
    ``sioclient.io()``.  Class attributes: ``options`` (sioclient options, Python names),
    ``connect_timeout`` (seconds), ``reschedule_on_failure``.  ``on_start`` connects and
    ``on_stop`` closes; a subclass that overrides them calls ``super()``.  A failed first connect
    is recorded and the user carries on: the manager keeps reconnecting, and calls made
    meanwhile are buffered until the connection comes, or time out.
    """

    abstract = True
    options: dict[str, Any] = {}
    connect_timeout: float = 20.0
    reschedule_on_failure: bool = True
    count_received: bool = True
    local_addresses: Sequence[str] = ()
    _next_address = 0  # per process: the users of every class share one rotation

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        if not self.host:
            raise ValueError("SocketIOUser needs a host: --host, or a `host` class attribute")
        options = dict(self.options)
        addresses = self.local_addresses
        if addresses:
            # one source address holds about 28,000 connections to one server (its ephemeral
            # ports): each user takes the next address in turn
            i = SocketIOUser._next_address
            SocketIOUser._next_address = i + 1
            options["local_address"] = addresses[i % len(addresses)]
        self.client = SocketIOClient(
            environment.events.request,
            self.host,
            reschedule_on_failure=self.reschedule_on_failure,
            received_type="recv" if self.count_received else None,
            **options,
        )

    def on_start(self) -> None:
        self.client.connect(self.connect_timeout, raise_on_failure=False)

    def on_stop(self) -> None:
        self.client.close()
