"""URLs and query strings: the one parser and the one query encoder of the package.

Two readings of a URL are needed, both built on :func:`_split`:

- :func:`parse_url` reads what a user gives ``io()`` or ``Manager()`` as socket.io-client does:
  the scheme may be left out, ``ws``/``wss`` mean ``http``/``https``, the path is the namespace
  and the query is a dict;
- :func:`split_url` reads an absolute URL for the transports: ``(secure, host, port, target)``,
  the target being the path and the raw query string as they go on the request line.

:func:`encode_query` writes a query string with JavaScript's ``encodeURIComponent`` escaping,
as socket.io-client and engine.io-client do, for the handshake requests and for the query of a
revision-4 CONNECT packet alike.

Sans-I/O: this module imports nothing from the rest of the package.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import NamedTuple
from urllib.parse import parse_qsl, quote, urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}
_SCHEMES = {"http": "http", "https": "https", "ws": "http", "wss": "https"}
_HAS_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
#: the characters encodeURIComponent leaves alone, beyond letters and digits
_URI_COMPONENT_SAFE = "-_.!~*'()"


class ParsedURL(NamedTuple):
    """A user's URL as socket.io-client reads it."""

    scheme: str  # 'http' or 'https'
    host: str  # without brackets, also for IPv6 literals
    port: int
    path: str  # the namespace
    query: dict[str, str]

    @property
    def href(self) -> str:
        """The Engine's URL: scheme, host and port only."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"

    @property
    def id(self) -> str:
        """Equal for URLs that reach the same server (`host` and `host:80` alike)."""
        return self.href


class Endpoint(NamedTuple):
    """Where a transport connects, and the target of its request line."""

    secure: bool
    host: str  # without brackets
    port: int
    target: str  # the path (at least '/') and the query string as given


class _Parts(NamedTuple):
    scheme: str  # 'http' or 'https'
    host: str
    port: int
    path: str  # '' when the URL has none
    query: str  # raw, without '?'


def _path_of(url: str) -> str:
    # a URL without its query string, which may hold credentials
    return url.split("?", 1)[0]


def _split(url: str) -> _Parts:
    """The one place a URL is taken apart: the scheme checked, the port defaulted."""
    parts = urlsplit(url)
    scheme = _SCHEMES.get(parts.scheme.lower())
    if scheme is None:
        raise ValueError(f"unsupported URL scheme {parts.scheme!r} (use http, https, ws or wss)")
    host = parts.hostname
    if not host:
        raise ValueError(f"no host in URL {_path_of(url)!r}")
    port = parts.port  # ValueError for a bad port, as it should
    return _Parts(
        scheme=scheme,
        host=host,
        port=port if port else _DEFAULT_PORTS[scheme],
        path=parts.path,
        query=parts.query,
    )


def parse_url(url: str | None) -> ParsedURL:
    """Splits ``url`` as socket.io-client does: scheme (default http; ws -> http, wss -> https),
    host, port (default 80/443), namespace (the path, default '/') and query.

    With no URL, or a URL that starts with one '/', the host is ``localhost`` (Python has no
    ``window.location`` to default to).
    """
    if url is None:
        url = "/"
    if not isinstance(url, str):
        raise TypeError(f"url must be a string, not {type(url).__name__}")
    url = url.strip()
    if url.startswith("//"):
        url = "http:" + url
    elif url.startswith("/"):
        url = "http://localhost" + url
    elif not _HAS_SCHEME.match(url):
        url = "http://" + url
    parts = _split(url)
    return ParsedURL(
        scheme=parts.scheme,
        host=parts.host,
        port=parts.port,
        path=parts.path or "/",
        query=dict(parse_qsl(parts.query, keep_blank_values=True)),
    )


def split_url(url: str) -> Endpoint:
    """An absolute ``http(s)://`` or ``ws(s)://`` URL as ``(secure, host, port, target)``."""
    parts = _split(url)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    return Endpoint(parts.scheme == "https", parts.host, parts.port, target)


def query_value(value: object) -> str:
    """A query value written as JavaScript would stringify it, so that the server reads what a
    JavaScript client sends: ``true``/``false`` for booleans, nothing for ``None``."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return ""
    return str(value)


def encode_query(query: Mapping[str, object]) -> str:
    """``k=v&...`` with encodeURIComponent's escaping (as socket.io-client's parseqs does)."""
    safe = _URI_COMPONENT_SAFE
    return "&".join(
        f"{quote(str(k), safe=safe)}={quote(query_value(v), safe=safe)}" for k, v in query.items()
    )


__all__ = [
    "Endpoint",
    "ParsedURL",
    "encode_query",
    "parse_url",
    "query_value",
    "split_url",
]
