"""Every buffer of the socket layer is bounded, and behaves as README's "Buffers and their
bounds" says when it is full.

- the offline send buffer: ``max_buffered_emits``; an emit beyond it raises
  ``BufferFullError`` and what was buffered is delivered once, in order;
- ack callbacks without a timeout: ``Socket.max_pending_acks``; the oldest are given up;
- events waiting for their handlers: ``Socket.max_pending_events``; handlers that block pause
  the connection's reading, and past the heartbeat the connection is given up and comes back;
- events that arrive before ``connect``: bounded by the same number, and dropped with their
  connection, so that none (nor its dead ack) is delivered after the next connect.

Node socket.io 2.x and 4.x, polling and WebSocket. The namespace `/early` of the Node test
server emits events before it lets a socket join (tests/node/README.md).
"""

from __future__ import annotations

import logging
import math
from typing import Any

import fault_util
import gevent
import gevent.event
import pytest
from fault_util import mode_fixture, server_fixture  # noqa: F401 - `mode`, `server`
from integration_util import (
    WAIT,
    Clients,
    Collector,
    clients_fixture,  # noqa: F401 - the `clients` fixture
    collect,
    eventually,
    expect,
    nothing_happens,
)
from servers import ServerProcess

import sioclient

KINDS = fault_util.KIND_PARAMS
PING_INTERVAL, PING_TIMEOUT = 0.3, 0.4


def received(sock: sioclient.Socket) -> list[Any]:
    return sock.call("get-received", timeout=WAIT)


def handshake(sock: sioclient.Socket, **values: Any) -> None:
    """What `/early` reads: the auth payload (revision 5) and the namespace query (both)."""
    sock.auth = dict(values)
    sock.query = {k: str(v) for k, v in values.items()}


# ---- the offline send buffer ---------------------------------------------------------------


def test_option_max_buffered_emits() -> None:
    def make(*args: Any, **kwargs: Any) -> sioclient.Manager:
        return sioclient.Manager("http://127.0.0.1:1", *args, auto_connect=False, **kwargs)

    assert make().opts["max_buffered_emits"] == 5000
    assert make(max_buffered_emits=0).opts["max_buffered_emits"] == 0
    assert make(max_buffered_emits=None).opts["max_buffered_emits"] == math.inf
    assert make({"max_buffered_emits": 7}).opts["max_buffered_emits"] == 7
    for bad in (-1, 1.5, "10", True):
        with pytest.raises(ValueError, match="max_buffered_emits"):
            make(max_buffered_emits=bad)


def test_send_buffer_bound(server: ServerProcess, mode: dict, clients: Clients) -> None:
    sock = clients.io(server.url, auto_connect=False, max_buffered_emits=4, **mode)
    acks: list[Any] = []
    sock.emit("ack", 0, lambda *a: acks.append(a))
    sock.emit("echo", 1)
    sock.timeout(WAIT).emit("ack", 2, lambda err, *a: acks.append((err, *a)))
    sock.emit("echo", 3)
    for attempt in (
        lambda: sock.emit("echo", "over"),
        lambda: sock.emit("ack", "over", lambda *a: acks.append(a)),
        lambda: sock.timeout(WAIT).emit("ack", "over", lambda *a: acks.append(a)),
        lambda: sock.call("ack", "over", timeout=WAIT),
    ):
        with gevent.Timeout(2.0, AssertionError("blocked")):
            with pytest.raises(sioclient.BufferFullError, match="max_buffered_emits"):
                attempt()
    sock.volatile.emit("echo", "volatile")  # dropped, not refused
    connected = expect(sock, "connect")
    sock.open()
    connected.get(timeout=WAIT)
    assert received(sock) == [["ack", [0]], ["echo", [1]], ["ack", [2]], ["echo", [3]]]
    assert sorted(acks, key=str) == sorted([(0,), (None, 2)], key=str)
    for i in range(10):  # connected: the bound does not apply
        sock.emit("echo", i)
    assert len(received(sock)) == 14


def test_send_buffer_bound_while_reconnecting(
    server: ServerProcess, mode: dict, clients: Clients
) -> None:
    sock = clients.connect(server.url, max_buffered_emits=3, reconnection_delay=0.3, **mode)
    gone = expect(sock, "disconnect")
    sock.io.engine.close()
    gone.get(timeout=WAIT)
    for i in range(3):
        sock.emit("echo", i)
    with pytest.raises(sioclient.BufferFullError):
        sock.emit("echo", 3)
    expect(sock, "connect").get(timeout=WAIT)
    assert received(sock) == [["echo", [0]], ["echo", [1]], ["echo", [2]]]


def test_send_buffer_zero_and_default(server: ServerProcess, clients: Clients) -> None:
    none = clients.io(server.url, auto_connect=False, max_buffered_emits=0)
    with pytest.raises(sioclient.BufferFullError):
        none.emit("echo", 1)
    default = clients.io(server.url, auto_connect=False)
    for i in range(5000):
        default.emit("noop", i)
    with pytest.raises(sioclient.BufferFullError):
        default.emit("noop", 5000)


# ---- ack callbacks without a timeout --------------------------------------------------------


def test_pending_acks_bound(
    server: ServerProcess, mode: dict, clients: Clients, caplog: pytest.LogCaptureFixture
) -> None:
    sock = clients.connect(server.url, **mode)
    sock.max_pending_acks = 5
    called: list[int] = []
    with caplog.at_level(logging.WARNING, logger="sioclient"):
        # written one after the other before any answer is read: 8 wait at once
        for i in range(8):
            sock.emit("ack", i, lambda n: called.append(n))
    assert any("max_pending_acks" in r.getMessage() for r in caplog.records)
    # acks come in order on one connection: after this one, every earlier one was handled
    assert sock.call("ack", "barrier", timeout=WAIT) == "barrier"
    eventually(lambda: len(called) >= 5, what="the newest five callbacks")
    assert sorted(called) == [3, 4, 5, 6, 7]  # the three oldest were given up
    # calls and timeout() callbacks are never given up
    results = [gevent.spawn(sock.call, "ack", i, timeout=WAIT) for i in range(8)]
    assert [g.get(timeout=WAIT) for g in results] == list(range(8))


def test_unanswered_plain_acks_stay_bounded(
    server: ServerProcess, mode: dict, clients: Clients
) -> None:
    """The server never acks `noop`: the callbacks would pile up for the connection's life."""
    sock = clients.connect(server.url, **mode)
    sock.max_pending_acks = 50
    for i in range(500):
        sock.emit("noop", i, lambda *a: None)
    assert sock.call("count", timeout=WAIT) == 1
    assert len(sock._acks) <= 50


# ---- events waiting for their handlers ------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_blocked_handlers_pause_the_connection(
    sio_server, kind: str, mode: dict, clients: Clients
) -> None:
    srv = sio_server(kind)  # the default heartbeat: the pause below stays far from it
    sock = clients.connect(srv.url, **mode)
    sock.max_pending_events = 10
    gate = gevent.event.Event()
    started = Collector()
    done = expect(sock, "flood-done")

    @sock.on("flood")
    def handler(i: int, payload: str) -> None:
        started(i)
        gate.wait()

    sock.emit("flood", 40, "x")
    started.wait(10)
    # at the bound the connection stops reading: no more handlers start while these block
    assert nothing_happens(done, 0.3)
    assert len(started) <= 10
    gate.set()
    assert done.get(timeout=WAIT) == (40,)
    assert [c[0] for c in started.wait(40)] == list(range(40))
    assert sock.connected and sock.call("ack", 1, timeout=WAIT) == 1


@pytest.mark.parametrize("kind", KINDS)
def test_handlers_blocked_past_the_heartbeat(
    sio_server, kind: str, mode: dict, clients: Clients
) -> None:
    """Handlers that stay blocked keep the connection paused; the heartbeat gives it up and
    the socket reconnects on a fresh connection, whose events are delivered again."""
    srv = sio_server(
        kind, pingInterval=int(PING_INTERVAL * 1000), pingTimeout=int(PING_TIMEOUT * 1000)
    )
    sock = clients.connect(srv.url, reconnection_delay=0.05, **mode)
    sock.max_pending_events = 4
    gate = gevent.event.Event()
    gone = expect(sock, "disconnect")

    @sock.on("flood")
    def handler(i: int, payload: str) -> None:
        gate.wait()

    sock.emit("flood", 20, "x")
    bound = PING_INTERVAL + PING_TIMEOUT + WAIT  # generous slack for a loaded machine
    (reason,) = gone.get(timeout=bound)
    assert reason == "ping timeout"
    expect(sock, "connect").get(timeout=WAIT)
    gate.set()
    assert sock.call("ack", "back", timeout=WAIT) == "back"


# ---- events that arrive before `connect` ---------------------------------------------------


def test_early_events_bounded(
    server: ServerProcess, mode: dict, clients: Clients, caplog: pytest.LogCaptureFixture
) -> None:
    root = clients.connect(server.url, **mode)
    sock = root.io.socket("/early")
    sock.max_pending_events = 5
    handshake(sock, early=20, accept=1)
    early = collect(sock, "early")
    with caplog.at_level(logging.WARNING, logger="sioclient"):
        connected = expect(sock, "connect")
        sock.connect()
        connected.get(timeout=WAIT)
        assert sock.call("ack", "barrier", timeout=WAIT) == "barrier"
    # they came before `connect`, so before the barrier's answer: all are handled by now
    assert [c[0] for c in early.wait(5)] == [0, 1, 2, 3, 4]
    assert len(early) == 5
    assert any("max_pending_events" in r.getMessage() for r in caplog.records)


def test_early_events_dropped_with_their_connection(
    server: ServerProcess, mode: dict, clients: Clients
) -> None:
    root = clients.connect(server.url, reconnection_delay=0.05, **mode)
    sock = root.io.socket("/early")
    handshake(sock, early=3)  # not accepted: the events stay waiting for a `connect`
    early = collect(sock, "early")
    sock.connect()
    eventually(lambda: len(sock._receive_buffer) == 3, what="three early events")
    handshake(sock, accept=1)
    back = expect(sock, "connect")
    root.io.engine.close()
    back.get(timeout=WAIT)
    assert sock.call("ack", "barrier", timeout=WAIT) == "barrier"
    assert not early.calls  # nothing from the dead connection, and no dead ack callable
    assert root.connected and root.call("count", timeout=WAIT) == 1
