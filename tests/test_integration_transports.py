"""The client against every server kind, over every transport mode, with every parser.

One module-scoped server per (kind, parser); each test connects a fresh client with one
transport mode: polling only, websocket only, or polling upgraded to websocket.
"""

from __future__ import annotations

from typing import Any, Iterator

import pytest
from integration_util import (
    MODES,
    WAIT,
    Clients,
    clients_fixture,  # noqa: F401 - the `clients` fixture
    collect,
    eventually,
    expect,
    expected_protocol,
)
from servers import KINDS, ServerProcess

PARSERS = ("default", "json", "msgpack")


def _server_params() -> list[Any]:
    return [
        pytest.param((k, p), id=f"{k}-{p}", marks=[pytest.mark.node] if k != "python" else [])
        for k in KINDS
        for p in PARSERS
    ]


@pytest.fixture(scope="module", params=_server_params())
def server(request: pytest.FixtureRequest) -> Iterator[ServerProcess]:
    kind, parser = request.param
    if kind.startswith("node"):
        request.getfixturevalue("node_peers")
    srv = ServerProcess(kind, parser=parser).start()
    srv.parser = parser  # type: ignore[attr-defined]
    try:
        yield srv
    finally:
        srv.close()


def _skip_impossible(server: ServerProcess, mode: str) -> None:
    # A 4.x server with allowEIO3 has one parser for both generations; a websocket-only client
    # detects revision 4 there, which only the default parser serves for both.
    if server.kind == "node4-eio3" and mode == "websocket" and server.parser != "default":
        pytest.skip("a custom parser serves one protocol generation only")


@pytest.mark.parametrize("mode", list(MODES))
def test_scenario(server: ServerProcess, mode: str, clients: Clients) -> None:
    """Connect, detect the revision, echo, acks both ways, order, namespaces, leave."""
    _skip_impossible(server, mode)
    parser = server.parser  # type: ignore[attr-defined]
    binary = parser != "json"  # socket.io-json-parser has no binary support
    sock = clients.connect(server.url, parser=parser, **MODES[mode])
    engine = sock.io.engine
    protocol = expected_protocol(server.kind, mode)
    assert engine.protocol == protocol
    assert sock.io.protocol == protocol

    # ids: revision 4 reuses the engine id, revision 5 has the server's own
    hs = sock.call("get-handshake", timeout=WAIT)
    assert hs["id"] == sock.id
    if protocol == 4:
        assert sock.id == engine.id
        assert hs["eio"] == 3
    else:
        assert sock.id != engine.id
        assert hs["eio"] == 4

    # never a second `/` socket (a 2.x server opens it by itself)
    assert sock.call("count", timeout=WAIT) == 1

    # echo: the event and the ack carry the same values
    args: list[Any] = ["ü", 0, -1.5, True, False, None, {"a": [1, {"b": "c"}]}, []]
    if binary:
        args += [b"\x00\x01\xff", {"nested": b"bin"}]
    echoed = expect(sock, "echo")
    assert sock.call("echo", *args, timeout=WAIT) == tuple(args)
    assert echoed.get(timeout=WAIT) == tuple(args)

    # plain ack callback and no-arg ack
    acked = expect(sock, "_ack")
    sock.emit("ack", 1, "two", lambda *a: acked.set(a))
    assert acked.get(timeout=WAIT) == (1, "two")
    assert sock.call("emit-back", "back", 7, timeout=WAIT) is None

    # the server asks for an ack; the handler answers (binary too)
    answer: list[Any] = ["yes", 3] + ([b"\x10\x20"] if binary else [])

    @sock.on("question")
    def _question(*a: Any) -> None:
        a[-1](*answer)

    result = expect(sock, "server-ack-result")
    sock.emit("server-ack", "question", "q?")
    assert list(result.get(timeout=WAIT)) == answer

    # order of many server events
    floods = collect(sock, "flood")
    done = expect(sock, "flood-done")
    assert sock.call("flood", 50, "x" * 100, timeout=WAIT) == 50
    assert done.get(timeout=WAIT) == (50,)
    assert [c[0] for c in floods.calls] == list(range(50))

    # order of many client events (more than python-engineio takes in one polling payload)
    for i in range(20):
        sock.emit("seq", i)
    received = sock.call("get-received", timeout=WAIT)
    seq = [r[1][0] for r in received if r[0] == "seq"]
    assert seq == list(range(20))

    # a namespace opened and closed on the live connection
    admin = sock.io.socket("/admin")  # auto_connect is off for these clients
    joined = expect(admin, "connect")
    admin.open()
    joined.get(timeout=WAIT)
    assert admin.call("echo", "adm", timeout=WAIT) == "adm"
    if protocol == 4:
        assert admin.id == f"/admin#{engine.id}"
    left = expect(admin, "disconnect")
    admin.close()
    assert left.get(timeout=WAIT) == ("io client disconnect",)
    assert sock.connected and sock.call("count", timeout=WAIT) == 1

    if mode == "upgrade":
        eventually(lambda: sock.io.engine.transport == "websocket", what="the upgrade")
        assert sock.call("get-handshake", timeout=WAIT)["transport"] == "websocket"
    else:
        assert engine.transport == MODES[mode]["transports"][0]

    gone = expect(sock, "disconnect")
    sock.close()
    assert gone.get(timeout=WAIT) == ("io client disconnect",)
    assert sock.id is None and sock.disconnected
