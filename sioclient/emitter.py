"""Event listeners shared by ``Manager`` and ``Socket`` (component-emitter, made Pythonic).

The listener registry only: the greenlets that call listeners are ``dispatch.py``'s."""

from __future__ import annotations

import logging
from typing import Any, Callable, TypeVar, overload

from .dispatch import dispatcher

logger = logging.getLogger("sioclient")

F = TypeVar("F", bound=Callable[..., Any])
#: the emitter itself (a Manager or a Socket), returned by the chaining methods
E = TypeVar("E", bound="Emitter")


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

    @overload
    def on(self, event: str) -> Callable[[F], F]: ...

    @overload
    def on(self: E, event: str, callback: Callable[..., Any]) -> E: ...

    def on(self: E, event: str, callback: Callable[..., Any] | None = None) -> E | Callable[[F], F]:
        """Adds a listener; without ``callback`` it is a decorator that returns the function."""
        if callback is None:

            def decorator(fn: F) -> F:
                self._add(event, fn)
                return fn

            return decorator
        self._add(event, callback)
        return self

    @overload
    def once(self, event: str) -> Callable[[F], F]: ...

    @overload
    def once(self: E, event: str, callback: Callable[..., Any]) -> E: ...

    def once(
        self: E, event: str, callback: Callable[..., Any] | None = None
    ) -> E | Callable[[F], F]:
        """Like ``on``, but the listener is removed before its first call."""
        if callback is None:

            def decorator(fn: F) -> F:
                self._add(event, _Once(self, event, fn))
                return fn

            return decorator
        self._add(event, _Once(self, event, callback))
        return self

    def off(self: E, event: str | None = None, callback: Callable[..., Any] | None = None) -> E:
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

    @overload
    def on_any(self) -> Callable[[F], F]: ...

    @overload
    def on_any(self: E, callback: Callable[..., Any]) -> E: ...

    def on_any(self: E, callback: Callable[..., Any] | None = None) -> E | Callable[[F], F]:
        """Adds a catch-all listener, called as ``callback(event, *args)``; decorator form too."""
        if callback is None:

            def decorator(fn: F) -> F:
                self._any = [*self._any, fn]
                return fn

            return decorator
        self._any = [*self._any, callback]
        return self

    def off_any(self: E, callback: Callable[..., Any] | None = None) -> E:
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


__all__ = ["Emitter"]
