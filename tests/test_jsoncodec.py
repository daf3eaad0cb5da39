"""jsoncodec: JSON as JavaScript writes and reads it, with orjson and with the stdlib alone."""

from __future__ import annotations

import json
import math

import pytest

from sioclient.core import jsoncodec

DUMPERS = [jsoncodec.dumps, jsoncodec.std_dumps]
LOADERS = [jsoncodec.loads, jsoncodec.std_loads]


@pytest.fixture(params=DUMPERS, ids=["dumps", "std_dumps"])
def dumps(request):
    return request.param


@pytest.fixture(params=LOADERS, ids=["loads", "std_loads"])
def loads(request):
    return request.param


@pytest.mark.parametrize(
    "value, text",
    [
        (["chat", {"a": 1}], '["chat",{"a":1}]'),
        ({"url": "http://x/y"}, '{"url":"http://x/y"}'),  # '/' is not escaped
        ("héllo ✓ 😀", '"héllo ✓ 😀"'),  # nor is non-ASCII
        ((1, (2, 3)), "[1,[2,3]]"),  # tuples are arrays
        ({2: "a", True: "b", None: "c"}, '{"2":"a","true":"b","null":"c"}'),
        ([float("nan"), float("inf"), -float("inf")], "[null,null,null]"),
        ({"x": [1.5, -2, None, False]}, '{"x":[1.5,-2,null,false]}'),
        ([2**64, -(2**70)], f"[{2**64},{-(2**70)}]"),  # beyond orjson: written exactly
        ('a"b\\c\n', '"a\\"b\\\\c\\n"'),
        ("\u2028", '"\u2028"'),
    ],
)
def test_dumps_writes_what_json_stringify_writes(dumps, value, text):
    assert dumps(value) == text


def test_dumps_escapes_lone_surrogates(dumps):
    text = dumps(["a\ud800b"])
    assert text == '["a\\ud800b"]'
    text.encode("utf-8")  # sendable
    assert jsoncodec.loads(text) == ["a\ud800b"]


def test_dumps_mixed_big_int_and_nan():
    assert jsoncodec.dumps([2**65, float("nan")]) == f"[{2**65},null]"


@pytest.mark.parametrize("value", [b"x", object(), {(1, 2): 1}, {1, 2}])
def test_dumps_refuses_what_json_cannot_hold(dumps, value):
    with pytest.raises(TypeError):
        dumps(value)


def test_dumps_refuses_circular_data(dumps):
    a: list = []
    a.append(a)
    with pytest.raises((ValueError, TypeError, RecursionError)):
        dumps(a)


def test_dumps_agrees_with_stdlib_on_common_data():
    data = {"a": [1, 2.5, "x", None, True], "b": {"c": "✓"}, "d": []}
    assert jsoncodec.dumps(data) == jsoncodec.std_dumps(data)
    assert json.loads(jsoncodec.dumps(data)) == data


@pytest.mark.parametrize(
    "text, value",
    [
        ('["a",1,{"b":null}]', ["a", 1, {"b": None}]),
        (b'{"k":"\xe2\x9c\x93"}', {"k": "✓"}),
        (" [1] ", [1]),
        ('"\\ud800"', "\ud800"),  # JSON.parse accepts a lone surrogate escape
        ("18446744073709551615", 2**64 - 1),
        ('{"a":1,"a":2}', {"a": 2}),  # the last duplicate wins, as in JavaScript
    ],
)
def test_loads(loads, text, value):
    assert loads(text) == value


@pytest.mark.parametrize("text", ["123456789012345678901234567890", "-9223372036854775809"])
def test_loads_reads_integers_beyond_64_bits_as_floats(loads, text):
    value = loads(text)
    assert isinstance(value, float) and value == float(text)


@pytest.mark.parametrize(
    "text",
    [
        "NaN",
        "[Infinity]",
        "-Infinity",
        "[1e400]",
        "1" * 5000,  # overflows a double
        "",
        "[1,]",
        "{'a':1}",
        "[1] x",
        b"\xff",
        "\ufeff[1]",
    ],
)
def test_loads_rejects(loads, text):
    with pytest.raises(ValueError):
        loads(text)


def test_loads_deep_nesting_is_a_value_error_not_recursion(loads):
    depth = 100_000
    with pytest.raises(ValueError):
        loads("[" * depth + "]" * depth)


def test_loads_moderate_nesting(loads):
    assert loads("[" * 200 + "]" * 200) is not None


def test_floats_round_trip():
    for value in (0.1, 1e-7, 1e16, 1e300, -0.0, 5e-324, math.pi):
        assert jsoncodec.loads(jsoncodec.dumps(value)) == value
        assert jsoncodec.std_loads(jsoncodec.std_dumps(value)) == value
