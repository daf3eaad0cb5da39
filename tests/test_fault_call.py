"""``call()`` never blocks forever, and a bad argument fails in ``emit()``/``call()`` itself.

Against Node socket.io 2.x (revision 4) and 4.x (revision 5), over polling and WebSocket:

- after ``close()``, after ``manager.close()`` and after ``reconnect_failed``, ``call()`` raises
  ``DisconnectedError`` at once, and so does a ``call()`` already waiting on a buffered packet;
- ``volatile.call()`` while disconnected raises ``DisconnectedError`` at once;
- an argument that cannot be encoded raises ``TypeError`` from ``emit()``/``call()`` connected or
  not, leaves nothing behind, and the emits around it arrive once, in order;
- emits encoded while disconnected for one revision are encoded again when the server speaks
  the other one (msgpack, whose formats differ between revisions).

"At once" is checked with a bound far below any timer of the client (``AT_ONCE``), so that a
``call()`` that waits does fail the test rather than hang it.
"""

from __future__ import annotations

from typing import Any

import fault_util
import gevent
import gevent.event
import pytest
from fault_util import (  # noqa: F401 - the `mode`, `proxied` and `server` fixtures
    mode_fixture,
    proxied_fixture,
    server_fixture,
)
from integration_util import (
    WAIT,
    Clients,
    clients_fixture,  # noqa: F401 - the `clients` fixture
    expect,
)
from servers import ServerProcess

import sioclient

#: what "at once" allows: no network round trip, no timer
AT_ONCE = 2.0

KINDS = fault_util.KIND_PARAMS


def at_once(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Runs ``fn`` and fails the test if it blocks longer than AT_ONCE."""
    with gevent.Timeout(AT_ONCE, AssertionError(f"{fn} blocked")):
        return fn(*args, **kwargs)


def received(sock: sioclient.Socket) -> list[Any]:
    return sock.call("get-received", timeout=WAIT)


def test_call_after_close_raises_at_once(server: ServerProcess, mode: dict, clients: Clients):
    sock = clients.connect(server.url, **mode)
    assert sock.call("ack", 1, timeout=WAIT) == 1
    sock.close()
    for timeout in (None, 30.0):
        with pytest.raises(sioclient.DisconnectedError):
            at_once(sock.call, "ack", 2, timeout=timeout)
    # a timeout() callback hears the same at once
    result = gevent.event.AsyncResult()
    sock.timeout(30).emit("ack", 3, lambda err, *args: result.set(err))
    assert isinstance(result.get(timeout=AT_ONCE), sioclient.DisconnectedError)
    # and open() brings the socket back
    back = expect(sock, "connect")
    sock.open()
    back.get(timeout=WAIT)
    assert sock.call("ack", 4, timeout=WAIT) == 4


def test_call_after_manager_close_raises_at_once(
    server: ServerProcess, mode: dict, clients: Clients
):
    sock = clients.connect(server.url, **mode)
    sock.io.close()
    with pytest.raises(sioclient.DisconnectedError):
        at_once(sock.call, "ack", 1)


@pytest.mark.parametrize("kind", KINDS)
def test_call_after_reconnect_failed_raises_at_once(
    sio_server, kind: str, mode: dict, clients: Clients
):
    srv = sio_server(kind, pingInterval=300, pingTimeout=400)
    sock = clients.connect(
        srv.url, reconnection_attempts=2, reconnection_delay=0.01, timeout=2.0, **mode
    )
    failed = expect(sock.io, "reconnect_failed")
    outcome: list[Any] = []

    def caller() -> None:
        try:
            outcome.append(sock.call("ack", "buffered"))
        except sioclient.DisconnectedError as exc:
            outcome.append(exc)

    gone = expect(sock, "disconnect")
    srv.stop()
    gone.get(timeout=WAIT)
    glet = gevent.spawn(caller)  # buffered: it waits for a reconnection that will fail
    failed.get(timeout=WAIT)
    glet.join(timeout=AT_ONCE)
    assert glet.dead and isinstance(outcome[0], sioclient.DisconnectedError)
    for timeout in (None, 30.0):
        with pytest.raises(sioclient.DisconnectedError):
            at_once(sock.call, "ack", 1, timeout=timeout)


def test_volatile_call_while_disconnected_raises_at_once(
    server: ServerProcess, mode: dict, clients: Clients
):
    sock = clients.io(server.url, auto_connect=False, **mode)
    with pytest.raises(sioclient.DisconnectedError):
        at_once(sock.volatile.call, "ack", 1)
    with pytest.raises(sioclient.DisconnectedError):
        at_once(sock.volatile.call, "ack", 1, timeout=30)
    connected = expect(sock, "connect")
    sock.open()
    connected.get(timeout=WAIT)
    assert sock.volatile.call("ack", 2, timeout=WAIT) == 2
    # the dropped packets never reached the server
    assert received(sock) == [["ack", [2]]]


@pytest.mark.parametrize("when", ["connected", "before-connect", "reconnecting"])
def test_unencodable_argument_raises_in_emit(
    server: ServerProcess, mode: dict, clients: Clients, when: str
):
    sock = clients.io(server.url, auto_connect=False, reconnection_delay=0.2, **mode)
    if when != "before-connect":
        connected = expect(sock, "connect")
        sock.open()
        connected.get(timeout=WAIT)
    if when == "reconnecting":
        gone = expect(sock, "disconnect")
        sock.io.engine.close()
        gone.get(timeout=WAIT)
        assert not sock.connected
    sock.emit("echo", "before")
    bad = [object(), {1j: 2}, {"nested": [object()]}]
    for value in bad:
        with pytest.raises(TypeError):
            at_once(sock.emit, "echo", value)
        with pytest.raises(TypeError):
            at_once(sock.emit, "echo", value, lambda *a: None)
        with pytest.raises(TypeError):
            at_once(sock.call, "echo", value, timeout=30)
        with pytest.raises(TypeError):
            at_once(sock.timeout(30).emit, "echo", value, lambda *a: None)
    sock.emit("echo", "after")
    assert not sock._acks  # a failed emit leaves no ack (nor timer) behind
    if when == "before-connect":
        sock.open()
    if not sock.connected:
        expect(sock, "connect").get(timeout=WAIT)
    assert received(sock) == [["echo", ["before"]], ["echo", ["after"]]]


@pytest.mark.parametrize("kind", KINDS)
def test_buffered_emits_follow_the_detected_revision(
    sio_server, kind: str, mode: dict, clients: Clients
):
    """Encoded for revision 5 before the first connection (the likely one), then sent to a
    2.x server: encoded again for revision 4. msgpack's two formats differ."""
    srv = sio_server(kind, parser="msgpack")
    sock = clients.io(srv.url, auto_connect=False, parser="msgpack", **mode)
    acks = []
    for i in range(3):
        sock.emit("ack", i, {"k": b"\x00\x01"}, lambda *a: acks.append(a))
    last = gevent.event.AsyncResult()
    sock.timeout(WAIT).emit("ack", "last", lambda err, *a: last.set((err, a)))
    sock.open()
    assert last.get(timeout=WAIT) == (None, ("last",))
    assert [a[0] for a in acks] == [0, 1, 2]
    assert [a[1]["k"] for a in acks] == [b"\x00\x01"] * 3
    assert sock.io.engine.protocol == (4 if kind == "node2" else 5)


# ---- through the fault proxy ----------------------------------------------------------------


@pytest.mark.parametrize("kind", fault_util.KIND_PARAMS)
@pytest.mark.parametrize("transports", fault_util.TRANSPORT_PARAMS)
def test_call_without_timeout_on_a_blackholed_network(
    proxied: Any, kind: str, transports: list[str]
) -> None:
    """A call() with no time limit whose packet left into a blackhole: the heartbeat gives the
    connection up and the call raises DisconnectedError; once the network passes again, calls
    work."""
    env = proxied(kind, transports)
    sock = env.connect()
    assert sock.call("ack", "before", timeout=WAIT) == "before"
    env.proxy.blackhole()
    outcome = gevent.event.AsyncResult()

    def caller() -> None:
        try:
            outcome.set(sock.call("ack", "lost"))
        except sioclient.SocketIOError as exc:
            outcome.set(exc)

    gevent.spawn(caller)
    assert isinstance(outcome.get(timeout=fault_util.DETECT), sioclient.DisconnectedError)
    back = expect(sock, "connect")
    env.proxy.passthrough()
    back.get(timeout=fault_util.BACK)
    assert sock.call("ack", "after", timeout=WAIT) == "after"


def test_an_answered_call_leaves_no_timer_behind(server: ServerProcess, mode: dict, clients):
    """A call() answered long before its timeout disarms the deadline timer: a program whose
    main greenlet waits for the event loop to empty is not held until the timeout passes."""
    sock = clients.connect(server.url, **mode)
    assert sock.call("echo", "x", timeout=60) == "x"
    timer = sock._timer
    assert timer is None or not timer.ref  # kept for the next deadline, not holding the loop
    sock.timeout(60).emit("echo", "y", lambda err, value: None)
    assert sock._timer is not None and sock._timer.ref  # one deadline pending: armed
