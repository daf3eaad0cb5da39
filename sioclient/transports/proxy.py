"""HTTP proxies: which one a connection goes through, and the CONNECT tunnel through it.

``proxy_for(setting, host, secure)`` picks the proxy for one server:

- ``setting=False``: none, whatever the environment says;
- ``setting="http://[user:pass@]host:port"``: that one, for every server;
- ``setting=None`` (the default): the environment, as requests and httpx read it:
  ``HTTPS_PROXY`` for ``https://``/``wss://`` servers, ``HTTP_PROXY`` for ``http://``/``ws://``
  ones, ``ALL_PROXY`` for both when the specific one is unset, lower-case names first;
  ``NO_PROXY`` (a comma-separated list of host names, domain suffixes, or ``*``) bypasses it.

Every connection through a proxy is an HTTP ``CONNECT`` tunnel (``tunnel()``), plain HTTP
polling included, and TLS to the server runs inside the tunnel.  One path for both transports,
the server sees the client's own requests (its ``Host``, its keep-alive, its cookies), and the
proxy cannot hold back or cache a long-polling response.  Basic credentials in the proxy URL
are sent as ``Proxy-Authorization``.

The credentials never appear in an error message: a proxy is named by host and port only.
"""

from __future__ import annotations

import base64
import urllib.request
from typing import Any, NamedTuple
from urllib.parse import unquote, urlsplit

import h11

from ..exceptions import ConnectionError, ProtocolError

#: bound of the proxy's answer to CONNECT (status line and headers)
MAX_REPLY = 64 * 1024


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


def _environment() -> dict[str, str]:
    return urllib.request.getproxies_environment()


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


def tunnel(sock: Any, proxy: Proxy, host: str, port: int) -> None:
    """Asks ``proxy`` (``sock`` is connected to it) for a tunnel to ``host:port``.

    Returns when the proxy answered 2xx: the socket then carries bytes to and from the server.
    Raises ``sioclient.ConnectionError`` when the proxy refuses (the status and reason, e.g.
    ``407 Proxy Authentication Required``) or closes the connection, ``ProtocolError`` when
    its answer is not HTTP.  The caller bounds the time and closes the socket on error.
    """
    authority = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    headers = [("Host", authority)]
    if proxy.authorization:
        headers.append(("Proxy-Authorization", proxy.authorization))
    conn = h11.Connection(h11.CLIENT, max_incomplete_event_size=MAX_REPLY)
    out = conn.send(h11.Request(method="CONNECT", target=authority, headers=headers))
    where = f"the proxy {proxy.host}:{proxy.port}"
    try:
        sock.sendall(out)
    except OSError as exc:
        raise ConnectionError(f"{where} closed the connection: {exc}") from None
    while True:
        try:
            event = conn.next_event()
        except h11.RemoteProtocolError as exc:
            raise ProtocolError(f"{where} did not answer CONNECT in HTTP: {exc}") from None
        if event is h11.NEED_DATA:
            try:
                data = sock.recv(8192)
            except OSError as exc:
                raise ConnectionError(f"{where} closed the connection: {exc}") from None
            if not data:
                raise ConnectionError(f"{where} closed the connection before answering CONNECT")
            conn.receive_data(data)
        elif isinstance(event, h11.InformationalResponse):
            continue
        elif isinstance(event, h11.Response):
            status = event.status_code
            if 200 <= status < 300:
                # nothing may follow the proxy's answer before the server speaks
                return
            reason = event.reason.decode("latin-1", "replace")
            hint = ""
            if status in (401, 407):  # tinyproxy answers a wrong password with 401
                hint = (
                    " (check the user name and password in the proxy URL)"
                    if proxy.authorization
                    else " (the proxy wants credentials: 'http://user:password@host:port')"
                )
            raise ConnectionError(
                f"{where} refused the tunnel to {authority}: {status} {reason}{hint}"
            )
        else:  # pragma: no cover - h11 gives a response (or an error) first
            raise ProtocolError(f"{where} gave an unexpected answer to CONNECT")


__all__ = ["Proxy", "environment_credentials", "parse_proxy", "proxy_for", "tunnel"]
