"""Connecting, protocol detection, namespaces, query and auth, against every server kind.

Ports of socket.io-client's ``test/connection.js`` (2.x line) and the distinguishing cases of
``test/connection.ts`` / ``test/socket.ts`` (4.x line); each names its origin.
"""

from __future__ import annotations

import pytest
from integration_util import (
    WAIT,
    Clients,
    clients_fixture,  # noqa: F401 - the `clients` fixture
    collect,
    expect,
    nothing_happens,
)
from servers import ServerProcess

import sioclient


def test_auto_connect_false_opens_nothing(any_server: ServerProcess, clients: Clients) -> None:
    """connection.js: should not connect when autoConnect option set to false."""
    sock = clients.io(any_server.url, {"autoConnect": False})
    assert sock.io.engine is None
    assert not sock.connected and sock.id is None


def test_false_and_utf8(any_server: ServerProcess, clients: Clients) -> None:
    """connection.js: should work with false; should receive utf8 multibyte characters."""
    sock = clients.connect(any_server.url)
    assert sock.call("echo", False, timeout=WAIT) is False
    words = ["てすと", "Я Б Г Д Ж Й", "Ä ä Ü ü ß", "utf8 — string", "\U0001f600 astral"]
    got = collect(sock, "words")
    sock.emit("emit-back", "words", *words)
    assert got.wait(1)[0] == tuple(words)


def test_namespace_after_connection(any_server: ServerProcess, clients: Clients) -> None:
    """connection.js: should connect to a namespace after connection established."""
    manager = clients.manager(any_server.url)
    root = manager.socket("/")
    expect(root, "connect").get(timeout=WAIT) if not root.connected else None
    for nsp in ("/admin", "/custom", "/dynamic-abc.1"):
        sock = manager.socket(nsp)
        if not sock.connected:
            expect(sock, "connect").get(timeout=WAIT)
        assert sock.call("get-handshake", timeout=WAIT)["nsp"] == nsp
        sock.close()
        assert not sock.connected
    assert root.connected and root.call("count", timeout=WAIT) == 1


def test_new_namespace_after_connection_closed(any_server: ServerProcess, clients: Clients) -> None:
    """connection.js: should open a new namespace after connection gets closed."""
    manager = clients.manager(any_server.url)
    root = manager.socket("/")
    if not root.connected:
        expect(root, "connect").get(timeout=WAIT)
    root.close()
    assert manager.ready_state == "closed"
    admin = manager.socket("/admin")
    expect(admin, "connect").get(timeout=WAIT)
    assert admin.call("echo", 1, timeout=WAIT) == 1


def test_reconnect_manually(any_server: ServerProcess, clients: Clients) -> None:
    """connection.js: should reconnect manually; socket.ts: disconnect then reconnect."""
    sock = clients.connect(any_server.url)
    disconnects = collect(sock, "disconnect")
    sock.disconnect()
    assert disconnects.wait(1) == [("io client disconnect",)]
    again = expect(sock, "connect")
    sock.connect()
    again.get(timeout=WAIT)
    assert sock.call("echo", "back", timeout=WAIT) == "back"
    assert len(disconnects) == 1


def test_connect_while_disconnecting_another(any_server: ServerProcess, clients: Clients) -> None:
    """connection.js: should connect while disconnecting another socket (and #1014: no
    reconnection attempt after that)."""
    manager = clients.manager(any_server.url, transports=["websocket"])
    attempts = collect(manager, "reconnect_attempt")
    foo = manager.socket("/admin")
    expect(foo, "connect").get(timeout=WAIT)
    bar = manager.socket("/custom")
    joined = expect(bar, "connect")
    foo.disconnect()
    joined.get(timeout=WAIT)
    assert bar.call("echo", 2, timeout=WAIT) == 2
    assert len(attempts) == 0


def test_refused_port_fires_connect_error(refused_port: int, clients: Clients) -> None:
    """socket.ts: fire a connect_error event when the connection cannot be established."""
    sock = clients.io(f"http://127.0.0.1:{refused_port}", reconnection=False, timeout=5)
    err = expect(sock, "connect_error").get(timeout=WAIT)[0]
    assert isinstance(err, sioclient.ConnectionError)


def test_no_connect_error_after_established(any_server: ServerProcess, clients: Clients) -> None:
    """socket.ts: doesn't fire a connect_error event when the connection is already established."""
    sock = clients.connect(any_server.url, reconnection_delay=0.05)
    errors = expect(sock, "connect_error")
    back = expect(sock.io, "reconnect")
    sock.io.engine.close()
    back.get(timeout=WAIT)
    assert not errors.ready()


def test_force_disconnect_while_opening(any_server: ServerProcess, clients: Clients) -> None:
    """socket.js: doesn't fire a connect_error if we force disconnect in opening state."""
    sock = clients.io(any_server.url, timeout=0.1)
    errors = expect(sock, "connect_error")
    manager_errors = expect(sock.io, "error")
    sock.disconnect()
    assert sock.wait(WAIT)
    assert nothing_happens(errors, 0.3) and not manager_errors.ready()


# ---- protocol detection ------------------------------------------------------------------


@pytest.mark.parametrize("transports", [["polling"], ["websocket"], ["polling", "websocket"]])
@pytest.mark.node
def test_node2_detection_opens_root_once(sio_server, transports, clients: Clients) -> None:
    server = sio_server("node2")
    sock = clients.connect(server.url, transports=transports)
    assert sock.io.engine.protocol == 4
    admin = sock.io.socket("/admin")
    admin.open()
    if not admin.connected:
        expect(admin, "connect").get(timeout=WAIT)
    assert sock.call("count", timeout=WAIT) == 1
    assert admin.call("count", timeout=WAIT) == 1


@pytest.mark.node
@pytest.mark.parametrize(
    "protocol,transports,expected",
    [
        (None, ["websocket"], 4),
        (None, ["polling"], 5),
        (5, ["websocket"], 5),
        (4, ["polling"], 4),
        (4, ["websocket"], 4),
    ],
)
def test_eio3_server_detection(sio_server, protocol, transports, expected, clients) -> None:
    server = sio_server("node4-eio3")
    sock = clients.connect(server.url, transports=transports, protocol=protocol)
    assert sock.io.engine.protocol == expected
    hs = sock.call("get-handshake", timeout=WAIT)
    assert hs["eio"] == (3 if expected == 4 else 4)
    assert sock.call("count", timeout=WAIT) == 1


@pytest.mark.node
def test_forced_wrong_protocol_fails(sio_server, clients: Clients) -> None:
    """protocol=4 against a server that only speaks Engine.IO 4: a clean connect_error."""
    server = sio_server("node4")
    sock = clients.io(server.url, protocol=4, reconnection=False, transports=["polling"])
    err = expect(sock, "connect_error").get(timeout=WAIT)[0]
    assert isinstance(err, sioclient.ConnectionError)


# ---- namespaces: refusal, query, auth ---------------------------------------------------


def test_unknown_namespace_refused(any_server: ServerProcess, clients: Clients) -> None:
    sock = clients.io(any_server.url + "/nope")
    err = expect(sock, "connect_error").get(timeout=WAIT)[0]
    assert "Invalid namespace" in str(err)
    assert sock.wait(WAIT)


def test_private_refused(any_server: ServerProcess, clients: Clients) -> None:
    """socket.ts: middleware failure from a custom namespace -> connect_error with the message
    and data; on revision 4 `error` too; no reconnection after it (connection.ts)."""
    root = clients.connect(any_server.url, reconnection_delay=0.01)
    private = root.io.socket("/private")
    errors = collect(private, "connect_error")
    legacy = collect(private, "error")
    private.open()
    err = errors.wait(1)[0][0]
    assert isinstance(err, sioclient.ConnectionError)
    assert str(err) == "not authorized"
    if root.io.protocol == 5:
        assert err.data == {"code": 401}
    else:
        assert err.data is None
        assert legacy.wait(1)[0][0] is err
    assert not private.active and private.id is None
    # a reconnection of the manager does not ask for the refused namespace again
    back = expect(root, "connect")
    root.io.engine.close()
    back.get(timeout=WAIT)
    assert root.call("count", timeout=WAIT) == 1
    assert len(errors) == 1
    if root.io.protocol == 5:
        assert not legacy.calls


def test_private_accepted_with_credentials(any_server: ServerProcess, clients: Clients) -> None:
    """auth (revision 5) or the namespace query (revision 4) opens the guarded namespace."""
    if any_server.protocol == 5:
        sock = clients.connect(any_server.url + "/private", auth={"token": "secret"})
        assert sock.call("get-handshake", timeout=WAIT)["auth"] == {"token": "secret"}
    else:
        sock = clients.connect(any_server.url + "/private?token=secret")
        assert sock.call("get-handshake", timeout=WAIT)["query"]["token"] == "secret"


@pytest.mark.node
def test_namespace_query_revision4(sio_server, clients: Clients) -> None:
    """A per-namespace query travels in the 2.x CONNECT packet."""
    server = sio_server("node2")
    manager = clients.manager(server.url, query={"m": "1"})
    root = manager.socket("/")
    admin = manager.socket("/admin", {"query": {"a": "b", "&x": "&=?y"}})
    for s in (root, admin):
        if not s.connected:
            expect(s, "connect").get(timeout=WAIT)
    query = admin.call("get-handshake", timeout=WAIT)["query"]
    assert query["a"] == "b" and query["&x"] == "&=?y" and query["m"] == "1"
    assert "a" not in root.call("get-handshake", timeout=WAIT)["query"]


def test_auth_dict_and_callable(any_server: ServerProcess, clients: Clients) -> None:
    """socket.ts auth option: an object, or a function evaluated again on each connect."""
    if any_server.protocol != 5:
        pytest.skip("auth is a revision 5 feature")
    sock = clients.connect(any_server.url + "/admin", auth={"a": "b", "c": "d"})
    hs = sock.call("get-handshake", timeout=WAIT)
    assert hs["auth"] == {"a": "b", "c": "d"} and "a" not in hs["query"]

    calls: list[int] = []

    def auth() -> dict:
        calls.append(1)
        return {"n": len(calls)}

    sock2 = clients.connect(any_server.url + "/custom", auth=auth)
    assert sock2.call("get-handshake", timeout=WAIT)["auth"] == {"n": 1}
    sock2.disconnect()
    again = expect(sock2, "connect")
    sock2.connect()
    again.get(timeout=WAIT)
    assert sock2.call("get-handshake", timeout=WAIT)["auth"] == {"n": 2}
    # and after a reconnection of the whole connection
    back = expect(sock2, "connect")
    sock2.io.engine.close()
    back.get(timeout=WAIT)
    assert sock2.call("get-handshake", timeout=WAIT)["auth"] == {"n": 3}


def test_manager_auth_used_by_namespaces(any_server: ServerProcess, clients: Clients) -> None:
    if any_server.protocol != 5:
        pytest.skip("auth is a revision 5 feature")
    manager = clients.manager(any_server.url, auth={"token": "secret"})
    private = manager.socket("/private")
    expect(private, "connect").get(timeout=WAIT)
    assert private.call("echo", "in", timeout=WAIT) == "in"
