"""URLs, the manager cache, headers, query, path, cookies and IPv6 against real servers.

Ports of socket.io-client's ``test/url.js`` and of the multiplexing cases of
``test/connection.js``; each names its origin.
"""

from __future__ import annotations

import socket
from typing import Any

import pytest
from integration_util import (
    MODES,
    WAIT,
    Clients,
    clients_fixture,  # noqa: F401 - the `clients` fixture
    expect,
)
from servers import ServerProcess

import sioclient
from sioclient.transports.cookies import CookieJar
from sioclient.url import encode_query, parse_url


def test_url_parsing() -> None:
    """url.js: relative paths, no protocol, default ports in ids, the namespace."""
    rel = parse_url("/test")
    assert rel.host == "localhost" and rel.path == "/test" and rel.scheme == "http"
    bare = parse_url("localhost:3000")
    assert (bare.scheme, bare.host, bare.port) == ("http", "localhost", 3000)
    assert parse_url("http://google.com:80/").id == parse_url("http://google.com/").id
    assert parse_url("http://google.com/").id != parse_url("https://google.com/").id
    assert parse_url("http://google.com").path == "/"
    assert parse_url("http://google.com/").path == "/"
    assert parse_url("ws://h/x").scheme == "http" and parse_url("wss://h/x").port == 443
    six = parse_url("http://[::1]:8080/nsp?a=b")
    assert (six.host, six.port, six.path, six.query) == ("::1", 8080, "/nsp", {"a": "b"})
    assert six.href == "http://[::1]:8080"


def test_multiplexing(any_server: ServerProcess, clients: Clients) -> None:
    """connection.js: two connections with the same path (and with different query strings);
    other namespaces share the cached manager unless force_new / multiplex=False."""
    url = any_server.url
    s1 = clients.io(url + "/", force_new=False)
    s2 = clients.io(url + "/", force_new=False)
    s3 = clients.io(url + "/?woot", force_new=False)
    admin = clients.io(url + "/admin", force_new=False)
    assert s1.io is not s2.io and s3.io is not s1.io and s3.io is not s2.io
    assert admin.io is s1.io
    assert clients.io(url + "/custom", force_new=True).io is not s1.io
    assert clients.io(url + "/dynamic-m", multiplex=False).io is not s1.io
    for s in (s1, admin):
        if not s.connected:
            expect(s, "connect").get(timeout=WAIT)
    assert s1.call("count", timeout=WAIT) >= 1
    assert admin.call("get-handshake", timeout=WAIT)["nsp"] == "/admin"
    for s in (s1, s2, s3, admin):
        s.io.close()
    sioclient.client.managers.clear()


@pytest.mark.parametrize("mode", ["polling", "websocket"])
def test_headers_and_query(any_server: ServerProcess, mode: str, clients: Clients) -> None:
    """extra_headers on every request; transport_options headers on their transport only, in
    either spelling; the query on the handshake."""
    transport_options = {
        "polling": {"extra_headers": {"x-polling": "p"}},
        "websocket": {"extra_headers": {"x-websocket": "w"}},
    }
    sock = clients.connect(
        any_server.url,
        {
            "extraHeaders": {"x-js": "js"},
            "transportOptions": {"polling": {"extraHeaders": {"x-js-polling": "jp"}}},
        },
        **MODES[mode],
        query={"q": "v w"},
    )
    hs = sock.call("get-handshake", timeout=WAIT)
    assert hs["headers"]["x-js"] == "js"
    assert hs["query"]["q"] == "v w"
    assert ("x-js-polling" in hs["headers"]) == (mode == "polling")
    sock.close()

    sock = clients.connect(
        any_server.url,
        extra_headers={"x-all": "a"},
        transport_options=transport_options,
        **MODES[mode],
    )
    headers = sock.call("get-handshake", timeout=WAIT)["headers"]
    assert headers["x-all"] == "a"
    assert headers.get("x-polling") == ("p" if mode == "polling" else None)
    assert headers.get("x-websocket") == ("w" if mode == "websocket" else None)


#: every character class encodeURIComponent treats apart: kept (!'()*~), escaped (&=?#+ space)
_AWKWARD = {"k!'()*~": "v!'()*~", "a&=?#+ b": "c&=?#+ d", "é": "ü/%"}


@pytest.mark.parametrize("kind", ["node2", "node4", "python"])
@pytest.mark.parametrize("mode", ["polling", "websocket"])
def test_query_escaping_round_trips(sio_server, kind: str, mode: str, clients: Clients) -> None:
    """The handshake's query (and, on revision 4, the CONNECT packet's) is written with
    encodeURIComponent's rules, as socket.io-client writes it, and every server reads back what
    was given."""
    server = sio_server(kind)
    sock = clients.connect(server.url, **MODES[mode], query=_AWKWARD)
    hs = sock.call("get-handshake", timeout=WAIT)
    for key, value in _AWKWARD.items():
        assert hs["query"][key] == value
    assert encode_query(_AWKWARD) in hs["url"]
    sock.close()


@pytest.mark.parametrize("kind", [pytest.param("node4", marks=pytest.mark.node), "python"])
def test_custom_path(sio_server, kind: str, clients: Clients) -> None:
    server = sio_server(kind, path="/custom-path")
    for mode in ("polling", "websocket"):
        sock = clients.connect(server.url, path="/custom-path", **MODES[mode])
        assert sock.call("echo", mode, timeout=WAIT) == mode
        sock.close()
    # the default path: Node leaves the request unanswered (the connect timeout ends it), the
    # Python server answers 404
    wrong = clients.io(server.url, reconnection=False, transports=["polling"], timeout=1)
    err = expect(wrong, "connect_error").get(timeout=WAIT)[0]
    assert isinstance(err, (sioclient.ConnectionError, sioclient.TimeoutError))


@pytest.mark.node
@pytest.mark.parametrize("kind", ["node2", "node4"])
def test_cookies_kept_and_sent(sio_server, kind: str, clients: Clients, monkeypatch) -> None:
    """A cookie the server sets on the handshake is kept and sent on the following requests
    (the polling requests and the WebSocket upgrade)."""
    server = sio_server(kind, cookie="sticky")
    sent: list[str | None] = []
    real_header = CookieJar.header

    def spy(self: CookieJar, *args: Any, **kwargs: Any) -> str | None:
        value = real_header(self, *args, **kwargs)
        sent.append(value)
        return value

    monkeypatch.setattr(CookieJar, "header", spy)
    sock = clients.connect(server.url)
    engine = sock.io.engine
    assert engine.cookies.get("sticky") == engine.id
    assert sent[0] is None  # the handshake had none
    assert f"sticky={engine.id}" in sent[1:]
    assert sock.call("echo", "c", timeout=WAIT) == "c"


def _has_ipv6_loopback() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _has_ipv6_loopback(), reason="no IPv6 loopback on this machine")
@pytest.mark.parametrize("kind", [pytest.param("node4", marks=pytest.mark.node), "python"])
@pytest.mark.parametrize("mode", list(MODES))
def test_ipv6_literal(sio_server, kind: str, mode: str, clients: Clients) -> None:
    server = sio_server(kind, host="::1")
    assert server.url.startswith("http://[::1]:")
    sock = clients.connect(server.url + "/admin", **MODES[mode])
    assert sock.call("echo", "six", timeout=WAIT) == "six"
