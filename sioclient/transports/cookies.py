"""A small cookie jar shared by the HTTP requests and the WebSocket handshake of one session.

It serves one origin (the Socket.IO server), so cookies are keyed by name and ``Domain`` is not
consulted; ``Path`` limits where a cookie is sent, ``Max-Age``/``Expires`` end it, and ``Secure``
cookies only travel over TLS.  That is what sticky-session load balancers and engine.io's ``io``
cookie need.

    jar = CookieJar()
    jar.extract(response_headers, path="/socket.io/", secure=False)  # after every response
    value = jar.header("/socket.io/", secure=False)                  # "a=1; io=xyz" or None

Parsing uses ``http.cookies``; a ``Set-Cookie`` the parser rejects is ignored, as browsers do.
"""

from __future__ import annotations

import email.utils
import time
from http.cookies import CookieError, SimpleCookie
from typing import Iterable, NamedTuple


class Cookie(NamedTuple):
    name: str
    value: str
    path: str
    expires: float | None  # seconds since the epoch; None for a session cookie
    secure: bool


def _default_path(request_path: str) -> str:
    # RFC 6265 5.1.4: the request path up to, not including, its last "/".
    path = request_path.split("?", 1)[0]
    if not path.startswith("/") or path.count("/") == 1:
        return "/"
    return path[: path.rindex("/")]


def _path_matches(request_path: str, cookie_path: str) -> bool:
    # RFC 6265 5.1.4 path-match.
    path = request_path.split("?", 1)[0] or "/"
    if path == cookie_path:
        return True
    if path.startswith(cookie_path):
        return cookie_path.endswith("/") or path[len(cookie_path)] == "/"
    return False


def _expiry(morsel: object, now: float) -> float | None:
    max_age = morsel["max-age"]  # type: ignore[index]
    if max_age:
        try:
            return now + int(max_age)  # Max-Age wins over Expires (RFC 6265 5.3)
        except ValueError:
            pass
    expires = morsel["expires"]  # type: ignore[index]
    if expires:
        try:
            return email.utils.parsedate_to_datetime(expires).timestamp()
        except (TypeError, ValueError, IndexError):
            return None
    return None


class CookieJar:
    """Cookies set by one server, sent back on later requests (see the module docstring)."""

    def __init__(self) -> None:
        self._cookies: dict[str, Cookie] = {}

    def __len__(self) -> int:
        return len(self._cookies)

    def __contains__(self, name: object) -> bool:
        return name in self._cookies

    def get(self, name: str) -> str | None:
        """The value of cookie ``name`` (expired or not), or None."""
        cookie = self._cookies.get(name)
        return None if cookie is None else cookie.value

    def values(self) -> list[str]:
        """The values of every cookie held (what must never appear in a report)."""
        return [cookie.value for cookie in self._cookies.values()]

    def set(self, name: str, value: str, path: str = "/") -> None:
        """Adds a session cookie by hand (e.g. one the user already holds)."""
        self._cookies[name] = Cookie(name, value, path, None, False)

    def clear(self) -> None:
        self._cookies.clear()

    def extract(
        self,
        headers: Iterable[tuple[str, str]],
        path: str = "/",
        secure: bool = False,
        now: float | None = None,
    ) -> None:
        """Stores the cookies of the ``Set-Cookie`` headers of a response to ``path``."""
        now = time.time() if now is None else now
        for name, value in headers:
            if name.lower() != "set-cookie":
                continue
            parsed = SimpleCookie()
            try:
                parsed.load(value)
            except CookieError:
                continue
            for key, morsel in parsed.items():
                if morsel["secure"] and not secure:
                    continue  # RFC 6265bis: an insecure origin may not set a Secure cookie
                cookie_path = morsel["path"]
                if not cookie_path.startswith("/"):
                    cookie_path = _default_path(path)
                expires = _expiry(morsel, now)
                if expires is not None and expires <= now:
                    self._cookies.pop(key, None)  # the server deletes it
                    continue
                self._cookies[key] = Cookie(
                    key, morsel.value, cookie_path, expires, bool(morsel["secure"])
                )

    def header(self, path: str = "/", secure: bool = False, now: float | None = None) -> str | None:
        """The ``Cookie`` header value for a request to ``path``, or None when nothing applies."""
        if not self._cookies:
            return None
        now = time.time() if now is None else now
        parts = []
        for key, cookie in list(self._cookies.items()):
            if cookie.expires is not None and cookie.expires <= now:
                del self._cookies[key]
                continue
            if cookie.secure and not secure:
                continue
            if _path_matches(path, cookie.path):
                parts.append(f"{cookie.name}={cookie.value}")
        return "; ".join(parts) if parts else None


__all__ = ["Cookie", "CookieJar"]
