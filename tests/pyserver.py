"""A python-socketio test server on gevent with the vocabulary of ``tests/node/server.js``.

Run as a subprocess: ``python tests/pyserver.py '<json config>'`` (or the config in the
``SIO_SERVER_CONFIG`` environment variable).  It prints ``{"event":"listening","port":N}`` on
stdout once bound and exits on SIGTERM, SIGINT or when its stdin closes.  The events it
understands are described in ``tests/node/README.md``.

python-engineio speaks Engine.IO 4 only, so this server is a Socket.IO revision 5 peer.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import sys
from typing import Any
from urllib.parse import parse_qs

if __name__ == "__main__":
    from gevent import monkey

    # python-socketio's gevent mode expects a patched standard library.
    monkey.patch_all()

import gevent  # noqa: E402
import gevent.event  # noqa: E402
import gevent.os  # noqa: E402
import socketio  # noqa: E402
from gevent.pywsgi import WSGIServer  # noqa: E402
from geventwebsocket.handler import WebSocketHandler  # noqa: E402
from socketio import packet as sio_packet  # noqa: E402

STATIC_NAMESPACES = ("/", "/admin", "/custom", "/private")
DYNAMIC_NAMESPACE = re.compile(r"^/dynamic-[\w.-]+$")


def _buffer_json(value: Any) -> Any:
    # The same shape JSON.stringify gives a Node Buffer, so both servers answer alike.
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"type": "Buffer", "data": list(bytes(value))}
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


class JsonPacket(sio_packet.Packet):
    """socket.io-json-parser (3.x): every packet is the JSON text of the packet object."""

    uses_binary_events = False

    def encode(self) -> str:
        return json.dumps(self._to_dict(), separators=(",", ":"), default=_buffer_json)

    def decode(self, encoded_packet: Any) -> int:
        # python-engineio hands over text that looks like JSON already parsed.
        decoded = encoded_packet if isinstance(encoded_packet, dict) else json.loads(encoded_packet)
        self.packet_type = decoded["type"]
        self.data = decoded.get("data")
        self.id = decoded.get("id")
        self.namespace = decoded["nsp"]
        return 0


def load_config() -> dict[str, Any]:
    cfg: dict[str, Any] = json.loads(os.environ.get("SIO_SERVER_CONFIG") or "{}")
    if len(sys.argv) > 1:
        cfg.update(json.loads(sys.argv[1]))
    return cfg


def server_options(cfg: dict[str, Any]) -> dict[str, Any]:
    """python-socketio's server options for a test-server config (Node's names, ms)."""
    opts: dict[str, Any] = {
        "namespaces": "*",  # unknown ones are refused in on_connect, as Node does
        "cors_allowed_origins": "*",
        # One greenlet handles a connection's packets in order, so that get-received
        # lists events exactly as they arrived.
        "async_handlers": False,
        "logger": bool(cfg.get("debug")),
        "engineio_logger": bool(cfg.get("debug")),
    }
    parser = cfg.get("parser") or "default"
    if parser == "msgpack":
        opts["serializer"] = "msgpack"
    elif parser == "json":
        opts["serializer"] = JsonPacket
    elif parser != "default":
        raise ValueError(f"unknown parser {parser!r}")
    if cfg.get("transports"):
        opts["transports"] = cfg["transports"]
    if cfg.get("pingInterval") is not None:
        # python-engineio advertises int(seconds) * 1000: whole seconds keep the advertised
        # interval and the real one equal.
        opts["ping_interval"] = max(1, round(cfg["pingInterval"] / 1000.0))
    if cfg.get("pingTimeout") is not None:
        opts["ping_timeout"] = cfg["pingTimeout"] / 1000.0
    if cfg.get("maxHttpBufferSize") is not None:
        opts["max_http_buffer_size"] = cfg["maxHttpBufferSize"]
    cookie = cfg.get("cookie")
    if cookie:
        opts["cookie"] = "io" if cookie is True else cookie
    return opts


class TestServer:
    def __init__(self, cfg: dict[str, Any]) -> None:
        self.cfg = cfg
        self.required = {k: str(v) for k, v in (cfg.get("auth") or {"token": "secret"}).items()}
        self.guarded = set(cfg.get("authNamespaces") or ["/private"])
        # Per (namespace, sid): what the socket received and what its handshake carried.
        self.received: dict[tuple[str, str], list[Any]] = {}
        self.handshakes: dict[tuple[str, str], dict[str, Any]] = {}
        self.sio = socketio.Server(async_mode="gevent", **self._options())
        self.sio.on("connect", self.on_connect, namespace="*")
        self.sio.on("disconnect", self.on_disconnect, namespace="*")
        self.sio.on("*", self.on_event, namespace="*")
        self.app = socketio.WSGIApp(
            self.sio, socketio_path=(cfg.get("path") or "/socket.io").strip("/")
        )

    def _options(self) -> dict[str, Any]:
        return server_options(self.cfg)

    def log(self, *args: Any) -> None:
        if self.cfg.get("debug"):
            print("[python]", *args, file=sys.stderr, flush=True)

    # -- connection lifecycle -------------------------------------------------------------

    def on_connect(self, namespace: str, sid: str, environ: dict, auth: Any = None) -> None:
        accept_connect(self, namespace, sid, environ, auth)

    def on_disconnect(self, namespace: str, sid: str, reason: Any = None) -> None:
        self.received.pop((namespace, sid), None)
        self.handshakes.pop((namespace, sid), None)
        self.log("disconnect", namespace, sid, reason)

    # -- the vocabulary -------------------------------------------------------------------

    def on_event(self, event: str, namespace: str, sid: str, *args: Any) -> Any:
        if event != "get-received":
            self.received.setdefault((namespace, sid), []).append([event, list(args)])
        handler = getattr(self, "ev_" + event.replace("-", "_"), None)
        if handler is None:
            return self.sio.not_handled  # as in Node: unknown events are never acked
        return handler(namespace, sid, *args)

    def _emit(self, namespace: str, sid: str, event: str, args: Any, **kw: Any) -> None:
        # A tuple is spread into several arguments by python-socketio.
        self.sio.emit(event, tuple(args), to=sid, namespace=namespace, **kw)

    def ev_echo(self, ns: str, sid: str, *args: Any) -> tuple:
        self._emit(ns, sid, "echo", args)
        return args

    def ev_ack(self, ns: str, sid: str, *args: Any) -> tuple:
        return args

    def ev_emit_back(self, ns: str, sid: str, event: str, *args: Any) -> tuple:
        self._emit(ns, sid, event, args)
        return ()

    def ev_server_ack(self, ns: str, sid: str, event: str, *args: Any) -> tuple:
        def result(*res: Any) -> None:
            self._emit(ns, sid, "server-ack-result", res)

        self._emit(ns, sid, event, args, callback=result)
        return ()

    def ev_flood(self, ns: str, sid: str, count: Any, payload: Any = None, *_: Any) -> int:
        n = int(count or 0)
        for i in range(n):
            self.sio.emit("flood", (i, payload), to=sid, namespace=ns)
        self.sio.emit("flood-done", n, to=sid, namespace=ns)
        return n

    def ev_disconnect_me(self, ns: str, sid: str, *_: Any) -> tuple:
        # Let the ack go out first, as the Node server does.
        gevent.spawn(self.sio.disconnect, sid, namespace=ns)
        return ()

    def ev_close_engine(self, ns: str, sid: str, *_: Any) -> tuple:
        eio_sid = self.sio.manager.eio_sid_from_sid(sid, ns)
        gevent.spawn(self.sio.eio.disconnect, eio_sid)
        return ()

    def ev_get_handshake(self, ns: str, sid: str, *_: Any) -> dict:
        info = dict(self.handshakes.get((ns, sid), {}))
        info["transport"] = self.sio.transport(sid, namespace=ns)
        info["nsp"] = ns
        info["id"] = sid
        return info

    def ev_count(self, ns: str, sid: str, *_: Any) -> int:
        return sum(
            1
            for s, _eio in self.sio.manager.get_participants(ns, None)
            if self.sio.manager.is_connected(s, ns)
        )

    def ev_get_received(self, ns: str, sid: str, *_: Any) -> list:
        return list(self.received.get((ns, sid), []))


def accept_connect(srv: Any, namespace: str, sid: str, environ: dict, auth: Any) -> None:
    """A CONNECT, for the gevent and the asyncio servers alike: refused for an unknown
    namespace or, on a guarded one, without the required values; otherwise the handshake is
    kept for `get-handshake`."""
    if namespace not in STATIC_NAMESPACES and not DYNAMIC_NAMESPACE.match(namespace):
        raise socketio.exceptions.ConnectionRefusedError("Invalid namespace")
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    query_flat = {k: v[0] if len(v) == 1 else v for k, v in query.items()}
    guard = "dynamic" if DYNAMIC_NAMESPACE.match(namespace) else namespace
    if guard in srv.guarded and not _authorized(srv.required, query_flat, auth):
        srv.log("refused", namespace, sid)
        raise socketio.exceptions.ConnectionRefusedError("not authorized", {"code": 401})
    headers = {
        key[5:].lower().replace("_", "-"): value
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers[key.lower().replace("_", "-")] = environ[key]
    url = environ.get("PATH_INFO", "")
    if environ.get("QUERY_STRING"):
        url += "?" + environ["QUERY_STRING"]
    srv.handshakes[(namespace, sid)] = {
        "query": query_flat,
        "headers": headers,
        "auth": auth if auth is not None else {},
        "url": url,
        "eio": int(query_flat.get("EIO", 4)),
        "cookies": _parse_cookies(headers.get("cookie", "")),
        "address": environ.get("REMOTE_ADDR"),
    }
    srv.received[(namespace, sid)] = []
    srv.log("connect", namespace, sid)


def _authorized(required: dict[str, str], query: dict, auth: Any) -> bool:
    auth = auth if isinstance(auth, dict) else {}
    return all(
        (k in auth and str(auth[k]) == want) or (k in query and str(query[k]) == want)
        for k, want in required.items()
    )


def _parse_cookies(header: str) -> dict[str, str]:
    cookies: dict[str, str] = {}
    for part in header.split(";"):
        name, eq, value = part.partition("=")
        if eq and name.strip() and name.strip() not in cookies:
            cookies[name.strip()] = value.strip()
    return cookies


class NoDelayWSGIServer(WSGIServer):
    """pywsgi writes headers and body separately: without TCP_NODELAY, Nagle's algorithm and
    the peer's delayed ACK add ~40 ms to every keep-alive response (Node disables Nagle too)."""

    def handle(self, sock: Any, address: Any) -> None:
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        super().handle(sock, address)


def _watch_stdin(stop: gevent.event.Event) -> None:
    # The parent holds our stdin: when it goes away (even by crashing), so do we.
    fd = sys.stdin.fileno()
    gevent.os.make_nonblocking(fd)
    try:
        while gevent.os.nb_read(fd, 4096):
            pass
    except OSError:
        pass
    stop.set()


def main() -> None:
    cfg = load_config()
    server = TestServer(cfg)
    host = cfg.get("host") or "127.0.0.1"
    ssl_args: dict[str, Any] = {}
    if cfg.get("key") or cfg.get("cert"):
        ssl_args = {"keyfile": cfg["key"], "certfile": cfg["cert"]}
        if cfg.get("clientCa"):
            import ssl

            ssl_args.update(ca_certs=cfg["clientCa"], cert_reqs=ssl.CERT_REQUIRED)
    http = NoDelayWSGIServer(
        (host, int(cfg.get("port") or 0)),
        server.app,
        handler_class=WebSocketHandler,
        log=sys.stderr if cfg.get("debug") else None,
        error_log=sys.stderr if cfg.get("debug") else None,
        **ssl_args,
    )
    try:
        http.start()
    except OSError as exc:
        print(
            json.dumps(
                {"event": "error", "code": _errno_name(exc), "message": str(exc)},
                separators=(",", ":"),
            )
        )
        sys.stdout.flush()
        sys.exit(1)
    print(
        json.dumps({"event": "listening", "port": http.server_port}, separators=(",", ":")),
        flush=True,
    )

    stop = gevent.event.Event()
    gevent.signal_handler(signal.SIGTERM, stop.set)
    gevent.signal_handler(signal.SIGINT, stop.set)
    if cfg.get("exitOnStdinClose", True):
        gevent.spawn(_watch_stdin, stop)
    stop.wait()
    server.log("shutting down")
    http.stop(timeout=1)
    os._exit(0)


def _errno_name(exc: OSError) -> str | None:
    import errno

    return errno.errorcode.get(exc.errno) if exc.errno else None


if __name__ == "__main__":
    main()
