"""Socket behaviour against real servers: ids, modifiers, acks, catch-all listeners, handlers.

Ports of socket.io-client's ``test/socket.js`` (2.x line) and ``test/socket.ts`` (4.x line);
each names its origin.
"""

from __future__ import annotations

import logging
from typing import Any

import gevent
import pytest
from gevent.event import AsyncResult, Event
from integration_util import (
    WAIT,
    Clients,
    Collector,
    background,
    clients_fixture,  # noqa: F401 - the `clients` fixture
    collect,
    eventually,
    expect,
    nothing_happens,
)
from servers import ServerProcess

import sioclient


def test_ids(any_server: ServerProcess, clients: Clients) -> None:
    """socket.js / socket.ts: the id is the engine id (2.x) or the server-side id (4.x), on `/`
    and on a custom namespace; cleared upon disconnection."""
    root = clients.connect(any_server.url)
    admin = root.io.socket("/admin")
    admin.open()
    if not admin.connected:
        expect(admin, "connect").get(timeout=WAIT)
    engine_id = root.io.engine.id
    for sock in (root, admin):
        server_id = sock.call("get-handshake", timeout=WAIT)["id"]
        assert sock.id and sock.id == server_id
        if root.io.protocol == 4:
            assert sock.id == (engine_id if sock.nsp == "/" else f"/admin#{engine_id}")
        else:
            assert sock.id != engine_id
    gone = expect(admin, "disconnect")
    admin.disconnect()
    gone.get(timeout=WAIT)
    assert admin.id is None


def test_id_changes_upon_reconnection(any_server: ServerProcess, clients: Clients) -> None:
    """socket.js: should change socket.id upon reconnection (id is None while reconnecting)."""
    sock = clients.connect(any_server.url, reconnection_delay=0.01)
    first = sock.id
    seen: list[Any] = []
    sock.io.on("reconnect_attempt", lambda *_: seen.append(sock.id))
    back = expect(sock.io, "reconnect")
    sock.io.engine.close()
    back.get(timeout=WAIT)
    if not sock.connected:
        expect(sock, "connect").get(timeout=WAIT)
    assert seen and seen[0] is None
    assert sock.id and sock.id != first


@pytest.mark.parametrize(
    "kind,interval",
    [
        pytest.param("node2", 200, marks=pytest.mark.node),
        pytest.param("node4", 200, marks=pytest.mark.node),
        ("python", 1000),  # python-engineio advertises whole seconds
    ],
)
def test_ping_pong(sio_server, kind: str, interval: int, clients: Clients) -> None:
    """socket.js: should ping and pong with latency (ping first, then pong with a number)."""
    server = sio_server(kind, pingInterval=interval, pingTimeout=2000)
    sock = clients.connect(server.url, transports=["websocket"])
    order: list[str] = []
    ponged: AsyncResult = AsyncResult()
    sock.once("ping", lambda: order.append("ping"))

    def on_pong(ms: float) -> None:
        order.append("pong")
        ponged.set(ms)

    sock.once("pong", on_pong)
    manager_ping = expect(sock.io, "ping")
    latency = ponged.get(timeout=WAIT)
    manager_ping.get(timeout=WAIT)
    assert isinstance(latency, (int, float)) and latency >= 0
    assert order == ["ping", "pong"]
    assert sock.io.engine.ping_interval == pytest.approx(interval / 1000)


def test_compress_flag_reaches_engine(any_server: ServerProcess, clients: Clients) -> None:
    """socket.js: compression on by default; compress(False) disables it (and stays chainable
    with volatile)."""
    sock = clients.connect(any_server.url)
    engine = sock.io.engine
    flags: list[bool] = []
    real_send = engine.send

    def spy(messages: Any, compress: bool = True) -> None:
        flags.append(compress)
        real_send(messages, compress)

    engine.send = spy
    try:
        sock.emit("ack", 1)
        sock.compress(False).emit("ack", 2)
        sock.volatile.compress(False).emit("ack", 3)
        assert sock.compress(False).call("ack", 4, timeout=WAIT) == 4
    finally:
        engine.send = real_send
    assert flags == [True, False, False, False]


def test_query_option(any_server: ServerProcess, clients: Clients) -> None:
    """socket.ts query option: an object, a query string, encoded parameters."""
    sock = clients.connect(any_server.url + "/?c=d", query={"e": "f", "&a": "&=?a"})
    query = sock.call("get-handshake", timeout=WAIT)["query"]
    assert query["c"] == "d" and query["e"] == "f" and query["&a"] == "&=?a"


def test_reserved_event_raises(any_server: ServerProcess, clients: Clients) -> None:
    """socket.ts: should throw on reserved event."""
    sock = clients.io(any_server.url, auto_connect=False)
    for name in (
        "connect",
        "connect_error",
        "disconnect",
        "disconnecting",
        "newListener",
        "removeListener",
        "error",
    ):
        with pytest.raises(ValueError, match="reserved"):
            sock.emit(name, "goodbye")


def test_emits_in_order_across_connect(any_server: ServerProcess, clients: Clients) -> None:
    """socket.ts: should emit events in order (buffered before connect, then live)."""
    sock = clients.io(any_server.url, auto_connect=False)
    order: list[str] = []
    done = Event()
    sock.emit("echo", "first", lambda *_: order.append("first"))

    @sock.on("connect")
    def _connected() -> None:
        sock.emit("echo", "second", lambda *_: (order.append("second"), done.set()))

    sock.connect()
    assert done.wait(WAIT)
    assert order == ["first", "second"]


def test_volatile(any_server: ServerProcess, clients: Clients) -> None:
    """socket.ts volatile packets: discarded while not connected, sent when connected."""
    sock = clients.io(any_server.url, auto_connect=False)
    dropped = AsyncResult()
    sock.volatile.emit("ack", "v", lambda *a: dropped.set(a))
    kept = AsyncResult()
    sock.emit("ack", "k", lambda *a: kept.set(a))
    sock.connect()
    assert kept.get(timeout=WAIT) == ("k",)
    live = AsyncResult()
    sock.volatile.emit("ack", "live", lambda *a: live.set(a))
    assert live.get(timeout=WAIT) == ("live",)
    received = [r for r in sock.call("get-received", timeout=WAIT) if r[0] == "ack"]
    assert received == [["ack", ["k"]], ["ack", ["live"]]]
    assert not dropped.ready()


def test_on_any(any_server: ServerProcess, clients: Clients) -> None:
    """socket.ts onAny: called for server events, before the event's listeners; removable;
    never for reserved events."""
    order: list[Any] = []
    sock = clients.io(any_server.url, auto_connect=False)
    fail = collect(sock, "__never")
    sock.on_any(fail)
    sock.off_any(fail)
    sock.on_any(lambda event, *args: order.append(("any", event, args)))
    got = AsyncResult()

    @sock.on("hello")
    def _hello(*args: Any) -> None:
        order.append(("own", args))
        got.set(args)

    sock.connect()
    expect(sock, "connect").get(timeout=WAIT) if not sock.connected else None
    sock.emit("emit-back", "hello", 1, "a")
    got.get(timeout=WAIT)
    assert order == [("any", "hello", (1, "a")), ("own", (1, "a"))]
    assert not fail.calls


def test_on_any_outgoing(any_server: ServerProcess, clients: Clients) -> None:
    """socket.ts onAnyOutgoing: every event packet sent, with its arguments and without the ack
    callback (emits buffered before `connect` when they leave); removable, one or all; not for
    acks sent to the server."""
    sock = clients.io(any_server.url, auto_connect=False)
    out = Collector()
    dropped = Collector()
    sock.on_any_outgoing(dropped)
    sock.on_any_outgoing(out)
    sock.off_any_outgoing(dropped)
    sock.emit("offline", 0)
    assert not out.calls  # not sent yet
    sock.connect()
    expect(sock, "connect").get(timeout=WAIT) if not sock.connected else None
    sock.emit("ack", 1, ack=lambda *a: None)
    assert sock.call("server-ack", "ask", timeout=WAIT) is None
    out.wait(3, timeout=WAIT)
    assert out.calls == [("offline", 0), ("ack", 1), ("server-ack", "ask")]
    assert sock.listeners_any_outgoing() == [out]
    sock.off_any_outgoing()
    sock.emit("ack", 2)
    assert sock.call("ack", "sync", timeout=WAIT) == "sync"
    assert len(out.calls) == 3 and not dropped.calls


def test_timeout_not_connected(any_server: ServerProcess, clients: Clients) -> None:
    """socket.ts timeout: after the delay when not connected; the packet leaves the buffer."""
    sock = clients.io(any_server.url, auto_connect=False)
    result = AsyncResult()
    sock.timeout(0.05).emit("echo", 1, lambda *a: result.set(a))
    err = result.get(timeout=WAIT)[0]
    assert isinstance(err, sioclient.TimeoutError)
    sock.connect()
    expect(sock, "connect").get(timeout=WAIT) if not sock.connected else None
    assert sock.call("get-received", timeout=WAIT) == []


def test_timeout_acks(any_server: ServerProcess, clients: Clients) -> None:
    """socket.ts timeout: no ack -> error; ack too late -> one error only; ack in time."""
    sock = clients.connect(any_server.url)
    unanswered = AsyncResult()
    sock.timeout(0.05).emit("unknown", lambda *a: unanswered.set(a))
    assert isinstance(unanswered.get(timeout=WAIT)[0], sioclient.TimeoutError)

    late = collect(sock, "__late")
    sock.timeout(0).emit("echo", 42, late)
    assert isinstance(late.wait(1)[0][0], sioclient.TimeoutError)
    sock.call("echo", "sync", timeout=WAIT)  # the late ack has arrived by now
    assert len(late) == 1

    ok = AsyncResult()
    sock.timeout(WAIT).emit("echo", 42, lambda *a: ok.set(a))
    assert ok.get(timeout=WAIT) == (None, 42)

    with pytest.raises(sioclient.TimeoutError):
        sock.call("unknown", timeout=0.1)
    assert sock.call("ack", timeout=WAIT) is None
    assert sock.call("ack", 1, 2, timeout=WAIT) == (1, 2)


def test_disconnected_error(any_server: ServerProcess, clients: Clients) -> None:
    """An ack with a timeout, or call(), whose packet left before the connection dropped."""
    sock = clients.connect(any_server.url, reconnection=False)
    flagged = AsyncResult()
    plain = AsyncResult()
    sock.timeout(WAIT).emit("unknown", lambda *a: flagged.set(a))
    sock.emit("unknown", lambda *a: plain.set(a))
    caller = background(sock.call, "unknown")
    gevent.sleep(0)  # let the caller send its packet
    sock.call("ack", timeout=WAIT)  # everything above has been written
    sock.io.engine.close()
    assert isinstance(flagged.get(timeout=WAIT)[0], sioclient.DisconnectedError)
    with pytest.raises(sioclient.DisconnectedError):
        caller.get(timeout=WAIT)
    assert nothing_happens(plain, 0.1)


def test_server_disconnect_no_reconnect(any_server: ServerProcess, clients: Clients) -> None:
    """`io server disconnect` does not reconnect; wait() returns."""
    sock = clients.connect(any_server.url, reconnection_delay=0.01)
    attempts = collect(sock.io, "reconnect_attempt")
    gone = expect(sock, "disconnect")
    sock.emit("disconnect-me")
    assert gone.get(timeout=WAIT) == ("io server disconnect",)
    assert sock.wait(WAIT)
    assert not attempts.calls and sock.id is None


def test_wait_times_out_while_connected(any_server: ServerProcess, clients: Clients) -> None:
    sock = clients.connect(any_server.url)
    assert sock.wait(0.05) is False
    waiter = gevent.spawn(sock.wait, WAIT)
    sock.disconnect()
    assert waiter.get(timeout=WAIT) is True


# ---- handlers ----------------------------------------------------------------------------


def test_blocking_handler_stalls_nothing(sio_server, clients: Clients) -> None:
    """Handlers start in arrival order; one that blocks does not stall the next handler, the
    reads or the heartbeat; call() from inside a handler does not deadlock."""
    server = sio_server("node4", pingInterval=200, pingTimeout=400)
    sock = clients.connect(server.url, transports=["websocket"])
    release = Event()
    started: list[int] = []
    results: dict[int, Any] = {}
    all_done = Event()

    @sock.on("flood")
    def _flood(i: int, payload: Any) -> None:
        started.append(i)
        if i == 0:
            release.wait(WAIT)  # blocks until the others have run
        if i == 1:
            results[1] = sock.call("echo", "inner", timeout=WAIT)
        if len(results) == 1 and len(started) == 5:
            all_done.set()

    pongs = collect(sock.io, "pong")
    sock.emit("flood", 5, "p")
    assert all_done.wait(WAIT)
    assert started == [0, 1, 2, 3, 4]
    assert results[1] == "inner"
    pongs.wait(2)  # heartbeats went on while handler 0 was blocked
    assert sock.connected
    release.set()


def test_handler_exception_is_logged(any_server: ServerProcess, clients: Clients, caplog) -> None:
    sock = clients.connect(any_server.url)

    @sock.on("boom")
    def _boom(*_: Any) -> None:
        raise RuntimeError("handler failure")

    with caplog.at_level(logging.ERROR, logger="sioclient"):
        got = expect(sock, "boom")
        sock.emit("emit-back", "boom")
        got.get(timeout=WAIT)
        assert sock.call("echo", "alive", timeout=WAIT) == "alive"
    assert any("handler failure" in (r.exc_text or str(r.exc_info)) for r in caplog.records)
    assert sock.connected


def test_server_ack_sent_once(any_server: ServerProcess, clients: Clients) -> None:
    """The ack callable a handler gets sends one ack, however often it is called."""
    sock = clients.connect(any_server.url)
    results = collect(sock, "server-ack-result")

    @sock.on("ask")
    def _ask(*args: Any) -> None:
        ack = args[-1]
        ack("one")
        ack("two")

    sock.emit("server-ack", "ask")
    assert results.wait(1) == [("one",)]
    sock.call("echo", timeout=WAIT)
    assert len(results) == 1


def test_call_on_buffered_packet_fails_when_closed_for_good(refused_port: int) -> None:
    """A call() whose packet never left hears DisconnectedError once the socket is closed for
    good (reconnection given up, or an explicit close), instead of waiting forever."""
    url = f"http://127.0.0.1:{refused_port}"
    sock = sioclient.io(
        url,
        force_new=True,
        reconnection_attempts=1,
        reconnection_delay=0.01,
        randomization_factor=0,
    )
    try:
        with pytest.raises(sioclient.DisconnectedError):
            sock.call("ack", 1, timeout=WAIT)
    finally:
        sock.close()

    sock = sioclient.io(url, force_new=True)
    caller = background(sock.call, "ack", 2)
    eventually(lambda: bool(sock._send_buffer), what="the packet buffered")
    sock.close()
    with pytest.raises(sioclient.DisconnectedError):
        caller.get(timeout=WAIT)
