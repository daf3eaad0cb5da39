"""TLS: contexts from verify/cert/key, HTTPS against pywsgi, WSS against Node's ws (trustme CA)."""

from __future__ import annotations

import json
import os
import select
import shutil
import socket
import ssl
import subprocess

import gevent
import gevent.ssl
import pytest
import trustme
from gevent import pywsgi

import sioclient
from sioclient.transports import websocket
from sioclient.transports.http import HTTPClient
from sioclient.transports.tls import create_ssl_context

NODE_DIR = os.path.join(os.path.dirname(__file__), "node")
HAVE_NODE = shutil.which("node") is not None and os.path.isdir(
    os.path.join(NODE_DIR, "node_modules", "ws")
)


@pytest.fixture(scope="module")
def ca():
    return trustme.CA()


@pytest.fixture(scope="module")
def ca_file(ca, tmp_path_factory):
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


def _app(environ, start_response):
    peer = environ.get("wsgi.peer_cert", "")
    body = json.dumps({"host": environ.get("HTTP_HOST"), "peer": bool(peer)}).encode()
    start_response("200 OK", [("Content-Length", str(len(body)))])
    return [body]


def _server_context(ca, *names, client_ca=False):
    ctx = gevent.ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert(*names).configure_cert(ctx)
    if client_ca:
        ca.configure_trust(ctx)
        ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


class _HTTPSServer(pywsgi.WSGIServer):
    """A handshake the test makes fail on purpose (no client certificate, an unknown CA) ends
    the connection quietly instead of raising in the server's greenlet."""

    def wrap_socket_and_handle(self, client_socket, address):
        try:
            return super().wrap_socket_and_handle(client_socket, address)
        except (ssl.SSLError, OSError):
            client_socket.close()


@pytest.fixture
def https_server(ca):
    """Starts pywsgi over TLS with a certificate for the given names; stops them all."""
    servers = []

    def start(*names, host="127.0.0.1", client_ca=False):
        ctx = _server_context(ca, *names, client_ca=client_ca)
        server = _HTTPSServer((host, 0), _app, log=None, error_log=None, ssl_context=ctx)
        server.start()
        servers.append(server)
        return server.server_port

    yield start
    for server in servers:
        server.stop(timeout=5)


def _get(url, **kwargs):
    client = HTTPClient(url, **kwargs)
    try:
        return json.loads(client.request("GET", "/", timeout=10).body)
    finally:
        client.close()


def test_https_with_ca_bundle(https_server, ca_file):
    port = https_server("127.0.0.1", "localhost")
    assert _get(f"https://127.0.0.1:{port}", verify=ca_file)["host"] == f"127.0.0.1:{port}"
    assert _get(f"https://localhost:{port}", verify=ca_file)["host"] == f"localhost:{port}"


def test_https_with_a_stdlib_context(https_server, ca):
    # A plain ssl.SSLContext must still give a cooperative socket (the server runs in-process).
    ctx = ssl.create_default_context()
    ca.configure_trust(ctx)
    port = https_server("127.0.0.1")
    with gevent.Timeout(10):
        assert _get(f"https://127.0.0.1:{port}", verify=ctx)["host"]


def test_wrong_host_is_refused(https_server, ca_file):
    port = https_server("wrong.example")
    with pytest.raises(sioclient.ConnectionError, match="verif"):
        _get(f"https://127.0.0.1:{port}", verify=ca_file)


def test_unknown_ca_is_refused_by_default(https_server):
    port = https_server("127.0.0.1")
    with pytest.raises(sioclient.ConnectionError):
        _get(f"https://127.0.0.1:{port}")


def test_verify_false_accepts_anything(https_server):
    port = https_server("wrong.example")
    assert _get(f"https://127.0.0.1:{port}", verify=False)["host"] == f"127.0.0.1:{port}"


def test_ipv6_literal(https_server, ca_file):
    try:
        port = https_server("::1", host="::1")
    except OSError:
        pytest.skip("no IPv6 loopback")
    assert _get(f"https://[::1]:{port}", verify=ca_file)["host"] == f"[::1]:{port}"


def test_client_certificate(https_server, ca, ca_file, tmp_path):
    port = https_server("127.0.0.1", client_ca=True)
    leaf = ca.issue_cert("client@example")
    cert = tmp_path / "client.pem"
    key = tmp_path / "client.key"
    for blob in leaf.cert_chain_pems:
        with open(cert, "ab") as f:
            f.write(blob.bytes())
    leaf.private_key_pem.write_to_path(str(key))
    assert _get(f"https://127.0.0.1:{port}", verify=ca_file, cert=str(cert), key=str(key))
    with pytest.raises(sioclient.ConnectionError):
        _get(f"https://127.0.0.1:{port}", verify=ca_file)


def test_tls_handshake_timeout():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)  # TCP accepted, TLS never answered
    try:
        client = HTTPClient(f"https://127.0.0.1:{listener.getsockname()[1]}", connect_timeout=0.3)
        with gevent.Timeout(10):
            with pytest.raises(sioclient.TimeoutError):
                client.request("GET", "/", timeout=5)
        client.close()
    finally:
        listener.close()


def test_context_options(ca_file, tmp_path):
    assert create_ssl_context().verify_mode == ssl.CERT_REQUIRED
    assert create_ssl_context().check_hostname
    off = create_ssl_context(False)
    assert off.verify_mode == ssl.CERT_NONE and not off.check_hostname
    assert create_ssl_context(ca_file).verify_mode == ssl.CERT_REQUIRED
    assert create_ssl_context(str(tmp_path)).verify_mode == ssl.CERT_REQUIRED  # a CA directory
    mine = ssl.create_default_context()
    assert create_ssl_context(mine) is mine
    with pytest.raises(ValueError):
        create_ssl_context(mine, cert="c.pem")
    with pytest.raises(ValueError):
        create_ssl_context(str(tmp_path / "missing.pem"))
    with pytest.raises(ValueError):
        create_ssl_context(True, key="k.pem")
    with pytest.raises(TypeError):
        create_ssl_context(3)


@pytest.fixture
def wss_server(ca, tmp_path):
    if not HAVE_NODE:
        pytest.skip("node or tests/node/node_modules missing")
    leaf = ca.issue_cert("127.0.0.1", "localhost")
    cert, key = tmp_path / "server.pem", tmp_path / "server.key"
    leaf.cert_chain_pems[0].write_to_path(str(cert))
    leaf.private_key_pem.write_to_path(str(key))
    options = {"perMessageDeflate": True, "cert": str(cert), "key": str(key)}
    proc = subprocess.Popen(
        ["node", os.path.join(NODE_DIR, "ws_server.js"), json.dumps(options)],
        cwd=NODE_DIR,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 15)
        assert ready, "ws_server.js did not start within 15 s"
        yield json.loads(proc.stdout.readline())["port"]
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        proc.stdin.close()
        proc.stdout.close()


@pytest.mark.node
def test_wss(wss_server, ca_file):
    ws = websocket.connect(f"wss://127.0.0.1:{wss_server}/echo", verify=ca_file, timeout=10)
    try:
        ws.send("x" * 5000)
        ws.send(b"\x00\x01")
        assert ws.receive(timeout=10) == "x" * 5000
        assert ws.receive(timeout=10) == b"\x00\x01"
    finally:
        ws.close(timeout=5)
    with pytest.raises(sioclient.ConnectionError):
        websocket.connect(f"wss://127.0.0.1:{wss_server}/echo", timeout=10)
    ws = websocket.connect(f"wss://localhost:{wss_server}/echo", verify=False, timeout=10)
    ws.abort()
