"""The python-socketio test server under uvicorn (ASGI), vocabulary of ``tests/node/server.js``.

``tests/asyncserver.py``'s ``TestServer`` (``socketio.AsyncServer``) mounted as an ASGI app and
run by uvicorn (WebSocket by wsproto): python-engineio behaves differently under ASGI, and
refuses a WebSocket it does not want with HTTP 403 (uvicorn's answer to an app that closes
before accepting) where the WSGI server answers 400.

Run as a subprocess: ``python tests/asgiserver.py '<json config>'``.  It prints
``{"event":"listening","port":N}`` on stdout once bound and exits on SIGTERM, SIGINT or when its
stdin closes.  python-engineio speaks Engine.IO 4 only: a Socket.IO revision 5 peer.
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

import socketio
import uvicorn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from asyncserver import TestServer, bind, report_listening, stop_on_signals  # noqa: E402
from pyserver import load_config  # noqa: E402


async def _serve(cfg: dict[str, Any]) -> None:
    server = TestServer(cfg, async_mode="asgi", name="python-asgi")
    app = socketio.ASGIApp(server.sio, socketio_path=server.socketio_path)
    sock = bind(cfg)
    ssl_args: dict[str, Any] = {}
    if cfg.get("key") or cfg.get("cert"):
        ssl_args = {"ssl_keyfile": cfg["key"], "ssl_certfile": cfg["cert"]}
        if cfg.get("clientCa"):
            import ssl

            ssl_args.update(ssl_ca_certs=cfg["clientCa"], ssl_cert_reqs=ssl.CERT_REQUIRED)
    config = uvicorn.Config(
        app,
        ws="wsproto",
        lifespan="off",
        log_level="debug" if cfg.get("debug") else "critical",
        access_log=bool(cfg.get("debug")),
        timeout_graceful_shutdown=1,
        **ssl_args,
    )
    http = uvicorn.Server(config)
    # uvicorn's own handlers would wait for the connections: stop at once, as the others do
    http.install_signal_handlers = lambda: None  # type: ignore[method-assign]

    def stop() -> None:
        http.should_exit = True
        http.force_exit = True

    stop_on_signals(cfg, stop)
    serving = asyncio.ensure_future(http.serve(sockets=[sock]))
    while not http.started and not serving.done():
        await asyncio.sleep(0.01)
    if serving.done():
        serving.result()
        sys.exit(1)
    report_listening(sock)
    await serving
    server.log("shutting down")


def main() -> None:
    asyncio.run(_serve(load_config()))
    os._exit(0)


if __name__ == "__main__":
    main()
