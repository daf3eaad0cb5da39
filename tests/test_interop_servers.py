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

from dataclasses import dataclass
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

    name: str
    url: str
    server: ServerProcess
    #: the refusal message of a namespace the server does not know
    unknown_namespace: str
    #: what the proxy logged so far ("" without a proxy)
    log: Callable[[], str] = lambda: ""


def _python_aiohttp(stack: list[Any]) -> Target:
    server = ServerProcess("python-aiohttp", **PING).start()
    stack.append(server)
    return Target("python-aiohttp", server.url, server, "Invalid namespace")


def _flask(stack: list[Any]) -> Target:
    server = ServerProcess("flask", **PING).start()
    stack.append(server)
    return Target("flask", server.url, server, "Unable to connect")


BUILDERS: dict[str, Callable[[list[Any]], Target]] = {
    "python-aiohttp": _python_aiohttp,
    "flask": _flask,
}


@pytest.fixture(scope="module", params=list(BUILDERS))
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    stack: list[Any] = []
    try:
        yield BUILDERS[request.param](stack)
    finally:
        for part in reversed(stack):
            part.close()


@pytest.fixture(params=list(MODES))
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _connect(clients: Clients, target: Target, mode: str, **options: Any) -> sioclient.Socket:
    sock = clients.connect(target.url, **MODES[mode], **FAST, **options)
    assert sock.io.engine.protocol == 5  # detected: every target here is Engine.IO 4
    if mode == "upgrade":
        eventually(lambda: sock.io.engine.transport == "websocket", what="the upgrade")
    else:
        assert sock.io.engine.transport == MODES[mode]["transports"][0]
    return sock


def test_round_trip(target: Target, mode: str, clients: Clients) -> None:
    """Acks, an event from the server, binary both ways, and a second namespace multiplexed on
    the same connection."""
    sock = _connect(clients, target, mode)
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
    itself, and what it emitted meanwhile arrives."""
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
