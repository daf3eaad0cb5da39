"""The Engine.IO open packet, and the HTTP errors a server answers a handshake with.

``parse_open(data, revision)`` validates the JSON of an open packet (``0{...}``) and returns a
:class:`Handshake` with the durations in seconds.  ``error_from_http(status, body,
content_type)`` turns a refused request into a :class:`sioclient.ConnectionError` whose message
names the status and the server's reason, and whose ``data`` is a dict with ``status``, ``code``
(the engine.io error code, or None) and ``message``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from ..exceptions import ConnectionError, ProtocolError, excerpt

#: engine.io's error codes (the ``code`` of its JSON error bodies) and what they mean
ERROR_MESSAGES = {
    0: "Transport unknown",
    1: "Session ID unknown",
    2: "Bad handshake method",
    3: "Bad request",
    4: "Forbidden",
    5: "Unsupported protocol version",
}
UNSUPPORTED_PROTOCOL_VERSION = 5


@dataclass(frozen=True)
class Handshake:
    """What the server said in its open packet (durations in seconds)."""

    sid: str
    upgrades: tuple[str, ...]
    ping_interval: float
    ping_timeout: float
    max_payload: int | None
    revision: int


def _duration(obj: dict[str, Any], key: str, data: str) -> float:
    value = obj.get(key)
    # bool is an int in Python but never a valid duration
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise ProtocolError(f"open packet: {key!r} must be a number of milliseconds", data)
    if value < 0 or value > 2**31:
        raise ProtocolError(f"open packet: {key!r} is out of range", data)
    return value / 1000.0


def parse_open(data: object, revision: int) -> Handshake:
    """The handshake carried by an open packet's ``data`` (the JSON after the ``0``)."""
    if not isinstance(data, str):
        raise ProtocolError("open packet: expected text", data)
    try:
        obj = json.loads(data)
    except (ValueError, RecursionError):  # deep nesting exhausts the stdlib decoder's stack
        raise ProtocolError("open packet: invalid JSON", data) from None
    if not isinstance(obj, dict):
        raise ProtocolError("open packet: expected a JSON object", data)
    sid = obj.get("sid")
    if not isinstance(sid, str) or not sid:
        raise ProtocolError("open packet: missing or invalid 'sid'", data)
    upgrades = obj.get("upgrades", [])
    if upgrades is None:
        upgrades = []
    if not isinstance(upgrades, list) or not all(isinstance(u, str) for u in upgrades):
        raise ProtocolError("open packet: 'upgrades' must be a list of strings", data)
    max_payload = obj.get("maxPayload")
    if max_payload is not None and (
        isinstance(max_payload, bool) or not isinstance(max_payload, int) or max_payload < 0
    ):
        raise ProtocolError("open packet: 'maxPayload' must be a non-negative integer", data)
    return Handshake(
        sid=sid,
        upgrades=tuple(upgrades),
        ping_interval=_duration(obj, "pingInterval", data),
        ping_timeout=_duration(obj, "pingTimeout", data),
        max_payload=max_payload,
        revision=revision,
    )


def _reason_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


_TITLE = re.compile(r"<title[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")


def body_text(body: bytes | str, content_type: str | None = None, limit: int = 200) -> str:
    """A short readable account of an HTTP error body: an HTML page (a proxy's 502) by its
    title, or by its text without the tags; anything else as it is; at most ``limit``
    characters."""
    text = body if isinstance(body, str) else bytes(body[: limit * 50]).decode("utf-8", "replace")
    text = text.strip()
    if text.startswith("<") or "html" in (content_type or "").lower():
        title = _TITLE.search(text)
        text = title.group(1) if title else _TAG.sub(" ", text)
        text = _SPACE.sub(" ", text).strip()
    return str(excerpt(text, limit))


def http_answer(status: int, body: bytes | str = b"", content_type: str | None = None) -> str:
    """``HTTP 502 Bad Gateway``, with the body's account (:func:`body_text`) when it says more
    than the status line."""
    phrase = _reason_phrase(status)
    head = f"HTTP {status} {phrase}" if phrase else f"HTTP {status}"
    text = body_text(body, content_type)
    return f"{head}: {text}" if text and text != f"{status} {phrase}" else head


def error_from_http(
    status: int, body: bytes | str = b"", content_type: str | None = None
) -> ConnectionError:
    """A ConnectionError describing a refused handshake (or any non-2xx answer)."""
    text = body if isinstance(body, str) else bytes(body).decode("utf-8", "replace")
    text = text.strip()
    code: int | None = None
    message = ""
    looks_json = text.startswith("{") or (content_type or "").lower().find("json") >= 0
    if looks_json and text:
        try:
            obj: Any = json.loads(text)
        except (ValueError, RecursionError):  # deep nesting: not an engine.io error body
            obj = None
        if isinstance(obj, dict):
            raw_code = obj.get("code")
            if isinstance(raw_code, int) and not isinstance(raw_code, bool):
                code = raw_code
            raw_message = obj.get("message")
            if isinstance(raw_message, str):
                message = raw_message
            elif code is not None:
                message = ERROR_MESSAGES.get(code, "")
    if not message and code is None and text:
        # engine.io 4+ answers a refused WebSocket upgrade in plain text; proxies, HTML
        message = body_text(text, content_type)
    if code is None:
        for known, known_message in ERROR_MESSAGES.items():
            if message.lower() == known_message.lower():
                code = known
                break
    head = f"HTTP {status}"
    phrase = _reason_phrase(status)
    if phrase:
        head = f"{head} {phrase}"
    if message and message != f"{status} {phrase}":  # a proxy page titled as the status line
        detail = f"{head}: {message}"
    else:
        detail = head
    if code is not None:
        detail = f"{detail} (engine.io error code {code})"
    return ConnectionError(
        f"server refused the connection: {detail}",
        {"status": status, "code": code, "message": message},
    )


def is_unsupported_protocol(err: ConnectionError) -> bool:
    """True when ``err`` says the server does not speak the Engine.IO revision asked for."""
    data = err.data if isinstance(err.data, dict) else {}
    return data.get("code") == UNSUPPORTED_PROTOCOL_VERSION


__all__ = [
    "ERROR_MESSAGES",
    "Handshake",
    "UNSUPPORTED_PROTOCOL_VERSION",
    "body_text",
    "error_from_http",
    "http_answer",
    "is_unsupported_protocol",
    "parse_open",
]
