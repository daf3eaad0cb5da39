"""What the fault tests share: the servers and transports they run on, fast heartbeat and
reconnection settings, and a fixture that puts a ``FaultProxy`` between a client and a server.

Faults are tested on socket.io 2.x (Engine.IO 3: the client pings) and 4.x (Engine.IO 4: the
server pings), over polling and over WebSocket.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterator

import pytest
from faultproxy import FaultProxy
from integration_util import MODES, Clients
from servers import ServerProcess

import sioclient

#: heartbeat of the servers under test (ms): a dead peer is noticed within 0.6 s
PING = {"pingInterval": 300, "pingTimeout": 300}
#: a bound on noticing a dead peer: pingInterval + pingTimeout plus generous slack for a loaded
#: machine (the assertion is an upper bound, never a lower one)
DETECT = (PING["pingInterval"] + PING["pingTimeout"]) / 1000 + 4.0
#: client options: quick reconnection, and a connection attempt the proxy swallows gives up fast
FAST: dict[str, Any] = {
    "reconnection_delay": 0.05,
    "reconnection_delay_max": 0.3,
    "randomization_factor": 0,
    "timeout": 2.0,
}
#: the longest a client should take to be back once the network passes again: an attempt that
#: was swallowed times out (``timeout``), then the backoff, then the handshake; with slack
BACK = 15.0

KIND_PARAMS = [
    pytest.param("node2", marks=pytest.mark.node),
    pytest.param("node4", marks=pytest.mark.node),
]
TRANSPORT_PARAMS = [
    pytest.param(["polling"], id="polling"),
    pytest.param(["websocket"], id="websocket"),
]


@dataclass
class Proxied:
    """A server, the proxy in front of it and a way to make clients that go through it."""

    server: ServerProcess
    proxy: FaultProxy
    clients: Clients
    transports: list[str]

    def connect(self, **options: Any) -> sioclient.Socket:
        """A connected socket through the proxy (waits for ``connect``, bounded)."""
        opts = {**FAST, "transports": self.transports, **options}
        return self.clients.connect(self.proxy.url, **opts)

    def io(self, **options: Any) -> sioclient.Socket:
        opts = {**FAST, "transports": self.transports, **options}
        return self.clients.io(self.proxy.url, **opts)


@pytest.fixture(name="proxied")
def proxied_fixture(
    clients: Clients,
    sio_server: Callable[..., ServerProcess],
    fault_proxy: Callable[..., FaultProxy],
) -> Iterator[Callable[..., Proxied]]:
    """Factory: ``proxied(kind, transports, **server_config)`` starts a server with the fast
    heartbeat and a proxy in front of it; the fixtures it uses stop both at teardown.

    Teardown closes the proxy first, then the server, then the clients, so that a client whose
    test failed in the middle of a fault is not left talking to it while it closes."""

    def factory(kind: str, transports: list[str], **config: Any) -> Proxied:
        server = sio_server(kind, **{**PING, **config})
        return Proxied(server, fault_proxy(server), clients, transports)

    yield factory


@pytest.fixture(name="server", scope="module", params=KIND_PARAMS)
def server_fixture(request: pytest.FixtureRequest) -> Iterator[ServerProcess]:
    """A server per module and kind, shared by its tests, with no proxy: a short ping
    interval (a 2.x server's silent join of `/` is confirmed by the next round trip) and a
    long timeout (a loaded machine sees no spurious ping timeout)."""
    request.getfixturevalue("node_peers")
    srv = ServerProcess(request.param, pingInterval=500, pingTimeout=2000).start()
    try:
        yield srv
    finally:
        srv.close()


@pytest.fixture(name="mode", params=["polling", "websocket"])
def mode_fixture(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The client options of a transport mode (``integration_util.MODES``)."""
    return MODES[request.param]
