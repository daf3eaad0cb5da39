"""Real Socket.IO servers for the tests, run as subprocesses, and the fixtures that own them.

Kinds: ``node2`` (socket.io 2.5, Engine.IO 3), ``node3`` (3.1), ``node4`` (4.8),
``node4-eio3`` (4.8 with ``allowEIO3``), ``python`` (python-socketio on gevent),
``python-asgi`` (python-socketio's AsyncServer under uvicorn), ``python-aiohttp`` (the
AsyncServer attached to an aiohttp application) and ``flask`` (Flask-SocketIO on gevent).
Every kind but ``flask`` answers the same events (``tests/node/README.md``); ``flask`` answers
the subset its handlers are written for (``tests/flaskserver.py``).  ``any_server`` runs a module on the kinds of ``KINDS``; the
others, which differ from ``python`` in their web server, are asked for by name.  A server is a child process that exits when its stdin closes, so a test
run that dies leaves none behind.

Waits here are cooperative (a gevent I/O watcher on the child's stdout) so that client greenlets
in the test process keep running while a server starts, stops or restarts; unlike ``select()``
they work whatever the descriptor's number (a process holding thousands of client sockets).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import gevent
import gevent.socket
import pytest

__all__ = [
    "ALL_KINDS",
    "KINDS",
    "NODE_DIR",
    "ServerProcess",
    "ServerStartError",
    "SilentServer",
    "TLSFiles",
    "any_server",
    "free_port",
    "node_peers",
    "refused_port",
    "silent_server",
    "sio_server",
    "tls_files",
]

TESTS_DIR = Path(__file__).resolve().parent
NODE_DIR = TESTS_DIR / "node"
NODE_SCRIPT = NODE_DIR / "server.js"
PY_SCRIPT = TESTS_DIR / "pyserver.py"
ASGI_SCRIPT = TESTS_DIR / "asgiserver.py"
AIOHTTP_SCRIPT = TESTS_DIR / "aiohttpserver.py"
FLASK_SCRIPT = TESTS_DIR / "flaskserver.py"
_PY_SCRIPTS = {
    "python": PY_SCRIPT,
    "python-asgi": ASGI_SCRIPT,
    "python-aiohttp": AIOHTTP_SCRIPT,
    "flask": FLASK_SCRIPT,
}

KINDS = ("node2", "node3", "node4", "node4-eio3", "python")
#: every kind ServerProcess starts
ALL_KINDS = (*KINDS, "python-asgi", "python-aiohttp", "flask")
_KIND_CONFIG: dict[str, dict[str, Any]] = {
    "node2": {"version": 2},
    "node3": {"version": 3},
    "node4": {"version": 4},
    "node4-eio3": {"version": 4, "allowEIO3": True},
    "python": {},
    "python-asgi": {},
    "python-aiohttp": {},
    "flask": {},
}

START_TIMEOUT = 15.0
STOP_TIMEOUT = 5.0
# How long restart() keeps retrying a bind that fails with EADDRINUSE.
REBIND_TIMEOUT = 5.0


class ServerStartError(RuntimeError):
    """The server process did not report that it listens; ``code`` is e.g. 'EADDRINUSE'."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


def _readable(fd: int, timeout: float) -> bool:
    """Waits (cooperatively, at most ``timeout`` s) until ``fd`` can be read."""
    try:
        gevent.socket.wait_read(fd, timeout=max(0.0, timeout))
    except socket.timeout:
        return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago (the OS picked it)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class ServerProcess:
    """One test server child process.

    ``ServerProcess('node4', pingInterval=500).start()``; then ``port``, ``url``,
    ``stop()``, ``restart()`` (same port).  The config keys are those of ``tests/node/server.js``
    (JavaScript names, milliseconds); ``kind`` adds the generation.
    """

    def __init__(self, kind: str = "node4", **config: Any) -> None:
        if kind not in _KIND_CONFIG:
            raise ValueError(f"unknown server kind {kind!r}; expected one of {ALL_KINDS}")
        self.kind = kind
        self.config: dict[str, Any] = {**_KIND_CONFIG[kind], **config}
        self.host: str = self.config.get("host") or "127.0.0.1"
        self.port: int | None = None
        self.process: subprocess.Popen | None = None
        self._stderr: Any = None

    # -- what tests read ------------------------------------------------------------------

    @property
    def is_node(self) -> bool:
        return self.kind.startswith("node")

    @property
    def protocol(self) -> int:
        """Socket.IO revision the server speaks natively: 4 for 2.x, 5 otherwise."""
        return 4 if self.kind == "node2" else 5

    @property
    def eio(self) -> int:
        """Engine.IO revision of the server's native handshake (the ``EIO`` query value)."""
        return 3 if self.kind == "node2" else 4

    @property
    def protocols(self) -> tuple[int, ...]:
        """Socket.IO revisions the server accepts."""
        if self.kind == "node2":
            return (4,)
        if self.config.get("allowEIO3") and self.is_node:
            return (4, 5)
        return (5,)

    @property
    def tls(self) -> bool:
        return bool(self.config.get("cert"))

    @property
    def url(self) -> str:
        if self.port is None:
            raise RuntimeError("server not started")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}"

    @property
    def path(self) -> str:
        return self.config.get("path") or "/socket.io"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stderr_text(self) -> str:
        """What the server wrote to stderr so far (logs with ``debug=True``, crashes)."""
        if self._stderr is None:
            return ""
        self._stderr.flush()
        self._stderr.seek(0)
        return self._stderr.read().decode("utf-8", "replace")

    # -- lifecycle ------------------------------------------------------------------------

    def command(self) -> list[str]:
        config = dict(self.config)
        if self.port is not None:
            config["port"] = self.port
        arg = json.dumps(config)
        if self.is_node:
            node = shutil.which("node")
            if node is None:
                raise ServerStartError("node is not installed (needed for the Node test servers)")
            return [node, str(NODE_SCRIPT), arg]
        return [sys.executable, str(_PY_SCRIPTS[self.kind]), arg]

    def start(self, timeout: float = START_TIMEOUT) -> ServerProcess:
        """Starts the process and waits (bounded) for its listening line."""
        if self.running:
            raise RuntimeError("server already running")
        self._close_stderr()
        self._stderr = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            self.command(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            cwd=str(NODE_DIR if self.is_node else TESTS_DIR),
        )
        try:
            line = self._read_line(timeout)
        except BaseException:
            self.stop()
            raise
        event = json.loads(line)
        if event.get("event") != "listening":
            code = event.get("code")
            self.stop()
            raise ServerStartError(f"{self.kind} server failed to listen: {event}", code)
        self.port = int(event["port"])
        return self

    def _read_line(self, timeout: float) -> str:
        assert self.process is not None and self.process.stdout is not None
        fd = self.process.stdout.fileno()
        deadline = time.monotonic() + timeout
        buf = b""
        while b"\n" not in buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ServerStartError(
                    f"{self.kind} server did not listen within {timeout} s\n{self.stderr_text()}"
                )
            if not _readable(fd, left):
                continue
            chunk = os.read(fd, 4096)
            if not chunk:
                self.process.wait(timeout=STOP_TIMEOUT)
                raise ServerStartError(
                    f"{self.kind} server exited with {self.process.returncode} before "
                    f"listening\n{self.stderr_text()}"
                )
            buf += chunk
        return buf.split(b"\n", 1)[0].decode()

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """SIGTERM, a bounded wait, then SIGKILL; the process is always reaped."""
        proc, self.process = self.process, None
        if proc is None:
            return
        try:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                if not self._wait_exit(proc, timeout):
                    proc.kill()
                    proc.wait(timeout=timeout)
            else:
                proc.wait()
        finally:
            for pipe in (proc.stdin, proc.stdout):
                if pipe is not None:
                    try:
                        pipe.close()
                    except OSError:
                        pass

    @staticmethod
    def _wait_exit(proc: subprocess.Popen, timeout: float) -> bool:
        # The child's stdout reaches EOF when it exits: wait for that cooperatively, then reap.
        deadline = time.monotonic() + timeout
        fd = proc.stdout.fileno() if proc.stdout is not None else None
        while fd is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            if _readable(fd, left) and not os.read(fd, 4096):
                break
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            return False
        return True

    def restart(self, timeout: float = START_TIMEOUT) -> ServerProcess:
        """Stops the server and starts it again on the same port (same config).

        Both Node and gevent listen with SO_REUSEADDR, so TIME_WAIT connections do not block
        the bind; a short retry still covers a port that is briefly busy.
        """
        if self.port is None:
            raise RuntimeError("restart() needs a server that was started")
        self.stop()
        deadline = time.monotonic() + REBIND_TIMEOUT
        while True:
            try:
                return self.start(timeout)
            except ServerStartError as exc:
                if exc.code != "EADDRINUSE" or time.monotonic() > deadline:
                    raise
                gevent.sleep(0.1)  # back-off between bind attempts, not a synchronisation

    def _close_stderr(self) -> None:
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def close(self) -> None:
        """Stops the process and releases its log file."""
        self.stop()
        self._close_stderr()

    def __enter__(self) -> ServerProcess:
        return self if self.running else self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = f"port={self.port}" if self.running else "stopped"
        return f"<ServerProcess {self.kind} {state}>"


# -- pytest fixtures --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def node_peers() -> Path:
    """Makes sure node is there and tests/node/node_modules is installed (npm ci once)."""
    if shutil.which("node") is None:
        pytest.fail("node is not installed: the Node test servers need Node.js >= 14", False)
    if not (NODE_DIR / "node_modules").is_dir():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("npm is not installed and tests/node/node_modules is missing", False)
        result = subprocess.run(
            [npm, "ci", "--prefix", str(NODE_DIR)],
            capture_output=True,
            text=True,
            timeout=300,
        )
        if result.returncode != 0:
            pytest.fail(f"npm ci in tests/node failed:\n{result.stderr[-4000:]}", False)
    return NODE_DIR


def _kind_params() -> list[Any]:
    return [
        pytest.param(k, id=k, marks=[pytest.mark.node] if k.startswith("node") else [])
        for k in KINDS
    ]


@pytest.fixture
def sio_server(request: pytest.FixtureRequest) -> Iterator[Callable[..., ServerProcess]]:
    """Factory: ``sio_server(kind='node4', **config)`` starts a server; all stop at teardown."""
    started: list[ServerProcess] = []

    def factory(kind: str = "node4", **config: Any) -> ServerProcess:
        if kind.startswith("node"):
            request.getfixturevalue("node_peers")
        server = ServerProcess(kind, **config)
        started.append(server)
        return server.start()

    yield factory
    for server in started:
        server.close()


@pytest.fixture(scope="module", params=_kind_params())
def any_server(request: pytest.FixtureRequest) -> Iterator[ServerProcess]:
    """One server of each kind (default config), shared by the tests of a module."""
    if request.param.startswith("node"):
        request.getfixturevalue("node_peers")
    server = ServerProcess(request.param).start()
    try:
        yield server
    finally:
        server.close()


@dataclass(frozen=True)
class TLSFiles:
    """PEM files for TLS tests; ``ca`` is the trustme CA (``ca.configure_trust(ctx)``)."""

    ca: Any
    ca_cert: str  # CA bundle that trusts cert and client_cert
    cert: str  # server certificate for 127.0.0.1, ::1 and localhost
    key: str
    wrong_host_cert: str  # valid chain, but for another host name only
    wrong_host_key: str
    client_cert: str  # client certificate (for servers started with clientCa)
    client_key: str

    def server_config(self, wrong_host: bool = False, client_auth: bool = False) -> dict:
        """Keyword arguments for ``sio_server`` that make it an HTTPS server."""
        cfg = {
            "cert": self.wrong_host_cert if wrong_host else self.cert,
            "key": self.wrong_host_key if wrong_host else self.key,
        }
        if client_auth:
            cfg["clientCa"] = self.ca_cert
        return cfg


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TLSFiles:
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    d = tmp_path_factory.mktemp("tls")

    def write(name: str, blob: Any) -> str:
        path = d / name
        blob.write_to_path(str(path))
        return str(path)

    good = ca.issue_cert("127.0.0.1", "::1", "localhost")
    wrong = ca.issue_cert("wrong.example")
    client = ca.issue_cert("client@example.org")
    return TLSFiles(
        ca=ca,
        ca_cert=write("ca.pem", ca.cert_pem),
        cert=write("server.pem", good.cert_chain_pems[0]),
        key=write("server.key", good.private_key_pem),
        wrong_host_cert=write("wrong.pem", wrong.cert_chain_pems[0]),
        wrong_host_key=write("wrong.key", wrong.private_key_pem),
        client_cert=write("client.pem", client.cert_chain_pems[0]),
        client_key=write("client.key", client.private_key_pem),
    )


class SilentServer:
    """A TCP port whose connections complete but are never answered.

    It listens and never calls accept(): the kernel finishes the TCP handshake and queues the
    connection, so a client connects, may write, and waits forever for a reply.  Closing the
    listener resets the queued connections.
    """

    def __init__(self, host: str = "127.0.0.1", backlog: int = 128) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.host = host
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.bind((host, 0))
        self.sock.listen(backlog)
        self.port: int = self.sock.getsockname()[1]

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def silent_server() -> Iterator[SilentServer]:
    server = SilentServer()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def refused_port() -> Iterator[int]:
    """A 127.0.0.1 port that refuses connections.

    The port stays bound (not listening) for the test's duration, so nothing else can take it
    and connecting gets ECONNREFUSED.
    """
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    try:
        yield s.getsockname()[1]
    finally:
        s.close()
