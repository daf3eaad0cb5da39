"""At-least-once emits (``retries``, ``ack_timeout``) against a server handler that leaves the
first N deliveries of a key unanswered (``flaky``), and across a cut connection: every emit
reaches the server, unanswered ones are sent again in the order they were made, and an emit
out of retries fails with ``TimeoutError``.  Both revisions (socket.io 2.x and 4.x)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fault_util import (  # noqa: F401 - the `proxied` fixture
    BACK,
    DETECT,
    KIND_PARAMS,
    TRANSPORT_PARAMS,
    proxied_fixture,
)
from integration_util import WAIT, Collector, clients_fixture, expect  # noqa: F401

import sioclient

pytestmark = [
    pytest.mark.parametrize("kind", KIND_PARAMS),
    pytest.mark.parametrize("transports", TRANSPORT_PARAMS),
]

#: the deadline of each try: short, the server answers in a few ms when it answers
ACK_TIMEOUT = 0.3


def _key() -> str:
    return uuid.uuid4().hex


def test_unanswered_emit_is_sent_again(proxied: Any, kind: str, transports: list[str]) -> None:
    env = proxied(kind, transports)
    sock = env.connect(retries=3, ack_timeout=ACK_TIMEOUT)
    key = _key()
    outgoing = Collector()
    sock.on_any_outgoing(outgoing)
    # the first two deliveries are left unanswered: the third try is answered
    assert sock.call("flaky", key, 2, "v") == "v"
    assert sock.call("flaky-log", key, timeout=WAIT) == ["v", "v", "v"]
    # the outgoing catch-all sees each try
    outgoing.wait(4, timeout=WAIT)
    assert outgoing.calls == [("flaky", key, 2, "v")] * 3 + [("flaky-log", key)]


def test_out_of_retries_fails_with_timeout(proxied: Any, kind: str, transports: list[str]) -> None:
    env = proxied(kind, transports)
    sock = env.connect(retries=2, ack_timeout=ACK_TIMEOUT)
    key = _key()
    with pytest.raises(sioclient.TimeoutError):
        sock.call("flaky", key, 100, "v")
    acks = Collector()
    sock.emit("flaky", key, 100, "w", acks)
    (result,) = acks.wait(1, timeout=WAIT)
    assert isinstance(result[0], sioclient.TimeoutError) and len(result) == 1
    # one try and two retries each
    assert sock.call("flaky-log", key, timeout=WAIT) == ["v"] * 3 + ["w"] * 3


def test_pipelined_emits_keep_their_order(proxied: Any, kind: str, transports: list[str]) -> None:
    """Emits are pipelined; the first one's deliveries are left unanswered once, so it and the
    later ones still unanswered are sent again, in order: every emit is acked once, and the
    server's last delivery of each comes in the order they were made."""
    env = proxied(kind, transports)
    sock = env.connect(retries=5, ack_timeout=ACK_TIMEOUT)
    key = _key()
    acks = Collector()
    count = 20
    for i in range(count):
        sock.emit("flaky", key, 1, i, acks)
    acks.wait(count, timeout=WAIT)
    assert sock.call("ack", "sync", timeout=WAIT) == "sync"
    assert sorted(acks.calls) == [(None, i) for i in range(count)]
    log = sock.call("flaky-log", key, timeout=WAIT)
    assert sorted(set(log)) == list(range(count))
    assert log[0] == 0 and log.count(0) == 2  # left unanswered once, sent again once
    last = {value: index for index, value in enumerate(log)}
    assert [v for v, _ in sorted(last.items(), key=lambda kv: kv[1])] == list(range(count))


def test_emit_waiting_for_its_ack_is_sent_again_after_a_cut(
    proxied: Any, kind: str, transports: list[str]
) -> None:
    """No deadline comes into play (ack_timeout far away): the emit the server left
    unanswered leaves again on the next connection, with the ones made meanwhile, in order."""
    env = proxied(kind, transports)
    sock = env.connect(retries=1, ack_timeout=60)
    key = _key()
    acks = Collector()
    sock.emit("flaky", key, 1, "first", acks)
    assert sock.call("flaky-log", key, timeout=WAIT) == ["first"]  # delivered, unanswered
    down, back = expect(sock, "disconnect"), expect(sock, "connect")
    env.proxy.reset()
    down.get(timeout=DETECT)
    sock.emit("flaky", key, 1, "offline", acks)
    env.proxy.passthrough()
    back.get(timeout=BACK)
    acks.wait(2, timeout=WAIT)
    assert acks.calls == [(None, "first"), (None, "offline")]
    assert sock.call("flaky-log", key, timeout=WAIT) == ["first", "first", "offline"]


def test_emits_waiting_for_their_ack_are_bounded(
    proxied: Any, kind: str, transports: list[str]
) -> None:
    """max_buffered_emits bounds the emits kept until the server acks them, connected too."""
    env = proxied(kind, transports)
    sock = env.connect(retries=1, max_buffered_emits=3)  # no ack_timeout: they wait
    key = _key()
    for i in range(3):
        sock.emit("flaky", key, 100, i)
    with pytest.raises(sioclient.BufferFullError):
        sock.emit("flaky", key, 100, 3)
    # a volatile emit is not kept: it is not bounded by them
    assert sock.volatile.call("flaky-log", key, timeout=WAIT) == [0, 1, 2]


def test_retries_zero_changes_nothing(proxied: Any, kind: str, transports: list[str]) -> None:
    """The default: an emit the server does not answer is not sent again; ack_timeout alone
    makes it fail, the callback getting the error first as with timeout()."""
    env = proxied(kind, transports)
    sock = env.connect(ack_timeout=ACK_TIMEOUT)
    key = _key()
    with pytest.raises(sioclient.TimeoutError):
        sock.call("flaky", key, 1, "v")
    acks = Collector()
    sock.emit("ack", 1, acks)
    assert acks.wait(1, timeout=WAIT) == [(None, 1)]
    assert sock.call("flaky-log", key, timeout=WAIT) == ["v"]
