"""Secrets stay secret: the values of the query (in the URL and as an option), ``auth``, the
extra headers and the cookies never appear in an exception, an event argument, a ``sioclient*``
log record (DEBUG included) or anything printed to stderr, whatever fails.

Each scenario connects with a distinctive secret in every place a client carries one, drives a
failure against a real server (refused, timed out, HTTP errors, refused handshakes, namespace
refusal, TLS, malformed packets, a server that echoes the request), waits until the client has
given up (``reconnect_failed``), and searches everything it reported.
"""

from __future__ import annotations

import json
import logging
import traceback
import weakref
from typing import Any, Iterator
from urllib.parse import quote

import pytest
from fault_util import (  # noqa: F401 - proxied_fixture: the `proxied` fixture
    DETECT,
    KIND_PARAMS,
    TRANSPORT_PARAMS,
    proxied_fixture,
)
from gevent import pywsgi
from integration_util import (  # noqa: F401 - clients_fixture: the `clients` fixture
    WAIT,
    Clients,
    clients_fixture,
    collect,
    expect,
)

import sioclient

SECRETS = {
    "url query": "urlq-7Hf3kZp",
    "query option": "optq-9Lw2xQe",
    "auth": "auth-4Tg8mRv",
    "header": "hdr-2Kd6nYs",
    "cookie": "cookie-5Pb1jWc",
}

KINDS = [
    pytest.param("node2", marks=pytest.mark.node),
    pytest.param("node4", marks=pytest.mark.node),
]
MODES = ["polling", "websocket"]
EVENTS = (
    "connect_error",
    "error",
    "reconnect_error",
    "reconnect_failed",
    "connect_timeout",
    "disconnect",
    "close",
)


class Record(logging.Handler):
    """Every sioclient* log record, formatted with its traceback."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.texts: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.texts.append(self.format(record))


def _describe(value: Any) -> str:
    """Everything an event argument can show: str, repr, data, the traceback with causes."""
    if isinstance(value, BaseException):
        parts = [str(value), repr(value), repr(getattr(value, "data", None))]
        parts.extend(traceback.format_exception(type(value), value, value.__traceback__))
        return "\n".join(parts)
    return repr(value)


class Watch:
    """The events of a manager and its sockets, and the log records.  (An exception that
    reaches the hub fails the test by itself: see conftest.py; what gevent prints of it goes to
    stderr, which the tests search too.)"""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.log = Record()

    def listen(self, emitter: Any) -> None:
        for event in EVENTS:
            emitter.on(event, self._recorder(event))

    def _recorder(self, event: str) -> Any:
        def record(*args: Any) -> None:
            self.texts.append(f"{event}: " + " | ".join(_describe(a) for a in args))

        return record

    def everything(self, printed: str) -> str:
        return "\n".join([*self.texts, *self.log.texts, printed])


@pytest.fixture
def watch() -> Iterator[Watch]:
    w = Watch()
    logger = logging.getLogger("sioclient")
    level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(w.log)
    try:
        yield w
    finally:
        logger.removeHandler(w.log)
        logger.setLevel(level)


def _client(
    clients: Clients, watch: Watch, url: str, nsp: str = "/", **kwargs: Any
) -> sioclient.Socket:
    """A socket carrying every secret, reconnecting once, listened to everywhere."""
    kwargs.setdefault("timeout", 5.0)
    options = {
        "query": {"key": SECRETS["query option"]},
        "auth": {"token": SECRETS["auth"]},
        "extra_headers": {"x-api-key": SECRETS["header"]},
        "reconnection_attempts": 1,
        "reconnection_delay": 0.05,
        "reconnection_delay_max": 0.05,
        "auto_connect": False,
        **kwargs,
    }
    sock = clients.io(f"{url}{nsp}?token={SECRETS['url query']}", **options)
    sock.io.cookies.set("session", SECRETS["cookie"])
    watch.listen(sock.io)
    watch.listen(sock)
    # listened for from the start: the one reconnection attempt may fail before the test
    # gets to wait for it
    _GIVEN_UP[sock] = expect(sock.io, "reconnect_failed")
    return sock


def _assert_nothing_leaked(watch: Watch, capfd: pytest.CaptureFixture[str]) -> None:
    out, err = capfd.readouterr()
    text = watch.everything(out + err)
    assert watch.texts, "the failure was not reported"
    for where, secret in SECRETS.items():
        for form in {secret, quote(secret)}:
            assert form not in text, f"the {where} secret leaked:\n{text}"


_GIVEN_UP: weakref.WeakKeyDictionary[sioclient.Socket, Any] = weakref.WeakKeyDictionary()


def _until_given_up(sock: sioclient.Socket) -> None:
    _GIVEN_UP[sock].get(timeout=WAIT * 2)


# ---- failures against real servers ------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_refused_connection(refused_port, mode, watch, capfd, clients: Clients) -> None:
    sock = _client(clients, watch, f"http://127.0.0.1:{refused_port}", transports=[mode])
    failed = expect(sock, "connect_error")
    sock.open()
    failed.get(timeout=WAIT)
    _until_given_up(sock)
    _assert_nothing_leaked(watch, capfd)


@pytest.mark.parametrize("mode", MODES)
def test_connect_timeout(silent_server, mode, watch, capfd, clients: Clients) -> None:
    sock = _client(clients, watch, silent_server.url, transports=[mode], timeout=0.3)
    sock.open()
    _until_given_up(sock)
    _assert_nothing_leaked(watch, capfd)


@pytest.mark.parametrize("kind", KINDS)
def test_request_timeout_on_a_wrong_path(sio_server, kind, watch, capfd, clients) -> None:
    """Node never answers a path it does not serve: the GET times out, named by its path."""
    server = sio_server(kind)
    sock = _client(
        clients, watch, server.url, transports=["polling"], path="/nope", request_timeout=0.3
    )
    failed = expect(sock, "connect_error")
    sock.open()
    (err,) = failed.get(timeout=WAIT)
    assert isinstance(err, sioclient.TimeoutError) and "/nope/" in str(err)
    _until_given_up(sock)
    _assert_nothing_leaked(watch, capfd)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("mode", MODES)
def test_http_error_from_the_server(sio_server, kind, mode, watch, capfd, clients) -> None:
    """An unknown session id: HTTP 400 "Session ID unknown" to the handshake."""
    server = sio_server(kind)
    sock = _client(
        clients,
        watch,
        server.url,
        transports=[mode],
        query={"key": SECRETS["query option"], "sid": "no-such-session"},
    )
    failed = expect(sock, "connect_error")
    sock.open()
    (err,) = failed.get(timeout=WAIT)
    assert isinstance(err, sioclient.ConnectionError)
    _until_given_up(sock)
    _assert_nothing_leaked(watch, capfd)


@pytest.mark.parametrize("mode", MODES)
def test_handshake_refused_for_its_protocol(sio_server, mode, watch, capfd, clients) -> None:
    """socket.io 4 refuses EIO=3 (400, "Unsupported protocol version")."""
    server = sio_server("node4")
    sock = _client(clients, watch, server.url, transports=[mode], protocol=4)
    failed = expect(sock, "connect_error")
    sock.open()
    (err,) = failed.get(timeout=WAIT)
    assert isinstance(err, sioclient.ConnectionError)
    _until_given_up(sock)
    _assert_nothing_leaked(watch, capfd)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("mode", MODES)
def test_namespace_refused_by_middleware(sio_server, kind, mode, watch, capfd, clients) -> None:
    """The guarded namespace refuses our (wrong) credentials; the connection stays up."""
    server = sio_server(kind)
    sock = _client(clients, watch, server.url, "/private", transports=[mode])
    failed = expect(sock, "connect_error")
    sock.open()
    (err,) = failed.get(timeout=WAIT)
    assert "not authorized" in str(err)
    _assert_nothing_leaked(watch, capfd)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("mode", MODES)
def test_tls_verification_fails(sio_server, tls_files, kind, mode, watch, capfd, clients) -> None:
    server = sio_server(kind, **tls_files.server_config())
    sock = _client(clients, watch, server.url, transports=[mode], verify=True)
    failed = expect(sock, "connect_error")
    sock.open()
    (err,) = failed.get(timeout=WAIT)
    assert "certificate" in str(err).lower()
    _until_given_up(sock)
    _assert_nothing_leaked(watch, capfd)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("mode", MODES)
def test_server_closes_while_packets_are_buffered(sio_server, kind, mode, watch, capfd, clients):
    """Emits buffered while the server is gone, secrets in their data, then given up."""
    server = sio_server(kind)
    sock = _client(clients, watch, server.url, transports=[mode])
    connected = expect(sock, "connect")
    sock.open()
    connected.get(timeout=WAIT)
    gone = expect(sock, "disconnect")
    server.stop()
    gone.get(timeout=WAIT)
    sock.emit("payload", {"token": SECRETS["auth"]}, SECRETS["header"])
    _until_given_up(sock)
    _assert_nothing_leaked(watch, capfd)


# ---- a server that echoes the request into its errors -------------------------------------

OPEN = "0" + json.dumps(
    {"sid": "s1", "upgrades": [], "pingInterval": 25000, "pingTimeout": 20000, "maxPayload": 10000}
)


class EchoingServer:
    """A revision-5 polling server that quotes the request's query string back: in an HTTP
    error body (``refuse``), or in a malformed packet after the handshake (``malformed``)."""

    def __init__(self, behaviour: str) -> None:
        self.behaviour = behaviour
        self.server = pywsgi.WSGIServer(("127.0.0.1", 0), self.app, log=None, error_log=None)
        self.server.start()
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def app(self, environ: dict, start_response: Any) -> list[bytes]:
        query = environ.get("QUERY_STRING", "")
        method = environ["REQUEST_METHOD"]
        if self.behaviour == "refuse":
            body = f"Bad request for {environ.get('PATH_INFO')}?{query} from {environ}".encode()
            start_response("400 Bad Request", [("Content-Type", "text/plain")])
            return [body]
        if method == "POST":
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"ok"]
        if "sid=" not in query:
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [OPEN.encode()]
        # a truncated event that quotes the request: the parser refuses it
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [f'42["echo", "{query}", {{"headers": "{environ}"'.encode()]

    def close(self) -> None:
        self.server.stop(timeout=1)


@pytest.fixture
def echoing() -> Iterator[Any]:
    started: list[EchoingServer] = []

    def factory(behaviour: str) -> EchoingServer:
        server = EchoingServer(behaviour)
        started.append(server)
        return server

    yield factory
    for server in started:
        server.close()


def test_error_body_that_echoes_the_request(echoing, watch, capfd, clients) -> None:
    server = echoing("refuse")
    sock = _client(clients, watch, server.url, transports=["polling"], protocol=5)
    failed = expect(sock, "connect_error")
    sock.open()
    (err,) = failed.get(timeout=WAIT)
    assert "400" in str(err) and "***" in str(err)  # what the server said, secrets masked
    _until_given_up(sock)
    _assert_nothing_leaked(watch, capfd)


def test_malformed_packet_that_echoes_the_request(echoing, watch, capfd, clients) -> None:
    server = echoing("malformed")
    sock = _client(clients, watch, server.url, transports=["polling"], protocol=5)
    errors = collect(sock.io, "error")
    sock.open()
    # each reconnection opens, then meets the packet again: two rounds, then stop
    (err,), _ = errors.wait(2)[:2]
    assert isinstance(err, sioclient.ProtocolError)
    sock.io.close()
    _assert_nothing_leaked(watch, capfd)


# ---- the pieces -----------------------------------------------------------------------------


def test_packets_are_logged_without_their_data() -> None:
    from sioclient.core.packet import EVENT, Packet
    from sioclient.redact import summary

    text = summary(Packet(EVENT, "/admin", ["login", {"password": SECRETS["auth"]}], 7))
    assert text == "EVENT packet of namespace '/admin', ack id 7"


def test_scrub_masks_every_form_and_keeps_short_values() -> None:
    from sioclient.redact import Secrets

    secrets = Secrets.of(
        {"query": {"a": "x y&z=1", "n": "7"}, "extra_headers": {"Cookie": "s=abcdef; t=ghijkl"}}
    )
    assert secrets.scrub("q=x%20y%26z%3D1 and x+y%26z%3D1 and x y&z=1") == "q=*** and *** and ***"
    assert secrets.scrub("cookie abcdef, ghijkl") == "cookie ***, ***"
    assert secrets.scrub("7 items") == "7 items"  # too short to tell from the words around
    err = sioclient.ConnectionError("refused: x y&z=1", {"message": "x y&z=1"})
    err.__cause__ = ValueError("abcdef")
    secrets.scrub_error(err)
    assert str(err) == "refused: ***" and err.data == {"message": "***"}
    assert str(err.__cause__) == "***"


def test_option_errors_never_quote_a_secret() -> None:
    secret = SECRETS["query option"]
    cases = [
        lambda: sioclient.io(f"http://?token={secret}", force_new=True),
        lambda: sioclient.io("http://127.0.0.1:9", query=["token", secret], force_new=True),
        lambda: sioclient.io(
            "http://127.0.0.1:9", extra_headers={"x-api-key": secret + "\n"}, force_new=True
        ),
        lambda: sioclient.io(
            "http://127.0.0.1:9",
            {"transportOptions": {"websocket": {"extraHeaders": {"x-k": "\x00" + secret}}}},
            force_new=True,
        ),
    ]
    for make in cases:
        with pytest.raises(ValueError) as info:
            make()
        assert secret not in _describe(info.value)


def test_http_errors_name_the_path_not_the_query(silent_server) -> None:
    from sioclient.transports.http import HTTPClient

    client = HTTPClient(silent_server.url)
    try:
        with pytest.raises(sioclient.TimeoutError) as info:
            client.request("GET", f"/socket.io/?token={SECRETS['url query']}", timeout=0.2)
        assert "/socket.io/" in str(info.value)
        assert SECRETS["url query"] not in _describe(info.value)
        with pytest.raises(ValueError) as bad:
            client.request("GET", "/", {"x-api-key": SECRETS["header"] + "\r\n"})
        assert SECRETS["header"] not in _describe(bad.value)
    finally:
        client.close()


# ---- network faults (the fault-injecting proxy) ------------------------------------------


@pytest.mark.parametrize("fault", ["blackhole", "reset"])
@pytest.mark.parametrize("transports", TRANSPORT_PARAMS)
@pytest.mark.parametrize("kind", KIND_PARAMS)
def test_network_fault(proxied, kind, transports, fault, watch, capfd, clients) -> None:
    """A blackhole (ping timeout, then attempts that time out) or a reset of every
    connection, then given up."""
    setup = proxied(kind, transports)
    sock = _client(clients, watch, setup.proxy.url, transports=transports, timeout=1.0)
    connected = expect(sock, "connect")
    sock.open()
    connected.get(timeout=WAIT)
    gone = expect(sock, "disconnect")
    if fault == "blackhole":
        setup.proxy.blackhole()
    else:
        setup.proxy.reset()  # resets the open connections, and every new one
    gone.get(timeout=DETECT)
    _until_given_up(sock)
    _assert_nothing_leaked(watch, capfd)


@pytest.mark.parametrize("kind", KINDS)
def test_buffered_packet_that_cannot_be_sent(sio_server, kind, watch, capfd, clients) -> None:
    """A buffered emit whose data cannot be encoded is logged by type and namespace only
    (or refused by emit() itself, which is as good)."""
    server = sio_server(kind)
    sock = _client(clients, watch, server.url)
    try:
        sock.emit("payload", {"token": SECRETS["auth"]}, object())
    except (TypeError, ValueError) as exc:
        watch.texts.append(_describe(exc))
    connected = expect(sock, "connect")
    sock.open()
    connected.get(timeout=WAIT)
    assert sock.call("ack", "after", timeout=WAIT) == "after"
    watch.texts.extend(watch.log.texts)  # reported in the log, not by an event
    _assert_nothing_leaked(watch, capfd)


def test_proxy_credentials_and_passphrase_are_secrets(monkeypatch) -> None:
    """The proxy's user name, password and Basic token, and the key's passphrase, are
    scrubbed from reports, whether the proxy comes from the option or the environment."""
    import base64

    from sioclient.redact import Secrets

    secrets = Secrets.of(
        {"proxy": "http://proxy-user:pr%40xy-pw@127.0.0.1:3128", "passphrase": "k3y-phrase"}
    )
    token = base64.b64encode(b"proxy-user:pr@xy-pw").decode()
    text = secrets.scrub(f"proxy-user pr@xy-pw {token} k3y-phrase")
    assert "proxy-user" not in text and "pr@xy-pw" not in text and token not in text
    assert "k3y-phrase" not in text
    monkeypatch.setenv("HTTPS_PROXY", "http://env-user:env-s3cret@127.0.0.1:3128")
    assert "env-s3cret" not in Secrets.of({"proxy": None}).scrub("env-s3cret")
    assert Secrets.of({"proxy": False}).scrub("env-s3cret") == "env-s3cret"
