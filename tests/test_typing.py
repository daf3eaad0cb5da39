"""The public API as the type checker sees it: no ``Any`` where a user reads a result back.

A snippet of user code is checked by ``mypy --strict`` against the package in this tree; each
``assert_type`` there is a promise about a public signature (the option getters and setters,
the chaining listener methods, ``parsers.get``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("mypy")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

USER_CODE = textwrap.dedent(
    """
    from typing import Callable

    from typing_extensions import assert_type

    import sioclient
    from sioclient import parsers
    from sioclient.parsers import Decoder, Parser

    m = sioclient.Manager("http://localhost:1", auto_connect=False)
    assert_type(m.reconnection(), bool)
    assert_type(m.reconnection(False), sioclient.Manager)
    assert_type(m.reconnection_attempts(), float)
    assert_type(m.timeout(), "float | None")
    assert_type(m.timeout(None).reconnection_delay(1.0).randomization_factor(0.1), sioclient.Manager)

    s = m.socket("/chat")
    assert_type(s.on("x", print), sioclient.Socket)
    assert_type(s.once("x", print).off("x").on_any(print).off_any(), sioclient.Socket)
    assert_type(m.on("reconnect", print), sioclient.Manager)


    @s.on("y")
    def handler(a: int) -> str:
        return str(a)


    assert_type(handler(1), str)  # the decorator gives the function back, typed

    p = parsers.get("msgpack", 4)
    assert_type(p, Parser)
    assert_type(p.decoder(), Decoder)
    assert_type(sioclient.io("http://localhost:1", auto_connect=False), sioclient.Socket)
    """
)


def _mypy(tmp_path, code: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "user_code.py"
    path.write_text(code)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-incremental",
            "--cache-dir",
            os.devnull,
            str(path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_public_results_are_typed(tmp_path) -> None:
    proc = _mypy(tmp_path, USER_CODE)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_a_wrong_promise_is_caught(tmp_path) -> None:
    # the check above can fail: a getter is not a Manager
    code = USER_CODE + "\nassert_type(m.reconnection(), sioclient.Manager)\n"
    proc = _mypy(tmp_path, code)
    assert proc.returncode == 1 and "assert-type" in proc.stdout, proc.stdout + proc.stderr
