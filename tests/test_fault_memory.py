"""A connection that is given up is freed at once, by reference counting alone.

A client that reconnects (a restarted server, a dead network) replaces its Engine and
everything hanging off it: the session, the sockets, the HTTP or WebSocket state.  Were any of
that in a reference cycle, it would stay in memory until CPython's cycle collector runs, and
in a reconnection storm of thousands of clients the dead connections of every client then
pile up next to the new ones, raising the process's memory for good (the allocator keeps the
peak).  With the collector switched off, the faults below (resets, refused connections, a
blackhole that ends in a ping timeout and in attempts that time out) must leave exactly one
Engine alive, and the collector must find nothing of ours to collect afterwards.
"""

from __future__ import annotations

import gc
import time
from collections import Counter
from typing import Any, Iterator

import pytest
from fault_util import DETECT, KIND_PARAMS, TRANSPORT_PARAMS, proxied_fixture  # noqa: F401
from gevent.event import Event
from integration_util import WAIT, clients_fixture, eventually, expect  # noqa: F401

import sioclient
from sioclient.engine import Engine

#: how long a connection attempt may take (s)
TIMEOUT = 1.5
#: failed attempts to wait for during each fault (each one an Engine given up)
ATTEMPTS = 2


def _engines(manager: sioclient.Manager) -> int:
    """The Engines alive of one manager (those of other tests' clients may still be closing)."""
    return sum(
        1 for o in gc.get_objects() if isinstance(o, Engine) and o.listener.manager is manager
    )


def _is_ours(o: Any) -> bool:
    module = type(o).__module__
    return isinstance(module, str) and module.startswith("sioclient")


def _ours(objects: list[Any], before: set[int]) -> Counter[str]:
    return Counter(
        f"{type(o).__module__}.{type(o).__qualname__}"
        for o in objects
        if _is_ours(o) and id(o) not in before
    )


@pytest.fixture(name="no_collector")
def no_collector_fixture() -> Iterator[set[int]]:
    """The cycle collector is off for the test: only reference counting frees anything.

    Yields the ids of the objects of ours alive at the start: clients of earlier tests that are
    still closing may become garbage during the test, and they are not its connections."""
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield {id(o) for o in gc.get_objects() if _is_ours(o)}
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if was_enabled:
            gc.enable()


@pytest.mark.parametrize("kind", KIND_PARAMS)
@pytest.mark.parametrize("transports", TRANSPORT_PARAMS)
def test_connections_given_up_need_no_collector(
    proxied: Any, no_collector: set[int], kind: str, transports: list[str]
) -> None:
    env = proxied(kind, transports)
    sock = env.connect()
    sock.io.timeout(TIMEOUT)  # an attempt the blackhole swallows gives up soon
    # counted, not kept: an error's traceback holds the frames, and so the Engine, it came from
    failed = Event()
    errors = [0]

    def on_error(_: BaseException) -> None:
        errors[0] += 1
        failed.set()

    sock.io.on("reconnect_error", on_error)

    def fault(start: Any, reason: tuple[str, ...]) -> None:
        down = expect(sock, "disconnect")
        wanted = errors[0] + ATTEMPTS
        start()
        assert down.get(timeout=DETECT)[0] in reason
        deadline = time.monotonic() + WAIT + DETECT
        while errors[0] < wanted:
            failed.clear()
            assert failed.wait(max(0.0, deadline - time.monotonic())), "no failed attempt"
        back = expect(sock, "connect")
        env.proxy.passthrough()
        back.get(timeout=WAIT + DETECT)

    # connections reset as soon as they are made
    fault(env.proxy.reset, ("transport close", "transport error"))

    # the listener gone: every attempt is refused
    def refuse() -> None:
        env.proxy.refuse()
        env.proxy.reset_all()

    fault(refuse, ("transport close", "transport error"))
    # nothing passes: a ping timeout, then attempts that time out
    fault(env.proxy.blackhole, ("ping timeout", "transport close", "transport error"))

    # greenlets killed with a connection end at their next turn: a bounded wait for them
    eventually(lambda: _engines(sock.io) == 1, timeout=WAIT, what="one Engine alive")
    gc.set_debug(gc.DEBUG_SAVEALL)
    gc.collect()
    assert _ours(gc.garbage, no_collector) == Counter(), (
        "objects of ours only the cycle collector freed"
    )
    assert sock.connected
