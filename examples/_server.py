"""Shared by the examples: the ``--url`` argument and the embedded echo server.

Without ``--url`` an example starts ``examples/echo_server.py`` as a child process and stops it
when it is done; the child also exits on its own when its parent goes away (its stdin closes).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import gevent
from gevent import subprocess
from gevent.event import Event

HERE = os.path.dirname(os.path.abspath(__file__))
ECHO_SERVER = os.path.join(HERE, "echo_server.py")


class EchoServer:
    """``examples/echo_server.py`` in a child process; ``start()`` waits until it listens."""

    def __init__(self, args: Sequence[str] = ()) -> None:
        self.args = list(args)
        self.port = 0
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> EchoServer:
        """Starts the server (again on the same port after ``stop()``)."""
        cmd = [sys.executable, ECHO_SERVER, "--port", str(self.port), *self.args]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        stdout = self.proc.stdout
        assert stdout is not None
        # gevent's pipes: the client's greenlets keep running while this one waits, whether or
        # not the process is monkey-patched.
        with gevent.Timeout(timeout, RuntimeError("the echo server did not start")):
            line = stdout.readline()
        if not line:
            self.stop()
            raise RuntimeError("the echo server exited before listening")
        self.port = json.loads(line)["port"]
        return self

    def stop(self, timeout: float = 5.0) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.stdin is not None:
            proc.stdin.close()  # the server's signal to stop
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)
        if proc.stdout is not None:
            proc.stdout.close()


@contextmanager
def server_url(url: str | None, server_args: Sequence[str] = ()) -> Iterator[str]:
    """``url`` itself when given, else the URL of an echo server started for the block."""
    if url is not None:
        yield url
        return
    server = EchoServer(server_args).start()
    try:
        yield server.url
    finally:
        server.stop()


def arguments(description: str | None) -> argparse.ArgumentParser:
    """An argument parser with the ``--url`` every example takes."""
    ap = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--url",
        help="a Socket.IO server that answers the events of examples/echo_server.py "
        "(default: start that server for the run)",
    )
    return ap


def wait_connected(socket: Any, timeout: float = 10.0) -> Any:
    """Blocks this greenlet until ``socket`` is connected; exits the example if it cannot."""
    ready = Event()
    socket.once("connect", ready.set)
    if not socket.connected and not ready.wait(timeout):
        raise SystemExit(f"{socket.nsp}: could not connect within {timeout} s")
    return socket
