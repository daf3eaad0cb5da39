"""Sends made while a burst of wake-ups runs: left to the burst writer, written soon, in order.

Many greenlets woken in one loop iteration (loop timers with one deadline, as users with the
same think time) each emit; their frames go out from the burst writer a slice at a time, and
every connection's packets still reach the server in the order they were emitted, mixed
with sends written at once.
"""

from __future__ import annotations

from typing import Any

import gevent
import pytest
from gevent.event import Event
from integration_util import (
    WAIT,
    Clients,
    clients_fixture,  # noqa: F401 - the `clients` fixture
)

from sioclient import dispatch
from sioclient.transports import websocket as ws_mod

N = 40  # connections woken together
PER = 5  # emits each, in one wake-up


@pytest.mark.node
@pytest.mark.parametrize("kind", ["node2", "node4"])
def test_a_burst_of_wakeups_is_written_in_order(sio_server: Any, clients: Clients, kind: str):
    server = sio_server(kind, transports=["websocket"])
    sockets = [clients.connect(server.url, transports=["websocket"]) for _ in range(N)]
    loop = gevent.get_hub().loop
    acked: dict[int, list[int]] = {i: [] for i in range(N)}
    in_burst: list[bool] = []
    queued: list[bool] = []
    taken_along: list[tuple[bool, bool]] = []
    done = Event()
    left = [N * PER]

    def on_ack(i: int, seq: int) -> None:
        acked[i].append(seq)
        left[0] -= 1
        if left[0] == 0:
            done.set()

    def wake(i: int) -> None:
        # runs in the hub, among N expired timers: a burst
        in_burst.append(dispatch.in_burst())
        sock = sockets[i]
        for seq in range(PER):
            if seq == 2:
                # written at once (compress=False is never deferred): takes what waits before
                # it along, in order
                sock.compress(False).emit("ack", i, seq, ack=lambda *a, i=i, s=seq: on_ack(i, s))
                ws = sock.io.engine._ws
                taken_along.append((in_burst[-1], ws is not None and ws._gather is None))
            else:
                sock.emit("ack", i, seq, ack=lambda *a, i=i, s=seq: on_ack(i, s))
        engine = sock.io.engine
        # left to the burst writer: in the WebSocket's gathered write (or the session's queue)
        queued.append(
            engine is not None
            and (
                engine._session.wants_write
                or (engine._ws is not None and engine._ws._gather is not None)
            )
        )

    timers = []
    for i in range(N):
        t = loop.timer(0.05)
        t.start(wake, i)
        timers.append(t)
    try:
        assert done.wait(WAIT), f"{left[0]} acks missing"
    finally:
        for t in timers:
            t.close()
    # the timers fired in one iteration: all but the last saw others pending, and their last
    # emits were still queued when the callback returned
    assert in_burst.count(True) >= N // 2
    assert queued.count(True) >= N // 2
    assert all(written for burst, written in taken_along if burst)
    for i, sock in enumerate(sockets):
        assert acked[i] == list(range(PER))
        received = sock.call("get-received", timeout=WAIT)
        assert [args for _, args in received] == [[i, seq] for seq in range(PER)]


@pytest.mark.node
def test_a_lone_send_is_written_at_once(sio_server: Any, clients: Clients) -> None:
    server = sio_server("node4", transports=["websocket"])
    sock = clients.connect(server.url, transports=["websocket"])
    assert not dispatch.in_burst()
    sock.emit("ack", 1)
    engine = sock.io.engine
    assert not engine._session.wants_write  # handed to the kernel by emit() itself
    assert engine._ws._gather is None
    assert sock.call("ack", 2, timeout=WAIT) == 2


@pytest.mark.node
def test_a_burst_of_large_emits_is_written_in_order_and_bounded(
    sio_server: Any, clients: Clients
) -> None:
    # every wake-up emits more than GATHER_LIMIT bytes: the burst writer's gathered write is
    # written each time it reaches the limit, never held beyond it
    server = sio_server("node4", transports=["websocket"])
    n, per, payload = 4, 40, "x" * 2048
    sockets = [clients.connect(server.url, transports=["websocket"]) for _ in range(n)]
    loop = gevent.get_hub().loop
    acked: dict[int, list[int]] = {i: [] for i in range(n)}
    gathered: list[int] = []
    done = Event()
    left = [n * per]

    def on_ack(i: int, seq: int) -> None:
        acked[i].append(seq)
        left[0] -= 1
        if left[0] == 0:
            done.set()

    def wake(i: int) -> None:
        sock = sockets[i]
        for seq in range(per):
            sock.emit("ack", i, seq, payload, ack=lambda *a, i=i, s=seq: on_ack(i, s))
            ws = sock.io.engine._ws
            gathered.append(0 if ws is None or ws._gather is None else len(ws._gather))

    timers = []
    for i in range(n):
        t = loop.timer(0.05)
        t.start(wake, i)
        timers.append(t)
    try:
        assert done.wait(WAIT), f"{left[0]} acks missing"
    finally:
        for t in timers:
            t.close()
    assert max(gathered) < ws_mod.GATHER_LIMIT
    for i, sock in enumerate(sockets):
        assert acked[i] == list(range(per))
        received = sock.call("get-received", timeout=WAIT)
        assert [args for _, args in received] == [[i, seq, payload] for seq in range(per)]
