"""jsoncodec: JSON as JavaScript writes and reads it, with orjson and with the stdlib alone."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
        # numbers as JavaScript writes them
        ([1.0, -0.0, -5.0, 2.0**52], "[1,0,-5,4503599627370496]"),
        (
            [1e16, 2.0**60, 1e20, 1e21, 1.5e300],
            "[10000000000000000,1152921504606847000,100000000000000000000,1e+21,1.5e+300]",
        ),
        ([1.5e-5, 1e-6, 1e-7, 5e-324, 0.1, 123.456], "[0.000015,0.000001,1e-7,5e-324,0.1,123.456]"),
        ({"k": 2.0, 3.0: [4.0, "5.0 e+1"]}, '{"k":2,"3":[4,"5.0 e+1"]}'),
        ([2.0**70, 2**70], f"[1.1805916207174113e+21,{2**70}]"),
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


def test_whole_floats_come_back_as_the_same_object_when_there_are_none():
    from sioclient.core import _sioparser_py

    data = {"a": [1, "1.0", {"b": 2.5}], "c": None}
    assert _sioparser_py.js_floats(data) is data
    changed = _sioparser_py.js_floats({"a": [1, 2.0], "z": "kept", 4.0: 5})
    assert changed == {"a": [1, 2], "z": "kept", 4: 5} and list(changed) == ["a", "z", 4]


finite_floats = st.floats(allow_nan=False, allow_infinity=False)
js_numbers = (
    finite_floats
    | st.integers(min_value=-(2**70), max_value=2**70).map(float)
    | st.builds(lambda m, e: m * 10.0**e, st.integers(-999, 999), st.integers(-10, 25))
)
json_data = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | js_numbers | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(js_numbers)
def test_js_number_reads_back_and_is_what_both_writers_write(value):
    text = jsoncodec.js_number(value)
    assert float(text) == value
    assert jsoncodec.dumps(value) == jsoncodec.std_dumps(value) == text
    # JavaScript's form: no fraction on a whole number, exponent only below 1e-6 or from 1e21
    if "e" in text:
        assert abs(value) < 1e-6 or abs(value) >= 1e21
    elif value.is_integer():
        assert "." not in text


@settings(max_examples=300, deadline=None)
@given(json_data)
def test_orjson_and_stdlib_paths_agree(data):
    assert jsoncodec.dumps(data) == jsoncodec.std_dumps(data)
    assert jsoncodec.loads(jsoncodec.dumps(data)) == jsoncodec.std_loads(jsoncodec.std_dumps(data))
