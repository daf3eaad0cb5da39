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


def _encrypted_client_key(tls_files, tmp_path, password: bytes) -> tuple[str, bytes]:
    from cryptography.hazmat.primitives import serialization

    with open(tls_files.client_key, "rb") as f:
        key = serialization.load_pem_private_key(f.read(), password=None)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(password),
    )
    path = tmp_path / "client-encrypted.key"
    path.write_bytes(pem)
    return str(path), pem


CLIENT_AUTH_KINDS = [
    pytest.param("node2", marks=pytest.mark.node),
    pytest.param("node4", marks=pytest.mark.node),
    "python",
]


@pytest.mark.parametrize("kind", CLIENT_AUTH_KINDS)
@pytest.mark.parametrize("mode", ["polling", "websocket"])
def test_tls_encrypted_key_with_passphrase(
    sio_server, tls_files, tmp_path, kind: str, mode: str, clients: Clients
) -> None:
    """A server that requires a client certificate; the key is encrypted.  Keyword arguments
    with paths, then the JavaScript options dict with the PEM contents (ca, cert, key)."""
    server = sio_server(kind, **tls_files.server_config(client_auth=True))
    key_path, key_pem = _encrypted_client_key(tls_files, tmp_path, b"c0rrect horse")
    sock = clients.connect(
        server.url,
        verify=tls_files.ca_cert,
        cert=tls_files.client_cert,
        key=key_path,
        passphrase="c0rrect horse",
        **MODES[mode],
    )
    assert sock.call("echo", "paths", timeout=WAIT) == "paths"
    sock.close()

    with open(tls_files.ca_cert) as f:
        ca_pem = f.read()
    with open(tls_files.client_cert) as f:
        cert_pem = f.read()
    options = {"ca": ca_pem, "cert": cert_pem, "key": key_pem, "passphrase": "c0rrect horse"}
    sock = clients.connect(server.url, options, **MODES[mode])
    assert sock.call("echo", "pem", timeout=WAIT) == "pem"


@pytest.mark.parametrize("kind", CLIENT_AUTH_KINDS)
@pytest.mark.parametrize("mode", ["polling", "websocket"])
def test_tls_client_certificate_missing(sio_server, tls_files, kind: str, mode: str, clients):
    """ca without cert/key, against a server that requires a client certificate: refused."""
    server = sio_server(kind, **tls_files.server_config(client_auth=True))
    sock = clients.io(server.url, verify=tls_files.ca_cert, reconnection=False, **MODES[mode])
    err = expect(sock, "connect_error").get(timeout=WAIT)[0]
    assert isinstance(err, sioclient.ConnectionError)


# the server's only suite, with TLS 1.2 at most (trustme's certificates carry ECDSA keys)
SERVER_CIPHER = "ECDHE-ECDSA-AES128-GCM-SHA256"


@pytest.mark.parametrize(
    "kind", [pytest.param(k, marks=pytest.mark.node) for k in ("node2", "node4")]
)
@pytest.mark.parametrize("mode", ["polling", "websocket"])
def test_tls_ciphers(sio_server, tls_files, kind: str, mode: str, clients: Clients) -> None:
    server = sio_server(
        kind, ciphers=SERVER_CIPHER, maxVersion="TLSv1.2", **tls_files.server_config()
    )
    sock = clients.connect(
        server.url,
        {"ciphers": f"ECDHE-ECDSA-AES256-GCM-SHA384:{SERVER_CIPHER}"},
        verify=tls_files.ca_cert,
        **MODES[mode],
    )
    assert sock.call("echo", "agreed", timeout=WAIT) == "agreed"
    sock.close()
    # a cipher the server does not offer: a clear connect_error, and the manager retries
    refused = clients.io(
        server.url,
        verify=tls_files.ca_cert,
        ciphers="ECDHE-ECDSA-AES256-GCM-SHA384",
        reconnection=False,
        **MODES[mode],
    )
    err = expect(refused, "connect_error").get(timeout=WAIT)[0]
    assert isinstance(err, sioclient.ConnectionError)
    assert "TLS handshake" in str(err) and "failed" in str(err)
    assert not refused.connected


@pytest.mark.node
def test_tls13_only_ciphers_against_a_tls12_server(sio_server, tls_files, clients) -> None:
    """A list of TLS 1.3 suites only (as Node reads it) cannot talk to a TLS 1.2 server."""
    server = sio_server("node4", maxVersion="TLSv1.2", **tls_files.server_config())
    refused = clients.io(
        server.url, verify=tls_files.ca_cert, ciphers="TLS_AES_256_GCM_SHA384", reconnection=False
    )
    err = expect(refused, "connect_error").get(timeout=WAIT)[0]
    assert "TLS handshake" in str(err)
    sock = clients.connect(
        server.url.replace("https", "wss"), verify=tls_files.ca_cert, transports=["websocket"]
    )
    assert sock.call("echo", 1, timeout=WAIT) == 1
