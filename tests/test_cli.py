"""The ``sioclient`` command, run as a subprocess against the real test servers.

Every command is ``python -m sioclient ...`` with this checkout first on ``PYTHONPATH``; each
run has a time bound (``subprocess.run(timeout=...)`` kills the child when it passes) and every
process a test starts is killed and reaped by it.  Interactive runs are driven through pipes,
read with cooperative, bounded waits.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import gevent.socket
import pytest

from sioclient.cli import parse_line, shown_url, to_json

ROOT = Path(__file__).resolve().parent.parent
#: the bound of one command; generous, as the machine may be loaded
RUN_TIMEOUT = 60.0
WAIT = 15.0


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"
    return env


def cli(*args: str, input: str | None = None, timeout: float = RUN_TIMEOUT) -> Any:
    """Runs ``python -m sioclient args...`` to its end (killed after ``timeout``)."""
    return subprocess.run(
        [sys.executable, "-m", "sioclient", *args],
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=str(ROOT),
        env=_env(),
    )


class Interactive:
    """A running ``sioclient`` with pipes; lines are read with cooperative, bounded waits."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sioclient", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=str(ROOT),
            env=_env(),
        )
        self._buf: dict[int, bytes] = {}

    def write(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write((line + "\n").encode())
        self.proc.stdin.flush()

    def read_line(self, stream: Any, timeout: float = WAIT) -> str:
        fd = stream.fileno()
        buf = self._buf.get(fd, b"")
        deadline = time.monotonic() + timeout
        while b"\n" not in buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no line within {timeout} s; so far {buf!r}")
            try:
                gevent.socket.wait_read(fd, timeout=left)
            except socket.timeout:
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                raise AssertionError(f"end of output; so far {buf!r}")
            buf += chunk
        line, rest = buf.split(b"\n", 1)
        self._buf[fd] = rest
        return line.decode()

    def stdout_line(self, timeout: float = WAIT) -> str:
        return self.read_line(self.proc.stdout, timeout)

    def stderr_line(self, timeout: float = WAIT) -> str:
        return self.read_line(self.proc.stderr, timeout)

    def wait(self, timeout: float = WAIT) -> int:
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None:
            if time.monotonic() > deadline:
                raise AssertionError(f"still running after {timeout} s")
            gevent.sleep(0.05)  # polls the child's exit; the deadline bounds it
        return self.proc.returncode

    def rest(self) -> tuple[str, str]:
        """What is left on stdout and stderr (the process has ended)."""
        assert self.proc.stdout is not None and self.proc.stderr is not None
        out = self._buf.pop(self.proc.stdout.fileno(), b"") + self.proc.stdout.read()
        err = self._buf.pop(self.proc.stderr.fileno(), b"") + self.proc.stderr.read()
        return out.decode(), err.decode()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=WAIT)
        for pipe in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if pipe is not None:
                try:
                    pipe.close()
                except OSError:
                    pass


@pytest.fixture
def interactive() -> Iterator[Any]:
    started: list[Interactive] = []

    def start(*args: str) -> Interactive:
        proc = Interactive(*args)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.stop()


def _server(sio_server: Any, kind: str) -> Any:
    return sio_server(kind, pingInterval=500, pingTimeout=500)


KINDS = [
    pytest.param("node4", marks=pytest.mark.node),
    pytest.param("node2", marks=pytest.mark.node),
    "python",
]


# ---- in-process pieces (no network) -------------------------------------------------------


def test_parse_line() -> None:
    assert parse_line('echo "hi" {"a": [1, 2]} 3') == (False, "echo", ["hi", {"a": [1, 2]}, 3])
    assert parse_line("?count") == (True, "count", [])
    assert parse_line("? echo null  true") == (True, "echo", [None, True])
    with pytest.raises(ValueError, match="argument 2 is not JSON"):
        parse_line("echo 1 hello")
    with pytest.raises(ValueError):
        parse_line("?")


def test_to_json_and_shown_url() -> None:
    assert to_json(["é", b"\x00\x01", (1, 2)]) == '["é",{"$binary":"AAE="},[1,2]]'
    assert shown_url("http://user:pw@host:3000/admin?token=abc") == "http://host:3000/admin"
    assert shown_url("http://[::1]:3000") == "http://[::1]:3000/"


# ---- emit, call, listen -------------------------------------------------------------------


@pytest.mark.parametrize("transport", ["polling", "websocket"])
@pytest.mark.parametrize("kind", KINDS)
def test_call_prints_the_ack_as_json(sio_server: Any, kind: str, transport: str) -> None:
    server = _server(sio_server, kind)
    result = cli(
        "call", server.url + "/admin", "echo", '"hi"', '{"a":[1,2]}', "--transports", transport
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == ["hi", {"a": [1, 2]}]
    assert result.stderr == ""

    one = cli("call", server.url, "count", "--transports", transport)
    assert one.returncode == 0, one.stderr
    assert json.loads(one.stdout) == 1


@pytest.mark.node
@pytest.mark.parametrize(
    "kind,transport", [("node4", "polling"), ("node4", "websocket"), ("node2", "polling")]
)
def test_emit_reaches_the_server(
    sio_server: Any, tmp_path: Path, kind: str, transport: str
) -> None:
    record = tmp_path / "received.jsonl"
    server = sio_server(kind, record=str(record))
    result = cli("emit", server.url + "/custom", "echo", '"hello"', "42", "--transports", transport)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    server.stop()  # the record file is complete once the server has stopped
    lines = [json.loads(line) for line in record.read_text().splitlines()]
    assert lines == [["/custom", "echo", ["hello", 42]]]


@pytest.mark.parametrize("kind", KINDS)
def test_listen_prints_events_as_json_lines(sio_server: Any, kind: str) -> None:
    server = _server(sio_server, kind)
    result = cli("listen", server.url, "--emit", 'flood 3 "x"', "--count", "3")
    assert result.returncode == 0, result.stderr
    assert [json.loads(line) for line in result.stdout.splitlines()] == [
        {"event": "flood", "args": [i, "x"]} for i in range(3)
    ]
    assert "connected to" in result.stderr

    only = cli("listen", server.url, "flood-done", "-q", "--emit", 'flood 5 "y"', "--count", "1")
    assert only.returncode == 0, only.stderr
    assert only.stdout.splitlines() == ['{"event":"flood-done","args":[5]}']
    assert only.stderr == ""


@pytest.mark.node
def test_listen_marks_events_that_ask_for_an_ack(sio_server: Any) -> None:
    server = _server(sio_server, "node4")
    result = cli("listen", server.url, "--emit", 'server-ack "question" 1', "--count", "1")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"event": "question", "args": [1], "ack": True}


# ---- connect: interactive through a pipe --------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_connect_reads_lines_and_prints_events(sio_server: Any, kind: str) -> None:
    server = _server(sio_server, kind)
    lines = [
        'echo "hi" 1',
        "not-json hello",
        '?ack {"a": [1, 2]}',
        'emit-back "news" "x"',
        "?count",
    ]
    result = cli("connect", server.url, input="\n".join(lines) + "\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout.splitlines()
    assert '< echo "hi" 1' in out
    assert 'ack ack {"a":[1,2]}' in out
    assert '< news "x"' in out
    assert "ack count 1" in out
    assert "argument 1 is not JSON" in result.stderr
    assert "connected to" in result.stderr


@pytest.mark.parametrize("kind", KINDS)
def test_connect_stays_responsive_while_stdin_is_idle(
    sio_server: Any, interactive: Any, kind: str
) -> None:
    """stdin open and silent: events still arrive, and a server disconnect ends the command."""
    server = _server(sio_server, kind)
    proc = interactive("connect", server.url, "--transports", "websocket")
    assert "connected to" in proc.stderr_line()
    proc.write('?echo "one"')
    assert sorted([proc.stdout_line(), proc.stdout_line()]) == ['< echo "one"', 'ack echo "one"']
    proc.write("disconnect-me")  # the server disconnects; stdin stays open
    assert proc.wait() == 1
    out, err = proc.rest()
    assert err.strip() == "sioclient: error: disconnected: io server disconnect"


@pytest.mark.node
def test_ctrl_c_exits_130(sio_server: Any, interactive: Any) -> None:
    server = _server(sio_server, "node4")
    proc = interactive("listen", server.url)
    assert "connected to" in proc.stderr_line()
    proc.proc.send_signal(signal.SIGINT)
    assert proc.wait() == 130


# ---- exit codes ---------------------------------------------------------------------------


def test_refused_connection_exits_1(refused_port: int) -> None:
    for command in (["call", "x"], ["emit", "x"], ["listen"], ["connect"]):
        result = cli(command[0], f"http://127.0.0.1:{refused_port}", *command[1:], input="")
        assert result.returncode == 1, (command, result.stderr)
        assert result.stderr.startswith("sioclient: error: cannot connect")
        assert result.stderr.count("\n") == 1, result.stderr  # one line
        assert result.stdout == ""


def test_connect_timeout_exits_3(silent_server: Any) -> None:
    result = cli("call", silent_server.url, "echo", "--timeout", "0.5")
    assert result.returncode == 3, result.stderr
    assert "timed out" in result.stderr


@pytest.mark.parametrize("kind", KINDS)
def test_ack_timeout_exits_3(sio_server: Any, kind: str) -> None:
    server = _server(sio_server, kind)
    result = cli("call", server.url, "nobody-answers", "--timeout", "0.5")
    assert result.returncode == 3, result.stderr
    assert result.stderr.strip() == "sioclient: error: no ack for 'nobody-answers' within 0.5 s"

    listen = cli("listen", server.url, "--timeout", "0.5", "--count", "1")
    assert listen.returncode == 3, listen.stderr
    assert "0 of 1 events within 0.5 s" in listen.stderr

    quiet = cli("listen", server.url, "--timeout", "0.5")  # no --count: a duration
    assert quiet.returncode == 0, quiet.stderr


@pytest.mark.parametrize("kind", KINDS)
def test_refused_namespace_exits_1(sio_server: Any, kind: str) -> None:
    server = _server(sio_server, kind)
    result = cli("call", server.url + "/private", "count")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"sioclient: error: cannot connect to {server.url}/private: not authorized"
    )
    ok = cli("call", server.url + "/private", "count", "--query", "token=secret")
    assert ok.returncode == 0, ok.stderr


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["call"],
        ["call", "http://127.0.0.1:1"],
        ["call", "http://127.0.0.1:1", "echo", "hello"],  # not JSON
        ["emit", "http://127.0.0.1:1", "echo", "--query", "novalue"],
        ["emit", "http://127.0.0.1:1", "echo", "--auth", "[1]"],
        ["emit", "http://127.0.0.1:1", "echo", "--transports", "carrier-pigeon"],
        ["emit", "http://127.0.0.1:1", "echo", "--header", "Host: x"],
        ["listen", "http://127.0.0.1:1", "--count", "0"],
        ["bench", "http://127.0.0.1:1", "--clients", "-1"],
        ["nonsense"],
    ],
)
def test_usage_errors_exit_2(args: list[str]) -> None:
    result = cli(*args)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("sioclient")
    assert result.stderr.count("\n") == 1, result.stderr  # one line
    assert result.stdout == ""


# ---- secrets ------------------------------------------------------------------------------


SECRETS = ("urlsecret123", "querysecret456", "authsecret789", "headersecretABC", "bearerXYZ987")


def _secret_args(url: str) -> list[str]:
    return [
        f"{url}/private?token=urlsecret123",
        "count",
        "--query",
        "key=querysecret456",
        "--auth",
        '{"token": "authsecret789"}',
        "--header",
        "x-api-key: headersecretABC",
        "--header",
        "Authorization: Bearer bearerXYZ987",
    ]


def _assert_no_secret(result: Any) -> None:
    for secret in SECRETS:
        assert secret not in result.stdout
        assert secret not in result.stderr


@pytest.mark.parametrize("kind", KINDS)
def test_secrets_are_not_printed(sio_server: Any, kind: str) -> None:
    server = _server(sio_server, kind)
    refused = cli("call", *_secret_args(server.url))  # wrong token: a refusal
    assert refused.returncode == 1
    assert "not authorized" in refused.stderr
    _assert_no_secret(refused)


def test_secrets_are_not_printed_when_unreachable(refused_port: int) -> None:
    result = cli("call", *_secret_args(f"http://127.0.0.1:{refused_port}"))
    assert result.returncode == 1
    assert "cannot connect" in result.stderr
    _assert_no_secret(result)

    usage = cli("emit", "http://127.0.0.1:1", "x", "--query", "querysecret456")
    assert usage.returncode == 2
    _assert_no_secret(usage)
    bad_header = cli(
        "emit", "http://127.0.0.1:1", "x", "--header", "x-k: headersecretABC\r\nfoo: bar"
    )
    assert bad_header.returncode == 2
    _assert_no_secret(bad_header)


# ---- bench --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_bench_json_with_percentiles(sio_server: Any, tmp_path: Path, kind: str) -> None:
    pytest.importorskip("hdrh")
    server = _server(sio_server, kind)
    args = ["bench", server.url, "--clients", "5", "--duration", "1", "--json"]
    plot = tmp_path / "bench.png"
    try:
        import matplotlib  # noqa: F401

        args += ["--plot", str(plot)]
    except ImportError:
        plot = None  # type: ignore[assignment]
    result = cli(*args)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["clients"] == report["connected"] == 5
    assert report["calls"] > 0
    assert report["errors"] == {}
    assert report["calls_per_s"] > 0
    latency = report["latency_ms"]
    for key in ("min", "p50", "p90", "p99", "p99.9", "max"):
        assert latency[key] > 0
    assert latency["min"] <= latency["p50"] <= latency["p99"] <= latency["max"]
    assert report["timeline"] and report["timeline"][0]["calls"] > 0
    assert "\r" not in result.stderr  # not a terminal: no progress line unless asked
    if plot is not None:
        assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.node
def test_bench_rate_and_progress(sio_server: Any) -> None:
    pytest.importorskip("hdrh")
    server = _server(sio_server, "node4")
    result = cli(
        "bench",
        server.url,
        "ack",
        '{"n": 1}',
        "-c",
        "2",
        "-r",
        "20",
        "-d",
        "1.5",
        "--progress",
        "--transports",
        "websocket",
    )
    assert result.returncode == 0, result.stderr
    assert "calls acknowledged" in result.stdout
    assert "p99" in result.stdout
    assert "calls/s" in result.stderr  # the progress lines
    calls = int(result.stdout.split(" calls acknowledged")[0].split()[-1].replace(",", ""))
    # 2 clients x 20/s x 1.5 s = 60 slots; paced, so never far above, and not starved
    assert 10 <= calls <= 70


def test_bench_refused_exits_1(refused_port: int) -> None:
    pytest.importorskip("hdrh")
    result = cli("bench", f"http://127.0.0.1:{refused_port}", "-c", "2", "-d", "1")
    assert result.returncode == 1
    assert result.stderr.startswith("sioclient: error: no client could connect")


def test_version_and_help() -> None:
    result = cli("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("sioclient ")
    assert "Exit status" in cli("--help").stdout


# ---- the library's options as flags -------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_path_parser_and_transport_flags(sio_server: Any, kind: str) -> None:
    server = sio_server(kind, path="/custom-path", parser="msgpack")
    result = cli(
        "call",
        server.url + "/admin",
        "get-handshake",
        "--path",
        "/custom-path",
        "--parser",
        "msgpack",
        "--transports",
        "websocket",
        "--query",
        "room=blue",
        "--header",
        "x-team: red",
    )
    assert result.returncode == 0, result.stderr
    handshake = json.loads(result.stdout)
    assert handshake["nsp"] == "/admin"
    assert handshake["transport"] == "websocket"
    assert handshake["query"]["room"] == "blue"
    assert handshake["headers"]["x-team"] == "red"


@pytest.mark.node
def test_protocol_flag(sio_server: Any) -> None:
    server = _server(sio_server, "node2")
    result = cli(
        "call", server.url, "get-handshake", "--protocol", "4", "--transports", "websocket"
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["eio"] == 3
    newer = cli("call", server.url, "count", "--protocol", "5", "--timeout", "2")
    assert newer.returncode in (1, 3), newer.stderr


@pytest.mark.node
def test_tls_flags(sio_server: Any, tls_files: Any) -> None:
    server = sio_server("node4", **tls_files.server_config(client_auth=True))
    client = ["--cert", tls_files.client_cert, "--key", tls_files.client_key]
    trusted = cli("call", server.url, "echo", "1", "--ca", tls_files.ca_cert, *client)
    assert trusted.returncode == 0, trusted.stderr
    assert trusted.stdout.strip() == "1"
    insecure = cli("call", server.url, "echo", "2", "--insecure", *client)
    assert insecure.returncode == 0, insecure.stderr
    untrusted = cli("call", server.url, "echo", "3", *client)
    assert untrusted.returncode == 1
    assert "certificate" in untrusted.stderr.lower()
    missing = cli("call", server.url, "echo", "4", "--ca", "/nonexistent/ca.pem")
    assert missing.returncode == 2


# ---- pipes --------------------------------------------------------------------------------


@pytest.mark.node
def test_listen_ends_quietly_when_its_reader_goes_away(sio_server: Any) -> None:
    server = _server(sio_server, "node4")
    proc = subprocess.Popen(
        [sys.executable, "-m", "sioclient", "listen", server.url, "-q", "--emit", 'flood 5000 "x"'],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=str(ROOT),
        env=_env(),
    )
    try:
        assert proc.stdout is not None and proc.stderr is not None
        first = proc.stdout.readline()  # blocks this test only; bounded by the flood
        assert json.loads(first)["event"] == "flood"
        proc.stdout.close()  # as `| head -1` does
        assert proc.wait(timeout=WAIT) == 0
        assert proc.stderr.read() == b""
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=WAIT)
        proc.stderr.close()  # type: ignore[union-attr]


@pytest.mark.node
def test_connect_with_stdin_from_a_file_or_dev_null(sio_server: Any, tmp_path: Path) -> None:
    server = _server(sio_server, "node4")
    lines = tmp_path / "lines.txt"
    lines.write_text('?echo "from a file"\n')
    with open(lines) as stdin:
        result = subprocess.run(
            [sys.executable, "-m", "sioclient", "connect", server.url],
            stdin=stdin,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
            cwd=str(ROOT),
            env=_env(),
        )
    assert result.returncode == 0, result.stderr
    assert 'ack echo "from a file"' in result.stdout.splitlines()
    with open(os.devnull) as stdin:
        empty = subprocess.run(
            [sys.executable, "-m", "sioclient", "connect", server.url],
            stdin=stdin,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
            cwd=str(ROOT),
            env=_env(),
        )
    assert empty.returncode == 0, empty.stderr


@pytest.mark.node
def test_proxy_flags(sio_server: Any, tinyproxy: Any) -> None:
    server = _server(sio_server, "node4")
    proxy = tinyproxy(auth=("sio-user", "pr0xy-s3cret"))
    through = cli(
        "call",
        server.url,
        "echo",
        '"tunnelled"',
        "--proxy",
        proxy.url(),
        "--transports",
        "websocket",
    )
    assert through.returncode == 0, through.stderr
    assert json.loads(through.stdout) == "tunnelled"
    assert server.url.split("://", 1)[1] in proxy.tunnels()

    wrong = cli(
        "call",
        server.url,
        "echo",
        "1",
        "--proxy",
        proxy.url(auth=("sio-user", "wr0ng-s3cret")),
        "--timeout",
        "5",
    )
    assert wrong.returncode == 1, wrong.stderr
    assert "wr0ng-s3cret" not in wrong.stderr + wrong.stdout
    assert wrong.stderr.count("\n") == 1

    both = cli("call", server.url, "echo", "--proxy", proxy.url(), "--no-proxy")
    assert both.returncode == 2
    assert "pr0xy-s3cret" not in both.stderr
