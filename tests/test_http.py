"""The h11 HTTP client against gevent's pywsgi (in-process) and small raw TCP servers.

Nothing here monkey-patches: the servers run on gevent sockets in this process and the client
must cooperate with them on its own.  One test repeats the basics in a monkey-patched child.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap

import gevent
import gevent.event
import pytest
from gevent import pywsgi
from gevent.server import StreamServer
from integration_util import background

import sioclient
from sioclient.transports.cookies import CookieJar
from sioclient.transports.http import (
    HTTPClient,
    HTTPConnection,
    host_header,
    open_connection,
)
from sioclient.url import split_url

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class App:
    """The WSGI application; ``release`` unblocks /wait, ``entered`` tells a handler started."""

    def __init__(self) -> None:
        self.release = gevent.event.Event()
        self.entered = gevent.event.Event()

    def __call__(self, environ, start_response):
        path = environ["PATH_INFO"]
        query = environ.get("QUERY_STRING", "")
        headers = [("Content-Type", "text/plain")]
        status = "200 OK"
        body = b""
        if path == "/port":
            body = environ["REMOTE_PORT"].encode()
        elif path == "/echo":
            body = environ["wsgi.input"].read()
            headers.append(("X-Method", environ["REQUEST_METHOD"]))
        elif path.startswith("/headers"):
            seen = {k[5:].lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
            body = json.dumps(seen).encode()
        elif path == "/setcookie":
            headers += [
                ("Set-Cookie", "io=abc; Path=/"),
                ("Set-Cookie", "lb=node1; Path=/sticky"),
                ("Set-Cookie", "old=1; Max-Age=0"),
                ("Set-Cookie", "sec=1; Path=/; Secure"),
            ]
        elif path == "/wait":
            self.entered.set()
            self.release.wait(30)
            body = environ["REMOTE_PORT"].encode()
        elif path == "/release":
            self.release.set()
            body = environ["REMOTE_PORT"].encode()
        elif path == "/hang":
            self.entered.set()
            self.release.wait(30)
        elif path == "/big":
            body = b"b" * int(query)
        elif path == "/chunked":
            start_response(status, headers)
            return (b"c" * 1000 for _ in range(int(query) // 1000))
        elif path == "/bighead":
            headers.append(("X-Big", "h" * 100_000))
        elif path == "/close":
            headers.append(("Connection", "close"))
            body = environ["REMOTE_PORT"].encode()
        elif path == "/missing":
            status = "404 Not Found"
            body = b"nope"
        headers.append(("Content-Length", str(len(body))))
        start_response(status, headers)
        return [body]


@pytest.fixture
def app():
    application = App()
    yield application
    application.release.set()


@pytest.fixture
def wsgi(app):
    server = pywsgi.WSGIServer(("127.0.0.1", 0), app, log=None, error_log=None)
    server.start()
    yield server
    server.stop(timeout=5)


@pytest.fixture
def client(wsgi):
    c = HTTPClient(f"http://127.0.0.1:{wsgi.server_port}")
    yield c
    c.close()


def _read_head(sock) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            return b""
        data += chunk
    return data


@pytest.fixture
def raw_server():
    """Starts a StreamServer around ``handler(sock, n)`` (n: the connection's number)."""
    servers = []

    def start(handler):
        count = [0]

        def handle(sock, _addr):
            count[0] += 1
            handler(sock, count[0])

        server = StreamServer(("127.0.0.1", 0), handle)
        server.start()
        servers.append(server)
        return server.server_port

    yield start
    for server in servers:
        server.stop(timeout=5)


def test_keep_alive_reuses_the_connection(wsgi):
    conn = HTTPConnection("127.0.0.1", wsgi.server_port)
    try:
        ports = {conn.request("GET", "/port", timeout=5).body for _ in range(5)}
        assert len(ports) == 1
        assert conn.connections_opened == 1
    finally:
        conn.close()


def test_post_body_status_and_headers(client):
    resp = client.request("POST", "/echo", {"Content-Type": "text/plain"}, b"abc\x00", timeout=5)
    assert resp.status == 200
    assert resp.body == b"abc\x00"
    assert resp.header("X-METHOD") == "POST"
    assert resp.header("x-absent", "d") == "d"
    assert client.request("POST", "/echo", body="é", timeout=5).body == "é".encode()
    missing = client.request("GET", "/missing", timeout=5)
    assert (missing.status, missing.reason, missing.body) == (404, "Not Found", b"nope")


def test_cookies_sent_back(client):
    client.request("GET", "/setcookie", timeout=5)
    assert client.cookies.get("io") == "abc"
    assert "old" not in client.cookies
    assert "sec" not in client.cookies  # Secure cookie over plain HTTP is refused
    seen = json.loads(client.request("GET", "/headers", timeout=5).body)
    assert seen["cookie"] == "io=abc"
    sticky = json.loads(client.request("GET", "/headers?x", {"X-A": "1"}, timeout=5).body)
    assert sticky["x_a"] == "1"
    assert sticky["cookie"] == "io=abc"  # lb=node1 is for /sticky only


def test_cookie_path_scoping(wsgi):
    jar = CookieJar()
    client = HTTPClient(host="127.0.0.1", port=wsgi.server_port, cookies=jar)
    try:
        client.request("GET", "/setcookie", timeout=5)
        assert jar.header("/sticky/poll") == "io=abc; lb=node1"
        assert jar.header("/other") == "io=abc"
    finally:
        client.close()


def test_default_headers_and_host(wsgi):
    client = HTTPClient(f"http://127.0.0.1:{wsgi.server_port}", headers={"X-Default": "d"})
    try:
        seen = json.loads(client.request("GET", "/headers", timeout=5).body)
        assert seen["x_default"] == "d"
        assert seen["host"] == f"127.0.0.1:{wsgi.server_port}"
    finally:
        client.close()


def test_connection_close_header_reconnects(wsgi):
    conn = HTTPConnection("127.0.0.1", wsgi.server_port)
    try:
        first = conn.request("GET", "/close", timeout=5).body
        second = conn.request("GET", "/close", timeout=5).body
        assert first != second
        assert conn.connections_opened == 2
    finally:
        conn.close()


def _answer(sock, body=b"ok"):
    sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))


def test_idle_connection_closed_by_server(raw_server):
    def one_per_connection(sock, n):
        _read_head(sock)
        _answer(sock, b"conn%d" % n)
        sock.close()  # keep-alive promised, then closed while idle

    port = raw_server(one_per_connection)
    conn = HTTPConnection("127.0.0.1", port)
    try:
        assert conn.request("GET", "/", timeout=5).body == b"conn1"
        assert conn.request("POST", "/", body=b"x", timeout=5).body == b"conn2"
        assert conn.connections_opened == 2
    finally:
        conn.close()


def _swallow_second(sock, n):
    _read_head(sock)
    _answer(sock, b"conn%d" % n)
    if n == 1:
        _read_head(sock)  # the next request on this connection gets no answer
        sock.close()
        return
    while _read_head(sock):
        _answer(sock, b"conn%d" % n)


def test_dead_reused_connection_retries_get(raw_server):
    conn = HTTPConnection("127.0.0.1", raw_server(_swallow_second))
    try:
        assert conn.request("GET", "/", timeout=5).body == b"conn1"
        assert conn.request("GET", "/", timeout=5).body == b"conn2"
    finally:
        conn.close()


def test_dead_reused_connection_does_not_retry_post(raw_server):
    conn = HTTPConnection("127.0.0.1", raw_server(_swallow_second))
    try:
        assert conn.request("GET", "/", timeout=5).body == b"conn1"
        with pytest.raises(sioclient.ConnectionError):
            conn.request("POST", "/", body=b"once", timeout=5)
        assert conn.request("POST", "/", body=b"again", timeout=5).body == b"conn2"
    finally:
        conn.close()


def test_request_timeout_then_recovers(client, app):
    with gevent.Timeout(10):
        with pytest.raises(sioclient.TimeoutError):
            client.request("GET", "/hang", timeout=0.3)
    app.release.set()
    assert client.request("GET", "/port", timeout=5).status == 200


def test_silent_server_times_out():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)  # TCP accepted by the kernel, never answered
    client = HTTPClient(f"http://127.0.0.1:{listener.getsockname()[1]}")
    try:
        with gevent.Timeout(10):
            with pytest.raises(sioclient.TimeoutError):
                client.request("GET", "/", timeout=0.3)
    finally:
        client.close()
        listener.close()


def test_connection_refused():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    client = HTTPClient(f"http://127.0.0.1:{port}")
    with pytest.raises(sioclient.ConnectionError, match="cannot connect"):
        client.request("GET", "/", timeout=5)
    client.close()


def test_dns_failure():
    with gevent.Timeout(30):
        with pytest.raises(sioclient.ConnectionError, match="resolve"):
            open_connection("no-such-host.invalid", 80, timeout=20)


def test_body_and_header_bounds(wsgi):
    client = HTTPClient(f"http://127.0.0.1:{wsgi.server_port}", max_body=10_000)
    try:
        assert client.request("GET", "/big?10000", timeout=5).body == b"b" * 10_000
        with pytest.raises(sioclient.ProtocolError):
            client.request("GET", "/big?10001", timeout=5)
        with pytest.raises(sioclient.ProtocolError):
            client.request("GET", "/chunked?20000", timeout=5)
        assert len(client.request("GET", "/chunked?20000", timeout=5, max_body=20_000).body) == (
            20_000
        )
    finally:
        client.close()
    small = HTTPClient(f"http://127.0.0.1:{wsgi.server_port}", max_header=16 * 1024)
    try:
        with pytest.raises(sioclient.ProtocolError):
            small.request("GET", "/bighead", timeout=5)
    finally:
        small.close()


def test_two_requests_in_flight(client, app):
    poll = gevent.spawn(client.request, "GET", "/wait", timeout=10)
    assert app.entered.wait(5)
    post = client.request("POST", "/release", body=b"1", timeout=5)
    got = poll.get(timeout=10)
    assert got.status == post.status == 200
    assert got.body != post.body  # two connections
    # both went back to the pool and are reused
    again = {client.request("GET", "/port", timeout=5).body for _ in range(3)}
    assert again <= {got.body, post.body}


def test_close_aborts_request_in_flight(client, app):
    poll = background(client.request, "GET", "/hang", timeout=20)
    assert app.entered.wait(5)
    client.close()
    with pytest.raises(sioclient.ConnectionError):
        poll.get(timeout=5)
    with pytest.raises(sioclient.ConnectionError):
        client.request("GET", "/port", timeout=5)


def test_ipv6_host_header(app):
    try:
        server = pywsgi.WSGIServer(("::1", 0), app, log=None, error_log=None)
        server.start()
    except OSError:
        pytest.skip("no IPv6 loopback")
    client = HTTPClient(f"http://[::1]:{server.server_port}")
    try:
        seen = json.loads(client.request("GET", "/headers", timeout=5).body)
        assert seen["host"] == f"[::1]:{server.server_port}"
    finally:
        client.close()
        server.stop(timeout=5)


def test_url_and_host_helpers():
    assert split_url("https://[::1]:8443/a?b=1") == (True, "::1", 8443, "/a?b=1")
    assert split_url("ws://example.com") == (False, "example.com", 80, "/")
    assert split_url("wss://example.com/x") == (True, "example.com", 443, "/x")
    with pytest.raises(ValueError):
        split_url("ftp://x/")
    assert host_header("::1", 80, False) == "[::1]"
    assert host_header("[::1]", 8080, False) == "[::1]:8080"
    assert host_header("example.com", 443, True) == "example.com"
    assert host_header("example.com", 443, False) == "example.com:443"


MONKEY_SCRIPT = textwrap.dedent(
    """
    from gevent import monkey
    monkey.patch_all()
    import json, socket
    from gevent import pywsgi
    from sioclient.transports.http import HTTPClient

    def app(environ, start_response):
        body = environ["REMOTE_PORT"].encode()
        start_response("200 OK", [("Content-Length", str(len(body))),
                                  ("Set-Cookie", "io=1; Path=/")])
        return [body]

    server = pywsgi.WSGIServer(("127.0.0.1", 0), app, log=None)
    server.start()
    client = HTTPClient("http://127.0.0.1:%d" % server.server_port)
    ports = {client.request("GET", "/", timeout=5).body for _ in range(3)}
    assert len(ports) == 1 and client.cookies.get("io") == "1", (ports, client.cookies)
    client.close()
    server.stop(timeout=5)
    print("ok")
    """
)


def test_works_when_monkey_patched():
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run(
        [sys.executable, "-c", MONKEY_SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_cookie_jar_rules():
    jar = CookieJar()
    now = 1_000_000.0
    jar.extract(
        [
            ("Set-Cookie", "a=1; Max-Age=10; Expires=Wed, 21 Oct 2015 07:28:00 GMT"),
            ("Set-Cookie", "b=2; Expires=Wed, 21 Oct 2099 07:28:00 GMT"),
            ("Set-Cookie", "c=3; Path=/"),
            ("Content-Type", "text/plain"),
            ("Set-Cookie", "this is not a cookie;;;=="),
        ],
        path="/socket.io/?EIO=4",
        now=now,
    )
    assert jar.get("a") == "1"  # Max-Age wins over a past Expires
    assert jar.header("/socket.io/", now=now) == "a=1; b=2; c=3"
    # without a Path, a cookie belongs to the request path's directory (RFC 6265 5.1.4)
    assert jar.header("/socket.iox", now=now) == "c=3"
    assert jar.header("/", now=now) == "c=3"
    assert jar.header("/socket.io/x", now=now + 11) == "b=2; c=3"  # a expired
    assert "a" not in jar
    jar.extract([("set-cookie", "b=; Max-Age=0"), ("set-cookie", "c=; Max-Age=0")], now=now)
    assert jar.header("/socket.io/", now=now) is None
    jar.extract([("Set-Cookie", "s=1; Secure; Path=/")], secure=True, now=now)
    assert jar.header("/", secure=False, now=now) is None
    assert jar.header("/", secure=True, now=now) == "s=1"
    jar.clear()
    assert len(jar) == 0
