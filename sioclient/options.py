"""The one place where options are normalised.

Two spellings reach us.  The positional ``options`` dict of ``io()``, ``Manager()`` and
``manager.socket()`` is a JavaScript options object: a key spelled as socket.io-client /
engine.io-client spell it (``reconnectionDelay``, ``forceNew``, ``timeout``) keeps its JavaScript
meaning and unit (milliseconds).  Every other key, and every keyword argument, is a Python name:
snake_case, durations in seconds.  Everything leaves this module as snake_case and seconds, with
the defaults filled in, so that no other module ever looks at a JavaScript name.
"""

from __future__ import annotations

import difflib
import functools
import ipaddress
import math
import os
import ssl
from collections.abc import Mapping
from typing import Any, Callable
from urllib.parse import parse_qsl

import h11

from .tlsconfig import is_pem, load_client_certificate, set_ciphers
from .url import encode_query, parse_proxy, query_value

_MISSING = object()

#: Python name -> default value.  Durations are seconds.
DEFAULTS: dict[str, Any] = {
    "path": "/socket.io",
    "reconnection": True,
    "reconnection_attempts": math.inf,
    "reconnection_delay": 1.0,
    "reconnection_delay_max": 5.0,
    "randomization_factor": 0.5,
    "timeout": 20.0,
    "auto_connect": True,
    "query": None,  # replaced by a fresh dict per call
    "parser": "default",
    "transports": None,  # replaced by a fresh ['polling', 'websocket'] per call
    "upgrade": True,
    "remember_upgrade": False,
    "force_base64": False,
    "timestamp_requests": True,
    "timestamp_param": "t",
    "extra_headers": None,  # fresh dict
    "transport_options": None,  # fresh dict
    "request_timeout": None,
    "per_message_deflate": True,
    "verify": True,
    "cert": None,
    "key": None,
    "passphrase": None,
    "ciphers": None,
    "proxy": None,
    "local_address": None,
    "protocol": None,
    "auth": None,
    "force_new": False,
    "multiplex": True,
    "max_buffered_emits": 5000,
    "retries": 0,
    "ack_timeout": None,
}

#: JavaScript name -> (Python name, factor applied to the value: 0.001 turns ms into seconds)
JS_NAMES: dict[str, tuple[str, float | None]] = {
    "reconnectionAttempts": ("reconnection_attempts", None),
    "reconnectionDelay": ("reconnection_delay", 0.001),
    "reconnectionDelayMax": ("reconnection_delay_max", 0.001),
    "randomizationFactor": ("randomization_factor", None),
    "timeout": ("timeout", 0.001),
    "autoConnect": ("auto_connect", None),
    "forceNew": ("force_new", None),
    "force new connection": ("force_new", None),
    "rememberUpgrade": ("remember_upgrade", None),
    "forceBase64": ("force_base64", None),
    "timestampRequests": ("timestamp_requests", None),
    "timestampParam": ("timestamp_param", None),
    "extraHeaders": ("extra_headers", None),
    "transportOptions": ("transport_options", None),
    "perMessageDeflate": ("per_message_deflate", None),
    "requestTimeout": ("request_timeout", 0.001),
    "rejectUnauthorized": ("verify", None),
    "ca": ("verify", None),
    "retries": ("retries", None),
    "ackTimeout": ("ack_timeout", 0.001),
    "localAddress": ("local_address", None),
}

#: JavaScript options that only make sense in a browser or in Node's http stack; accepted (so
#: that an options object written for socket.io-client can be passed as is) and ignored.
JS_IGNORED = frozenset(
    {
        "jsonp",
        "forceJSONP",
        "enablesXDR",
        "withCredentials",
        "agent",
        "forceNode",
        "closeOnBeforeunload",
        "autoUnref",
        "onlyBinaryUpgrades",
        "policyPort",
        "xdomain",
        "xscheme",
    }
)

TRANSPORTS = ("polling", "websocket")


def _bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"option {name!r} must be True or False, not {value!r}")
    return value


def _number(name: str, value: Any, *, low: float = 0.0, high: float = math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise ValueError(f"option {name!r} must be a number, not {value!r}")
    if not low <= value <= high:
        raise ValueError(f"option {name!r} must be between {low} and {high}, not {value!r}")
    return float(value)


def _duration(name: str, value: Any, *, allow_none: bool = False) -> float | None:
    # JavaScript's `timeout: false` disables the timer; so does None on the Python side
    if allow_none and (value is None or value is False):
        return None
    return _number(name, value)


def _attempts(name: str, value: Any) -> float:
    # 0, None and infinity all mean "no limit", as in socket.io-client and python-socketio
    if value is None or value == 0 or value == math.inf:
        return math.inf
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"option {name!r} must be a non-negative integer or None, not {value!r}")
    return value


def _count(name: str, value: Any) -> float:
    # a bound on a number of things: None or infinity lifts it, 0 means none at all
    if value is None or value == math.inf:
        return math.inf
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"option {name!r} must be a non-negative integer or None, not {value!r}")
    return value


def _retries(name: str, value: Any) -> int:
    # how many times an unanswered emit is sent again; JavaScript's `undefined` is 0
    if value is None:
        return 0
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"option {name!r} must be a non-negative integer, not {value!r}")
    return value


def _ack_timeout(name: str, value: Any) -> float | None:
    if value is None:
        return None
    seconds = _number(name, value)
    if seconds <= 0:
        raise ValueError(f"option {name!r} must be a positive number of seconds, not {value!r}")
    return seconds


def parse_query(value: Any) -> dict[str, str]:
    """A query given as a dict or as a query string, as a dict of strings."""
    if value is None:
        return {}
    if isinstance(value, str):
        return dict(parse_qsl(value.lstrip("?"), keep_blank_values=True))
    if isinstance(value, Mapping):
        return {str(k): query_value(v) for k, v in value.items()}
    # the type only: a query holds credentials more often than not
    raise ValueError(f"option 'query' must be a dict or a query string, not {type(value).__name__}")


#: headers the client writes itself: a second copy would make the request invalid
_OWN_HEADERS = frozenset(("host", "content-length", "transfer-encoding"))


def _headers(name: str, value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValueError(f"option {name!r} must be a dict of header names to values")
    out = {str(k): str(v) for k, v in value.items()}
    for key, item in out.items():
        _check_header(name, key, item)
    return out


def _check_header(option: str, key: str, value: str) -> None:
    """Refuses now what the HTTP layer (h11) would refuse when the request is written.

    The messages name the header, never its value: header values are often credentials.
    """
    if key.lower() in _OWN_HEADERS:
        raise ValueError(f"option {option!r}: the client sets the {key!r} header itself")
    try:
        h11.Request(method="GET", target="/", headers=[("Host", "h"), (key, value)])
    except UnicodeEncodeError:
        raise ValueError(
            f"option {option!r}: header {key!r} is not ASCII (encode it, as HTTP requires)"
        ) from None
    except h11.LocalProtocolError as exc:
        if "name" in str(exc):
            raise ValueError(f"option {option!r}: {key!r} is not a valid header name") from None
        raise ValueError(
            f"option {option!r}: the value of header {key!r} is not valid in HTTP (control "
            "characters such as a line break, or spaces at either end)"
        ) from None


def _transports(name: str, value: Any) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not value:
        raise ValueError(f"option {name!r} must be a non-empty list of {TRANSPORTS}")
    for item in value:
        if item not in TRANSPORTS:
            raise ValueError(f"option {name!r}: unknown transport {item!r} (known: {TRANSPORTS})")
    return list(value)


def _transport_options(name: str, value: Any) -> dict[str, dict[str, Any]]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValueError(f"option {name!r} must be a dict such as {{'polling': {{...}}}}")
    out: dict[str, dict[str, Any]] = {}
    for transport, sub in value.items():
        if transport not in TRANSPORTS:
            raise ValueError(f"option {name!r}: unknown transport {transport!r}")
        if not isinstance(sub, Mapping):
            raise ValueError(f"option {name!r}[{transport!r}] must be a dict")
        # the same rules, minus the defaults: only what was given overrides the top level
        where = f"option {name!r}[{transport!r}]"
        try:
            converted = _convert(dict(sub), {})
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
        for key in converted:
            if key not in _PER_TRANSPORT:
                raise ValueError(
                    f"{where}: {key!r} cannot be set per transport "
                    f"(only {' and '.join(_PER_TRANSPORT)})"
                )
        out[transport] = converted
    return out


#: what ``transport_options`` may set for one transport
_PER_TRANSPORT = ("extra_headers", "query")


def _verify(name: str, value: Any) -> Any:
    if isinstance(value, (bool, str, ssl.SSLContext)):
        return value
    raise ValueError(f"option {name!r} must be True, False, a CA bundle path or an SSLContext")


def _ca(value: Any) -> Any:
    # Node's `ca` holds the certificates themselves (kept as PEM text in `verify`, which the
    # transports load like a bundle file); a path is accepted too
    if isinstance(value, (bytes, bytearray)):
        value = bytes(value).decode("ascii")
    if isinstance(value, (list, tuple)):
        value = "\n".join(v.decode("ascii") if isinstance(v, bytes) else v for v in value)
    return _verify("ca", value)


def _pem_or_path(name: str, value: Any) -> str | None:
    # Node's cert/key hold the PEM text (a string or a Buffer); a path names a file
    if value is None:
        return None
    if isinstance(value, (bytes, bytearray)):
        try:
            value = bytes(value).decode("ascii")
        except UnicodeDecodeError:
            raise ValueError(f"option {name!r} must be PEM text or a file path") from None
    if not isinstance(value, str) or not value:
        raise ValueError(f"option {name!r} must be PEM text or a file path")
    return value


def _passphrase(name: str, value: Any) -> str | bytes | None:
    if value is None or isinstance(value, (str, bytes)):
        return value
    raise ValueError(f"option {name!r} must be a string")


def _ciphers(name: str, value: Any) -> str | None:
    if value is None:
        return None
    text: str = _str(name, value)
    try:
        set_ciphers(ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT), text)
    except ssl.SSLError:
        raise ValueError(f"option {name!r}: OpenSSL knows none of the ciphers {text!r}") from None
    return text


def _proxy(name: str, value: Any) -> str | bool | None:
    if value is None or value is False:
        return value
    if not isinstance(value, str):
        raise ValueError(
            f"option {name!r} must be an 'http://[user:password@]host:port' URL, "
            "False (no proxy) or None (the environment's)"
        )
    parse_proxy(value, f"option {name!r}")
    return value


def _local_address(name: str, value: Any) -> str | None:
    if value is None:
        return None
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise ValueError(
            f"option {name!r} must be an IP address of this machine, not {value!r}"
        ) from None


def _check_tls(opts: dict[str, Any]) -> None:
    """``verify``, ``cert`` and ``key`` together: files that exist and load, a valid mix.

    Loading them here turns a missing or broken file into a ValueError when the option is
    set, rather than a failure in the middle of connecting.
    """
    verify, cert, key = opts.get("verify", True), opts.get("cert"), opts.get("key")
    if isinstance(verify, str):
        try:
            if is_pem(verify):
                ssl.create_default_context(cadata=verify)
            elif os.path.isdir(verify):
                ssl.create_default_context(capath=verify)
            elif os.path.isfile(verify):
                ssl.create_default_context(cafile=verify)
            else:
                raise ValueError(f"option 'verify': no CA bundle file or directory at {verify!r}")
        except ssl.SSLError as exc:
            what = "the CA certificates given" if is_pem(verify) else repr(verify)
            raise ValueError(
                f"option 'verify': {what} could not be loaded: {exc.reason or exc}"
            ) from None
    if isinstance(verify, ssl.SSLContext) and opts.get("ciphers") is not None:
        raise ValueError("with an SSLContext as 'verify', set the ciphers on it")
    if key is not None and cert is None:
        raise ValueError("option 'key' needs 'cert' (the client certificate)")
    if cert is None:
        return
    if isinstance(verify, ssl.SSLContext):
        # loading a certificate into the caller's context would change it behind their back
        raise ValueError("with an SSLContext as 'verify', load the client certificate into it")
    for name, path in (("cert", cert), ("key", key)):
        if path is not None and not is_pem(path) and not os.path.isfile(path):
            raise ValueError(f"option {name!r}: no file at {path!r}")
    try:
        load_client_certificate(
            ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT), cert, key, opts.get("passphrase")
        )
    except ssl.SSLError as exc:
        why = exc.reason or exc
        if opts.get("passphrase") is not None and "BAD_DECRYPT" in str(why).upper():
            why = "wrong passphrase"
        raise ValueError(
            f"option 'cert'/'key': the client certificate could not be loaded: {why}"
        ) from None


def _parser(name: str, value: Any) -> Any:
    if isinstance(value, str):
        if value not in ("default", "json", "msgpack"):
            raise ValueError(f"option 'parser': unknown parser {value!r}")
        return value
    if callable(getattr(value, "encode", None)) and callable(getattr(value, "decoder", None)):
        return value
    raise ValueError("option 'parser' must be 'default', 'json', 'msgpack' or a parser object")


def _protocol(name: str, value: Any) -> int | None:
    if value is None or (value in (4, 5) and not isinstance(value, bool)):
        return value
    raise ValueError(f"option 'protocol' must be None, 4 or 5, not {value!r}")


def _auth(name: str, value: Any) -> Any:
    if value is None or isinstance(value, Mapping) or callable(value):
        return value
    raise ValueError("option 'auth' must be a dict or a callable returning one")


#: permessage-deflate settings (RFC 7692 parameters, and Node's ws `threshold`)
DEFLATE_KEYS = (
    "client_no_context_takeover",
    "server_no_context_takeover",
    "client_max_window_bits",
    "server_max_window_bits",
    "threshold",
)


def _per_message_deflate(name: str, value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if not isinstance(value, Mapping):
        raise ValueError(
            f"option {name!r} must be True, False or a dict such as {{'threshold': 1024}}"
        )
    out = dict(value)
    for key, item in out.items():
        if key not in DEFLATE_KEYS:
            hint = difflib.get_close_matches(str(key), DEFLATE_KEYS, n=1, cutoff=0.6)
            message = f"option {name!r}: unknown setting {key!r}"
            if hint:
                message += f"; did you mean {hint[0]!r}?"
            raise ValueError(f"{message} (known: {', '.join(DEFLATE_KEYS)})")
        if key.endswith("context_takeover"):
            _bool(f"{name}[{key!r}]", item)
        elif key == "threshold":
            if isinstance(item, bool) or not isinstance(item, int) or item < 0:
                raise ValueError(f"option {name}[{key!r}] must be a non-negative integer")
        # window bits: zlib's raw deflate goes down to 9; a bare True lets the server choose
        elif not (key == "client_max_window_bits" and item is True) and (
            isinstance(item, bool) or not isinstance(item, int) or not 9 <= item <= 15
        ):
            raise ValueError(f"option {name}[{key!r}] must be an integer from 9 to 15")
    return out


def _str(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"option {name!r} must be a non-empty string, not {value!r}")
    return value


def _optional_str(name: str, value: Any) -> str | None:
    return None if value is None else _str(name, value)


def _timestamp_requests(name: str, value: Any) -> bool | None:
    return None if value is None else _bool(name, value)


@functools.lru_cache(maxsize=64)
def _request_target_ok(path: str) -> bool:
    # h11 decides, as for the request that will carry it; kept, as every Manager and every
    # attempt checks its path again (most give the same one)
    try:
        h11.Request(method="GET", target=path, headers=[("Host", "h")])
    except (h11.LocalProtocolError, UnicodeEncodeError):
        return False
    return True


def _path(name: str, value: Any) -> str:
    path = _str(name, value)
    path = path if path.startswith("/") else "/" + path
    if not _request_target_ok(path):
        raise ValueError(
            f"option {name!r} must be a URL path (ASCII, no spaces or control characters; "
            f"percent-encode the rest), not {path!r}"
        ) from None
    return path


#: Python name -> validator(name, value) -> normalised value
_VALIDATORS: dict[str, Callable[[str, Any], Any]] = {
    "path": _path,
    "reconnection": _bool,
    "reconnection_attempts": _attempts,
    "reconnection_delay": _duration,
    "reconnection_delay_max": _duration,
    "randomization_factor": lambda n, v: _number(n, v, high=1.0),
    "timeout": lambda n, v: _duration(n, v, allow_none=True),
    "auto_connect": _bool,
    "query": lambda n, v: parse_query(v),
    "parser": _parser,
    "transports": _transports,
    "upgrade": _bool,
    "remember_upgrade": _bool,
    "force_base64": _bool,
    "timestamp_requests": _timestamp_requests,
    "timestamp_param": _str,
    "extra_headers": _headers,
    "transport_options": _transport_options,
    "request_timeout": lambda n, v: _duration(n, v, allow_none=True),
    "per_message_deflate": _per_message_deflate,
    "verify": _verify,
    "cert": _pem_or_path,
    "key": _pem_or_path,
    "passphrase": _passphrase,
    "ciphers": _ciphers,
    "proxy": _proxy,
    "local_address": _local_address,
    "protocol": _protocol,
    "auth": _auth,
    "force_new": _bool,
    "multiplex": _bool,
    "max_buffered_emits": _count,
    "retries": _retries,
    "ack_timeout": _ack_timeout,
}


def _unknown(key: str, from_kwargs: bool) -> ValueError:
    names = list(_VALIDATORS) if from_kwargs else [*_VALIDATORS, *JS_NAMES]
    hint = difflib.get_close_matches(key, names, n=1, cutoff=0.6)
    if from_kwargs and not hint and key in JS_NAMES:
        hint = [JS_NAMES[key][0]]
    message = f"unknown option {key!r}"
    if hint:
        message += f"; did you mean {hint[0]!r}?"
    if from_kwargs and key in JS_NAMES:
        message += " (keyword arguments take snake_case names and seconds)"
    return ValueError(message)


def _convert(given: Mapping[str, Any], kwargs: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in given.items():
        if not isinstance(key, str):
            raise ValueError(f"option names must be strings, not {key!r}")
        if key in ("ca", "rejectUnauthorized"):
            continue  # TLS names combine; handled below
        if key in JS_NAMES:
            name, factor = JS_NAMES[key]
            if factor is not None and isinstance(value, (int, float)):
                if not isinstance(value, bool):
                    value = value * factor
        elif key in _VALIDATORS:
            name = key
        elif key in JS_IGNORED:
            continue
        else:
            raise _unknown(key, from_kwargs=False)
        out[name] = _VALIDATORS[name](key, value)
    # Node: `ca` names the trusted certificates, `rejectUnauthorized: false` turns checks off
    if "ca" in given:
        out["verify"] = _ca(given["ca"])
    if "rejectUnauthorized" in given:
        reject = _bool("rejectUnauthorized", given["rejectUnauthorized"])
        if not reject:
            out["verify"] = False
        elif "verify" not in out:
            out["verify"] = True
    for key, value in kwargs.items():
        if key not in _VALIDATORS:
            raise _unknown(key, from_kwargs=True)
        out[key] = _VALIDATORS[key](key, value)
    return out


def normalize(
    options: Mapping[str, Any] | None = None, kwargs: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Every option, snake_case and in seconds, defaults filled in.

    ``options`` is a JavaScript-style options object (see the module docstring); ``kwargs`` are
    Python keyword arguments and win over ``options``.  Raises ``ValueError`` for an unknown
    option or a bad value.
    """
    if options is not None and not isinstance(options, Mapping):
        raise ValueError(f"options must be a dict, not {type(options).__name__}")
    out = _convert(options or {}, kwargs or {})
    result: dict[str, Any] = {}
    for name, default in DEFAULTS.items():
        if name in out:
            result[name] = out[name]
        elif name in ("query", "extra_headers", "transport_options"):
            result[name] = {}
        elif name == "transports":
            result[name] = list(TRANSPORTS)
        else:
            result[name] = default
    _check_tls(result)
    return result


def connect_timeout(opts: Mapping[str, Any]) -> float:
    """The bound of one connect (TCP, TLS and the WebSocket handshake) and of a request made
    before the server told its ping interval: the ``timeout`` option, or its default when the
    option is off (None) or 0, so that no connect is ever unbounded."""
    timeout = opts["timeout"]
    return float(timeout) if timeout else float(DEFAULTS["timeout"])


def validate(opts: Mapping[str, Any]) -> dict[str, Any]:
    """Checks a normalised options dict again, as it may have been edited since.

    ``manager.opts`` is a plain dict that a ``reconnect_attempt`` handler may change (as in
    socket.io-client); the Manager checks it with this before each attempt.  Returns the
    normalised values of the options present; raises ``ValueError`` for a bad one.
    """
    out: dict[str, Any] = {}
    javascript: dict[str, Any] = {}
    for name, value in opts.items():
        validator = _VALIDATORS.get(name)
        if validator is not None:
            out[name] = validator(name, value)
        elif name in JS_NAMES:
            javascript[name] = value  # `opts.extraHeaders = ...` as in JavaScript
        else:
            raise _unknown(name, from_kwargs=False)
    out.update(_convert(javascript, {}))
    _check_tls(out)
    return out


def normalize_socket(options: Mapping[str, Any] | None) -> dict[str, Any]:
    """The per-namespace options of ``manager.socket()``: ``query`` and ``auth``.

    Manager options are accepted and ignored there (``io()`` in JavaScript passes its whole
    options object down), unknown names are rejected as everywhere else.
    """
    if options is None:
        return {"query": None, "auth": None}
    out = _convert(options, {})
    return {
        "query": out["query"] if "query" in out and out["query"] else None,
        "auth": out.get("auth"),
    }


def check(name: str, value: Any) -> Any:
    """Validates one Python-named option (the Manager's setters use this)."""
    if name not in _VALIDATORS:
        raise _unknown(name, from_kwargs=True)
    return _VALIDATORS[name](name, value)


__all__ = [
    "DEFAULTS",
    "DEFLATE_KEYS",
    "JS_NAMES",
    "check",
    "connect_timeout",
    "encode_query",
    "is_pem",
    "normalize",
    "normalize_socket",
    "validate",
]
