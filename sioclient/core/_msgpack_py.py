"""HOT: the packet <-> mapping conversion of socket.io-msgpack-parser and socket.io-json-parser.

Both npm packages put the whole packet in one object (``{type, data, id, nsp}``), serialised by
notepack.io or ``JSON.stringify``.  This module builds that object from a packet, validates a
decoded one as the npm decoders do, and, for msgpack, makes the encoding byte-identical to
notepack.io's:

- key order: the order in which socket.io-client builds its packets (``type, data, id, nsp``;
  an ACK is ``type, id, data, nsp``); absent keys are left out, never written as nil;
- a float that is a whole number is written as an integer (JavaScript has one number type);
- inside data, keys that are array indices come first, in ascending order, as in a JS object;
- ``datetime`` travels as notepack's Date (fixext 8, type 0, milliseconds).

Decoding maps notepack's extensions back: fixext 1 type 0 (``undefined``) -> None, fixext 8
type 0 (Date) -> aware ``datetime``, ext 8/16/32 type 0 (ArrayBuffer) -> bytes, any other
extension -> ``[type, bytes]``.

Bounds on what a peer sends, the same in both twins:

- nesting: at most ``MAX_DEPTH`` (100) levels of arrays and maps, the packet map counting as one;
- every length and item count is checked against the bytes that remain before anything is
  built, so no header can make the decoder allocate more than the message justifies (a map
  claiming 4 billion entries in 5 bytes is refused, not sized);
- nothing may trail the message; the byte 0xC1 is refused; map keys must be str or bytes
  (msgpack's ``strict_map_key``); strings must be UTF-8.

The pure twin enforces them with :func:`scan`, a walk over the headers before msgpack's
``unpackb`` builds anything (``unpackb``'s own ``max_*_len`` limits, derived from the message
length, are a second line); scan also tells the extension hook which header each type-0
extension had (msgpack's hook only sees the payload).  The compiled twin reads an
extension-free message in one pass of C (``_speedups/_msgpackread.h``) that checks the same
bounds as it goes and sizes lists and dicts only within what the message's length allows; any
message it does not take whole goes through scan and ``unpackb`` as in the pure twin, which
word the error.  For the common packet (an EVENT or ACK with a list payload) ``Decoder.feed``
reads the packet map straight into a ``Packet``, without the dict, and ``Encoder.encode``
writes a ``Packet`` from its slots; both leave everything else to the path the pure twin takes.
Encoding in the compiled twin writes the common packet in one pass
(``_speedups/_msgpackwrite.h``) and leaves whatever needs normalising to the general path.

This file is also compiled by Cython (typed by ``_speedups/_msgpack_c.pxd``); keep it free of
generators and closures.
"""

from __future__ import annotations

import datetime
import struct
from typing import Any, NoReturn

import msgpack

from ..exceptions import ProtocolError
from . import jsoncodec
from .packet import Packet

CONNECT = 0
DISCONNECT = 1
EVENT = 2
ACK = 3
CONNECT_ERROR = 4
BINARY_EVENT = 5
BINARY_ACK = 6

#: which npm package's checks apply to a decoded map
FLAVOUR_JSON = 0
FLAVOUR_MSGPACK = 1

#: deepest nesting of arrays/maps accepted, the packet map itself counting as one level
MAX_DEPTH = 100

# notepack writes any whole number in the 64-bit integer formats; beyond them it corrupts the
# value, so such floats stay floats here.
_INT_MIN = -(2**63)
_UINT_MAX = 2**64 - 1
_INDEX_MAX = 2**32 - 2  # largest array index of a JS object key

# kinds of type-0 extensions, as recorded by scan()
_EXT_UNDEFINED = 0  # fixext 1
_EXT_DATE = 1  # fixext 8
_EXT_BUFFER = 2  # ext 8/16/32: an ArrayBuffer
_EXT_OTHER = 3  # fixext 2/4/16 of type 0: notepack returns [0, bytes]

#: revision-4 packet types that socket.io-msgpack-parser 2.x sends as JSON text
_JSON_TYPES_V4 = (CONNECT, DISCONNECT, CONNECT_ERROR)

_unpackb = msgpack.unpackb
_object_new = object.__new__
_json_loads = jsoncodec.loads
_json_dumps = jsoncodec.dumps

try:  # Cython's pure-Python shim: True only in the compiled twin
    import cython

    _COMPILED = bool(cython.compiled)
except ImportError:
    _COMPILED = False

# the compiled twin writes a Packet's slots itself (_speedups/_packet.h, declared in the .pxd)
_FAST_PACKET = False
if _COMPILED:
    _FAST_PACKET = _packet_prepare(Packet) == 1  # type: ignore[name-defined] # noqa: F821

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
_MS = datetime.timedelta(milliseconds=1)
_I64 = struct.Struct(">q")


class _Undefined:
    """JavaScript's ``undefined`` read from the wire (notepack's fixext 1 of type 0)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "UNDEFINED"


UNDEFINED = _Undefined()


# ---------------------------------------------------------------------------------------------
# encoding


def _is_index_key(key: str) -> bool:
    # "0", "1", ... "4294967294" without leading zeros: JS objects list these first, ascending.
    n = len(key)
    if n == 0 or n > 10 or not key.isdigit() or not key.isascii():
        return False
    if n > 1 and key[0] == "0":
        return False
    return int(key) <= _INDEX_MAX


def _norm_key(key: object) -> str:
    if type(key) is str:
        return key
    if isinstance(key, str):
        return str(key)
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, int):
        return str(key)
    if key is None:
        return "null"
    raise TypeError(f"cannot encode a map key of type {type(key).__name__}")


def _index_first(key: str) -> bool:
    # the cheap test first: an index key starts with a digit
    if len(key) == 0:
        return False
    c = key[0]
    return "0" <= c <= "9" and _is_index_key(key)


def _norm_dict(value: dict[Any, Any], depth: int) -> dict[str, Any]:
    # The common dict (str keys, none an array index, values as notepack sees them) comes back
    # as itself, with nothing allocated; the pairs are copied from the first change on.
    items = None
    has_index = False
    for key, item in value.items():
        k = _norm_key(key)
        v = _norm(item, depth)
        if not has_index and _index_first(k):
            has_index = True
        if items is None:
            if k is key and v is item:
                continue
            items = []
            for before, same in value.items():  # the pairs before this one, as they were
                if before is key:
                    break
                items.append((before, same))
        items.append((k, v))
    if has_index:
        if items is None:
            items = list(value.items())
        index = []
        named = []
        for pair in items:
            if _is_index_key(pair[0]):
                index.append((int(pair[0]), pair[0], pair[1]))
            else:
                named.append(pair)
        index.sort()
        out = {}
        for entry in index:
            out[entry[1]] = entry[2]
        for pair in named:
            out[pair[0]] = pair[1]
        return out
    if items is None:
        return value
    return dict(items)


def _norm_list(value: list[Any] | tuple[Any, ...], depth: int) -> list[Any] | tuple[Any, ...]:
    out = None
    n = len(value)
    i = 0
    while i < n:
        item = value[i]
        v = _norm(item, depth)
        if v is not item and out is None:
            out = list(value[:i])
        if out is not None:
            out.append(v)
        i += 1
    if out is not None:
        return out
    return value


def _norm(value: Any, depth: int) -> Any:
    """``value`` as notepack would see it; the same object when nothing had to change."""
    t = type(value)
    if t is str or t is bool or value is None or t is bytes:
        return value
    if t is int:  # beyond 64 bits: the Packer's OverflowError, which encode() words
        return value
    if t is float:
        if value.is_integer() and _INT_MIN <= value <= _UINT_MAX:
            return int(value)
        return value
    if t is list or t is tuple:
        if depth >= MAX_DEPTH:
            raise ValueError(f"data nested deeper than {MAX_DEPTH} levels")
        return _norm_list(value, depth + 1)
    if t is dict:
        if depth >= MAX_DEPTH:
            raise ValueError(f"data nested deeper than {MAX_DEPTH} levels")
        return _norm_dict(value, depth + 1)
    return _norm_other(value, depth)


def _norm_other(value: object, depth: int) -> Any:
    # Subclasses and the less common types, off the fast path.
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, bytes):
        return bytes(value)
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return _norm(int(value), depth)
    if isinstance(value, float):
        return _norm(float(value), depth)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            raise ValueError("cannot encode a naive datetime (give it a tzinfo)")
        ms = (value - _EPOCH) // _MS
        return msgpack.ExtType(0, _I64.pack(ms))
    if isinstance(value, (list, tuple)):
        return _norm(list(value), depth)
    if isinstance(value, dict):
        return _norm(dict(value), depth)
    raise TypeError(f"cannot encode a value of type {type(value).__name__}")


def packet_map(ptype: int, nsp: str, data: Any, pid: int | None, normalise: bool) -> dict[str, Any]:
    """The packet object as socket.io-client builds it; ``normalise`` for notepack parity."""
    if normalise and data is not None:
        data = _norm(data, 1)
    out: dict[str, Any] = {"type": ptype}
    if ptype == ACK or ptype == BINARY_ACK:
        if pid is not None:
            out["id"] = pid
        if data is not None:
            out["data"] = data
    else:
        if data is not None:
            out["data"] = data
        if pid is not None:
            out["id"] = pid
    out["nsp"] = nsp
    return out


# ---------------------------------------------------------------------------------------------
# decoding


def _fail(message: str, raw: object) -> NoReturn:
    raise ProtocolError(message, raw)


def _need(pos: int, n: int, end: int, raw: bytes) -> None:
    if n > end - pos:
        _fail("truncated msgpack message", raw)


def _u32(buf: bytes, pos: int) -> int:
    # the first byte is widened (typed in the .pxd) before the shift: 0x80 << 24 overflows a C int
    hi = buf[pos]
    return (hi << 24) | (buf[pos + 1] << 16) | (buf[pos + 2] << 8) | buf[pos + 3]


def _skip_items(
    buf: bytes, pos: int, end: int, count: int, depth: int, kinds: list[int], raw: bytes
) -> int:
    """Walks ``count`` msgpack objects from ``pos``; returns the position after them."""
    if depth > MAX_DEPTH:
        _fail(f"msgpack data nested deeper than {MAX_DEPTH} levels", raw)
    # every object takes at least one byte: a count larger than what remains is a lie
    if count > end - pos:
        _fail("msgpack container announces more items than the message holds", raw)
    while count > 0:
        count -= 1
        if pos >= end:
            _fail("truncated msgpack message", raw)
        b = buf[pos]
        pos += 1
        n = 0
        if b < 0x80 or b >= 0xE0:  # positive / negative fixint
            continue
        if b < 0x90:  # fixmap
            pos = _skip_items(buf, pos, end, (b & 0x0F) * 2, depth + 1, kinds, raw)
            continue
        if b < 0xA0:  # fixarray
            pos = _skip_items(buf, pos, end, b & 0x0F, depth + 1, kinds, raw)
            continue
        if b < 0xC0:  # fixstr
            n = b & 0x1F
            _need(pos, n, end, raw)
            pos += n
            continue
        if b == 0xC0 or b == 0xC2 or b == 0xC3:
            continue
        if b == 0xC4 or b == 0xD9:  # bin 8, str 8
            _need(pos, 1, end, raw)
            n = buf[pos]
            pos += 1
        elif b == 0xC5 or b == 0xDA:  # bin 16, str 16
            _need(pos, 2, end, raw)
            n = (buf[pos] << 8) | buf[pos + 1]
            pos += 2
        elif b == 0xC6 or b == 0xDB:  # bin 32, str 32
            _need(pos, 4, end, raw)
            n = _u32(buf, pos)
            pos += 4
        elif b == 0xC7 or b == 0xC8 or b == 0xC9:  # ext 8/16/32
            if b == 0xC7:
                _need(pos, 2, end, raw)
                n = buf[pos]
                pos += 1
            elif b == 0xC8:
                _need(pos, 3, end, raw)
                n = (buf[pos] << 8) | buf[pos + 1]
                pos += 2
            else:
                _need(pos, 5, end, raw)
                n = _u32(buf, pos)
                pos += 4
            if buf[pos] == 0:
                kinds.append(_EXT_BUFFER)
            pos += 1
        elif b == 0xCA:  # float 32
            n = 4
        elif b == 0xCB:  # float 64
            n = 8
        elif b == 0xCC or b == 0xD0:  # (u)int 8
            n = 1
        elif b == 0xCD or b == 0xD1:
            n = 2
        elif b == 0xCE or b == 0xD2:
            n = 4
        elif b == 0xCF or b == 0xD3:
            n = 8
        elif b >= 0xD4 and b <= 0xD8:  # fixext 1/2/4/8/16
            _need(pos, 1, end, raw)
            if buf[pos] == 0:
                if b == 0xD4:
                    kinds.append(_EXT_UNDEFINED)
                elif b == 0xD7:
                    kinds.append(_EXT_DATE)
                else:
                    kinds.append(_EXT_OTHER)
            pos += 1
            n = 1 << (b - 0xD4)
        elif b == 0xDC or b == 0xDE:  # array 16, map 16
            _need(pos, 2, end, raw)
            n = (buf[pos] << 8) | buf[pos + 1]
            pos += 2
            pos = _skip_items(buf, pos, end, n * 2 if b == 0xDE else n, depth + 1, kinds, raw)
            continue
        elif b == 0xDD or b == 0xDF:  # array 32, map 32
            _need(pos, 4, end, raw)
            n = _u32(buf, pos)
            pos += 4
            pos = _skip_items(buf, pos, end, n * 2 if b == 0xDF else n, depth + 1, kinds, raw)
            continue
        else:  # 0xC1 is never used
            _fail("invalid msgpack byte", raw)
        _need(pos, n, end, raw)
        pos += n
    return pos


def scan(buf: bytes) -> list[int]:
    """Checks the structure of one msgpack message; the kinds of its type-0 extensions."""
    kinds: list[int] = []
    end = len(buf)
    if end == 0:
        _fail("empty msgpack message", buf)
    pos = _skip_items(buf, 0, end, 1, 0, kinds, buf)
    if pos != end:
        _fail(f"{end - pos} trailing bytes after the msgpack message", buf)
    return kinds


class _ExtHook:
    """msgpack's ext_hook, told by :func:`scan` which header each type-0 extension had."""

    def __init__(self, kinds: list[int]) -> None:
        self.kinds = kinds
        self.next = 0
        self.undefined = False

    def __call__(self, code: int, data: bytes) -> Any:
        if code != 0:
            return [code, data]
        kind = self.kinds[self.next]
        self.next += 1
        if kind == _EXT_BUFFER:
            return data
        if kind == _EXT_UNDEFINED:
            self.undefined = True
            return UNDEFINED
        if kind == _EXT_DATE:
            ms = _I64.unpack(data)[0]
            try:
                return _EPOCH + ms * _MS
            except OverflowError:
                raise ValueError("Date out of range") from None
        return [0, data]


def _ext_plain(code: int, data: bytes) -> list[Any]:
    # Used when the message holds no type-0 extension at all.
    return [code, data]


def _replace_undefined(value: Any) -> Any:
    # Inside data, JavaScript's undefined becomes None (as JSON.stringify would make it null).
    if value is UNDEFINED:
        return None
    t = type(value)
    if t is list:
        n = len(value)
        i = 0
        while i < n:
            value[i] = _replace_undefined(value[i])
            i += 1
    elif t is dict:
        for key in value:
            value[key] = _replace_undefined(value[key])
    return value


def unpack(buf: bytes | bytearray | memoryview) -> Any:
    """One msgpack message as notepack.io would decode it; ProtocolError on anything amiss."""
    if type(buf) is not bytes:
        buf = bytes(buf)
    if _COMPILED:
        # The compiled twin's own reader (_speedups/_msgpackread.h, declared in the .pxd):
        # what unpackb reads, into the same objects, map keys from a cache, with scan()'s
        # bounds checked as it goes.  A message it does not take whole (an extension, an
        # error) goes the general way below, which words the error.
        try:
            obj = _read_msgpack(buf)  # type: ignore[name-defined] # noqa: F821
        except Exception:  # noqa: BLE001 - scan() and unpackb raise it again, worded
            obj = NotImplemented
        if obj is not NotImplemented:
            return obj
    kinds = scan(buf)
    hook = _ExtHook(kinds) if kinds else None
    # scan() has checked every count against the bytes that remain and bounded the depth, so
    # msgpack's own limits (max_*_len, which unpackb derives from len(buf): msgpack >= 1.0) are a
    # second line; raw=False, use_list=True and strict_map_key=True are its defaults.  Each
    # keyword costs unpackb a parse, hence only the two that differ from them.
    try:
        obj = _unpackb(buf, ext_hook=_ext_plain if hook is None else hook, timestamp=3)
    except ProtocolError:
        raise
    except Exception as exc:  # noqa: BLE001 - msgpack raises several types on bad input
        message = f"invalid msgpack message ({exc.__class__.__name__}: {exc})"
        raise ProtocolError(message, buf) from None
    if hook is not None and hook.undefined and type(obj) is dict:
        # undefined at the top level means "absent" (notepack writes a key whose value is
        # undefined); inside data it reads as None
        for key in list(obj):
            if obj[key] is UNDEFINED:
                del obj[key]
            elif key == "data":
                obj[key] = _replace_undefined(obj[key])
    return obj


def _as_int(value: Any) -> int | None:
    """``value`` as an int when JavaScript's Number.isInteger would accept it, else None."""
    t = type(value)
    if t is int:
        exact: int = value
        return exact
    if t is float:
        if value.is_integer():
            return int(value)
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return int(value)
    return None


def _data_valid(ptype: int, data: object, protocol: int, flavour: int) -> bool:
    if ptype == CONNECT:
        if protocol == 4:
            return data is UNDEFINED
        return data is UNDEFINED or type(data) is dict
    if ptype == DISCONNECT:
        return data is UNDEFINED
    if ptype == CONNECT_ERROR:
        if protocol == 4:
            return type(data) is str
        if flavour == FLAVOUR_MSGPACK and type(data) is str:
            return True
        return type(data) is dict
    if type(data) is not list:
        return False
    if ptype == EVENT or ptype == BINARY_EVENT:
        # ours: an event without a name cannot be dispatched
        return len(data) > 0
    return True


def map_to_packet(obj: object, protocol: int, flavour: int, raw: object) -> Packet:
    """Validates a decoded packet object as the npm decoders do and returns the Packet."""
    if type(obj) is not dict:
        _fail("invalid packet type", raw)
    ptype = _as_int(obj.get("type"))
    if ptype is None or ptype < CONNECT or ptype > (BINARY_ACK if protocol == 4 else CONNECT_ERROR):
        _fail("invalid packet type", raw)
    nsp = obj.get("nsp")
    if type(nsp) is not str:
        _fail("invalid namespace", raw)
    data = obj.get("data", UNDEFINED)
    if not _data_valid(ptype, data, protocol, flavour):
        _fail("invalid payload", raw)
    pid = obj.get("id", UNDEFINED)
    if pid is UNDEFINED:
        pid = None
    else:
        pid = _as_int(pid)
        if pid is None:
            _fail("invalid packet id", raw)
    if data is UNDEFINED:
        data = None
    # filled directly: Packet(...) costs a Python frame per packet (see _sioparser_py)
    if _FAST_PACKET:
        return _packet_make(ptype, nsp, data, pid, 0)  # type: ignore[no-any-return,name-defined] # noqa: F821
    packet = _object_new(Packet)
    packet.type = ptype
    packet.nsp = nsp
    packet.data = data
    packet.id = pid
    packet.attachments = 0
    return packet


def check_depth(value: Any, limit: int, raw: object) -> None:
    """Raises ProtocolError when ``value`` nests lists/dicts deeper than ``limit``."""
    t = type(value)
    if t is list:
        if limit <= 0:
            _fail(f"data nested deeper than {MAX_DEPTH} levels", raw)
        for item in value:
            check_depth(item, limit - 1, raw)
    elif t is dict:
        if limit <= 0:
            _fail(f"data nested deeper than {MAX_DEPTH} levels", raw)
        for item in value.values():
            check_depth(item, limit - 1, raw)


# ---------------------------------------------------------------------------------------------
# the parsers' per-packet paths (sioclient.parsers.msgpackparser binds these)


def check_packet(packet: Packet, binary_types: bool) -> int:
    """The type to write for ``packet``; ValueError for what the format cannot carry.

    ``binary_types``: the revision's ``parser_binary_types``."""
    tobj = packet.type
    if type(tobj) is not int or tobj < CONNECT or tobj > BINARY_ACK:
        raise ValueError(f"invalid packet type {tobj!r}")
    ptype = tobj
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


def load_json(message: Any) -> Any:
    """The JSON text ``message`` decoded, nesting bounded; ProtocolError when invalid."""
    try:
        obj = _json_loads(message)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"invalid JSON ({exc})", message) from None
    # deep nesting needs at least as many brackets: count them before walking anything
    if isinstance(message, str):
        brackets = message.count("[") + message.count("{")
    else:
        raw = bytes(message)
        brackets = raw.count(b"[") + raw.count(b"{")
    if brackets > MAX_DEPTH:
        check_depth(obj, MAX_DEPTH, message)
    return obj


class Encoder:
    """socket.io-msgpack-parser's encoder for one revision (``binary_types``: it keeps the
    BINARY_* types; ``text_control``: CONNECT, DISCONNECT and CONNECT_ERROR go as JSON text)."""

    def __init__(self, binary_types: bool, text_control: bool) -> None:
        self.binary_types = binary_types
        self.text_control = text_control
        # notepack writes str as str, Buffer as bin, and every non-whole number as float 64
        self._packer = msgpack.Packer(use_bin_type=True, use_single_float=False, autoreset=True)

    def encode(self, packet: Packet) -> list[Any]:
        if _FAST_PACKET:
            # the compiled twin's whole path for the common packet, its slots read directly
            # (_speedups/_msgpackwrite.h); NotImplemented: the path below, from the start
            out = _encode_packet(packet, self.binary_types, self.text_control)  # type: ignore[name-defined] # noqa: F821
            if out is not NotImplemented:
                return out  # type: ignore[no-any-return]
        ptype = check_packet(packet, self.binary_types)
        if self.text_control and (
            ptype == CONNECT or ptype == DISCONNECT or ptype == CONNECT_ERROR
        ):
            obj = packet_map(ptype, packet.nsp, packet.data, packet.id, False)
            return [_json_dumps(obj)]
        if _COMPILED:
            # one pass in C for data that needs no normalisation (_speedups/_msgpackwrite.h,
            # declared in the .pxd); NotImplemented sends the rest down the general path
            raw = _pack_packet(ptype, packet.nsp, packet.data, packet.id)  # type: ignore[name-defined] # noqa: F821
            if raw is not NotImplemented:
                return [raw]
        obj = packet_map(ptype, packet.nsp, packet.data, packet.id, True)
        try:
            return [self._packer.pack(obj)]
        except OverflowError:
            message = f"cannot encode {packet!r} with msgpack: an integer does not fit in 64 bits"
            raise ValueError(message) from None
        except ValueError as exc:
            raise ValueError(f"cannot encode {packet!r} with msgpack: {exc}") from None


class Decoder:
    """socket.io-msgpack-parser's decoder for one connection: one message, one packet."""

    def __init__(self, protocol: int, text_control: bool) -> None:
        self.protocol = protocol
        self.text_control = text_control

    def feed(self, message: Any) -> list[Packet]:
        if type(message) is bytes:
            if _FAST_PACKET:
                # the compiled twin reads the common packet straight into a Packet, without
                # the dict (_speedups/_msgpackread.h); NotImplemented: the general way below
                out = _read_packet(message, self.protocol)  # type: ignore[name-defined] # noqa: F821
                if out is not NotImplemented:
                    return out  # type: ignore[no-any-return]
            obj = unpack(message)
        elif isinstance(message, str):
            if not self.text_control:
                raise ProtocolError("text message where msgpack was expected", message)
            obj = load_json(message)
        elif isinstance(message, (bytes, bytearray, memoryview)):
            obj = unpack(message)
        else:
            raise TypeError(f"a message is str or bytes, not {type(message).__name__}")
        return [map_to_packet(obj, self.protocol, FLAVOUR_MSGPACK, message)]
