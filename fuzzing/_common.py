"""What every harness shares: picking the implementations, running them, comparing them.

``FUZZ_IMPL`` selects what runs on each input: ``both`` (the default: the compiled twin and
the pure-Python one, whose results must agree), ``compiled`` or ``pure``.  Only the pure twin
is instrumented, so coverage feedback always comes from it; the compiled twin rides along to be
compared.

An input may make a decoder raise ``sioclient.ProtocolError`` (the documented refusal) and
nothing else: any other exception propagates and libFuzzer reports it as a crash, and a
disagreement between the twins is an ``AssertionError``.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any

import atheris

# Instrument the library's Python code (the pure twins included) for coverage feedback; the
# modules must be imported for the first time inside this block.
with atheris.instrument_imports(include=["sioclient"]):
    import sioclient.core._eio_py
    import sioclient.core._msgpack_py
    import sioclient.core._sioparser_py
    import sioclient.core._wsframe_py
    import sioclient.core.handshake
    import sioclient.core.jsoncodec
    import sioclient.core.session
    import sioclient.parsers.default
    import sioclient.parsers.jsonparser
    import sioclient.parsers.msgpackparser  # noqa: F401
    from sioclient import ProtocolError
    from sioclient.core import _accel
    from sioclient.core.packet import Packet

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def _impls() -> tuple[str, ...]:
    choice = os.environ.get("FUZZ_IMPL", "both")
    if choice == "both":
        wanted: tuple[str, ...] = ("compiled", "pure")
    elif choice in ("compiled", "pure"):
        wanted = (choice,)
    else:
        raise SystemExit(f"FUZZ_IMPL={choice!r}: expected both, compiled or pure")
    if "compiled" in wanted:
        missing = [n for n in _accel.HOT_MODULES if _accel.compiled(n) is None]
        if missing:
            raise SystemExit(
                f"compiled modules not built ({', '.join(missing)}): run "
                "`.venv/bin/python setup.py build_ext --inplace -q` or set FUZZ_IMPL=pure"
            )
    return wanted


IMPLS = _impls()


def module(name: str, impl: str) -> ModuleType:
    """Hot module ``name`` in implementation ``impl`` ('compiled' or 'pure')."""
    mod = _accel.pure(name) if impl == "pure" else _accel.compiled(name)
    assert mod is not None
    return mod


def use(impl: str) -> None:
    """Make ``_accel.load`` hand out ``impl`` for every hot module (as the tests' accel_mode)."""
    _accel._loaded.clear()
    for name in _accel.HOT_MODULES:
        _accel._loaded[name] = module(name, impl)


def attempt(fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)`` described for comparison; a ProtocolError becomes ``'ProtocolError'``."""
    try:
        return describe(fn(*args))
    except ProtocolError:
        return "ProtocolError"


def describe(value: Any) -> Any:
    """A comparable, printable form of decoder output (packets, events, exceptions, NaN)."""
    if isinstance(value, Packet):
        return (
            "Packet",
            value.type,
            value.nsp,
            value.id,
            describe(value.data),
            value.attachments,
        )
    if isinstance(value, BaseException):
        return type(value).__name__
    if isinstance(value, float):
        return repr(value)  # NaN == NaN as text
    if isinstance(value, (list, tuple)):
        return [describe(v) for v in value]
    if isinstance(value, dict):
        return [(describe(k), describe(v)) for k, v in value.items()]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = [(f.name, describe(getattr(value, f.name))) for f in dataclasses.fields(value)]
        return (type(value).__name__, fields)
    if type(value).__name__ == "_Undefined":
        return "UNDEFINED"  # each twin has its own sentinel object
    return value


#: nesting depths around the bounds (32, 100) and past the interpreter's recursion limit
DEPTHS = [1, 2, 31, 32, 33, 99, 100, 101, 999, 1001, 5000]


def nested(fdp: atheris.FuzzedDataProvider, inner: Any, opening: Any, closing: Any) -> Any:
    """``inner`` wrapped in a fuzzed number of ``opening``/``closing`` tokens (str or bytes);
    random bytes almost never nest deep enough to reach the depth checks."""
    depth = fdp.PickValueInList(DEPTHS)
    return opening * depth + inner + closing * fdp.ConsumeIntInRange(0, depth)


def differential(run: Callable[[str], Any], *what: Any) -> None:
    """Run ``run(impl)`` for every selected implementation; their results must be equal."""
    results = [(impl, run(impl)) for impl in IMPLS]
    first_impl, first = results[0]
    for impl, result in results[1:]:
        if result != first:
            raise AssertionError(
                f"the implementations disagree on {what!r}:\n"
                f"  {first_impl}: {first!r}\n  {impl}: {result!r}"
            )


def main(test_one_input: Callable[[bytes], None], name: str) -> None:
    """Start libFuzzer, with this harness's dictionary, corpus and artifact directory unless
    the command line names its own."""
    args = list(sys.argv)
    opts = [a for a in args[1:] if a.startswith("-")]
    dirs = [a for a in args[1:] if not a.startswith("-")]
    dict_path = os.path.join(HERE, "dicts", f"{name}.dict")
    if os.path.exists(dict_path) and not any(a.startswith("-dict=") for a in opts):
        args.append(f"-dict={dict_path}")
    if not any(a.startswith("-max_len=") for a in opts):
        # room for deep nesting and long headers; libFuzzer still grows lengths gradually
        args.append("-max_len=65536")
    if not any(a.startswith("-artifact_prefix=") for a in opts):
        artifacts = os.path.join(ROOT, "build", "fuzz-artifacts")
        os.makedirs(artifacts, exist_ok=True)
        args.append(f"-artifact_prefix={artifacts}{os.sep}{name}-")
    if not dirs and not any(a.startswith("-runs=") for a in opts):
        corpus = os.path.join(ROOT, "build", "fuzz-corpus", name)
        os.makedirs(corpus, exist_ok=True)
        args.append(corpus)
    print(f"{name}: implementations {', '.join(IMPLS)}", file=sys.stderr)
    atheris.Setup(args, test_one_input)
    atheris.Fuzz()
