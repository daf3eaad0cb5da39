"""Guards: the compiled twins are really in use when they were built, and can be turned off."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from sioclient.core import _accel


@pytest.mark.parametrize("name", _accel.HOT_MODULES)
def test_compiled_twin_is_built(name):
    if _accel.NO_EXTENSIONS:
        pytest.skip("SIOCLIENT_NO_EXTENSIONS=1")
    mod = _accel.compiled(name)
    assert mod is not None, f"sioclient.core._{name}_c did not load"
    assert mod.__file__.endswith((".so", ".pyd")), mod.__file__


def _probe(env_extra):
    env = dict(os.environ, **env_extra)
    code = "import sioclient; print(sioclient.speedups)"
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_speedups_flag_and_switch():
    env = {k: v for k, v in os.environ.items() if k != "SIOCLIENT_NO_EXTENSIONS"}
    if all(_accel.compiled(n) is not None for n in _accel.HOT_MODULES):
        assert _probe({"SIOCLIENT_NO_EXTENSIONS": ""} if env else {}) == "True"
    assert _probe({"SIOCLIENT_NO_EXTENSIONS": "1"}) == "False"
