"""A python-socketio test server under uvicorn (ASGI) with the vocabulary of ``tests/node/server.js``.

The same events as ``tests/pyserver.py`` (python-socketio on gevent), served by
``socketio.AsyncServer`` in an ASGI app run by uvicorn (WebSocket by wsproto): python-engineio
behaves differently under ASGI, and refuses a WebSocket it does not want with HTTP 403 (uvicorn's
answer to an app that closes before accepting) where the WSGI server answers 400.

Run as a subprocess: ``python tests/asgiserver.py '<json config>'``.  It prints
``{"event":"listening","port":N}`` on stdout once bound and exits on SIGTERM, SIGINT or when its
stdin closes.  python-engineio speaks Engine.IO 4 only: a Socket.IO revision 5 peer.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from typing import Any
from urllib.parse import parse_qs

import socketio
import uvicorn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pyserver import (  # noqa: E402 - the shared vocabulary and helpers
    DYNAMIC_NAMESPACE,
    STATIC_NAMESPACES,
    _errno_name,
    _parse_cookies,
    load_config,
    server_options,
)


class TestServer:
    def __init__(self, cfg: dict[str, Any]) -> None:
        self.cfg = cfg
        self.required = {k: str(v) for k, v in (cfg.get("auth") or {"token": "secret"}).items()}
        self.guarded = set(cfg.get("authNamespaces") or ["/private"])
        self.received: dict[tuple[str, str], list[Any]] = {}
        self.handshakes: dict[tuple[str, str], dict[str, Any]] = {}
        self.sio = socketio.AsyncServer(async_mode="asgi", **self._options())
        self.sio.on("connect", self.on_connect, namespace="*")
        self.sio.on("disconnect", self.on_disconnect, namespace="*")
        self.sio.on("*", self.on_event, namespace="*")
        self.app = socketio.ASGIApp(
            self.sio, socketio_path=(cfg.get("path") or "/socket.io").strip("/")
        )
        self._tasks: set[asyncio.Task] = set()

    def _options(self) -> dict[str, Any]:
        return server_options(self.cfg)

    def log(self, *args: Any) -> None:
        if self.cfg.get("debug"):
            print("[python-asgi]", *args, file=sys.stderr, flush=True)

    def _later(self, coro: Any) -> None:
        # after the handler returns, so that its ack leaves first (as the Node server does)
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- connection lifecycle -------------------------------------------------------------

    async def on_connect(self, namespace: str, sid: str, environ: dict, auth: Any = None) -> None:
        if namespace not in STATIC_NAMESPACES and not DYNAMIC_NAMESPACE.match(namespace):
            raise socketio.exceptions.ConnectionRefusedError("Invalid namespace")
        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        query_flat = {k: v[0] if len(v) == 1 else v for k, v in query.items()}
        guard = "dynamic" if DYNAMIC_NAMESPACE.match(namespace) else namespace
        if guard in self.guarded and not self._authorized(query_flat, auth):
            self.log("refused", namespace, sid)
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
        self.handshakes[(namespace, sid)] = {
            "query": query_flat,
            "headers": headers,
            "auth": auth if auth is not None else {},
            "url": url,
            "eio": int(query_flat.get("EIO", 4)),
            "cookies": _parse_cookies(headers.get("cookie", "")),
        }
        self.received[(namespace, sid)] = []
        self.log("connect", namespace, sid)

    def _authorized(self, query: dict, auth: Any) -> bool:
        auth = auth if isinstance(auth, dict) else {}
        return all(
            (k in auth and str(auth[k]) == want) or (k in query and str(query[k]) == want)
            for k, want in self.required.items()
        )

    async def on_disconnect(self, namespace: str, sid: str, reason: Any = None) -> None:
        self.received.pop((namespace, sid), None)
        self.handshakes.pop((namespace, sid), None)
        self.log("disconnect", namespace, sid, reason)

    # -- the vocabulary -------------------------------------------------------------------

    async def on_event(self, event: str, namespace: str, sid: str, *args: Any) -> Any:
        if event != "get-received":
            self.received.setdefault((namespace, sid), []).append([event, list(args)])
        handler = getattr(self, "ev_" + event.replace("-", "_"), None)
        if handler is None:
            return self.sio.not_handled  # as in Node: unknown events are never acked
        return await handler(namespace, sid, *args)

    async def _emit(self, namespace: str, sid: str, event: str, args: Any, **kw: Any) -> None:
        await self.sio.emit(event, tuple(args), to=sid, namespace=namespace, **kw)

    async def ev_echo(self, ns: str, sid: str, *args: Any) -> tuple:
        await self._emit(ns, sid, "echo", args)
        return args

    async def ev_ack(self, ns: str, sid: str, *args: Any) -> tuple:
        return args

    async def ev_emit_back(self, ns: str, sid: str, event: str, *args: Any) -> tuple:
        await self._emit(ns, sid, event, args)
        return ()

    async def ev_server_ack(self, ns: str, sid: str, event: str, *args: Any) -> tuple:
        async def result(*res: Any) -> None:
            await self._emit(ns, sid, "server-ack-result", res)

        await self._emit(ns, sid, event, args, callback=result)
        return ()

    async def ev_flood(self, ns: str, sid: str, count: Any, payload: Any = None, *_: Any) -> int:
        n = int(count or 0)
        for i in range(n):
            await self.sio.emit("flood", (i, payload), to=sid, namespace=ns)
        await self.sio.emit("flood-done", n, to=sid, namespace=ns)
        return n

    async def ev_disconnect_me(self, ns: str, sid: str, *_: Any) -> tuple:
        self._later(self.sio.disconnect(sid, namespace=ns))
        return ()

    async def ev_close_engine(self, ns: str, sid: str, *_: Any) -> tuple:
        eio_sid = self.sio.manager.eio_sid_from_sid(sid, ns)
        self._later(self.sio.eio.disconnect(eio_sid))
        return ()

    async def ev_get_handshake(self, ns: str, sid: str, *_: Any) -> dict:
        info = dict(self.handshakes.get((ns, sid), {}))
        info["transport"] = self.sio.transport(sid, namespace=ns)
        info["nsp"] = ns
        info["id"] = sid
        return info

    async def ev_count(self, ns: str, sid: str, *_: Any) -> int:
        return sum(
            1
            for s, _eio in self.sio.manager.get_participants(ns, None)
            if self.sio.manager.is_connected(s, ns)
        )

    async def ev_get_received(self, ns: str, sid: str, *_: Any) -> list:
        return list(self.received.get((ns, sid), []))


async def _serve(cfg: dict[str, Any]) -> None:
    server = TestServer(cfg)
    host = cfg.get("host") or "127.0.0.1"
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, int(cfg.get("port") or 0)))
    except OSError as exc:
        print(
            json.dumps({"event": "error", "code": _errno_name(exc), "message": str(exc)}),
            flush=True,
        )
        sys.exit(1)
    sock.listen(1024)
    ssl_args: dict[str, Any] = {}
    if cfg.get("key") or cfg.get("cert"):
        ssl_args = {"ssl_keyfile": cfg["key"], "ssl_certfile": cfg["cert"]}
        if cfg.get("clientCa"):
            import ssl

            ssl_args.update(ssl_ca_certs=cfg["clientCa"], ssl_cert_reqs=ssl.CERT_REQUIRED)
    config = uvicorn.Config(
        server.app,
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
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, _stop, http)
    if cfg.get("exitOnStdinClose", True):
        loop.add_reader(sys.stdin.fileno(), _stdin_readable, loop, http)
    serving = asyncio.ensure_future(http.serve(sockets=[sock]))
    while not http.started and not serving.done():
        await asyncio.sleep(0.01)
    if serving.done():
        serving.result()
        sys.exit(1)
    print(json.dumps({"event": "listening", "port": sock.getsockname()[1]}), flush=True)
    await serving
    server.log("shutting down")


def _stop(http: uvicorn.Server) -> None:
    http.should_exit = True
    http.force_exit = True


def _stdin_readable(loop: asyncio.AbstractEventLoop, http: uvicorn.Server) -> None:
    # the parent holds our stdin: when it goes away (even by crashing), so do we
    try:
        data = os.read(sys.stdin.fileno(), 4096)
    except OSError:
        data = b""
    if not data:
        loop.remove_reader(sys.stdin.fileno())
        _stop(http)


def main() -> None:
    asyncio.run(_serve(load_config()))
    os._exit(0)


if __name__ == "__main__":
    main()
