"""Chooses between the compiled hot paths and their pure-Python twins.

``sioclient/core/_<name>_py.py`` is the source; ``sioclient.core._<name>_c`` is the same file
compiled by Cython (see setup.py).  ``SIOCLIENT_NO_EXTENSIONS=1`` forces the pure-Python code.

The implementation is chosen at call time (``load``; tests swap it in ``_loaded``), so the
type checker cannot follow an import to it.  Instead ``load`` is typed, per hot module, by a
protocol of what the package uses of it, and the pure twin, whose signatures the compiled one
shares, is checked against that protocol (the ``if TYPE_CHECKING`` block at the end): the
switch of the aio-libs projects, made at call time and for free at run time.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal, Protocol, Union, overload

if TYPE_CHECKING:
    from . import _eio_py, _msgpack_py, _sioparser_py, _wsframe_py
    from .packet import Packet

NO_EXTENSIONS = os.environ.get("SIOCLIENT_NO_EXTENSIONS", "") not in ("", "0")

#: the hot modules; each exists as _<name>_py and, when built, _<name>_c
HOT_MODULES = ("sioparser", "eio", "msgpack", "wsframe")

_loaded: dict[str, ModuleType] = {}


def pure(name: str) -> ModuleType:
    return importlib.import_module(f"sioclient.core._{name}_py")


def compiled(name: str) -> ModuleType | None:
    """The compiled twin, or None when it was not built."""
    try:
        return importlib.import_module(f"sioclient.core._{name}_c")
    except ImportError:
        return None


Frame = Union[str, bytes, bytearray, memoryview]


class HotEio(Protocol):
    """The ``eio`` hot module: Engine.IO packets and payloads (``_eio_py``)."""

    def encode_packet(
        self, ptype: int, data: Frame | None, revision: int, binary_ok: bool = True
    ) -> str | bytes: ...

    def decode_packet(self, frame: Frame, revision: int) -> tuple[int, str | bytes]: ...

    def encode_payload(
        self, packets: list[tuple[int, Frame | None]], revision: int, b64: bool = True
    ) -> str | bytes: ...

    def decode_payload(
        self, body: Frame, revision: int, max_payload: int | None = None
    ) -> list[tuple[int, str | bytes]]: ...

    def payload_item_size(self, ptype: int, data: Frame | None, revision: int) -> int: ...

    def detect_revision(self, body: Frame) -> int: ...


class HotMsgpack(Protocol):
    """The ``msgpack`` hot module: the packet mapping of the msgpack and json parsers."""

    MAX_DEPTH: int
    FLAVOUR_JSON: int
    FLAVOUR_MSGPACK: int

    def packet_map(
        self, ptype: int, nsp: str, data: Any, pid: int | None, normalise: bool
    ) -> dict[str, Any]: ...

    def unpack(self, buf: bytes | bytearray | memoryview) -> Any: ...

    def map_to_packet(self, obj: object, protocol: int, flavour: int, raw: object) -> Packet: ...

    def check_depth(self, value: Any, limit: int, raw: object) -> None: ...

    def check_packet(self, packet: Packet, binary_types: bool) -> int: ...

    def load_json(self, message: Any) -> Any: ...

    @property
    def Encoder(self) -> type[_msgpack_py.Encoder]: ...

    @property
    def Decoder(self) -> type[_msgpack_py.Decoder]: ...


class HotSioparser(Protocol):
    """The ``sioparser`` hot module: socket.io-parser's encoder and decoder classes."""

    DEFAULT_MAX_ATTACHMENTS: int
    DEFAULT_MAX_DEPTH: int

    @property
    def Encoder(self) -> type[_sioparser_py.Encoder]: ...

    @property
    def Decoder(self) -> type[_sioparser_py.Decoder]: ...

    def js_floats(self, data: Any) -> Any: ...

    def event_packet(self, nsp: str, event: Any, args: tuple[Any, ...]) -> Packet: ...


class HotWsframe(Protocol):
    """The ``wsframe`` hot module: WebSocket frame reader and writer classes."""

    @property
    def FrameReader(self) -> type[_wsframe_py.FrameReader]: ...

    @property
    def FrameWriter(self) -> type[_wsframe_py.FrameWriter]: ...


@overload
def load(name: Literal["eio"]) -> HotEio: ...


@overload
def load(name: Literal["msgpack"]) -> HotMsgpack: ...


@overload
def load(name: Literal["sioparser"]) -> HotSioparser: ...


@overload
def load(name: Literal["wsframe"]) -> HotWsframe: ...


def load(name: str) -> Any:
    """The implementation in use for hot module ``name``."""
    mod = _loaded.get(name)
    if mod is None:
        mod = _choose(name)
    return mod


def _choose(name: str) -> ModuleType:
    mod = None if NO_EXTENSIONS else compiled(name)
    if mod is None:
        mod = pure(name)
    _loaded[name] = mod
    return mod


def speedups_in_use() -> bool:
    """True when every hot module in use is compiled."""
    if NO_EXTENSIONS:
        return False
    return all((_loaded.get(n) or _choose(n)).__name__.endswith("_c") for n in HOT_MODULES)


if TYPE_CHECKING:
    # The pure twins must keep the signatures the protocols promise (and with them the
    # compiled twins, built from the same files).
    _eio: HotEio = _eio_py
    _msgpack: HotMsgpack = _msgpack_py
    _sioparser: HotSioparser = _sioparser_py
    _wsframe: HotWsframe = _wsframe_py
