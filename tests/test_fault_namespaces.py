"""Namespaces recover: after a refusal, and after ``close()`` of one namespace while others keep
the connection, ``socket.connect()`` joins the namespace again on the same connection.

Node socket.io 2.x (revision 4: a 2.x server joins `/` by itself, holds back other namespaces
while the connection is out of `/`, and joins `/` again without answering) and 4.x, over
polling and WebSocket. `/private` refuses without the token (tests/node/README.md).
"""

from __future__ import annotations

import pytest
from fault_util import mode_fixture, server_fixture  # noqa: F401 - `mode`, `server`
from integration_util import (
    WAIT,
    Clients,
    clients_fixture,  # noqa: F401 - the `clients` fixture
    collect,
    expect,
)
from servers import ServerProcess

import sioclient


def join(sock: sioclient.Socket) -> None:
    connected = expect(sock, "connect")
    sock.connect()
    if not sock.connected:
        connected.get(timeout=WAIT)
    assert sock.connected and sock.id


def leave(sock: sioclient.Socket) -> None:
    gone = expect(sock, "disconnect")
    sock.close()
    assert gone.get(timeout=WAIT) == ("io client disconnect",)


def credentials(sock: sioclient.Socket, token: str | None) -> None:
    """Revision 5 sends `auth` with the CONNECT; revision 4 the namespace's query."""
    value = None if token is None else {"token": token}
    if sock.io.protocol == 4:
        sock.query = value
    else:
        sock.auth = value


def works(sock: sioclient.Socket, nsp: str) -> None:
    assert sock.call("get-handshake", timeout=WAIT)["nsp"] == nsp
    assert sock.call("count", timeout=WAIT) == 1


def test_refused_namespace_connects_with_fixed_credentials(
    server: ServerProcess, mode: dict, clients: Clients
):
    root = clients.connect(server.url, **mode)
    admin = root.io.socket("/admin")
    join(admin)
    private = root.io.socket("/private")
    engine = root.io.engine
    for _ in range(2):  # refused twice in a row, then accepted
        refused = expect(private, "connect_error")
        private.connect()
        err = refused.get(timeout=WAIT)[0]
        assert isinstance(err, sioclient.ConnectionError) and str(err) == "not authorized"
        assert not private.connected and private.wait(WAIT)
    credentials(private, "secret")
    join(private)
    works(private, "/private")
    # the others kept the connection all along
    assert root.io.engine is engine and root.connected and admin.connected
    works(root, "/")
    works(admin, "/admin")


def test_accepted_refused_accepted(server: ServerProcess, mode: dict, clients: Clients):
    root = clients.connect(server.url, **mode)
    private = root.io.socket("/private")
    errors = collect(private, "connect_error")
    for round_ in range(3):
        credentials(private, "secret")
        join(private)
        works(private, "/private")
        leave(private)
        credentials(private, "wrong")
        refused = expect(private, "connect_error")
        private.connect()
        refused.get(timeout=WAIT)
        assert len(errors) == round_ + 1
    assert root.connected
    works(root, "/")


@pytest.mark.parametrize("nsp", ["/admin", "/dynamic-x"])
def test_close_and_connect_one_namespace(
    server: ServerProcess, mode: dict, clients: Clients, nsp: str
):
    """connect() right after close(): a server that read the CONNECT in the tick of the
    DISCONNECT would close the connection (4.x) or lose the new socket (2.x)."""
    root = clients.connect(server.url, **mode)
    engine = root.io.engine
    closed = collect(root.io, "close")
    sock = root.io.socket(nsp)
    for _ in range(5):
        join(sock)
        works(sock, nsp)
        leave(sock)
        assert root.io.ready_state == "open"
    join(sock)
    works(sock, nsp)
    assert root.io.engine is engine and not closed.calls
    works(root, "/")


def test_close_and_connect_root_while_others_keep_the_connection(
    server: ServerProcess, mode: dict, clients: Clients
):
    root = clients.connect(server.url, **mode)
    admin = root.io.socket("/admin")
    join(admin)
    engine = root.io.engine
    for _ in range(3):
        leave(root)
        assert root.id is None and admin.connected
        # while `/` is closed, another namespace can still join the connection
        custom = root.io.socket("/custom")
        join(custom)
        works(custom, "/custom")
        leave(custom)
        join(root)
        works(root, "/")
    assert root.io.engine is engine
    works(admin, "/admin")


def test_root_server_disconnect_then_connect(server: ServerProcess, mode: dict, clients: Clients):
    """The server leaves `/` (revision 4: it will join `/` again without a word, which the
    next heartbeat round trip confirms) while `/admin` keeps the connection."""
    root = clients.connect(server.url, **mode)
    admin = root.io.socket("/admin")
    join(admin)
    engine = root.io.engine
    gone = expect(root, "disconnect")
    root.emit("disconnect-me")
    assert gone.get(timeout=WAIT) == ("io server disconnect",)
    assert not root.active and admin.connected
    root.emit("echo", "buffered")
    echoed = expect(root, "echo")
    join(root)
    assert echoed.get(timeout=WAIT) == ("buffered",)
    works(root, "/")
    assert root.io.engine is engine
    works(admin, "/admin")


def test_namespace_server_disconnect_then_connect(
    server: ServerProcess, mode: dict, clients: Clients
):
    root = clients.connect(server.url, **mode)
    admin = root.io.socket("/admin")
    join(admin)
    gone = expect(admin, "disconnect")
    admin.emit("disconnect-me")
    assert gone.get(timeout=WAIT) == ("io server disconnect",)
    join(admin)
    works(admin, "/admin")
    works(root, "/")


def test_refused_namespace_recovers_after_reconnection(
    server: ServerProcess, mode: dict, clients: Clients
):
    """A refusal is final for that namespace only: the connection drops and comes back with
    the others, and connect() then joins the refused one with its new credentials."""
    root = clients.connect(server.url, reconnection_delay=0.01, **mode)
    private = root.io.socket("/private")
    refused = expect(private, "connect_error")
    private.connect()
    refused.get(timeout=WAIT)
    back = expect(root, "connect")
    root.io.engine.close()
    back.get(timeout=WAIT)
    credentials(private, "secret")
    join(private)
    works(private, "/private")


def test_unanswered_namespace_connect_is_reported_within_timeout(
    server: ServerProcess, mode: dict, clients: Clients
):
    # `/early` lets a socket in only with `accept`: without it the server never answers the
    # CONNECT, as a middleware that forgets next() does
    root = clients.io(server.url, timeout=1.0, auto_connect=False, **mode)
    connected = expect(root, "connect")
    root.open()
    connected.get(timeout=WAIT)
    early = root.io.socket("/early")
    failed = expect(early, "connect_error")
    timed_out = expect(early, "connect_timeout")
    early.connect()
    err = failed.get(timeout=WAIT)[0]
    assert isinstance(err, sioclient.TimeoutError) and "'/early'" in str(err)
    assert timed_out.get(timeout=WAIT) == (1.0,)
    # the others keep the connection; the namespace can be closed at once
    assert not early.connected
    works(root, "/")
    early.close()
    assert early.wait(WAIT)
    # with the answer the server waits for, it joins
    early.query = {"accept": "1"} if root.io.protocol == 4 else None
    early.auth = None if root.io.protocol == 4 else {"accept": "1"}
    join(early)
