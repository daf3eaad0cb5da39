"""Emits made while the network is down (connections refused, or reset as soon as they are
made) are buffered and delivered exactly once, in order, after the reconnect; each ack callback
runs exactly once."""

from __future__ import annotations

from typing import Any

import pytest
from fault_util import (  # noqa: F401 - the `proxied` fixture
    BACK,
    DETECT,
    KIND_PARAMS,
    TRANSPORT_PARAMS,
    proxied_fixture,
)
from faultproxy import REFUSE, RESET
from integration_util import WAIT, Collector, clients_fixture, collect, expect  # noqa: F401

pytestmark = [
    pytest.mark.parametrize("kind", KIND_PARAMS),
    pytest.mark.parametrize("transports", TRANSPORT_PARAMS),
]

COUNT = 50


@pytest.mark.parametrize("fault", [REFUSE, RESET])
def test_offline_emits_delivered_once_in_order(
    proxied: Any, kind: str, transports: list[str], fault: str
) -> None:
    env = proxied(kind, transports)
    sock = env.connect()
    assert sock.call("echo", 0, timeout=WAIT) == 0
    down = expect(sock, "disconnect")
    errors = collect(sock.io, "reconnect_error")
    env.proxy.set(fault)
    if fault == REFUSE:
        # refusing new connections does not end the open one: the heartbeat does, once the
        # connection's packets are dropped as well
        env.proxy.reset_all()
    down.get(timeout=DETECT)
    assert not sock.connected
    acks = Collector()
    for i in range(COUNT):
        sock.emit("ack", i, ack=acks)  # the server acks `ack` with its arguments
    # reconnection attempts fail while the fault lasts (at least one, so the emits wait)
    errors.wait(1, timeout=WAIT)
    assert not sock.connected
    back = expect(sock, "connect")
    env.proxy.passthrough()
    back.get(timeout=BACK)
    acks.wait(COUNT, timeout=WAIT)
    received = sock.call("get-received", timeout=WAIT)
    assert received == [["ack", [i]] for i in range(COUNT)]
    # each callback exactly once, in order: nothing more arrives after a later round trip
    assert sock.call("ack", "sync", timeout=WAIT) == "sync"
    assert acks.calls == [(i,) for i in range(COUNT)]


def test_offline_emits_survive_several_failed_connections(
    proxied: Any, kind: str, transports: list[str]
) -> None:
    """Connections that reset after they were established (the handshake may even start) do
    not take the buffered emits with them: they are sent once a connection is really open."""
    env = proxied(kind, transports)
    sock = env.connect()
    down = expect(sock, "disconnect")
    errors = collect(sock.io, "reconnect_error")
    env.proxy.reset()
    down.get(timeout=DETECT)
    for i in range(COUNT):
        sock.emit("offline", i)
        if i == COUNT // 2:
            errors.wait(2, timeout=WAIT)
    errors.wait(3, timeout=WAIT)
    back = expect(sock, "connect")
    env.proxy.passthrough()
    back.get(timeout=BACK)
    received = sock.call("get-received", timeout=WAIT)
    assert received == [["offline", [i]] for i in range(COUNT)]


def test_offline_emits_of_every_form_delivered_in_order(
    proxied: Any, kind: str, transports: list[str]
) -> None:
    """A buffered emit is kept as its one encoded message when it can be (compressed, not
    binary), else with its packet, parser and options: both forms leave in the order of the
    emits, and a catch-all outgoing listener added meanwhile sees every one as it leaves."""
    env = proxied(kind, transports)
    sock = env.connect()
    down = expect(sock, "disconnect")
    env.proxy.reset()
    down.get(timeout=DETECT)
    acks = Collector()
    for i in range(12):
        if i % 3 == 0:
            sock.emit("ack", i, ack=acks)
        elif i % 3 == 1:
            sock.compress(False).emit("ack", i, ack=acks)
        else:
            sock.emit("ack", i, b"\x00\x01", ack=acks)  # binary: several messages
    kept = [entry for _, entry in sock._send_buffer]
    assert [isinstance(e, str) for e in kept] == [i % 3 == 0 for i in range(12)]
    outgoing: list[tuple[Any, ...]] = []
    sock.on_any_outgoing(lambda *args: outgoing.append(args))
    back = expect(sock, "connect")
    env.proxy.passthrough()
    back.get(timeout=BACK)
    acks.wait(12, timeout=WAIT)
    received = sock.call("get-received", timeout=WAIT)
    assert [args[0] for _, args in received] == list(range(12))
    assert [args[0] for args in acks.calls] == list(range(12))
    expected = [("ack", i) if i % 3 != 2 else ("ack", i, b"\x00\x01") for i in range(12)]
    assert outgoing[:12] == expected
