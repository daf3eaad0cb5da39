"""Reconnection against real servers: restarts, closed engines, backoff, dead and silent peers.

Ports of the reconnection cases of socket.io-client's ``test/connection.js`` (2.x line) and
``test/connection.ts`` (4.x line); each names its origin.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from gevent.event import Event
from integration_util import (
    WAIT,
    Clients,
    clients_fixture,  # noqa: F401 - the `clients` fixture
    collect,
    expect,
    nothing_happens,
)
from servers import KINDS, ServerProcess

import sioclient

FAST = {"reconnection_delay": 0.05, "reconnection_delay_max": 0.2, "randomization_factor": 0}


def _kind_params() -> list[Any]:
    return [pytest.param(k, marks=[pytest.mark.node] if k != "python" else []) for k in KINDS]


@pytest.mark.parametrize("kind", _kind_params())
@pytest.mark.parametrize("transports", [["polling"], ["websocket"]], ids=["polling", "ws"])
def test_server_restart(sio_server, kind: str, transports: list[str], clients: Clients) -> None:
    """The server restarts on the same port: the client reconnects, what was emitted meanwhile
    arrives once and in order, and handlers are not doubled."""
    server = sio_server(kind)
    sock = clients.connect(server.url, transports=transports, **FAST)
    hits = collect(sock, "echo")
    down = expect(sock, "disconnect")
    server.stop()
    assert down.get(timeout=WAIT)[0] in ("transport close", "transport error", "ping timeout")
    for i in range(5):
        sock.emit("buffered", i)
    back = expect(sock, "connect")
    reconnected = expect(sock.io, "reconnect")
    server.restart()
    back.get(timeout=WAIT)
    assert reconnected.get(timeout=WAIT)[0] >= 1
    received = sock.call("get-received", timeout=WAIT)
    assert received == [["buffered", [i]] for i in range(5)]
    assert sock.call("echo", "x", timeout=WAIT) == "x"
    sock.call("ack", timeout=WAIT)  # the echo event has arrived by now
    assert hits.calls == [("x",)]
    assert sock.call("count", timeout=WAIT) == 1


def test_close_engine_reconnects(any_server: ServerProcess, clients: Clients) -> None:
    """connection.js: should reconnect by default; reconnect fires on the socket too."""
    sock = clients.connect(any_server.url, **FAST)
    on_manager = expect(sock.io, "reconnect")
    on_socket = expect(sock, "reconnect")
    reasons = collect(sock, "disconnect")
    sock.emit("close-engine")  # its ack may be lost with the connection (python-engineio)
    assert on_manager.get(timeout=WAIT) == on_socket.get(timeout=WAIT)
    if not sock.connected:
        expect(sock, "connect").get(timeout=WAIT)
    assert reasons.calls[0][0] in ("transport close", "transport error")
    assert sock.call("echo", 5, timeout=WAIT) == 5


def test_reconnect_attempt_edits_options(any_server: ServerProcess, clients: Clients) -> None:
    """A reconnect_attempt handler changes opts['query'] and opts['transports'] for that attempt."""
    sock = clients.connect(any_server.url, transports=["polling"], query={"n": "0"}, **FAST)
    assert sock.call("get-handshake", timeout=WAIT)["transport"] == "polling"

    @sock.io.on("reconnect_attempt")
    def _edit(attempt: int) -> None:
        sock.io.opts["query"] = {"n": str(attempt)}
        sock.io.opts["transports"] = ["websocket"]

    back = expect(sock.io, "reconnect")
    sock.io.engine.close()
    attempt = back.get(timeout=WAIT)[0]
    if not sock.connected:
        expect(sock, "connect").get(timeout=WAIT)
    hs = sock.call("get-handshake", timeout=WAIT)
    assert hs["transport"] == "websocket"
    assert hs["query"]["n"] == str(attempt)
    assert sock.io.engine.transport == "websocket"


def test_reconnect_failed(refused_port: int, clients: Clients) -> None:
    """connection.js: try to reconnect twice and fail with an incorrect address; reconnect_*
    events on the socket carry the attempt number; the delay increases every time."""
    manager = clients.manager(
        f"http://127.0.0.1:{refused_port}",
        reconnection_attempts=3,
        reconnection_delay=0.05,
        randomization_factor=0,
    )
    sock = manager.socket("/asd")
    stamps: list[float] = []
    sock.on("reconnect_attempt", lambda n: stamps.append(time.monotonic()))
    attempts = collect(sock, "reconnect_attempt")
    reconnecting = collect(sock, "reconnecting")
    errors = collect(manager, "reconnect_error")
    failed = expect(sock, "reconnect_failed")
    start = time.monotonic()
    failed.get(timeout=WAIT)
    assert [a[0] for a in attempts.calls] == [1, 2, 3]
    assert [a[0] for a in reconnecting.calls] == [1, 2, 3]
    assert len(errors) == 3
    gaps = [b - a for a, b in zip([start, *stamps], stamps)]
    # each wait is at least its backoff delay (0.05, 0.1, 0.2 s); lower bounds only, since a
    # loaded machine may stretch any gap (a margin for the loop clock's granularity)
    assert gaps[0] >= 0.045 and gaps[1] >= 0.095 and gaps[2] >= 0.19, gaps
    assert all(isinstance(e[0], sioclient.ConnectionError) for e in errors.calls)


def test_no_reconnect_when_disabled(refused_port: int, clients: Clients) -> None:
    """connection.js: should not try to reconnect with incorrect port when reconnection
    disabled; open(callback) reports the failure."""
    manager = clients.manager(
        f"http://127.0.0.1:{refused_port}", reconnection=False, auto_connect=False
    )
    attempts = expect(manager, "reconnect_attempt")
    result: Any = Event()
    errors: list[Any] = []
    manager.open(lambda err: (errors.append(err), result.set()))
    assert result.wait(WAIT)
    assert isinstance(errors[0], sioclient.ConnectionError)
    assert nothing_happens(attempts, 0.2)


def test_stop_reconnecting_when_force_closed(refused_port: int, clients: Clients) -> None:
    """connection.js: should stop reconnecting when force closed; and reconnect after
    stopping reconnection."""
    sock = clients.io(
        f"http://127.0.0.1:{refused_port}/invalid", reconnection_delay=0.01, randomization_factor=0
    )
    first = expect(sock, "reconnect_attempt")
    first.get(timeout=WAIT)
    later = expect(sock, "reconnect_attempt")
    sock.disconnect()
    assert nothing_happens(later, 0.2)
    assert sock.wait(WAIT)
    sock.connect()
    assert expect(sock, "reconnect_attempt").get(timeout=WAIT)


def test_stop_one_socket_keep_other(any_server: ServerProcess, clients: Clients) -> None:
    """connection.js: should stop reconnecting on a socket and keep to reconnect on another."""
    manager = clients.manager(any_server.url, **FAST)
    s1 = manager.socket("/")
    s2 = manager.socket("/admin")
    for s in (s1, s2):
        if not s.connected:
            expect(s, "connect").get(timeout=WAIT)
    s1_connects = collect(s1, "connect")
    manager.once("reconnect_attempt", lambda *_: s1.disconnect())
    back = expect(s2, "connect")
    manager.engine.close()
    back.get(timeout=WAIT)
    assert s2.call("echo", "s2", timeout=WAIT) == "s2"
    assert not s1_connects.calls and not s1.connected


def test_middleware_failure_not_retried(any_server: ServerProcess, clients: Clients) -> None:
    """connection.ts: should not try to reconnect after a middleware failure."""
    sock = clients.io(any_server.url + "/private", **FAST)
    errors = collect(sock, "connect_error")
    errors.wait(1)
    assert sock.wait(WAIT)
    if sock.io.engine is not None:
        sock.io.engine.close()
    assert nothing_happens(expect(sock, "connect_error"), 0.2)
    assert len(errors) == 1


def test_silent_server_times_out(silent_server, clients: Clients) -> None:
    """connection.js (`/timeout` cases): a peer that accepts TCP and never answers: the connect
    timeout fires, `connect_timeout` and `connect_error` are emitted, the attempts run out."""
    manager = clients.manager(silent_server.url, timeout=0.2, reconnection_attempts=2, **FAST)
    sock = manager.socket("/timeout")
    timeouts = collect(sock, "connect_timeout")
    errors = collect(manager, "connect_error")
    attempts = collect(manager, "reconnect_attempt")
    failed = expect(manager, "reconnect_failed")
    failed.get(timeout=WAIT)
    assert [a[0] for a in attempts.calls] == [1, 2]
    assert timeouts.calls[0] == (0.2,)
    assert isinstance(errors.calls[0][0], sioclient.TimeoutError)
    assert len(timeouts) == 3


@pytest.mark.parametrize("transports", [["polling"], ["websocket"]], ids=["polling", "ws"])
def test_silent_server_open_callback(silent_server, transports, clients: Clients) -> None:
    """timeout 0 times out at once; open(callback) gets sioclient.TimeoutError."""
    manager = clients.manager(
        silent_server.url,
        timeout=0.1,
        reconnection=False,
        auto_connect=False,
        transports=transports,
    )
    errors: list[Any] = []
    done = Event()
    manager.open(lambda err: (errors.append(err), done.set()))
    assert done.wait(WAIT)
    assert isinstance(errors[0], sioclient.TimeoutError)
    assert manager.ready_state == "closed"


def test_timeout_zero_attempts(silent_server, clients: Clients) -> None:
    """connection.js: should try to reconnect twice and fail when requested two attempts with
    immediate timeout and reconnect enabled."""
    manager = clients.manager(
        silent_server.url, timeout=0, reconnection_attempts=2, reconnection_delay=0.01
    )
    attempts = collect(manager, "reconnect_attempt")
    failed = expect(manager, "reconnect_failed")
    manager.socket("/timeout")
    failed.get(timeout=WAIT)
    assert len(attempts) == 2


def test_ping_timeout_reconnects(sio_server, clients: Clients) -> None:
    """A server that stops answering (SIGSTOP-like: stopped while the socket stays open) is
    noticed by the heartbeat: 'ping timeout' on revision 5."""
    server = sio_server("node4", pingInterval=200, pingTimeout=300)
    sock = clients.connect(server.url, transports=["websocket"], **FAST)
    import signal

    down = expect(sock, "disconnect")
    server.process.send_signal(signal.SIGSTOP)
    try:
        reason = down.get(timeout=WAIT)[0]
    finally:
        server.process.send_signal(signal.SIGCONT)
    assert reason == "ping timeout"
    back = expect(sock, "connect")
    back.get(timeout=WAIT)
    assert sock.call("echo", 1, timeout=WAIT) == 1
