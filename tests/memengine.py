"""An in-memory Engine with a small scripted server side, for unit tests of the API layer.

``MemEngine`` has the interface of ``sioclient.engine.Engine`` (``open``, ``send``, ``close``,
``id``, ``transport``, ``protocol``, ``ping_interval``, ``ping_timeout``, ``ready_state``) and
calls its listener from a reader greenlet of its own, in order, as the real Engine does.

``MemServer`` plays the server: it decides whether an open succeeds, fails or hangs, answers
namespace CONNECTs (accepting or refusing), records every packet the client sent, and lets a
test push packets, pings and drops.  It speaks the socket.io-parser string format through
``MiniParser``, an independent few-line codec that doubles as an oracle for the real parser.

Usage::

    server = MemServer(protocol=5)
    with server.installed():               # Manager.engine_factory -> server.factory
        sock = sioclient.io("http://x", force_new=True)
        server.wait_for(lambda: sock.connected)
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
from typing import Any, Callable

import gevent
from gevent.event import Event
from gevent.queue import Queue

from sioclient.core.packet import (
    ACK,
    BINARY_ACK,
    BINARY_EVENT,
    CONNECT,
    CONNECT_ERROR,
    DISCONNECT,
    EVENT,
    Packet,
)
from sioclient.exceptions import ConnectionError, ProtocolError

WAIT = 5.0  # seconds; every wait in these tests is bounded


# ---- a minimal socket.io-parser codec (string format with binary placeholders) ------------


def _deconstruct(data: Any, buffers: list[bytes]) -> Any:
    if isinstance(data, (bytes, bytearray, memoryview)):
        buffers.append(bytes(data))
        return {"_placeholder": True, "num": len(buffers) - 1}
    if isinstance(data, (list, tuple)):
        return [_deconstruct(v, buffers) for v in data]
    if isinstance(data, dict):
        return {k: _deconstruct(v, buffers) for k, v in data.items()}
    return data


def _reconstruct(data: Any, buffers: list[bytes]) -> Any:
    if isinstance(data, list):
        return [_reconstruct(v, buffers) for v in data]
    if isinstance(data, dict):
        if data.get("_placeholder") is True and isinstance(data.get("num"), int):
            return buffers[data["num"]]
        return {k: _reconstruct(v, buffers) for k, v in data.items()}
    return data


class _MiniDecoder:
    def __init__(self) -> None:
        self._pending: Packet | None = None
        self._buffers: list[bytes] = []

    def feed(self, message: str | bytes) -> list[Packet]:
        if isinstance(message, (bytes, bytearray)):
            if self._pending is None:
                raise ProtocolError("unexpected binary message", message)
            self._buffers.append(bytes(message))
            if len(self._buffers) < self._pending.attachments:
                return []
            packet, self._pending = self._pending, None
            packet.data = _reconstruct(packet.data, self._buffers)
            self._buffers = []
            return [packet]
        if not message or not message[0].isdigit():
            raise ProtocolError("bad packet", message)
        kind, i = int(message[0]), 1
        attachments = 0
        if kind in (BINARY_EVENT, BINARY_ACK):
            dash = message.index("-", i)
            attachments, i = int(message[i:dash]), dash + 1
        nsp = "/"
        if i < len(message) and message[i] == "/":
            comma = message.find(",", i)
            end = len(message) if comma < 0 else comma
            nsp, i = message[i:end], (end + 1 if comma >= 0 else end)
        start = i
        while i < len(message) and message[i].isdigit():
            i += 1
        ack_id = int(message[start:i]) if i > start else None
        data = json.loads(message[i:]) if i < len(message) else None
        packet = Packet(kind, nsp, data, ack_id, attachments)
        if attachments:
            self._pending = packet
            return []
        return [packet]


class MiniParser:
    """socket.io-parser's string format; enough for the scripted server and the client."""

    def __init__(self, protocol: int = 5) -> None:
        self.protocol = protocol

    def encode(self, packet: Packet) -> list[str | bytes]:
        buffers: list[bytes] = []
        data = _deconstruct(packet.data, buffers)
        kind = packet.type
        if buffers and kind in (EVENT, ACK):
            kind += BINARY_EVENT - EVENT
        out = str(kind)
        if kind in (BINARY_EVENT, BINARY_ACK):
            out += f"{len(buffers)}-"
        if packet.nsp and packet.nsp != "/":
            out += packet.nsp + ","
        if packet.id is not None:
            out += str(packet.id)
        if data is not None:
            out += json.dumps(data, separators=(",", ":"), ensure_ascii=False)
        return [out, *buffers]

    def decoder(self) -> _MiniDecoder:
        return _MiniDecoder()


def client_parser_option() -> Any:
    """'default' once sioclient's own parser exists, the mini parser before."""
    try:
        from sioclient import parsers

        parsers.get("default", 5)
        return "default"
    except ImportError:
        return MiniParser()


# ---- the engine ----------------------------------------------------------------------------


class MemEngine:
    """``sioclient.engine.Engine``'s interface, over a ``MemServer`` instead of a network."""

    def __init__(self, url: str, opts: dict, listener: Any, server: MemServer) -> None:
        self.url = url
        self.opts = opts
        self.listener = listener
        self.server = server
        self.id: str | None = None
        self.transport: str | None = None
        self.protocol: int | None = None
        self.ping_interval = 25.0
        self.ping_timeout = 20.0
        self.ready_state = "closed"
        self.opened_with: dict[str, Any] | None = None  # the options as read at open()
        self.sent: list[tuple[list[str | bytes], bool]] = []  # (messages, compress) per send
        self.closed_by_client = False
        self._inbox: Queue = Queue()
        self._reader = gevent.spawn(self._read)
        self._decoder = _MiniDecoder()
        self._server_parser: MiniParser | None = None

    def __repr__(self) -> str:
        return f"<MemEngine {self.id} {self.ready_state}>"

    # -- the interface the Manager uses --

    def open(self) -> None:
        self.opened_with = {
            k: (dict(v) if isinstance(v, dict) else list(v) if isinstance(v, list) else v)
            for k, v in self.opts.items()
        }
        self.ready_state = "opening"
        self.server._open(self)

    def send(self, messages: list[str | bytes], compress: bool = True, wait: bool = True) -> bool:
        if self.ready_state != "open":
            raise AssertionError(f"send on a {self.ready_state} engine: {messages!r}")
        self.sent.append((list(messages), compress))
        for message in messages:
            for packet in self._decoder.feed(message):
                self.server._received(self, packet, compress)
        return True

    def close(self) -> None:
        if self.ready_state == "closed":
            self._inbox.put(None)  # stops the reader if nothing else did
            return
        was_open = self.ready_state == "open"
        self.closed_by_client = True
        self.ready_state = "closed"
        self.server._closed(self)
        if was_open:
            self._inbox.put(("close", "forced close", None))
        self._inbox.put(None)

    # -- what the server side does --

    def accept(self) -> None:
        """Completes the handshake."""
        self.id = self.server._new_sid()
        self.protocol = self.server.protocol or self.opts.get("protocol") or 5
        self.transport = self.opts["transports"][-1] if self.opts.get("upgrade") else "polling"
        self._server_parser = MiniParser(self.protocol)
        self.ready_state = "open"
        self._inbox.put(("open", self))
        if self.protocol == 4 and self.server.accept_root_on_open:
            self.push_packet(Packet(CONNECT, "/"))

    def refuse(self, error: BaseException | None = None) -> None:
        self.ready_state = "closed"
        self._inbox.put(("error", error or ConnectionError("connection refused")))
        self._inbox.put(None)

    def push(self, *messages: str | bytes) -> None:
        """Delivers Engine.IO messages to the client, in order."""
        for message in messages:
            self._inbox.put(("message", message))

    def push_packet(self, packet: Packet) -> None:
        self.push(*MiniParser(self.protocol or 5).encode(packet))

    def emit(self, nsp: str, event: str, *args: Any, ack_id: int | None = None) -> None:
        """The server emits ``event`` on namespace ``nsp``."""
        self.push_packet(Packet(EVENT, nsp, [event, *args], ack_id))

    def ack(self, nsp: str, ack_id: int, *args: Any) -> None:
        self.push_packet(Packet(ACK, nsp, list(args), ack_id))

    def drop(self, reason: str = "transport close") -> None:
        """The connection breaks (server side)."""
        if self.ready_state != "open":
            return
        self.ready_state = "closed"
        self.server._closed(self)
        self._inbox.put(("close", reason, None))
        self._inbox.put(None)

    def ping(self, latency_ms: float = 3.0) -> None:
        self._inbox.put(("ping",))
        self._inbox.put(("pong", latency_ms))

    # -- the reader greenlet --

    def _read(self) -> None:
        while True:
            item = self._inbox.get()
            if item is None:
                return
            kind, *args = item
            getattr(self.listener, f"on_engine_{kind}")(*args)


class Received:
    """A packet the client sent, with the engine it went through."""

    __slots__ = ("engine", "packet", "compress")

    def __init__(self, engine: MemEngine, packet: Packet, compress: bool) -> None:
        self.engine = engine
        self.packet = packet
        self.compress = compress

    def __repr__(self) -> str:
        return f"Received({self.packet!r} via {self.engine.id})"


class MemServer:
    """The scripted server side shared by every ``MemEngine`` it makes.

    ``protocol``: the revision it speaks (4 or 5).  ``open_mode``: 'accept', 'refuse' or 'hang'
    for every open, or a callable ``(engine) -> mode``.  ``namespaces``: a callable
    ``(nsp, auth_or_query) -> None`` to accept or ``(message, data)`` to refuse a namespace.
    ``on_event``: a callable ``(engine, packet)`` for each EVENT the client sends.
    """

    def __init__(self, protocol: int = 5) -> None:
        self.protocol = protocol
        self.open_mode: str | Callable[[MemEngine], str] = "accept"
        self.accept_root_on_open = True  # revision 4: a 2.x server connects `/` by itself
        self.namespaces: Callable[[str, Any], tuple[str, Any] | None] = lambda nsp, auth: None
        self.answer_connect = True
        self.on_event: Callable[[MemEngine, Packet], Any] | None = None
        self.engines: list[MemEngine] = []
        self.received: list[Received] = []
        self._sids = itertools.count(1)
        self._changed = Event()

    # -- wiring --

    def factory(self, url: str, opts: dict, listener: Any) -> MemEngine:
        engine = MemEngine(url, opts, listener, self)
        self.engines.append(engine)
        self._pulse()
        return engine

    @contextlib.contextmanager
    def installed(self):
        """Makes every Manager build its engines here, for the duration of the block."""
        from sioclient import client
        from sioclient.manager import Manager

        saved = Manager.__dict__["engine_factory"]
        Manager.engine_factory = staticmethod(self.factory)  # type: ignore[assignment]
        cached = dict(client.managers)
        client.managers.clear()
        try:
            yield self
        finally:
            # every manager that used us, cached or not, so that none reconnects into the
            # next test's server
            for manager in {id(m): m for m in self._managers()}.values():
                manager.close()
            for manager in list(client.managers.values()):
                manager.close()
            client.managers.clear()
            client.managers.update(cached)
            Manager.engine_factory = saved
            for engine in self.engines:
                engine.close()

    def _managers(self) -> list[Any]:
        return [e.listener.manager for e in self.engines if hasattr(e.listener, "manager")]

    # -- looking --

    @property
    def engine(self) -> MemEngine:
        """The newest engine."""
        return self.engines[-1]

    def packets(self, kind: int | None = None, nsp: str | None = None) -> list[Packet]:
        """What the client sent; EVENT also matches BINARY_EVENT, ACK also BINARY_ACK."""
        kinds = {kind, kind + 3} if kind in (EVENT, ACK) else {kind}
        return [
            r.packet
            for r in self.received
            if (kind is None or r.packet.type in kinds) and (nsp is None or r.packet.nsp == nsp)
        ]

    def events(self, nsp: str | None = None) -> list[list[Any]]:
        return [p.data for p in self.packets(None, nsp) if p.type in (EVENT, BINARY_EVENT)]

    def wait_for(self, predicate: Callable[[], Any], timeout: float = WAIT) -> Any:
        """Waits (bounded) until ``predicate()`` is truthy; re-checked on every change."""
        with gevent.Timeout(timeout, AssertionError(f"timed out waiting for {predicate}")):
            while True:
                value = predicate()
                if value:
                    return value
                changed = self._changed
                # client-side state changes do not pulse us: poll them at a short interval too
                changed.wait(0.005)

    def wait_received(
        self, kind: int | None = None, nsp: str | None = None, count: int = 1, timeout=WAIT
    ) -> list[Packet]:
        return self.wait_for(
            lambda: found if len(found := self.packets(kind, nsp)) >= count else None, timeout
        )

    # -- server behaviour --

    def _new_sid(self) -> str:
        return base64.urlsafe_b64encode(f"sid{next(self._sids):05d}".encode()).decode().rstrip("=")

    def _open(self, engine: MemEngine) -> None:
        mode = self.open_mode(engine) if callable(self.open_mode) else self.open_mode
        if mode == "accept":
            engine.accept()
        elif mode == "refuse":
            engine.refuse()
        elif mode != "hang":
            raise AssertionError(f"unknown open mode {mode!r}")
        self._pulse()

    def _closed(self, engine: MemEngine) -> None:
        self._pulse()

    def _received(self, engine: MemEngine, packet: Packet, compress: bool) -> None:
        self.received.append(Received(engine, packet, compress))
        if packet.type == CONNECT and self.answer_connect:
            self._answer_connect(engine, packet)
        elif packet.type in (EVENT, BINARY_EVENT) and self.on_event is not None:
            self.on_event(engine, packet)
        self._pulse()

    def _answer_connect(self, engine: MemEngine, packet: Packet) -> None:
        nsp, _, query = packet.nsp.partition("?")
        refusal = self.namespaces(nsp, packet.data if engine.protocol == 5 else query)
        if engine.protocol == 4:
            if refusal is None:
                engine.push_packet(Packet(CONNECT, nsp))
            else:
                message, data = refusal
                body = message if data is None else {"message": message, "data": data}
                engine.push_packet(Packet(CONNECT_ERROR, nsp, body))
        elif refusal is None:
            engine.push_packet(Packet(CONNECT, nsp, {"sid": self._new_sid()}))
        else:
            message, data = refusal
            body = {"message": message} if data is None else {"message": message, "data": data}
            engine.push_packet(Packet(CONNECT_ERROR, nsp, body))

    def _pulse(self) -> None:
        changed, self._changed = self._changed, Event()
        changed.set()


__all__ = [
    "DISCONNECT",
    "MemEngine",
    "MemServer",
    "MiniParser",
    "Received",
    "WAIT",
    "client_parser_option",
]
