"""The other faults of the network, through the proxy: reset storms, everything in 1-byte
pieces, a slow link, a proxy that refuses WebSocket upgrades, and a peer that stops reading.
The client survives each: it works through it, or it notices, reports, and comes back."""

from __future__ import annotations

import time
from typing import Any

import gevent
import pytest
from fault_util import (  # noqa: F401 - the `proxied` fixture
    BACK,
    DETECT,
    KIND_PARAMS,
    TRANSPORT_PARAMS,
    proxied_fixture,
)
from integration_util import (  # noqa: F401 - `clients`
    WAIT,
    Collector,
    background,
    clients_fixture,
    collect,
    eventually,
    expect,
    nothing_happens,
)

import sioclient

both = [
    pytest.mark.parametrize("kind", KIND_PARAMS),
    pytest.mark.parametrize("transports", TRANSPORT_PARAMS),
]


def _one_socket_on_server(sock: sioclient.Socket) -> None:
    # the server drops a dead connection when its own heartbeat gives up on it
    eventually(lambda: sock.call("count", timeout=WAIT) == 1, what="one socket on the server")


# -- resets ------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KIND_PARAMS)
@pytest.mark.parametrize("transports", TRANSPORT_PARAMS)
def test_reset_storm(proxied: Any, kind: str, transports: list[str]) -> None:
    """Every connection is reset, the open one and each new attempt, for several attempts;
    each attempt fails with reconnect_error, and the client is back when the storm ends."""
    env = proxied(kind, transports)
    sock = env.connect()
    down = expect(sock, "disconnect")
    errors = collect(sock.io, "reconnect_error")
    env.proxy.reset()
    assert down.get(timeout=DETECT)[0] in ("transport close", "transport error")
    errors.wait(4, timeout=WAIT)
    assert all(isinstance(e[0], sioclient.ConnectionError) for e in errors.calls)
    assert env.proxy.resets >= 4
    back = expect(sock, "connect")
    env.proxy.passthrough()
    back.get(timeout=BACK)
    assert sock.call("echo", "calm", timeout=WAIT) == "calm"
    _one_socket_on_server(sock)


@pytest.mark.parametrize("kind", KIND_PARAMS)
@pytest.mark.parametrize("transports", TRANSPORT_PARAMS)
def test_repeated_resets_of_a_working_connection(
    proxied: Any, kind: str, transports: list[str]
) -> None:
    """Ten times over: every connection is reset while the client works, and it goes on
    working.  Over WebSocket each reset ends the connection and the client reconnects.  Over
    polling a reset may hit an idle keep-alive connection between two requests: the next request
    then goes out on a new connection and the Engine.IO session lives on, so a reset there may
    end in a reconnection or in nothing visible at all."""
    env = proxied(kind, transports)
    sock = env.connect()
    reasons = collect(sock, "disconnect")

    def echoes(value: int) -> bool:
        try:
            return bool(sock.call("echo", value, timeout=2.0) == value)
        except (sioclient.DisconnectedError, sioclient.TimeoutError):
            return False  # it was in flight when the connection went: try again

    for i in range(10):
        assert env.proxy.reset_all() >= 1
        eventually(lambda i=i: echoes(i), timeout=BACK, what="an echo after the reset")
    if transports == ["websocket"]:
        assert len(reasons) == 10
    assert {r[0] for r in reasons.calls} <= {"transport close", "transport error"}
    _one_socket_on_server(sock)


# -- 1-byte slices and delay -------------------------------------------------------------------


@pytest.mark.parametrize("kind", KIND_PARAMS)
@pytest.mark.parametrize("transports", TRANSPORT_PARAMS)
def test_one_byte_slices(proxied: Any, kind: str, transports: list[str]) -> None:
    """Every byte in its own segment, both ways: HTTP heads and bodies, WebSocket frame headers
    and payloads arrive in pieces.  Text, binary and a burst of events go through intact."""
    env = proxied(kind, transports)
    env.proxy.slice()
    sock = env.connect()
    text = "é∂ü" * 300
    blob = bytes(range(256)) * 2
    assert sock.call("echo", text, timeout=WAIT) == text
    assert sock.call("echo", blob, timeout=WAIT) == blob
    flood = collect(sock, "flood")
    assert sock.call("flood", 20, "x" * 50, timeout=WAIT) == 20
    flood.wait(20, timeout=WAIT)
    assert [c[0] for c in flood.calls] == list(range(20))
    assert env.proxy.sends > 2000


@pytest.mark.parametrize("kind", KIND_PARAMS)
@pytest.mark.parametrize("transports", TRANSPORT_PARAMS)
def test_slow_link(proxied: Any, kind: str, transports: list[str]) -> None:
    """Each chunk held back 60 ms each way: a ping every 300 ms, answered within 1 s (room
    for the delay on a loaded machine), so the connection lasts through several ping
    intervals and works."""
    env = proxied(kind, transports, pingTimeout=1000)
    env.proxy.delay(60)
    sock = env.connect()
    down = expect(sock, "disconnect")
    started = time.monotonic()
    assert sock.call("echo", "slow", timeout=WAIT) == "slow"
    assert time.monotonic() - started >= 0.12  # it did go through the delay (a lower bound)
    assert nothing_happens(down, 1.5)  # five ping intervals
    for i in range(5):
        assert sock.call("echo", i, timeout=WAIT) == i


# -- WebSocket upgrades refused ----------------------------------------------------------------


@pytest.mark.parametrize("kind", KIND_PARAMS)
def test_rejected_upgrade_stays_on_polling(proxied: Any, kind: str) -> None:
    """A proxy that answers WebSocket upgrades with 400: the probe fails, the client stays on
    polling without disconnecting."""
    env = proxied(kind, ["polling", "websocket"])
    env.proxy.reject_websocket()
    sock = env.connect(upgrade=True)
    down = expect(sock, "disconnect")
    eventually(lambda: env.proxy.rejected_upgrades >= 1, what="the upgrade rejected")
    assert sock.call("echo", "still polling", timeout=WAIT) == "still polling"
    assert sock.io.engine.transport == "polling"
    assert nothing_happens(down, 0.5)


@pytest.mark.parametrize("kind", KIND_PARAMS)
def test_rejected_websocket_only_reports_and_recovers(proxied: Any, kind: str) -> None:
    """With WebSocket only, a rejected upgrade is a connect_error carrying the refusal, the
    client keeps trying, and connects once the proxy lets WebSocket through."""
    env = proxied(kind, ["websocket"])
    env.proxy.reject_websocket()
    sock = env.io(auto_connect=False, protocol=4 if kind == "node2" else 5)
    errors = collect(sock, "connect_error")
    attempts = collect(sock.io, "reconnect_error")
    sock.open()
    errors.wait(1, timeout=WAIT)
    assert isinstance(errors.calls[0][0], sioclient.ConnectionError)
    attempts.wait(2, timeout=WAIT)
    back = expect(sock, "connect")
    env.proxy.passthrough()
    back.get(timeout=BACK)
    assert sock.call("echo", "ws", timeout=WAIT) == "ws"


@pytest.mark.parametrize("kind", KIND_PARAMS)
def test_remembered_upgrade_forgotten_when_rejected(proxied: Any, kind: str) -> None:
    """remember_upgrade: after a WebSocket success the next connection starts on WebSocket; when
    a proxy now rejects it, the attempt after that starts with polling again."""
    env = proxied(kind, ["polling", "websocket"])
    sock = env.connect(upgrade=True, remember_upgrade=True)
    eventually(lambda: sock.io.engine.transport == "websocket", what="the upgrade")
    env.proxy.reject_websocket()
    back = expect(sock, "connect")
    env.proxy.reset_all()
    try:
        back.get(timeout=8.0)
    except gevent.Timeout:
        raise AssertionError(
            f"not back; {env.proxy.rejected_upgrades} WebSocket attempts rejected"
        ) from None
    assert sock.call("echo", "polling again", timeout=WAIT) == "polling again"
    assert sock.io.engine.transport == "polling"


# -- a peer that stops reading -----------------------------------------------------------------


@pytest.mark.parametrize("kind", KIND_PARAMS)
@pytest.mark.parametrize("transports", TRANSPORT_PARAMS)
def test_peer_stops_reading(proxied: Any, kind: str, transports: list[str]) -> None:
    """The proxy stops reading what the client sends while the client emits large events: the
    client notices within the heartbeat bound, close() returns promptly, and nothing hangs."""
    env = proxied(kind, transports)
    sock = env.connect()
    down = expect(sock, "disconnect")
    env.proxy.stop_reading()
    payload = "x" * 256 * 1024
    emitter = background(lambda: [sock.emit("ack", payload) for _ in range(64)])
    try:
        reason = down.get(timeout=DETECT + 5)[0]
        assert reason in ("ping timeout", "transport close", "transport error")
        emitter.get(timeout=WAIT)
        started = time.monotonic()
        closer = background(sock.io.close)
        closer.get(timeout=5)
        assert time.monotonic() - started < 5
    finally:
        env.proxy.close()  # whatever happened, nothing is left blocked on the proxy


def test_proxy_counts_connections(proxied: Any) -> None:
    """The fixture's proxy sits between the client and the server: it saw the connection."""
    env = proxied("node4", ["websocket"])
    acks = Collector()
    sock = env.connect()
    sock.emit("ack", 1, ack=acks)
    acks.wait(1)
    assert env.proxy.accepted >= 1 and env.proxy.bytes_up > 0 and env.proxy.bytes_down > 0
