"""Everything that differs between the two protocol generations, in one place.

=====================  ===============================  ===============================
                       ``EIO3``                         ``EIO4``
=====================  ===============================  ===============================
servers                socket.io 2.x (and 3.x/4.x       socket.io 3.x and 4.x
                       with ``allowEIO3``)
``EIO`` query value    ``3``                            ``4``
Socket.IO revision     4                                5
heartbeat              the client pings every           the server pings; the client
                       ``pingInterval`` and expects     answers pong and expects the next
                       pong within ``pingTimeout``      ping within interval + timeout
binary WebSocket       type byte + data                 the raw bytes (always a message)
frame
polling payload        ``<len>:<packet>``, len in       packets joined by ``\\x1e``
                       UTF-16 units; binary as
                       ``b<type><base64>`` or the
                       XHR2 binary framing
``b64=1`` query        the server base64-encodes        ignored for polling (always
                       binary in polling answers        base64); ``b64`` still makes a
                       (else it sends XHR2 framing)     WebSocket send base64 text
namespace ``/``        the server connects it by        the client must send ``40``
                       itself (``40`` arrives unasked)
CONNECT                the namespace's query after      an auth payload: ``40/n,{..}``;
                       its name: ``40/n?k=v,``; the     the answer carries the
                       answer has no sid                namespace's sid
refusal                reported as ``connect_error``    ``connect_error`` only
                       and ``error`` (client 2.x)
=====================  ===============================  ===============================

A 4.x server closes a client that pings in the wrong direction, so the heartbeat direction must
follow the revision actually spoken, never the one first asked for.

The framing rows (binary frames, polling payloads, ``b64``) are carried out by the hot module
``_eio_py``, which takes the ``eio`` value of a ``Revision`` (the codec methods below pass it);
the other rows are the flags of ``Revision``, read by ``session.py``, ``namespaces.py`` and the
parsers.  Nothing else in the package branches on a revision number.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Union

from . import _accel

#: the hot modules in use, by name (tests swap entries; load() fills it on first use)
_IN_USE = _accel._loaded


@dataclass(frozen=True)
class Revision:
    """One protocol generation.  The codec methods use the hot module in use at call time."""

    #: Engine.IO revision, also the value of the ``EIO`` query parameter
    eio: int
    #: Socket.IO protocol revision spoken over it
    sio: int
    #: True: the client sends the pings (revision 3); False: the server does (revision 4)
    client_pings: bool
    #: True: the server connects the default namespace on its own
    auto_connects_default_namespace: bool
    #: True: CONNECT carries an auth payload and its answer the namespace's sid; False: the
    #: namespace's query rides in its name and the answer is a bare ``40``
    connect_auth: bool
    #: True: a refused namespace is reported as ``error`` too, after ``connect_error``
    refusal_also_error: bool
    #: msgpack and json parsers (npm 2.x for revision 4, 3.x for 5): True: BINARY_EVENT and
    #: BINARY_ACK keep their types on the wire; False: they travel as EVENT and ACK
    parser_binary_types: bool
    #: msgpack parser: True: CONNECT, DISCONNECT and CONNECT_ERROR travel as JSON text (and a
    #: text message is valid); False: every packet is msgpack
    msgpack_text_control: bool

    @property
    def query_value(self) -> str:
        return str(self.eio)

    # The two per-packet codec methods read the implementation in use straight from _accel's
    # table: a dict lookup, where _accel.load() adds a Python call to every packet.
    def encode_packet(self, ptype: int, data: Any, binary_ok: bool = True) -> Union[str, bytes]:
        mod = _IN_USE.get("eio") or _accel.load("eio")
        return mod.encode_packet(ptype, data, self.eio, binary_ok)

    def decode_packet(self, frame: Union[str, bytes]) -> tuple[int, Union[str, bytes]]:
        mod = _IN_USE.get("eio") or _accel.load("eio")
        return mod.decode_packet(frame, self.eio)

    def encode_payload(self, packets: list[tuple[int, Any]], b64: bool = True) -> Union[str, bytes]:
        return _accel.load("eio").encode_payload(packets, self.eio, b64)

    def decode_payload(
        self, body: Union[str, bytes], max_payload: int | None = None
    ) -> list[tuple[int, Union[str, bytes]]]:
        return _accel.load("eio").decode_payload(body, self.eio, max_payload)

    def payload_item_size(self, ptype: int, data: Any) -> int:
        return _accel.load("eio").payload_item_size(ptype, data, self.eio)


EIO3 = Revision(
    eio=3,
    sio=4,
    client_pings=True,
    auto_connects_default_namespace=True,
    connect_auth=False,
    refusal_also_error=True,
    parser_binary_types=True,
    msgpack_text_control=True,
)
EIO4 = Revision(
    eio=4,
    sio=5,
    client_pings=False,
    auto_connects_default_namespace=False,
    connect_auth=True,
    refusal_also_error=False,
    parser_binary_types=False,
    msgpack_text_control=False,
)

_BY_EIO = {3: EIO3, 4: EIO4}
_BY_SIO = {4: EIO3, 5: EIO4}


def by_eio(eio: int) -> Revision:
    """The revision for an ``EIO`` value (3 or 4)."""
    try:
        return _BY_EIO[eio]
    except KeyError:
        raise ValueError(f"unknown Engine.IO revision {eio!r} (expected 3 or 4)") from None


def by_protocol(protocol: int) -> Revision:
    """The revision that carries Socket.IO protocol revision ``protocol`` (4 or 5)."""
    try:
        return _BY_SIO[protocol]
    except KeyError:
        raise ValueError(
            f"unknown Socket.IO protocol revision {protocol!r} (expected 4 or 5)"
        ) from None


__all__ = ["EIO3", "EIO4", "Revision", "by_eio", "by_protocol"]
