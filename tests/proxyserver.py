"""A real HTTP proxy for the tests: tinyproxy (Debian's package), one process per fixture.

``TinyProxy(auth=("user", "secret"))`` writes a config into a temporary directory (a free port
on 127.0.0.1, no log to syslog), starts ``tinyproxy -d`` and waits until it accepts
connections.  ``connect_ports=[443]`` limits its CONNECT tunnels to those ports, so that any
other port gets ``403``; ``allow`` is the one client address it serves (others get ``403``).  ``tunnels()`` lists the ``host:port`` of every CONNECT it logged, the
proof that a connection went through it.  The fixture ``tinyproxy`` is a factory; whatever it
started is stopped at the end of the test.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from typing import Callable, Iterator, Sequence

import pytest
from servers import free_port

__all__ = ["TinyProxy", "tinyproxy"]

START_TIMEOUT = 10.0


class TinyProxy:
    def __init__(
        self,
        auth: tuple[str, str] | None = None,
        connect_ports: Sequence[int] = (),
        allow: str = "127.0.0.1",
    ) -> None:
        binary = shutil.which("tinyproxy") or next(
            (p for p in ("/usr/bin/tinyproxy", "/usr/sbin/tinyproxy") if os.path.exists(p)), None
        )
        if binary is None:
            pytest.fail("tinyproxy is not installed (`make deps` installs it)")
        self.auth = auth
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="tinyproxy-")
        self.log = os.path.join(self.dir, "tinyproxy.log")
        lines = [
            f"Port {self.port}",
            "Listen 127.0.0.1",
            "Timeout 30",
            "MaxClients 200",
            f"LogFile {self.log!r}".replace("'", '"'),
            "LogLevel Connect",
            f"Allow {allow}",
            "DisableViaHeader Yes",
        ]
        if auth is not None:
            lines.append(f"BasicAuth {auth[0]} {auth[1]}")
        lines.extend(f"ConnectPort {p}" for p in connect_ports)
        self.config = os.path.join(self.dir, "tinyproxy.conf")
        with open(self.config, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.proc = subprocess.Popen(
            [binary, "-d", "-c", self.config],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""
                self.close()
                raise RuntimeError(f"tinyproxy exited at start: {err.strip()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)  # polling the port of a starting process: no event to wait on
        self.close()
        raise RuntimeError(f"tinyproxy did not listen on {self.port} within {START_TIMEOUT} s")

    def url(self, auth: tuple[str, str] | None | bool = True) -> str:
        """``http://[user:pass@]127.0.0.1:port``: the configured credentials unless ``auth``
        gives others (or False: none)."""
        creds = self.auth if auth is True else (auth or None)
        userinfo = f"{creds[0]}:{creds[1]}@" if creds else ""
        return f"http://{userinfo}127.0.0.1:{self.port}"

    def log_text(self) -> str:
        try:
            with open(self.log, encoding="utf-8", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def tunnels(self) -> list[str]:
        """``host:port`` of every CONNECT request the proxy logged."""
        return re.findall(r"CONNECT (\S+) HTTP", self.log_text())

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.proc.stderr:
            self.proc.stderr.close()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def tinyproxy() -> Iterator[Callable[..., TinyProxy]]:
    started: list[TinyProxy] = []

    def factory(**kwargs: object) -> TinyProxy:
        proxy = TinyProxy(**kwargs)  # type: ignore[arg-type]
        started.append(proxy)
        return proxy

    try:
        yield factory
    finally:
        for proxy in started:
            proxy.close()
