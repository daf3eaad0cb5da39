"""What the ``sioclient`` subcommands share: exit codes, JSON in and out, the connection flags
and the options they make, output with secrets masked, and standard input read cooperatively.

See :mod:`sioclient.cli` for the command itself.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import signal
import stat
import sys
from collections.abc import Iterator, Sequence
from typing import IO, Any, Callable
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import gevent
import gevent.socket
from gevent.event import Event

import sioclient

from .redact import Secrets

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_TIMEOUT = 3
EXIT_INTERRUPTED = 130

PROG = "sioclient"

#: added to the connect timeout when waiting for the outcome of a connection attempt, so that
#: the library's own timeout (which says what happened) is what the user sees
SLACK = 1.0

#: how long closing may take before the process exits anyway (the library gives a WebSocket
#: 2 s to write what it holds)
CLOSE_GRACE = 3.0


class CommandError(Exception):
    """Ends the command with ``code`` and a one-line ``message`` on standard error."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# ---- JSON in and out ----------------------------------------------------------------------


def _json_default(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"$binary": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def to_json(value: Any) -> str:
    """Compact JSON; binary attachments as ``{"$binary": "<base64>"}``."""
    return json.dumps(value, default=_json_default, ensure_ascii=False, separators=(",", ":"))


def parse_json_args(texts: Sequence[str]) -> list[Any]:
    """Each command-line argument is one JSON value."""
    values = []
    for i, text in enumerate(texts, 1):
        try:
            values.append(json.loads(text))
        except ValueError:
            raise CommandError(
                EXIT_USAGE,
                f"argument {i} is not JSON (a string needs quotes: '\"text\"')",
            ) from None
    return values


_DECODER = json.JSONDecoder()


def parse_line(line: str) -> tuple[bool, str, list[Any]]:
    """``[?]event json json ...`` → (wants an ack, event, arguments); ValueError when bad."""
    text = line.strip()
    call = text.startswith("?")
    if call:
        text = text[1:].lstrip()
    event, _, rest = text.partition(" ")
    if not event:
        raise ValueError("expected: [?]EVENT [JSON ...]")
    args: list[Any] = []
    pos = 0
    rest = rest.strip()
    while pos < len(rest):
        try:
            value, pos = _DECODER.raw_decode(rest, pos)
        except ValueError:
            raise ValueError(
                f'argument {len(args) + 1} is not JSON (a string needs quotes: "text")'
            ) from None
        args.append(value)
        while pos < len(rest) and rest[pos].isspace():
            pos += 1
    return call, event, args


def split_ack(args: tuple[Any, ...]) -> tuple[tuple[Any, ...], bool]:
    # a server that asks for an ack hands a callable as the last argument
    if args and callable(args[-1]):
        return args[:-1], True
    return args, False


# ---- options ------------------------------------------------------------------------------


def _pairs(values: Sequence[str] | None, sep: str, flag: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in values or ():
        key, found, value = item.partition(sep)
        if not found or not key.strip():
            # the value may be a secret: name the flag, not what was given
            raise CommandError(EXIT_USAGE, f"{flag} expects NAME{sep}VALUE")
        out[key.strip()] = value.strip() if sep == ":" else value
    return out


def build_options(args: argparse.Namespace) -> dict[str, Any]:
    """The library options (Python names) the common flags ask for."""
    opts: dict[str, Any] = {"force_new": True, "auto_connect": False}
    if args.transports:
        opts["transports"] = [t.strip() for t in args.transports.split(",") if t.strip()]
    if args.path:
        opts["path"] = args.path
    query = _pairs(args.query, "=", "--query")
    if query:
        opts["query"] = query
    headers = _pairs(args.header, ":", "--header")
    if headers:
        opts["extra_headers"] = headers
    if args.auth is not None:
        try:
            auth = json.loads(args.auth)
        except ValueError:
            raise CommandError(EXIT_USAGE, "--auth is not JSON") from None
        if not isinstance(auth, dict):
            raise CommandError(EXIT_USAGE, "--auth must be a JSON object")
        opts["auth"] = auth
    if args.parser:
        opts["parser"] = args.parser
    if args.protocol is not None:
        opts["protocol"] = args.protocol
    if args.insecure and args.ca:
        raise CommandError(EXIT_USAGE, "--insecure and --ca exclude each other")
    if args.insecure:
        opts["verify"] = False
    elif args.ca:
        opts["verify"] = args.ca
    if args.cert:
        opts["cert"] = args.cert
    if args.key:
        opts["key"] = args.key
    if args.proxy is not None and args.no_proxy:
        raise CommandError(EXIT_USAGE, "--proxy and --no-proxy exclude each other")
    if args.no_proxy:
        opts["proxy"] = False
    elif args.proxy is not None:
        opts["proxy"] = args.proxy
    if args.local_address:
        opts["local_address"] = args.local_address
    if args.timeout is not None:
        opts["timeout"] = args.timeout
    opts["reconnection"] = bool(getattr(args, "reconnect", False))
    return opts


def secrets_of(args: argparse.Namespace) -> Secrets:
    """Everything secret the command line holds: query (flags and URL), auth, headers.

    Built with the library's own rules (:meth:`Secrets.of`: cookie parts, the credentials after
    an ``Authorization`` scheme, percent-encoded forms), from the raw flags, so that even a
    malformed flag is masked.
    """
    query: dict[str, str] = {}
    loose: list[str] = []
    for i, item in enumerate(args.query or ()):
        key, found, value = item.partition("=")
        if found:
            query[f"{i}:{key}"] = value
        else:
            loose.append(item)
    headers: dict[str, str] = {}
    for i, item in enumerate(args.header or ()):
        key, found, value = item.partition(":")
        if found:
            headers[key.strip() or str(i)] = value.strip()
        else:
            loose.append(item)
    auth: Any = None
    if args.auth:
        try:
            auth = json.loads(args.auth)
        except ValueError:
            loose.append(args.auth)
    url_query = urlsplit(args.url).query
    for _, value in parse_qsl(url_query, keep_blank_values=True):
        loose.append(value)
    for part in url_query.split("&"):
        loose.append(part.partition("=")[2])  # as written, percent-encoded or not
    opts: dict[str, Any] = {"query": query, "extra_headers": headers, "auth": auth}
    if args.proxy:
        # the library masks the credentials of a proxy URL it reads; one it cannot read is
        # masked here, whole and by parts
        opts["proxy"] = args.proxy
        try:
            parts = urlsplit(args.proxy if "://" in args.proxy else "http://" + args.proxy)
            loose.extend(v for v in (parts.username, parts.password) if v)
        except ValueError:
            pass
        if "@" in args.proxy:
            loose.append(args.proxy)
    try:
        return Secrets.of(opts, loose, auth if not isinstance(auth, dict) else None)
    except ValueError:
        opts.pop("proxy", None)
        return Secrets.of(opts, loose, auth if not isinstance(auth, dict) else None)


def shown_url(url: str) -> str:
    """The URL without its query and credentials, as messages name it."""
    parts = urlsplit(url if "://" in url else "http://" + url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path or "/", "", ""))


# ---- output -------------------------------------------------------------------------------


class Output:
    """Lines on stdout (data) and stderr (status, errors), flushed at once, secrets masked.

    When the reader of stdout goes away (``sioclient listen ... | head -1``), ``gone`` is set
    and what follows is dropped: the command ends quietly, as a filter does.
    """

    def __init__(self, secrets: Secrets, quiet: bool = False) -> None:
        self.secrets = secrets
        self.quiet = quiet
        self.gone = Event()

    def data(self, line: str) -> None:
        if self.gone.is_set():
            return
        try:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()
        except BrokenPipeError:
            self.gone.set()
            # later writes, and the interpreter's own flush at exit, go nowhere
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)

    def status(self, line: str) -> None:
        if not self.quiet:
            _write_err(self.secrets.scrub(line) + "\n")

    def error(self, message: str) -> None:
        one_line = " ".join(self.secrets.scrub(message).split())
        _write_err(f"{PROG}: error: {one_line}\n")


def _write_err(text: str) -> None:
    try:
        sys.stderr.write(text)
        sys.stderr.flush()
    except (BrokenPipeError, ValueError):
        pass  # nobody reads stderr any more


def describe(error: BaseException) -> tuple[int, str]:
    """The exit code and the message of a failure the library reported."""
    code = EXIT_TIMEOUT if isinstance(error, sioclient.TimeoutError) else EXIT_ERROR
    text = str(error) or type(error).__name__
    cause = error.__cause__
    if cause is not None and str(cause) and str(cause) not in text:
        text = f"{text} ({cause})"
    return code, text


# ---- standard input without blocking the hub ---------------------------------------------


def read_lines(stream: IO[Any]) -> Iterator[str]:
    """The lines of ``stream`` (stdin), read cooperatively.

    A pipe or terminal is read when an I/O watcher says it is readable, so only this greenlet
    waits; the descriptor's blocking mode is left as it is (the terminal is shared with the
    shell).  A regular file never blocks and is read as it is.
    """
    fd = stream.fileno()
    if stat.S_ISREG(os.fstat(fd).st_mode):
        for raw in stream:
            yield raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        return
    buf = b""
    while True:
        gevent.socket.wait_read(fd)
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            continue
        if not chunk:
            break
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            yield line.decode("utf-8", "replace")
    if buf:
        yield buf.decode("utf-8", "replace")


def interruptible(run: Callable[[Event], int]) -> int:
    """Runs ``run(stop)``; Ctrl-C sets ``stop`` (the command decides how to end)."""
    stop = Event()
    handler = gevent.signal_handler(signal.SIGINT, stop.set)
    try:
        return run(stop)
    finally:
        handler.cancel()


# ---- argument helpers -------------------------------------------------------------------


def positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive: {text!r}")
    return value


def count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value


def connection_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "url",
        metavar="URL",
        help="server URL; its path is the namespace (http://host:3000/admin)",
    )
    group = parser.add_argument_group("connection options")
    group.add_argument(
        "--transports", metavar="LIST", help="comma-separated: polling,websocket (default both)"
    )
    group.add_argument("--path", help="the Socket.IO path (default /socket.io)")
    group.add_argument(
        "--query", action="append", metavar="K=V", help="query parameter (repeatable)"
    )
    group.add_argument("--auth", metavar="JSON", help="auth payload, a JSON object")
    group.add_argument(
        "--header", action="append", metavar="K:V", help="extra HTTP header (repeatable)"
    )
    group.add_argument("--parser", choices=("default", "json", "msgpack"))
    group.add_argument(
        "--protocol", type=int, choices=(4, 5), help="4 (socket.io 2.x) or 5 (3.x/4.x); detected"
    )
    group.add_argument(
        "--insecure", action="store_true", help="TLS without certificate or host name checks"
    )
    group.add_argument("--ca", metavar="FILE", help="trust this CA bundle (PEM)")
    group.add_argument(
        "--proxy",
        metavar="URL",
        help="HTTP proxy, http://[user:pass@]host:port (default: HTTP_PROXY/HTTPS_PROXY)",
    )
    group.add_argument(
        "--no-proxy", action="store_true", help="ignore the proxy environment variables"
    )
    group.add_argument("--local-address", metavar="ADDR", help="source address to connect from")
    group.add_argument("--cert", metavar="FILE", help="client certificate (PEM)")
    group.add_argument("--key", metavar="FILE", help="client certificate key (PEM)")
    group.add_argument(
        "-q", "--quiet", action="store_true", help="no status lines on stderr (errors still)"
    )
