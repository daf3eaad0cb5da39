"""The Engine.IO session state machine, driven with bodies, frames and a fake clock.

No sockets: each test plays the server's side by hand, with the wire strings a socket.io 2.x
(Engine.IO 3) or 3.x/4.x (Engine.IO 4) server sends.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sioclient import ConnectionError, ProtocolError, TimeoutError
from sioclient.core import _accel
from sioclient.core.handshake import (
    error_from_http,
    http_answer,
    is_unsupported_protocol,
    parse_open,
)
from sioclient.core.revisions import EIO3, EIO4, by_eio, by_protocol
from sioclient.core.session import (
    CLOSED,
    CLOSING,
    OPEN,
    QUEUE_ITEM_OVERHEAD,
    Closed,
    HandshakeRetry,
    Message,
    Opened,
    PingReceived,
    PingSent,
    Pong,
    PongSent,
    ProbeSucceeded,
    Session,
    UpgradeFailed,
)


@pytest.fixture(autouse=True)
def _both_builds(eio_impl, monkeypatch):
    """Every session test runs with the compiled codec and with the pure one."""
    monkeypatch.setitem(_accel._loaded, "eio", eio_impl)


def open_json(
    sid="abc", upgrades=("websocket",), interval=25000, timeout=20000, max_payload=None
) -> str:
    obj = {"sid": sid, "upgrades": list(upgrades), "pingInterval": interval, "pingTimeout": timeout}
    if max_payload is not None:
        obj["maxPayload"] = max_payload
    return json.dumps(obj, separators=(",", ":"))


def v3_body(*packets: str) -> str:
    return "".join(f"{len(p.encode('utf-16-le')) // 2}:{p}" for p in packets)


def open_polling(s: Session, eio: int, now: float = 0.0, **kw) -> list:
    s.begin("polling")
    if eio == 3:
        return s.receive_payload(v3_body("0" + open_json(**kw)), now)
    return s.receive_payload("0" + open_json(**kw), now)


def open_websocket(s: Session, now: float = 0.0, **kw) -> list:
    s.begin("websocket")
    return s.receive_frame("0" + open_json(**kw), now)


# ---------------------------------------------------------------- handshake and detection


def test_polling_detects_a_4x_server():
    s = Session()
    s.begin("polling")
    assert s.query() == {"EIO": "4", "transport": "polling"}
    events = s.receive_payload(b"0" + open_json().encode(), 0.0)
    assert events == [Opened(parse_open(open_json(), 4))]
    assert (s.state, s.protocol, s.eio, s.sid) == (OPEN, 5, 4, "abc")
    assert s.query() == {"EIO": "4", "transport": "polling", "sid": "abc"}
    assert (s.ping_interval, s.ping_timeout) == (25.0, 20.0)


def test_polling_detects_a_2x_server_and_its_connect():
    s = Session()
    s.begin("polling")
    assert s.query()["EIO"] == "4"
    body = v3_body("0" + open_json(upgrades=["websocket"], interval=25000, timeout=5000), "40")
    assert body.startswith(f"{len(open_json(timeout=5000)) + 1}:0{{")
    events = s.receive_payload(body, 0.0)
    assert [type(e) for e in events] == [Opened, Message]
    assert events[1] == Message("0")
    assert (s.protocol, s.eio) == (4, 3)
    assert events[0].handshake.revision == 3
    # the rest of the session speaks revision 3
    assert s.query()["EIO"] == "3"


def test_polling_detects_the_binary_framing():
    s = Session()
    s.begin("polling")
    text = ("0" + open_json()).encode()
    body = b"\x00" + bytes(int(c) for c in str(len(text))) + b"\xff" + text
    body += b"\x01\x04\xff\x04abc"
    events = s.receive_payload(body, 0.0)
    assert [type(e) for e in events] == [Opened, Message]
    assert events[1] == Message(b"abc")
    assert s.protocol == 4


def test_fixed_protocol_asks_for_its_revision():
    s = Session(protocol=4)
    s.begin("websocket")
    assert s.query()["EIO"] == "3"
    s = Session(protocol=5)
    s.begin("websocket")
    assert s.query()["EIO"] == "4"
    assert Session(protocol=4).protocol == 4


def test_protocol_5_against_a_2x_server_is_a_clear_error():
    s = Session(protocol=5)
    s.begin("polling")
    with pytest.raises(ProtocolError, match="socket.io 2.x"):
        s.receive_payload(v3_body("0" + open_json(), "40"), 0.0)


def test_websocket_only_detection_retries_with_eio4():
    s = Session(transports=["websocket"])
    s.begin("websocket")
    assert s.query() == {"EIO": "3", "transport": "websocket"}
    # a 3.x/4.x server without allowEIO3 refuses the upgrade in plain text
    assert s.handshake_refused(400, b"Unsupported protocol version", "text/html") is None
    assert s.query() == {"EIO": "4", "transport": "websocket"}
    events = s.receive_frame("0" + open_json(upgrades=[]), 0.0)
    assert isinstance(events[0], Opened)
    assert (s.protocol, s.eio) == (5, 4)
    assert not s.can_upgrade


@pytest.mark.parametrize("status", [403, 404, 500, 502])
def test_websocket_only_detection_retries_whatever_the_refusal(status):
    # python-engineio under an ASGI server refuses EIO=3 with 403; a proxy may answer anything
    s = Session(transports=["websocket"])
    s.begin("websocket")
    assert s.handshake_refused(status, b"", None) is None
    assert s.query() == {"EIO": "4", "transport": "websocket"}
    err = s.handshake_refused(status, b"", None)
    assert isinstance(err, ConnectionError) and str(status) in str(err)
    assert s.state == CLOSED


def test_websocket_only_detection_second_refusal_is_an_error():
    s = Session(transports=["websocket"])
    s.begin("websocket")
    assert s.handshake_refused(400, b"", None) is None
    err = s.handshake_refused(400, b"Unsupported protocol version", "text/html")
    assert isinstance(err, ConnectionError)
    assert "400" in str(err) and "Unsupported protocol version" in str(err)
    assert is_unsupported_protocol(err)
    assert s.state == CLOSED


def test_websocket_only_against_a_2x_server():
    s = Session(transports=["websocket"])
    events = open_websocket(s, upgrades=[])
    events += s.receive_frame("40", 0.1)
    assert [type(e) for e in events] == [Opened, Message]
    assert (s.protocol, s.eio) == (4, 3)


def test_refusal_is_not_retried_with_a_fixed_protocol():
    s = Session(protocol=4, transports=["websocket"])
    s.begin("websocket")
    err = s.handshake_refused(400, b'{"code":5,"message":"Unsupported protocol version"}', None)
    assert isinstance(err, ConnectionError)
    assert err.data == {"status": 400, "code": 5, "message": "Unsupported protocol version"}


def test_polling_refusal_is_not_retried():
    s = Session()
    s.begin("polling")
    err = s.handshake_refused(403, b'{"code":4,"message":"not allowed"}', "application/json")
    assert isinstance(err, ConnectionError)
    assert "403" in str(err) and "not allowed" in str(err)
    assert err.data["code"] == 4


# ---------------------------------------------------------------- handshake module


def test_parse_open_fields():
    hs = parse_open(open_json(upgrades=[], interval=300, timeout=200, max_payload=1000000), 4)
    assert hs.sid == "abc"
    assert hs.upgrades == ()
    assert (hs.ping_interval, hs.ping_timeout, hs.max_payload) == (0.3, 0.2, 1000000)


@pytest.mark.parametrize(
    "data",
    [
        "",
        "nope",
        "[]",
        '{"upgrades":[],"pingInterval":1,"pingTimeout":1}',
        '{"sid":"","upgrades":[],"pingInterval":1,"pingTimeout":1}',
        '{"sid":5,"upgrades":[],"pingInterval":1,"pingTimeout":1}',
        '{"sid":"a","upgrades":"websocket","pingInterval":1,"pingTimeout":1}',
        '{"sid":"a","upgrades":[1],"pingInterval":1,"pingTimeout":1}',
        '{"sid":"a","upgrades":[],"pingInterval":"1","pingTimeout":1}',
        '{"sid":"a","upgrades":[],"pingInterval":true,"pingTimeout":1}',
        '{"sid":"a","upgrades":[],"pingInterval":1}',
        '{"sid":"a","upgrades":[],"pingInterval":-1,"pingTimeout":1}',
        '{"sid":"a","upgrades":[],"pingInterval":1,"pingTimeout":1,"maxPayload":"x"}',
    ],
)
def test_parse_open_rejects(data):
    with pytest.raises(ProtocolError):
        parse_open(data, 4)


@pytest.mark.parametrize(
    "status, body, ctype, code, text",
    [
        (400, b'{"code":0,"message":"Transport unknown"}', "application/json", 0, "Transport"),
        (400, b'{"code":1,"message":"Session ID unknown"}', "application/json", 1, "Session ID"),
        (400, b'{"code":2,"message":"Bad handshake method"}', None, 2, "Bad handshake"),
        (400, b'{"code":3,"message":"Bad request"}', None, 3, "Bad request"),
        (403, b'{"code":4,"message":"Forbidden"}', None, 4, "Forbidden"),
        (400, b'{"code":5}', None, 5, "Unsupported protocol version"),
        (400, b"Unsupported protocol version", "text/html", 5, "Unsupported protocol"),
        (502, b"", None, None, "502 Bad Gateway"),
        (500, b"<html>oops</html>", "text/html", None, "oops"),
    ],
)
def test_error_from_http(status, body, ctype, code, text):
    err = error_from_http(status, body, ctype)
    assert isinstance(err, ConnectionError)
    assert str(status) in str(err) and text in str(err)
    assert err.data["code"] == code
    assert err.data["status"] == status


NGINX_502 = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.22.1</center>\r\n"
    b"</body>\r\n</html>\r\n"
)


@pytest.mark.parametrize(
    "status, body, ctype, expected",
    [
        (502, NGINX_502, "text/html", "HTTP 502 Bad Gateway"),
        (
            503,
            b"<html><body><h1>503 Service Unavailable</h1>\nNo server is available.\n</body></html>",
            "text/html",
            "HTTP 503 Service Unavailable: 503 Service Unavailable No server is available.",
        ),
        (400, b'{"code":1}', "application/json", 'HTTP 400 Bad Request: {"code":1}'),
        (599, b"", None, "HTTP 599"),
        (500, b"x" * 10_000, "text/plain", "HTTP 500 Internal Server Error: " + "x" * 200),
    ],
)
def test_http_answer_is_short_and_readable(status, body, ctype, expected):
    # a proxy's error page is told by its title, never as a page of HTML
    assert http_answer(status, body, ctype) == expected


def test_error_from_http_of_a_proxy_page():
    assert str(error_from_http(502, NGINX_502, "text/html")) == (
        "server refused the connection: HTTP 502 Bad Gateway"
    )


def test_revisions_table():
    assert by_eio(3) is EIO3 and by_protocol(5) is EIO4
    assert (EIO3.sio, EIO4.sio) == (4, 5)
    assert EIO3.client_pings and not EIO4.client_pings
    assert (EIO3.query_value, EIO4.query_value) == ("3", "4")
    assert EIO3.encode_packet(4, b"\x01") == b"\x04\x01"
    assert EIO4.encode_packet(4, b"\x01") == b"\x01"
    with pytest.raises(ValueError):
        by_protocol(3)


# ---------------------------------------------------------------- heartbeat


def test_heartbeat_revision3_client_pings():
    s = Session(protocol=4)
    open_polling(s, 3, now=100.0, interval=25000, timeout=5000)
    assert s.next_deadline() == 125.0
    assert s.tick(124.9) == []
    assert s.tick(125.0) == [PingSent()]
    assert s.take_payload(125.0) == "1:2"
    assert s.next_deadline() == 130.0
    events = s.receive_payload("1:3", 125.25)
    assert len(events) == 1 and isinstance(events[0], Pong)
    assert events[0].latency_ms == pytest.approx(250.0)
    assert s.next_deadline() == pytest.approx(150.25)
    # an unsolicited pong changes nothing
    assert s.receive_payload("1:3", 126.0) == []


def test_ping_timeout_revision3():
    s = Session(protocol=4, transports=["websocket"])
    open_websocket(s, now=0.0, interval=1000, timeout=500)
    assert s.tick(1.0) == [PingSent()]
    assert s.take_frames(1.0) == ["2"]
    assert s.tick(1.49) == []
    assert s.tick(1.5) == [Closed("ping timeout")]
    assert s.state == CLOSED
    assert s.next_deadline() is None
    assert s.receive_frame("3", 1.6) == []


def test_revision3_ignores_pings_from_the_server():
    s = Session(protocol=4)
    open_polling(s, 3)
    assert s.receive_payload("1:2", 1.0) == []
    assert not s.wants_write


def test_heartbeat_revision4_server_pings():
    s = Session()
    open_polling(s, 4, now=10.0, interval=25000, timeout=20000)
    assert s.next_deadline() == 55.0
    assert s.receive_payload("2", 35.0) == [PingReceived()]
    assert s.wants_write
    assert s.take_payload(35.004) == "3"
    events = s.next_events()
    assert len(events) == 1 and isinstance(events[0], PongSent)
    assert events[0].latency_ms == pytest.approx(4.0)
    assert s.next_events() == []
    assert s.next_deadline() == 80.0
    assert s.tick(79.9) == []
    assert s.tick(80.0) == [Closed("ping timeout")]


def test_revision4_any_packet_proves_the_server_alive():
    s = Session(protocol=5, transports=["websocket"])
    open_websocket(s, now=0.0, interval=1000, timeout=1000)
    assert s.next_deadline() == 2.0
    assert s.receive_frame("4hello", 1.5) == [Message("hello")]
    assert s.next_deadline() == 3.5
    assert s.receive_frame(b"\x01\x02", 3.0) == [Message(b"\x01\x02")]
    assert s.next_deadline() == 5.0
    s.receive_frame("2", 4.0)
    assert s.take_frames(4.5) == ["3"]
    assert s.next_events()[0].latency_ms == pytest.approx(500.0)


# ---------------------------------------------------------------- sending and batching


def test_messages_wait_for_the_handshake():
    s = Session()
    s.begin("polling")
    s.send_message("40")
    assert not s.wants_write and s.take_payload(0.0) is None
    s.receive_payload("0" + open_json(), 0.0)
    assert s.wants_write
    assert s.take_payload(0.0) == "440"
    assert s.take_payload(0.0) is None


def test_polling_batches_everything_queued():
    s = Session()
    open_polling(s, 4)
    s.send_message("42[1]")
    s.send_message(b"\x01\x02\x03\x04")
    s.send_message(bytearray(b"\x05"))
    assert s.take_payload(0.0) == "442[1]\x1ebAQIDBA==\x1ebBQ=="
    s = Session(protocol=4)
    open_polling(s, 3)
    s.send_message("42€")
    s.send_message(memoryview(b"\x01\x02\x03\x04"))
    assert s.take_payload(0.0) == "4:442€10:b4AQIDBA=="


def test_polling_batches_respect_max_payload():
    s = Session()
    open_polling(s, 4, max_payload=100)
    for i in range(5):
        s.send_message(str(i) * 40)
    assert s.take_payload(0.0) == "4" + "0" * 40 + "\x1e4" + "1" * 40
    assert s.take_payload(0.0) == "4" + "2" * 40 + "\x1e4" + "3" * 40
    assert s.take_payload(0.0) == "4" + "4" * 40
    assert s.take_payload(0.0) is None
    # a message larger than the limit still goes, alone
    s.send_message("x" * 500)
    s.send_message("y")
    assert s.take_payload(0.0) == "4" + "x" * 500
    assert s.take_payload(0.0) == "4y"


def test_queue_size_and_bound_over_polling():
    s = Session(max_queue=350)
    open_polling(s, 4)
    assert (s.queued_size, s.queue_full) == (0, False)
    s.send_message("a" * 100)
    s.send_message(b"\x01" * 100)
    assert s.queued_size == 2 * (100 + QUEUE_ITEM_OVERHEAD) and not s.queue_full
    s.send_message("b")  # the session never refuses: the I/O layer holds senders back
    assert s.queue_full
    s.take_payload(0.0)
    assert (s.queued_size, s.queue_full) == (0, False)
    # a body takes 16 packets; what stays is counted until taken, and a pong counts nothing
    for i in range(20):
        s.send_message(str(i))
    s.receive_payload("2", 1.0)
    s.take_payload(1.0)
    assert s.queued_size == 4 * QUEUE_ITEM_OVERHEAD + sum(len(str(i)) for i in range(16, 20))
    assert s.take_payload(1.0).endswith("\x1e3")
    assert s.queued_size == 0
    s.send_message("c")
    s.close()
    assert s.queued_size == 1 + QUEUE_ITEM_OVERHEAD  # the close packet goes after it
    s.take_payload(1.0)
    assert s.queued_size == 0 and s.state == CLOSED


def test_queue_fills_while_the_upgrade_pauses_polling():
    s = Session(max_queue=1000)
    open_polling(s, 4)
    s.start_probe(1.0)
    s.receive_probe_frame("3probe", 1.1)
    for _ in range(10):
        s.send_message("x" * 50)
    assert s.queue_full and not s.wants_write
    frames = s.finish_upgrade(1.2)
    assert len(frames) == 11
    assert s.queued_size == 0 and not s.queue_full
    s.send_message("y")
    s.take_frames(1.3)
    assert s.queued_size == 0


def test_queue_is_emptied_when_the_session_fails():
    s = Session()
    open_websocket(s)
    s.send_message("x" * 10)
    assert s.queued_size
    error = ConnectionError("reset")
    assert s.transport_error(error) == [Closed("transport error", error)]
    assert s.queued_size == 0


def test_write_stall_gives_the_connection_up():
    s = Session(protocol=5, transports=["websocket"])
    open_websocket(s, now=0.0, interval=1000, timeout=500)
    assert s.next_deadline() == 1.5  # the heartbeat
    assert not s.write_stall_watched
    s.write_stalled(1.0)  # bytes wait unwritten since 1.0: the heartbeat window bounds them
    assert s.write_stall_watched
    assert s.next_deadline() == 1.5
    s.receive_frame("4keep", 1.25)  # the server still sends: the heartbeat moves on
    assert s.next_deadline() == 2.5
    s.write_stalled(1.25)  # some bytes went out at 1.25
    assert s.next_deadline() == 2.75
    s.receive_frame("4keep", 2.0)
    assert s.tick(2.7) == []
    events = s.tick(2.75)
    assert len(events) == 1 and events[0].reason == "transport error"
    assert isinstance(events[0].error, TimeoutError) and "1.5 s" in str(events[0].error)
    assert s.state == CLOSED and s.next_deadline() is None


def test_write_stall_cleared():
    s = Session(protocol=4, transports=["websocket"])
    open_websocket(s, now=0.0, interval=1000, timeout=500)
    s.write_stalled(0.25)
    assert s.next_deadline() == 1.0  # the next client ping (revision 3) comes first
    s.tick(1.0)  # the ping is queued; its pong is due at 1.5
    assert s.next_deadline() == 1.5
    s.write_stalled(None)  # everything went out
    assert not s.write_stall_watched
    s.receive_frame("3", 1.1)  # the pong
    assert s.next_deadline() == 2.1  # the next ping; no write deadline any more
    s.write_stalled(2.0)
    assert s.next_deadline() == 2.1
    s.close()  # closing stops every timer
    assert s.next_deadline() is None
    s.write_stalled(3.0)
    assert s.next_deadline() is None


def test_websocket_frames_per_revision():
    s = Session(protocol=4, transports=["websocket"])
    open_websocket(s)
    s.send_message("42[]")
    s.send_message(b"\x01")
    assert s.take_frames(0.0) == ["442[]", b"\x04\x01"]
    assert s.take_frames(0.0) == []
    s = Session(protocol=5, transports=["websocket"])
    open_websocket(s)
    s.send_message(b"\x01")
    assert s.take_frames(0.0) == [b"\x01"]


def test_force_base64():
    s = Session(protocol=5, force_base64=True, transports=["websocket"])
    s.begin("websocket")
    assert s.query()["b64"] == "1"
    s.receive_frame("0" + open_json(), 0.0)
    s.send_message(b"\x01\x02\x03\x04")
    assert s.take_frames(0.0) == ["bAQIDBA=="]
    assert s.receive_frame("bAQIDBA==", 0.0) == [Message(b"\x01\x02\x03\x04")]


def test_timestamp_requests():
    s = Session(timestamp_requests=True, timestamp_param="ts")
    s.begin("polling")
    first, second = s.query()["ts"], s.query()["ts"]
    assert first != second
    assert "t" not in s.query()


def test_send_message_type_checked():
    s = Session()
    with pytest.raises(TypeError):
        s.send_message(42)  # type: ignore[arg-type]


# ---------------------------------------------------------------- upgrade


@pytest.mark.parametrize("eio", [3, 4])
def test_upgrade_sequence(eio):
    s = Session()
    open_polling(s, eio)
    assert s.can_upgrade and s.polling_active
    assert s.query("websocket") == {"EIO": str(eio), "transport": "websocket", "sid": "abc"}
    assert s.start_probe(1.0) == ["2probe"]
    assert s.upgrading and not s.can_upgrade
    # polling carries on while probing
    s.send_message("a")
    assert s.take_payload(1.0) == ("2:4a" if eio == 3 else "4a")
    assert s.receive_probe_frame("3probe", 1.1) == [ProbeSucceeded()]
    # polling paused: nothing new goes out on it; queued messages wait for the websocket
    assert not s.polling_active
    s.send_message("b")
    s.send_message(b"\x07")
    assert not s.wants_write and s.take_payload(1.2) is None
    # the server ends the pending GET with a noop (and may still deliver messages)
    noop = "1:6" if eio == 3 else "6"
    assert s.receive_payload(noop, 1.2) == []
    frames = s.finish_upgrade(1.3)
    assert frames == ["5", "4b", b"\x04\x07" if eio == 3 else b"\x07"]
    assert s.transport == "websocket" and not s.upgrading and not s.polling_active
    assert s.receive_frame("6", 1.4) == []
    assert s.receive_frame("4c", 1.5) == [Message("c")]
    s.send_message("d")
    assert s.take_frames(1.6) == ["4d"]


def test_pong_queued_during_upgrade_goes_over_websocket():
    s = Session(protocol=5)
    open_polling(s, 4, now=0.0)
    s.start_probe(1.0)
    s.receive_probe_frame("3probe", 1.1)
    assert s.receive_payload("2", 2.0) == [PingReceived()]
    frames = s.finish_upgrade(2.5)
    assert frames == ["5", "3"]
    assert s.next_events() == [PongSent(500.0)]


@pytest.mark.parametrize("answer", ["3nope", "4hello", "x", b"\x09"])
def test_failed_probe_keeps_polling(answer):
    s = Session()
    open_polling(s, 4)
    s.start_probe(1.0)
    events = s.receive_probe_frame(answer, 1.1)
    assert len(events) == 1 and isinstance(events[0], UpgradeFailed)
    assert events[0].reason == "probe error"
    assert s.transport == "polling" and s.polling_active and not s.can_upgrade
    s.send_message("a")
    assert s.take_payload(1.2) == "4a"
    with pytest.raises(RuntimeError):
        s.finish_upgrade(1.3)


def test_probe_connection_error_and_timeout():
    s = Session()
    open_polling(s, 4, timeout=5000)
    s.start_probe(1.0)
    err = OSError("refused")
    assert s.probe_failed(err) == [UpgradeFailed("probe error", err)]
    s = Session()
    open_polling(s, 4, interval=25000, timeout=5000)
    s.start_probe(1.0)
    assert s.next_deadline() == 6.0
    assert s.tick(6.0) == [UpgradeFailed("probe timeout")]
    assert s.state == OPEN and s.polling_active


def test_no_upgrade_when_not_offered_or_disabled():
    s = Session()
    open_polling(s, 4, upgrades=[])
    assert not s.can_upgrade
    s = Session(upgrade=False)
    open_polling(s, 4)
    assert not s.can_upgrade
    s = Session(transports=["polling"])
    open_polling(s, 4)
    assert not s.can_upgrade
    with pytest.raises(RuntimeError):
        s.start_probe(0.0)


# ---------------------------------------------------------------- close


def test_close_on_polling_flushes_then_sends_close():
    s = Session()
    open_polling(s, 4)
    s.send_message("41")
    assert s.close() == [Closed("forced close")]
    assert s.state == CLOSING and s.wants_write and s.next_deadline() is None
    s.send_message("dropped")
    assert s.take_payload(0.0) == "441\x1e1"
    assert s.state == CLOSED and not s.wants_write
    assert s.close() == []


def test_close_on_websocket():
    s = Session(protocol=4, transports=["websocket"])
    open_websocket(s)
    assert s.close() == [Closed("forced close")]
    assert s.take_frames(0.0) == ["1"]
    assert s.state == CLOSED


def test_close_while_opening():
    s = Session()
    s.begin("polling")
    assert s.close() == [Closed("forced close")]
    assert s.state == CLOSED and not s.wants_write
    assert s.receive_payload("0" + open_json(), 0.0) == []


def test_close_during_upgrade_pause_goes_out_on_polling():
    s = Session()
    open_polling(s, 4)
    s.start_probe(0.0)
    s.receive_probe_frame("3probe", 0.1)
    s.close()
    assert s.polling_active and s.take_payload(0.2) == "1"


def test_server_close_packet():
    s = Session()
    open_polling(s, 4)
    events = s.receive_payload("4a\x1e1\x1e4b", 1.0)
    assert events == [Message("a"), Closed("transport close")]
    assert s.state == CLOSED
    assert s.receive_payload("4c", 2.0) == []
    assert s.tick(100.0) == []


def test_transport_close_and_error():
    s = Session(protocol=5, transports=["websocket"])
    open_websocket(s)
    assert s.transport_closed() == [Closed("transport close")]
    s = Session()
    open_polling(s, 4)
    err = OSError("reset")
    assert s.transport_error(err) == [Closed("transport error", err)]
    assert s.transport_error(err) == []
    s = Session()
    s.begin("polling")
    assert s.transport_error(err) == [Closed("transport error", err)]
    assert not s.was_opened


# ---------------------------------------------------------------- malformed input


@pytest.mark.parametrize(
    "body",
    ["", "x", "4hello", "0", "0{", '0{"upgrades":[]}', "1:0"],
)
def test_bad_handshake_bodies(body):
    s = Session()
    s.begin("polling")
    with pytest.raises(ProtocolError):
        s.receive_payload(body, 0.0)


def test_bad_input_once_open():
    s = Session()
    open_polling(s, 4)
    with pytest.raises(ProtocolError):
        s.receive_payload("9", 1.0)
    with pytest.raises(ProtocolError):
        s.receive_payload("0" + open_json(), 1.0)
    s = Session(protocol=4, transports=["websocket"])
    open_websocket(s)
    with pytest.raises(ProtocolError):
        s.receive_frame(b"\x08", 1.0)
    # a payload is decoded whole before anything happens
    s = Session(protocol=4)
    open_polling(s, 3)
    with pytest.raises(ProtocolError):
        s.receive_payload("2:4a1:9", 1.0)
    assert s.next_events() == []


# A JSON document nested deeper than the stdlib decoder's recursion limit (found by fuzzing).
DEEP_JSON = "[" * 100_000


def test_deeply_nested_open_packet_is_a_protocol_error():
    for revision in (3, 4):
        with pytest.raises(ProtocolError):
            parse_open(DEEP_JSON, revision)
        with pytest.raises(ProtocolError):
            parse_open('{"sid":' + DEEP_JSON, revision)
    s = Session()
    s.begin("polling")
    with pytest.raises(ProtocolError):
        s.receive_payload("0" + DEEP_JSON, 0.0)
    s = Session(protocol=5, transports=["websocket"])
    s.begin("websocket")
    with pytest.raises(ProtocolError):
        s.receive_frame("0" + DEEP_JSON, 0.0)
    # websocket-only detection takes it for a refusal in disguise and asks again
    s = Session(transports=["websocket"])
    s.begin("websocket")
    events = s.receive_frame("0" + DEEP_JSON, 0.0)
    assert len(events) == 1 and isinstance(events[0], HandshakeRetry)
    assert isinstance(events[0].error, ProtocolError)


@pytest.mark.parametrize(
    "body, ctype", [('{"code":' + DEEP_JSON, None), (DEEP_JSON.encode(), "application/json")]
)
def test_deeply_nested_http_error_body(body, ctype):
    err = error_from_http(400, body, ctype)
    assert isinstance(err, ConnectionError)
    assert err.data["status"] == 400 and err.data["code"] is None
    s = Session(transports=["polling"])
    s.begin("polling")
    assert isinstance(s.handshake_refused(400, body, ctype), ConnectionError)


def test_message_before_open_on_websocket():
    s = Session(protocol=5, transports=["websocket"])
    s.begin("websocket")
    with pytest.raises(ProtocolError):
        s.receive_frame("4hello", 0.0)


def test_options_validated():
    with pytest.raises(ValueError):
        Session(protocol=3)
    with pytest.raises(ValueError):
        Session(transports=["flashsocket"])
    with pytest.raises(ValueError):
        Session(transports=[])
    s = Session(transports=["websocket"])
    with pytest.raises(ValueError):
        s.begin("polling")


# ---------------------------------------------------------------- websocket-only detection, the
# ways real servers refuse EIO=3 after accepting the WebSocket


def test_detection_retry_after_a_raw_400_in_the_stream():
    # engine.io 5/6 (socket.io 4.x) writes "HTTP/1.1 400 ..." after the 101: a WebSocket error
    s = Session(transports=["websocket"])
    s.begin("websocket")
    assert s.detecting
    s.transport_opened(0.0)
    err = OSError("invalid frame header")
    events = s.transport_error(err)
    assert events == [HandshakeRetry("connection error", err)]
    assert s.state == "opening" and not s.detecting
    assert s.query()["EIO"] == "4"
    s.transport_opened(0.1)
    assert s.next_deadline() is None
    s.receive_frame("0" + open_json(), 0.2)
    assert s.protocol == 5
    # once open, an error closes the session
    assert s.transport_error(err) == [Closed("transport error", err)]


def test_detection_retry_after_a_close():
    # python-engineio answers 101 and closes at once
    s = Session(transports=["websocket"])
    s.begin("websocket")
    s.transport_opened(0.0)
    assert s.transport_closed() == [HandshakeRetry("connection closed")]
    assert s.query()["EIO"] == "4"
    assert s.transport_closed() == [Closed("transport close")]


def test_detection_retry_after_silence():
    # engine.io 4.1 (socket.io 3.x) answers 101 and never sends the open packet
    s = Session(transports=["websocket"], detect_timeout=2.0)
    s.begin("websocket")
    assert s.next_deadline() is None
    s.transport_opened(10.0)
    assert s.next_deadline() == 12.0
    assert s.tick(11.9) == []
    assert s.tick(12.0) == [HandshakeRetry("no open packet")]
    assert s.next_deadline() is None
    assert s.query()["EIO"] == "4"


@pytest.mark.parametrize("frame", ["", "4hello", b"HTTP/1.1 400", "0{}"])
def test_detection_retry_after_an_odd_first_frame(frame):
    s = Session(transports=["websocket"])
    s.begin("websocket")
    s.transport_opened(0.0)
    events = s.receive_frame(frame, 0.1)
    assert len(events) == 1 and isinstance(events[0], HandshakeRetry)
    assert isinstance(events[0].error, ProtocolError)
    assert s.query()["EIO"] == "4"
    # on the EIO=4 connection bad input is an error again
    with pytest.raises(ProtocolError):
        s.receive_frame(frame or "x", 0.2)


def test_no_detection_when_the_protocol_is_fixed_or_polling():
    s = Session(protocol=4, transports=["websocket"])
    s.begin("websocket")
    assert not s.detecting
    s.transport_opened(0.0)
    assert s.next_deadline() is None
    err = OSError("refused")
    assert s.transport_error(err) == [Closed("transport error", err)]
    s = Session()
    s.begin("polling")
    assert not s.detecting


def test_record_separator_in_text_refused_on_revision_4_polling():
    """\x1e separates revision-4 polling packets: such a message is refused when queued,
    rather than breaking the payload later; websocket and revision 3 carry it."""
    s = Session(protocol=5, transports=["polling"])
    s.begin("polling")
    with pytest.raises(ValueError):
        s.send_message("4a\x1eb")
    s.send_message(b"\x1e")  # binary travels base64-encoded
    s = Session(protocol=4, transports=["polling"])
    s.begin("polling")
    s.send_message("4a\x1eb")
    s = Session(protocol=5, transports=["websocket"])
    s.begin("websocket")
    s.send_message("4a\x1eb")


# ---------------------------------------------------------------- the WebSocket fast paths

FRAMES = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12),
    st.text(max_size=12).map(lambda t: "4" + t),
    st.binary(max_size=8),
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(protocol=st.sampled_from([4, 5]), frame=FRAMES, now=st.floats(0.0, 1e6))
def test_message_of_is_receive_frame_for_messages(protocol, frame, now):
    """Session.message_of, the reader's shortcut, gives what receive_frame would report as a
    Message and moves the heartbeat deadline the same way; anything else it leaves alone."""
    fast = Session(protocol=protocol, transports=["websocket"])
    slow = Session(protocol=protocol, transports=["websocket"])
    for s in (fast, slow):
        open_websocket(s, now=0.0, interval=1000, timeout=1000)
        s.next_events()
    before = fast.next_deadline()
    data = fast.message_of(frame, now)
    if data is None:
        assert fast.next_deadline() == before
        assert fast.next_events() == []
        return
    assert slow.receive_frame(frame, now) == [Message(data)]
    assert fast.next_deadline() == slow.next_deadline()


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    protocol=st.sampled_from([4, 5]),
    frames=st.lists(FRAMES, max_size=8),
    start=st.integers(0, 8),
    now=st.floats(0.0, 1e6),
)
def test_messages_of_is_message_of_over_a_read(protocol, frames, start, now):
    """Session.messages_of, the reader's shortcut for a whole read, gives message_of's data
    for each frame of the run it begins with, stops at the first frame message_of leaves
    alone, and leaves the heartbeat deadline where message_of frame by frame would."""
    fast = Session(protocol=protocol, transports=["websocket"])
    slow = Session(protocol=protocol, transports=["websocket"])
    for s in (fast, slow):
        open_websocket(s, now=0.0, interval=1000, timeout=1000)
        s.next_events()
    run = fast.messages_of(frames, start, now)
    expected = []
    for frame in frames[start:]:
        data = slow.message_of(frame, now)
        if data is None:
            break
        expected.append(data)
    assert run == expected
    assert fast.next_deadline() == slow.next_deadline()
    assert fast.next_events() == []


def test_messages_of_only_on_an_open_websocket():
    s = Session(protocol=5, transports=["websocket"])
    s.begin("websocket")
    assert s.messages_of(["4x"], 0, 0.0) == []  # not open yet
    s = Session(protocol=5, transports=["polling"])
    open_polling(s, 4)
    assert s.messages_of(["4x"], 0, 0.0) == []
    s = Session(protocol=5, transports=["websocket"])
    open_websocket(s)
    assert s.messages_of(["4x", "4y", "2", "4z"], 0, 0.0) == ["x", "y"]
    assert s.messages_of(["4x", "4y", "2", "4z"], 3, 0.0) == ["z"]
    s.close()
    assert s.messages_of(["4x"], 0, 0.0) == []


def test_message_of_only_on_an_open_websocket():
    s = Session(protocol=5, transports=["websocket"])
    s.begin("websocket")
    assert s.message_of("4x", 0.0) is None  # not open yet
    s = Session(protocol=5, transports=["polling"])
    open_polling(s, 4)
    assert s.message_of("4x", 0.0) is None
    s = Session(protocol=5, transports=["websocket"])
    open_websocket(s)
    s.close()
    assert s.message_of("4x", 0.0) is None


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(protocol=st.sampled_from([4, 5]), data=FRAMES)
def test_frame_now_is_the_queued_frame(protocol, data):
    """Session.frame_now, the sender's shortcut, gives the frame that send_message then
    take_frames would, queueing nothing; binary messages take the queue."""
    fast = Session(protocol=protocol, transports=["websocket"])
    slow = Session(protocol=protocol, transports=["websocket"])
    for s in (fast, slow):
        open_websocket(s)
    frame = fast.frame_now(data)
    assert not fast.wants_write and fast.queued_size == 0
    slow.send_message(data)
    if frame is None:
        assert not isinstance(data, str)
        return
    assert slow.take_frames(0.0) == [frame]


def test_frame_now_keeps_the_order_of_the_queue():
    s = Session(protocol=5, transports=["websocket"])
    s.begin("websocket")
    assert s.frame_now("42[]") is None  # not open: the message waits in the queue
    open_websocket(s)
    s.receive_frame("2", 0.0)  # a pong is queued
    assert s.frame_now("42[]") is None
    s.take_frames(0.0)
    assert s.frame_now("42[]") == "442[]"
    s = Session(protocol=5, transports=["polling"])
    open_polling(s, 4)
    assert s.frame_now("42[]") is None
