"""The servers users deploy: python-socketio on aiohttp, Flask-SocketIO, and Socket.IO servers
behind nginx and HAProxy.

Each target is reached over polling with the upgrade, WebSocket only and polling only, the
client detecting the protocol on its own: acks (``call()``), an event from the server, binary
both ways, a second namespace on the same connection, a refused namespace, a disconnect by the
server, and a reconnection after the server (or the proxy's upstream) went away and came back.
The servers and proxies of the round trips live as long as the module; a test that restarts a
server restarts it in place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from integration_util import (
    MODES,
    WAIT,
    Clients,
    clients_fixture,  # noqa: F401 - the `clients` fixture
    eventually,
    expect,
)
from reverseproxy import HAProxy, Nginx, ReverseProxy
from servers import ServerProcess

import sioclient

#: python-engineio rounds the interval to whole seconds; Node takes the same values
PING = {"pingInterval": 1000, "pingTimeout": 1000}
FAST = {"reconnection_delay": 0.05, "reconnection_delay_max": 0.2, "randomization_factor": 0}
BLOB = bytes(range(256)) * 4


@dataclass
class Target:
    """A server to connect to, directly or through a proxy; ``server`` is the Socket.IO server
    itself, the one a test restarts."""

    url: str
    server: ServerProcess
    #: the refusal message of a namespace the server does not know
    unknown_namespace: str
    proxy: ReverseProxy | None = None


#: starts a target, appending what it started (to be closed) to the list
Builder = Callable[[list[Any], Path], Target]


def _direct(kind: str, unknown_namespace: str) -> Builder:
    def build(parts: list[Any], directory: Path) -> Target:
        server = ServerProcess(kind, **PING)
        parts.append(server)
        server.start()
        return Target(server.url, server, unknown_namespace)

    return build


def _behind(proxy_class: type[ReverseProxy], kind: str) -> Builder:
    def build(parts: list[Any], directory: Path) -> Target:
        server = ServerProcess(kind, **PING)
        parts.append(server)
        server.start()
        proxy = proxy_class(server, directory)
        parts.append(proxy)
        return Target(proxy.url, server, "Invalid namespace", proxy)

    return build


#: test id -> how to start it; the node targets are marked ``node``
TARGETS: dict[str, Builder] = {
    "python-aiohttp": _direct("python-aiohttp", "Invalid namespace"),
    # python-socketio refuses a namespace that has no handlers with its own message
    "flask": _direct("flask", "Unable to connect"),
    "nginx-node4": _behind(Nginx, "node4"),
    "nginx-python": _behind(Nginx, "python"),
    "haproxy-node4": _behind(HAProxy, "node4"),
    "haproxy-python": _behind(HAProxy, "python"),
}


@pytest.fixture(
    scope="module",
    params=[
        pytest.param(name, marks=[pytest.mark.node] if "node" in name else []) for name in TARGETS
    ],
)
def target(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Target]:
    if "node" in request.param:
        request.getfixturevalue("node_peers")
    parts: list[Any] = []
    try:
        yield TARGETS[request.param](parts, tmp_path_factory.mktemp(request.param))
    finally:
        for part in reversed(parts):
            part.close()


@pytest.fixture(params=list(MODES))
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _connect(clients: Clients, target: Target, mode: str) -> sioclient.Socket:
    sock = clients.connect(target.url, **MODES[mode], **FAST)
    assert sock.io.engine.protocol == 5  # detected: every target here is Engine.IO 4
    if mode == "upgrade":
        eventually(lambda: sock.io.engine.transport == "websocket", what="the upgrade")
    else:
        assert sock.io.engine.transport == MODES[mode]["transports"][0]
    return sock


def _tunnels(proxy: ReverseProxy) -> int:
    """WebSocket upgrades the proxy logged as done (a line each, once the tunnel closed)."""
    return sum(
        1
        for line in proxy.log_text().splitlines()
        if "transport=websocket" in line and re.search(r"\b101\b", line)
    )


def test_round_trip(target: Target, mode: str, clients: Clients) -> None:
    """Acks, an event from the server, binary both ways, and a second namespace multiplexed on
    the same connection; through a proxy, the server saw its header, and the WebSocket went
    through it as an upgrade (101)."""
    tunnels = _tunnels(target.proxy) if target.proxy else 0
    sock = _connect(clients, target, mode)
    if target.proxy is not None:
        handshake = sock.call("get-handshake", timeout=WAIT)
        assert handshake["headers"]["x-forwarded-for"] == "127.0.0.1"
        assert handshake["transport"] == sock.io.engine.transport
    echoed = expect(sock, "echo")
    assert sock.call("echo", "hello", {"n": 1}, timeout=WAIT) == ("hello", {"n": 1})
    assert echoed.get(timeout=WAIT) == ("hello", {"n": 1})

    pushed = expect(sock, "pushed")
    assert sock.call("emit-back", "pushed", {"blob": BLOB}, b"\x00", timeout=WAIT) is None
    assert pushed.get(timeout=WAIT) == ({"blob": BLOB}, b"\x00")
    assert sock.call("ack", [b"\x01\x02", "text"], timeout=WAIT) == [b"\x01\x02", "text"]

    admin = sock.io.socket("/admin")
    joined = expect(admin, "connect")
    admin.open()
    joined.get(timeout=WAIT)
    assert admin.id and admin.id != sock.id
    assert admin.call("echo", b"\xff" * 3, timeout=WAIT) == b"\xff" * 3
    assert sock.call("ack", "still here", timeout=WAIT) == "still here"

    if target.proxy is not None and mode != "polling":
        proxy = target.proxy
        sock.io.close()
        eventually(lambda: _tunnels(proxy) > tunnels, what=f"a 101 in {proxy.name}'s log")


def test_refused_namespace(target: Target, mode: str, clients: Clients) -> None:
    """The server refuses a namespace (its connect handler, an unknown name): connect_error
    with the server's message and data; the rest of the connection goes on, and the namespace
    joins once the credentials are right."""
    sock = _connect(clients, target, mode)
    private = sock.io.socket("/private")
    refused = expect(private, "connect_error")
    private.open()
    err = refused.get(timeout=WAIT)[0]
    assert isinstance(err, sioclient.ConnectionError)
    assert str(err) == "not authorized" and err.data == {"code": 401}
    assert not private.connected

    unknown = sock.io.socket("/nope")
    refused = expect(unknown, "connect_error")
    unknown.open()
    assert target.unknown_namespace in str(refused.get(timeout=WAIT)[0])

    private.auth = {"token": "secret"}
    joined = expect(private, "connect")
    private.connect()
    joined.get(timeout=WAIT)
    assert private.call("ack", "in", timeout=WAIT) == "in"
    assert sock.call("ack", "root", timeout=WAIT) == "root"


def test_server_disconnects(target: Target, mode: str, clients: Clients) -> None:
    """A disconnect by the server is final (no reconnection) until the client connects again."""
    sock = _connect(clients, target, mode)
    down = expect(sock, "disconnect")
    sock.emit("disconnect-me")
    assert down.get(timeout=WAIT)[0] == "io server disconnect"
    assert not sock.connected and not sock.active
    back = expect(sock, "connect")
    sock.connect()
    back.get(timeout=WAIT)
    assert sock.call("ack", 1, timeout=WAIT) == 1


def test_server_restart(target: Target, mode: str, clients: Clients) -> None:
    """The server goes away and comes back on the same port: the client notices, reconnects by
    itself, and what it emitted meanwhile arrives.

    nginx answers a long-poll whose upstream closed with 502; HAProxy instead retries the
    request on a new upstream connection for a few seconds, so the client, its long-poll
    pending, finds out by the heartbeat (a ping timeout)."""
    sock = _connect(clients, target, mode)
    down = expect(sock, "disconnect")
    target.server.stop()
    assert down.get(timeout=WAIT)[0] in ("transport close", "transport error", "ping timeout")
    sock.emit("meanwhile", 1)
    back = expect(sock, "connect")
    target.server.restart()
    back.get(timeout=WAIT)
    assert sock.call("get-received", timeout=WAIT) == [["meanwhile", [1]]]
    assert sock.call("echo", b"\x07", timeout=WAIT) == b"\x07"


@pytest.mark.node
@pytest.mark.parametrize("proxy_kind", ["nginx", "haproxy"])
@pytest.mark.parametrize("mode", ["polling", "websocket"])
def test_proxy_restart(
    request: pytest.FixtureRequest, sio_server: Any, proxy_kind: str, mode: str, clients: Clients
) -> None:
    """The proxy itself stops and starts again on the same port: the client reconnects through
    it, to a new session on the same server."""
    server = sio_server("node4", **PING)
    proxy = request.getfixturevalue(proxy_kind)(server)
    sock = clients.connect(proxy.url, **MODES[mode], **FAST)
    first = sock.id
    down = expect(sock, "disconnect")
    proxy.close()
    assert down.get(timeout=WAIT)[0] in ("transport close", "transport error", "ping timeout")
    back = expect(sock, "connect")
    proxy.restart()
    back.get(timeout=WAIT)
    assert sock.id != first
    assert sock.call("echo", b"\x01", timeout=WAIT) == b"\x01"
