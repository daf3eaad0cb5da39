"""Many sends made in one loop iteration: the first written at once, the rest gathered into
one write before the loop polls again, every packet in order and acked.

``websocket.write_calls`` counts the writes of every connection of the process; the other
connections of a test are idle (no heartbeat falls due within one), so the counts below
allow one write more for a ping answer at most."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest
from gevent.event import Event
from integration_util import (
    WAIT,
    Clients,
    clients_fixture,  # noqa: F401 - the `clients` fixture
    eventually,
)

import sioclient
from sioclient.transports import websocket as ws_mod

N = 300  # emits made back to back, without yielding


def _emit_back_to_back(sock: Any, n: int, payload: str = "") -> tuple[list[int], Event, int]:
    acked: list[int] = []
    done = Event()

    def on_ack(seq: int) -> None:
        acked.append(seq)
        if len(acked) == n:
            done.set()

    before = ws_mod.write_calls
    for seq in range(n):
        sock.emit("ack", seq, payload, lambda *a, seq=seq: on_ack(seq))
        if seq == 0:
            # the first send of the iteration goes to the kernel from its caller
            assert ws_mod.write_calls == before + 1
    return acked, done, before


@pytest.mark.node
@pytest.mark.parametrize("kind", ["node2", "node4"])
def test_emits_of_one_iteration_are_gathered_in_order(sio_server: Any, clients: Clients, kind):
    server = sio_server(kind, transports=["websocket"])
    sock = clients.connect(server.url, transports=["websocket"])
    sock.call("get-received", timeout=WAIT)  # a round trip: the loop has polled since
    acked, done, before = _emit_back_to_back(sock, N)
    assert done.wait(WAIT), f"{N - len(acked)} acks missing"
    assert acked == list(range(N))
    # one write for the first, one for the rest (a ping answer may add one)
    assert ws_mod.write_calls - before <= 3
    received = sock.call("get-received", timeout=WAIT)
    assert [args for name, args in received if name == "ack"] == [[seq, ""] for seq in range(N)]


@pytest.mark.node
@pytest.mark.parametrize("kind", ["node2", "node4"])
def test_a_gathered_write_is_bounded(sio_server: Any, clients: Clients, kind):
    # 2 KiB packets, 600 KiB in all: written each time GATHER_LIMIT bytes are gathered
    server = sio_server(kind, transports=["websocket"])
    sock = clients.connect(server.url, transports=["websocket"])
    sock.call("get-received", timeout=WAIT)
    ws = sock.io.engine._ws
    payload = "x" * 2048
    acked, done, before = _emit_back_to_back(sock, N, payload)
    gathered = ws._gather
    assert gathered is None or len(gathered) < ws_mod.GATHER_LIMIT
    assert done.wait(WAIT), f"{N - len(acked)} acks missing"
    assert acked == list(range(N))
    limit_writes = N * 2048 // ws_mod.GATHER_LIMIT
    assert limit_writes <= ws_mod.write_calls - before <= N // 10
    received = sock.call("get-received", timeout=WAIT)
    assert [args for name, args in received if name == "ack"] == [
        [seq, payload] for seq in range(N)
    ]


@pytest.mark.node
@pytest.mark.parametrize("kind", ["node2", "node4"])
def test_close_writes_what_was_gathered(sio_server: Any, clients: Clients, kind):
    # a program that emits, disconnects and exits without yielding: the close hands every
    # gathered byte to the kernel before it returns
    server = sio_server(kind, transports=["websocket"])
    sock = clients.connect(server.url, transports=["websocket"])
    sock.call("get-received", timeout=WAIT)
    ws = sock.io.engine._ws
    before = ws_mod.write_calls
    for seq in range(20):
        sock.emit("ack", seq)
    sock.disconnect()
    assert ws._gather is None
    # the first emit, then the rest with the close packet (and a ping answer, at most)
    assert 2 <= ws_mod.write_calls - before <= 3


EXIT_SCRIPT = """
import sys
import sioclient
sock = sioclient.io(sys.argv[1], transports=["websocket"], auto_connect=False)
sock.open()
assert sock.call("get-received", timeout=10) == []
for seq in range(5):
    sock.emit("last-words", seq)  # no yield after these: the process ends here
"""


@pytest.mark.node
@pytest.mark.parametrize("kind", ["node2", "node4"])
def test_a_script_that_ends_without_yielding_still_sends_its_gathered_emits(
    sio_server: Any, tmp_path: Any, kind: str
) -> None:
    record = tmp_path / "record.jsonl"
    server = sio_server(kind, transports=["websocket"], record=str(record))
    script = tmp_path / "script.py"
    script.write_text(EXIT_SCRIPT)
    # the sioclient under test, whatever the installed one is
    root = os.path.dirname(os.path.dirname(os.path.abspath(sioclient.__file__)))
    env = {**os.environ, "PYTHONPATH": root}
    done = subprocess.run(
        [sys.executable, str(script), server.url], capture_output=True, timeout=WAIT * 3, env=env
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]

    def seen() -> list[Any]:
        if not record.exists():
            return []
        lines = [json.loads(line) for line in record.read_text().splitlines()]
        return [args for _nsp, name, args in lines if name == "last-words"]

    eventually(lambda: len(seen()) == 5, what="the five emits at the server")
    assert seen() == [[seq] for seq in range(5)]
