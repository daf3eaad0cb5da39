"""The test servers and their fixtures, checked with raw Engine.IO long-polling over requests."""

from __future__ import annotations

import base64
import json
import socket
import time
from typing import Any

import pytest
import requests
from servers import KINDS, ServerProcess, ServerStartError, free_port

HTTP_TIMEOUT = 5.0


class RawPolling:
    """A minimal Engine.IO long-polling peer (revision 3 or 4 framing), text payloads only.

    Binary packets travel base64-encoded (``b64=1`` for Engine.IO 3, always for 4).
    """

    def __init__(self, server: ServerProcess, eio: int, verify: Any = True) -> None:
        self.server = server
        self.eio = eio
        self.http = requests.Session()
        # Per request: a session-wide verify loses to REQUESTS_CA_BUNDLE from the environment.
        self.verify = verify
        self.pending: list[str] = []
        body = self._get({"transport": "polling"})
        packets = self._decode(body)
        assert packets[0][0] == "0", body
        self.open = json.loads(packets[0][1:])
        self.sid = self.open["sid"]
        self.pending.extend(packets[1:])

    def close(self) -> None:
        self.http.close()

    def _params(self, extra: dict[str, str]) -> dict[str, str]:
        params = {"EIO": str(self.eio), "transport": "polling", "t": str(time.monotonic_ns())}
        if self.eio == 3:
            params["b64"] = "1"
        if getattr(self, "sid", None):
            params["sid"] = self.sid
        params.update(extra)
        return params

    def _get(self, extra: dict[str, str]) -> str:
        url = self.server.url + self.server.path + "/"
        r = self.http.get(url, params=self._params(extra), timeout=HTTP_TIMEOUT, verify=self.verify)
        r.raise_for_status()
        return r.text

    def _decode(self, body: str) -> list[str]:
        if self.eio == 4:
            return body.split("\x1e") if body else []
        packets, i = [], 0
        while i < len(body):
            colon = body.index(":", i)
            n = int(body[i:colon])
            packets.append(body[colon + 1 : colon + 1 + n])
            i = colon + 1 + n
        return packets

    def send(self, *packets: str) -> None:
        if self.eio == 4:
            body = "\x1e".join(packets)
        else:
            body = "".join(f"{len(p)}:{p}" for p in packets)
        url = self.server.url + self.server.path + "/"
        r = self.http.post(
            url,
            params=self._params({}),
            data=body.encode(),
            timeout=HTTP_TIMEOUT,
            verify=self.verify,
        )
        r.raise_for_status()

    def receive(self, count: int = 1) -> list[str]:
        """The next ``count`` Engine.IO packets (each poll is bounded by HTTP_TIMEOUT)."""
        while len(self.pending) < count:
            self.pending.extend(self._decode(self._get({})))
        got, self.pending = self.pending[:count], self.pending[count:]
        return got

    def binary(self, data: bytes) -> str:
        return ("b4" if self.eio == 3 else "b") + base64.b64encode(data).decode()

    def connect(self, nsp: str = "/", auth: dict | None = None, query: str = "") -> str:
        """Opens a namespace; returns the server's answer (CONNECT or error packet)."""
        if self.eio == 4:
            prefix = "" if nsp == "/" else nsp + ","
            self.send("40" + prefix + (json.dumps(auth) if auth else ""))
        elif nsp != "/":
            self.send("40" + nsp + (("?" + query) if query else "") + ",")
        # (2.x opens "/" by itself: its CONNECT is already on the way.)
        return self.receive()[0]


def eio_of(kind: str) -> int:
    return 3 if kind == "node2" else 4


def ns_prefix(nsp: str) -> str:
    return "" if nsp == "/" else nsp + ","


# -- handshake per kind, started and stopped by the function-scoped factory ------------------


@pytest.mark.parametrize("kind", KINDS)
def test_polling_handshake(sio_server, kind):
    server = sio_server(kind, pingInterval=2000, pingTimeout=1200)
    assert server.running and server.port
    peer = RawPolling(server, eio_of(kind))
    try:
        assert peer.open["upgrades"] == ["websocket"]
        assert peer.open["pingInterval"] == 2000
        assert peer.open["pingTimeout"] == 1200
        if kind == "node2":
            # 2.x opens the main namespace on its own, right with the handshake.
            assert peer.connect() == "40"
        else:
            assert peer.connect().startswith('40{"sid":')
    finally:
        peer.close()
    server.stop()
    assert not server.running
    with pytest.raises(requests.ConnectionError):
        requests.get(server.url + "/socket.io/", timeout=HTTP_TIMEOUT)


def test_eio3_refused_without_allow_eio3(sio_server):
    server = sio_server("node4")
    r = requests.get(
        server.url + "/socket.io/", params={"EIO": "3", "transport": "polling"}, timeout=5
    )
    assert r.status_code == 400
    assert r.json()["message"] == "Unsupported protocol version"


def test_node4_eio3_speaks_both(sio_server):
    server = sio_server("node4-eio3")
    for eio in (3, 4):
        peer = RawPolling(server, eio)
        try:
            assert peer.open["sid"]
            assert peer.connect().startswith("40")
        finally:
            peer.close()


def test_restart_same_port(sio_server):
    for kind in ("node4", "python", "python-asgi"):
        server = sio_server(kind)
        port = server.port
        first = RawPolling(server, 4)
        first.close()
        server.restart()
        assert server.port == port and server.running
        second = RawPolling(server, 4)
        second.close()
        assert second.sid != first.sid


def test_restart_fixed_port_after_traffic(sio_server):
    port = free_port()
    server = sio_server("node2", port=port)
    assert server.port == port
    peer = RawPolling(server, 3)
    peer.close()
    server.restart()
    assert server.port == port
    RawPolling(server, 3).close()


def test_path_and_cookie_options(sio_server):
    for kind in ("node2", "node4", "python"):
        server = sio_server(kind, path="/custom-path", cookie="stick")
        peer = RawPolling(server, eio_of(kind))
        try:
            assert peer.http.cookies.get("stick") == peer.sid
        finally:
            peer.close()


def test_start_failure_is_reported(sio_server):
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen(1)
    try:
        for kind in ("node4", "python", "python-aiohttp", "flask"):
            with pytest.raises(ServerStartError) as info:
                sio_server(kind, port=holder.getsockname()[1])
            assert info.value.code == "EADDRINUSE"
    finally:
        holder.close()


def test_tls(sio_server, tls_files):
    server = sio_server("node4", **tls_files.server_config())
    assert server.url.startswith("https://")
    RawPolling(server, 4, verify=tls_files.ca_cert).close()
    wrong = sio_server("python", **tls_files.server_config(wrong_host=True))
    with pytest.raises(requests.exceptions.SSLError):
        RawPolling(wrong, 4, verify=tls_files.ca_cert)


# -- the shared vocabulary on every kind ------------------------------------------------------


@pytest.fixture
def peer(any_server):
    p = RawPolling(any_server, eio_of(any_server.kind))
    yield p
    p.close()


def test_vocabulary(any_server, peer):
    peer.connect()
    peer.send('42["echo","hi",{"a":[1,2]}]')
    assert peer.receive() == ['42["echo","hi",{"a":[1,2]}]']
    peer.send('427["ack",1,null,"x"]')
    assert peer.receive() == ['437[1,null,"x"]']
    peer.send('428["emit-back","hello",3]')
    assert sorted(peer.receive(2)) == ['42["hello",3]', "438[]"]
    peer.send('429["count"]')
    assert peer.receive() == ["439[1]"]
    peer.send('4210["get-received"]')
    assert json.loads(peer.receive()[0][len("4310") :]) == [
        [
            ["echo", ["hi", {"a": [1, 2]}]],
            ["ack", [1, None, "x"]],
            ["emit-back", ["hello", 3]],
            ["count", []],
        ]
    ]
    peer.send('4211["get-handshake"]')
    (hs,) = json.loads(peer.receive()[0][len("4311") :])
    assert hs["query"]["EIO"] == str(peer.eio)
    assert hs["transport"] == "polling"
    assert hs["eio"] == peer.eio
    assert "user-agent" in hs["headers"]
    assert hs["url"].startswith("/socket.io/")


def test_server_ack_and_flood(any_server, peer):
    peer.connect()
    peer.send('42["server-ack","question",5]')
    (question,) = peer.receive()
    assert question.startswith("42") and question.endswith('["question",5]')
    ack_id = question[2 : question.index("[")]
    peer.send(f'43{ack_id}["answer"]')
    assert peer.receive() == ['42["server-ack-result","answer"]']
    peer.send('42["flood",3,"p"]')
    assert peer.receive(4) == [
        '42["flood",0,"p"]',
        '42["flood",1,"p"]',
        '42["flood",2,"p"]',
        '42["flood-done",3]',
    ]


def test_binary_echo(any_server, peer):
    peer.connect()
    placeholder = '451-1["echo",{"_placeholder":true,"num":0}]'
    peer.send(placeholder, peer.binary(b"\x00\x01\xff"))
    got = peer.receive(4)
    # The event and the ack, each a header and its attachment.
    assert got.count(peer.binary(b"\x00\x01\xff")) == 2
    assert '451-["echo",{"_placeholder":true,"num":0}]' in got
    assert '461-1[{"_placeholder":true,"num":0}]' in got


def test_namespaces_and_middleware(any_server, peer):
    peer.connect()
    answer = peer.connect("/admin")
    assert answer.startswith("40/admin,")
    peer.send('42/admin,["echo","a"]')
    assert peer.receive() == ['42/admin,["echo","a"]']
    assert peer.connect("/dynamic-42").startswith("40/dynamic-42,")
    refused = peer.connect("/private")
    if peer.eio == 3:
        assert refused == '44/private,"not authorized"'
    else:
        assert refused.startswith("44/private,")
        assert json.loads(refused[len("44/private,") :]) == {
            "message": "not authorized",
            "data": {"code": 401},
        }
    ok = peer.connect("/private", auth={"token": "secret"}, query="token=secret")
    assert ok.startswith("40/private")
    unknown = peer.connect("/nowhere")
    assert unknown.startswith("44/nowhere,")
    assert "Invalid namespace" in unknown


# -- helpers for failure tests ----------------------------------------------------------------


def test_silent_server_never_answers(silent_server):
    with socket.create_connection(("127.0.0.1", silent_server.port), timeout=2) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        s.settimeout(0.3)
        with pytest.raises(socket.timeout):
            s.recv(1)


def test_refused_port(refused_port):
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", refused_port), timeout=2)


def test_free_port_is_bindable():
    port = free_port()
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))


def test_disconnect_me_and_close_engine(any_server, peer):
    peer.connect()
    peer.connect("/admin")
    peer.send('42/admin,["disconnect-me"]')
    assert peer.receive() == ["41/admin,"]
    peer.send('42["close-engine"]')
    # The engine closes: polls get a CLOSE packet (Node may answer a NOOP first), then the
    # session is gone (HTTP 400).
    with pytest.raises(requests.HTTPError) as info:
        for _ in range(3):
            assert peer.receive() in (["1"], ["6"])
    assert info.value.response.status_code == 400


def test_websocket_handshake(any_server):
    websocket = pytest.importorskip("websocket")
    url = any_server.url.replace("http", "ws", 1)
    eio = eio_of(any_server.kind)
    ws = websocket.create_connection(
        f"{url}/socket.io/?EIO={eio}&transport=websocket", timeout=HTTP_TIMEOUT
    )
    try:
        first = ws.recv()
        assert first.startswith("0{") and '"sid"' in first
        if eio == 4:
            ws.send("40")
        assert ws.recv().startswith("40")
        ws.send('42["echo",1]')
        assert ws.recv() == '42["echo",1]'
    finally:
        ws.close()


@pytest.mark.parametrize("kind", ["node3", "node4", "python"])
def test_json_parser(sio_server, kind):
    server = sio_server(kind, parser="json")
    peer = RawPolling(server, 4)
    try:
        peer.send('4{"type":0,"nsp":"/"}')
        assert json.loads(peer.receive()[0][1:])["type"] == 0
        peer.send('4{"type":2,"nsp":"/","data":["ack","x"],"id":3}')
        assert json.loads(peer.receive()[0][1:]) == {
            "type": 3,
            "nsp": "/",
            "data": ["x"],
            "id": 3,
        }
    finally:
        peer.close()


@pytest.mark.parametrize("kind", ["node2", "node4", "python"])
def test_msgpack_parser(sio_server, kind):
    msgpack = pytest.importorskip("msgpack")
    server = sio_server(kind, parser="msgpack")
    eio = eio_of(kind)
    peer = RawPolling(server, eio)
    try:

        def decode(packet: str) -> Any:
            if packet.startswith("4{"):
                return json.loads(packet[1:])  # 2.x's msgpack parser sends CONNECT as JSON
            assert packet.startswith("b4" if eio == 3 else "b")
            return msgpack.unpackb(base64.b64decode(packet[2 if eio == 3 else 1 :]))

        if eio == 4:
            peer.send(peer.binary(msgpack.packb({"type": 0, "nsp": "/"})))
        assert decode(peer.receive()[0])["type"] == 0
        ev = {"type": 2, "nsp": "/", "data": ["ack", b"\x01\x02", 5], "id": 9}
        peer.send(peer.binary(msgpack.packb(ev)))
        ack = decode(peer.receive()[0])
        assert (
            ack["type"] in (3, 6) and ack["id"] == 9
        )  # 6: 2.x marks binary acks and ack["data"] == [b"\x01\x02", 5]
    finally:
        peer.close()


@pytest.mark.parametrize("kind", ["node4", "python", "python-asgi", "python-aiohttp", "flask"])
def test_exits_when_stdin_closes(sio_server, kind):
    server = sio_server(kind)
    proc = server.process
    proc.stdin.close()
    assert proc.wait(timeout=10) == 0


@pytest.mark.parametrize("kind", ["node2", "python", "python-aiohttp", "flask"])
def test_debug_logs_to_stderr(sio_server, kind):
    server = sio_server(kind, debug=True)
    RawPolling(server, eio_of(kind)).close()
    server.stop()
    assert server.stderr_text()


def _ipv6_available() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _ipv6_available(), reason="no IPv6 loopback")
@pytest.mark.parametrize("kind", ["node4", "python"])
def test_ipv6(sio_server, kind):
    server = sio_server(kind, host="::1")
    assert server.url.startswith("http://[::1]:")
    RawPolling(server, 4).close()
