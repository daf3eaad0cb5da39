"""JSON as JavaScript's ``JSON.stringify`` writes it and ``JSON.parse`` reads it.

``dumps`` writes compact JSON (``,`` and ``:`` with no spaces), leaves non-ASCII characters and
``/`` unescaped, turns tuples into arrays, NaN and the infinities into ``null``, and
non-string dict keys into strings (``1 -> "1"``, ``True -> "true"``, ``None -> "null"``), as
JavaScript does with object keys.  Lone surrogates, which cannot travel as UTF-8, are written
as ``\\udxxx`` escapes, as a modern ``JSON.stringify`` does.

Numbers are written as JavaScript writes them: the shortest digits that read back the same
double, a whole number without a fraction (``1.0`` as ``1``, ``-0.0`` as ``0``, ``1e16`` as
``10000000000000000``), the exponent form below 1e-6 and from 1e21 on (``1e-7``, ``1e+21``).
The check costs a search of the written text for ``.0``, ``e+`` and ``e-6``; only data that
holds a whole float (or a string with those characters in it) is walked and written again, and
only text with a number from 1e-6 to 1e-5 (or a string with ``e-6`` in it) is rewritten.

``loads`` rejects the ``NaN``/``Infinity`` literals and numbers that overflow a double, reads
integers beyond the 64-bit range as floats (what both orjson and JavaScript do), and raises
``ValueError`` for anything it cannot read, deep nesting included (never ``RecursionError``).

orjson is used when it is importable; the standard library is the fallback, both for platforms
without orjson and for the inputs orjson refuses (integers beyond 64 bits, lone surrogates), so
that the result never depends on which of the two did the work.  The hot modules call
``orjson_dumps``/``orjson_loads`` directly and fall back to ``std_dumps``/``std_loads`` exactly
as ``dumps``/``loads`` below do.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, Callable, Union

#: orjson's writer and reader, or None without orjson
orjson_dumps: Callable[..., bytes] | None
orjson_loads: Callable[[str | bytes | bytearray | memoryview], Any] | None
#: the orjson options that make it write what JSON.stringify writes; the pass-through flags
#: keep dataclasses and datetimes unwritable, as they are without orjson
ORJSON_OPTIONS = 0
#: ORJSON_OPTIONS without OPT_NON_STR_KEYS: a quarter faster, and a TypeError when a dict has a
#: key that is not exactly a str (then write again with ORJSON_OPTIONS)
ORJSON_STR_KEYS_OPTIONS = 0

#: orjson.Fragment (JSON text orjson writes as it is), or None
orjson_fragment: Callable[[bytes], Any] | None

try:  # pragma: no cover - depends on the platform
    import orjson as _orjson
except ImportError:  # pragma: no cover
    orjson_dumps = None
    orjson_loads = None
    orjson_fragment = None
else:
    orjson_dumps = _orjson.dumps
    orjson_loads = _orjson.loads
    orjson_fragment = getattr(_orjson, "Fragment", None)  # orjson >= 3.9
    ORJSON_STR_KEYS_OPTIONS = _orjson.OPT_PASSTHROUGH_DATACLASS | _orjson.OPT_PASSTHROUGH_DATETIME
    ORJSON_OPTIONS = _orjson.OPT_NON_STR_KEYS | ORJSON_STR_KEYS_OPTIONS

# orjson's integer range; beyond it both orjson and JavaScript read a float
_INT_MIN = -(2**63)
_INT_MAX = 2**64 - 1
_SURROGATE = re.compile("[\ud800-\udfff]")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _parse_int(text: str) -> Any:
    if len(text) < 19:
        return int(text)
    # float() first: int() of thousands of digits is refused (and slow)
    value: Any = float(text)
    if math.isinf(value):
        raise ValueError("number out of range")
    if len(text) <= 21:
        exact = int(text)
        if _INT_MIN <= exact <= _INT_MAX:
            value = exact
    return value


def _parse_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError("number out of range")
    return value


# Built once: json.dumps()/json.loads() with arguments build a new coder on every call.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)
_DECODER = json.JSONDecoder(
    parse_constant=_reject_constant, parse_int=_parse_int, parse_float=_parse_float
)


def _finite(obj: Any) -> Any:
    """A copy of ``obj`` with NaN and the infinities replaced by None (JavaScript's null)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    return obj


def js_number(value: float) -> str:
    """A finite float as JavaScript's ``Number.prototype.toString`` writes it."""
    if value == 0:
        return "0"
    text = repr(abs(value))  # the shortest digits that read back the same (as JavaScript's)
    mantissa, _, exp = text.partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = whole + fraction
    point = len(whole) + (int(exp) if exp else 0)  # value = 0.<digits> * 10**point
    stripped = digits.lstrip("0")
    point -= len(digits) - len(stripped)
    digits = stripped.rstrip("0")
    k = len(digits)
    if k <= point <= 21:
        out = digits + "0" * (point - k)
    elif 0 < point <= 21:
        out = digits[:point] + "." + digits[point:]
    elif -6 < point <= 0:
        out = "0." + "0" * -point + digits
    else:
        e = point - 1
        out = digits[0] + ("." + digits[1:] if k > 1 else "") + ("e+" if e >= 0 else "e-")
        out += str(abs(e))
    return "-" + out if value < 0 else out


# a string literal (left alone), or a number Python writes with a negative exponent
_SMALL_FLOAT = re.compile(r'"(?:[^"\\]|\\.)*"|(-?[0-9]+(?:\.[0-9]+)?e-[0-9]+)')


def _small_float(match: re.Match[str]) -> str:
    number = match.group(1)
    return match.group() if number is None else js_number(float(number))


def js_small_numbers(text: str) -> str:
    """``text`` (compact JSON) with each number written with a negative exponent written as
    JavaScript writes it: Python's ``1.5e-05`` and orjson's ``1.5e-6`` are ``0.000015`` and
    ``0.0000015``; string literals are left alone."""
    return _SMALL_FLOAT.sub(_small_float, text)


def _js_floats(obj: Any) -> Any:
    from . import _accel  # the hot module imports this one

    return _accel.load("sioparser").js_floats(obj)


def _escape_surrogate(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def std_dumps(obj: Any) -> str:
    """``dumps`` with the standard library only."""
    try:
        text = _ENCODER.encode(obj)
    except ValueError as exc:
        if "Out of range float" not in str(exc):
            raise
        text = _ENCODER.encode(_finite(obj))
    if ".0" in text or "e+" in text:  # a whole float, written 1.0 or 1e+16: JavaScript writes 1
        fixed = _js_floats(obj)
        if fixed is not obj:
            return std_dumps(fixed)
    if "e-" in text:  # 1.5e-05 and 1e-07, which JavaScript writes 0.000015 and 1e-7
        text = js_small_numbers(text)
    # A surrogate can only sit inside a string literal, where its escape means the same.
    if _SURROGATE.search(text) is not None:
        text = _SURROGATE.sub(_escape_surrogate, text)
    return text


def std_loads(data: Union[str, bytes, bytearray, memoryview]) -> Any:
    """``loads`` with the standard library only."""
    if not isinstance(data, str):
        data = bytes(data).decode("utf-8")
    try:
        return _DECODER.decode(data)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def dumps(obj: Any) -> str:
    """``obj`` as ``JSON.stringify`` writes it (see the module docstring for the details).

    Raises ``TypeError`` for values JSON cannot hold (bytes, arbitrary objects) and
    ``ValueError`` for circular references.
    """
    if orjson_dumps is not None:
        try:
            raw = orjson_dumps(obj, option=ORJSON_OPTIONS)
        except TypeError:
            pass  # big integers, lone surrogates, unwritable types: the slow path decides
        else:
            # find(), not `in`: bytes.__contains__ tries an int first and clears a TypeError
            if raw.find(b".0") >= 0 or raw.find(b"e+") >= 0:  # as in std_dumps
                fixed = _js_floats(obj)
                if fixed is not obj:
                    return dumps(fixed)
            if raw.find(b"e-6") >= 0:  # orjson writes 1e-6 where JavaScript writes 0.000001
                return js_small_numbers(raw.decode())
            return raw.decode()
    return std_dumps(obj)


def loads(data: Union[str, bytes, bytearray, memoryview]) -> Any:
    """The value of the JSON text ``data``; ``ValueError`` when it is not valid JSON."""
    if orjson_loads is not None:
        try:
            return orjson_loads(data)
        except ValueError:
            pass  # lone surrogates and nesting deeper than orjson reads: the slow path decides
    return std_loads(data)


__all__ = [
    "ORJSON_OPTIONS",
    "ORJSON_STR_KEYS_OPTIONS",
    "dumps",
    "js_number",
    "js_small_numbers",
    "loads",
    "orjson_dumps",
    "orjson_fragment",
    "orjson_loads",
    "std_dumps",
    "std_loads",
]
