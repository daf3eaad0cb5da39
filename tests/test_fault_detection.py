"""Protocol detection survives every way a server refuses, and is paid once per Manager.

With ``transports=['websocket']`` and no ``protocol``, the first handshake asks for ``EIO=3``;
servers that do not speak it refuse each in their own way (ARCHITECTURE.md, "Protocol
detection"): socket.io 4.x writes a raw HTTP 400 behind the 101, socket.io 3.x stays silent,
python-engineio under uvicorn answers HTTP 403.  Whatever the refusal, the client asks again
with ``EIO=4``; the revision found is remembered per server for the whole process, so
reconnections and later Managers to that server do not ask again.

Every retry is logged at DEBUG by ``sioclient.engine`` as "handshake retried with EIO=4": the
tests count those records to count the probes paid.
"""

from __future__ import annotations

import logging
from typing import Any, Iterator

import pytest
from integration_util import (  # noqa: F401 - clients_fixture: the `clients` fixture
    WAIT,
    Clients,
    clients_fixture,
    collect,
    eventually,
    expect,
)

KINDS = [
    pytest.param("python-asgi", id="python-asgi"),
    pytest.param("node2", id="node2", marks=pytest.mark.node),
    pytest.param("node3", id="node3", marks=pytest.mark.node),
    pytest.param("node4", id="node4", marks=pytest.mark.node),
]
MODES = {"websocket": ["websocket"], "polling": ["polling"], "upgrade": ["polling", "websocket"]}


@pytest.fixture(scope="module", params=KINDS)
def server(request: pytest.FixtureRequest) -> Iterator[Any]:
    from servers import ServerProcess

    if request.param.startswith("node"):
        request.getfixturevalue("node_peers")
    srv = ServerProcess(request.param, pingInterval=1000, pingTimeout=1000).start()
    try:
        yield srv
    finally:
        srv.close()


class Probes(logging.Handler):
    """Counts the EIO=4 retries the engines log (one per probe paid)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.reasons: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith("handshake retried with EIO=4"):
            self.reasons.append(message)


@pytest.fixture
def probes() -> Iterator[Probes]:
    handler = Probes()
    logger = logging.getLogger("sioclient.engine")
    level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def _expected_protocol(kind: str) -> int:
    return 4 if kind == "node2" else 5


@pytest.mark.parametrize("mode", list(MODES))
def test_connects_whatever_the_refusal(server, mode, probes: Probes, clients: Clients) -> None:
    sock = clients.connect(server.url, transports=MODES[mode], reconnection=False)
    assert sock.io.protocol == _expected_protocol(server.kind)
    assert sock.call("ack", "hello", timeout=WAIT) == "hello"
    if mode == "websocket":
        # polling always asks EIO=4 and reads the revision from the answer's framing
        info = sock.call("get-handshake", timeout=WAIT)
        assert int(info["query"]["EIO"]) == (3 if server.kind == "node2" else 4)
    if mode == "websocket" and server.kind != "node2":
        assert len(probes.reasons) == 1  # EIO=3 refused once, then EIO=4
    else:
        assert probes.reasons == []  # polling tells from the framing; 2.x accepts EIO=3


def test_probe_is_paid_once_per_manager(server, probes: Probes, clients: Clients) -> None:
    """Reconnections ask for the revision found the first time: no further probe."""
    sock = clients.connect(server.url, transports=["websocket"], reconnection_delay=0.05)
    manager = sock.io
    paid = len(probes.reasons)
    assert paid == (0 if server.kind == "node2" else 1)
    reconnects = collect(manager, "reconnect")
    for n in range(1, 4):
        sock.emit("close-engine")  # the server drops the connection: the manager reconnects
        reconnects.wait(n)
        assert sock.call("ack", n, timeout=WAIT) == n
        assert manager.protocol == _expected_protocol(server.kind)
    assert len(probes.reasons) == paid
    assert manager.opts["protocol"] is None  # the user's own value stays as given


def test_probe_is_not_paid_again_after_a_restart(
    sio_server, probes: Probes, clients: Clients
) -> None:
    """Attempts that cannot reach the server (it restarts) keep what was learnt."""
    for kind in ("python-asgi", "node4"):
        probes.reasons.clear()
        server = sio_server(kind)
        sock = clients.connect(server.url, transports=["websocket"], reconnection_delay=0.05)
        refused = expect(sock.io, "reconnect_error")
        reconnected = expect(sock.io, "reconnect")
        server.stop()
        refused.get(timeout=WAIT)
        server.restart()
        reconnected.get(timeout=WAIT)
        assert sock.call("ack", kind, timeout=WAIT) == kind
        assert len(probes.reasons) == 1


@pytest.mark.node
def test_detects_again_when_another_generation_answers(
    sio_server, probes: Probes, clients: Clients
) -> None:
    """A 4.x server replaced by a 2.x one on the same port: the remembered revision fails
    (ping timeout) and is forgotten, and the next attempt detects revision 4."""
    quick = {"pingInterval": 300, "pingTimeout": 300}
    first = sio_server("node4", **quick)
    sock = clients.connect(first.url, transports=["websocket"], reconnection_delay=0.05)
    assert sock.io.protocol == 5
    port = first.port
    first.close()
    second = sio_server("node2", port=port, **quick)
    eventually(
        lambda: sock.connected and sock.io.protocol == 4,
        timeout=WAIT * 2,
        what="a connection speaking revision 4",
    )
    assert sock.call("ack", "2.x", timeout=WAIT) == "2.x"
    second.close()


def test_probe_is_paid_once_per_server(server, probes: Probes, clients: Clients) -> None:
    """Later Managers to the same server ask for the revision found at once; another path on
    the same host and port is another server, which is detected for itself."""
    for n in range(3):
        sock = clients.connect(server.url, transports=["websocket"], reconnection=False)
        assert sock.io.protocol == _expected_protocol(server.kind)
        assert sock.call("ack", n, timeout=WAIT) == n
    paid = len(probes.reasons)
    assert paid == (0 if server.kind == "node2" else 1)
    other = clients.io(server.url, transports=["websocket"], reconnection=False, path="/other")
    expect(other.io, "connect_error").get(timeout=WAIT)  # nothing listens there
    assert len(probes.reasons) == paid + 1  # refused at EIO=3, then asked with EIO=4


def test_managers_started_together_pay_one_probe(server, probes: Probes, clients: Clients) -> None:
    """Managers that start while the first detection to their server is in flight wait for
    it and ask for the revision it found."""
    socks = [
        clients.io(server.url, transports=["websocket"], reconnection=False) for _ in range(20)
    ]
    connected = [expect(sock, "connect") for sock in socks]
    for result in connected:
        result.get(timeout=WAIT)
    assert {sock.io.protocol for sock in socks} == {_expected_protocol(server.kind)}
    assert len(probes.reasons) == (0 if server.kind == "node2" else 1)


def test_waiting_managers_go_on_when_the_detection_fails(
    server, probes: Probes, clients: Clients
) -> None:
    """The detecting attempt times out (timeout 0) or is closed, a waiting one is closed:
    the managers that waited connect all the same, one of them detecting in its turn."""
    ws_only = {"transports": ["websocket"], "reconnection": False}
    first = clients.io(server.url, timeout=0, **ws_only)
    timed_out = expect(first.io, "connect_timeout")
    closed = clients.io(server.url, **ws_only)
    waiting = [clients.io(server.url, **ws_only) for _ in range(4)]
    connected = [expect(sock, "connect") for sock in waiting]
    closed.io.close()  # a waiting attempt given up: nothing waits for it
    timed_out.get(timeout=WAIT)
    for sock, result in zip(waiting, connected):
        result.get(timeout=WAIT)
        assert sock.io.protocol == _expected_protocol(server.kind)
        assert sock.call("ack", 1, timeout=WAIT) == 1
    assert not closed.connected and not first.connected
    from sioclient.manager import forget_detected

    forget_detected()
    detecting = clients.io(server.url, **ws_only)
    after = clients.io(server.url, **ws_only)
    reconnected = expect(after, "connect")
    detecting.io.close()  # the detecting attempt given up: the one waiting goes on
    reconnected.get(timeout=WAIT)
    assert after.io.protocol == _expected_protocol(server.kind)
    assert len(probes.reasons) <= (0 if server.kind == "node2" else 2)


@pytest.mark.node
@pytest.mark.parametrize("before,after", [("node4", "node2"), ("node2", "node4")])
def test_new_manager_detects_again_when_another_generation_answers(
    sio_server, probes: Probes, clients: Clients, before: str, after: str
) -> None:
    """A server replaced by one of another generation on the same port: a new Manager asks
    for the revision remembered from the first, which fails, is forgotten, and the Manager's
    next attempt detects the new one."""
    quick = {"pingInterval": 300, "pingTimeout": 300}
    first = sio_server(before, **quick)
    sock = clients.connect(first.url, transports=["websocket"], reconnection=False)
    assert sock.io.protocol == (4 if before == "node2" else 5)
    sock.disconnect()
    port = first.port
    first.close()
    second = sio_server(after, port=port, **quick)
    sock = clients.io(second.url, transports=["websocket"], reconnection_delay=0.05)
    eventually(
        lambda: sock.connected and sock.io.protocol == (4 if after == "node2" else 5),
        timeout=WAIT * 2,
        what="a connection speaking the new server's revision",
    )
    assert sock.call("ack", after, timeout=WAIT) == after
    second.close()


def test_asgi_server_speaks_the_vocabulary(sio_server, clients: Clients) -> None:
    """The uvicorn server answers the events the other test servers answer."""
    server = sio_server("python-asgi")
    sock = clients.connect(server.url, transports=["websocket"])
    echoed = expect(sock, "echo")
    assert sock.call("echo", 1, "two", {"three": 3}, timeout=WAIT) == (1, "two", {"three": 3})
    assert echoed.get(timeout=WAIT) == (1, "two", {"three": 3})
    assert sock.call("ack", b"\x00\x01", timeout=WAIT) == b"\x00\x01"
    private = clients.io(server.url + "/private", auth={"token": "secret"})
    assert expect(private, "connect").get(timeout=WAIT) == ()
    refused = clients.io(server.url + "/private", auth={"token": "wrong"}, reconnection=False)
    (err,) = expect(refused, "connect_error").get(timeout=WAIT)
    assert "not authorized" in str(err)
