"""sioclient.emitter: on/once/off/listeners/on_any and the synchronous local emit."""

from __future__ import annotations

import logging

from sioclient.emitter import Emitter


def test_on_and_emit_in_order_and_chaining():
    e = Emitter()
    calls = []
    assert e.on("a", lambda x: calls.append(("1", x))) is e
    e.on("a", lambda x: calls.append(("2", x))).on("b", lambda: calls.append("b"))
    e._emit_local("a", 7)
    e._emit_local("b")
    e._emit_local("nobody")
    assert calls == [("1", 7), ("2", 7), "b"]


def test_decorator_form_returns_the_function():
    e = Emitter()

    @e.on("x")
    def handler(v):
        return v

    @e.once("y")
    def once_handler():
        pass

    assert handler(3) == 3
    assert e.listeners("x") == [handler]
    assert e.listeners("y") == [once_handler]


def test_once_fires_once():
    e = Emitter()
    calls = []
    e.once("a", calls.append)
    e._emit_local("a", 1)
    e._emit_local("a", 2)
    assert calls == [1]
    assert not e.has_listeners("a")


def test_off_variants():
    e = Emitter()

    def f():
        pass

    def g():
        pass

    e.on("a", f).on("a", g).once("a", f).on("b", f)
    e.off("a", f)  # the first f
    assert e.listeners("a") == [g, f]
    e.off("a", f)  # the once-wrapper of f
    assert e.listeners("a") == [g]
    e.off("a")
    assert not e.has_listeners("a") and e.has_listeners("b")
    e.off()
    assert not e.has_listeners("b")
    assert e.off("never", f) is e


def test_removing_during_emit_keeps_this_round_intact():
    e = Emitter()
    calls = []

    def first():
        calls.append(1)
        e.off("a", second)

    def second():
        calls.append(2)

    e.on("a", first).on("a", second)
    e._emit_local("a")
    e._emit_local("a")
    assert calls == [1, 2, 1]


def test_exceptions_are_logged_and_the_rest_run(caplog):
    e = Emitter()
    calls = []

    def boom():
        raise RuntimeError("boom")

    e.on("a", boom).on("a", lambda: calls.append("after"))
    with caplog.at_level(logging.ERROR, logger="sioclient"):
        e._emit_local("a")
    assert calls == ["after"]
    assert "boom" in caplog.text


def test_on_any_runs_first_and_off_any():
    e = Emitter()
    calls = []

    @e.on_any()
    def catch_all(event, *args):
        calls.append(("any", event, args))

    e.on("x", lambda *a: calls.append(("x", a)))
    e._emit_any("x", 1, 2)
    assert calls == [("any", "x", (1, 2)), ("x", (1, 2))]
    assert e.listeners_any() == [catch_all]
    e.off_any(catch_all)
    assert e.listeners_any() == []
    e.on_any(catch_all).on_any(catch_all)
    e.off_any()
    assert e.listeners_any() == []
