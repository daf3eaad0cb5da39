"""Socket.IO packets: the type constants and the ``Packet`` value."""

from __future__ import annotations

from typing import Any

CONNECT = 0
DISCONNECT = 1
EVENT = 2
ACK = 3
CONNECT_ERROR = 4
ERROR = CONNECT_ERROR  # revision 4 (socket.io 2.x) name of type 4
BINARY_EVENT = 5
BINARY_ACK = 6

TYPE_NAMES = (
    "CONNECT",
    "DISCONNECT",
    "EVENT",
    "ACK",
    "CONNECT_ERROR",
    "BINARY_EVENT",
    "BINARY_ACK",
)


class Packet:
    """One Socket.IO packet.  ``data`` is JSON-able, with bytes allowed inside for binary packets.

    ``attachments`` is only meaningful for BINARY_EVENT/BINARY_ACK packets as seen on the wire
    (the number of binary attachments that followed); it does not take part in equality.
    """

    __slots__ = ("type", "nsp", "data", "id", "attachments")

    def __init__(
        self,
        type: int,  # noqa: A002 - the protocol's own name
        nsp: str = "/",
        data: Any = None,
        id: int | None = None,  # noqa: A002
        attachments: int = 0,
    ) -> None:
        self.type = type
        self.nsp = nsp
        self.data = data
        self.id = id
        self.attachments = attachments

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Packet):
            return NotImplemented
        return (
            self.type == other.type
            and self.nsp == other.nsp
            and self.id == other.id
            and self.data == other.data
        )

    def __ne__(self, other: object) -> bool:
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        name = TYPE_NAMES[self.type] if 0 <= self.type < len(TYPE_NAMES) else str(self.type)
        parts = [name, f"nsp={self.nsp!r}"]
        if self.id is not None:
            parts.append(f"id={self.id}")
        if self.data is not None:
            parts.append(f"data={self.data!r}")
        return f"Packet({', '.join(parts)})"
