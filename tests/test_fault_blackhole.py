"""A network that silently drops everything: the heartbeat notices within pingInterval +
pingTimeout, the socket says ``ping timeout``, and the client is back once packets pass again."""

from __future__ import annotations

import time
from typing import Any

import pytest
from fault_util import (  # noqa: F401 - the `proxied` fixture
    BACK,
    DETECT,
    KIND_PARAMS,
    TRANSPORT_PARAMS,
    proxied_fixture,
)
from faultproxy import BOTH, DOWN, UP
from integration_util import WAIT, clients_fixture, eventually, expect  # noqa: F401 - `clients`

pytestmark = [
    pytest.mark.parametrize("kind", KIND_PARAMS),
    pytest.mark.parametrize("transports", TRANSPORT_PARAMS),
]


def _blackhole_and_back(
    proxied: Any, kind: str, transports: list[str], direction: str, reasons: tuple[str, ...]
) -> str:
    env = proxied(kind, transports)
    sock = env.connect()
    assert sock.call("echo", "before", timeout=WAIT) == "before"
    down = expect(sock, "disconnect")
    lost = time.monotonic()
    env.proxy.blackhole(direction)
    reason = down.get(timeout=DETECT)[0]
    detected = time.monotonic() - lost
    assert reason in reasons, reason
    assert detected < DETECT
    assert not sock.connected
    back = expect(sock, "connect")
    env.proxy.passthrough()
    back.get(timeout=BACK)
    assert sock.call("echo", "after", timeout=WAIT) == "after"
    # the server forgets the old connection once its own heartbeat gives up on it
    eventually(lambda: sock.call("count", timeout=WAIT) == 1, what="one socket on the server")
    return reason


def test_blackhole_both_ways(proxied: Any, kind: str, transports: list[str]) -> None:
    _blackhole_and_back(proxied, kind, transports, BOTH, ("ping timeout",))


@pytest.mark.parametrize("direction", [UP, DOWN])
def test_blackhole_one_way(proxied: Any, kind: str, transports: list[str], direction: str) -> None:
    """Only one direction is lost: the client's pings or pongs never arrive, or nothing the
    server sends does.  Either way the loss is noticed on schedule: by the client's heartbeat,
    or, when the server's own heartbeat gives up first and its close passes the other way, as a
    closed transport."""
    _blackhole_and_back(
        proxied,
        kind,
        transports,
        direction,
        ("ping timeout", "transport close", "transport error"),
    )
