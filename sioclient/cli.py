"""The ``sioclient`` command: talk to a Socket.IO server from a shell.

::

    sioclient connect URL                 interactive: prints events, emits what you type
    sioclient emit URL EVENT [JSON...]    emits one event and exits
    sioclient call URL EVENT [JSON...]    emits with an ack and prints the ack as JSON
    sioclient listen URL [EVENT...]       prints events as JSON lines
    sioclient bench URL [EVENT [JSON...]] N clients calling in a loop, latency percentiles

``python -m sioclient`` is the same command.  It uses the library's public API only, on gevent
without monkey patching: standard input is read through an I/O watcher, so the hub never
blocks on it.

Exit status (scripts may rely on it):

===  =====================================================================================
0    success
1    connection or protocol error: refused, unreachable, TLS failure, namespace refused,
     disconnected by the server, an event the server did not accept
2    usage: bad arguments, an argument that is not JSON, an invalid option, a missing extra
3    timeout: connecting, waiting for an ack, or ``listen --count`` not reached in time
130  interrupted (Ctrl-C)
===  =====================================================================================

Errors are one line on standard error, ``sioclient: error: ...``.  The values of the query,
``--auth`` and the headers are never printed: the URL is shown without its query, and every
message goes through :class:`sioclient.redact.Secrets` first.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any, Callable, NoReturn

import gevent
from gevent.event import AsyncResult, Event
from gevent.pool import Group

import sioclient

from .cli_bench import add_bench_parser
from .cli_common import (
    CLOSE_GRACE,
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_TIMEOUT,
    EXIT_USAGE,
    PROG,
    SLACK,
    CommandError,
    Output,
    build_options,
    connection_flags,
    count,
    describe,
    interruptible,
    parse_json_args,
    parse_line,
    positive,
    read_lines,
    secrets_of,
    shown_url,
    split_ack,
    to_json,
)

# ---- connecting ---------------------------------------------------------------------------


class Session:
    """One socket opened for a command; ``finished`` gets (code, message) when it must end."""

    def __init__(self, args: argparse.Namespace, out: Output) -> None:
        self.args = args
        self.out = out
        self.finished: AsyncResult = AsyncResult()
        self.closing = False
        try:
            opts = build_options(args)
            self.socket = sioclient.io(args.url, **opts)
        except (ValueError, TypeError) as exc:
            raise CommandError(EXIT_USAGE, str(exc)) from None
        self.connect_timeout = self.socket.io.opts.get("timeout")

    def open(self) -> None:
        """Connects the namespace, or raises CommandError."""
        result: AsyncResult = AsyncResult()
        sock = self.socket

        def on_connect() -> None:
            if not result.ready():
                result.set(None)

        def on_error(err: Any) -> None:
            if not result.ready():
                result.set(
                    err if isinstance(err, BaseException) else sioclient.ConnectionError(str(err))
                )

        sock.on("connect", on_connect)
        sock.on("connect_error", on_error)
        sock.open()
        bound = None if self.connect_timeout is None else self.connect_timeout + SLACK
        try:
            err = result.get(timeout=bound)
        except gevent.Timeout:
            raise CommandError(
                EXIT_TIMEOUT, f"not connected within {self.connect_timeout:g} s"
            ) from None
        finally:
            sock.off("connect", on_connect)
            sock.off("connect_error", on_error)
        if err is not None:
            code, text = describe(err)
            if not text.startswith("cannot connect"):
                text = f"cannot connect to {shown_url(self.args.url)}: {text}"
            raise CommandError(code, text)
        sock.on("disconnect", self._on_disconnect)

    def _on_disconnect(self, reason: str) -> None:
        if self.closing:
            return
        if self.socket.io.opts.get("reconnection") and reason != "io server disconnect":
            self.out.status(f"* disconnected ({reason}), reconnecting")
            return
        if not self.finished.ready():
            self.finished.set((EXIT_ERROR, f"disconnected: {reason}"))

    def describe_connection(self) -> str:
        engine = self.socket.io.engine
        details = [f"id {self.socket.id}"]
        if engine is not None:
            details.append(f"{engine.transport}, protocol revision {engine.protocol}")
        return f"connected to {shown_url(self.args.url)} ({', '.join(details)})"

    def close(self) -> None:
        """Leaves and closes the connection, giving what is queued a bounded moment to leave."""
        self.closing = True
        manager = self.socket.io
        try:
            self.socket.close()
            manager.close()
        except Exception:  # noqa: BLE001 - closing must not hide the command's outcome
            pass
        # Waits until the loop has nothing left to do, bounded: a polling transport still has
        # to post what was queued (an emit made just before) and the close packet, and a
        # WebSocket writes its closing handshake.
        gevent.wait(timeout=CLOSE_GRACE)


class _Task:
    """``func`` run on a greenlet; its outcome (value or exception) lands in ``result``, so that
    an error ends the command instead of being printed by the hub."""

    def __init__(self, func: Callable[..., Any], *args: Any) -> None:
        self.result: AsyncResult = AsyncResult()
        self.greenlet = gevent.spawn(self._run, func, args)

    def _run(self, func: Callable[..., Any], args: tuple[Any, ...]) -> None:
        try:
            self.result.set(func(*args))
        except BaseException as exc:  # noqa: BLE001 - handed to whoever reads the result
            self.result.set_exception(exc)

    def kill(self) -> None:
        self.greenlet.kill()


def _wait_any(*waitables: Any, timeout: float | None = None) -> None:
    gevent.wait(list(waitables), timeout=timeout, count=1)


# ---- commands -----------------------------------------------------------------------------


def cmd_emit(args: argparse.Namespace, out: Output) -> int:
    values = parse_json_args(args.args)
    session = Session(args, out)

    def run(stop: Event) -> int:
        opener = _Task(session.open)
        _wait_any(opener.result, stop)
        if stop.is_set():
            opener.kill()
            return EXIT_INTERRUPTED
        opener.result.get()
        try:
            session.socket.emit(args.event, *values)
        except (TypeError, ValueError) as exc:
            raise CommandError(EXIT_USAGE, str(exc)) from None
        return EXIT_OK

    try:
        return interruptible(run)
    finally:
        session.close()


def cmd_call(args: argparse.Namespace, out: Output) -> int:
    values = parse_json_args(args.args)
    session = Session(args, out)

    def call() -> Any:
        session.open()
        return session.socket.call(args.event, *values, timeout=args.timeout)

    def run(stop: Event) -> int:
        caller = _Task(call)
        _wait_any(caller.result, stop, session.finished)
        if stop.is_set():
            caller.kill()
            return EXIT_INTERRUPTED
        if not caller.result.ready():
            caller.kill()
            code, message = session.finished.get()
            raise CommandError(code, message)
        try:
            value = caller.result.get()
        except sioclient.TimeoutError:
            raise CommandError(
                EXIT_TIMEOUT, f"no ack for {args.event!r} within {args.timeout:g} s"
            ) from None
        except sioclient.DisconnectedError as exc:
            raise CommandError(EXIT_ERROR, f"disconnected before the ack: {exc}") from None
        except (TypeError, ValueError) as exc:
            raise CommandError(EXIT_USAGE, str(exc)) from None
        out.data(to_json(value))
        return EXIT_OK

    try:
        return interruptible(run)
    finally:
        session.close()


def cmd_listen(args: argparse.Namespace, out: Output) -> int:
    wanted = set(args.events)
    first = _parse_or_usage(args.emit) if args.emit else None
    count = 0
    reached = Event()
    session = Session(args, out)

    def on_any(event: str, *raw: Any) -> None:
        nonlocal count
        if (wanted and event not in wanted) or reached.is_set():
            return
        values, wants_ack = split_ack(raw)
        record: dict[str, Any] = {"event": event, "args": list(values)}
        if wants_ack:
            record["ack"] = True
        out.data(to_json(record))
        count += 1
        if args.count is not None and count >= args.count:
            reached.set()

    session.socket.on_any(on_any)

    def run(stop: Event) -> int:
        opener = _Task(session.open)
        _wait_any(opener.result, stop)
        if stop.is_set():
            opener.kill()
            return EXIT_INTERRUPTED
        opener.result.get()
        out.status(session.describe_connection())
        if first is not None:
            _, event, values = first  # a '?' asks nothing more here: the ack is not printed
            session.socket.emit(event, *values)
        _wait_any(stop, reached, session.finished, out.gone, timeout=args.timeout)
        if reached.is_set() or out.gone.is_set():
            return EXIT_OK
        if stop.is_set():
            return EXIT_INTERRUPTED
        if session.finished.ready():
            code, message = session.finished.get()
            raise CommandError(code, message)
        if args.count is not None:
            raise CommandError(
                EXIT_TIMEOUT, f"{count} of {args.count} events within {args.timeout:g} s"
            )
        return EXIT_OK

    try:
        return interruptible(run)
    finally:
        session.close()


def _parse_or_usage(line: str) -> tuple[bool, str, list[Any]]:
    try:
        return parse_line(line)
    except ValueError as exc:
        raise CommandError(EXIT_USAGE, str(exc)) from None


def cmd_connect(args: argparse.Namespace, out: Output) -> int:
    session = Session(args, out)
    sock = session.socket

    def on_any(event: str, *raw: Any) -> None:
        values, wants_ack = split_ack(raw)
        line = " ".join(["<", event, *(to_json(v) for v in values)])
        out.data(line + (" (ack requested)" if wants_ack else ""))

    calls = Group()
    sock.on_any(on_any)
    sock.on("reconnect", lambda attempt: out.status(f"* reconnected after {attempt} attempt(s)"))
    sock.on("connect", lambda: out.status(f"* {session.describe_connection()}"))

    def send(line: str) -> None:
        try:
            call, event, values = parse_line(line)
        except ValueError as exc:
            out.status(f"! {exc}")
            return
        try:
            if call:
                calls.spawn(calling, event, values)
            else:
                sock.emit(event, *values)
        except (TypeError, ValueError, sioclient.SocketIOError) as exc:
            out.status(f"! {exc}")

    def calling(event: str, values: list[Any]) -> None:
        try:
            value = sock.call(event, *values, timeout=args.ack_timeout)
        except sioclient.TimeoutError:
            out.status(f"! no ack for {event!r} within {args.ack_timeout:g} s")
        except (TypeError, ValueError, sioclient.SocketIOError) as exc:
            out.status(f"! {event}: {exc}")
        else:
            out.data(f"ack {event} {to_json(value)}")

    def reader(eof: Event) -> None:
        try:
            for line in read_lines(sys.stdin):
                if line.strip():
                    send(line)
        except Exception as exc:  # noqa: BLE001 - reported, and the input ends there
            out.error(f"reading standard input: {exc}")
        finally:
            eof.set()

    def run(stop: Event) -> int:
        opener = _Task(session.open)
        _wait_any(opener.result, stop)
        if stop.is_set():
            opener.kill()
            return EXIT_INTERRUPTED
        opener.result.get()
        eof = Event()
        stdin = gevent.spawn(reader, eof)
        try:
            _wait_any(stop, eof, session.finished, out.gone)
            if out.gone.is_set():
                return EXIT_OK
            if stop.is_set():
                return EXIT_INTERRUPTED
            if session.finished.ready():
                code, message = session.finished.get()
                raise CommandError(code, message)
            # end of input: calls still waiting get their time (each bounded by --ack-timeout)
            _wait_any(gevent.spawn(calls.join), stop, session.finished)
            return EXIT_INTERRUPTED if stop.is_set() else EXIT_OK
        finally:
            stdin.kill()

    try:
        return interruptible(run)
    finally:
        session.close()


# ---- argument parsing ---------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # one line, as every other error; the usage is one `--help` away
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


def _timeout(parser: argparse.ArgumentParser, text: str, default: float | None) -> None:
    parser.add_argument("--timeout", type=positive, metavar="S", default=default, help=text)


def make_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="A Socket.IO client for the command line (socket.io 2.x, 3.x and 4.x).",
        epilog="Exit status: 0 ok, 1 connection or protocol error, 2 usage, 3 timeout, "
        "130 interrupted.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {sioclient.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    p = sub.add_parser(
        "connect",
        help="interactive: print events, emit the lines typed",
        description="Prints every event as '< EVENT JSON...'.  Reads lines 'EVENT JSON...' "
        "and emits them; a line starting with '?' is a call, its ack printed as "
        "'ack EVENT JSON'.  Ends at the end of input, on Ctrl-C or when disconnected.",
    )
    connection_flags(p)
    _timeout(p, "seconds allowed for connecting (20)", None)
    p.add_argument(
        "--ack-timeout", type=positive, metavar="S", default=10.0, help="for '?' calls (10)"
    )
    p.add_argument("--reconnect", action="store_true", help="reconnect when the connection drops")
    p.set_defaults(func=cmd_connect)

    p = sub.add_parser("emit", help="emit one event and exit")
    connection_flags(p)
    _timeout(p, "seconds allowed for connecting (20)", None)
    p.add_argument("event", metavar="EVENT")
    p.add_argument(
        "args", metavar="JSON", nargs="*", default=[], help="arguments, one JSON value each"
    )
    p.set_defaults(func=cmd_emit)

    p = sub.add_parser("call", help="emit with an ack and print the ack as JSON")
    connection_flags(p)
    _timeout(p, "seconds allowed for connecting, and then for the ack (10)", 10.0)
    p.add_argument("event", metavar="EVENT")
    p.add_argument(
        "args", metavar="JSON", nargs="*", default=[], help="arguments, one JSON value each"
    )
    p.set_defaults(func=cmd_call)

    p = sub.add_parser(
        "listen",
        help="print events as JSON lines",
        description='Prints {"event": ..., "args": [...]} per event (all of them, or the '
        "EVENTs named) until Ctrl-C, --count events or --timeout.",
    )
    connection_flags(p)
    _timeout(p, "seconds allowed for connecting (20), and then to listen (no limit)", None)
    p.add_argument("events", metavar="EVENT", nargs="*", default=[], help="only these events")
    p.add_argument("--count", type=count, metavar="N", help="exit 0 after N events")
    p.add_argument(
        "--emit", metavar="LINE", help="once connected, emit 'EVENT JSON...' (e.g. a subscribe)"
    )
    p.add_argument("--reconnect", action="store_true", help="reconnect when the connection drops")
    p.set_defaults(func=cmd_listen)

    add_bench_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command; returns the exit status (the console script exits with it)."""
    parser = make_parser()
    args = parser.parse_args(argv)
    out = Output(secrets_of(args), quiet=getattr(args, "quiet", False))
    try:
        return int(args.func(args, out))
    except CommandError as exc:
        if exc.message:
            out.error(exc.message)
        return exc.code
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


def run() -> NoReturn:
    sys.exit(main())


__all__ = [
    "EXIT_ERROR",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_TIMEOUT",
    "EXIT_USAGE",
    "main",
    "parse_line",
    "to_json",
]
