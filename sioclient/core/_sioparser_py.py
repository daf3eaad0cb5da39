"""The socket.io-parser wire format (hot path; compiled with ``_speedups/_sioparser_c.pxd``).

A packet is one text message ``<type>[<attachments>-][<nsp>,][<id>][<json>]`` followed, for
BINARY_EVENT/BINARY_ACK, by ``<attachments>`` binary messages; the JSON holds a placeholder
``{"_placeholder":true,"num":N}`` where attachment N belongs.

Revision 4 is socket.io-parser 3.x (socket.io 2.x), revision 5 is 4.x (socket.io 3.x/4.x).
What the decoder accepts per packet type follows their ``isPayloadValid``:

========================  =====================================  ==========================
type                      revision 4                             revision 5
========================  =====================================  ==========================
CONNECT                   absent, object, array or null          absent or object
DISCONNECT                absent                                 absent
CONNECT_ERROR (ERROR)     absent, string, object, array or null  absent, string or object
EVENT, BINARY_EVENT       array whose first item is a string     the same, and the name is
                          or a number                            not a reserved event name
ACK                       absent or array                        absent or array
BINARY_ACK                array                                  array
========================  =====================================  ==========================

Two rules are stricter than the JavaScript parsers, which accept these and then misbehave:
an EVENT with no data at all (there is no name to dispatch) and a binary packet with no data
are refused.  Bounds, checked before anything is built: the attachment count (``max_attachments``,
at most 9 digits), the ack id (at most 16 digits), the nesting depth of a binary packet's data
(``max_depth``, default 32: the placeholder search counts levels and stops there, so no stack,
Python's or C's, can be exhausted).  Placeholders are checked once every attachment is in, as
socket.io-parser does.  Every decoding error is a ``sioclient.ProtocolError``.

Encoding writes an event in one pass of orjson: its ``default`` hook turns each buffer into a
placeholder as the writer meets it, so binary-free data is neither walked nor copied.

This file is ordinary Python (the pure twin) and, unchanged, the source of the compiled module:
no generators or closures; the types live in the .pxd.  The compiled twin also calls four
helpers in C that the .pxd declares, each behind ``_COMPILED`` with its Python equivalent
beside it: Packet slots written and read at the offsets of Packet's member descriptors
(``_speedups/_packet.h``), the scan of orjson's text for JavaScript's number spellings and
its join to the header in one allocation (``_speedups/_jsonscan.h``), and the JSON of small
packets written and read by hand, for the common shapes only, with orjson for the rest
(``_speedups/_jsonfast.h``).
"""

from __future__ import annotations

from typing import Any, List, Union

from sioclient.core import jsoncodec
from sioclient.core.packet import Packet
from sioclient.exceptions import ProtocolError

try:  # Cython's pure-Python shim: True only in the compiled twin
    import cython

    _COMPILED = bool(cython.compiled)
except ImportError:
    _COMPILED = False

#: default cap on the attachments of one binary packet (a peer could otherwise make the
#: decoder hold an unbounded number of buffers)
DEFAULT_MAX_ATTACHMENTS = 1000
#: default cap on the nesting depth searched for placeholders in a binary packet; data nested
#: deeper than this with binary inside is far more likely an attack than a real message
DEFAULT_MAX_DEPTH = 32

#: the Engine.IO messages of one packet: text first, then its binary attachments
Messages = List[Union[str, bytes]]
#: nesting depth beyond which ``deconstruct`` refuses the data to be sent
ENCODE_MAX_DEPTH = 500
MAX_ID_DIGITS = 16  # every id up to 2**53 (JavaScript's exact integers) fits
MAX_ATTACHMENT_DIGITS = 9

# C ints when compiled (the public names above stay Python objects)
_MAX_ENCODE_DEPTH = ENCODE_MAX_DEPTH
_MAX_ID_DIGITS = MAX_ID_DIGITS
_MAX_ATTACHMENT_DIGITS = MAX_ATTACHMENT_DIGITS

_CONNECT = 0
_DISCONNECT = 1
_EVENT = 2
_ACK = 3
_CONNECT_ERROR = 4
_BINARY_EVENT = 5
_BINARY_ACK = 6

_TYPE_STR = ("0", "1", "2", "3", "4", "5", "6")

#: event names socket.io-parser 4.x refuses to decode (they have a meaning of their own)
RESERVED_EVENTS = frozenset(
    ("connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener")
)
_RESERVED = RESERVED_EVENTS

_odumps = jsoncodec.orjson_dumps
_oloads = jsoncodec.orjson_loads
_OOPTS = jsoncodec.ORJSON_OPTIONS
_OFAST = jsoncodec.ORJSON_STR_KEYS_OPTIONS
_std_dumps = jsoncodec.std_dumps
_std_loads = jsoncodec.std_loads
_js_small = jsoncodec.js_small_numbers
_object_new = object.__new__


# ---------------------------------------------------------------------------------------------
# JSON (jsoncodec's codec, inlined so that the common case costs no extra call)


def _dumps(obj: Any) -> str:
    if _odumps is not None:
        try:
            raw = _odumps(obj, None, _OFAST)
        except TypeError:
            try:
                raw = _odumps(obj, None, _OOPTS)
            except TypeError:
                return _std_dumps(obj)
        marks = _number_marks(raw)
        # orjson writes a whole float as 1.0 (or 1e+16 from 1e16 on): JavaScript writes 1
        if marks & _WHOLE_FLOAT:
            fixed = _js_floats(obj, 1)
            if fixed is not obj:
                try:
                    raw = _odumps(fixed, None, _OOPTS)
                except TypeError:  # a whole float beyond the 64-bit integers orjson writes
                    return _std_dumps(fixed)
                marks = _number_marks(raw)
        if marks & _SMALL_FLOAT:  # orjson writes 1e-6 where JavaScript writes 0.000001
            return _js_small(raw.decode("utf-8"))
        return raw.decode("utf-8")
    return _std_dumps(obj)


def _join_utf8(prefix: str, raw: bytes) -> str:
    """``prefix + raw.decode("utf-8")``; in one allocation when compiled and all ASCII."""
    if _COMPILED:  # _speedups/_jsonscan.h, declared in the .pxd
        return _join_ascii(prefix, raw)  # type: ignore[no-any-return,name-defined] # noqa: F821
    return prefix + raw.decode("utf-8")


# what _number_marks finds
_WHOLE_FLOAT = 1  # ".0" or "e+": a whole float, which JavaScript writes without a fraction
_SMALL_FLOAT = 2  # "e-6": a number JavaScript writes 0.00000x where orjson writes xe-6


def _number_marks(raw: bytes) -> int:
    """Which of orjson's number spellings that JavaScript writes otherwise ``raw`` may hold
    (``_WHOLE_FLOAT | _SMALL_FLOAT``; a string holding those characters counts too).

    Not ``b".0" in raw``: ``bytes.__contains__`` first tries its argument as an int, and the
    TypeError it raises and clears costs more than the search."""
    if _COMPILED:  # one pass in C (_speedups/_jsonscan.h, declared in the .pxd)
        return _scan_numbers(raw)  # type: ignore[no-any-return,name-defined] # noqa: F821
    marks = 0
    if raw.find(b".0") >= 0 or raw.find(b"e+") >= 0:
        marks = _WHOLE_FLOAT
    if raw.find(b"e-6") >= 0:
        marks |= _SMALL_FLOAT
    return marks


def _js_floats(obj: Any, depth: int) -> Any:
    """``obj`` with each whole-number float below 1e21 as the int whose digits are those
    ``JSON.stringify`` writes for it (``1``, ``-0`` as ``0``, 2**60 as 1152921504606847000);
    containers are copied only on the paths that lead to such a float, so data without one
    comes back as the very same object."""
    tp = type(obj)
    if tp is str or tp is int or tp is bool or obj is None:
        return obj
    if tp is float or isinstance(obj, float):
        if obj.is_integer() and -1e21 < obj < 1e21:
            if -9007199254740992.0 <= obj <= 9007199254740992.0:
                return int(obj)  # exact below 2**53, where the digits are JavaScript's too
            # beyond, JavaScript writes the shortest digits that read back, then zeros
            return int(jsoncodec.js_number(obj))
        return obj
    if tp is list or tp is tuple or (tp is not dict and isinstance(obj, (list, tuple))):
        if depth > _MAX_ENCODE_DEPTH:
            raise ValueError(f"data nested deeper than {ENCODE_MAX_DEPTH} levels")
        copy = None
        n = len(obj)
        for i in range(n):
            item = obj[i]
            new = _js_floats(item, depth + 1)
            if new is not item:
                if copy is None:
                    copy = list(obj)
                copy[i] = new
        if copy is None:
            return obj
        return copy
    if tp is dict or isinstance(obj, dict):
        if depth > _MAX_ENCODE_DEPTH:
            raise ValueError(f"data nested deeper than {ENCODE_MAX_DEPTH} levels")
        dcopy = None
        for key, item in obj.items():
            newkey = _js_floats(key, depth + 1) if type(key) is float else key
            new = _js_floats(item, depth + 1)
            if new is not item or newkey is not key:
                if dcopy is None:
                    dcopy = {}
                    for k in obj:  # the keys before this one, as they were
                        if k is key:
                            break
                        dcopy[k] = obj[k]
                dcopy[newkey] = new
            elif dcopy is not None:
                dcopy[key] = item
        if dcopy is None:
            return obj
        return dcopy
    return obj


def js_floats(data: Any) -> Any:
    """``data`` as JavaScript holds it: each whole-number float (below 1e21) an int, so that
    a JSON writer writes ``1`` where Python's float would be written ``1.0``.  The same
    object when there is nothing to change (``ValueError`` beyond the nesting bound)."""
    return _js_floats(data, 1)


def _loads(text: str) -> Any:
    if _oloads is not None:
        try:
            return _oloads(text)
        except ValueError:
            pass
    try:
        return _std_loads(text)
    except ValueError as exc:
        raise ProtocolError(f"invalid JSON payload ({exc})", text) from None


# The compiled twin writes a Packet's slots itself (_speedups/_packet.h, declared in the .pxd):
# Packet.__init__ is a Python frame, and object.__new__ with five setattr calls costs about
# as much as the JSON of a small event.
_FAST_PACKET = False
if _COMPILED:
    _FAST_PACKET = _packet_prepare(Packet) == 1  # type: ignore[name-defined] # noqa: F821


def _packet(ptype: int, nsp: str, data: Any, pid: Any, attachments: int) -> Packet:
    if _FAST_PACKET:
        return _packet_make(ptype, nsp, data, pid, attachments)  # type: ignore[no-any-return,name-defined] # noqa: F821
    # filling the slots is still cheaper than the __init__ frame (tests check the slot list)
    packet = _object_new(Packet)
    packet.type = ptype
    packet.nsp = nsp
    packet.data = data
    packet.id = pid
    packet.attachments = attachments
    return packet


def event_packet(nsp: str, event: Any, args: tuple[Any, ...]) -> Packet:
    """The EVENT packet of ``emit(event, *args)`` on namespace ``nsp``: data ``[event, *args]``,
    no ack id yet.  Socket builds every emit with it (filled like ``_packet``, for the same
    reason: ``Packet(...)`` costs a Python frame per emit)."""
    n = len(args)
    if n == 1:  # the common shapes as one list each, with no resizing
        data = [event, args[0]]
    elif n == 0:
        data = [event]
    elif n == 2:
        data = [event, args[0], args[1]]
    else:
        data = [event]
        data.extend(args)
    return _packet(_EVENT, nsp, data, None, 0)


# ---------------------------------------------------------------------------------------------
# binary data: placeholders


def _is_binary(obj: Any) -> bool:
    return isinstance(obj, (bytes, bytearray, memoryview))


# The placeholders of the first attachments as orjson fragments: JSON text orjson copies into
# its output, where a dict would be built and then written for every buffer.
_PLACEHOLDERS: tuple[Any, ...] = ()
if jsoncodec.orjson_fragment is not None:
    _PLACEHOLDERS = tuple(
        jsoncodec.orjson_fragment(b'{"_placeholder":true,"num":%d}' % i) for i in range(32)
    )


class _Attachments:
    """orjson's ``default`` hook while an event is written: each buffer met becomes a
    placeholder, in the order the writer meets them (depth-first, list order, then dict
    insertion order: socket.io-parser's order).  Binary detection and placeholder
    substitution thus cost no walk of their own, and binary-free data no copy at all."""

    def __init__(self) -> None:
        self.buffers: list[bytes] | None = None

    def __call__(self, obj: Any) -> Any:
        if not _is_binary(obj):
            raise TypeError(f"Type is not JSON serializable: {type(obj).__name__}")
        buffers = self.buffers
        if buffers is None:
            buffers = self.buffers = []
        buffers.append(obj if type(obj) is bytes else bytes(obj))
        num = len(buffers) - 1
        if num < len(_PLACEHOLDERS):
            return _PLACEHOLDERS[num]  # its JSON text, written as it is
        return {"_placeholder": True, "num": num}


def _has_bin(obj: Any, depth: int, max_depth: int) -> bool:
    tp = type(obj)
    if tp is str or tp is int or tp is float or tp is bool or obj is None:
        return False
    if tp is list or tp is tuple or tp is dict or isinstance(obj, (list, tuple, dict)):
        if depth > max_depth:
            raise ValueError(f"data nested deeper than {max_depth} levels")
        for item in obj.values() if isinstance(obj, dict) else obj:
            if _has_bin(item, depth + 1, max_depth):
                return True
        return False
    return _is_binary(obj)


def has_binary(data: Any, max_depth: int = ENCODE_MAX_DEPTH) -> bool:
    """True when ``data`` holds bytes, bytearray or memoryview (``ValueError`` when its
    containers nest deeper than ``max_depth``)."""
    return _has_bin(data, 1, max_depth)


def _deconstruct(obj: Any, buffers: list[bytes], depth: int) -> Any:
    """``obj`` with its buffers replaced by placeholders; containers are copied only on the
    paths that lead to a buffer, so data without binary comes back as the very same object."""
    tp = type(obj)
    if tp is str or tp is int or tp is float or tp is bool or obj is None:
        return obj
    if tp is list or tp is tuple or (tp is not dict and isinstance(obj, (list, tuple))):
        if depth > _MAX_ENCODE_DEPTH:
            raise ValueError(f"data nested deeper than {ENCODE_MAX_DEPTH} levels")
        copy = None
        n = len(obj)
        for i in range(n):
            item = obj[i]
            new = _deconstruct(item, buffers, depth + 1)
            if new is not item:
                if copy is None:
                    copy = list(obj)
                copy[i] = new
        if copy is None:
            return obj
        return copy
    if tp is dict or isinstance(obj, dict):
        if depth > _MAX_ENCODE_DEPTH:
            raise ValueError(f"data nested deeper than {ENCODE_MAX_DEPTH} levels")
        dcopy = None
        for key, item in obj.items():
            new = _deconstruct(item, buffers, depth + 1)
            if new is not item:
                if dcopy is None:
                    dcopy = dict(obj)
                dcopy[key] = new
        if dcopy is None:
            return obj
        return dcopy
    if _is_binary(obj):
        buffers.append(obj if type(obj) is bytes else bytes(obj))
        return {"_placeholder": True, "num": len(buffers) - 1}
    return obj


def deconstruct(data: Any) -> tuple[Any, list[bytes]]:
    """``(data_with_placeholders, buffers)``: every bytes/bytearray/memoryview in ``data`` is
    replaced by ``{"_placeholder": True, "num": N}``, numbered depth-first (list order, then dict
    insertion order); ``buffers`` holds them as ``bytes``.  ``data`` itself is never modified."""
    buffers: list[bytes] = []
    return _deconstruct(data, buffers, 1), buffers


def _placeholder_num(obj: dict[str, Any], count: int) -> int:
    """The attachment index of placeholder ``obj``, or -1 when ``obj`` is not a placeholder."""
    if obj.get("_placeholder") is not True:
        return -1
    num = obj.get("num")
    # bool is an int subclass; a negative index must not count from the end
    if type(num) is not int or num < 0 or num >= count:
        raise ProtocolError("illegal attachment placeholder", obj)
    return num


def _replace(node: Any, buffers: list[bytes], count: int, depth: int, max_depth: int) -> int:
    # In place, on decoded JSON (exact lists and dicts).  The recursion is bounded by
    # max_depth, checked first, so neither the Python nor the C stack can be exhausted.
    if depth > max_depth:
        raise ProtocolError(f"binary packet data nested deeper than {max_depth} levels")
    if type(node) is list:
        n = len(node)
        for i in range(n):
            item = node[i]
            it = type(item)
            if it is dict:
                num = _placeholder_num(item, count)
                if num >= 0:
                    node[i] = buffers[num]
                    continue
            elif it is not list:
                continue
            _replace(item, buffers, count, depth + 1, max_depth)
    else:
        for key, item in node.items():
            it = type(item)
            if it is dict:
                num = _placeholder_num(item, count)
                if num >= 0:
                    node[key] = buffers[num]  # an existing key: the dict keeps its size
                    continue
            elif it is not list:
                continue
            _replace(item, buffers, count, depth + 1, max_depth)
    return 0


def reconstruct(data: Any, buffers: list[bytes], max_depth: int = DEFAULT_MAX_DEPTH) -> Any:
    """``data`` (as decoded from JSON) with each placeholder replaced by its buffer; containers
    are changed in place.  ProtocolError on a placeholder whose ``num`` is not an int in
    ``range(len(buffers))`` or on nesting deeper than ``max_depth``."""
    count = len(buffers)
    tp = type(data)
    if tp is dict:
        num = _placeholder_num(data, count)
        if num >= 0:
            return buffers[num]
    if tp is list or tp is dict:
        _replace(data, buffers, count, 1, max_depth)
    return data


# ---------------------------------------------------------------------------------------------
# encoding


def encode(packet: Packet, protocol: int) -> Messages:
    """The Engine.IO messages that carry ``packet``: the text packet, then its attachments.

    An EVENT/ACK whose data holds bytes, bytearray or memoryview goes out as a
    BINARY_EVENT/BINARY_ACK with placeholders.  ``ValueError`` for a packet that cannot be
    written (unknown type, negative or non-int id, a namespace with a comma, CONNECT data on
    revision 4); ``TypeError`` for data JSON cannot hold.
    """
    return _encode(packet, protocol, _Attachments())


def _encode(packet: Packet, protocol: int, hook: _Attachments) -> Messages:
    if _FAST_PACKET and _packet_exact(packet):  # type: ignore[name-defined] # noqa: F821
        # the slots read directly, as _packet writes them
        tobj = _packet_get(packet, 0)  # type: ignore[name-defined] # noqa: F821
        nsp = _packet_get(packet, 1)  # type: ignore[name-defined] # noqa: F821
        data = _packet_get(packet, 2)  # type: ignore[name-defined] # noqa: F821
        pid = _packet_get(packet, 3)  # type: ignore[name-defined] # noqa: F821
    else:
        tobj = packet.type
        nsp = packet.nsp
        data = packet.data
        pid = packet.id
    if type(tobj) is not int or tobj < 0 or tobj > 6:
        raise ValueError(f"unknown packet type {tobj!r}")
    ptype = tobj
    if _COMPILED and (ptype == _EVENT or ptype == _ACK) and data is not None:
        # The messages written in C when the data is of the few common shapes that
        # _speedups/_jsonfast.h writes exactly as orjson and the hook below do (an event name,
        # ints, short ASCII strings, bytes, lists and dicts of them): on a small event,
        # orjson's call, its bytes and their join to the header cost more than the JSON
        # itself.  NotImplemented for everything else (floats, escapes, bytearray, an id or
        # namespace to refuse...).
        written = _fast_packet(ptype, nsp, pid, data)  # type: ignore[name-defined] # noqa: F821
        if written is not NotImplemented:
            return written  # type: ignore[no-any-return]
    buffers: list[bytes] | None = None
    body = ""
    utf8: bytes | None = None  # orjson's text, when it is the body as it stands
    if data is not None:
        if ptype == _EVENT or ptype == _ACK or ptype >= _BINARY_EVENT:
            # One pass of the writer finds the buffers and writes their placeholders.
            done = False
            if _odumps is not None:
                hook.buffers = None
                try:
                    raw = _odumps(data, hook, _OFAST)
                    done = True
                except TypeError:
                    # a key that is not a str, or not for orjson at all (big integers, lone
                    # surrogates...): with every option, then the slow path
                    hook.buffers = None
                    try:
                        raw = _odumps(data, hook, _OOPTS)
                        done = True
                    except TypeError:
                        pass
                buffers = hook.buffers
                hook.buffers = None
            marks = _number_marks(raw) if done else 0
            if marks & _WHOLE_FLOAT:
                # a whole float written as 1.0: written again as JavaScript writes it, 1
                fixed = _js_floats(data, 1)
                if fixed is not data and _odumps is not None:
                    hook.buffers = None
                    try:
                        raw = _odumps(fixed, hook, _OOPTS)
                        marks = _number_marks(raw)
                    except TypeError:
                        done = False  # a whole float beyond orjson's integers: slow path
                    buffers = hook.buffers
                    hook.buffers = None
            if done:
                if marks & _SMALL_FLOAT:  # orjson writes 1e-6 where JavaScript writes 0.000001
                    body = _js_small(raw.decode("utf-8"))
                else:
                    utf8 = raw  # joined to the header below, decoded in the same step
            else:
                buffers = []
                body = _std_dumps(_deconstruct(data, buffers, 1))
                if len(buffers) == 0:
                    buffers = None
            if buffers is not None and ptype < _BINARY_EVENT:
                ptype += 3  # EVENT -> BINARY_EVENT, ACK -> BINARY_ACK
        else:
            if ptype == _CONNECT and protocol == 4:
                raise ValueError("revision 4 (socket.io 2.x) CONNECT packets carry no data")
            body = _dumps(data)
    head = _TYPE_STR[ptype]
    if ptype >= _BINARY_EVENT:
        head = f"{head}{0 if buffers is None else len(buffers)}-"
    if pid is not None and (type(pid) is not int or pid < 0):
        raise ValueError(f"invalid ack id {pid!r}")
    named = not (nsp is None or nsp == "/")
    if named and (type(nsp) is not str or "," in nsp):
        raise ValueError(f"invalid namespace {nsp!r}")
    if _COMPILED and utf8 is not None:
        # header, namespace, ack id and JSON in one allocation (_speedups/_jsonscan.h); None
        # when a part is not ASCII: the lines below
        joined = _join_packet(head, nsp if named else None, pid, utf8)  # type: ignore[name-defined] # noqa: F821
        if joined is not None:
            text = joined
            if buffers is None:
                return [text]
            out0: list[str | bytes] = [text]
            out0.extend(buffers)
            return out0
    if not named:
        if pid is not None:
            head = f"{head}{pid}"
    elif pid is None:
        head = f"{head}{nsp},"
    else:
        head = f"{head}{nsp},{pid}"
    if utf8 is not None:
        text = _join_utf8(head, utf8)
    else:
        text = head + body
    if buffers is None:
        return [text]
    out: list[str | bytes] = [text]
    out.extend(buffers)
    return out


class Encoder:
    """``encode`` bound to one protocol revision.  It keeps its placeholder hook between
    packets, so one Encoder must not be shared by threads (greenlets are fine: encoding
    never yields); the module-level ``encode`` has no such restriction."""

    def __init__(self, protocol: int = 5) -> None:
        if protocol != 4 and protocol != 5:
            raise ValueError(f"unknown Socket.IO protocol revision {protocol!r}")
        self.protocol = protocol
        self._hook = _Attachments()

    def encode(self, packet: Packet) -> Messages:
        return _encode(packet, self.protocol, self._hook)


# ---------------------------------------------------------------------------------------------
# decoding


def _valid_event(data: Any, protocol: int) -> bool:
    if type(data) is not list or len(data) == 0:
        return False
    name = data[0]
    tn = type(name)
    if tn is str:
        if protocol == 4:
            return True
        # the reserved names are 7 to 14 characters long: most names never need the lookup
        n = len(name)
        return n < 7 or n > 14 or name not in _RESERVED
    return tn is int or tn is float


def _check_payload(ptype: int, data: Any, has_data: bool, protocol: int, text: str) -> int:
    if ptype == _EVENT or ptype == _BINARY_EVENT:
        if has_data and _valid_event(data, protocol):
            return 0
    elif ptype == _ACK:
        if not has_data or type(data) is list:
            return 0
    elif ptype == _BINARY_ACK:
        if has_data and type(data) is list:
            return 0
    elif ptype == _CONNECT:
        if not has_data or type(data) is dict:
            return 0
        if protocol == 4 and (data is None or type(data) is list):
            return 0
    elif ptype == _DISCONNECT:
        if not has_data:
            return 0
    else:  # CONNECT_ERROR
        td = type(data)
        if not has_data or td is str or td is dict:
            return 0
        if protocol == 4 and (data is None or td is list):
            return 0
    raise ProtocolError("invalid payload", text)


def decode_text(text: str, protocol: int, max_attachments: int = DEFAULT_MAX_ATTACHMENTS) -> Packet:
    """One text message as a Packet; binary packets keep their placeholders and carry their
    attachment count in ``packet.attachments``."""
    n = len(text)
    if n == 0:
        raise ProtocolError("empty packet", text)
    c = text[0]
    if c < "0" or c > "6":
        raise ProtocolError("unknown packet type", text)
    ptype = ord(c) - 48
    i = 1
    attachments = 0
    if ptype == _BINARY_EVENT or ptype == _BINARY_ACK:
        count = 0
        while i < n:
            c = text[i]
            if c < "0" or c > "9":
                break
            if i > _MAX_ATTACHMENT_DIGITS:
                raise ProtocolError("attachment count too long", text)
            count = count * 10 + (ord(c) - 48)
            i += 1
        if i == 1 or i >= n or text[i] != "-":
            raise ProtocolError("illegal attachment count", text)
        if count > max_attachments:
            raise ProtocolError(f"more than {max_attachments} attachments", text)
        attachments = count
        i += 1
    nsp = "/"
    if i < n and text[i] == "/":
        start = i
        while i < n and text[i] != ",":
            i += 1
        if _COMPILED:  # the same str as the slice, a cached one (_speedups/_jsonfast.h)
            nsp = _fast_slice(text, start, i)  # type: ignore[name-defined] # noqa: F821
        else:
            nsp = text[start:i]
        i += 1  # the comma (or the end)
    pid = None
    if i < n:
        c = text[i]
        if "0" <= c <= "9":
            start = i
            ack = 0
            while i < n:
                c = text[i]
                if c < "0" or c > "9":
                    break
                if i - start >= _MAX_ID_DIGITS:
                    raise ProtocolError("ack id too long", text)
                ack = ack * 10 + (ord(c) - 48)
                i += 1
            pid = ack
    data = None
    has_data = i < n
    if has_data:
        data = NotImplemented
        if _COMPILED:
            # read by hand when the JSON holds only the common shapes (_speedups/_jsonfast.h,
            # for the reason given in _encode), with no slice of the message; NotImplemented
            # sends the rest to orjson, which decides (invalid JSON included)
            data = _fast_loads(text, i)  # type: ignore[name-defined] # noqa: F821
        if data is NotImplemented:
            data = _loads(text[i:])
    _check_payload(ptype, data, has_data, protocol, text)
    return _packet(ptype, nsp, data, pid, attachments)


class Decoder:
    """The decoder of one connection: text packets and the attachments that follow them.

    ``feed(message)`` takes one Engine.IO message (``str`` for text, ``bytes``-like for an
    attachment) and returns the packets it completed.  A binary packet comes back whole, its
    type as on the wire (BINARY_EVENT stays BINARY_EVENT).  Text while attachments are pending,
    or an attachment when none is, is a ProtocolError; after any error the decoder starts over.
    """

    def __init__(
        self,
        protocol: int = 5,
        max_attachments: int = DEFAULT_MAX_ATTACHMENTS,
        max_depth: int = DEFAULT_MAX_DEPTH,
    ) -> None:
        if protocol != 4 and protocol != 5:
            raise ValueError(f"unknown Socket.IO protocol revision {protocol!r}")
        if max_attachments < 0 or max_depth < 1:
            raise ValueError("max_attachments must be >= 0 and max_depth >= 1")
        self.protocol = protocol
        self.max_attachments = max_attachments
        self.max_depth = max_depth
        self._pending: Packet | None = None
        self._buffers: list[bytes] | None = None
        self._due = 0

    @property
    def pending(self) -> bool:
        """True while a binary packet waits for attachments."""
        return self._pending is not None

    def reset(self) -> None:
        """Drop a partly received binary packet (e.g. when the connection closes)."""
        self._pending = None
        self._buffers = None

    def feed(self, message: Any) -> list[Packet]:
        if type(message) is str:
            if self._pending is not None:
                self.reset()
                raise ProtocolError("text message while binary attachments are due", message)
            packet = decode_text(message, self.protocol, self.max_attachments)
            # the type is the message's first character (decode_text checked it): no
            # attribute lookup on the packet for the common, non-binary case
            text = message  # a str, as checked (and typed so in the .pxd)
            c = text[0]
            if c != "5" and c != "6":
                return [packet]
            if packet.attachments == 0:
                # nothing to wait for; a placeholder here can only be an error
                _replace(packet.data, [], 0, 1, self.max_depth)
                return [packet]
            self._pending = packet
            self._buffers = []
            self._due = packet.attachments
            return []
        if isinstance(message, (bytes, bytearray, memoryview)):
            pending = self._pending
            if pending is None:
                raise ProtocolError("binary message with no packet awaiting attachments", message)
            buffers = self._buffers
            assert buffers is not None  # set together with _pending
            buffers.append(message if type(message) is bytes else bytes(message))
            if len(buffers) < self._due:
                return []
            self.reset()
            _replace(pending.data, buffers, len(buffers), 1, self.max_depth)
            return [pending]
        if isinstance(message, str):
            return self.feed(str(message))
        self.reset()
        raise ProtocolError(f"unsupported message type {type(message).__name__}")
