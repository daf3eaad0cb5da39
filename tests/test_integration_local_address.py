"""``local_address``: both transports connect from the source address given (127.0.0.2)."""

from __future__ import annotations

import pytest
from integration_util import (
    MODES,
    WAIT,
    Clients,
    clients_fixture,  # noqa: F401 - the `clients` fixture
    eventually,
    expect,
)

import sioclient

KINDS = [
    pytest.param("node2", marks=pytest.mark.node),
    pytest.param("node4", marks=pytest.mark.node),
    "python",
]


def _address(hs: dict) -> str:
    # Node may write an IPv4 peer in its IPv6-mapped form
    return str(hs["address"]).removeprefix("::ffff:")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("mode", ["polling", "websocket", "upgrade"])
def test_source_address(sio_server, kind, mode, clients: Clients) -> None:
    server = sio_server(kind, pingInterval=400, pingTimeout=400)
    sock = clients.connect(server.url, local_address="127.0.0.2", **MODES[mode])
    assert _address(sock.call("get-handshake", timeout=WAIT)) == "127.0.0.2"
    # the JavaScript name
    other = clients.connect(server.url, {"localAddress": "127.0.0.3", **MODES[mode]})
    assert _address(other.call("get-handshake", timeout=WAIT)) == "127.0.0.3"
    # without it: the kernel's choice for 127.0.0.1
    plain = clients.connect(server.url, **MODES[mode])
    assert _address(plain.call("get-handshake", timeout=WAIT)) == "127.0.0.1"


@pytest.mark.node
def test_source_address_of_the_upgrade_websocket(sio_server, tinyproxy, clients: Clients):
    """The WebSocket of an upgrade binds too: this proxy lets 127.0.0.2 in and nobody else, so
    a WebSocket from another address would be refused and the upgrade would not complete."""
    server = sio_server("node4", pingInterval=400, pingTimeout=400)
    proxy = tinyproxy(allow="127.0.0.2")
    refused = clients.io(server.url, proxy=proxy.url(), reconnection=False)
    assert "403" in str(expect(refused, "connect_error").get(timeout=WAIT)[0])
    sock = clients.connect(server.url, local_address="127.0.0.2", proxy=proxy.url())
    eventually(lambda: sock.call("get-handshake", timeout=WAIT)["transport"] == "websocket")
    assert len(proxy.tunnels()) >= 2  # the polling connection(s) and the WebSocket


def test_an_address_not_of_this_machine_fails_clearly(clients: Clients, sio_server) -> None:
    server = sio_server("python")
    sock = clients.io(server.url, local_address="192.0.2.1", reconnection=False)
    err = expect(sock, "connect_error").get(timeout=WAIT)[0]
    assert isinstance(err, sioclient.ConnectionError)
    assert "cannot connect" in str(err)
