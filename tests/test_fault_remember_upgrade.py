"""remember_upgrade after the WebSocket starts failing (a proxy that rejects upgrades).

As engine.io-client: once a WebSocket upgrade succeeded, later connections open with
WebSocket directly; once that remembered WebSocket fails, the next attempt polls again, and
later ones keep polling until an upgrade succeeds again.  A WebSocket the proxy rejects is
tried once, never forever.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fault_util import BACK, KIND_PARAMS, proxied_fixture  # noqa: F401 - `proxied`
from integration_util import (  # noqa: F401 - `clients`
    WAIT,
    clients_fixture,
    collect,
    eventually,
    expect,
)

from sioclient import engine as engine_mod

pytestmark = pytest.mark.parametrize("kind", KIND_PARAMS)


def _first_transport(sock: Any) -> str:
    """The transport of the first request of the connection now open (the server saw it)."""
    hs = sock.call("get-handshake", timeout=WAIT)
    return parse_qs(urlsplit(hs["url"]).query)["transport"][0]


def _drop_and_wait_back(sock: Any) -> None:
    """The server closes the connection (a transport close, no failure); the client is back."""
    down = expect(sock, "disconnect")
    back = expect(sock, "connect")
    sock.emit("close-engine")
    down.get(timeout=WAIT)
    back.get(timeout=BACK)


def test_a_rejected_websocket_is_forgotten(proxied: Any, kind: str, monkeypatch) -> None:
    monkeypatch.setattr(engine_mod, "_prior_websocket_success", False)
    env = proxied(kind, ["polling", "websocket"])
    sock = env.connect(remember_upgrade=True)
    eventually(lambda: sock.io.engine.transport == "websocket", what="the upgrade")

    # remembered: the next connection opens with WebSocket directly
    _drop_and_wait_back(sock)
    assert _first_transport(sock) == "websocket"

    # the proxy now rejects upgrades: the remembered WebSocket fails once, then polling
    env.proxy.reject_websocket()
    errors = collect(sock.io, "reconnect_error")
    _drop_and_wait_back(sock)
    assert _first_transport(sock) == "polling"
    assert len(errors) >= 1
    assert sock.io.engine.transport == "polling"  # the upgrade probe was rejected as well
    rejected = env.proxy.rejected_upgrades

    # and it stays forgotten: the next reconnection polls from its first attempt
    failed = len(errors)
    _drop_and_wait_back(sock)
    assert _first_transport(sock) == "polling"
    assert len(errors) == failed
    assert sock.call("echo", "still here", timeout=WAIT) == "still here"
    # only upgrade probes met the proxy's refusal since: one per connection at most
    assert env.proxy.rejected_upgrades <= rejected + 1

    # once the proxy lets WebSocket through again, an upgrade is remembered again
    env.proxy.passthrough()
    _drop_and_wait_back(sock)
    eventually(lambda: sock.io.engine.transport == "websocket", what="the upgrade")
    _drop_and_wait_back(sock)
    assert _first_transport(sock) == "websocket"
