"""Event listeners shared by ``Manager`` and ``Socket`` (component-emitter, made Pythonic)."""

from __future__ import annotations

import logging
import weakref
from collections import deque
from typing import Any, Callable, TypeVar

import gevent
from gevent import GreenletExit

logger = logging.getLogger("sioclient")

F = TypeVar("F", bound=Callable[..., Any])

#: parked runner greenlets kept for the next burst of work (more exit when idle)
_MAX_IDLE_RUNNERS = 1


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
            gevent.spawn(self._run)

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


def dispatcher() -> Dispatcher:
    """The dispatcher of the current thread's hub."""
    hub = gevent.get_hub()
    d = _dispatchers.get(hub)
    if d is None:
        d = _dispatchers[hub] = Dispatcher(hub)
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


class _Once:
    """Wraps a ``once`` listener so that ``off(event, fn)`` still finds ``fn``."""

    __slots__ = ("emitter", "event", "listener")

    def __init__(self, emitter: Emitter, event: str, listener: Callable[..., Any]) -> None:
        self.emitter = emitter
        self.event = event
        self.listener = listener

    def __call__(self, *args: Any) -> Any:
        self.emitter._remove(self.event, self)
        return self.listener(*args)


class Emitter:
    """``on``/``once``/``off``/``listeners``/``has_listeners`` and catch-all listeners."""

    def __init__(self) -> None:
        self._handlers: dict[str, list[Callable[..., Any]]] = {}
        self._any: list[Callable[..., Any]] = []

    def on(self, event: str, callback: Callable[..., Any] | None = None) -> Any:
        """Adds a listener; without ``callback`` it is a decorator that returns the function."""
        if callback is None:

            def decorator(fn: F) -> F:
                self._add(event, fn)
                return fn

            return decorator
        self._add(event, callback)
        return self

    def once(self, event: str, callback: Callable[..., Any] | None = None) -> Any:
        """Like ``on``, but the listener is removed before its first call."""
        if callback is None:

            def decorator(fn: F) -> F:
                self._add(event, _Once(self, event, fn))
                return fn

            return decorator
        self._add(event, _Once(self, event, callback))
        return self

    def off(self, event: str | None = None, callback: Callable[..., Any] | None = None) -> Any:
        """Removes one listener, every listener of ``event``, or (no argument) all of them."""
        if event is None:
            self._handlers.clear()
        elif callback is None:
            self._handlers.pop(event, None)
        else:
            for fn in self._handlers.get(event, ()):
                if fn is callback or (isinstance(fn, _Once) and fn.listener is callback):
                    self._remove(event, fn)
                    break
        return self

    def listeners(self, event: str) -> list[Callable[..., Any]]:
        """The listeners of ``event``, in call order (``once`` listeners as given)."""
        return [
            fn.listener if isinstance(fn, _Once) else fn for fn in self._handlers.get(event, ())
        ]

    def has_listeners(self, event: str) -> bool:
        return bool(self._handlers.get(event))

    def on_any(self, callback: Callable[..., Any] | None = None) -> Any:
        """Adds a catch-all listener, called as ``callback(event, *args)``; decorator form too."""
        if callback is None:

            def decorator(fn: F) -> F:
                self._any = [*self._any, fn]
                return fn

            return decorator
        self._any = [*self._any, callback]
        return self

    def off_any(self, callback: Callable[..., Any] | None = None) -> Any:
        """Removes one catch-all listener, or all of them."""
        if callback is None:
            self._any = []
        elif callback in self._any:
            self._any = [fn for fn in self._any if fn is not callback]
        return self

    def listeners_any(self) -> list[Callable[..., Any]]:
        return list(self._any)

    # Listener lists are copy-on-write (never changed in place), so that an emit iterates over
    # them without copying and a listener added or removed meanwhile does not disturb it.

    def _add(self, event: str, fn: Callable[..., Any]) -> None:
        self._handlers[event] = [*self._handlers.get(event, ()), fn]

    def _remove(self, event: str, fn: Callable[..., Any]) -> None:
        handlers = self._handlers.get(event)
        if handlers and fn in handlers:
            handlers = [h for h in handlers if h is not fn]
            if handlers:
                self._handlers[event] = handlers
            else:
                del self._handlers[event]

    def _emit_local(self, event: str, *args: Any) -> None:
        """Calls the listeners of ``event`` now, in order; an exception is logged, not raised."""
        for fn in self._handlers.get(event, ()):
            try:
                fn(*args)
            except Exception:
                logger.exception("error in the %r handler %r", event, fn)

    def _dispatch(self, event: str, *args: Any) -> None:
        """Calls the listeners of ``event`` on a greenlet of their own (started in order)."""
        if self._handlers.get(event):
            dispatcher().submit(self._emit_local, (event, *args))

    def _emit_any(self, event: str, *args: Any) -> None:
        """Calls the catch-all listeners, then those of ``event``."""
        for fn in self._any:
            try:
                fn(event, *args)
            except Exception:
                logger.exception("error in the catch-all handler %r for %r", fn, event)
        self._emit_local(event, *args)


__all__ = ["Dispatcher", "Emitter", "dispatcher", "submit", "submit_io"]
