"""Greenlet machinery of the I/O layer: the runners that call user handlers and do the
connections' I/O off the reader's greenlet."""

from __future__ import annotations

import logging
import time
import weakref
from collections import deque
from typing import Any, Callable

import gevent
from gevent import GreenletExit

logger = logging.getLogger("sioclient")

#: parked runner greenlets kept for the next burst of work (more exit when idle)
_MAX_IDLE_RUNNERS = 1


def _nothing() -> None:
    pass


class _Greenlet(gevent.Greenlet):  # type: ignore[misc]
    """The library's greenlets: a ``gevent.Greenlet`` without its ``spawning_stack``.

    gevent keeps, for every greenlet, ten frames of the stack that spawned it (for its
    ``print_run_info()`` report): 18 of the 34 blocks a started greenlet holds.  A connection
    holds one greenlet while it opens, and after a server outage thousands of clients open
    at once; the small-object arenas that storm fills stay with the process.  The spawn
    tree (``spawning_greenlet``, ``spawn_tree_locals``) is kept.
    """

    __slots__ = ()
    spawning_stack_limit = 0


#: ``gevent.spawn`` for the library's own greenlets (see ``_Greenlet``)
spawn = _Greenlet.spawn


class Dispatcher:
    """Runs callbacks on greenlets other than the caller's, in submission order.

    Semantically each callback gets a greenlet of its own: the caller (the connection's
    reader) never runs user code, callbacks start in the order they were submitted, and one
    that blocks (sleeps, waits for an ack, does I/O) delays neither the reader nor the start of
    the next one.  Spawning a greenlet per callback costs about 10 us, more than everything else
    an event costs, so runner greenlets drain a FIFO instead: a runner calls the callbacks one
    after the other, and whenever it blocks inside one, the hub gets control and a check
    scheduled before the call hands the rest of the queue to another runner.  Start order is
    pop order, since nothing switches between a pop and its call.
    """

    __slots__ = ("_queue", "_idle", "_loop", "_waking", "_checking", "__weakref__")

    def __init__(self, hub: Any) -> None:
        self._queue: deque[tuple[Callable[..., Any], tuple[Any, ...]]] = deque()
        self._idle: list[Any] = []  # parked runners
        self._loop = hub.loop
        self._waking = False  # a runner was scheduled and has not started draining yet
        self._checking = False  # a blocked-runner check is scheduled

    def submit(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        self._queue.append((fn, args))
        if not self._waking:
            self._wake()

    def _wake(self) -> None:
        self._waking = True
        if self._idle:
            self._loop.run_callback(self._idle.pop().switch)
        else:
            spawn(self._run)

    def _check(self) -> None:
        # The hub runs this only once every runner is parked or blocked in a callback.
        self._checking = False
        if self._queue and not self._waking:
            self._wake()

    def _run(self) -> None:
        queue = self._queue
        current = gevent.getcurrent()
        hub = gevent.get_hub()
        try:
            while True:
                self._waking = False
                while queue:
                    fn, args = queue.popleft()
                    if queue and not self._checking:
                        self._checking = True
                        self._loop.run_callback(self._check)
                    try:
                        fn(*args)
                    except Exception:
                        logger.exception("error in the callback %r", fn)
                # a parked runner must not keep its last job (a dead connection, say) alive
                fn, args = _nothing, ()
                if len(self._idle) >= _MAX_IDLE_RUNNERS:
                    return
                self._idle.append(current)
                hub.switch()  # parked until _wake() switches back here
        except GreenletExit:
            raise
        finally:
            if current in self._idle:
                self._idle.remove(current)
            if queue and not self._waking:
                self._wake()  # this runner died abnormally: the queue still gets drained


_dispatchers: weakref.WeakKeyDictionary[Any, Dispatcher] = weakref.WeakKeyDictionary()
# the dispatcher of the hub that asked last: every received event asks, and the lookup in a
# WeakKeyDictionary (a Python-level method) cost as much as the rest of the hand-off
_last: tuple[Any, Dispatcher | None] = (None, None)


def dispatcher() -> Dispatcher:
    """The dispatcher of the current thread's hub."""
    global _last
    hub = gevent.get_hub()
    last_hub_ref, d = _last
    if d is not None and last_hub_ref() is hub:
        return d
    d = _dispatchers.get(hub)
    if d is None:
        d = _dispatchers[hub] = Dispatcher(hub)
    _last = (weakref.ref(hub), d)
    return d


def submit(fn: Callable[..., Any], *args: Any) -> None:
    """Runs ``fn(*args)`` on another greenlet, after what was submitted before."""
    dispatcher().submit(fn, args)


# Connection work (heartbeat timers, WebSocket reads) has a runner queue of its own, so that a
# burst of events whose handlers are slow never delays a ping or its timeout.
_io_dispatchers: weakref.WeakKeyDictionary[Any, Dispatcher] = weakref.WeakKeyDictionary()


def submit_io(fn: Callable[..., Any], *args: Any) -> None:
    """Like ``submit``, on the runners that do the connections' I/O (never user handlers)."""
    hub = gevent.get_hub()
    d = _io_dispatchers.get(hub)
    if d is None:
        d = _io_dispatchers[hub] = Dispatcher(hub)
    d.submit(fn, args)


# ---------------------------------------------------------------------------- burst writes

#: how long the burst writer writes before it lets the loop poll again (seconds)
WRITE_SLICE = 0.0005
#: whether sends made during a burst of wake-ups are left to the burst writer (see
#: ``defer_write``); False writes every send from its caller at once
DEFER_IN_BURSTS = True

_perf = time.perf_counter


class _BurstWriter:
    """Writes left by sends made during a burst of wake-ups, a slice at a time.

    libev runs every watcher that became pending in an iteration (every expired timer, every
    readable socket) before it polls again.  When hundreds of greenlets wake in one iteration
    and each writes a request, the answers to the first ones wait, unread, until the last one
    has written: every member of the burst sees the whole burst's latency, and since the
    answers are then read in one batch, the members resume together and wake together next
    time (constant think times keep such groups together for good).  A send made while other
    watchers are pending only queues its frames; this greenlet writes them in slices of
    ``WRITE_SLICE`` seconds, and between slices the loop polls, so the answers that came
    meanwhile are read (and their callers resumed) while the rest of the burst is written.
    Callers then resume at the pace their requests were written, and the next burst is spread
    over that time instead of packed into one iteration.  A send with nothing else pending
    (a lone caller) still writes at once.  (libev, gevent's default loop, tells what is
    pending; on libuv nothing is deferred.)
    """

    __slots__ = ("_loop", "_pending", "_greenlet", "_idle")

    def __init__(self, hub: Any) -> None:
        self._loop = hub.loop
        self._pending: deque[Callable[[], None]] = deque()
        self._greenlet: Any = None
        self._idle = True  # parked, and no wake-up scheduled

    def defer(self, flush: Callable[[], None]) -> None:
        self._pending.append(flush)
        if self._idle:
            self._wake()

    def _wake(self) -> None:
        self._idle = False
        g = self._greenlet
        if g is None or g.dead:
            self._greenlet = spawn(self._run)
        else:
            # the first slice right after this iteration's watchers, before the poll
            self._loop.run_callback(g.switch)

    def _run(self) -> None:
        pending = self._pending
        current = gevent.getcurrent()
        hub = gevent.get_hub()
        timer = self._loop.timer(0.0)
        try:
            while True:
                deadline = _perf() + WRITE_SLICE
                while pending:
                    flush = pending.popleft()
                    try:
                        flush()
                    except Exception:
                        logger.exception("error in the deferred write %r", flush)
                    if _perf() >= deadline:
                        break
                if pending:
                    timer.start(current.switch)  # expired at once: runs after the next poll
                else:
                    self._idle = True
                hub.switch()
        finally:
            timer.close()
            if self._greenlet is current:
                self._greenlet = None
                if pending:
                    self._wake()  # killed with work left: another greenlet takes it


_writers: weakref.WeakKeyDictionary[Any, _BurstWriter] = weakref.WeakKeyDictionary()
# the writer of the hub that deferred last (as _last for the dispatcher): every send of a burst
# defers, and the WeakKeyDictionary's lookup cost as much as the deferring
_last_writer: tuple[Any, _BurstWriter | None] = (None, None)


def in_burst() -> bool:
    """True when other watchers of this loop iteration are still to run (see _BurstWriter)."""
    return DEFER_IN_BURSTS and gevent.get_hub().loop.pendingcnt > 0


def defer_write(flush: Callable[[], None]) -> None:
    """Has ``flush()`` (which must not block) called by the burst writer, soon, in order."""
    global _last_writer
    hub = gevent.get_hub()
    last_hub_ref, w = _last_writer
    if w is None or last_hub_ref() is not hub:
        w = _writers.get(hub)
        if w is None:
            w = _writers[hub] = _BurstWriter(hub)
        _last_writer = (weakref.ref(hub), w)
    w._pending.append(flush)  # w.defer(flush), inlined
    if w._idle:
        w._wake()


__all__ = ["Dispatcher", "defer_write", "dispatcher", "in_burst", "spawn", "submit", "submit_io"]
