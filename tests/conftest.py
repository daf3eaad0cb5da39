"""Shared fixtures.

Every test of a hot path takes one of the ``*_impl`` fixtures, parametrised over the compiled
module and its pure-Python twin, so that both run the same assertions.  When the compiled
modules were not built the ``compiled`` cases fail (see test_speedups.py) unless
``SIOCLIENT_NO_EXTENSIONS=1`` says that pure Python is intended.
"""

from __future__ import annotations

import os
import traceback
from typing import Any, Iterator

import gevent
import pytest
from faultproxy import fault_proxy  # noqa: F401
from proxyserver import tinyproxy  # noqa: F401
from reverseproxy import haproxy, nginx  # noqa: F401
from servers import *  # noqa: F401,F403

from sioclient.core import _accel

IMPLS = ("compiled", "pure")


#: the proxy variables the client honours; a test that wants them sets them itself
PROXY_VARIABLES = tuple(
    name
    for base in ("http_proxy", "https_proxy", "all_proxy", "no_proxy")
    for name in (base, base.upper())
)


@pytest.fixture(autouse=True)
def no_proxy_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test starts without proxy variables: the client honours them by default, and
    the test servers listen on 127.0.0.1 where a machine's proxy cannot reach."""
    for name in PROXY_VARIABLES:
        if name in os.environ:
            monkeypatch.delenv(name)


@pytest.fixture(autouse=True)
def nothing_detected() -> Iterator[None]:
    """Every test starts with no revision remembered: the memory is per process and keyed by
    host, port and path, and a free port one test's server had may be another kind's later."""
    from sioclient.manager import forget_detected

    forget_detected()
    yield
    forget_detected()


def _hub_error_report(errors: list[Any]) -> str:
    shown = "\n".join(
        f"{context!r}:\n" + "".join(traceback.format_exception(type_, value, tb))
        for context, type_, value, tb in errors
    )
    return f"{len(errors)} exception(s) reached the gevent hub:\n{shown}"


@pytest.fixture(autouse=True)
def no_hub_errors(request: pytest.FixtureRequest) -> Iterator[list[Any]]:
    """Fails a test in which an exception reached the gevent hub.

    gevent hands every exception that ends a greenlet, a link or a loop callback to
    ``Hub.handle_error``, which prints it and goes on: the test would pass while a greenlet died.
    ``GreenletExit`` and the like (``Hub.NOT_ERROR``) are how greenlets are stopped, not errors.
    Errors seen up to the end of the test body fail the test itself; those seen while its
    fixtures are torn down are an error at teardown.  A test that provokes such errors on
    purpose says so with ``@pytest.mark.hub_errors``.
    """
    errors: list[Any] = []
    hub_class = gevent.get_hub().__class__
    original = hub_class.handle_error

    def handle_error(hub: Any, context: Any, type_: Any, value: Any, tb: Any) -> Any:
        if type_ is not None and not issubclass(type_, hub.NOT_ERROR):
            errors.append((context, type_, value, tb))
        return original(hub, context, type_, value, tb)

    hub_class.handle_error = handle_error
    node: Any = request.node
    node._hub_errors = errors
    node._hub_errors_reported = 0
    try:
        yield errors
        # Callbacks already scheduled (greenlets killed at teardown, links) run before the check.
        gevent.sleep(0)
        gevent.sleep(0)
    finally:
        hub_class.handle_error = original
    late = errors[node._hub_errors_reported :]
    if late and node.get_closest_marker("hub_errors") is None:
        pytest.fail(_hub_error_report(late), False)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    outcome: Any = yield
    errors = getattr(item, "_hub_errors", None)
    if errors is None or item.get_closest_marker("hub_errors") is not None:
        return
    gevent.sleep(0)  # let callbacks the test body scheduled report their errors
    if errors:
        item._hub_errors_reported = len(errors)  # type: ignore[attr-defined]
        if outcome.excinfo is None:
            outcome.force_exception(AssertionError(_hub_error_report(errors)))


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
