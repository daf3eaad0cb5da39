"""JSON as JavaScript's ``JSON.stringify`` writes it and ``JSON.parse`` reads it.

``dumps`` writes compact JSON (``,`` and ``:`` with no spaces), leaves non-ASCII characters and
``/`` unescaped, turns tuples into arrays, NaN and the infinities into ``null``, and
non-string dict keys into strings (``1 -> "1"``, ``True -> "true"``, ``None -> "null"``), as
JavaScript does with object keys.  Lone surrogates, which cannot travel as UTF-8, are written
as ``\\udxxx`` escapes, as a modern ``JSON.stringify`` does.

Numbers are the one deliberate difference: a float is written in Python's shortest form, so
``1.0`` is ``1.0`` and ``1e16`` is ``1e+16`` where JavaScript writes ``1`` and
``10000000000000000``.  Every JSON reader (JavaScript's included) reads back the same number,
and writing JavaScript's form would cost a pass over every float.

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

try:  # pragma: no cover - depends on the platform
    import orjson as _orjson
except ImportError:  # pragma: no cover
    orjson_dumps = None
    orjson_loads = None
else:
    orjson_dumps = _orjson.dumps
    orjson_loads = _orjson.loads
    ORJSON_OPTIONS = (
        _orjson.OPT_NON_STR_KEYS
        | _orjson.OPT_PASSTHROUGH_DATACLASS
        | _orjson.OPT_PASSTHROUGH_DATETIME
    )

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
            return orjson_dumps(obj, option=ORJSON_OPTIONS).decode()
        except TypeError:
            pass  # big integers, lone surrogates, unwritable types: the slow path decides
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
    "dumps",
    "loads",
    "orjson_dumps",
    "orjson_loads",
    "std_dumps",
    "std_loads",
]
