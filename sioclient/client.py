"""``io()`` / ``connect()``: URL parsing and the cache of multiplexed Managers."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlsplit

from .manager import Manager
from .options import normalize
from .socket import Socket

_DEFAULT_PORTS = {"http": 80, "https": 443}
_SCHEMES = {"http": "http", "https": "https", "ws": "http", "wss": "https"}
_HAS_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")

#: the multiplexed managers, per (scheme, host, port, path option); socket.io-client's `managers`
managers: dict[tuple[str, str, int, str], Manager] = {}


class ParsedURL(NamedTuple):
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
    parts = urlsplit(url)
    scheme = _SCHEMES.get(parts.scheme.lower())
    if scheme is None:
        raise ValueError(f"unsupported URL scheme {parts.scheme!r} (use http, https, ws or wss)")
    host = parts.hostname
    if not host:
        raise ValueError(f"no host in URL {url.split('?', 1)[0]!r}")  # the query may hold secrets
    port = parts.port  # ValueError for a bad port, as it should
    return ParsedURL(
        scheme=scheme,
        host=host,
        port=port if port is not None else _DEFAULT_PORTS[scheme],
        path=parts.path or "/",
        query=dict(parse_qsl(parts.query, keep_blank_values=True)),
    )


def io(
    url: str | Mapping[str, Any] | None = None,
    options: Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> Socket:
    """The seed's ``io(url, options)``: a Socket for the namespace in ``url``'s path.

    Managers are shared per server and ``path`` option unless ``force_new=True`` or
    ``multiplex=False``; asking again for a namespace a shared manager already has makes a new
    manager (two distinct connections, as in socket.io-client).
    """
    if isinstance(url, Mapping) and options is None:
        url, options = None, url  # io({...}) as in JavaScript
    parsed = parse_url(url)  # type: ignore[arg-type]
    opts = normalize(options, kwargs)
    if parsed.query:
        opts["query"] = {**parsed.query, **opts["query"]}
    key = (parsed.scheme, parsed.host, parsed.port, opts["path"])
    cached = managers.get(key)
    new_connection = (
        opts["force_new"]
        or not opts["multiplex"]
        or (cached is not None and parsed.path in cached.nsps)
    )
    if new_connection:
        manager = Manager(parsed.href, **opts)
    else:
        if cached is None:
            cached = managers[key] = Manager(parsed.href, **opts)
        manager = cached
    return manager.socket(parsed.path, {"query": opts["query"], "auth": opts["auth"]})


connect = io

__all__ = ["ParsedURL", "connect", "io", "managers", "parse_url"]
