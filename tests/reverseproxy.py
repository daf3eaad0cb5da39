"""Real reverse proxies in front of the test servers: nginx and HAProxy (Debian's packages).

``Nginx(upstream, directory)`` and ``HAProxy(upstream, directory)`` write a config into
``directory`` (a free port on 127.0.0.1; pid, logs and temporary files all in there, so nothing
needs root), start the binary in the foreground as a child process (``daemon off;`` and a
single process for nginx, ``-db`` for HAProxy), and wait until it accepts connections.
``upstream`` is a started ``ServerProcess`` (or anything with ``host`` and ``port``). Both pass
HTTP long-polling through and WebSocket upgrades (HTTP/1.1 to the upstream, the ``Upgrade`` and
``Connection`` headers, read timeouts longer than any long-poll or ping interval of the tests),
and add ``X-Forwarded-For``, as the deployments their documentations describe.  ``log_text()``
is the access log, a line per request, written when the request (or the WebSocket tunnel) ends.

The fixtures ``nginx`` and ``haproxy`` are factories (``nginx(server)``); whatever they started
is stopped at the end of the test.  A missing binary fails the test: ``make deps`` installs it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from servers import free_port

__all__ = ["HAProxy", "Nginx", "ReverseProxy", "haproxy", "nginx"]

START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0


def _binary(name: str) -> str:
    found = shutil.which(name) or next(
        (p for p in (f"/usr/sbin/{name}", f"/usr/bin/{name}") if os.access(p, os.X_OK)), None
    )
    if found is None:
        pytest.fail(f"{name} is not installed (`make deps` installs it)", False)
    return found


class ReverseProxy:
    """One proxy process; ``url`` is where clients connect."""

    name = ""
    config_name = ""

    def __init__(self, upstream: Any, directory: str | os.PathLike[str]) -> None:
        self.binary = _binary(self.name)
        self.upstream = f"{upstream.host}:{upstream.port}"
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.config = self.dir / self.config_name
        self.access_log = self.dir / "access.log"
        self.error_log = self.dir / "error.log"
        #: what the process writes on stdout and stderr
        self.output = self.dir / "output.log"
        self.config.write_text(self.render())
        self.proc: subprocess.Popen | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def render(self) -> str:
        raise NotImplementedError

    def command(self) -> list[str]:
        raise NotImplementedError

    def start(self) -> None:
        with open(self.output, "ab") as output:
            self.proc = subprocess.Popen(
                self.command(),
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=output,
                cwd=str(self.dir),
            )
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.proc.poll() is not None:
                self.close()
                raise RuntimeError(f"{self.name} exited at start:\n{self.errors()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    self.close()
                    raise RuntimeError(
                        f"{self.name} did not listen on {self.port} within {START_TIMEOUT} s:\n"
                        f"{self.errors()}"
                    ) from None
                time.sleep(0.02)  # polling the port of a starting process: no event to wait on

    def _read(self, path: Path) -> str:
        try:
            return path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def log_text(self) -> str:
        return self._read(self.access_log)

    def errors(self) -> str:
        return self._read(self.output) + self._read(self.error_log)

    def close(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(STOP_TIMEOUT)

    def restart(self) -> None:
        """Stops the process and starts it again on the same port (it binds with SO_REUSEADDR)."""
        self.close()
        self.start()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} 127.0.0.1:{self.port} -> {self.upstream}>"


class Nginx(ReverseProxy):
    name = "nginx"
    config_name = "nginx.conf"

    def command(self) -> list[str]:
        # -e: the error log from the first line on (the compiled-in one needs root)
        return [
            self.binary,
            "-p",
            str(self.dir),
            "-c",
            str(self.config),
            "-e",
            str(self.error_log),
        ]

    def render(self) -> str:
        d = self.dir
        return f"""\
daemon off;
master_process off;
pid {d}/nginx.pid;
error_log {self.error_log} warn;
events {{
    worker_connections 1024;
}}
http {{
    log_format proxied '$request $status $upstream_addr';
    access_log {self.access_log} proxied;
    client_body_temp_path {d}/client_body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;

    map $http_upgrade $connection_upgrade {{
        default upgrade;
        '' close;
    }}

    server {{
        listen 127.0.0.1:{self.port};
        location / {{
            proxy_pass http://{self.upstream};
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_connect_timeout 5s;
            proxy_read_timeout 60s;
            proxy_send_timeout 60s;
            proxy_buffering off;
        }}
    }}
}}
"""


class HAProxy(ReverseProxy):
    name = "haproxy"
    config_name = "haproxy.cfg"

    def command(self) -> list[str]:
        return [self.binary, "-db", "-f", str(self.config)]

    def log_text(self) -> str:
        # HAProxy logs to its stdout (no syslog here), access lines and warnings together
        return self._read(self.output)

    def render(self) -> str:
        return f"""\
global
    maxconn 1024
    log stdout format raw local0 info

defaults
    mode http
    log global
    option httplog
    # the readiness probe connects and closes without a request: no log line for it
    option dontlognull
    option forwardfor
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    # a WebSocket, once upgraded, is a tunnel with its own idle timeout
    timeout tunnel 1h
    timeout http-request 10s

frontend socketio
    bind 127.0.0.1:{self.port}
    default_backend upstream

backend upstream
    server sio {self.upstream}
"""


def _factory(
    cls: type[ReverseProxy], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[Any], ReverseProxy]]:
    started: list[ReverseProxy] = []

    def factory(upstream: Any) -> ReverseProxy:
        proxy = cls(upstream, tmp_path_factory.mktemp(cls.name))
        started.append(proxy)
        return proxy

    try:
        yield factory
    finally:
        for proxy in started:
            proxy.close()


@pytest.fixture
def nginx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[Any], ReverseProxy]]:
    yield from _factory(Nginx, tmp_path_factory)


@pytest.fixture
def haproxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[Any], ReverseProxy]]:
    yield from _factory(HAProxy, tmp_path_factory)
