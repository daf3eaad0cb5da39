"""python-socketio's ``AsyncServer`` with the vocabulary of ``tests/node/server.js``, for any host.

The same events as ``tests/pyserver.py`` (python-socketio on gevent), written once for the
asyncio servers; the web server that carries it is the host's business:
``tests/asgiserver.py`` mounts it as an ASGI app under uvicorn, ``tests/aiohttpserver.py``
attaches it to an aiohttp ``web.Application``.  The helpers below are what both hosts share:
the bound listening socket (or the error line when the bind fails), the ``listening`` line, and
the stop on SIGTERM, SIGINT or the end of stdin.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from typing import Any, Callable

import socketio

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pyserver import (  # noqa: E402 - the shared vocabulary and helpers
    _errno_name,
    accept_connect,
    server_options,
)

__all__ = ["TestServer", "bind", "report_listening", "stop_on_signals"]


class TestServer:
    """The vocabulary on ``socketio.AsyncServer(async_mode=...)``; ``name`` prefixes the logs."""

    def __init__(self, cfg: dict[str, Any], async_mode: str, name: str) -> None:
        self.cfg = cfg
        self.name = name
        self.required = {k: str(v) for k, v in (cfg.get("auth") or {"token": "secret"}).items()}
        self.guarded = set(cfg.get("authNamespaces") or ["/private"])
        self.received: dict[tuple[str, str], list[Any]] = {}
        self.handshakes: dict[tuple[str, str], dict[str, Any]] = {}
        self.sio = socketio.AsyncServer(async_mode=async_mode, **self._options())
        self.sio.on("connect", self.on_connect, namespace="*")
        self.sio.on("disconnect", self.on_disconnect, namespace="*")
        self.sio.on("*", self.on_event, namespace="*")
        self._tasks: set[asyncio.Task] = set()

    @property
    def socketio_path(self) -> str:
        return (self.cfg.get("path") or "/socket.io").strip("/")

    def _options(self) -> dict[str, Any]:
        return server_options(self.cfg)

    def log(self, *args: Any) -> None:
        if self.cfg.get("debug"):
            print(f"[{self.name}]", *args, file=sys.stderr, flush=True)

    def _later(self, coro: Any) -> None:
        # after the handler returns, so that its ack leaves first (as the Node server does)
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- connection lifecycle -------------------------------------------------------------

    async def on_connect(self, namespace: str, sid: str, environ: dict, auth: Any = None) -> None:
        accept_connect(self, namespace, sid, environ, auth)

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


def bind(cfg: dict[str, Any]) -> socket.socket:
    """The listening socket of the config's host and port; on failure the error line and exit 1."""
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
    return sock


def report_listening(sock: socket.socket) -> None:
    print(json.dumps({"event": "listening", "port": sock.getsockname()[1]}), flush=True)


def stop_on_signals(cfg: dict[str, Any], stop: Callable[[], None]) -> None:
    """Calls ``stop`` on SIGTERM, SIGINT and (unless ``exitOnStdinClose`` is false) when stdin
    closes: the parent holds our stdin, so when it goes away (even by crashing), so do we."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop)
    if not cfg.get("exitOnStdinClose", True):
        return
    fd = sys.stdin.fileno()

    def readable() -> None:
        try:
            data = os.read(fd, 4096)
        except OSError:
            data = b""
        if not data:
            loop.remove_reader(fd)
            stop()

    loop.add_reader(fd, readable)
