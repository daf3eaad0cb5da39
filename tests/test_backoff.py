"""sioclient.backoff: socket.io-client's exponential backoff with relative jitter, in seconds."""

from __future__ import annotations

import itertools

import pytest

from sioclient.backoff import Backoff


def test_no_jitter_doubles_up_to_the_cap():
    b = Backoff(1.0, 5.0, 0)
    assert [b.duration() for _ in range(5)] == [1.0, 2.0, 4.0, 5.0, 5.0]
    assert b.attempts == 5


def test_reset():
    b = Backoff(0.5, 10.0, 0)
    b.duration()
    b.duration()
    b.reset()
    assert b.attempts == 0
    assert b.duration() == 0.5


def test_zero_delay_retries_at_once():
    b = Backoff(0.0, 5.0, 0.5)
    assert [b.duration() for _ in range(3)] == [0.0, 0.0, 0.0]


@pytest.mark.parametrize("rand,factor", [(0.0, 0.5), (0.5, 1.0), (0.75, 1.25)])
def test_jitter_is_relative(rand, factor):
    b = Backoff(1.0, 100.0, 0.5, rand=lambda: rand)
    assert b.duration() == pytest.approx(1.0 * factor)
    assert b.duration() == pytest.approx(2.0 * factor)


def test_jitter_first_then_the_cap():
    # 4 s * 1.5 = 6 s would exceed the cap: the cap wins; 4 s * 0.5 = 2 s stays below it
    high = Backoff(4.0, 5.0, 0.5, rand=lambda: 0.999999)
    assert high.duration() == 5.0
    low = Backoff(4.0, 5.0, 0.5, rand=lambda: 0.0)
    assert low.duration() == pytest.approx(2.0)


def test_jitter_stays_in_range():
    rands = itertools.cycle([0.0, 0.1, 0.5, 0.9, 0.99])
    b = Backoff(1.0, 1000.0, 0.3, rand=lambda: next(rands))
    for n in range(8):
        base = 2.0**n
        assert base * 0.7 - 1e-9 <= b.duration() <= base * 1.3 + 1e-9


def test_many_attempts_do_not_overflow():
    b = Backoff(1.0, 5.0, 0.5)
    b.attempts = 5000
    assert 0 <= b.duration() <= 5.0


def test_settable_like_the_manager_needs():
    b = Backoff(1.0, 5.0, 0)
    b.min, b.max = 0.1, 0.3
    assert [b.duration() for _ in range(3)] == [0.1, 0.2, 0.3]
