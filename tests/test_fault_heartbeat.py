"""Heartbeat under load from the user's own handlers.

Connection work (the heartbeat timer, WebSocket reads, the pongs they send) runs on runners of
its own, never queued behind user handlers: a burst of events whose handlers each compute for a
while before they yield must not make the client miss a ping or time one out.
"""

from __future__ import annotations

import time

import gevent
import pytest
from integration_util import (
    WAIT,
    Clients,
    Collector,
    clients_fixture,  # noqa: F401 - the `clients` fixture
    collect,
)

pytestmark = pytest.mark.node

#: heartbeat of the test servers (ms): the client has 1.5 s to answer a ping, a margin for a
#: loaded machine that still stays well under the burst below
PING = {"pingInterval": 500, "pingTimeout": 1000}
#: events in the burst, and the CPU each handler spends before it yields (s): 4 s of work, in
#: short steps (the event loop polls I/O only every 50 callbacks: long steps would delay the
#: heartbeat whatever queue its work goes to)
BURST, WORK = 4000, 0.001


@pytest.mark.parametrize("kind", ["node2", "node4"])
@pytest.mark.parametrize("transport", ["polling", "websocket"])
def test_slow_handlers_do_not_delay_the_heartbeat(
    sio_server, clients: Clients, kind: str, transport: str
) -> None:
    server = sio_server(kind, **PING)
    sock = clients.connect(server.url, transports=[transport], reconnection=False)
    gone = collect(sock, "disconnect")
    done = Collector()

    @sock.on("flood")
    def on_flood(i: int, payload: str) -> None:
        end = time.perf_counter() + WORK
        while time.perf_counter() < end:
            pass  # CPU work: the hub runs only when the handler yields below
        gevent.sleep(0)
        done(i)

    assert sock.call("flood", BURST, "x", timeout=WAIT) == BURST
    done.wait(BURST, timeout=WAIT + BURST * WORK * 4)
    # the burst lasted several heartbeat windows: the connection stayed up all along
    assert gone.calls == []
    assert sock.connected
    assert sock.call("ack", 1, timeout=WAIT) == 1
