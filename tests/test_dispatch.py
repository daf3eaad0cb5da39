"""The callback dispatcher: order, isolation from the caller, and blocked callbacks."""

from __future__ import annotations

import gevent
import gevent.event

from sioclient.dispatch import Dispatcher, submit


def test_callbacks_run_later_in_order_on_another_greenlet():
    me = gevent.getcurrent()
    seen = []
    done = gevent.event.Event()
    for i in range(100):
        submit(lambda i: seen.append((i, gevent.getcurrent() is not me)), i)
    submit(done.set)
    assert seen == []  # nothing runs on the submitter's greenlet
    assert done.wait(5)
    assert seen == [(i, True) for i in range(100)]


def test_a_blocked_callback_does_not_stall_the_ones_queued_behind_it():
    d = Dispatcher(gevent.get_hub())
    release = gevent.event.Event()
    started = []
    all_started = gevent.event.Event()

    def blocker(name):
        started.append(name)
        release.wait(5)

    def quick(name):
        started.append(name)
        if len(started) == 4:
            all_started.set()

    # submitted in one go, as a burst of events decoded from one read
    d.submit(blocker, ("a",))
    d.submit(blocker, ("b",))
    d.submit(quick, ("c",))
    d.submit(quick, ("d",))
    assert all_started.wait(5), started
    assert started == ["a", "b", "c", "d"]
    release.set()
    gevent.sleep(0)


def test_a_failing_callback_is_logged_and_the_next_runs(caplog):
    done = gevent.event.Event()

    def boom():
        raise RuntimeError("boom")

    submit(boom)
    submit(done.set)
    assert done.wait(5)
    assert "boom" in caplog.text


def test_non_blocking_callbacks_share_a_runner():
    d = Dispatcher(gevent.get_hub())
    runners = set()
    done = gevent.event.Event()
    for _ in range(1000):
        d.submit(lambda: runners.add(id(gevent.getcurrent())), ())
    d.submit(done.set, ())
    assert done.wait(5)
    assert len(runners) == 1
