"""A small Socket.IO server (python-socketio on gevent with gevent-websocket) for the examples.

Usage: python examples/echo_server.py [--port N] [--host 127.0.0.1] [--path /socket.io]
                                      [--parser default|msgpack] [--token SECRET]

Prints ``{"event": "listening", "port": N}`` on stdout once it accepts connections and stops when
its stdin closes (so that the program that started it never leaves it behind).

Namespaces: ``/``, ``/admin`` and ``/private``; ``/private`` admits a client only when it brings
``token`` (the ``--token`` value, default ``secret``) in its query or in its auth payload.
Events, on every namespace:

- ``echo`` (args...): acks with the same args (binary stays binary);
- ``chat`` (msg): sends ``chat`` to the other clients of the namespace; acks ``"ok"``;
- ``handshake``: acks with ``{"query", "auth", "headers", "transport", "namespace"}``;
- ``ask-me`` (question): asks the client a question with an ack, then emits ``answer`` with
  what the client answered;
- ``kick-me``: drops the Engine.IO connection (the client reconnects on its own);
- ``flood`` (count): emits ``tick`` (i) ``count`` times, then ``flood-done`` (count);
- ``late`` (key, n, seconds, value): the first ``n`` deliveries of ``key`` are answered
  ``seconds`` late, later ones at once, each with ``value``; ``late-log`` (key) acks with every
  value delivered for ``key``, in order (for ``examples/at_least_once.py``).
"""

from __future__ import annotations

import argparse
import json
import logging
import socket
import sys
from typing import Any

from gevent import monkey

# python-socketio's gevent mode expects a patched standard library.
monkey.patch_all()

import gevent  # noqa: E402
import socketio  # noqa: E402
from gevent import pywsgi  # noqa: E402
from geventwebsocket.handler import WebSocketHandler  # noqa: E402

NAMESPACES = ("/", "/admin", "/private")


def build_app(path: str = "/socket.io", parser: str = "default", token: str = "secret") -> Any:
    serializer = "msgpack" if parser == "msgpack" else "default"
    sio = socketio.Server(async_mode="gevent", cors_allowed_origins="*", serializer=serializer)
    handshakes: dict[tuple[str, str], dict[str, Any]] = {}
    late_log: dict[str, list[Any]] = {}

    def on_connect(sid: str, environ: dict, auth: Any = None, namespace: str = "/") -> None:
        query = dict(
            pair.split("=", 1) if "=" in pair else (pair, "")
            for pair in environ.get("QUERY_STRING", "").split("&")
            if pair
        )
        if namespace == "/private":
            given = (auth or {}).get("token") if isinstance(auth, dict) else None
            if token not in (given, query.get("token")):
                raise socketio.exceptions.ConnectionRefusedError("not authorized")
        headers = {
            k[5:].lower().replace("_", "-"): v for k, v in environ.items() if k.startswith("HTTP_")
        }
        handshakes[(namespace, sid)] = {"query": query, "auth": auth, "headers": headers}
        sio.emit("welcome", {"sid": sid, "namespace": namespace}, to=sid, namespace=namespace)

    def on_disconnect(sid: str, *_: Any, namespace: str = "/") -> None:
        handshakes.pop((namespace, sid), None)

    def on_event(event: str, sid: str, *args: Any, namespace: str = "/") -> Any:
        if event == "echo":
            return args if len(args) != 1 else args[0]
        if event == "chat":
            sio.emit("chat", args[0] if args else None, skip_sid=sid, namespace=namespace)
            return "ok"
        if event == "handshake":
            info = dict(handshakes.get((namespace, sid), {}))
            info["transport"] = sio.transport(sid, namespace=namespace)
            info["namespace"] = namespace
            return info
        if event == "ask-me":

            def answered(*answer: Any) -> None:
                sio.emit("answer", answer[0] if answer else None, to=sid, namespace=namespace)

            sio.emit(
                "question", args[0] if args else "?", to=sid, namespace=namespace, callback=answered
            )
            return None
        if event == "kick-me":
            # Drops the transport without a Socket.IO DISCONNECT: the client reconnects itself.
            eio_sid = sio.manager.eio_sid_from_sid(sid, namespace)
            gevent.spawn(sio.eio.disconnect, eio_sid)
            return None
        if event == "late":
            key, n, seconds, value = args
            log = late_log.setdefault(key, [])
            log.append(value)
            if len(log) <= n:
                gevent.sleep(seconds)  # this handler's own greenlet: the others go on
            return value
        if event == "late-log":
            return late_log.get(args[0], [])
        if event == "flood":
            count = int(args[0]) if args else 0
            for i in range(count):
                sio.emit("tick", i, to=sid, namespace=namespace)
            sio.emit("flood-done", count, to=sid, namespace=namespace)
            return count
        return None

    for nsp in NAMESPACES:
        sio.on("connect", _bind(on_connect, nsp), namespace=nsp)
        sio.on("disconnect", _bind(on_disconnect, nsp), namespace=nsp)
        sio.on("*", _bind(on_event, nsp), namespace=nsp)
    return socketio.WSGIApp(sio, socketio_path=path.strip("/"))


def _bind(fn: Any, namespace: str) -> Any:
    def handler(*args: Any) -> Any:
        return fn(*args, namespace=namespace)

    return handler


class NoDelayWSGIServer(pywsgi.WSGIServer):
    """pywsgi writes headers and body separately; without TCP_NODELAY, Nagle's algorithm and the
    peer's delayed ACK add ~40 ms to every keep-alive response."""

    def handle(self, sock: Any, address: Any) -> None:
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        super().handle(sock, address)


def main() -> None:
    ap = argparse.ArgumentParser(description="Socket.IO echo server for the sioclient examples")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--path", default="/socket.io")
    ap.add_argument("--parser", choices=["default", "msgpack"], default="default")
    ap.add_argument("--token", default="secret")
    args = ap.parse_args()
    # python-engineio logs a refused EIO=3 handshake (sioclient's websocket-only detection asks
    # for it first) as an error; it is expected here.
    logging.getLogger("engineio.server").setLevel(logging.CRITICAL)
    app = build_app(args.path, args.parser, args.token)
    server = NoDelayWSGIServer(
        (args.host, args.port), app, handler_class=WebSocketHandler, log=None
    )
    server.start()
    print(json.dumps({"event": "listening", "port": server.server_port}), flush=True)
    try:
        # Stop when the parent closes our stdin, so that no orphan survives it.
        gevent.get_hub().threadpool.spawn(sys.stdin.read).get()
    except KeyboardInterrupt:
        pass
    server.stop(timeout=1)


if __name__ == "__main__":
    main()
