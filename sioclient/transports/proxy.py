"""The CONNECT tunnel through an HTTP proxy.

Which proxy a connection goes through (the ``proxy`` option or the environment) is decided by
``sioclient.url.proxy_for`` (sans-I/O); this module speaks to the proxy.  Every connection
through a proxy is an HTTP ``CONNECT`` tunnel (``tunnel()``), plain HTTP polling included, and
TLS to the server runs inside the tunnel: one path for both transports, the server sees the
client's own requests (its ``Host``, its keep-alive, its cookies), and the proxy cannot hold
back or cache a long-polling response.  Basic credentials in the proxy URL are sent as
``Proxy-Authorization``.

The credentials never appear in an error message: a proxy is named by host and port only.
"""

from __future__ import annotations

from typing import Any

import h11

from ..exceptions import ConnectionError, ProtocolError
from ..url import Proxy, parse_proxy, proxy_for

#: bound of the proxy's answer to CONNECT (status line and headers)
MAX_REPLY = 64 * 1024


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


__all__ = ["Proxy", "parse_proxy", "proxy_for", "tunnel"]
