"""Helpers for the integration tests: bounded waits on client events, and a tracker that closes
every client a test made.

Every wait here is bounded; synchronisation is by gevent ``AsyncResult``/``Event`` set from the
client's own callbacks, never by sleeping.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Iterator

import gevent
import pytest
from gevent.event import AsyncResult, Event

import sioclient

#: the bound of every wait for something that should happen promptly on loopback
WAIT = 10.0

#: transport modes: the name used in test ids -> the client's ``transports``/``upgrade`` options
MODES: dict[str, dict[str, Any]] = {
    "polling": {"transports": ["polling"]},
    "websocket": {"transports": ["websocket"]},
    "upgrade": {"transports": ["polling", "websocket"], "upgrade": True},
}


def expected_protocol(kind: str, mode: str) -> int:
    """The revision the client should detect for a server kind and a transport mode."""
    if kind == "node2":
        return 4
    if kind == "node4-eio3" and mode == "websocket":
        return 4  # the websocket-only handshake asks for EIO=3 first, which this server accepts
    return 5


def background(func: Callable[..., Any], *args: Any, **kwargs: Any) -> AsyncResult:
    """Runs ``func`` in a greenlet; the AsyncResult gets its return value or its exception.

    For a call a test expects to fail: ``background(sock.call, 'x').get(timeout=WAIT)`` raises
    what the call raised.  A plain ``gevent.spawn`` would also hand that exception to the hub,
    which the ``no_hub_errors`` fixture counts as a greenlet dying unnoticed.
    """
    result: AsyncResult = AsyncResult()

    def run() -> None:
        try:
            result.set(func(*args, **kwargs))
        except Exception as exc:  # noqa: BLE001 - handed to whoever reads the result
            result.set_exception(exc)

    gevent.spawn(run)
    return result


def expect(emitter: Any, event: str) -> AsyncResult:
    """An AsyncResult that gets the arguments (a tuple) of the next ``event``."""
    result: AsyncResult = AsyncResult()

    def listener(*args: Any) -> None:
        if not result.ready():
            result.set(args)

    emitter.once(event, listener)
    return result


class Collector:
    """Records each call of an event (or catch-all) listener; ``wait(n)`` for n calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self._changed = Event()

    def __call__(self, *args: Any) -> None:
        self.calls.append(args)
        self._changed.set()

    def wait(self, n: int, timeout: float = WAIT) -> list[tuple[Any, ...]]:
        deadline = time.monotonic() + timeout
        while len(self.calls) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{len(self.calls)} calls, expected {n}: {self.calls!r}")
            self._changed.clear()
            if len(self.calls) < n:
                self._changed.wait(left)
        return self.calls

    def __len__(self) -> int:
        return len(self.calls)


def collect(emitter: Any, event: str) -> Collector:
    c = Collector()
    emitter.on(event, c)
    return c


def eventually(predicate: Callable[[], bool], timeout: float = WAIT, what: str = "") -> None:
    """Waits for a state that no event announces (the transport after an upgrade)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        gevent.sleep(0.01)  # re-check a condition; the deadline bounds it


def nothing_happens(result: AsyncResult | Event, seconds: float) -> bool:
    """True when ``result`` stays unset for ``seconds`` (checks an absence; bounded)."""
    if isinstance(result, AsyncResult):
        try:
            result.get(timeout=seconds)
        except gevent.Timeout:
            return True
        return False
    return not result.wait(seconds)


class Clients:
    """Makes clients and closes all of them at teardown."""

    def __init__(self) -> None:
        self.managers: list[sioclient.Manager] = []

    def io(self, url: str, options: dict | None = None, **kwargs: Any) -> sioclient.Socket:
        kwargs.setdefault("force_new", True)
        sock = sioclient.io(url, options, **kwargs)
        self.managers.append(sock.io)
        return sock

    def manager(self, url: str, options: dict | None = None, **kwargs: Any) -> sioclient.Manager:
        m = sioclient.Manager(url, options, **kwargs)
        self.managers.append(m)
        return m

    def connect(
        self, url: str, options: dict | None = None, timeout: float = WAIT, **kwargs: Any
    ) -> sioclient.Socket:
        """A socket that is connected (waits for ``connect``, bounded)."""
        kwargs.setdefault("auto_connect", False)
        sock = self.io(url, options, **kwargs)
        connected = expect(sock, "connect")
        sock.open()
        connected.get(timeout=timeout)
        assert sock.connected
        return sock

    def close(self) -> None:
        for m in self.managers:
            try:
                m.close()
            except Exception:  # noqa: BLE001 - teardown goes on
                pass


@pytest.fixture(name="clients")
def clients_fixture() -> Iterator[Clients]:
    """A ``Clients`` whose managers are all closed at teardown (import it into a test module)."""
    c = Clients()
    try:
        yield c
    finally:
        c.close()
