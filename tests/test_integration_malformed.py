"""A server that breaks the protocol: the client reports ProtocolError with the offending bytes,
closes that connection, and neither crashes the hub nor hangs.

The server is a small WSGI app on gevent's pywsgi in this process: it completes a real
revision-5 polling handshake, then answers the next poll with the malformed payload under test.
"""

from __future__ import annotations

import json

import gevent
import pytest
from gevent import pywsgi
from gevent.event import AsyncResult, Event
from integration_util import WAIT

import sioclient

OPEN = "0" + json.dumps(
    {"sid": "s1", "upgrades": [], "pingInterval": 25000, "pingTimeout": 20000, "maxPayload": 10000}
)

CASES = {
    # Engine.IO level: decoded by the session
    "unknown engine.io type": b"9hello",
    "binary garbage": b"\xff\xfe\xfd",
    # Socket.IO level: decoded by the parser
    "truncated json": b'42["event", {"a": 1',
    "event without a name": b"42[]",
    "huge ack id": b"42" + b"9" * 400 + b'["x"]',
    "attachment count bomb": b'45999999999-["x",{"_placeholder":true,"num":0}]',
    "placeholder out of range": b'451-["x",{"_placeholder":true,"num":-1}]\x1ebAAAA',
    "deep nesting": b'42["x",' + b"[" * 100_000 + b"]" * 100_000 + b"]",
}


class EvilServer:
    def __init__(self, payload: bytes) -> None:
        self.payload = payload
        self.polls = 0
        self.release = Event()
        self.server = pywsgi.WSGIServer(("127.0.0.1", 0), self.app, log=None, error_log=None)
        self.server.start()
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def app(self, environ, start_response):
        query = environ.get("QUERY_STRING", "")
        if environ["REQUEST_METHOD"] == "POST":
            environ["wsgi.input"].read()
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"ok"]
        start_response("200 OK", [("Content-Type", "text/plain; charset=UTF-8")])
        if "sid=" not in query:
            return [OPEN.encode()]
        self.polls += 1
        if self.polls == 1:
            return [b'40{"sid":"n1"}' if self.payload.startswith(b"4") else b"6"]
        if self.polls == 2:
            return [self.payload]
        self.release.wait(WAIT)  # a long poll that never brings anything
        return [b"6"]

    def stop(self) -> None:
        self.release.set()
        self.server.stop(timeout=1)


@pytest.mark.parametrize("case", list(CASES))
def test_malformed_input_is_reported_not_fatal(case: str) -> None:
    payload = CASES[case]
    server = EvilServer(payload)
    ticks = []
    ticker = gevent.spawn(lambda: [ticks.append(gevent.sleep(0.01)) for _ in range(10_000)])
    sock = sioclient.io(
        server.url, force_new=True, transports=["polling"], reconnection=False, timeout=WAIT
    )
    errors: AsyncResult = AsyncResult()
    closed: AsyncResult = AsyncResult()
    sock.io.on("error", lambda err: errors.set(err) if not errors.ready() else None)
    sock.io.on("close", lambda reason, *rest: closed.set(reason) if not closed.ready() else None)
    try:
        reason = closed.get(timeout=WAIT)
        assert reason in ("parse error", "transport error")
        err = errors.get(timeout=WAIT)
        assert isinstance(err, sioclient.ProtocolError), repr(err)
        assert err.data, "the offending input is carried"
        assert len(err.data) <= 200, "and truncated"
        # the hub kept running: the ticker greenlet advanced meanwhile and still does
        before = len(ticks)
        gevent.sleep(0.05)
        assert len(ticks) > before
        assert not sock.connected
    finally:
        ticker.kill()
        sock.close()
        server.stop()
