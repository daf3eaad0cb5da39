"""HTTPS/WSS against real servers with a trustme CA: trusted, refused, and unchecked."""

from __future__ import annotations

import ssl

import pytest
from integration_util import (
    MODES,
    WAIT,
    Clients,
    clients_fixture,  # noqa: F401 - the `clients` fixture
    expect,
)

import sioclient

KINDS = [
    pytest.param("node2", marks=pytest.mark.node),
    pytest.param("node4", marks=pytest.mark.node),
    "python",
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("mode", list(MODES))
def test_tls_trusted(sio_server, tls_files, kind: str, mode: str, clients: Clients) -> None:
    """verify = the CA bundle's path, then an SSLContext that trusts the CA."""
    server = sio_server(kind, **tls_files.server_config())
    assert server.url.startswith("https://")
    sock = clients.connect(server.url, verify=tls_files.ca_cert, **MODES[mode])
    assert sock.call("echo", b"\x00tls", timeout=WAIT) == b"\x00tls"
    sock.close()

    ctx = ssl.create_default_context()
    tls_files.ca.configure_trust(ctx)
    sock = clients.connect(server.url.replace("https://", "wss://"), verify=ctx, **MODES[mode])
    assert sock.call("echo", "ctx", timeout=WAIT) == "ctx"
    if mode == "upgrade":
        assert sock.call("get-handshake", timeout=WAIT)["transport"] in ("polling", "websocket")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("mode", ["polling", "websocket"])
def test_tls_wrong_host(sio_server, tls_files, kind: str, mode: str, clients: Clients) -> None:
    """A certificate for another host name is refused; verify=False accepts it."""
    server = sio_server(kind, **tls_files.server_config(wrong_host=True))
    refused = clients.io(server.url, verify=tls_files.ca_cert, reconnection=False, **MODES[mode])
    err = expect(refused, "connect_error").get(timeout=WAIT)[0]
    assert isinstance(err, sioclient.ConnectionError)
    assert not refused.connected

    sock = clients.connect(server.url, verify=False, **MODES[mode])
    assert sock.call("echo", "any", timeout=WAIT) == "any"


@pytest.mark.parametrize("mode", ["polling", "websocket"])
def test_tls_untrusted_ca(sio_server, tls_files, mode: str, clients: Clients) -> None:
    """The default verification (system CAs) does not trust the test CA."""
    server = sio_server("python", **tls_files.server_config())
    sock = clients.io(server.url, reconnection=False, **MODES[mode])
    err = expect(sock, "connect_error").get(timeout=WAIT)[0]
    assert isinstance(err, sioclient.ConnectionError)


@pytest.mark.node
def test_tls_client_certificate(sio_server, tls_files, clients: Clients) -> None:
    """cert/key: a server that requires a client certificate accepts ours."""
    server = sio_server("node4", **tls_files.server_config(client_auth=True))
    for mode in ("polling", "websocket"):
        sock = clients.connect(
            server.url,
            verify=tls_files.ca_cert,
            cert=tls_files.client_cert,
            key=tls_files.client_key,
            **MODES[mode],
        )
        assert sock.call("echo", mode, timeout=WAIT) == mode
        sock.close()
