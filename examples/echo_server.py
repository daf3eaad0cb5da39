"""A small Socket.IO server (python-socketio on gevent with gevent-websocket) for the examples.

Usage: python examples/echo_server.py [--port N] [--host 127.0.0.1]
Prints ``{"event": "listening", "port": N}`` on stdout once it accepts connections.
"""

from __future__ import annotations

import argparse
import json
import sys

from gevent import monkey

monkey.patch_all()

import socketio  # noqa: E402
from gevent import pywsgi  # noqa: E402
from geventwebsocket.handler import WebSocketHandler  # noqa: E402


def build_app() -> socketio.WSGIApp:
    sio = socketio.Server(async_mode="gevent", cors_allowed_origins="*")

    @sio.event
    def connect(sid, environ, auth=None):
        sio.emit("welcome", {"sid": sid}, to=sid)

    @sio.on("echo")
    def echo(sid, *args):
        return args if len(args) != 1 else args[0]

    @sio.on("chat")
    def chat(sid, msg):
        sio.emit("chat", msg, skip_sid=sid)
        return "ok"

    @sio.on("kick-me")
    def kick_me(sid):
        # Drops the transport without a Socket.IO DISCONNECT: the client reconnects on its own.
        sio.eio.disconnect(sid)

    @sio.on("flood")
    def flood(sid, count):
        for i in range(int(count)):
            sio.emit("tick", i, to=sid)
        sio.emit("flood-done", int(count), to=sid)

    return socketio.WSGIApp(sio)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    server = pywsgi.WSGIServer(
        (args.host, args.port), build_app(), handler_class=WebSocketHandler, log=None
    )
    server.start()
    print(json.dumps({"event": "listening", "port": server.server_port}), flush=True)
    try:
        # Stop when the parent closes our stdin, so that no orphan survives the demo.
        import gevent

        gevent.get_hub().threadpool.spawn(sys.stdin.read).get()
    except KeyboardInterrupt:
        pass
    server.stop(timeout=1)


if __name__ == "__main__":
    main()
