"""The fault-injecting proxy itself, with plain sockets: each mode, switched while connections
are open.  Every wait is bounded."""

from __future__ import annotations

import socket as _socket
import time
from typing import Any, Iterator

import gevent
import pytest
from faultproxy import DOWN, MODES, UP, FaultProxy
from gevent import socket
from gevent.event import Event
from integration_util import eventually

WAIT = 5.0
#: how long "nothing arrives" is watched for
QUIET = 0.3


class _Peer:
    """The upstream end of one connection: records what it receives."""

    def __init__(self, sock: Any) -> None:
        self.sock = sock
        self.received = bytearray()
        self.eof = False
        self.error: OSError | None = None
        self.changed = Event()

    def wait_for(self, n: int, timeout: float = WAIT) -> bytes:
        deadline = time.monotonic() + timeout
        while len(self.received) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"upstream got {len(self.received)} bytes, expected {n}")
            self.changed.clear()
            if len(self.received) < n:
                self.changed.wait(left)
        return bytes(self.received)

    def wait_closed(self, timeout: float = WAIT) -> None:
        deadline = time.monotonic() + timeout
        while not (self.eof or self.error):
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("the upstream connection did not end")
            self.changed.clear()
            if not (self.eof or self.error):
                self.changed.wait(left)


class Upstream:
    """A TCP server that records what each connection sends; ``echo`` sends it back too."""

    def __init__(self, echo: bool = False) -> None:
        self.echo = echo
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.peers: list[_Peer] = []
        self.new_peer = Event()
        self.greenlets = [gevent.spawn(self._accept)]

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            peer = _Peer(sock)
            self.peers.append(peer)
            self.new_peer.set()
            self.greenlets.append(gevent.spawn(self._serve, peer))

    def _serve(self, peer: _Peer) -> None:
        try:
            while True:
                data = peer.sock.recv(65536)
                if not data:
                    peer.eof = True
                    return
                peer.received += data
                if self.echo:
                    peer.sock.sendall(data)
                peer.changed.set()
        except OSError as exc:
            peer.error = exc
        finally:
            peer.changed.set()

    def peer(self, index: int = 0, timeout: float = WAIT) -> _Peer:
        deadline = time.monotonic() + timeout
        while len(self.peers) <= index:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{len(self.peers)} upstream connections, expected more")
            self.new_peer.clear()
            if len(self.peers) <= index:
                self.new_peer.wait(left)
        return self.peers[index]

    def close(self) -> None:
        gevent.killall(self.greenlets, block=True, timeout=5)
        self.listener.close()
        for peer in self.peers:
            peer.sock.close()


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    up = Upstream(echo=True)
    try:
        yield up
    finally:
        up.close()


@pytest.fixture
def proxy(upstream: Upstream, fault_proxy: Any) -> FaultProxy:
    return fault_proxy(("127.0.0.1", upstream.port))


@pytest.fixture
def connect(proxy: FaultProxy) -> Iterator[Any]:
    made: list[Any] = []

    def factory() -> Any:
        s = socket.create_connection(("127.0.0.1", proxy.port), timeout=WAIT)
        made.append(s)
        return s

    try:
        yield factory
    finally:
        for s in made:
            s.close()


def recv_exactly(sock: Any, n: int, timeout: float = WAIT) -> bytes:
    sock.settimeout(timeout)
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise AssertionError(f"connection ended after {len(buf)} of {n} bytes")
        buf += chunk
    return buf


def quiet(sock: Any, seconds: float = QUIET) -> bool:
    """True when nothing arrives on ``sock`` for ``seconds``."""
    sock.settimeout(seconds)
    try:
        sock.recv(1)
    except _socket.timeout:
        return True
    return False


def recv_until_closed(sock: Any, timeout: float = WAIT) -> bytes:
    sock.settimeout(timeout)
    buf = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return buf
        buf += chunk


def test_pass_forwards_both_ways(proxy: FaultProxy, connect: Any, upstream: Upstream) -> None:
    s = connect()
    s.sendall(b"hello")
    assert recv_exactly(s, 5) == b"hello"
    proxy.wait_accepted(1)
    assert proxy.stats()["bytes_up"] == 5 and proxy.bytes_down == 5
    assert proxy.active == 1 and proxy.mode == "pass"
    assert proxy.url == f"http://127.0.0.1:{proxy.port}"


def test_blackhole_both_then_pass(proxy: FaultProxy, connect: Any, upstream: Upstream) -> None:
    s = connect()
    s.sendall(b"a")
    assert recv_exactly(s, 1) == b"a"
    peer = upstream.peer()
    proxy.blackhole()
    s.sendall(b"lost")
    peer.sock.sendall(b"also lost")
    assert quiet(s)
    assert bytes(peer.received) == b"a"
    eventually(lambda: proxy.dropped_up == 4 and proxy.dropped_down == 9, WAIT, "the drops counted")
    proxy.passthrough()
    s.sendall(b"b")
    assert recv_exactly(s, 1) == b"b"
    assert bytes(peer.wait_for(2)) == b"ab"


@pytest.mark.parametrize("direction", [UP, DOWN])
def test_blackhole_one_direction(
    proxy: FaultProxy, connect: Any, upstream: Upstream, direction: str
) -> None:
    upstream.echo = False
    s = connect()
    s.sendall(b"x")
    peer = upstream.peer()
    peer.wait_for(1)
    proxy.blackhole(direction)
    assert proxy.direction == direction
    s.sendall(b"up")
    peer.sock.sendall(b"down")
    if direction == UP:
        assert recv_exactly(s, 4) == b"down"
        assert nothing_more(peer, 1)
    else:
        peer.wait_for(3)
        assert quiet(s)
    proxy.passthrough()
    peer.sock.sendall(b"?")
    assert recv_exactly(s, 1) == b"?"
    have = len(peer.received)
    s.sendall(b"!")
    assert peer.wait_for(have + 1).endswith(b"!")


def nothing_more(peer: _Peer, have: int, seconds: float = QUIET) -> bool:
    try:
        peer.wait_for(have + 1, timeout=seconds)
    except AssertionError:
        return True
    return False


def test_blackhole_holds_the_fin_until_pass(
    proxy: FaultProxy, connect: Any, upstream: Upstream
) -> None:
    s = connect()
    s.sendall(b"x")
    recv_exactly(s, 1)
    peer = upstream.peer()
    proxy.blackhole()
    s.shutdown(_socket.SHUT_WR)
    assert not peer.eof and nothing_more(peer, 1)
    proxy.passthrough()
    peer.wait_closed()
    assert peer.eof


def test_stop_reading_blocks_the_client_and_spares_the_server(
    proxy: FaultProxy, connect: Any, upstream: Upstream
) -> None:
    upstream.echo = False
    s = connect()
    s.sendall(b"x")
    peer = upstream.peer()
    peer.wait_for(1)
    proxy.stop_reading()
    blob = b"z" * (64 << 20)
    sent = 0
    s.settimeout(1.0)
    with pytest.raises(_socket.timeout):
        # a client sendall blocks once the kernel buffers are full
        while sent < len(blob):
            sent += s.send(blob[sent : sent + 65536])
    assert sent < len(blob)
    assert len(peer.received) < 1 + sent
    # the server side is still open and server-to-client bytes pass
    assert not peer.eof and peer.error is None
    peer.sock.sendall(b"still here")
    assert recv_exactly(s, 10) == b"still here"
    proxy.passthrough()
    peer.wait_for(1 + sent, timeout=10)
    assert proxy.active == 1


def test_reset_resets_open_and_new_connections(
    proxy: FaultProxy, connect: Any, upstream: Upstream
) -> None:
    s = connect()
    s.sendall(b"x")
    recv_exactly(s, 1)
    peer = upstream.peer()
    proxy.reset()
    s.settimeout(WAIT)
    with pytest.raises(ConnectionResetError):
        s.recv(1)
    peer.wait_closed()
    assert isinstance(peer.error, ConnectionResetError)
    # a new connection is established, then reset
    s2 = connect()
    s2.settimeout(WAIT)
    with pytest.raises(ConnectionResetError):
        s2.recv(1)
    assert proxy.resets == 2 and proxy.active == 0
    proxy.passthrough()
    s3 = connect()
    s3.sendall(b"y")
    assert recv_exactly(s3, 1) == b"y"


def test_reset_all_keeps_the_mode(proxy: FaultProxy, connect: Any, upstream: Upstream) -> None:
    s = connect()
    s.sendall(b"x")
    recv_exactly(s, 1)
    assert proxy.reset_all() == 1
    s.settimeout(WAIT)
    with pytest.raises(ConnectionResetError):
        s.recv(1)
    assert proxy.mode == "pass"
    s2 = connect()
    s2.sendall(b"y")
    assert recv_exactly(s2, 1) == b"y"


def test_refuse_then_rebind_the_same_port(
    proxy: FaultProxy, connect: Any, upstream: Upstream
) -> None:
    port = proxy.port
    s = connect()
    proxy.refuse()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=WAIT)
    # an open connection is left alone
    s.sendall(b"x")
    assert recv_exactly(s, 1) == b"x"
    proxy.passthrough()
    assert proxy.port == port
    s2 = connect()
    s2.sendall(b"y")
    assert recv_exactly(s2, 1) == b"y"


def test_delay_holds_each_chunk_back(proxy: FaultProxy, connect: Any, upstream: Upstream) -> None:
    s = connect()
    proxy.delay(150)
    started = time.monotonic()
    s.sendall(b"slow")
    assert recv_exactly(s, 4) == b"slow"
    # one delay on the way up and one on the way down (a lower bound: safe under load)
    assert time.monotonic() - started >= 0.3
    proxy.passthrough()


def test_slice_sends_one_byte_at_a_time(
    proxy: FaultProxy, connect: Any, upstream: Upstream
) -> None:
    s = connect()
    proxy.slice()
    payload = bytes(range(256)) * 4
    s.sendall(payload)
    assert recv_exactly(s, len(payload)) == payload
    assert proxy.sends == 2 * len(payload)


HEAD = b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
POST = (
    b"POST /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n"
    b"Content-Length: 22\r\n\r\nUpgrade: websocket\r\n\r\n"
)
UPGRADE = (
    b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\n"
    b"Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
)


def test_reject_websocket_passes_polling(
    proxy: FaultProxy, connect: Any, upstream: Upstream
) -> None:
    upstream.echo = False
    proxy.reject_websocket()
    s = connect()
    # keep-alive requests, one with a body that merely looks like an upgrade header
    s.sendall(HEAD + POST + HEAD)
    peer = upstream.peer()
    assert peer.wait_for(2 * len(HEAD) + len(POST)) == HEAD + POST + HEAD
    s2 = connect()
    s2.sendall(UPGRADE)
    answer = recv_until_closed(s2)
    assert answer.startswith(b"HTTP/1.1 400 ")
    assert proxy.rejected_upgrades == 1
    # the upgrade head never reached the server
    assert len(upstream.peers) == 1 or b"Upgrade" not in upstream.peers[1].received


def test_reject_websocket_sliced_head(proxy: FaultProxy, connect: Any, upstream: Upstream) -> None:
    proxy.reject_websocket()
    s = connect()
    for i in range(len(UPGRADE)):
        s.sendall(UPGRADE[i : i + 1])
    assert recv_until_closed(s).startswith(b"HTTP/1.1 400 ")


def test_upgrade_passes_in_pass_mode(proxy: FaultProxy, connect: Any, upstream: Upstream) -> None:
    upstream.echo = False
    s = connect()
    s.sendall(HEAD + UPGRADE + b"\x81\x00")
    peer = upstream.peer()
    assert peer.wait_for(len(HEAD + UPGRADE) + 2) == HEAD + UPGRADE + b"\x81\x00"


def test_upstream_down_resets_the_client(fault_proxy: Any) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()  # nothing listens there now
    proxy = fault_proxy("127.0.0.1", port)
    s = socket.create_connection(("127.0.0.1", proxy.port), timeout=WAIT)
    try:
        s.settimeout(WAIT)
        with pytest.raises(ConnectionResetError):
            s.recv(1)
        assert proxy.upstream_failures == 1
    finally:
        s.close()


def test_close_stops_everything(upstream: Upstream) -> None:
    proxy = FaultProxy("127.0.0.1", upstream.port).start()
    s = socket.create_connection(("127.0.0.1", proxy.port), timeout=WAIT)
    try:
        s.sendall(b"x")
        recv_exactly(s, 1)
        proxy.stop_reading()
        proxy.close()
        assert len(proxy._greenlets) == 0 and proxy.active == 0
        assert recv_until_closed(s) == b""
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", proxy.port), timeout=WAIT)
        with pytest.raises(RuntimeError):
            proxy.passthrough()
    finally:
        s.close()


def test_set_validates(proxy: FaultProxy) -> None:
    with pytest.raises(ValueError):
        proxy.set("flaky")
    with pytest.raises(ValueError):
        proxy.set("blackhole", direction="sideways")
    assert "flaky" not in MODES and proxy.mode == "pass"
