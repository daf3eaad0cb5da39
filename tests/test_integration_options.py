"""Engine options end to end: remember_upgrade, force_base64, timestamp_requests, and the client
in a monkey-patched process."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from urllib.parse import parse_qs, urlsplit

import pytest
from integration_util import WAIT, Clients, clients_fixture, eventually  # noqa: F401

from sioclient import engine as engine_mod


def _first_request_query(sock) -> dict[str, list[str]]:
    hs = sock.call("get-handshake", timeout=WAIT)
    return parse_qs(urlsplit(hs["url"]).query)


@pytest.mark.parametrize("kind", ["node2", "node4", "python"])
def test_remember_upgrade(sio_server, kind: str, clients: Clients, monkeypatch) -> None:
    """engine.io-client's rememberUpgrade: once a WebSocket upgrade succeeded, later
    connections in the process open with WebSocket directly."""
    monkeypatch.setattr(engine_mod, "_prior_websocket_success", False)
    server = sio_server(kind)
    first = clients.connect(server.url, force_new=True, remember_upgrade=True)
    assert _first_request_query(first)["transport"] == ["polling"]
    eventually(lambda: first.io.engine.transport == "websocket", what="the upgrade")

    again = clients.connect(server.url, force_new=True, remember_upgrade=True)
    assert again.io.engine.transport == "websocket"
    assert _first_request_query(again)["transport"] == ["websocket"]

    plain = clients.connect(server.url, force_new=True)
    assert _first_request_query(plain)["transport"] == ["polling"]


@pytest.mark.parametrize("kind", ["node2", "node4", "python"])
def test_force_base64_binary_round_trip(sio_server, kind: str, clients: Clients) -> None:
    """forceBase64 asks the server for base64 (b64=1) and binary still round-trips."""
    server = sio_server(kind)
    sock = clients.connect(server.url, transports=["polling"], force_base64=True)
    assert _first_request_query(sock)["b64"] == ["1"]
    blob = bytes(range(256)) * 4
    assert sock.call("ack", {"blob": blob, "n": 1}, timeout=WAIT) == {"blob": blob, "n": 1}


@pytest.mark.parametrize("stamp", [True, False])
def test_timestamp_requests(sio_server, stamp: bool, clients: Clients) -> None:
    server = sio_server("node4")
    sock = clients.connect(
        server.url, transports=["polling"], timestamp_requests=stamp, timestamp_param="ts"
    )
    query = _first_request_query(sock)
    assert ("ts" in query) is stamp
    assert "t" not in query


_PATCHED = textwrap.dedent(
    """
    from gevent import monkey
    monkey.patch_all()
    import sys, threading
    import sioclient

    sock = sioclient.io(sys.argv[1], transports=sys.argv[2].split(","), reconnection=False)
    got = sock.call("ack", "patched", b"\\x00\\xff", timeout=10)
    assert got == ("patched", b"\\x00\\xff"), got
    assert threading.active_count() == 1, threading.enumerate()
    sock.close()
    print("ok", sock.io.engine.protocol if sock.io.engine else None)
    """
)


@pytest.mark.parametrize("transports", ["polling", "websocket", "polling,websocket"])
def test_monkey_patched_process(sio_server, transports: str) -> None:
    """The client is just as correct when the host process has monkey-patched."""
    server = sio_server("node4")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run(
        [sys.executable, "-c", _PATCHED, server.url, transports],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.startswith("ok"), out.stdout


_PURE = textwrap.dedent(
    """
    import sys
    import sioclient
    from sioclient.core import _accel

    assert sioclient.speedups is False
    sock = sioclient.io(sys.argv[1], transports=sys.argv[2].split(","), reconnection=False)
    blob = bytes(range(256))
    assert sock.call("ack", {"a": [1, "é", blob]}, timeout=10) == {"a": [1, "é", blob]}
    got = []
    sock.on("flood", lambda i, payload: got.append(i))
    assert sock.call("flood", 500, "x" * 100, timeout=10) == 500
    assert sock.call("ack", "after", timeout=10) == "after"
    assert got == list(range(500)), got[:10]
    mods = {name: _accel.load(name).__name__ for name in _accel.HOT_MODULES}
    assert all(m.endswith("_py") for m in mods.values()), mods
    sock.close()
    print("ok")
    """
)


@pytest.mark.parametrize("transports", ["websocket", "polling,websocket"])
def test_pure_python_client(sio_server, transports: str) -> None:
    """With SIOCLIENT_NO_EXTENSIONS=1 the whole client runs on the pure-Python twins."""
    server = sio_server("node4")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path), SIOCLIENT_NO_EXTENSIONS="1")
    out = subprocess.run(
        [sys.executable, "-c", _PURE, server.url, transports],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "ok", out.stdout
