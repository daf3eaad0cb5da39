"""The default parser: socket.io-parser's wire format (text packets plus binary attachments)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from ..core import _accel
from ..core.packet import Packet

if TYPE_CHECKING:
    from ..core import _sioparser_py as sioparser


class DefaultParser:
    """socket.io-parser 3.x (``protocol=4``, socket.io 2.x) or 4.x (``protocol=5``).

    ``max_attachments`` and ``max_depth`` bound what a decoder accepts from the peer (see
    ``sioclient.core._sioparser_py``).  The hot module is picked when the parser is made, so
    switching implementations (``SIOCLIENT_NO_EXTENSIONS``, tests) takes effect for new parsers.
    """

    encode: Callable[[Packet], sioparser.Messages]

    def __init__(
        self,
        protocol: int = 5,
        max_attachments: int | None = None,
        max_depth: int | None = None,
    ) -> None:
        mod = _accel.load("sioparser")
        self._decoder_type = mod.Decoder
        self.protocol = protocol
        self.max_attachments = (
            mod.DEFAULT_MAX_ATTACHMENTS if max_attachments is None else max_attachments
        )
        self.max_depth = mod.DEFAULT_MAX_DEPTH if max_depth is None else max_depth
        # encode(packet) runs for every packet sent: bind the hot method itself, so that no
        # Python-level frame sits between the caller and the (compiled) encoder.
        self.encode = mod.Encoder(protocol).encode

    def decoder(self) -> sioparser.Decoder:
        """A new decoder for one connection; its ``feed(message)`` returns completed packets."""
        return self._decoder_type(self.protocol, self.max_attachments, self.max_depth)

    def __repr__(self) -> str:
        return f"DefaultParser(protocol={self.protocol})"
