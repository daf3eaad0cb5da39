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

:func:`proxy_for` picks the HTTP proxy of a connection, from the ``proxy`` option or the
environment (see the comment above it); :func:`parse_proxy` reads a proxy URL.

Sans-I/O: this module imports nothing from the rest of the package.
"""

from __future__ import annotations

import base64
import os
import re
import urllib.request
from collections.abc import Mapping
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, quote, unquote, urlsplit

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


def server_key(url: ParsedURL, path: str) -> tuple[str, str, int, str]:
    """Equal for connections that reach the same Engine.IO server: scheme, host, port and the
    server's path (``/socket.io`` and ``/socket.io/`` alike)."""
    return (url.scheme, url.host.lower(), url.port, path.rstrip("/") + "/")


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


# ---- proxies -------------------------------------------------------------------------------
#
# ``proxy_for(setting, host, secure)`` picks the HTTP proxy for one server:
#
# - ``setting=False``: none, whatever the environment says;
# - ``setting="http://[user:pass@]host:port"``: that one, for every server;
# - ``setting=None`` (the default): the environment, as requests and httpx read it:
#   ``HTTPS_PROXY`` for ``https://``/``wss://`` servers, ``HTTP_PROXY`` for ``http://``/``ws://``
#   ones, ``ALL_PROXY`` for both when the specific one is unset, lower-case names first;
#   ``NO_PROXY`` (a comma-separated list of host names, domain suffixes, or ``*``) bypasses it.


class Proxy(NamedTuple):
    """An HTTP proxy: where it listens, and the ``Proxy-Authorization`` value (or None)."""

    host: str
    port: int
    authorization: str | None = None

    def __repr__(self) -> str:  # never the credentials
        auth = ", with credentials" if self.authorization else ""
        return f"<Proxy {self.host}:{self.port}{auth}>"

    @property
    def credentials(self) -> list[str]:
        """The secrets this proxy holds (for the report scrubber)."""
        if not self.authorization:
            return []
        token = self.authorization.partition(" ")[2]
        user, _, password = base64.b64decode(token).decode("utf-8", "replace").partition(":")
        return [token, user, password]


def parse_proxy(url: str, what: str = "proxy") -> Proxy:
    """A ``Proxy`` from ``http://[user:pass@]host[:port]`` (a missing scheme means ``http``).

    Raises ValueError (without the URL's credentials) for anything else.
    """
    if not isinstance(url, str) or not url.strip():
        raise ValueError(f"{what} must be an 'http://host:port' URL")
    url = url.strip()
    if "://" not in url:
        url = "http://" + url
    parts = urlsplit(url)
    shown = f"{parts.scheme}://{parts.hostname}" + (
        f":{parts.port}" if _port_or_none(parts) else ""
    )
    if parts.scheme.lower() != "http":
        raise ValueError(
            f"{what}: only http:// proxies are supported (an HTTP CONNECT tunnel), not {shown!r}"
        )
    if not parts.hostname:
        raise ValueError(f"{what}: no host in the proxy URL")
    try:
        port = parts.port or 80
    except ValueError:
        raise ValueError(f"{what}: the proxy URL has an invalid port") from None
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"{what}: a proxy URL is 'http://host:port', without a path")
    authorization = None
    if parts.username is not None or parts.password is not None:
        pair = f"{unquote(parts.username or '')}:{unquote(parts.password or '')}"
        authorization = "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")
    return Proxy(parts.hostname, port, authorization)


def _port_or_none(parts: Any) -> int | None:
    try:
        return parts.port  # type: ignore[no-any-return]
    except ValueError:
        return None


# What the environment names, read again only when ``os.environ`` changed: reading it walks
# every variable (a tenth of a millisecond with seventy of them, on every connection), while
# telling whether it changed is one comparison of two dicts of bytes.  ``os.environ._data`` is
# CPython's mapping behind ``os.environ`` (``putenv`` alone changes neither that nor what
# ``getproxies_environment`` reads); without it the environment is read every time.
_environ_cache: tuple[dict[Any, Any], dict[str, str]] | None = None


def _environment() -> dict[str, str]:
    global _environ_cache
    data = getattr(os.environ, "_data", None)
    if not isinstance(data, dict):
        return urllib.request.getproxies_environment()
    cached = _environ_cache
    if cached is not None and cached[0] == data:
        return cached[1]
    proxies = urllib.request.getproxies_environment()
    _environ_cache = (dict(data), proxies)
    return proxies


def proxy_for(setting: Any, host: str, secure: bool) -> Proxy | None:
    """The proxy for a connection to ``host`` (see the module docstring), or None."""
    if setting is False:
        return None
    if isinstance(setting, Proxy):
        return setting
    if setting is not None:
        return parse_proxy(setting)
    env = _environment()
    url = env.get("https" if secure else "http") or env.get("all")
    if not url:
        return None
    if urllib.request.proxy_bypass_environment(host, env):  # type: ignore[attr-defined]
        return None
    variable = "HTTPS_PROXY" if secure else "HTTP_PROXY"
    return parse_proxy(url, f"the {variable} environment variable")


def environment_credentials() -> list[str]:
    """The credentials of the proxies the environment names (for the report scrubber)."""
    out: list[str] = []
    for key in ("http", "https", "all"):
        url = _environment().get(key)
        if url:
            try:
                out.extend(parse_proxy(url).credentials)
            except ValueError:
                pass
    return out


__all__ = [
    "Endpoint",
    "ParsedURL",
    "Proxy",
    "encode_query",
    "environment_credentials",
    "parse_proxy",
    "parse_url",
    "proxy_for",
    "query_value",
    "server_key",
    "split_url",
]
