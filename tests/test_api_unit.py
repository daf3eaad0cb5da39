"""Manager, Socket and io() on the in-memory engine (tests/memengine.py), both protocol revisions.

Ports socket.io-client's test/url.js (2.x line) and the cases of test/connection.js and
test/socket.js that need no real server.
"""

from __future__ import annotations

import logging
import math

import gevent
import pytest
from gevent.event import AsyncResult
from integration_util import background
from memengine import WAIT, MemServer, MiniParser, client_parser_option

import sioclient
from sioclient import Manager, Socket, client
from sioclient.core.packet import ACK, CONNECT, CONNECT_ERROR, DISCONNECT, EVENT, Packet
from sioclient.url import parse_url

URL = "http://srv.test"


class Recorder:
    """Collects (event, args) from listeners and waits (bounded) for them."""

    def __init__(self, server: MemServer) -> None:
        self.server = server
        self.seen: list[tuple[str, tuple]] = []

    def listen(self, emitter, *events: str) -> Recorder:
        for event in events:
            emitter.on(event, lambda *args, _e=event: self.seen.append((_e, args)))
        return self

    def names(self) -> list[str]:
        return [e for e, _ in self.seen]

    def args(self, event: str) -> list[tuple]:
        return [a for e, a in self.seen if e == event]

    def wait(self, event: str, count: int = 1, timeout: float = WAIT) -> list[tuple]:
        return self.server.wait_for(
            lambda: got if len(got := self.args(event)) >= count else None, timeout
        )


@pytest.fixture(params=[4, 5], ids=["rev4", "rev5"])
def server(request):
    srv = MemServer(protocol=request.param)
    with srv.installed():
        yield srv


@pytest.fixture
def parser():
    return client_parser_option()


@pytest.fixture
def mk(server, parser):
    """io() with a new connection; every manager made is closed at teardown."""
    made: list[Manager] = []

    def make(url: str = URL, options=None, **kwargs) -> Socket:
        kwargs.setdefault("force_new", True)
        kwargs.setdefault("parser", parser)
        sock = sioclient.io(url, options, **kwargs)
        made.append(sock.io)
        return sock

    yield make
    for manager in made:
        manager.close()


@pytest.fixture
def mkmanager(server, parser):
    made: list[Manager] = []

    def make(url: str = URL, options=None, **kwargs) -> Manager:
        kwargs.setdefault("parser", parser)
        manager = Manager(url, options, **kwargs)
        made.append(manager)
        return manager

    yield make
    for manager in made:
        manager.close()


def connected(server: MemServer, sock: Socket) -> Socket:
    server.wait_for(lambda: sock.connected)
    return sock


# ---- url.js -------------------------------------------------------------------------------


def test_url_relative_path_defaults_to_localhost():
    parsed = parse_url("/test")
    assert (parsed.scheme, parsed.host, parsed.port, parsed.path) == (
        "http",
        "localhost",
        80,
        "/test",
    )
    assert parse_url(None).path == "/"


def test_url_without_protocol():
    parsed = parse_url("localhost:3000")
    assert (parsed.scheme, parsed.host, parsed.port) == ("http", "localhost", 3000)


def test_url_without_scheme():
    parsed = parse_url("//localhost:3000")
    assert (parsed.scheme, parsed.host, parsed.port) == ("http", "localhost", 3000)


def test_url_forces_ports_for_unique_ids():
    id1 = parse_url("http://google.com:80/").id
    id2 = parse_url("http://google.com/").id
    id3 = parse_url("https://google.com/").id
    assert id1 == id2 and id1 != id3 and id2 != id3
    assert parse_url("https://google.com").port == 443


def test_url_identifies_the_namespace():
    assert parse_url("/woot").path == "/woot"
    assert parse_url("http://google.com").path == "/"
    assert parse_url("http://google.com/").path == "/"


def test_url_ipv6():
    parsed = parse_url("http://[::1]")
    assert (parsed.scheme, parsed.host, parsed.port) == ("http", "::1", 80)
    assert parsed.id == "http://[::1]:80"
    assert parse_url("https://[::1]:8443/x").href == "https://[::1]:8443"


def test_url_websocket_schemes_and_query():
    assert parse_url("ws://a:1").scheme == "http"
    assert parse_url("wss://a").href == "https://a:443"
    assert parse_url("http://a/abc?b=c&d=e").query == {"b": "c", "d": "e"}
    assert parse_url("/?woot").query == {"woot": ""}


def test_url_bad_input():
    with pytest.raises(ValueError):
        parse_url("ftp://a")
    with pytest.raises(ValueError):
        parse_url("http://a:99999")


# ---- io() and the manager cache ------------------------------------------------------------


def test_io_and_connect_are_the_same(server):
    assert sioclient.connect is sioclient.io


def test_not_connecting_when_auto_connect_is_false(mk):
    sock = mk(auto_connect=False)
    assert sock.io.engine is None and not sock.connected
    sock.disconnect()


def test_javascript_options_object(mk):
    sock = mk({"autoConnect": False, "reconnectionDelay": 10, "timeout": 200})
    assert sock.io.reconnection_delay() == 0.01 and sock.io.timeout() == 0.2
    sock2 = mk(options={"autoConnect": False})
    assert sock2.io.engine is None


def test_same_path_twice_makes_two_connections(server, parser):
    s1 = sioclient.io(URL + "/", parser=parser)
    s2 = sioclient.io(URL + "/", parser=parser)
    assert s1.io is not s2.io
    s1.disconnect()
    s2.disconnect()


def test_same_path_with_different_querystrings_makes_two_connections(server, parser):
    s1 = sioclient.io(URL + "/?woot", parser=parser)
    s2 = sioclient.io(URL + "/", parser=parser)
    assert s1.io is not s2.io


def test_namespaces_share_a_cached_manager(server, parser):
    s1 = sioclient.io(URL, parser=parser)
    s2 = sioclient.io(URL + ":80/admin", parser=parser)
    assert s1.io is s2.io
    assert set(s1.io.nsps) == {"/", "/admin"}
    assert len(server.engines) == 1
    # another `path` option is another server endpoint, hence another manager
    s3 = sioclient.io(URL + "/admin", parser=parser, path="/other")
    assert s3.io is not s1.io and s3.io.opts["path"] == "/other"


def test_force_new_and_multiplex_false(server, parser):
    s1 = sioclient.io(URL, parser=parser)
    assert sioclient.io(URL + "/a", parser=parser, force_new=True).io is not s1.io
    assert sioclient.io(URL + "/b", {"forceNew": True}, parser=parser).io is not s1.io
    assert sioclient.io(URL + "/c", {"multiplex": False}, parser=parser).io is not s1.io
    assert client.managers[("http", "srv.test", 80, "/socket.io")] is s1.io


def test_url_query_goes_to_the_handshake_and_explicit_query_wins(mk, server):
    sock = connected(server, mk(URL + "/abc?b=c&d=e", query={"d": "x"}))
    assert server.engine.opened_with["query"] == {"b": "c", "d": "x"}
    assert server.engine.url == "http://srv.test:80"
    assert sock.nsp == "/abc"


def test_path_option_reaches_the_engine(mk, server):
    mk(URL + "/admin", path="/mypath")
    server.wait_for(lambda: server.engines)
    assert server.engine.opts["path"] == "/mypath"


# ---- connecting, ids, namespaces ------------------------------------------------------------


def test_connect_and_ids(mk, server):
    root = connected(server, mk())
    foo = connected(server, mk(URL + "/foo"))
    if server.protocol == 4:
        assert root.id == root.io.engine.id
        assert foo.id == "/foo#" + foo.io.engine.id
    else:
        assert root.id and root.id != root.io.engine.id
        assert foo.id and not foo.id.startswith("/foo#")
    assert root.connected and not root.disconnected
    assert root.io.engine.protocol == server.protocol
    assert root.io.protocol == server.protocol


def test_connect_packets_per_revision(mk, server):
    connected(server, mk())
    connected(server, mk(URL + "/foo"))
    sent = [p.nsp for p in server.packets(CONNECT)]
    if server.protocol == 4:
        assert sent == ["/foo"]  # never a CONNECT for `/` on revision 4
    else:
        assert sent == ["/", "/foo"]


def test_revision4_ignores_the_automatic_root_connect(server, mk):
    if server.protocol != 4:
        pytest.skip("revision 4 only")
    foo = connected(server, mk(URL + "/foo"))
    # the manager got `40` for `/` but has no socket for it: nothing happens
    assert list(foo.io.nsps) == ["/foo"]
    # a `/` socket opened later on the same connection is connected without asking again
    root = connected(server, foo.io.socket("/"))
    assert root.id == foo.io.engine.id
    assert [p.nsp for p in server.packets(CONNECT)] == ["/foo"]


def test_revision4_root_rejoins_after_leaving(server, mkmanager):
    if server.protocol != 4:
        pytest.skip("revision 4 only")
    manager = mkmanager()
    root = connected(server, manager.socket("/"))
    connected(server, manager.socket("/foo"))
    root.disconnect()
    assert not root.connected and root.id is None
    assert manager.ready_state == "open"  # /foo still holds the connection
    connected(server, root.connect())
    # a 2.x server holds back other namespaces while out of `/` and joins it again silently:
    # with /foo on the connection, `/` is left on the client's side only
    assert not server.packets(DISCONNECT, "/")
    assert [p.nsp for p in server.packets(CONNECT)] == ["/foo"]


def test_revision4_root_rejoins_after_a_server_disconnect(server, mkmanager):
    if server.protocol != 4:
        pytest.skip("revision 4 only")
    manager = mkmanager()
    root = connected(server, manager.socket("/"))
    connected(server, manager.socket("/foo"))
    gone = AsyncResult()
    root.once("disconnect", gone.set)
    server.engine.push_packet(Packet(DISCONNECT, "/"))
    assert gone.get(timeout=WAIT) == "io server disconnect"
    connected(server, root.connect())
    # the server left `/`: the client asks for it again, once
    assert [p.nsp for p in server.packets(CONNECT)] == ["/foo", "/"]


def test_revision4_namespace_query_in_connect(server, mk):
    if server.protocol != 4:
        pytest.skip("revision 4 only")
    connected(server, mk(URL + "/abc", query={"&a": "&=?a"}))
    assert server.packets(CONNECT)[0].nsp == "/abc?%26a=%26%3D%3Fa"


def test_revision5_auth_dict_and_callable(server, mk):
    if server.protocol != 5:
        pytest.skip("revision 5 only")
    connected(server, mk(auth={"token": "abc"}))
    assert server.packets(CONNECT)[0].data == {"token": "abc"}
    tokens = iter(["t1", "t2"])
    sock = connected(server, mk(URL + "/x", auth=lambda: {"token": next(tokens)}))
    assert server.packets(CONNECT, "/x")[0].data == {"token": "t1"}
    server.engine.drop()
    server.wait_for(lambda: len(server.packets(CONNECT, "/x")) == 2)
    assert server.packets(CONNECT, "/x")[1].data == {"token": "t2"}
    sock.disconnect()


def test_manager_socket_options_auth(server, mkmanager):
    if server.protocol != 5:
        pytest.skip("revision 5 only")
    manager = mkmanager()
    sock = connected(server, manager.socket("/admin", {"auth": {"k": 1}}))
    assert server.packets(CONNECT, "/admin")[0].data == {"k": 1}
    assert manager.socket("/admin") is sock
    assert manager.socket("admin") is sock


def test_connect_to_a_namespace_after_connection_established(server, mkmanager):
    manager = mkmanager()
    root = connected(server, manager.socket("/"))
    foo = connected(server, manager.socket("/foo"))
    foo.close()
    root.close()
    assert manager.ready_state == "closed"


def test_open_a_new_namespace_after_connection_gets_closed(server, mkmanager):
    manager = mkmanager()
    root = connected(server, manager.socket("/"))
    root.disconnect()
    assert manager.ready_state == "closed"
    foo = connected(server, manager.socket("/foo"))
    assert len(server.engines) == 2
    foo.disconnect()


def test_connect_while_disconnecting_another_socket(server, mkmanager):
    manager = mkmanager()
    s1 = connected(server, manager.socket("/foo"))
    s2 = manager.socket("/asd")
    s1.disconnect()
    connected(server, s2)
    assert manager.ready_state == "open"


def test_namespace_refused(server, mk):
    server.namespaces = lambda nsp, auth: ("not authorized", {"code": 42}) if nsp == "/no" else None
    sock = mk(URL + "/no")
    rec = Recorder(server).listen(sock, "connect_error", "error", "connect")
    (err,) = rec.wait("connect_error")[0]
    assert isinstance(err, sioclient.ConnectionError)
    assert str(err) == "not authorized" and err.data == {"code": 42}
    if server.protocol == 4:
        assert rec.wait("error")[0][0] is err
    assert not sock.connected and not sock.active
    assert sock.wait(WAIT)
    assert "connect" not in rec.names()


def test_revision4_root_middleware_error_reaches_other_namespaces(server, mk):
    if server.protocol != 4:
        pytest.skip("revision 4 only")
    server.accept_root_on_open = False
    sock = mk(URL + "/foo")
    server.wait_for(lambda: server.engines and server.engine.ready_state == "open")
    rec = Recorder(server).listen(sock, "connect_error", "error")
    server.engine.push_packet(Packet(CONNECT_ERROR, "/", "Auth failed (main namespace)"))
    assert str(rec.wait("error")[0][0]) == "Auth failed (main namespace)"
    assert str(rec.wait("connect_error")[0][0]) == "Auth failed (main namespace)"


def test_revision5_connect_without_sid_is_an_error(server, mk):
    if server.protocol != 5:
        pytest.skip("revision 5 only")
    server.answer_connect = False
    sock = mk()
    rec = Recorder(server).listen(sock, "connect_error")
    server.wait_received(CONNECT)
    server.engine.push_packet(Packet(CONNECT, "/"))
    assert "sid" in str(rec.wait("connect_error")[0][0])


# ---- emitting, buffers, acks ---------------------------------------------------------------


def test_emit_reserved_names_raise(mk):
    sock = mk(auto_connect=False)
    for name in (
        "connect",
        "connect_error",
        "disconnect",
        "disconnecting",
        "error",
        "ping",
        "newListener",
        "removeListener",
        "reconnect",
    ):
        with pytest.raises(ValueError, match="reserved"):
            sock.emit(name)
    with pytest.raises(TypeError):
        sock.emit(3)  # type: ignore[arg-type]


def test_emits_buffered_while_disconnected_go_out_in_order(server, mk):
    sock = mk(auto_connect=False)
    order = []
    sock.on("connect", lambda: sock.emit("echo", "second", lambda: order.append(2)))
    sock.emit("echo", "first", lambda: order.append(1))
    sock.send("third")
    sock.volatile.emit("dropped")
    sock.connect()
    server.wait_for(lambda: len(server.events()) == 3)
    assert [e[:2] for e in server.events()] == [
        ["echo", "first"],
        ["message", "third"],
        ["echo", "second"],
    ]
    for packet in server.packets(EVENT):
        if packet.id is not None:
            server.engine.ack(sock.nsp, packet.id)
    server.wait_for(lambda: len(order) == 2)
    assert order == [1, 2]


def test_volatile_sends_when_connected(server, mk):
    sock = connected(server, mk())
    sock.volatile.emit("v", 1)
    assert server.wait_received(EVENT)[0].data == ["v", 1]


def test_binary_anywhere_travels_as_binary(server, mk):
    sock = connected(server, mk())
    sock.emit("bin", 1, {"x": b"\x00\xff", "y": [bytearray(b"ab")]})
    packet = server.wait_received(EVENT)[0]
    assert packet.data == ["bin", 1, {"x": b"\x00\xff", "y": [b"ab"]}]
    messages, _ = server.engine.sent[-1]
    assert len(messages) == 3 and isinstance(messages[1], bytes)


def test_compress_flag_and_views_do_not_share_flags(server, mk):
    sock = connected(server, mk())
    quiet = sock.compress(False)
    sock.emit("a")
    quiet.emit("b")
    sock.binary(False).compress(True).emit("c")
    server.wait_for(lambda: len(server.events()) == 3)
    flags = [(r.packet.data[0], r.compress) for r in server.received if r.packet.type == EVENT]
    assert flags == [("a", True), ("b", False), ("c", True)]


def test_acks_from_the_server(server, mk):
    sock = connected(server, mk())
    got = AsyncResult()
    sock.emit("ferret", "tobi", lambda *args: got.set(args))
    packet = server.wait_received(EVENT)[0]
    assert packet.id is not None
    server.engine.ack(sock.nsp, packet.id, "woot", b"\x01")
    assert got.get(timeout=WAIT) == ("woot", b"\x01")


def test_ack_keyword(server, mk):
    sock = connected(server, mk())
    got = AsyncResult()
    sock.emit("x", 1, ack=got.set)
    packet = server.wait_received(EVENT)[0]
    server.engine.ack(sock.nsp, packet.id, 5)
    assert got.get(timeout=WAIT) == 5


def test_acks_to_the_server_once_and_with_binary(server, mk):
    sock = connected(server, mk())

    @sock.on("ask")
    def ask(a, ack):
        ack(a + 1, b"\x02")
        ack("twice")

    server.engine.emit(sock.nsp, "ask", 1, ack_id=7)
    acks = server.wait_received(ACK)
    assert acks[0].id == 7 and acks[0].data == [2, b"\x02"]
    server.engine.emit(sock.nsp, "ask", 10, ack_id=8)
    server.wait_received(ACK, count=2)
    assert len(server.packets(ACK)) == 2


def test_call_returns_the_ack_value(server, mk):
    sock = connected(server, mk())

    def answer(engine, packet):
        args = packet.data[1:]
        engine.ack(packet.nsp, packet.id, *args)

    server.on_event = answer
    assert sock.call("one", 1, timeout=WAIT) == 1
    assert sock.call("two", 1, 2, timeout=WAIT) == (1, 2)
    assert sock.call("none", timeout=WAIT) is None
    assert sock.compress(False).call("v", "x", timeout=WAIT) == "x"


def test_call_timeout(server, mk):
    sock = connected(server, mk())
    with pytest.raises(sioclient.TimeoutError):
        sock.call("nobody-answers", timeout=0.05)


def test_call_timeout_is_checked_every_time(server, mk):
    """call()'s timeout is a non-negative number, however often a valid one was given."""
    sock = connected(server, mk())

    def answer(engine, packet):
        engine.ack(packet.nsp, packet.id, *packet.data[1:])

    server.on_event = answer
    for _ in range(2):
        assert sock.call("v", 1, timeout=1) == 1
        assert sock.call("v", 2, timeout=1.0) == 2
        for bad in (True, -1, -0.5, "1", None.__class__):
            with pytest.raises(ValueError):
                sock.call("v", 3, timeout=bad)


def test_timeout_ack_signatures(server, mk):
    sock = connected(server, mk())
    late, ok = AsyncResult(), AsyncResult()
    sock.timeout(0.05).emit("late", lambda *a: late.set(a))
    sock.timeout(WAIT).emit("ok", lambda *a: ok.set(a))
    packets = server.wait_received(EVENT, count=2)
    (err,) = late.get(timeout=WAIT)
    assert isinstance(err, sioclient.TimeoutError)
    server.engine.ack(sock.nsp, packets[1].id, "yes")
    assert ok.get(timeout=WAIT) == (None, "yes")
    # the ack that comes after the timeout is ignored
    server.engine.ack(sock.nsp, packets[0].id, "too late")


def test_timed_out_buffered_packet_is_never_sent(server, mk):
    sock = mk(auto_connect=False)
    got = AsyncResult()
    sock.timeout(0.01).emit("stale", lambda *a: got.set(a))
    assert isinstance(got.get(timeout=WAIT)[0], sioclient.TimeoutError)
    sock.emit("fresh")
    sock.connect()
    server.wait_for(lambda: server.events())
    assert server.events() == [["fresh"]]


def test_drop_fails_sent_acks_and_keeps_buffered_ones(server, mk):
    sock = connected(server, mk(reconnection_delay=0))
    plain, timed, call_err = [], AsyncResult(), AsyncResult()
    sock.emit("plain", lambda *a: plain.append(a))
    sock.timeout(WAIT).emit("timed", lambda *a: timed.set(a))
    caller = background(sock.call, "called")
    caller.rawlink(lambda r: call_err.set(r.exception))
    server.wait_received(EVENT, count=3)
    rec = Recorder(server).listen(sock, "disconnect", "connect")
    server.engine.drop()
    assert rec.wait("disconnect")[0] == ("transport close",)
    assert isinstance(timed.get(timeout=WAIT)[0], sioclient.DisconnectedError)
    assert isinstance(call_err.get(timeout=WAIT), sioclient.DisconnectedError)
    # a call() whose packet waits in the buffer survives the reconnection
    buffered = gevent.spawn(sock.call, "buffered")
    rec.wait("connect")
    packet = server.wait_for(lambda: [p for p in server.packets(EVENT) if p.data == ["buffered"]])[
        0
    ]
    server.engine.ack(sock.nsp, packet.id, "fine")
    assert buffered.get(timeout=WAIT) == "fine"
    assert plain == []


def test_events_before_the_namespace_connect_are_delivered_after_it(server, mk):
    server.answer_connect = False
    sock = mk(URL + "/ns")
    rec = Recorder(server).listen(sock, "connect", "early")
    server.wait_received(CONNECT) if server.protocol == 5 else server.wait_received(CONNECT, "/ns")
    server.engine.emit("/ns", "early", 1)
    server.engine.push_packet(Packet(CONNECT, "/ns", {"sid": "s1"}))
    rec.wait("early")
    assert rec.names() == ["connect", "early"]


def test_handlers_start_in_order_and_do_not_block_each_other(server, mk):
    sock = connected(server, mk())
    started, release = [], AsyncResult()

    @sock.on("slow")
    def slow(n):
        started.append(("slow", n))
        release.get(timeout=WAIT)

    @sock.on("fast")
    def fast(n):
        started.append(("fast", n))

    for n in range(3):
        server.engine.emit("/", "slow", n)
    server.engine.emit("/", "fast", 9)
    server.wait_for(lambda: len(started) == 4)
    assert started == [("slow", 0), ("slow", 1), ("slow", 2), ("fast", 9)]
    release.set()


def test_call_inside_a_handler_does_not_deadlock(server, mk):
    sock = connected(server, mk())
    server.on_event = lambda engine, p: p.id is not None and engine.ack(p.nsp, p.id, "pong")
    result = AsyncResult()
    sock.on("go", lambda: result.set(sock.call("inner", timeout=WAIT)))
    server.engine.emit("/", "go")
    assert result.get(timeout=WAIT) == "pong"


def test_handler_exception_is_logged_and_connection_lives(server, mk, caplog):
    sock = connected(server, mk())
    got = AsyncResult()

    def boom():
        raise RuntimeError("handler failure")

    sock.on("boom", boom)
    sock.on("next", got.set)
    with caplog.at_level(logging.ERROR, logger="sioclient"):
        server.engine.emit("/", "boom")
        server.engine.emit("/", "next", 1)
        assert got.get(timeout=WAIT) == 1
    assert "handler failure" in caplog.text
    assert sock.connected


def test_on_any_sees_events_first(server, mk):
    sock = connected(server, mk())
    seen = []
    sock.on_any(lambda event, *args: seen.append(("any", event, args)))
    sock.on("news", lambda *args: seen.append(("news", args)))
    server.engine.emit("/", "news", 1, "a")
    server.wait_for(lambda: len(seen) == 2)
    assert seen == [("any", "news", (1, "a")), ("news", (1, "a"))]
    sock.off_any()
    server.engine.emit("/", "news", 2)
    server.wait_for(lambda: len(seen) == 3)
    assert seen[-1] == ("news", (2,))


def test_messages_for_other_namespaces_are_ignored(server, mk):
    sock = connected(server, mk())
    got = []
    sock.on("x", got.append)
    server.engine.emit("/other", "x", 1)
    server.engine.emit("/", "x", 2)
    server.wait_for(lambda: got)
    assert got == [2]


# ---- disconnecting -------------------------------------------------------------------------


def test_client_disconnect(server, mk):
    sock = connected(server, mk())
    rec = Recorder(server).listen(sock, "disconnect")
    sock.disconnect()
    assert rec.wait("disconnect")[0] == ("io client disconnect",)
    assert sock.id is None and sock.disconnected
    assert server.packets(DISCONNECT)[0].nsp == "/"
    assert sock.io.ready_state == "closed"
    assert server.engine.closed_by_client
    assert sock.wait(WAIT)


def test_server_disconnect_does_not_reconnect(server, mk):
    sock = connected(server, mk(URL + "/x", reconnection_delay=0))
    rec = Recorder(server).listen(sock, "disconnect", "reconnect_attempt")
    server.engine.push_packet(Packet(DISCONNECT, "/x"))
    assert rec.wait("disconnect")[0] == ("io server disconnect",)
    assert sock.wait(WAIT)
    assert rec.args("reconnect_attempt") == []
    assert len(server.engines) == 1


def test_manager_close_is_forced_close(server, mk):
    sock = connected(server, mk())
    rec = Recorder(server).listen(sock, "disconnect").listen(sock.io, "close")
    sock.io.close()
    assert rec.wait("disconnect")[0] == ("forced close",)
    assert rec.wait("close")[0] == ("forced close",)
    assert sock.wait(WAIT)


def test_reconnect_manually_after_disconnect(server, mk):
    sock = connected(server, mk())
    first = sock.id
    sock.disconnect()
    connected(server, sock.connect())
    assert sock.id != first
    assert len(server.engines) == 2


def test_no_connect_error_when_closed_while_opening(server, mk):
    server.open_mode = "hang"
    sock = mk(timeout=0.05)
    rec = Recorder(server).listen(sock, "connect_error").listen(sock.io, "connect_error")
    sock.disconnect()
    assert sock.wait(WAIT)
    assert sock.io.ready_state == "closed"
    gevent.sleep(0.1)  # past the timeout: it must not fire
    assert rec.seen == []


def test_wait_times_out_while_connected(server, mk):
    sock = connected(server, mk())
    assert sock.wait(0.01) is False


# ---- reconnection ---------------------------------------------------------------------------


def test_reconnect_by_default(server, mk):
    sock = connected(server, mk(reconnection_delay=0.01, randomization_factor=0))
    old_id = sock.id
    rec = Recorder(server)
    rec.listen(sock, "disconnect", "reconnect_attempt", "reconnecting", "reconnect", "connect")
    rec.listen(sock.io, "close", "reconnect")
    ids_during_attempt = []
    sock.on("reconnect_attempt", lambda n: ids_during_attempt.append(sock.id))
    server.engine.drop()
    rec.wait("connect", 1)
    assert rec.args("reconnect_attempt") == [(1,)] and rec.args("reconnecting") == [(1,)]
    assert rec.wait("reconnect", 2) == [(1,), (1,)]
    assert rec.args("disconnect") == [("transport close",)]
    assert ids_during_attempt == [None]
    assert sock.id and sock.id != old_id


def test_emits_while_reconnecting_are_delivered_after(server, mk):
    sock = connected(server, mk(reconnection_delay=0.01))
    rec = Recorder(server).listen(sock, "disconnect", "connect")
    server.engine.drop()
    rec.wait("disconnect")
    sock.emit("queued", 1)
    rec.wait("connect")
    server.wait_for(lambda: server.events())
    assert server.events() == [["queued", 1]]
    assert server.received[-1].engine is server.engine


def test_reconnect_attempt_handler_edits_apply_to_that_attempt(server, mk):
    sock = connected(server, mk(reconnection_delay=0.01, transports=["websocket"]))

    @sock.io.on("reconnect_attempt")
    def edit(attempt):
        sock.io.opts["query"] = {"token": f"t{attempt}"}
        sock.io.opts["transports"] = ["polling", "websocket"]

    server.engine.drop()
    server.wait_for(lambda: len(server.engines) == 2)
    assert server.engine.opened_with["query"] == {"token": "t1"}
    assert server.engine.opened_with["transports"] == ["polling", "websocket"]
    connected(server, sock)


def test_reconnect_failed_after_the_attempts(server, mk):
    sock = connected(
        server, mk(URL + "/r", reconnection_attempts=2, reconnection_delay=0.001, timeout=1)
    )
    server.open_mode = "refuse"
    rec = Recorder(server)
    rec.listen(sock, "reconnect_attempt", "reconnecting", "reconnect_error", "reconnect_failed")
    rec.listen(sock.io, "reconnect_attempt", "reconnect_failed")
    server.engine.drop()
    rec.wait("reconnect_failed", 2)
    assert rec.args("reconnect_attempt") == [(1,), (1,), (2,), (2,)]
    assert [a for e, a in rec.seen if e == "reconnecting"] == [(1,), (2,)]
    errors = rec.args("reconnect_error")
    assert len(errors) == 2 and all(isinstance(e[0], sioclient.ConnectionError) for e in errors)
    assert sock.wait(WAIT)
    assert len(server.engines) == 3


def test_attempts_with_immediate_timeout(server, mkmanager):
    manager = mkmanager(
        {"reconnection": True, "timeout": 0, "reconnectionAttempts": 2, "reconnectionDelay": 10}
    )
    rec = Recorder(server).listen(manager, "reconnect_attempt", "reconnect_failed")
    rec.listen(manager, "connect_timeout", "connect_error")
    sock = manager.socket("/timeout")
    rec.wait("reconnect_failed")
    assert len(rec.args("reconnect_attempt")) == 2
    assert rec.args("connect_timeout")[0] == (0.0,)
    assert all(isinstance(a[0], sioclient.TimeoutError) for a in rec.args("connect_error"))
    # then a failed reconnect loop can start again
    manager_attempts = len(rec.args("reconnect_attempt"))
    sock.connect()
    rec.wait("reconnect_failed", 2)
    assert len(rec.args("reconnect_attempt")) == manager_attempts + 2


def test_connect_timeout_and_open_callback(server, mkmanager):
    server.open_mode = "hang"
    manager = mkmanager(auto_connect=False, timeout=0.02, reconnection=False)
    rec = Recorder(server).listen(manager, "connect_error", "connect_timeout")
    result = AsyncResult()
    assert manager.open(result.set) is manager
    assert isinstance(result.get(timeout=WAIT), sioclient.TimeoutError)
    assert rec.wait("connect_timeout")[0] == (0.02,)
    assert isinstance(rec.wait("connect_error")[0][0], sioclient.TimeoutError)
    assert server.engine.closed_by_client


def test_open_callback_success_and_refusal(server, mkmanager):
    manager = mkmanager(auto_connect=False)
    ok = AsyncResult()
    manager.connect(ok.set)
    assert ok.get(timeout=WAIT) is None
    again = AsyncResult()
    manager.open(again.set)
    assert again.get(timeout=WAIT) is None
    manager.close()
    server.open_mode = "refuse"
    bad = AsyncResult()
    rec = Recorder(server).listen(manager, "connect_error", "reconnect_attempt")
    manager.open(bad.set)
    assert isinstance(bad.get(timeout=WAIT), sioclient.ConnectionError)
    rec.wait("connect_error")
    assert rec.args("reconnect_attempt") == []  # the callback owner decides, as in JavaScript


def test_no_reconnect_when_disabled(server, mk):
    server.open_mode = "refuse"
    sock = mk(reconnection=False)
    rec = Recorder(server).listen(sock, "connect_error", "reconnect_attempt")
    rec.wait("connect_error")
    assert sock.wait(WAIT)
    assert rec.args("reconnect_attempt") == [] and len(server.engines) == 1


def test_not_reconnecting_when_force_closed(server, mk):
    server.open_mode = "refuse"
    sock = mk(URL + "/invalid", reconnection_delay=0.01)
    rec = Recorder(server).listen(sock, "reconnect_attempt")
    sock.once("connect_error", lambda err: sock.disconnect())
    server.wait_for(lambda: sock.wait(0) and not sock.io._reconnecting)
    gevent.sleep(0.05)  # longer than the reconnection delay: nothing may happen
    assert rec.args("reconnect_attempt") == [] and len(server.engines) == 1


def test_stop_reconnecting_when_force_closed_during_attempt(server, mk):
    server.open_mode = "refuse"
    sock = mk(URL + "/invalid", reconnection_delay=0.01)
    rec = Recorder(server).listen(sock, "reconnect_attempt")
    sock.once("reconnect_attempt", lambda n: sock.disconnect())
    rec.wait("reconnect_attempt")
    assert sock.wait(WAIT)
    gevent.sleep(0.05)
    assert len(rec.args("reconnect_attempt")) == 1
    assert len(server.engines) == 1  # the announced attempt was called off


def test_reconnect_after_stopping_reconnection(server, mk):
    server.open_mode = "refuse"
    sock = mk(URL + "/invalid", reconnection_delay=0.01, randomization_factor=0)
    rec = Recorder(server).listen(sock, "reconnect_attempt")

    def restart(n):
        sock.disconnect()
        sock.connect()

    sock.once("reconnect_attempt", restart)
    rec.wait("reconnect_attempt", 2)
    sock.disconnect()


def test_stop_reconnecting_one_socket_keep_the_other(server, mkmanager):
    manager = mkmanager(reconnection_delay=0.01)
    s1 = connected(server, manager.socket("/"))
    s2 = connected(server, manager.socket("/asd"))
    rec = Recorder(server).listen(s1, "connect").listen(s2, "connect")
    manager.once("reconnect_attempt", lambda n: s1.disconnect())
    server.engine.drop()
    server.wait_for(lambda: len(rec.args("connect")) == 1)
    assert s2.connected and not s1.connected
    assert [p.nsp for p in server.packets(CONNECT) if p.nsp != "/"] == ["/asd", "/asd"]


def test_ping_and_pong(server, mk):
    sock = connected(server, mk())
    rec = Recorder(server).listen(sock, "ping", "pong").listen(sock.io, "ping", "pong")
    server.engine.ping(latency_ms=12.5)
    rec.wait("pong", 2)
    assert rec.args("pong") == [(12.5,), (12.5,)]
    assert rec.names().index("ping") < rec.names().index("pong")


def test_parse_error_closes_and_reconnects(server, mk):
    sock = connected(server, mk(reconnection_delay=0.01))
    rec = Recorder(server).listen(sock, "error", "disconnect", "connect")
    server.engine.push("not a packet")
    assert isinstance(rec.wait("error")[0][0], sioclient.ProtocolError)
    assert rec.wait("disconnect")[0] == ("parse error",)
    rec.wait("connect")


def test_engine_error_after_open_is_an_error_event(server, mk):
    sock = connected(server, mk())
    rec = Recorder(server).listen(sock, "error")
    boom = sioclient.ConnectionError("late")
    server.engine._inbox.put(("error", boom))
    assert rec.wait("error")[0] == (boom,)


# ---- Manager API ----------------------------------------------------------------------------


def test_manager_option_getters_and_setters(mkmanager):
    manager = mkmanager(auto_connect=False)
    assert manager.reconnection() is True
    assert manager.reconnection(False) is manager and manager.reconnection() is False
    assert manager.reconnection_attempts() == math.inf
    assert manager.reconnection_attempts(3).reconnection_attempts() == 3
    assert manager.reconnection_attempts(None).reconnection_attempts() == math.inf
    assert manager.reconnection_delay(0.2).reconnection_delay() == 0.2
    assert manager.reconnection_delay_max(2).reconnection_delay_max() == 2.0
    assert manager.randomization_factor(0).randomization_factor() == 0.0
    assert manager.timeout(None).timeout() is None
    assert manager.timeout(3).opts["timeout"] == 3.0
    with pytest.raises(ValueError):
        manager.randomization_factor(2)


def test_manager_dict_first_argument_and_url_query(server, mkmanager):
    manager = mkmanager(URL + "/ignored?x=1", auto_connect=False)
    assert manager.uri == "http://srv.test:80" and manager.opts["query"] == {"x": "1"}
    assert Manager({"autoConnect": False}).uri == "http://localhost:80"


def test_parser_is_chosen_by_revision(server, mkmanager, monkeypatch):
    from sioclient import parsers

    asked = []

    def fake_get(name, protocol):
        asked.append((name, protocol))
        return MiniParser(protocol)

    monkeypatch.setattr(parsers, "get", fake_get)
    manager = mkmanager(parser="msgpack")
    connected(server, manager.socket("/"))
    assert asked == [("msgpack", server.protocol)]


def test_a_parser_object_is_used_as_is(server, mkmanager):
    mine = MiniParser()
    manager = mkmanager(parser=mine)
    connected(server, manager.socket("/"))
    assert manager._parser is mine


def test_manager_events_open_and_close(server, mkmanager):
    manager = mkmanager(auto_connect=False, reconnection=False)
    rec = Recorder(server).listen(manager, "open", "close")
    sock = manager.socket("/")
    sock.open()
    connected(server, sock)
    rec.wait("open")
    server.engine.drop("ping timeout")
    assert rec.wait("close")[0] == ("ping timeout",)
    assert sock.wait(WAIT)


def test_a_new_engine_per_connection(server, mk):
    sock = connected(server, mk(reconnection_delay=0.01))
    first = sock.io.engine
    rec = Recorder(server).listen(sock, "connect")
    first.drop()
    rec.wait("connect")
    assert sock.io.engine is not first and len(server.engines) == 2
    # the old engine's late messages are ignored
    first._inbox.put(("message", '2["ghost"]'))
    assert sock.connected
