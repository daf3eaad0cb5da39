"""Through a real HTTP proxy (tinyproxy): CONNECT tunnels for polling and WebSocket, plain and
TLS, Basic credentials, refusals, and the proxy variables of the environment."""

from __future__ import annotations

import logging

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

NODE = [
    pytest.param("node2", marks=pytest.mark.node),
    pytest.param("node4", marks=pytest.mark.node),
]
TRANSPORTS = ["polling", "websocket"]
CREDENTIALS = ("sio-user", "pr0xy-s3cret")
PING = {"pingInterval": 400, "pingTimeout": 400}


def _authority(url: str) -> str:
    return url.split("://", 1)[1]


@pytest.mark.parametrize("kind", NODE)
@pytest.mark.parametrize("mode", [*TRANSPORTS, "upgrade"])
def test_through_a_proxy_with_credentials(sio_server, tinyproxy, kind, mode, clients: Clients):
    """Every connection goes through the proxy's tunnel, Basic credentials accepted."""
    server = sio_server(kind, **PING)
    proxy = tinyproxy(auth=CREDENTIALS)
    sock = clients.connect(server.url, proxy=proxy.url(), **MODES[mode])
    assert sock.call("echo", [1, "two", b"\x03"], timeout=WAIT) == [1, "two", b"\x03"]
    if mode == "upgrade":  # the upgrade completes in the background
        eventually(lambda: sock.call("get-handshake", timeout=WAIT)["transport"] == "websocket")
    tunnels = proxy.tunnels()
    assert tunnels and set(tunnels) == {_authority(server.url)}
    if mode != "polling":
        assert len(tunnels) >= (2 if mode == "upgrade" else 1)


@pytest.mark.parametrize("mode", TRANSPORTS)
def test_through_a_proxy_without_credentials(sio_server, tinyproxy, mode, clients: Clients):
    """An open proxy, given in the JavaScript options dict; the python-socketio server."""
    server = sio_server("python", **PING)
    proxy = tinyproxy()
    sock = clients.connect(server.url, {"proxy": proxy.url(), **MODES[mode]})
    assert sock.call("echo", "open", timeout=WAIT) == "open"
    assert _authority(server.url) in proxy.tunnels()


@pytest.mark.parametrize("kind", NODE)
@pytest.mark.parametrize("mode", [*TRANSPORTS, "upgrade"])
def test_tls_inside_the_tunnel(sio_server, tinyproxy, tls_files, kind, mode, clients: Clients):
    """https:// and wss:// servers: TLS end to end, the proxy sees a tunnel only."""
    server = sio_server(kind, **PING, **tls_files.server_config())
    proxy = tinyproxy(auth=CREDENTIALS)
    sock = clients.connect(server.url, proxy=proxy.url(), verify=tls_files.ca_cert, **MODES[mode])
    assert sock.call("echo", "sealed", timeout=WAIT) == "sealed"
    assert set(proxy.tunnels()) == {_authority(server.url)}


@pytest.mark.node
@pytest.mark.parametrize("mode", TRANSPORTS)
def test_tls_client_certificate_through_the_proxy(
    sio_server, tinyproxy, tls_files, mode, clients: Clients
):
    server = sio_server("node4", **PING, **tls_files.server_config(client_auth=True))
    proxy = tinyproxy(auth=CREDENTIALS)
    sock = clients.connect(
        server.url,
        proxy=proxy.url(),
        verify=tls_files.ca_cert,
        cert=tls_files.client_cert,
        key=tls_files.client_key,
        **MODES[mode],
    )
    assert sock.call("echo", mode, timeout=WAIT) == mode


def _refused(clients: Clients, url: str, proxy: str, mode: str, caplog) -> BaseException:
    sock = clients.io(url, proxy=proxy, reconnection=False, **MODES[mode])
    with caplog.at_level(logging.DEBUG, logger="sioclient"):
        err = expect(sock, "connect_error").get(timeout=WAIT)[0]
    assert isinstance(err, sioclient.ConnectionError)
    assert not sock.connected
    # the proxy's credentials are secrets: in no message and no log record
    for text in [str(err), repr(err), caplog.text]:
        assert CREDENTIALS[1] not in text
        assert "wr0ng-s3cret" not in text
    return err


@pytest.mark.parametrize("kind", NODE)
@pytest.mark.parametrize("mode", TRANSPORTS)
def test_proxy_refusals_are_clear(sio_server, tinyproxy, refused_port, kind, mode, caplog, clients):
    server = sio_server(kind, **PING)
    proxy = tinyproxy(auth=CREDENTIALS)
    where = f"the proxy 127.0.0.1:{proxy.port}"
    # no credentials: 407
    err = _refused(clients, server.url, proxy.url(False), mode, caplog)
    assert f"{where} refused the tunnel" in str(err) and "407" in str(err)
    assert "wants credentials" in str(err)
    # wrong credentials (tinyproxy says 401)
    err = _refused(clients, server.url, proxy.url((CREDENTIALS[0], "wr0ng-s3cret")), mode, caplog)
    assert f"{where} refused the tunnel" in str(err) and "check the user name" in str(err)
    # a proxy that tunnels to port 443 only: 403
    strict = tinyproxy(auth=CREDENTIALS, connect_ports=[443])
    err = _refused(clients, server.url, strict.url(), mode, caplog)
    assert f"127.0.0.1:{strict.port} refused the tunnel" in str(err) and "403" in str(err)
    # no proxy listening
    err = _refused(
        clients,
        server.url,
        f"http://{CREDENTIALS[0]}:{CREDENTIALS[1]}@127.0.0.1:{refused_port}",
        mode,
        caplog,
    )
    assert f"cannot reach the proxy 127.0.0.1:{refused_port}" in str(err)


@pytest.mark.node
def test_refused_proxy_keeps_reconnecting_until_it_accepts(sio_server, tinyproxy, clients):
    """A refusal is a failed attempt like any other: reconnection goes on, and succeeds once
    the proxy lets the client through (the options of the next attempt are read anew)."""
    server = sio_server("node4", **PING)
    proxy = tinyproxy(auth=CREDENTIALS)
    sock = clients.io(
        server.url,
        proxy=proxy.url(False),
        reconnection_delay=0.05,
        reconnection_delay_max=0.1,
        transports=["websocket"],
    )
    failed = expect(sock.io, "reconnect_error")
    failed.get(timeout=WAIT)
    connected = expect(sock, "connect")
    sock.io.opts["proxy"] = proxy.url()
    connected.get(timeout=WAIT)
    assert sock.call("echo", "in", timeout=WAIT) == "in"


@pytest.mark.parametrize("kind", NODE)
@pytest.mark.parametrize("mode", TRANSPORTS)
def test_environment_variables(sio_server, tinyproxy, tls_files, monkeypatch, kind, mode, clients):
    """HTTP_PROXY for http://, HTTPS_PROXY for https://; NO_PROXY and proxy=False bypass."""
    plain = sio_server(kind, **PING)
    secure = sio_server(kind, **PING, **tls_files.server_config())
    http_proxy = tinyproxy(auth=CREDENTIALS)
    https_proxy = tinyproxy()
    monkeypatch.setenv("HTTP_PROXY", http_proxy.url())
    monkeypatch.setenv("https_proxy", https_proxy.url())

    sock = clients.connect(plain.url, **MODES[mode])
    assert sock.call("echo", 1, timeout=WAIT) == 1
    sock = clients.connect(secure.url, verify=tls_files.ca_cert, **MODES[mode])
    assert sock.call("echo", 2, timeout=WAIT) == 2
    assert set(http_proxy.tunnels()) == {_authority(plain.url)}
    assert set(https_proxy.tunnels()) == {_authority(secure.url)}

    # proxy=False turns the environment off
    before = len(http_proxy.tunnels()) + len(https_proxy.tunnels())
    sock = clients.connect(plain.url, proxy=False, **MODES[mode])
    assert sock.call("echo", 3, timeout=WAIT) == 3
    sock = clients.connect(secure.url, {"proxy": False}, verify=tls_files.ca_cert, **MODES[mode])
    assert sock.call("echo", 4, timeout=WAIT) == 4
    # and so does NO_PROXY for the hosts it names
    monkeypatch.setenv("NO_PROXY", "example.com,127.0.0.1")
    sock = clients.connect(plain.url, **MODES[mode])
    assert sock.call("echo", 5, timeout=WAIT) == 5
    assert len(http_proxy.tunnels()) + len(https_proxy.tunnels()) == before

    # a proxy variable that refuses: the error names the proxy, never its credentials
    monkeypatch.delenv("NO_PROXY")
    monkeypatch.setenv("HTTP_PROXY", http_proxy.url((CREDENTIALS[0], "wr0ng-s3cret")))
    sock = clients.io(plain.url, reconnection=False, **MODES[mode])
    err = expect(sock, "connect_error").get(timeout=WAIT)[0]
    assert f"the proxy 127.0.0.1:{http_proxy.port} refused" in str(err)
    assert "wr0ng-s3cret" not in str(err)
