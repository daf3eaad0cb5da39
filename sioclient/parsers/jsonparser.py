"""The socket.io-json-parser wire format (npm 2.x for revision 4, 3.x for revision 5).

Each packet is one text message, the packet object ``{type, data, id, nsp}`` as
``JSON.stringify`` writes it (keys in the order socket.io-client builds them, absent ones left
out).  The format has no binary support: encoding bytes raises ``TypeError``.

Validation follows the npm decoders: revision 4 accepts types 0-6 and wants ERROR data to be a
string; revision 5 accepts types 0-4 and wants CONNECT_ERROR data to be an object.
"""

from __future__ import annotations

from typing import Any

from ..core import _accel, jsoncodec
from ..core.packet import Packet
from ..core.revisions import by_protocol
from ..exceptions import ProtocolError

Message = Any  # str | bytes


def _find_bytes(value: Any, path: str) -> str | None:
    """Where the first bytes-like value sits in ``value`` (for the error message)."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return path
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            found = _find_bytes(item, f"{path}[{i}]")
            if found is not None:
                return found
    elif isinstance(value, dict):
        for key, item in value.items():
            found = _find_bytes(item, f"{path}[{key!r}]")
            if found is not None:
                return found
    return None


class JsonParser:
    """``encode(packet)`` and ``decoder()`` for socket.io-json-parser."""

    name = "json"

    def __init__(self, protocol: int = 5) -> None:
        self._binary_types = by_protocol(protocol).parser_binary_types
        self.protocol = protocol
        self._impl = _accel.load("msgpack")  # the packet mapping is shared with msgpack

    def encode(self, packet: Packet) -> list[Message]:
        ptype = self._impl.check_packet(packet, self._binary_types)
        obj = self._impl.packet_map(ptype, packet.nsp, packet.data, packet.id, False)
        try:
            return [jsoncodec.dumps(obj)]
        except TypeError:
            where = _find_bytes(packet.data, "data")
            if where is not None:
                raise TypeError(
                    f"the json parser cannot carry binary data ({where} is bytes); "
                    "use the default or the msgpack parser"
                ) from None
            raise

    def decoder(self) -> JsonDecoder:
        return JsonDecoder(self.protocol, self._impl)

    def __repr__(self) -> str:
        return f"JsonParser(protocol={self.protocol})"


class JsonDecoder:
    """Turns each text message into one packet."""

    def __init__(self, protocol: int, impl: _accel.HotMsgpack) -> None:
        self.protocol = protocol
        self._impl = impl

    def feed(self, message: Message) -> list[Packet]:
        if not isinstance(message, (str, bytes, bytearray, memoryview)):
            raise TypeError(f"a message is str or bytes, not {type(message).__name__}")
        if not isinstance(message, str):
            # JSON.parse(buffer) reads the buffer as UTF-8 text; so do we
            try:
                message = bytes(message).decode("utf-8")
            except UnicodeDecodeError:
                raise ProtocolError("binary message is not UTF-8 JSON", message) from None
        impl = self._impl
        obj = impl.load_json(message)
        return [impl.map_to_packet(obj, self.protocol, impl.FLAVOUR_JSON, message)]
