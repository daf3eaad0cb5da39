"""Many concurrent clients in one process against one Node 4.x server."""

from __future__ import annotations

import time

import gevent
import pytest
from gevent.event import Event
from integration_util import (
    WAIT,
    Clients,
    clients_fixture,  # noqa: F401 - the `clients` fixture
    expect,
)

N = 500
BOUND = 60.0  # seconds for the whole scenario on a slow 2-core machine


@pytest.mark.node
@pytest.mark.slow
def test_500_websocket_clients(sio_server, clients: Clients) -> None:
    server = sio_server("node4", transports=["websocket"])
    control = clients.connect(server.url, transports=["websocket"])
    start = time.monotonic()
    all_connected = Event()
    connected = [0]
    sockets = []

    def on_connect() -> None:
        connected[0] += 1
        if connected[0] == N:
            all_connected.set()

    for _ in range(N):
        sock = clients.io(
            server.url, transports=["websocket"], auto_connect=False, reconnection=False
        )
        sock.once("connect", on_connect)
        sockets.append(sock)
    for sock in sockets:
        sock.open()
    assert all_connected.wait(BOUND), f"{connected[0]} of {N} connected"
    assert control.call("count", timeout=WAIT) == N + 1

    jobs = [gevent.spawn(s.call, "echo", i, timeout=BOUND) for i, s in enumerate(sockets)]
    gevent.joinall(jobs, timeout=BOUND, raise_error=True)
    assert [j.value for j in jobs] == list(range(N))

    gone = [expect(s, "disconnect") for s in sockets]
    for sock in sockets:
        sock.close()
    for g in gone:
        assert g.get(timeout=WAIT) == ("io client disconnect",)
    assert all(s.io.ready_state == "closed" for s in sockets)
    elapsed = time.monotonic() - start
    # the server saw them leave: only the control socket is left (bounded re-check)
    deadline = time.monotonic() + WAIT
    while control.call("count", timeout=WAIT) != 1:
        assert time.monotonic() < deadline, "the server still counts closed sockets"
        gevent.sleep(0.05)
    assert elapsed < BOUND
    print(f"\n{N} websocket clients: connect+echo+close in {elapsed:.2f} s")
