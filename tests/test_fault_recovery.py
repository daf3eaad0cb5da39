"""Connection state recovery (socket.io >= 4.6 with ``connectionStateRecovery``): the transport
is cut while the server emits; the client comes back with the same session and gets the events
of the gap once each, in order.  A restarted server (nothing to recover) and servers without
recovery (socket.io 2.x, 4.x without the option) give ``recovered`` False."""

from __future__ import annotations

from typing import Any

import pytest
from fault_util import (  # noqa: F401 - the `proxied` fixture
    BACK,
    DETECT,
    KIND_PARAMS,
    TRANSPORT_PARAMS,
    proxied_fixture,
)
from integration_util import WAIT, Collector, clients_fixture, eventually, expect  # noqa: F401

pytestmark = pytest.mark.parametrize("transports", TRANSPORT_PARAMS)

#: ticks the server emits, one every EVERY ms; the cut comes after CUT_AT of them
COUNT = 40
EVERY = 20
CUT_AT = 5


def _cut(env: Any, sock: Any) -> None:
    """Resets the connection and the attempts that follow until the server has dropped the
    socket (a session is kept for recovery only then: over polling the server notices by its
    heartbeat), then lets the client reconnect."""
    observer = env.clients.connect(env.server.url, transports=["websocket"])
    down, back = expect(sock, "disconnect"), expect(sock, "connect")
    env.proxy.reset()
    down.get(timeout=DETECT)
    eventually(lambda: observer.call("count", timeout=WAIT) == 1, timeout=DETECT)
    observer.close()
    env.proxy.passthrough()
    back.get(timeout=BACK)


def _ticks(sock: Any) -> Collector:
    ticks = Collector()
    sock.on("tick", ticks)
    return ticks


@pytest.mark.node
def test_cut_while_the_server_emits_is_recovered(proxied: Any, transports: list[str]) -> None:
    env = proxied("node4", transports, recovery=True)
    sock = env.connect()
    assert not sock.recovered
    first_id = sock.id
    # the offset the server appends is taken off; the event's own last string stays
    echoed = expect(sock, "echo")
    sock.emit("echo", 1, "last")
    assert echoed.get(timeout=WAIT) == (1, "last")
    ticks = _ticks(sock)
    sock.call("stream", COUNT, EVERY, timeout=WAIT)
    ticks.wait(CUT_AT, timeout=WAIT)
    _cut(env, sock)
    assert sock.recovered
    assert sock.id == first_id
    ticks.wait(COUNT, timeout=WAIT)
    # nothing more arrives after a round trip: each tick once, in order, the offset taken off
    assert sock.call("ack", "sync", timeout=WAIT) == "sync"
    assert ticks.calls == [(i,) for i in range(COUNT)]


@pytest.mark.node
def test_two_cuts_in_a_row_are_recovered(proxied: Any, transports: list[str]) -> None:
    env = proxied("node4", transports, recovery=True)
    sock = env.connect()
    first_id = sock.id
    ticks = _ticks(sock)
    sock.call("stream", COUNT, EVERY, timeout=WAIT)
    for cut in (CUT_AT, 2 * CUT_AT + len(ticks)):
        ticks.wait(min(cut, COUNT - 1), timeout=WAIT)
        _cut(env, sock)
        assert sock.recovered and sock.id == first_id
    ticks.wait(COUNT, timeout=WAIT)
    assert sock.call("ack", "sync", timeout=WAIT) == "sync"
    assert ticks.calls == [(i,) for i in range(COUNT)]


@pytest.mark.node
def test_restarted_server_is_not_recovered(proxied: Any, transports: list[str]) -> None:
    env = proxied("node4", transports, recovery=True)
    sock = env.connect()
    first_id = sock.id
    assert sock.call("emit-back", "tick", 0, timeout=WAIT) is None  # an offset to send back
    down, back = expect(sock, "disconnect"), expect(sock, "connect")
    env.server.restart()
    down.get(timeout=DETECT)
    back.get(timeout=BACK)
    assert not sock.recovered
    assert sock.id != first_id
    # the new session recovers in turn
    ticks = _ticks(sock)
    second_id = sock.id
    sock.call("stream", 3, EVERY, timeout=WAIT)
    ticks.wait(3, timeout=WAIT)
    _cut(env, sock)
    assert sock.recovered and sock.id == second_id
    assert ticks.calls == [(0,), (1,), (2,)]


@pytest.mark.parametrize("kind", KIND_PARAMS)
def test_nothing_changes_without_recovery(proxied: Any, kind: str, transports: list[str]) -> None:
    """socket.io 2.x (where the option does not exist) and 4.x without it: the events keep
    their last argument, ``recovered`` stays False, and the gap's events are lost."""
    config = {"recovery": True} if kind == "node2" else {}  # 2.x ignores it
    env = proxied(kind, transports, **config)
    sock = env.connect()
    first_id = sock.id
    echoed = expect(sock, "echo")
    sock.emit("echo", 1, "last")
    assert echoed.get(timeout=WAIT) == (1, "last")
    _cut(env, sock)
    assert not sock.recovered
    assert sock.id != first_id
    assert sock.call("echo", "a", "b", timeout=WAIT) == ("a", "b")
