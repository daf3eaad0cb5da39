"""The Socket.IO namespace state machine (``sioclient.core.namespaces``), without gevent or an
engine: vectors of (server bytes and user intents in) -> (packets and events out), for both
revisions.

The server's side is written as it travels: Engine.IO messages in WebSocket frames, fed to the
real frame reader one byte at a time, then through the Engine.IO session and the Socket.IO
decoder to the core.  What the core asks to send is encoded by the real parser and compared
with the wire text.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from sioclient import parsers
from sioclient.core import _accel
from sioclient.core.namespaces import (
    CONNECTED,
    CONNECTING,
    DISCONNECTED,
    REFUSED,
    REJOIN_DELAY,
    AckDone,
    BoundReached,
    Closed,
    Connected,
    ConnectFailed,
    Connection,
    ErrorReceived,
    Limits,
    Received,
    Send,
    Unused,
)
from sioclient.core.packet import EVENT, Packet
from sioclient.core.session import Message, Session
from sioclient.exceptions import ConnectionError, DisconnectedError, TimeoutError


def ws_frame(text: str) -> bytes:
    payload = text.encode()
    n = len(payload)
    head = bytes((0x81, n)) if n < 126 else bytes((0x81, 126)) + n.to_bytes(2, "big")
    return head + payload


class Wire:
    """A client's protocol stack, from the socket's bytes to the namespace core."""

    def __init__(self, protocol: int, conn: Connection | None = None) -> None:
        self.protocol = protocol
        self.conn = conn or Connection()
        self.parser = parsers.get("default", protocol)
        self.now = 0.0

    def open(self, sid: str = "E1") -> list[Any]:
        """A new engine connection (a reconnection when called again)."""
        self.session = Session(protocol=self.protocol, transports=["websocket"])
        self.session.begin("websocket")
        self.session.transport_opened(self.now)
        self.reader = _accel.load("wsframe").FrameReader(1 << 20)
        self.decoder = self.parser.decoder()
        handshake = {"sid": sid, "upgrades": [], "pingInterval": 25000, "pingTimeout": 5000}
        self._feed(ws_frame("0" + json.dumps(handshake)))
        return self.conn.opened(self.session.protocol, sid, self.now)

    def server(self, *messages: str) -> list[Any]:
        """Engine.IO messages from the server, e.g. ``'40{"sid":"x"}'`` (type 4 + Socket.IO),
        fed byte by byte; the core's events."""
        events: list[Any] = []
        for m in messages:
            for packet in self._feed(ws_frame(m)):
                events += self.conn.receive(packet, self.now)
        return events

    def _feed(self, data: bytes) -> list[Packet]:
        packets: list[Packet] = []
        for i in range(len(data)):
            for frame in self.reader.feed(data[i : i + 1]):
                for ev in self.session.receive_frame(frame, self.now):
                    if isinstance(ev, Message):
                        packets += self.decoder.feed(ev.data)
        return packets

    def wire(self, packet: Packet) -> str:
        """What ``packet`` is on the wire, as an Engine.IO message (``4`` + Socket.IO)."""
        (text,) = self.parser.encode(packet)
        return "4" + text


def sent(wire: Wire, events: list[Any]) -> list[str]:
    return [wire.wire(e.packet) for e in events if isinstance(e, Send)]


def kinds(events: list[Any]) -> list[str]:
    return [type(e).__name__ for e in events]


def emit(ns: Any, wire: Wire, data: list[Any], *, ack: Any = None, timeout: float | None = None):
    """An emit as the Socket makes it: the packet to write now, or buffered."""
    packet = Packet(EVENT, ns.name, data)
    events: list[Any] = []
    if ack is not None:
        pending, events = ns.add_ack(packet, ack, timeout, False, wire.now)
        pending.sent = ns.connected
    if ns.connected:
        return wire.wire(packet), events
    assert ns.buffer(packet.id, packet, None)
    return None, events


# ---- revision 5 ------------------------------------------------------------------------------


def test_v5_connect_with_auth_then_event_and_ack():
    w = Wire(5)
    ns = w.conn.namespace("/chat", auth={"token": "t"})
    ns.activate()
    assert ns.state == CONNECTING
    events = w.open()
    assert sent(w, events) == ['40/chat,{"token":"t"}']
    events = w.server('40/chat,{"sid":"S1"}')
    assert kinds(events) == ["Connected"] and events[0].id == "S1"
    assert ns.state == CONNECTED
    assert w.server('42/chat,7["hello",1]') == [Received("/chat", ["hello", 1], 7, 1)]
    assert w.wire(ns.ack(7, ["ok"], 1)) == '43/chat,7["ok"]'
    assert ns.ack(7, ["ok"], 0) is None  # an ack of an earlier connection is dead


def test_v5_auth_callable_and_default_auth():
    w = Wire(5, Connection(default_auth=lambda: {"k": 1}))
    a = w.conn.namespace("/a")
    b = w.conn.namespace("/b", auth=lambda: {"fresh": True})
    c = w.conn.namespace("/c", auth=lambda: 1 / 0)
    d = w.conn.namespace("/d", auth="nope")
    for ns in (a, b, c, d):
        ns.activate()
    events = w.open()
    assert sent(w, events) == ['40/a,{"k":1}', '40/b,{"fresh":true}']
    failed = [e for e in events if isinstance(e, ConnectFailed)]
    assert [(e.nsp, type(e.error), e.log) for e in failed] == [
        ("/c", ZeroDivisionError, True),
        ("/d", ValueError, False),
    ]


def test_v5_refusal_then_retry():
    w = Wire(5)
    ns = w.conn.namespace("/admin")
    ns.activate()
    assert sent(w, w.open()) == ["40/admin,"]
    events = w.server('44/admin,{"message":"not authorized","data":{"code":3}}')
    assert kinds(events) == ["Unused", "ConnectFailed"]
    err = events[1].error
    assert isinstance(err, ConnectionError) and str(err) == "not authorized"
    assert err.data == {"code": 3} and events[1].also_error is False
    assert ns.state == REFUSED and w.conn.active == []
    # a refused namespace hears nothing more and asks for nothing on the next connection
    assert w.server('40/admin,{"sid":"late"}') == []
    assert w.open("E2") == []
    # the user opens it again: it asks on the open connection, and this time gets in
    ns.activate()
    assert sent(w, ns.join(w.now)) == ["40/admin,"]
    assert ns.join(w.now) == []  # once per connection
    assert kinds(w.server('40/admin,{"sid":"S2"}')) == ["Connected"]


def test_v5_connect_without_sid_is_an_error():
    w = Wire(5)
    ns = w.conn.namespace("/")
    ns.activate()
    w.open()
    (event,) = w.server("40")
    assert isinstance(event, ConnectFailed) and "without a sid" in str(event.error)
    assert ns.state == CONNECTING


def test_event_before_connect_is_kept_for_it():
    w = Wire(5)
    ns = w.conn.namespace("/")
    ns.activate()
    w.open()
    assert w.server('42["early",1]', '421["early-ack"]') == []
    (connected,) = w.server('40{"sid":"S"}')
    assert connected.early == [(["early", 1], None, 1), (["early-ack"], 1, 1)]
    assert w.server('42["late"]') == [Received("/", ["late"], None, 1)]


def test_events_before_connect_are_bounded_and_dropped_on_close():
    w = Wire(5)
    limits = Limits()
    limits.max_pending_events = 2
    ns = w.conn.namespace("/", limits=limits)
    ns.activate()
    w.open()
    assert w.server('42["a"]', '42["b"]') == []
    (first,) = w.server('42["c"]')
    (second,) = w.server('42["d"]')
    assert isinstance(first, BoundReached) and first.first and not second.first
    assert len(ns.receive_buffer) == 2
    # the connection closes: its early events go with it (their acks would be dead)
    w.conn.closed("transport close")
    assert ns.receive_buffer == []
    w.open("E2")
    (again,) = [e for e in w.server('42["x"]', '42["y"]', '42["z"]') if e]
    assert again.first  # a warning once per connection


def test_ack_arriving_after_its_deadline():
    w = Wire(5)
    ns = w.conn.namespace("/")
    ns.activate()
    w.open()
    w.server('40{"sid":"S"}')
    out, _ = emit(ns, w, ["slow"], ack="cb", timeout=1.0)
    assert out == '420["slow"]'
    assert ns.next_deadline() == 1.0
    # the answer read after the deadline, before the timer ran: it is a timeout
    w.now = 1.5
    (late,) = w.server('430["answer"]')
    assert isinstance(late.args[0], TimeoutError) and late.pending.callback == "cb"
    assert ns.tick(w.now) == [] and ns.next_deadline() is None
    # the deadline handled first: the answer that follows finds nobody
    out, _ = emit(ns, w, ["slow2"], ack="cb2", timeout=1.0)
    (expired,) = ns.tick(2.5)
    assert isinstance(expired.args[0], TimeoutError)
    assert w.server('431["answer"]') == []
    # in time: (None, *args)
    out, _ = emit(ns, w, ["fast"], ack="cb3", timeout=1.0)
    (done,) = w.server('432["a",2]')
    assert isinstance(done, AckDone)
    assert done.pending.callback == "cb3" and done.args == (None, "a", 2)
    assert ns.next_deadline() is None


def test_plain_acks_and_their_bound():
    w = Wire(5)
    limits = Limits()
    limits.max_pending_acks = 2
    ns = w.conn.namespace("/", limits=limits)
    ns.activate()
    w.open()
    w.server('40{"sid":"S"}')
    assert emit(ns, w, ["a"], ack="A")[0] == '420["a"]'
    emit(ns, w, ["b"], ack="B")
    _, events = emit(ns, w, ["c"], ack="C")
    (bound,) = events
    assert isinstance(bound, BoundReached) and bound.first
    assert sorted(ns.acks) == [1, 2] and ns.plain_acks == 2
    (done,) = w.server('432["x"]')
    assert done.pending.callback == "C" and done.args == ("x",)
    assert w.server('430["late"]') == []  # given up


def test_buffered_emit_across_a_reconnect():
    w = Wire(5)
    ns = w.conn.namespace("/")
    ns.activate()
    w.open()
    w.server('40{"sid":"S"}')
    out, _ = emit(ns, w, ["sent"], ack="A", timeout=None)
    call_pending, _ = ns.add_ack(Packet(EVENT, "/", ["call"]), "C", 10.0, True, w.now)
    call_pending.sent = True
    events = w.conn.closed("transport close")
    # the plain ack's packet left with the connection: forgotten; call()'s hears the news
    assert kinds(events) == ["AckDone", "Closed"]
    assert isinstance(events[0].args[0], DisconnectedError) and events[0].pending.callback == "C"
    assert events[1] == Closed("/", "transport close", True)
    assert ns.state == CONNECTING and ns.acks == {}
    # emitted while disconnected: buffered, with its ack
    out, _ = emit(ns, w, ["offline"], ack="B", timeout=5.0)
    assert out is None and len(ns.send_buffer) == 1
    assert sent(w, w.open("E2")) == ["40"]
    (connected,) = w.server('40{"sid":"S2"}')
    assert [w.wire(p) for _, p in connected.buffered] == ['422["offline"]']
    assert ns.send_buffer == []
    (done,) = w.server('432["ok"]')
    assert done.pending.callback == "B" and done.args == (None, "ok")


def test_buffered_emits_the_connection_did_not_take_wait_for_the_next_one():
    w = Wire(5)
    ns = w.conn.namespace("/")
    ns.activate()
    emit(ns, w, ["a"])
    emit(ns, w, ["b"], ack="B", timeout=None)
    emit(ns, w, ["c"])
    w.open()
    (connected,) = w.server('40{"sid":"S"}')
    buffered = connected.buffered
    assert [w.wire(p) for _, p in buffered] == ['42["a"]', '420["b"]', '42["c"]']
    # the shell wrote "a", marked b's ack sent, then the connection dropped under "b"
    ns.acks[buffered[1][0]].sent = True
    ns.requeue(buffered[1:])
    w.conn.closed("transport close")
    emit(ns, w, ["d"])
    # b's ack still waits: its packet never left
    assert list(ns.acks) == [buffered[1][0]] and not ns.acks[buffered[1][0]].sent
    w.open("E2")
    (connected,) = w.server('40{"sid":"S2"}')
    assert [w.wire(p) for _, p in connected.buffered] == ['420["b"]', '42["c"]', '42["d"]']


def test_buffered_emit_expires_and_does_not_leave_later():
    w = Wire(5)
    ns = w.conn.namespace("/")
    ns.activate()
    emit(ns, w, ["a"], ack="A", timeout=1.0)
    emit(ns, w, ["b"])
    (expired,) = ns.tick(1.0)
    assert isinstance(expired.args[0], TimeoutError)
    w.open()
    (connected,) = w.server('40{"sid":"S"}')
    assert [w.wire(p) for _, p in connected.buffered] == ['42["b"]']


def test_closed_for_good_gives_up_buffered_calls_only():
    w = Wire(5)
    ns = w.conn.namespace("/")
    ns.activate()
    emit(ns, w, ["plain"], ack="P")
    emit(ns, w, ["call"], ack="C", timeout=9.0)
    assert w.conn.active == [ns]
    assert kinds(ns.leave(w.now)) == ["Unused"]
    (gone,) = ns.give_up_buffered()
    assert gone.pending.callback == "C" and isinstance(gone.args[0], DisconnectedError)
    assert [p.data for _, p in ns.send_buffer] == [["plain"]]


def test_leave_sends_disconnect_and_waits_before_rejoining():
    w = Wire(5)
    ns = w.conn.namespace("/chat")
    ns.activate()
    w.open()
    w.server('40/chat,{"sid":"S"}')
    w.now = 10.0
    events = ns.leave(w.now)
    assert sent(w, events) == ["41/chat,"]
    assert kinds(events) == ["Send", "Unused", "Closed"]
    assert events[-1] == Closed("/chat", "io client disconnect", True)
    assert ns.state == DISCONNECTED
    ns.activate()
    assert ns.join(w.now + 0.01) == []
    assert ns.next_deadline() == pytest.approx(10.0 + REJOIN_DELAY)
    assert ns.tick(10.05) == []
    assert sent(w, ns.tick(10.0 + REJOIN_DELAY)) == ["40/chat,"]
    # a new connection needs no wait
    ns.leave(w.now)
    w.conn.closed("forced close")
    ns.activate()
    assert sent(w, w.open("E2")) == ["40/chat,"]


def test_server_disconnect_and_error_on_a_connected_namespace():
    w = Wire(5)
    ns = w.conn.namespace("/n")
    ns.activate()
    w.open()
    w.server('40/n,{"sid":"S"}')
    (error,) = w.server('44/n,"oops"')
    assert isinstance(error, ErrorReceived) and str(error.error) == "oops"
    assert ns.state == CONNECTED
    events = w.server("41/n,")
    assert kinds(events) == ["Unused", "Closed"]
    assert events[1] == Closed("/n", "io server disconnect", True)
    assert ns.state == DISCONNECTED


# ---- revision 4 ------------------------------------------------------------------------------


def test_v4_root_is_connected_by_the_server_and_query_travels_in_connect():
    w = Wire(4)
    root = w.conn.namespace("/")
    chat = w.conn.namespace("/chat", query={"room": "a b"})
    root.activate()
    chat.activate()
    events = w.open("E4")
    assert sent(w, events) == ["40/chat?room=a%20b,"]  # nothing for `/`: the server sends it
    (root_connected,) = w.server("40")
    assert root_connected == Connected("/", "E4", [], [])
    (chat_connected,) = w.server("40/chat,")
    assert chat_connected.id == "/chat#E4"
    assert w.conn.root_connected


def test_v4_root_middleware_error_reaches_every_namespace():
    w = Wire(4)
    root = w.conn.namespace("/")
    chat = w.conn.namespace("/chat")
    root.activate()
    chat.activate()
    w.open()
    events = w.server('44"no entry"')
    failed = [e for e in events if isinstance(e, ConnectFailed)]
    assert [(e.nsp, str(e.error), e.also_error) for e in failed] == [
        ("/", "no entry", True),
        ("/chat", "no entry", True),
    ]
    assert isinstance(events[-2], Unused)
    assert root.state == REFUSED and chat.state == REFUSED


def test_v4_root_leaves_only_locally_while_others_use_the_connection():
    w = Wire(4)
    root = w.conn.namespace("/")
    chat = w.conn.namespace("/chat")
    root.activate()
    chat.activate()
    w.open()
    w.server("40", "40/chat,")
    events = root.leave(w.now)
    assert sent(w, events) == [] and kinds(events) == ["Closed"]
    assert w.conn.root_connected  # the server keeps us in `/`
    root.activate()
    assert root.join(w.now) == [Connected("/", "E1", [], [])]


def test_v4_root_rejoin_is_proven_by_a_ping_pong():
    w = Wire(4)
    root = w.conn.namespace("/")
    root.activate()
    w.open()
    w.server("40")
    w.now = 1.0
    events = root.leave(w.now)
    assert sent(w, events) == ["41"]
    assert w.conn.root_left and not w.conn.root_connected
    root.activate()
    assert root.join(w.now) == []  # too soon after leaving
    assert sent(w, root.tick(1.0 + REJOIN_DELAY)) == ["40"]
    assert w.conn.root_joining == 1
    assert w.conn.pong_received() == []  # a pong of a ping sent before the CONNECT proves nothing
    w.conn.ping_sent()
    assert w.conn.pong_received() == [Connected("/", "E1", [], [])]
    assert root.state == CONNECTED


def test_v4_root_rejoin_answered_with_connect():
    w = Wire(4)
    root = w.conn.namespace("/")
    root.activate()
    w.open()
    w.server("40", "41")  # the server drops us from `/`
    assert root.state == DISCONNECTED and w.conn.root_left
    root.activate()
    assert sent(w, root.join(w.now)) == ["40"]
    assert kinds(w.server("40")) == ["Connected"]
    assert w.conn.root_joining == 0


def test_v4_refusal_is_also_an_error():
    w = Wire(4)
    chat = w.conn.namespace("/chat")
    chat.activate()
    w.open()
    events = w.server('44/chat,"Invalid namespace"')
    (failed,) = [e for e in events if isinstance(e, ConnectFailed)]
    assert failed.also_error and str(failed.error) == "Invalid namespace"


@pytest.mark.parametrize("protocol", [4, 5])
def test_event_vectors_same_on_both_revisions(protocol):
    w = Wire(protocol)
    ns = w.conn.namespace("/x")
    ns.activate()
    w.open()
    w.server('40/x,{"sid":"S"}' if protocol == 5 else "40/x,")
    assert w.server('42/x,["e",{"a":[1,2]}]') == [Received("/x", ["e", {"a": [1, 2]}], None, 1)]
    assert kinds(w.server("42/x,[1]")) == ["BoundReached"]  # no event name
    assert w.server('42/other,["e"]') == []
    events = w.conn.closed("ping timeout")
    assert events == [Closed("/x", "ping timeout", True)]
    assert ns.state == CONNECTING


def test_send_buffer_bound():
    w = Wire(5)
    ns = w.conn.namespace("/")
    ns.activate()
    assert ns.buffer(None, Packet(EVENT, "/", ["a"]), 2)
    assert ns.buffer(None, Packet(EVENT, "/", ["b"]), 2)
    assert ns.buffer_full(2) and not ns.buffer_full(3) and not ns.buffer_full(None)
    assert not ns.buffer(None, Packet(EVENT, "/", ["c"]), 2)  # full: the caller raises
    assert ns.buffer(None, Packet(EVENT, "/", ["c"]), None)  # None: no bound
    assert not ns.buffer(None, Packet(EVENT, "/", ["d"]), 0)  # 0: nothing is buffered
    w.open()
    (connected,) = w.server('40{"sid":"S"}')
    assert [w.wire(p) for _, p in connected.buffered] == ['42["a"]', '42["b"]', '42["c"]']


def test_next_deadline_of_the_connection_and_its_tick():
    w = Wire(5)
    a = w.conn.namespace("/a")
    b = w.conn.namespace("/b")
    a.activate()
    b.activate()
    emit(a, w, ["x"], ack="A", timeout=3.0)
    emit(b, w, ["y"], ack="B", timeout=2.0)
    assert w.conn.next_deadline() == 2.0
    (first,) = w.conn.tick(2.0)
    assert first.pending.callback == "B"
    assert w.conn.next_deadline() == 3.0
    (second,) = w.conn.tick(3.0)
    assert second.pending.callback == "A" and w.conn.next_deadline() is None
    assert a.send_buffer == [] and b.send_buffer == []


# ---- connection state recovery (socket.io >= 4.6) --------------------------------------------


def test_recovery_pid_and_offset_go_back_in_the_next_connect():
    w = Wire(5)
    ns = w.conn.namespace("/", auth={"token": "t"})
    ns.activate()
    assert sent(w, w.open()) == ['40{"token":"t"}']
    w.server('40{"sid":"S1","pid":"P1"}')
    assert ns.pid == "P1" and not ns.recovered
    # the offset is the last argument of an event without an ack: taken off, remembered
    assert w.server('42["tick",0,"o1"]') == [Received("/", ["tick", 0], None, 1)]
    assert w.server('42["tick","o2"]') == [Received("/", ["tick"], None, 1)]
    # an event with an ack id carries no offset, nor does one whose last argument is no string
    assert w.server('423["ask","x"]') == [Received("/", ["ask", "x"], 3, 1)]
    assert w.server('42["n",5]') == [Received("/", ["n", 5], None, 1)]
    assert ns.offset == "o2"
    w.conn.closed("transport close")
    # the session asks to be restored; the auth payload's own keys come after (and win)
    assert sent(w, w.open("E2")) == ['40{"pid":"P1","offset":"o2","token":"t"}']
    # the events the server missed come before its CONNECT: handed out with it, offsets off
    assert w.server('42["tick",1,"o3"]', '42["tick",2,"o4"]') == []
    (connected,) = w.server('40{"sid":"S1","pid":"P1"}')
    assert connected.id == "S1" and ns.recovered
    assert connected.early == [(["tick", 1], None, 2), (["tick", 2], None, 2)]
    assert ns.offset == "o4"


def test_recovery_refused_starts_a_new_session_and_forgets_the_offset():
    w = Wire(5)
    ns = w.conn.namespace("/")
    ns.activate()
    w.open()
    w.server('40{"sid":"S1","pid":"P1"}', '42["tick","o1"]')
    w.conn.closed("transport close")
    assert sent(w, w.open("E2")) == ['40{"pid":"P1","offset":"o1"}']
    w.server('40{"sid":"S2","pid":"P2"}')  # the server could not restore: a new session
    assert not ns.recovered and ns.pid == "P2" and ns.offset is None
    w.conn.closed("transport close")
    # no offset of the old session (it would replay that session's events)
    assert sent(w, w.open("E3")) == ['40{"pid":"P2"}']
    # a server without recovery (restarted without it): no pid, nothing is taken off
    w.server("40" + json.dumps({"sid": "S3"}))
    assert ns.pid is None and not ns.recovered
    assert w.server('42["tick",1,"last"]') == [Received("/", ["tick", 1, "last"], None, 3)]
    w.conn.closed("transport close")
    assert sent(w, w.open("E4")) == ["40"]


def test_recovery_does_not_exist_in_revision_4():
    w = Wire(4)
    ns = w.conn.namespace("/chat")
    ns.activate()
    assert sent(w, w.open()) == ["40/chat,"]
    w.server("40/chat,")
    assert ns.pid is None and not ns.recovered
    assert w.server('42/chat,["tick",1,"last"]') == [
        Received("/chat", ["tick", 1, "last"], None, 1)
    ]


# ---- at-least-once emits (retries > 0) -------------------------------------------------------


def queued(ns: Any, w: Wire, data: list[Any], ack: Any = None, timeout: float | None = 1.0):
    """An at-least-once emit as the Socket makes it: the wire text when written now."""
    packet = Packet(EVENT, ns.name, data)
    ns.enqueue(packet, ack, timeout, False, True, w.now)
    return w.wire(packet) if ns.connected else None


def resent(w: Wire, events: list[Any]) -> list[str]:
    return [
        w.wire(entry.packet) for e in events if type(e).__name__ == "Resend" for entry in e.entries
    ]


def connected_v5(retries: int) -> tuple[Wire, Any]:
    w = Wire(5)
    w.conn.retries = retries
    ns = w.conn.namespace("/")
    ns.activate()
    w.open()
    w.server('40{"sid":"S1"}')
    return w, ns


def test_retries_go_back_to_the_oldest_unanswered_emit():
    w, ns = connected_v5(retries=2)
    assert [queued(ns, w, ["e", i], ack=f"cb{i}") for i in range(3)] == [
        '420["e",0]',
        '421["e",1]',
        '422["e",2]',
    ]
    assert ns.next_deadline() == 1.0
    # the server answers 1, not 0: 1 is done but stays behind 0
    (done,) = w.server('431["ok1"]')
    assert done.pending.callback == "cb1" and done.args == (None, "ok1")
    assert list(ns.queue) == [0, 1, 2]
    w.now = 1.0
    # 0 passed its deadline: 0, 1 and 2 leave again, in order
    assert resent(w, ns.tick(w.now)) == ['420["e",0]', '421["e",1]', '422["e",2]']
    assert ns.next_deadline() == 2.0
    # a second answer of 1 is not reported again; 0's answer frees the queue up to 2
    assert w.server('431["again"]') == []
    (done,) = w.server('430["ok0"]')
    assert done.pending.callback == "cb0" and list(ns.queue) == [2]
    w.now = 2.0
    assert resent(w, ns.tick(w.now)) == ['422["e",2]']
    w.now = 3.0
    # out of retries (one try, two retries): it fails, the queue is empty
    (failed,) = ns.tick(w.now)
    assert failed.pending.callback == "cb2" and isinstance(failed.args[0], TimeoutError)
    assert ns.queue == {} and ns.acks == {} and ns.next_deadline() is None


def test_retries_resend_everything_after_a_reconnection():
    w, ns = connected_v5(retries=1)
    queued(ns, w, ["a"], ack="cbA")
    queued(ns, w, ["b"])  # no callback: an ack id all the same
    w.server("431[]")  # b answered, kept behind a
    events = w.conn.closed("transport close")
    # nothing fails: the emits wait for the next connection, without a deadline meanwhile
    assert kinds(events) == ["Closed"] and ns.next_deadline() is None
    assert queued(ns, w, ["c"], ack="cbC") is None  # made while disconnected
    w.now = 5.0
    w.open("E2")
    (connected,) = w.server('40{"sid":"S2"}')
    assert [w.wire(e.packet) for e in connected.resend] == ['420["a"]', '421["b"]', '422["c"]']
    assert ns.next_deadline() == 6.0
    (done,) = w.server('430["A"]')
    assert done.args == (None, "A") and list(ns.queue) == [2]
    assert w.server("432[]")[0].pending.callback == "cbC" and ns.queue == {}


def test_retries_give_up_when_closed_for_good():
    w, ns = connected_v5(retries=3)
    queued(ns, w, ["a"], ack="cbA")
    queued(ns, w, ["b"])
    w.conn.closed("transport close")
    events = ns.give_up_buffered()
    assert [(e.pending.callback, type(e.args[0])) for e in events] == [("cbA", DisconnectedError)]
    assert ns.queue == {} and ns.acks == {}


def test_retries_in_revision_4():
    w = Wire(4)
    w.conn.retries = 1
    ns = w.conn.namespace("/")
    ns.activate()
    w.open()
    w.server("40")
    assert queued(ns, w, ["a", 1], ack="cb") == '420["a",1]'
    w.now = 1.0
    assert resent(w, ns.tick(w.now)) == ['420["a",1]']
    (done,) = w.server('430["ok"]')
    assert done.args == (None, "ok")


@pytest.mark.parametrize("protocol", [4, 5])
def test_unanswered_connect_is_reported_once_and_a_late_answer_still_connects(protocol: int):
    conn = Connection()
    conn.connect_timeout = 2.0
    w = Wire(protocol, conn)
    ns = conn.namespace("/slow")
    ns.activate()
    w.now = 10.0
    assert sent(w, w.open()) == ["40/slow,"]
    assert ns.next_deadline() == 12.0
    assert ns.tick(11.9) == []
    (failed,) = ns.tick(12.0)
    assert isinstance(failed, ConnectFailed) and failed.timeout == 2.0
    assert isinstance(failed.error, TimeoutError) and "'/slow'" in str(failed.error)
    # reported, not given up: no second report, and the server's late answer connects it
    assert ns.state == CONNECTING and ns.next_deadline() is None and ns.tick(30.0) == []
    answer = "40/slow," if protocol == 4 else '40/slow,{"sid":"S"}'
    assert kinds(w.server(answer)) == ["Connected"]


def test_answered_connect_and_closed_connection_leave_no_deadline():
    conn = Connection()
    conn.connect_timeout = 2.0
    w = Wire(5, conn)
    ns = conn.namespace("/a")
    ns.activate()
    w.open()
    assert ns.next_deadline() == 2.0
    w.server('40/a,{"sid":"S"}')
    assert ns.next_deadline() is None
    conn.closed("transport close")
    w.open()  # asks again on the next connection, with a fresh deadline
    assert ns.next_deadline() == 2.0
    conn.closed("transport close")
    assert ns.next_deadline() is None and ns.tick(10.0) == []


def test_default_namespace_of_a_2x_server_has_no_connect_deadline():
    # a 2.x server joins `/` by itself; a rejoin is proved by a pong, not answered
    conn = Connection()
    conn.connect_timeout = 2.0
    w = Wire(4, conn)
    root = conn.namespace("/")
    root.activate()
    assert w.open() == []
    assert root.next_deadline() is None


# ---- the reader's shortcut -------------------------------------------------------------------

SHORTCUT_CASES: list[Any] = [
    '42["tick",1]',
    '42["tick",1,"o1"]',
    '423["ask","x"]',
    '42/chat,["hello",{"a":1}]',
    '42/chat,["hello","o2"]',
    '42/gone,["e"]',
    # what the decoder refuses, made by hand: events without a name
    Packet(EVENT, "/", [1, 2]),
    Packet(EVENT, "/", []),
    Packet(EVENT, "/chat", {"a": 1}),
    '43["x"]',
    "41/chat,",
    '42/chat,["after"]',
    '451-["bin",{"_placeholder":true,"num":0}]',
]


def _root_and_chat(protocol: int, pid: str | None) -> tuple[Wire, Any, Any]:
    """A connection with "/" and "/chat" both connected (with ``pid`` for recovery, if any)."""
    w = Wire(protocol)
    root = w.conn.namespace("/")
    chat = w.conn.namespace("/chat")
    root.activate()
    chat.activate()
    w.open()
    answer = "" if protocol == 4 or pid is None else f',"pid":"{pid}"'
    if protocol == 4:
        w.server("40", "40/chat,")
    else:
        w.server('40{"sid":"S1"' + answer + "}", '40/chat,{"sid":"S2"' + answer + "}")
    assert root.state == CONNECTED and chat.state == CONNECTED
    return w, root, chat


@pytest.mark.parametrize("pid", [None, "P1"])
@pytest.mark.parametrize("protocol", [4, 5])
def test_event_data_is_receive_without_the_event(protocol, pid):
    """Connection.event_data, the reader's shortcut, gives the data receive() reports as a
    Received without an ack id (the recovery offset taken off the same way), and None for
    every other packet; the namespaces end in the same state either way."""
    results = []
    for shortcut in (False, True):
        w, root, chat = _root_and_chat(protocol, pid)
        events: list[Any] = []
        for m in SHORTCUT_CASES:
            for packet in w._feed(ws_frame(m)) if isinstance(m, str) else [m]:
                data = w.conn.event_data(packet) if shortcut else None
                if data is not None:
                    events.append(Received(packet.nsp or "/", data, None, w.conn.session))
                else:
                    got = w.conn.receive(packet, w.now)
                    assert not shortcut or not any(
                        isinstance(e, Received) and e.ack_id is None for e in got
                    )
                    events += got
        results.append((events, root.offset, chat.offset, chat.state))
    assert results[0] == results[1]
    assert any(isinstance(e, Received) for e in results[0][0])


def _acks_seen(events: list[Any]) -> list[Any]:
    """AckDone events comparable across runs: the callback's name, errors by kind and text."""
    return [
        (
            e.nsp,
            e.pending.callback,
            tuple((type(a).__name__, str(a)) if isinstance(a, Exception) else a for a in e.args),
        )
        if isinstance(e, AckDone)
        else e
        for e in events
    ]


@pytest.mark.parametrize("protocol", [4, 5])
def test_ack_of_is_receive_without_the_event(protocol):
    """Connection.ack_of, the reader's shortcut for acks, takes the ack that receive() would
    report as an AckDone (plain, with an error first, past its deadline) and leaves every other
    packet, with nothing changed, to receive(); the namespaces end in the same state."""
    results = []
    for shortcut in (False, True):
        w, root, chat = _root_and_chat(protocol, None)
        w.now = 10.0
        root.add_ack(Packet(EVENT, "/", ["a"]), "plain", None, False, w.now)  # id 0
        root.add_ack(Packet(EVENT, "/", ["a"]), "timed", 5.0, False, w.now)  # id 1
        root.add_ack(Packet(EVENT, "/", ["a"]), "call", 1.0, True, w.now)  # id 2, too late
        root.add_ack(Packet(EVENT, "/", ["a"]), "bad-data", None, True, w.now)  # id 3
        chat.add_ack(Packet(EVENT, "/chat", ["a"]), "chat", None, True, w.now)  # id 0
        chat.add_ack(Packet(EVENT, "/chat", ["a"]), "left", None, True, w.now)  # id 1
        for pending in list(root.acks.values()) + list(chat.acks.values()):
            pending.sent = True
        w.now = 12.0
        cases: list[Any] = [
            '430[1,"x"]',
            '431[{"a":1}]',
            "432[]",
            '439["unknown id"]',
            Packet(3, "/", {"not": "a list"}, 3),
            '43/chat,0["c"]',
            '43/gone,0["nobody"]',
            "431[]",  # answered already
            "41/chat,",
            '43/chat,1["after leaving"]',
        ]
        events: list[Any] = []
        for m in cases:
            for packet in w._feed(ws_frame(m)) if isinstance(m, str) else [m]:
                acked = w.conn.ack_of(packet, w.now) if shortcut else None
                if acked is not None:
                    events.append(AckDone(packet.nsp or "/", acked[0], acked[1]))
                else:
                    got = w.conn.receive(packet, w.now)
                    assert not shortcut or packet.type != 3 or packet.id == 3 or not got
                    events += got
        results.append(
            (_acks_seen(events), sorted(root.acks), sorted(chat.acks), root.plain_acks, chat.state)
        )
    assert results[0] == results[1]
    assert [e[1] for e in results[0][0] if isinstance(e, tuple)] == [
        "plain",
        "timed",
        "call",
        "bad-data",
        "chat",
        "left",  # the server left /chat: a DisconnectedError
    ]
