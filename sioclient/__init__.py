"""sioclient: a Socket.IO client for Python on gevent.

The public API follows socket.io-client 2.x: ``io()`` / ``connect()``, ``Manager`` and
``Socket``.  The I/O layer (and with it gevent) is imported on first use of those names, so that
the sans-I/O core (``sioclient.core``, ``sioclient.parsers``) can be used on its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import __version__
from .exceptions import (
    BufferFullError,
    ConnectionError,
    DisconnectedError,
    ProtocolError,
    SocketIOError,
    TimeoutError,
)

#: the newest Socket.IO protocol revision spoken, and every revision spoken
protocol = 5
protocols = (4, 5)

if TYPE_CHECKING:
    from .client import connect, io
    from .manager import Manager
    from .socket import Socket

    speedups: bool

_LAZY = {
    "io": ("client", "io"),
    "connect": ("client", "connect"),
    "Manager": ("manager", "Manager"),
    "Socket": ("socket", "Socket"),
}


def __getattr__(name: str) -> Any:
    if name == "speedups":
        from .core._accel import speedups_in_use

        return speedups_in_use()
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'sioclient' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{target[0]}", __name__), target[1])
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "BufferFullError",
    "ConnectionError",
    "DisconnectedError",
    "Manager",
    "ProtocolError",
    "Socket",
    "SocketIOError",
    "TimeoutError",
    "__version__",
    "connect",
    "io",
    "protocol",
    "protocols",
    "speedups",
]
