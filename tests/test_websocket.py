"""The WebSocket client against Node's ``ws`` (tests/node/ws_server.js)."""

from __future__ import annotations

import json
import os
import select
import shutil
import socket
import subprocess

import gevent
import gevent.event
import gevent.socket
import pytest
from wsproto.utilities import generate_accept_token

import sioclient
from sioclient.transports import websocket
from sioclient.transports.cookies import CookieJar
from sioclient.transports.websocket import HandshakeRefused, connect

NODE_DIR = os.path.join(os.path.dirname(__file__), "node")
SERVER_JS = os.path.join(NODE_DIR, "ws_server.js")

pytestmark = [
    pytest.mark.node,
    pytest.mark.skipif(
        shutil.which("node") is None
        or not os.path.isdir(os.path.join(NODE_DIR, "node_modules", "ws")),
        reason="node or tests/node/node_modules missing",
    ),
]


class NodeServer:
    """ws_server.js in a subprocess; ``url(path)`` builds ws:// URLs to it."""

    def __init__(self, options: dict) -> None:
        self.proc = subprocess.Popen(
            ["node", SERVER_JS, json.dumps(options)],
            cwd=NODE_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            ready, _, _ = select.select([self.proc.stdout], [], [], 15)
            if not ready:
                raise RuntimeError("ws_server.js did not start within 15 s")
            info = json.loads(self.proc.stdout.readline())
            assert info["event"] == "listening"
            self.port = info["port"]
        except BaseException:
            self.stop()
            raise

    def url(self, path: str, scheme: str = "ws") -> str:
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream:
                stream.close()


@pytest.fixture(scope="module", params=[True, False], ids=["deflate", "plain"])
def server(request):
    srv = NodeServer({"perMessageDeflate": request.param})
    srv.deflate = request.param
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def deflate_server():
    srv = NodeServer({"perMessageDeflate": True})
    yield srv
    srv.stop()


@pytest.fixture
def open_ws():
    """Opens WebSockets and closes whatever the test left open."""
    opened = []

    def _open(url, *args, **kwargs):
        kwargs.setdefault("timeout", 10)
        ws = connect(url, *args, **kwargs)
        opened.append(ws)
        return ws

    yield _open
    for ws in opened:
        ws.abort()


def test_echo_text_and_binary(server, open_ws):
    ws = open_ws(server.url("/echo"))
    assert ws.per_message_deflate is server.deflate
    messages = ["hello", "é€😀" * 500, b"\x00\x01\xff", b"z" * 70000, "", b""]
    for message in messages:
        ws.send(message)
    for message in messages:
        got = ws.receive(timeout=10)
        assert type(got) is type(message)
        assert got == message


def test_large_messages(server, open_ws):
    ws = open_ws(server.url("/echo"))
    big_text = "".join(chr(32 + i % 90) for i in range(3_000_000))
    big_bin = os.urandom(2_000_000)
    ws.send(big_text)
    ws.send(big_bin)
    assert ws.receive(timeout=20) == big_text
    assert ws.receive(timeout=20) == big_bin
    ws = open_ws(server.url("/big?size=5000000"))
    assert ws.receive(timeout=20) == "y" * 5_000_000


def _inspect(ws, message, **kwargs):
    ws.send(message, **kwargs)
    return json.loads(ws.receive(timeout=10))


def test_compression_per_message(deflate_server, open_ws):
    ws = open_ws(deflate_server.url("/inspect"))
    assert ws.per_message_deflate
    # below the 1024-byte threshold: plain frames, as Node's ws does
    assert _inspect(ws, "a" * 1023) == {"binary": False, "length": 1023, "compressed": False}
    assert _inspect(ws, "a" * 1024)["compressed"] is True
    assert _inspect(ws, b"b" * 5000) == {"binary": True, "length": 5000, "compressed": True}
    # compress=False really sends that one message uncompressed...
    assert _inspect(ws, "c" * 5000, compress=False)["compressed"] is False
    # ...and the compression context carries on correctly afterwards
    for i in range(5):
        assert _inspect(ws, f"{i}" * 3000) == {"binary": False, "length": 3000, "compressed": True}
    ws.send_many(["d" * 2000, "e" * 10], compress=False)
    assert json.loads(ws.receive(timeout=10))["compressed"] is False
    assert json.loads(ws.receive(timeout=10))["compressed"] is False


def test_compression_options(deflate_server, open_ws):
    ws = open_ws(
        deflate_server.url("/inspect"),
        per_message_deflate={"client_no_context_takeover": True, "threshold": 10},
    )
    assert "client_no_context_takeover" in dict(ws.response_headers)["sec-websocket-extensions"]
    for _ in range(3):
        assert _inspect(ws, "q" * 100) == {"binary": False, "length": 100, "compressed": True}
    ws = open_ws(
        deflate_server.url("/echo"),
        per_message_deflate={"client_max_window_bits": 10, "server_no_context_takeover": True},
    )
    text = "abcdefgh" * 4000
    for _ in range(3):
        ws.send(text)
        assert ws.receive(timeout=10) == text
    with pytest.raises(ValueError, match="bogus"):
        connect(deflate_server.url("/echo"), per_message_deflate={"bogus": 1}, timeout=5)


def test_deflate_declined(server, open_ws):
    ws = open_ws(server.url("/inspect"), per_message_deflate=False)
    assert not ws.per_message_deflate
    assert _inspect(ws, "x" * 5000)["compressed"] is False


def test_send_many_and_order(server, open_ws):
    ws = open_ws(server.url("/count"))
    ws.send_many([f"m{i}" for i in range(1000)])
    ws.send_many([])
    ws.send(b"\x01" * 10)
    ws.send("done")
    assert json.loads(ws.receive(timeout=10)) == {
        "count": 1001,
        "bytes": sum(len(f"m{i}") for i in range(1000)) + 10,
    }
    echo = open_ws(server.url("/echo"))
    batch = [f"n{i}" if i % 3 else bytes([i % 256]) * 3 for i in range(300)]
    echo.send_many(batch)
    assert [echo.receive(timeout=10) for _ in batch] == batch


def test_headers_and_cookies(server, open_ws):
    jar = CookieJar()
    jar.set("io", "sid1")
    ws = open_ws(server.url("/headers"), {"X-Extra": "yes"}, cookies=jar)
    info = json.loads(ws.receive(timeout=10))
    assert info["headers"]["x-extra"] == "yes"
    assert info["headers"]["cookie"] == "io=sid1"
    assert info["headers"]["host"] == f"127.0.0.1:{server.port}"
    # the server's Set-Cookie on the 101 answer lands in the jar
    assert jar.get("ws_sticky") == "abc123"
    ws2 = open_ws(server.url("/headers"), cookies=jar)
    cookie = json.loads(ws2.receive(timeout=10))["headers"]["cookie"]
    assert sorted(cookie.split("; ")) == ["io=sid1", "ws_sticky=abc123"]


def test_server_ping_is_answered(server, open_ws):
    ws = open_ws(server.url("/ping"))
    assert ws.receive(timeout=10) == "pong:hello"


def test_fragmented_message(server, open_ws):
    ws = open_ws(server.url("/fragmented"))
    assert ws.receive(timeout=10) == "hello"


def test_server_close(server, open_ws):
    ws = open_ws(server.url("/close?code=4000&reason=bye"))
    assert ws.receive(timeout=10) is None
    assert ws.closed
    assert (ws.close_code, ws.close_reason) == (4000, "bye")
    assert ws.receive(timeout=1) is None
    with pytest.raises(sioclient.ConnectionError):
        ws.send("late")


def test_protocol_violation_closes(server, open_ws):
    ws = open_ws(server.url("/garbage"))
    assert ws.receive(timeout=10) is None
    assert ws.close_code == 1002


@pytest.mark.parametrize("size", [1_500_000, 50_000_000])
def test_oversize_message_refused(server, open_ws, size):
    ws = open_ws(server.url(f"/big?size={size}"), max_message_size=1_000_000)
    assert ws.receive(timeout=20) is None
    assert ws.close_code == 1009
    assert "1000000" in ws.close_reason


def test_handshake_refused_carries_status_and_body(server):
    with pytest.raises(HandshakeRefused) as info:
        connect(server.url("/refuse?EIO=3"), timeout=10)
    err = info.value
    assert isinstance(err, sioclient.ConnectionError)
    assert err.status == 400
    assert json.loads(err.body) == {"code": 5, "message": "Unsupported protocol version"}
    assert err.data == err.body
    assert ("content-type", "application/json") in err.headers


def test_receive_timeout_keeps_connection(server, open_ws):
    ws = open_ws(server.url("/echo"))
    with gevent.Timeout(5):
        with pytest.raises(sioclient.TimeoutError):
            ws.receive(timeout=0.2)
    ws.send("still here")
    assert ws.receive(timeout=10) == "still here"


def test_concurrent_reader_and_writers(server, open_ws):
    ws = open_ws(server.url("/echo"))
    per_writer = 400
    received = []

    def reader():
        while len(received) < 4 * per_writer:
            received.append(ws.receive(timeout=20))

    def writer(w):
        for i in range(per_writer):
            if i % 50 == 0:
                ws.send_many([f"{w}:{i}:" + "p" * 2000])  # some compressed, some not
            else:
                ws.send(f"{w}:{i}")
            if i % 100 == 0:
                gevent.sleep(0)

    greenlets = [gevent.spawn(reader)] + [gevent.spawn(writer, w) for w in range(4)]
    gevent.joinall(greenlets, timeout=60, raise_error=True)
    assert all(g.successful() for g in greenlets)
    for w in range(4):
        mine = [int(m.split(":")[1]) for m in received if m.startswith(f"{w}:")]
        assert mine == list(range(per_writer))


def test_close_handshake(server, open_ws):
    ws = open_ws(server.url("/echo"))
    ws.send("x")
    with gevent.Timeout(10):
        ws.close()
    assert ws.closed
    assert ws.close_code == 1000
    assert ws.receive(timeout=1) in ("x", None)
    with pytest.raises(sioclient.ConnectionError):
        ws.send("after close")
    ws.close()  # twice is harmless


def test_close_from_another_greenlet_wakes_reader(server, open_ws):
    ws = open_ws(server.url("/echo"))
    reader = gevent.spawn(ws.receive)
    gevent.sleep(0)  # let the reader block in recv (either order must work)
    ws.close(timeout=5)
    assert reader.get(timeout=10) is None
    assert ws.closed


def test_connection_refused():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    with pytest.raises(sioclient.ConnectionError):
        connect(f"ws://127.0.0.1:{port}/", timeout=5)


def test_silent_server_times_out():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)  # accepts TCP (backlog), never answers
    try:
        port = listener.getsockname()[1]
        with gevent.Timeout(10):
            with pytest.raises(sioclient.TimeoutError):
                connect(f"ws://127.0.0.1:{port}/", timeout=0.3)
    finally:
        listener.close()


@pytest.fixture
def raw_server():
    """A bare TCP server: reads one request head, writes ``reply`` (maybe nothing), closes."""
    started = []

    def _start(reply: bytes) -> int:
        listener = gevent.socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)

        def serve():
            conn, _ = listener.accept()
            with conn:
                head = b""
                while b"\r\n\r\n" not in head:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    head += chunk
                conn.sendall(reply)

        started.append((listener, gevent.spawn(serve)))
        return listener.getsockname()[1]

    yield _start
    for listener, greenlet in started:
        greenlet.kill(timeout=5)
        listener.close()


def test_server_closes_before_answering_handshake(raw_server):
    port = raw_server(b"")
    with gevent.Timeout(10):
        with pytest.raises(sioclient.ConnectionError, match="closed the connection") as info:
            connect(f"ws://127.0.0.1:{port}/", timeout=5)
    assert not isinstance(info.value, HandshakeRefused)


def test_refusal_body_ended_by_close(raw_server):
    # no Content-Length: the body runs to the end of the connection, which is no error
    port = raw_server(b"HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\ngo away")
    with gevent.Timeout(10):
        with pytest.raises(HandshakeRefused) as info:
            connect(f"ws://127.0.0.1:{port}/", timeout=5)
    assert info.value.status == 403
    assert info.value.body == b"go away"


def test_bad_urls():
    with pytest.raises(ValueError):
        connect("ftp://example.com/")
    with pytest.raises(ValueError):
        connect()


def test_module_defaults():
    assert websocket.COMPRESS_THRESHOLD == 1024


@pytest.fixture
def stalling_server():
    """A WebSocket peer that completes the handshake, reads nothing until ``resume`` is set,
    then counts every byte it gets; ``received(n)`` waits (bounded) until n bytes came."""
    listener = gevent.socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    class Peer:
        port = listener.getsockname()[1]
        resume = gevent.event.Event()
        total = 0
        changed = gevent.event.Event()

        def received(self, n: int, timeout: float = 10) -> None:
            with gevent.Timeout(timeout):
                while self.total < n:
                    self.changed.clear()
                    self.changed.wait()

    peer = Peer()

    def serve():
        conn, _ = listener.accept()
        with conn:
            head = b""
            while b"\r\n\r\n" not in head:
                head += conn.recv(4096)
            key = [
                line.split(b":", 1)[1].strip()
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"sec-websocket-key:")
            ][0]
            accept = generate_accept_token(key).decode()
            conn.sendall(
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept.encode() + b"\r\n\r\n"
            )
            peer.resume.wait()
            while True:
                data = conn.recv(65536)
                if not data:
                    return
                peer.total += len(data)
                peer.changed.set()

    greenlet = gevent.spawn(serve)
    yield peer
    greenlet.kill(timeout=5)
    listener.close()


def test_send_never_blocks_on_a_peer_that_stops_reading(stalling_server):
    """Sends return at once whatever the peer does: the bytes the kernel does not take wait in
    the buffer, ``writable`` turns False at ``max_buffer``, and once the peer reads again the
    buffer drains by itself and ``on_writable`` says so."""
    peer = stalling_server
    ws = connect(f"ws://127.0.0.1:{peer.port}/", per_message_deflate=False, timeout=5)
    try:
        ws.max_buffer = 256 * 1024
        woken = []
        ws.on_writable = lambda: woken.append(ws.buffered_amount)
        payload = b"x" * 65536
        frame = 2 + 8 + 4 + len(payload)  # header, 64-bit length, mask
        sent = 0
        assert ws.stalled_since is None
        with gevent.Timeout(10):  # a send that blocked would hang here
            while ws.writable and sent < 2000:
                ws.send(payload)
                sent += 1
        assert not ws.writable and sent < 2000
        assert ws.buffered_amount >= ws.max_buffer and ws.stalled_since is not None
        ws.send("one more")  # still taken: one send may go over the bound
        assert ws.buffered_amount >= ws.max_buffer + len("one more")
        peer.resume.set()
        peer.received(sent * frame + 2 + 4 + len("one more"))
        assert ws.buffered_amount == 0 and ws.stalled_since is None and ws.writable
        assert woken and woken[0] < ws.max_buffer
    finally:
        ws.abort()
    assert ws.buffered_amount == 0


def test_abort_drops_what_waits(stalling_server):
    ws = connect(f"ws://127.0.0.1:{stalling_server.port}/", per_message_deflate=False, timeout=5)
    calls = []
    ws.on_writable = lambda: calls.append(ws.closed)
    with gevent.Timeout(10):
        while ws.buffered_amount == 0:
            ws.send(b"y" * 65536)
    assert not ws.broken
    ws.abort()
    assert ws.buffered_amount == 0 and ws.stalled_since is None and calls == [True]
    assert ws.broken
    with pytest.raises(sioclient.ConnectionError):
        ws.send("closed")
