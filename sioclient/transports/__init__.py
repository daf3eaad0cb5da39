"""The gevent I/O primitives under the Engine: HTTP/1.1 (h11), WebSocket (wsproto), TLS, cookies.

- ``http``: ``HTTPClient`` (a keep-alive pool for one origin; concurrent requests each get their
  own connection), ``HTTPConnection``, ``Response``;
- ``websocket``: ``connect()`` -> ``WebSocket`` (``send``, ``send_many``, ``receive``, ``close``);
- ``tls``: ``create_ssl_context(verify, cert, key)``;
- ``cookies``: ``CookieJar``, shared by the HTTP requests and the WebSocket handshake.

None of them knows about Engine.IO.  All are cooperative under gevent without monkey patching.
"""

from __future__ import annotations

from .cookies import CookieJar
from .http import HTTPClient, HTTPConnection, Response
from .tls import create_ssl_context
from .websocket import HandshakeRefused, WebSocket, connect

__all__ = [
    "CookieJar",
    "HTTPClient",
    "HTTPConnection",
    "HandshakeRefused",
    "Response",
    "WebSocket",
    "connect",
    "create_ssl_context",
]
