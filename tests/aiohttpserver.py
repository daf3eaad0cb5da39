"""The python-socketio test server on aiohttp, vocabulary of ``tests/node/server.js``.

``tests/asyncserver.py``'s ``TestServer`` on ``socketio.AsyncServer(async_mode="aiohttp")``,
attached to an aiohttp ``web.Application`` and served by aiohttp's own ``AppRunner`` on a
socket bound here: the set-up of an aiohttp service that adds Socket.IO to its routes.
python-engineio's WebSocket there is aiohttp's ``WebSocketResponse``.

Run as a subprocess: ``python tests/aiohttpserver.py '<json config>'``.  It prints
``{"event":"listening","port":N}`` on stdout once bound and exits on SIGTERM, SIGINT or when its
stdin closes.  python-engineio speaks Engine.IO 4 only: a Socket.IO revision 5 peer.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from typing import Any

from aiohttp import web

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from asyncserver import TestServer, bind, report_listening, stop_on_signals  # noqa: E402
from pyserver import load_config  # noqa: E402


async def _serve(cfg: dict[str, Any]) -> None:
    server = TestServer(cfg, async_mode="aiohttp", name="python-aiohttp")
    app = web.Application()
    server.sio.attach(app, socketio_path=server.socketio_path)
    sock = bind(cfg)
    ssl_context = None
    if cfg.get("key") or cfg.get("cert"):
        import ssl

        ssl_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ssl_context.load_cert_chain(cfg["cert"], cfg["key"])
        if cfg.get("clientCa"):
            ssl_context.load_verify_locations(cfg["clientCa"])
            ssl_context.verify_mode = ssl.CERT_REQUIRED
    if cfg.get("debug"):
        logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
    # a stop closes the open connections within a moment, as the other servers do
    runner = web.AppRunner(
        app,
        access_log=logging.getLogger("aiohttp.access") if cfg.get("debug") else None,
        shutdown_timeout=0.25,
    )
    await runner.setup()
    await web.SockSite(runner, sock, ssl_context=ssl_context).start()
    stopping = asyncio.Event()
    stop_on_signals(cfg, stopping.set)
    report_listening(sock)
    await stopping.wait()
    server.log("shutting down")
    await runner.cleanup()


def main() -> None:
    asyncio.run(_serve(load_config()))
    os._exit(0)


if __name__ == "__main__":
    main()
