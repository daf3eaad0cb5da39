"""Keeping the user's secrets out of what the client reports.

The values of the query string, ``auth``, the extra headers and the cookies are credentials
more often than not; the proxy's user name and password, and the key's passphrase, always are.  The client never puts them into an exception message or a log record of
its own (requests are named by host and path, packets by type and namespace).  What a server
says is another matter: an HTTP error body, or a malformed packet quoted in a ProtocolError,
may echo the request it answers.  So every error the Manager reports (``connect_error``,
``error``, ``reconnect_error``) first goes through :meth:`Secrets.scrub_error`, which replaces
each value the client sent, as sent or percent-encoded, with ``***`` in the exception's
message, its ``data`` and its chained causes.

Values shorter than :data:`MIN_LENGTH` characters are left alone: they cannot be told from the
words around them, and are too short to be secrets.  A namespace refusal (the ``message`` of a
server's CONNECT_ERROR) is the application's own word to its client: it passes as the server
wrote it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, quote_plus

#: values shorter than this are not scrubbed (see the module docstring)
MIN_LENGTH = 4

MASK = "***"


def summary(packet: Any) -> str:
    """A packet as the logs name it: type, namespace and ack id, never its data."""
    from .core.packet import TYPE_NAMES

    kind = packet.type
    name = TYPE_NAMES[kind] if isinstance(kind, int) and 0 <= kind < len(TYPE_NAMES) else kind
    text = f"{name} packet of namespace {packet.nsp!r}"
    if packet.id is not None:
        text += f", ack id {packet.id}"
    return text


def _leaves(value: Any) -> Iterable[str]:
    if isinstance(value, Mapping):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _leaves(item)
    elif isinstance(value, (str, int, float)) and not isinstance(value, bool):
        yield str(value)
    elif isinstance(value, (bytes, bytearray)):
        yield bytes(value).decode("utf-8", "replace")


class Secrets:
    """The values to keep out of reports; built from the options and sockets of a Manager."""

    def __init__(self, values: Iterable[str] = ()) -> None:
        found: set[str] = set()
        for value in values:
            for form in (value, quote(value, safe="-_.!~*'()"), quote_plus(value)):
                if len(form) >= MIN_LENGTH:
                    found.add(form)
        # the longest first, so that a value containing another is masked whole
        self.values = sorted(found, key=len, reverse=True)

    @classmethod
    def of(cls, opts: Mapping[str, Any], *more: Any, cookies: Any = None) -> Secrets:
        """The query, header and auth values of ``opts`` (and of ``more``), and the cookies."""
        values: list[str] = []
        values.extend(_leaves(opts.get("query") or {}))
        values.extend(_headers(opts.get("extra_headers") or {}))
        for sub in (opts.get("transport_options") or {}).values():
            if isinstance(sub, Mapping):
                values.extend(_leaves(sub.get("query") or {}))
                values.extend(_headers(sub.get("extra_headers") or {}))
        values.extend(_proxy_credentials(opts.get("proxy")))
        passphrase = opts.get("passphrase")
        if isinstance(passphrase, (str, bytes)):
            values.extend(_leaves(passphrase))
        auth = opts.get("auth")
        if isinstance(auth, Mapping):
            values.extend(_leaves(auth))
        for item in more:
            if not callable(item):
                values.extend(_leaves(item))
        if cookies is not None:
            values.extend(_leaves(getattr(cookies, "values", lambda: [])()))
        return cls(values)

    def scrub(self, text: str) -> str:
        for value in self.values:
            if value in text:
                text = text.replace(value, MASK)
        return text

    def _scrub_any(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.scrub(value)
        if isinstance(value, (bytes, bytearray)):
            text = bytes(value).decode("utf-8", "replace")
            scrubbed = self.scrub(text)
            return value if scrubbed == text else scrubbed.encode("utf-8")
        if isinstance(value, dict):
            return {k: self._scrub_any(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._scrub_any(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self._scrub_any(v) for v in value)
        return value

    def scrub_error(self, error: BaseException) -> BaseException:
        """Masks the secrets in ``error`` (in place: message, ``data``, causes); returns it."""
        if not self.values:
            return error
        seen: set[int] = set()
        current: BaseException | None = error
        while current is not None and id(current) not in seen:
            seen.add(id(current))
            try:
                current.args = tuple(self._scrub_any(a) for a in current.args)
                data = getattr(current, "data", None)
                if data is not None:
                    current.data = self._scrub_any(data)  # type: ignore[attr-defined]
            except (AttributeError, TypeError):
                pass  # an exception type that keeps its message elsewhere
            current = current.__cause__ or current.__context__
        return error


def _proxy_credentials(setting: Any) -> list[str]:
    # the proxy option's, or else the environment's: the user name, the password, the token
    from .url import environment_credentials, parse_proxy

    if isinstance(setting, str):
        try:
            return parse_proxy(setting).credentials
        except ValueError:
            return []
    return [] if setting is False else environment_credentials()


def _headers(headers: Mapping[str, Any]) -> Iterable[str]:
    for name, value in headers.items():
        value = str(value)
        yield value
        if str(name).lower() == "cookie":
            for part in value.split(";"):
                yield part.partition("=")[2].strip()
        elif str(name).lower() == "authorization":
            yield value.partition(" ")[2].strip()  # the credentials after the scheme


__all__ = ["MASK", "MIN_LENGTH", "Secrets", "summary"]
