"""Shared fixtures.

Every test of a hot path takes one of the ``*_impl`` fixtures, parametrised over the compiled
module and its pure-Python twin, so that both run the same assertions.  When the compiled
modules were not built the ``compiled`` cases fail (see test_speedups.py) unless
``SIOCLIENT_NO_EXTENSIONS=1`` says that pure Python is intended.
"""

from __future__ import annotations

import pytest
from faultproxy import fault_proxy  # noqa: F401
from servers import *  # noqa: F401,F403

from sioclient.core import _accel

IMPLS = ("compiled", "pure")


def _impl(request, name):
    if request.param == "pure":
        return _accel.pure(name)
    if _accel.NO_EXTENSIONS:
        pytest.skip("SIOCLIENT_NO_EXTENSIONS=1: compiled modules disabled on purpose")
    mod = _accel.compiled(name)
    if mod is None:
        pytest.fail(f"compiled module sioclient.core._{name}_c is not built")
    return mod


@pytest.fixture(params=IMPLS)
def sioparser_impl(request):
    return _impl(request, "sioparser")


@pytest.fixture(params=IMPLS)
def eio_impl(request):
    return _impl(request, "eio")


@pytest.fixture(params=IMPLS)
def msgpack_impl(request):
    return _impl(request, "msgpack")


@pytest.fixture(params=IMPLS)
def wsframe_impl(request):
    return _impl(request, "wsframe")


@pytest.fixture(params=IMPLS)
def accel_mode(request, monkeypatch):
    """Runs a test once with the compiled modules in use and once with pure Python."""
    if request.param == "compiled" and _accel.NO_EXTENSIONS:
        pytest.skip("SIOCLIENT_NO_EXTENSIONS=1")
    loaded = {}
    for name in _accel.HOT_MODULES:
        mod = _accel.pure(name) if request.param == "pure" else _accel.compiled(name)
        if mod is None:
            pytest.fail(f"compiled module sioclient.core._{name}_c is not built")
        loaded[name] = mod
    monkeypatch.setattr(_accel, "_loaded", loaded)
    return request.param
