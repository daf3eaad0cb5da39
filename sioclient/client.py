"""``io()`` / ``connect()`` and the cache of multiplexed Managers (URLs are read by ``url.py``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .manager import Manager
from .options import normalize
from .socket import Socket
from .url import ParsedURL, parse_url

#: the multiplexed managers, per (scheme, host, port, path option); socket.io-client's `managers`
managers: dict[tuple[str, str, int, str], Manager] = {}


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
