"""Servers restarted 20 times under a steady stream of emits.

Two Node servers (2.x and 4.x) restart together, round after round, on their ports; four clients
(each server over polling and over WebSocket) emit all along.  Every client has two streams of
numbered events, both the server's ``ack`` event: plain emits with an ack callback at a steady
pace, and ``call()`` one after another.  The servers record every event they receive in a file
(``record``), across restarts.

What "nothing lost or duplicated" means here, per stream:

- the server saw each number at most once, and in increasing order;
- every emit whose ack arrived was seen by the server;
- every emit made while the socket was disconnected was seen by the server (exactly once, in
  order, by the two points above);
- an emit the server never saw was made while the socket looked connected and its ack never
  came: it was in flight when the server died.  A ``call()`` in that case raised
  ``DisconnectedError``; no ``call()`` ever hung.

Between the 5th and the 20th restart, RSS, the number of greenlet objects and the number of
open file descriptors of this process stay flat (generous tolerances: the numbers are taken
while the clients are busy).
"""

from __future__ import annotations

import gc
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import gevent
import greenlet
import pytest
from fault_util import FAST, PING
from gevent.event import Event
from integration_util import WAIT, Clients, clients_fixture, expect  # noqa: F401 - `clients`
from servers import ServerProcess

import sioclient

RESTARTS = 20
MEASURE_FROM = 5
#: pace of the plain emits of each client (a rate, not a synchronisation)
EMIT_EVERY = 0.01
#: a call() that takes longer than this counts as hung
HANG = 15.0
#: acks each stream must get after a reconnect before the next restart
PROGRESS = 3


def rss_bytes() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def greenlet_count() -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, greenlet.greenlet))


def fd_count() -> int:
    return len(os.listdir("/proc/self/fd"))


@dataclass
class Stream:
    """One numbered stream of emits: what was emitted, when, and what came back."""

    tag: str
    emitted: int = 0
    offline: set[int] = field(default_factory=set)  # made while the socket was disconnected
    acked: set[int] = field(default_factory=set)
    failed: set[int] = field(default_factory=set)  # call() raised DisconnectedError
    hung: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    progress: Event = field(default_factory=Event)

    def on_ack(self, seq: int) -> None:
        self.acked.add(seq)
        self.progress.set()


class Client:
    def __init__(self, name: str, sock: sioclient.Socket) -> None:
        self.name = name
        self.sock = sock
        self.emits = Stream(f"{name}/emit")
        self.calls = Stream(f"{name}/call")
        self.running = True
        self.greenlets = [gevent.spawn(self._emitter), gevent.spawn(self._caller)]

    def _emitter(self) -> None:
        s = self.emits
        while self.running:
            seq = s.emitted
            s.emitted += 1
            if not self.sock.connected:
                s.offline.add(seq)
            self.sock.emit("ack", s.tag, seq, ack=lambda *a, seq=seq: s.on_ack(seq))
            gevent.sleep(EMIT_EVERY)

    def _caller(self) -> None:
        s = self.calls
        while self.running:
            seq = s.emitted
            s.emitted += 1
            if not self.sock.connected:
                s.offline.add(seq)
            try:
                with gevent.Timeout(HANG):
                    self.sock.call("ack", s.tag, seq)
            except gevent.Timeout:
                s.hung.append(seq)
                return
            except sioclient.DisconnectedError:
                s.failed.add(seq)
                continue
            except Exception as exc:  # noqa: BLE001 - reported by the test
                s.errors.append(repr(exc))
                return
            s.on_ack(seq)

    def wait_progress(self, timeout: float = WAIT) -> None:
        """Both streams got PROGRESS more acks (bounded)."""
        deadline = time.monotonic() + timeout
        for s in (self.emits, self.calls):
            target = len(s.acked) + PROGRESS
            while len(s.acked) < target:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{s.tag}: no progress ({len(s.acked)} acks), {s}")
                if s.hung or s.errors:
                    raise AssertionError(f"{s.tag}: {s.hung=} {s.errors=}")
                s.progress.clear()
                if len(s.acked) < target:
                    s.progress.wait(min(left, 1.0))

    def stop(self) -> None:
        self.running = False
        gevent.joinall(self.greenlets, timeout=HANG + 5)
        assert all(g.dead for g in self.greenlets), f"{self.name}: an emitter did not stop"


def read_record(path: Path) -> dict[str, list[int]]:
    seen: dict[str, list[int]] = {}
    if not path.exists():
        return seen
    for line in path.read_text().splitlines():
        nsp, event, args = json.loads(line)
        if event == "ack" and len(args) == 2:
            seen.setdefault(args[0], []).append(args[1])
    return seen


def check_stream(s: Stream, seen: list[int]) -> int:
    """Asserts the definition in the module docstring; returns how many were lost in flight."""
    assert not s.hung, f"{s.tag}: call() hung for {HANG} s on {s.hung}"
    assert not s.errors, f"{s.tag}: call() raised {s.errors}"
    assert all(a < b for a, b in zip(seen, seen[1:])), f"{s.tag}: duplicated or reordered"
    seen_set = set(seen)
    assert s.acked <= seen_set, f"{s.tag}: acked but never seen: {sorted(s.acked - seen_set)}"
    assert s.offline <= seen_set, f"{s.tag}: made offline, lost: {sorted(s.offline - seen_set)}"
    lost = set(range(s.emitted)) - seen_set
    assert not (s.failed & s.acked)
    if s.tag.endswith("/call"):
        # a call() whose event was lost said so
        assert lost <= s.failed, f"{s.tag}: lost without DisconnectedError: {lost - s.failed}"
    return len(lost)


@pytest.mark.slow
@pytest.mark.node
def test_twenty_restarts_under_load(
    sio_server: Callable[..., ServerProcess], clients: Clients, tmp_path: Path
) -> None:
    records = {kind: tmp_path / f"{kind}.jsonl" for kind in ("node2", "node4")}
    servers = {kind: sio_server(kind, record=str(path), **PING) for kind, path in records.items()}
    everyone: list[Client] = []
    for kind, server in servers.items():
        for transports in (["polling"], ["websocket"]):
            sock = clients.connect(server.url, transports=transports, **FAST)
            everyone.append(Client(f"{kind}-{transports[0]}", sock))
    for c in everyone:
        c.wait_progress()

    samples: dict[int, tuple[int, int, int]] = {}
    started = time.monotonic()
    try:
        for round_ in range(1, RESTARTS + 1):
            backs = [expect(c.sock, "connect") for c in everyone]
            restarts = [gevent.spawn(s.restart) for s in servers.values()]
            gevent.joinall(restarts, timeout=30, raise_error=True)
            assert all(g.dead for g in restarts), "a server did not restart in time"
            for back in backs:
                back.get(timeout=WAIT)
            for c in everyone:
                c.wait_progress()
            if round_ in (MEASURE_FROM, RESTARTS):
                samples[round_] = (rss_bytes(), greenlet_count(), fd_count())
    finally:
        for c in everyone:
            c.stop()
    elapsed = time.monotonic() - started

    # a last round trip on each socket: everything emitted before has reached the server
    for c in everyone:
        assert c.sock.call("ack", "sync", 0, timeout=WAIT) == ("sync", 0)
    for server in servers.values():
        server.stop()  # flushes the record

    lost = {}
    for kind, path in records.items():
        seen = read_record(path)
        for c in everyone:
            if not c.name.startswith(kind):
                continue
            for s in (c.emits, c.calls):
                lost[s.tag] = check_stream(s, seen.get(s.tag, []))
                assert len(s.acked) > RESTARTS * PROGRESS

    rss5, glets5, fds5 = samples[MEASURE_FROM]
    rss20, glets20, fds20 = samples[RESTARTS]
    summary = (
        f"{RESTARTS} restarts in {elapsed:.1f} s; lost in flight {lost}; "
        f"RSS {rss5 >> 20} -> {rss20 >> 20} MiB, greenlets {glets5} -> {glets20}, "
        f"fds {fds5} -> {fds20}"
    )
    print(summary)
    assert rss20 <= rss5 * 1.15 + (8 << 20), summary
    assert glets20 <= glets5 + 40, summary
    assert fds20 <= fds5 + 8, summary
