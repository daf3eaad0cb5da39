"""A server that stops reading while the client sends (its buffers fill up): nothing freezes.

The proxy stops reading from the client while a greenlet emits large payloads.  The heartbeat
still gives the dead peer up on schedule, the emit that waits for room returns once it does,
``close()`` returns at once in the middle of it, and the client is back once the proxy reads
again.  See "Back-pressure" in the README.
"""

from __future__ import annotations

import time
from typing import Any

import gevent
import pytest
from fault_util import (  # noqa: F401 - the `proxied` fixture
    BACK,
    DETECT,
    KIND_PARAMS,
    TRANSPORT_PARAMS,
    proxied_fixture,
)
from gevent.event import Event
from integration_util import WAIT, clients_fixture, eventually, expect  # noqa: F401 - `clients`

pytestmark = [
    pytest.mark.parametrize("kind", KIND_PARAMS),
    pytest.mark.parametrize("transports", TRANSPORT_PARAMS),
]

#: one emit's payload: large, yet 16 of them fit in a polling body the server accepts (1 MB)
PAYLOAD = "p" * 32 * 1024
#: an emit that has not returned after this long waits for room (it takes microseconds else)
WAITING = 0.5
#: how long close() and a waiting emit may take to return
PROMPT = 3.0


class Pump:
    """Emits ``PAYLOAD`` in a loop from a greenlet of its own while the socket is connected."""

    def __init__(self, sock: Any) -> None:
        self.sock = sock
        self.count = 0
        self.in_emit_since: float | None = None
        self.done = Event()
        self.greenlet = gevent.spawn(self._run)

    def _run(self) -> None:
        try:
            while self.sock.connected:
                self.in_emit_since = time.monotonic()
                self.sock.emit("load", self.count, PAYLOAD)
                self.in_emit_since = None
                self.count += 1
                if self.count % 16 == 0:
                    gevent.sleep(0)  # let the connection's own greenlets in, as an app would
        finally:
            self.done.set()

    def waiting(self) -> bool:
        since = self.in_emit_since
        return since is not None and time.monotonic() - since > WAITING

    def stop(self) -> None:
        self.greenlet.kill(timeout=WAIT)


def _stall_and_back(env: Any, **options: Any) -> None:
    sock = env.connect(**options)
    assert sock.call("echo", "before", timeout=WAIT) == "before"
    # what Engine.send() answers the socket layer: True once queued, False for the send that
    # waited when the connection was given up
    engine = sock.io.engine
    real_send = engine.send
    answers: list[bool] = []

    def send(messages: Any, compress: bool = True, wait: bool = True) -> bool:
        answer = real_send(messages, compress, wait)
        answers.append(answer)
        return answer

    engine.send = send
    down = expect(sock, "disconnect")
    env.proxy.stop_reading()
    stalled = time.monotonic()
    pump = Pump(sock)
    try:
        # usually an emit waits for room before the heartbeat gives up (on a loaded machine
        # the heartbeat may come first: the emits after it are buffered, none waits)
        eventually(lambda: pump.waiting() or down.ready(), what="an emit waiting for room")
        waited = pump.waiting()
        reason = down.get(timeout=DETECT)[0]
        # the client's heartbeat (or the write bound, or the server's own heartbeat, whose
        # close passes the other way) gave the peer up on schedule
        assert reason in ("ping timeout", "transport error", "transport close"), reason
        assert time.monotonic() - stalled < DETECT
        # the emit that waited for room returned when the connection was given up
        assert pump.done.wait(PROMPT)
        assert pump.count > 0
        if waited:
            assert answers[-1] is False and all(answers[:-1]), answers
    finally:
        pump.stop()
    back = expect(sock, "connect")
    env.proxy.passthrough()
    back.get(timeout=BACK)
    assert sock.call("echo", "after", timeout=WAIT) == "after"


def test_stalled_peer_is_given_up_and_the_client_comes_back(
    proxied: Any, kind: str, transports: list[str]
) -> None:
    _stall_and_back(proxied(kind, transports))


def test_stalled_peer_over_tls(proxied: Any, tls_files: Any, kind: str, transports: list[str]):
    """TLS writes cannot be split like plain ones (a write that would block is retried with
    the same bytes): the same holds over HTTPS and WSS."""
    env = proxied(kind, transports, **tls_files.server_config())
    assert env.proxy.url.startswith("https://")
    _stall_and_back(env, verify=tls_files.ca_cert)


@pytest.mark.parametrize("closing", ["socket", "manager"])
def test_close_returns_while_an_emit_waits(
    proxied: Any, kind: str, transports: list[str], closing: str
) -> None:
    # a long heartbeat: the peer is not given up during the test, only close() ends it
    env = proxied(kind, transports, pingInterval=5000, pingTimeout=10000)
    sock = env.connect()
    assert sock.call("echo", "before", timeout=WAIT) == "before"
    env.proxy.stop_reading()
    pump = Pump(sock)
    try:
        eventually(pump.waiting, what="an emit waiting for room")
        started = time.monotonic()
        if closing == "socket":
            sock.close()
        else:
            sock.io.close()
        assert time.monotonic() - started < PROMPT
        assert not sock.connected
        # the emit that waited returned too
        assert pump.done.wait(PROMPT)
        # and the manager lets go of everything
        sock.io.close()
        assert time.monotonic() - started < PROMPT
    finally:
        pump.stop()


def test_emit_that_waited_for_room_is_sent_after_the_reconnect(
    proxied: Any, kind: str, transports: list[str]
) -> None:
    """The engine never took the packet of an emit that waited for room when the connection
    was given up: it goes out on the next connection, and its ack comes."""
    env = proxied(kind, transports)
    sock = env.connect()
    assert sock.call("echo", "before", timeout=WAIT) == "before"
    acked: dict[int, Event] = {}
    waiting_index: list[int] = []
    down = expect(sock, "disconnect")
    env.proxy.stop_reading()

    def pump() -> None:
        i = 0
        while sock.connected:
            acked[i] = done = Event()
            started = time.monotonic()
            sock.emit("echo", i, PAYLOAD, lambda *args, done=done: done.set())
            if time.monotonic() - started > WAITING:
                waiting_index.append(i)
            i += 1
            if i % 16 == 0:
                gevent.sleep(0)

    pumper = gevent.spawn(pump)
    try:
        down.get(timeout=DETECT)
        assert pumper.join(PROMPT) is not None or pumper.dead
    finally:
        pumper.kill(timeout=WAIT)
    back = expect(sock, "connect")
    env.proxy.passthrough()
    back.get(timeout=BACK)
    assert sock.call("echo", "after", timeout=WAIT) == "after"
    if not waiting_index:
        pytest.skip("the heartbeat gave the peer up before an emit had to wait for room")
    # its ack arrives: the packet was sent on the new connection (before the `after` call)
    assert acked[waiting_index[0]].wait(WAIT)
