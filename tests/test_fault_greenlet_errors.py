"""No greenlet dies silently: every failure of the engine, transport, prober and reconnection
greenlets reaches the user promptly, as an event carrying its real cause.

Most bad options are a ValueError when they are set (tests/test_options.py has the rules);
here the same faults are driven past that check, into the greenlets that would meet them, to
prove that what they raise is reported and never lost with the greenlet: straight into an
``Engine`` (whose options dict is the Manager's, unchecked), by editing the live options of a
connected Manager, and from a ``reconnect_attempt`` handler.  Each case runs on Node socket.io
2.x and 4.x servers, over the transports it can apply to.
"""

from __future__ import annotations

import ssl
from typing import Any, Iterator

import pytest
from gevent.event import AsyncResult
from integration_util import (  # noqa: F401 - clients_fixture: the `clients` fixture
    WAIT,
    Clients,
    clients_fixture,
    collect,
    expect,
)

import sioclient
from sioclient.engine import Engine
from sioclient.options import normalize

pytestmark = pytest.mark.node

#: "promptly": far below the 20 s connect timeout a lost greenlet used to turn into
PROMPT = 5.0

KINDS = ["node2", "node4"]


@pytest.fixture(scope="module", params=KINDS)
def server(request: pytest.FixtureRequest) -> Iterator[Any]:
    from servers import ServerProcess

    request.getfixturevalue("node_peers")
    srv = ServerProcess(request.param, pingInterval=500, pingTimeout=500).start()
    try:
        yield srv
    finally:
        srv.close()


class Listener:
    """What an Engine reports, as AsyncResults (the Manager's side of the Engine)."""

    def __init__(self) -> None:
        self.opened: AsyncResult = AsyncResult()
        self.error: AsyncResult = AsyncResult()
        self.closed: AsyncResult = AsyncResult()

    def on_engine_open(self, engine: Engine) -> None:
        self.opened.set(engine)

    def on_engine_message(self, data: Any) -> None:
        pass

    def on_engine_close(self, reason: str, error: BaseException | None = None) -> None:
        if not self.closed.ready():
            self.closed.set((reason, error))

    def on_engine_error(self, error: BaseException) -> None:
        if not self.error.ready():
            self.error.set(error)

    def on_engine_ping(self) -> None:
        pass

    def on_engine_pong(self, latency_ms: float) -> None:
        pass


def _engine(url: str, **edits: Any) -> tuple[Engine, Listener]:
    """An Engine whose (already normalised) options were edited afterwards, unchecked."""
    opts = normalize(None, {"timeout": 20.0})
    for name, value in edits.items():
        opts[name] = value
    listener = Listener()
    engine = Engine(url, opts, listener)
    return engine, listener


def _caused_by(error: BaseException, kind: type | tuple[type, ...]) -> bool:
    seen = error
    while seen is not None:
        if isinstance(seen, kind):
            return True
        seen = seen.__cause__  # type: ignore[assignment]
    return False


# ---- the engine's greenlets, each meeting a fault it used to die of ----------------------


@pytest.mark.parametrize("transports", [["polling"], ["websocket"]])
@pytest.mark.parametrize("where", ["extra_headers", "transport_options"])
def test_header_value_http_forbids_fails_the_opening(server, transports, where) -> None:
    """_run_polling / _run_ws: h11 refuses to write the request; the engine reports it."""
    bad = {"x-token": "abc\n"}
    if where == "extra_headers":
        edits: dict[str, Any] = {"extra_headers": bad}
    else:
        edits = {"transport_options": {transports[0]: {"extra_headers": bad}}}
    engine, listener = _engine(server.url, transports=transports, **edits)
    engine.open()
    error = listener.error.get(timeout=PROMPT)
    assert isinstance(error, sioclient.ConnectionError)
    assert _caused_by(error, ValueError)
    assert "abc" not in str(error)  # the value is never quoted
    assert not listener.opened.ready()


@pytest.mark.parametrize("transports", [["polling"], ["websocket"]])
def test_path_http_forbids_fails_the_opening(server, transports) -> None:
    """_run_polling / _run_ws: a request target h11 refuses (a space in the path)."""
    engine, listener = _engine(server.url, transports=transports, path="/socket io")
    engine.open()
    error = listener.error.get(timeout=PROMPT)
    assert isinstance(error, sioclient.ConnectionError) and _caused_by(error, ValueError)


def test_bad_per_message_deflate_fails_the_opening(server) -> None:
    """_run_ws: the WebSocket's codec refuses the settings."""
    engine, listener = _engine(
        server.url, transports=["websocket"], per_message_deflate={"treshold": 1}
    )
    engine.open()
    error = listener.error.get(timeout=PROMPT)
    assert _caused_by(error, ValueError) and "treshold" in str(error)


@pytest.mark.parametrize("transports", [["polling"], ["websocket"]])
@pytest.mark.parametrize("option", ["verify", "cert"])
def test_missing_tls_file_fails_the_opening(server, transports, option, tmp_path) -> None:
    """_ssl() inside the connecting greenlet: a CA bundle or a certificate that is not there."""
    url = server.url.replace("http://", "https://")
    missing = str(tmp_path / "nothing-here.pem")
    engine, listener = _engine(url, transports=transports, **{option: missing})
    engine.open()
    error = listener.error.get(timeout=PROMPT)
    assert isinstance(error, sioclient.ConnectionError)
    assert _caused_by(error, (ValueError, OSError))


@pytest.mark.parametrize("transports", [["polling"], ["websocket"]])
def test_caller_context_with_a_cert_fails_the_opening(server, transports, tls_files) -> None:
    url = server.url.replace("http://", "https://")
    engine, listener = _engine(
        url, transports=transports, verify=ssl.create_default_context(), cert=tls_files.cert
    )
    engine.open()
    error = listener.error.get(timeout=PROMPT)
    assert _caused_by(error, ValueError) and "SSLContext" in str(error)


def test_probe_failure_that_is_no_network_failure_is_reported(server) -> None:
    """_probe: a fault of the upgrade's WebSocket request fails the connection, reported."""
    engine, listener = _engine(
        server.url,
        transports=["polling", "websocket"],
        transport_options={"websocket": {"extra_headers": {"x-token": "abc\n"}}},
    )
    engine.open()
    listener.opened.get(timeout=PROMPT)
    reason, error = listener.closed.get(timeout=PROMPT)
    assert reason == "transport error" and isinstance(error, ValueError)
    assert "abc" not in str(error)
    engine.close()


def test_post_failure_is_reported(server) -> None:
    """_post_loop: a header edited in place after the opening breaks the next POST."""
    headers = {"x-token": "fine"}
    engine, listener = _engine(server.url, transports=["polling"], extra_headers=headers)
    engine.open()
    listener.opened.get(timeout=PROMPT)
    headers["x-token"] = "abc\n"
    engine.send(["4hello"])
    reason, error = listener.closed.get(timeout=PROMPT)
    assert reason == "transport error" and isinstance(error, ValueError)
    engine.close()


# ---- the same faults through the Manager: events, and reconnection that goes on ------------


@pytest.mark.parametrize("mode", ["polling", "websocket"])
def test_construction_refuses_what_a_greenlet_would_fail_on(mode, tmp_path, tls_files) -> None:
    """Validated where set: the faults above are a ValueError from io() itself."""
    cases: list[dict[str, Any]] = [
        {"extra_headers": {"x-token": "abc\n"}},
        {"transport_options": {mode: {"extra_headers": {"x-token": "abc\n"}}}},
        {"verify": str(tmp_path / "no-ca.pem")},
        {"cert": str(tmp_path / "no-cert.pem")},
        {"per_message_deflate": {"treshold": 1}},
        {"verify": ssl.create_default_context(), "cert": tls_files.client_cert},
        {"path": "/socket io"},
    ]
    for kwargs in cases:
        with pytest.raises(ValueError):
            sioclient.io("http://127.0.0.1:9", force_new=True, transports=[mode], **kwargs)
    with pytest.raises(ValueError):
        sioclient.io("http://127.0.0.1:9", {"extraHeaders": {"x-token": "abc\n"}}, force_new=True)


@pytest.mark.parametrize("mode", ["polling", "websocket"])
def test_ca_with_cert_and_key_connects(sio_server, tls_files, mode, clients: Clients) -> None:
    """Node's mutual TLS options, `ca` (PEM text) with `cert` and `key`, connect."""
    for kind in KINDS:
        server = sio_server(kind, **tls_files.server_config(client_auth=True))
        sock = clients.connect(
            server.url,
            {
                "ca": tls_files.ca.cert_pem.bytes(),
                "cert": tls_files.client_cert,
                "key": tls_files.client_key,
                "transports": [mode],
            },
        )
        assert sock.call("ack", "tls", timeout=WAIT) == "tls"


@pytest.mark.parametrize("mode", ["polling", "websocket"])
@pytest.mark.parametrize(
    "option, bad",
    [
        ("transports", ["carrier-pigeon"]),
        ("transports", []),
        ("query", 42),
        ("extra_headers", {"x-token": "abc\n"}),
    ],
)
def test_reconnect_attempt_handler_sets_a_bad_option(
    server, mode, option, bad, clients: Clients
) -> None:
    """reconnect_error with the ValueError, then the next attempt; never a stop for good."""
    sock = clients.connect(server.url, transports=[mode], reconnection_delay=0.05)
    manager = sock.io
    good = manager.opts[option]
    attempts = collect(manager, "reconnect_attempt")
    errors = collect(manager, "reconnect_error")
    reconnected = expect(manager, "reconnect")

    def breaks_then_fixes(*_: Any) -> None:
        manager.opts[option] = bad if len(attempts) < 3 else good

    manager.on("reconnect_attempt", breaks_then_fixes)  # runs after `attempts` counted
    sock.emit("close-engine")
    reconnected.get(timeout=WAIT)
    assert len(errors) == 2
    for (error,) in errors.calls:
        assert isinstance(error, ValueError) and option in str(error)
        assert "abc" not in str(error)
    assert len(attempts) == 3
    assert sock.call("ack", "back", timeout=WAIT) == "back"
    assert manager.opts[option] == good


def test_header_edited_in_place_while_connected(server, clients: Clients) -> None:
    """A POST meets it: `error` with the ValueError, then reconnection, whose attempts are
    refused (reconnect_error) until a handler puts a valid value back."""
    sock = clients.connect(server.url, transports=["polling"], reconnection_delay=0.05)
    manager = sock.io
    manager.opts["extra_headers"]["x-token"] = "abc\n"  # in place: no check sees it
    error = expect(manager, "error")
    refused = expect(manager, "reconnect_error")
    reconnected = expect(manager, "reconnect")

    attempts = collect(manager, "reconnect_attempt")

    def fixes(*_: Any) -> None:
        if len(attempts) >= 2:
            manager.opts["extra_headers"] = {"x-token": "fine"}

    manager.on("reconnect_attempt", fixes)
    sock.emit("echo", 1)
    (err,) = error.get(timeout=PROMPT)
    assert isinstance(err, ValueError) and "abc" not in str(err)
    (err,) = refused.get(timeout=WAIT)
    assert isinstance(err, ValueError)
    reconnected.get(timeout=WAIT)
    assert sock.call("ack", 2, timeout=WAIT) == 2


@pytest.mark.parametrize("mode", ["polling", "websocket"])
def test_open_with_options_broken_before_open(server, mode, clients: Clients) -> None:
    """auto_connect=False, options edited, then open(): connect_error at once, not a timeout."""
    sock = clients.io(server.url, transports=[mode], auto_connect=False, reconnection=False)
    sock.io.opts["transports"] = "nothing"
    failed = expect(sock, "connect_error")
    sock.open()
    (err,) = failed.get(timeout=PROMPT)
    assert isinstance(err, ValueError) and "transports" in str(err)


@pytest.mark.parametrize("mode", ["polling", "websocket"])
def test_bad_backoff_option_never_stops_reconnection(server, mode, clients: Clients) -> None:
    """The reconnection loop reads its delays from the live options: a bad one is a
    reconnect_error, the last good delay is used, and reconnection goes on."""
    sock = clients.connect(server.url, transports=[mode], reconnection_delay=0.05)
    manager = sock.io
    errors = collect(manager, "reconnect_error")
    reconnected = expect(manager, "reconnect")
    manager.opts["reconnection_delay"] = "soon"

    def fixes(*_: Any) -> None:
        manager.opts["reconnection_delay"] = 0.05

    manager.on("reconnect_attempt", fixes)
    sock.emit("close-engine")
    reconnected.get(timeout=WAIT)
    assert errors.calls and isinstance(errors.calls[0][0], ValueError)
    assert "reconnection_delay" in str(errors.calls[0][0])
