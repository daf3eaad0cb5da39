"""A Flask-SocketIO test server, its handlers written the way Flask applications write them.

``flask_socketio.SocketIO`` on a Flask app, in the ``gevent`` async mode: the one Flask-SocketIO
picks by itself when gevent is installed (and eventlet is not), run by ``socketio.run(app)``,
which serves it with gevent's pywsgi and gevent-websocket's handler, the deployment its
documentation recommends. It is named here so that an eventlet installed next to it cannot
change the server under test.

Handlers are decorated functions (``@socketio.on``) on ``/`` and ``/admin``, and a class-based
``Namespace`` on ``/private``; they reach the client through ``request.sid``, ``emit()``, and
their return value (the ack). The subset of ``tests/node/server.js``'s vocabulary they answer:

- ``echo`` (args): emits ``echo`` with the args and acks them; ``ack`` (args): acks them;
- ``emit-back`` (event, args): emits ``event`` with the args, acks with nothing;
- ``disconnect-me``: the server disconnects the namespace (``disconnect()``);
- ``get-received``: the events no handler took, as ``[event, args]`` (a catch-all records them).

``/private`` refuses a socket whose auth payload lacks ``{"token": "secret"}`` with
``ConnectionRefusedError("not authorized", {"code": 401})``; a namespace without handlers is
refused by python-socketio itself (``Unable to connect``).

Run as a subprocess: ``python tests/flaskserver.py '<json config>'``; it prints
``{"event":"listening","port":N}`` on stdout once bound and exits on SIGTERM, SIGINT or when its
stdin closes. Config keys: ``host``, ``port``, ``path``, ``pingInterval``, ``pingTimeout``
(ms; python-engineio rounds the interval to whole seconds), ``transports``, ``debug``.
"""

from __future__ import annotations

if __name__ == "__main__":
    from gevent import monkey

    # Flask-SocketIO's gevent mode expects a patched standard library.
    monkey.patch_all()

import json  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
from typing import Any  # noqa: E402

import gevent  # noqa: E402
import gevent.event  # noqa: E402
from flask import Flask, request  # noqa: E402
from flask_socketio import (  # noqa: E402
    ConnectionRefusedError,
    Namespace,
    SocketIO,
    disconnect,
    emit,
)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pyserver import _errno_name, _watch_stdin, load_config  # noqa: E402

START_TIMEOUT = 10.0


def create_app(cfg: dict[str, Any]) -> tuple[Flask, SocketIO]:
    app = Flask(__name__)
    options: dict[str, Any] = {
        "async_mode": "gevent",
        "cors_allowed_origins": "*",
        "path": cfg.get("path") or "/socket.io",
        "logger": bool(cfg.get("debug")),
        "engineio_logger": bool(cfg.get("debug")),
    }
    if cfg.get("pingInterval") is not None:
        options["ping_interval"] = max(1, round(cfg["pingInterval"] / 1000.0))
    if cfg.get("pingTimeout") is not None:
        options["ping_timeout"] = cfg["pingTimeout"] / 1000.0
    if cfg.get("transports"):
        options["transports"] = cfg["transports"]
    socketio = SocketIO(app, **options)
    # per socket (request.sid): the events no handler took
    received: dict[str, list[Any]] = {}

    @socketio.on("connect")
    @socketio.on("connect", namespace="/admin")
    def connect(auth: Any = None) -> None:
        received[request.sid] = []

    @socketio.on("disconnect")
    @socketio.on("disconnect", namespace="/admin")
    def on_disconnect(reason: Any = None) -> None:
        received.pop(request.sid, None)

    @socketio.on("echo")
    @socketio.on("echo", namespace="/admin")
    def echo(*args: Any) -> tuple[Any, ...]:
        emit("echo", args)  # a tuple goes out as that many arguments
        return args

    @socketio.on("ack")
    @socketio.on("ack", namespace="/admin")
    def ack(*args: Any) -> tuple[Any, ...]:
        return args

    @socketio.on("emit-back")
    @socketio.on("emit-back", namespace="/admin")
    def emit_back(event: str, *args: Any) -> tuple[Any, ...]:
        emit(event, args)
        return ()

    @socketio.on("disconnect-me")
    @socketio.on("disconnect-me", namespace="/admin")
    def disconnect_me(*_: Any) -> None:
        disconnect()

    @socketio.on("get-received")
    @socketio.on("get-received", namespace="/admin")
    def get_received(*_: Any) -> list[Any]:
        return list(received.get(request.sid, []))

    @socketio.on("*")
    @socketio.on("*", namespace="/admin")
    def anything(event: str, *args: Any) -> None:
        received.setdefault(request.sid, []).append([event, list(args)])

    class Private(Namespace):
        def on_connect(self, auth: Any = None) -> None:
            if not isinstance(auth, dict) or auth.get("token") != "secret":
                raise ConnectionRefusedError("not authorized", {"code": 401})

        def on_ack(self, *args: Any) -> tuple[Any, ...]:
            return args

        def on_echo(self, *args: Any) -> tuple[Any, ...]:
            emit("echo", args)
            return args

    socketio.on_namespace(Private("/private"))
    return app, socketio


def main() -> None:
    cfg = load_config()
    app, socketio = create_app(cfg)
    debug = bool(cfg.get("debug"))
    serving = gevent.spawn(
        socketio.run,
        app,
        host=cfg.get("host") or "127.0.0.1",
        port=int(cfg.get("port") or 0),
        log_output=debug,
        use_reloader=False,
        debug=False,
    )
    # run() binds, then serves forever: wait (bounded) for the bind or for its failure
    deadline = gevent.Timeout(START_TIMEOUT)
    deadline.start()
    try:
        while not serving.dead and not (socketio.wsgi_server and socketio.wsgi_server.started):
            gevent.sleep(0.01)  # the server greenlet gets to run; no event announces the bind
    finally:
        deadline.cancel()
    if serving.dead:
        exc = serving.exception
        code = _errno_name(exc) if isinstance(exc, OSError) else None
        print(json.dumps({"event": "error", "code": code, "message": str(exc)}), flush=True)
        sys.exit(1)
    print(json.dumps({"event": "listening", "port": socketio.wsgi_server.server_port}), flush=True)

    stop = gevent.event.Event()
    gevent.signal_handler(signal.SIGTERM, stop.set)
    gevent.signal_handler(signal.SIGINT, stop.set)
    if cfg.get("exitOnStdinClose", True):
        gevent.spawn(_watch_stdin, stop)
    stop.wait()
    socketio.wsgi_server.stop(timeout=0.25)
    os._exit(0)


if __name__ == "__main__":
    main()
