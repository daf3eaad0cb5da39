"""Exceptions raised by sioclient (sans-I/O: imported by every layer)."""

from __future__ import annotations

from typing import Any

_EXCERPT = 200


def excerpt(data: Any, limit: int = _EXCERPT) -> Any:
    """The offending input, truncated so that an error never carries a huge payload."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        data = bytes(data)
    if isinstance(data, (str, bytes)) and len(data) > limit:
        return data[:limit]
    return data


class SocketIOError(Exception):
    """Base class of every sioclient error."""


class ConnectionError(SocketIOError):  # noqa: A001 - mirrors the builtin on purpose
    """Cannot connect, or the server refused the handshake or a namespace.

    ``data`` carries whatever the server sent along with a refusal (``err.data`` in JavaScript).
    """

    def __init__(self, message: str = "", data: Any = None) -> None:
        super().__init__(message)
        self.data = data

    @property
    def message(self) -> str:
        return str(self)


class TimeoutError(SocketIOError):  # noqa: A001
    """Connecting, or waiting for an acknowledgement, took longer than allowed."""


class ProtocolError(SocketIOError):
    """The peer broke the protocol; ``data`` holds the offending input, truncated."""

    def __init__(self, message: str, data: Any = None) -> None:
        #: what was wrong, without the offending input (for logs)
        self.reason = message
        self.data = excerpt(data)
        if data is not None:
            message = f"{message}: {self.data!r}"
        super().__init__(message)


class DisconnectedError(SocketIOError):
    """The operation needs a connection that is gone for good."""


class BufferFullError(SocketIOError):
    """An emit made while disconnected found the socket's send buffer full.

    The bound is the Manager option ``max_buffered_emits``; what is already buffered stays.
    """


__all__ = [
    "SocketIOError",
    "ConnectionError",
    "TimeoutError",
    "ProtocolError",
    "DisconnectedError",
    "BufferFullError",
    "excerpt",
]
