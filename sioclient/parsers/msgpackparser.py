"""The socket.io-msgpack-parser wire format (npm 2.x for revision 4, 3.x for revision 5).

Each packet is one binary message: the packet object ``{type, data, id, nsp}`` in msgpack, the
bytes notepack.io writes for it (see :mod:`sioclient.core._msgpack_py` for how the encodings
are matched).  Bytes anywhere in ``data`` travel as msgpack ``bin``; there are no attachments.

Revision 4 (2.x) sends CONNECT, DISCONNECT and ERROR as JSON text instead, and its decoder
takes either form for any packet; revision 5 (3.x) is msgpack only and has no BINARY_* types.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from ..core import _accel
from ..core.packet import Packet
from ..core.revisions import by_protocol

if TYPE_CHECKING:
    from ..core import _msgpack_py

Message = Any  # str | bytes


def check_packet(packet: Packet, binary_types: bool) -> int:
    """The type to write for ``packet``; ValueError for what the format cannot carry.

    ``binary_types``: the revision's ``parser_binary_types``."""
    return _accel.load("msgpack").check_packet(packet, binary_types)


class MsgpackParser:
    """``encode(packet)`` and ``decoder()`` for socket.io-msgpack-parser.

    The hot module is picked when the parser is made; ``encode`` is its encoder's method
    itself, and each decoder its ``Decoder``, so no Python frame sits on a packet's path."""

    name = "msgpack"
    encode: Callable[[Packet], list[Message]]

    def __init__(self, protocol: int = 5) -> None:
        revision = by_protocol(protocol)
        self.protocol = protocol
        self._binary_types = revision.parser_binary_types
        self._text_control = revision.msgpack_text_control
        self._impl = _accel.load("msgpack")
        self.encode = self._impl.Encoder(self._binary_types, self._text_control).encode

    def decoder(self) -> _msgpack_py.Decoder:
        return self._impl.Decoder(self.protocol, self._text_control)

    def __repr__(self) -> str:
        return f"MsgpackParser(protocol={self.protocol})"


def load_json(message: Message, impl: _accel.HotMsgpack) -> Any:
    """The JSON text ``message`` decoded, nesting bounded; ProtocolError when invalid."""
    return impl.load_json(message)
