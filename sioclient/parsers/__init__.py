"""Socket.IO parsers: how packets become Engine.IO messages and back.

A parser is any object with two methods::

    encode(packet: Packet) -> list[str | bytes]
        The Engine.IO message payloads that carry ``packet``: the packet first, then its
        binary attachments (if the format has any).  ``str`` goes out as a text message,
        ``bytes`` as a binary one.

    decoder() -> Decoder
        A new stateful decoder for one connection.  ``Decoder.feed(message)`` takes one
        Engine.IO message payload (``str`` or ``bytes``) and returns the list of packets that
        message completed (often one, none while binary attachments are still due).  It raises
        ``sioclient.ProtocolError`` on bad input.

The built-ins are obtained with :func:`get`: ``'default'`` (socket.io-parser), ``'json'``
(socket.io-json-parser) and ``'msgpack'`` (socket.io-msgpack-parser), each for Socket.IO
protocol revision 4 (socket.io 2.x servers) or 5 (3.x and 4.x servers).
"""

from __future__ import annotations

from typing import Protocol, Union

from ..core.packet import (
    ACK,
    BINARY_ACK,
    BINARY_EVENT,
    CONNECT,
    CONNECT_ERROR,
    DISCONNECT,
    ERROR,
    EVENT,
    Packet,
)

Message = Union[str, bytes]


class Decoder(Protocol):
    def feed(self, message: Message) -> list[Packet]: ...


class Parser(Protocol):
    def encode(self, packet: Packet) -> list[Message]: ...

    def decoder(self) -> Decoder: ...


NAMES = ("default", "json", "msgpack")


def get(name: str, protocol: int = 5) -> Parser:
    """The built-in parser ``name`` ('default', 'json' or 'msgpack') for revision 4 or 5."""
    if protocol not in (4, 5):
        raise ValueError(f"unknown Socket.IO protocol revision {protocol!r} (expected 4 or 5)")
    if name == "default":
        from .default import DefaultParser

        return DefaultParser(protocol)
    if name == "json":
        from .jsonparser import JsonParser

        return JsonParser(protocol)
    if name == "msgpack":
        from .msgpackparser import MsgpackParser

        return MsgpackParser(protocol)
    raise ValueError(f"unknown parser {name!r} (expected one of {', '.join(NAMES)})")


__all__ = [
    "ACK",
    "BINARY_ACK",
    "BINARY_EVENT",
    "CONNECT",
    "CONNECT_ERROR",
    "DISCONNECT",
    "ERROR",
    "EVENT",
    "NAMES",
    "Decoder",
    "Message",
    "Packet",
    "Parser",
    "get",
]
