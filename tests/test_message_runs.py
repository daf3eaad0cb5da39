"""The messages of one WebSocket read, handled as a run.

The Engine hands the manager's listener every message of a read at once
(``on_engine_messages(run, start)``): server events go to their sockets without a call each,
and the run stops after any message that did more (an ack asked for, a namespace's DISCONNECT,
an undecodable packet, handlers too far behind), for the Engine to see whether to read on.
What the user sees must be what the message-by-message path (``on_engine_message``) gives:
the same handlers called in the same order with the same arguments, the same disconnections
and errors.  An in-memory engine (tests/memengine.py) opens the connections; a real Engine on
a Node server shows that a listener failing in the middle of a run loses nothing after it.
"""

from __future__ import annotations

from typing import Any

import gevent
import pytest
from gevent.event import AsyncResult
from memengine import WAIT, MemServer, MiniParser

import sioclient
from sioclient.core.packet import ACK, DISCONNECT, EVENT, Packet
from sioclient.engine import Engine
from sioclient.options import normalize

URL = "http://localhost:3000"


@pytest.fixture(params=[4, 5], ids=["rev4", "rev5"])
def server(request):
    srv = MemServer(protocol=request.param)
    with srv.installed():
        yield srv


def _client(server: MemServer) -> tuple[Any, list[Any]]:
    """A connected socket on ``/`` and ``/admin`` whose handlers record what they get."""
    seen: list[Any] = []
    sock = sioclient.io(URL, force_new=True, reconnection=False)
    admin = sock.io.socket("/admin")
    for s in (sock, admin):
        s.on("e", lambda *args, nsp=s.nsp: seen.append((nsp, "e", _plain(args))))
        s.on("disconnect", lambda reason, nsp=s.nsp: seen.append((nsp, "disconnect", reason)))
        s.on("error", lambda err, nsp=s.nsp: seen.append((nsp, "error", type(err).__name__)))
    admin.connect()
    server.wait_for(lambda: sock.connected and admin.connected)
    return sock, seen


def _plain(args: tuple[Any, ...]) -> tuple[Any, ...]:
    """Handler arguments with an ack callable named rather than compared by identity."""
    return tuple("<ack>" if callable(a) else a for a in args)


def _messages(protocol: int, packets: list[Packet | str]) -> list[str]:
    parser = MiniParser(protocol)
    out: list[str] = []
    for p in packets:
        if isinstance(p, str):
            out.append(p)
        else:
            out += parser.encode(p)  # type: ignore[arg-type]
    return out


def _one_by_one(sock: Any, run: list[str]) -> None:
    link = sock.io._link
    for m in run:
        link.on_engine_message(m)


def _as_a_run(sock: Any, run: list[str]) -> None:
    """As the Engine calls its listener for one read (engine.py, ``_ws_read``)."""
    link = sock.io._link
    k = 0
    while k < len(run) and sock.io._link is link:
        k = link.on_engine_messages(run, k)
        assert k > 0


def _drain(server: MemServer, seen: list[Any], count: int) -> list[Any]:
    server.wait_for(lambda: len(seen) >= count)
    return list(seen)


RUNS = {
    "events, acks and a disconnection": [
        Packet(EVENT, "/", ["e", 1]),
        Packet(EVENT, "/", ["e", 2], 7),  # an ack asked for: the run stops after it
        Packet(EVENT, "/admin", ["e", 3, {"k": [1, 2]}]),
        Packet(EVENT, "/nobody", ["e", "dropped"]),
        Packet(ACK, "/", [1], 99),  # an ack for nothing
        Packet(EVENT, "/", ["e", 4]),
        Packet(DISCONNECT, "/admin"),
        Packet(EVENT, "/admin", ["e", "after the disconnection"]),
        Packet(EVENT, "/", ["e", 5]),
    ],
    "an undecodable packet": [
        Packet(EVENT, "/", ["e", 1]),
        Packet(EVENT, "/admin", ["e", 2]),
        '2["e",',
        Packet(EVENT, "/", ["e", "after the parse error"]),
    ],
}


@pytest.mark.parametrize("case", list(RUNS))
def test_a_run_is_the_messages_one_by_one(server: MemServer, case: str) -> None:
    results = []
    for feed in (_one_by_one, _as_a_run):
        sock, seen = _client(server)
        try:
            before = len(seen)
            run = _messages(server.protocol, RUNS[case])
            done = AsyncResult()
            gevent.spawn(lambda: done.set(feed(sock, run)))  # noqa: B023 - waited for below
            done.get(timeout=WAIT)
            expected = 6 if case.startswith("events") else 8
            results.append(_drain(server, seen, before + expected)[before:])
        finally:
            sock.io.close()
    assert results[0] == results[1]
    assert ("/", "e", (1,)) in results[0]


# ---- a listener failing in the middle of a run (a real Engine, a Node server) --------------


class RunListener:
    """An Engine listener that takes runs, and fails on one message of them."""

    def __init__(self, fail_on: str) -> None:
        self.fail_on = fail_on
        self.opened: AsyncResult = AsyncResult()
        self.messages: list[str] = []
        self.errors: list[BaseException] = []
        self.joined: AsyncResult = AsyncResult()
        self.done: AsyncResult = AsyncResult()
        self.resume = 0

    def on_engine_open(self, engine: Engine) -> None:
        self.opened.set(engine)

    def on_engine_message(self, data: Any) -> None:
        self.on_engine_messages([data], 0)

    def on_engine_messages(self, run: list[str], start: int) -> int:
        i = start
        try:
            while i < len(run):
                data = run[i]
                self.messages.append(data)
                if data.startswith("0"):
                    self.joined.set(data)
                if data.startswith('2["flood-done"'):
                    self.done.set(len(self.messages))
                if self.fail_on in data:
                    raise RuntimeError("a listener bug")
                i += 1
            return i
        except BaseException:
            self.resume = i + 1
            raise

    def on_engine_close(self, reason: str, error: BaseException | None = None) -> None:
        pass

    def on_engine_error(self, error: BaseException) -> None:
        self.errors.append(error)

    def on_engine_ping(self) -> None:
        pass

    def on_engine_pong(self, latency_ms: float) -> None:
        pass


@pytest.mark.node
def test_a_listener_failing_mid_run_loses_nothing_after_it(node_peers: Any) -> None:
    from servers import ServerProcess

    srv = ServerProcess("node4", transports=["websocket"]).start()
    listener = RunListener(fail_on='2["flood",5,')
    engine = Engine(srv.url, normalize(None, {"transports": ["websocket"]}), listener)
    try:
        engine.open()
        listener.opened.get(timeout=WAIT)
        engine.send(["0"])  # Socket.IO CONNECT of `/`
        listener.joined.get(timeout=WAIT)
        engine.send(['2["flood",40,"x"]'])
        listener.done.get(timeout=WAIT)
        floods = [m for m in listener.messages if m.startswith('2["flood",')]
        assert floods == [f'2["flood",{i},"x"]' for i in range(40)]
        assert len(listener.errors) == 1 and str(listener.errors[0]) == "a listener bug"
        assert engine.ready_state == "open"
    finally:
        engine.close()
        srv.stop()
