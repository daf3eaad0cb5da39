"""The socket.io-msgpack-parser wire format (npm 2.x for revision 4, 3.x for revision 5).

Each packet is one binary message: the packet object ``{type, data, id, nsp}`` in msgpack, the
bytes notepack.io writes for it (see :mod:`sioclient.core._msgpack_py` for how the encodings
are matched).  Bytes anywhere in ``data`` travel as msgpack ``bin``; there are no attachments.

Revision 4 (2.x) sends CONNECT, DISCONNECT and ERROR as JSON text instead, and its decoder
takes either form for any packet; revision 5 (3.x) is msgpack only and has no BINARY_* types.
"""

from __future__ import annotations

from typing import Any

import msgpack

from ..core import _accel, jsoncodec
from ..core.packet import (
    ACK,
    BINARY_ACK,
    BINARY_EVENT,
    CONNECT,
    CONNECT_ERROR,
    DISCONNECT,
    EVENT,
    Packet,
)
from ..core.revisions import by_protocol
from ..exceptions import ProtocolError

Message = Any  # str | bytes


#: revision-4 packet types that socket.io-msgpack-parser 2.x sends as JSON text
_JSON_TYPES_V4 = (CONNECT, DISCONNECT, CONNECT_ERROR)


def check_packet(packet: Packet, binary_types: bool) -> int:
    """The type to write for ``packet``; ValueError for what the format cannot carry.

    ``binary_types``: the revision's ``parser_binary_types``."""
    ptype = packet.type
    if type(ptype) is not int or not CONNECT <= ptype <= BINARY_ACK:
        raise ValueError(f"invalid packet type {ptype!r}")
    if not binary_types:
        # 3.x decoders know no BINARY_* types; binary data needs no special type here
        if ptype == BINARY_EVENT:
            ptype = EVENT
        elif ptype == BINARY_ACK:
            ptype = ACK
    if not isinstance(packet.nsp, str):
        raise ValueError(f"invalid namespace {packet.nsp!r}")
    pid = packet.id
    if pid is not None and type(pid) is not int:
        raise ValueError(f"invalid packet id {pid!r}")
    return ptype


class MsgpackParser:
    """``encode(packet)`` and ``decoder()`` for socket.io-msgpack-parser."""

    name = "msgpack"

    def __init__(self, protocol: int = 5) -> None:
        revision = by_protocol(protocol)
        self.protocol = protocol
        self._binary_types = revision.parser_binary_types
        self._text_control = revision.msgpack_text_control
        self._impl = _accel.load("msgpack")
        # notepack writes str as str, Buffer as bin, and every non-whole number as float 64
        self._packer = msgpack.Packer(use_bin_type=True, use_single_float=False, autoreset=True)

    def encode(self, packet: Packet) -> list[Message]:
        ptype = check_packet(packet, self._binary_types)
        impl = self._impl
        if self._text_control and ptype in _JSON_TYPES_V4:
            obj = impl.packet_map(ptype, packet.nsp, packet.data, packet.id, False)
            return [jsoncodec.dumps(obj)]
        obj = impl.packet_map(ptype, packet.nsp, packet.data, packet.id, True)
        try:
            return [self._packer.pack(obj)]
        except (OverflowError, ValueError) as exc:
            raise ValueError(f"cannot encode {packet!r} with msgpack: {exc}") from None

    def decoder(self) -> MsgpackDecoder:
        return MsgpackDecoder(self.protocol, self._impl)

    def __repr__(self) -> str:
        return f"MsgpackParser(protocol={self.protocol})"


class MsgpackDecoder:
    """Turns each message into one packet (the format has no multi-message packets)."""

    def __init__(self, protocol: int, impl: _accel.HotMsgpack) -> None:
        self.protocol = protocol
        self._text_control = by_protocol(protocol).msgpack_text_control
        self._impl = impl

    def feed(self, message: Message) -> list[Packet]:
        impl = self._impl
        if isinstance(message, str):
            if not self._text_control:
                raise ProtocolError("text message where msgpack was expected", message)
            obj = load_json(message, impl)
        elif isinstance(message, (bytes, bytearray, memoryview)):
            obj = impl.unpack(message)
        else:
            raise TypeError(f"a message is str or bytes, not {type(message).__name__}")
        return [impl.map_to_packet(obj, self.protocol, impl.FLAVOUR_MSGPACK, message)]


def load_json(message: Message, impl: _accel.HotMsgpack) -> Any:
    """The JSON text ``message`` decoded, nesting bounded; ProtocolError when invalid."""
    try:
        obj = jsoncodec.loads(message)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"invalid JSON ({exc})", message) from None
    # deep nesting needs at least as many brackets: count them before walking anything
    if isinstance(message, str):
        brackets = message.count("[") + message.count("{")
    else:
        brackets = bytes(message).count(b"[") + bytes(message).count(b"{")
    if brackets > impl.MAX_DEPTH:
        impl.check_depth(obj, impl.MAX_DEPTH, message)
    return obj
