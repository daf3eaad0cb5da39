"""The Locust user: ``locust`` runs examples/locustfile.py headless against the echo server.

Locust monkey-patches the process it is imported in, so it only ever runs in a subprocess here.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import selectors
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("locust") is None, reason="locust is not installed"
)

ROOT = Path(__file__).resolve().parent.parent
LOCUSTFILE = ROOT / "examples" / "locustfile.py"
TIMEOUT = 90.0


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


@pytest.fixture
def echo_server() -> Iterator[str]:
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "examples" / "echo_server.py")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    try:
        assert proc.stdout is not None
        with selectors.DefaultSelector() as sel:
            sel.register(proc.stdout, selectors.EVENT_READ)
            assert sel.select(30), "the echo server did not start within 30 s"
        line = proc.stdout.readline()
        assert line, "the echo server exited before listening"
        yield f"http://127.0.0.1:{json.loads(line)['port']}"
    finally:
        assert proc.stdin is not None
        proc.stdin.close()  # the server's signal to stop
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        proc.stdout.close()  # type: ignore[union-attr]


def run_locust(host: str, tmp_path: Path, *extra: str, env: dict[str, str] | None = None):
    prefix = tmp_path / "stats"
    cmd = [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--host", host,
        "--headless", "--users", "20", "--spawn-rate", "20", "--run-time", "3s",
        "--stop-timeout", "5", "--only-summary", "--csv", str(prefix), *extra,
    ]  # fmt: skip
    done = subprocess.run(
        cmd,
        cwd=tmp_path,
        env={**_env(), **(env or {})},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    with open(f"{prefix}_stats.csv", newline="") as f:
        rows = {row["Name"]: row for row in csv.DictReader(f)}
    return done, rows


@pytest.mark.parametrize("transports", ["polling,websocket", "websocket"])
def test_locust_headless(echo_server: str, tmp_path: Path, transports: str) -> None:
    done, rows = run_locust(echo_server, tmp_path, env={"SIO_TRANSPORTS": transports})
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert int(rows["connect"]["Request Count"]) == 20, output
    for name in ("connect", "echo", "echo (binary)"):
        assert rows[name]["Type"] == "socketio"
        assert int(rows[name]["Failure Count"]) == 0, output
    assert int(rows["echo"]["Request Count"]) > 20, output
    # the ack's size is reported as the response length
    assert float(rows["echo (binary)"]["Average Content Size"]) == 1024
    assert "Traceback" not in output, output


def test_locust_unreachable_server(refused_port: int, tmp_path: Path) -> None:
    done, rows = run_locust(f"http://127.0.0.1:{refused_port}", tmp_path)
    output = done.stdout + done.stderr
    assert done.returncode == 1, output  # locust's exit status when requests failed
    connect = rows["connect"]
    assert int(connect["Request Count"]) == 20, output
    assert int(connect["Failure Count"]) == 20, output
    # users carry on after a failed connect; their calls are buffered, never sent, no crash
    assert "Traceback" not in output, output


# ---- against the Node servers: socket.io 2.x and 4.x ----------------------------------------

NODE_USERS = ROOT / "tests" / "locustfiles" / "node_users.py"


def run_users(
    host: str, tmp_path: Path, user: str, *extra: str, users: int = 10, env: dict[str, str]
) -> tuple[subprocess.CompletedProcess[str], dict[tuple[str, str], dict[str, str]]]:
    prefix = tmp_path / "stats"
    cmd = [
        sys.executable, "-m", "locust", "-f", str(NODE_USERS), user, "--host", host,
        "--headless", "--users", str(users), "--spawn-rate", str(users), "--run-time", "3s",
        "--stop-timeout", "5", "--only-summary", "--csv", str(prefix), *extra,
    ]  # fmt: skip
    done = subprocess.run(
        cmd,
        cwd=tmp_path,
        env={**_env(), **env},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    with open(f"{prefix}_stats.csv", newline="") as f:
        rows = {(row["Type"], row["Name"]): row for row in csv.DictReader(f)}
    return done, rows


def count(rows: dict[tuple[str, str], dict[str, str]], kind: str, name: str) -> tuple[int, int]:
    row = rows.get((kind, name))
    if row is None:
        return 0, 0
    return int(row["Request Count"]), int(row["Failure Count"])


@pytest.mark.parametrize("transports", ["websocket", "polling"])
@pytest.mark.parametrize("kind", ["node2", "node4"])
def test_locust_user_node(sio_server: Any, tmp_path: Path, kind: str, transports: str) -> None:
    server = sio_server(kind, pingInterval=500, pingTimeout=500)
    done, rows = run_users(server.url, tmp_path, "EchoUser", env={"SIO_TRANSPORTS": transports})
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert count(rows, "socketio", "connect") == (10, 0), output
    for name in ("ack", "echo (emit)", "echo", "emit-back"):
        requests, failures = count(rows, "socketio", name)
        assert requests > 0 and failures == 0, (name, output)
    # expect(): the latency of the answering event, never more than the run
    assert 0 < float(rows[("socketio", "echo")]["Average Response Time"]) < 3000, output
    # every server event counted by name: one `echo` per `echo` emit, one `pushed` per call
    assert count(rows, "recv", "echo")[0] >= count(rows, "socketio", "echo")[0], output
    assert count(rows, "recv", "pushed")[0] >= count(rows, "socketio", "emit-back")[0], output
    assert float(rows[("recv", "pushed")]["Average Content Size"]) == len("[1,2]")
    assert "Traceback" not in output, output


@pytest.mark.parametrize("kind", ["node2", "node4"])
def test_locust_user_reconnect(sio_server: Any, tmp_path: Path, kind: str) -> None:
    server = sio_server(kind, pingInterval=500, pingTimeout=500)
    done, rows = run_users(server.url, tmp_path, "DropUser", users=5, env={})
    output = done.stdout + done.stderr
    assert done.returncode == 1, output  # the unexpected disconnects are failures
    # each user's connection was closed by the server once: reported, then reconnected
    assert count(rows, "socketio", "disconnect")[1] == 5, output
    assert count(rows, "socketio", "reconnect") == (5, 0), output
    requests, failures = count(rows, "socketio", "ack")
    assert requests > 5 and failures == 0, output
    assert "Traceback" not in output, output


def test_locust_user_local_addresses(sio_server: Any, tmp_path: Path) -> None:
    server = sio_server("node4", pingInterval=500, pingTimeout=500)
    done, rows = run_users(server.url, tmp_path, "SpreadUser", users=6, env={})
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    # the users took the addresses in turn, as the server saw them
    assert count(rows, "from", "127.0.0.1") == (3, 0), output
    assert count(rows, "from", "127.0.0.2") == (3, 0), output
    assert "Traceback" not in output, output


# ---- distributed mode: a master and two workers ---------------------------------------------


def _stop(proc: subprocess.Popen[str], timeout: float = 10.0) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)


def test_locust_distributed(sio_server: Any, tmp_path: Path) -> None:
    from servers import free_port

    server = sio_server("node4", pingInterval=500, pingTimeout=500)
    port = free_port()
    base = [sys.executable, "-m", "locust", "-f", str(NODE_USERS), "EchoUser", "--host", server.url]
    logs = [open(tmp_path / f"worker{i}.log", "w+") for i in range(2)]
    workers = [
        subprocess.Popen(
            [*base, "--worker", "--master-host", "127.0.0.1", "--master-port", str(port)],
            cwd=tmp_path,
            env=_env(),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for log in logs
    ]
    try:
        prefix = tmp_path / "master"
        master = subprocess.run(
            [
                *base,
                "--master",
                "--master-bind-host",
                "127.0.0.1",
                "--master-bind-port",
                str(port),
                "--expect-workers",
                "2",
                "--expect-workers-max-wait",
                "30",
                "--headless",
                "--users",
                "10",
                "--spawn-rate",
                "10",
                "--run-time",
                "3s",
                "--stop-timeout",
                "5",
                "--only-summary",
                "--csv",
                str(prefix),
            ],  # fmt: skip
            cwd=tmp_path,
            env=_env(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
        # the master's quit message ends the workers
        for w in workers:
            w.wait(15)
    finally:
        for w in workers:
            _stop(w)
    worker_output = ""
    for log in logs:
        log.seek(0)
        worker_output += log.read()
        log.close()
    output = master.stdout + master.stderr + worker_output
    assert master.returncode == 0, output
    assert [w.returncode for w in workers] == [0, 0], output
    with open(f"{prefix}_stats.csv", newline="") as f:
        rows = {(row["Type"], row["Name"]): row for row in csv.DictReader(f)}
    # both workers ran users, and the master aggregated what each reported
    assert count(rows, "worker", "0") == (5, 0), output
    assert count(rows, "worker", "1") == (5, 0), output
    assert count(rows, "socketio", "connect") == (10, 0), output
    for name in ("ack", "echo", "emit-back"):
        requests, failures = count(rows, "socketio", name)
        assert requests > 10 and failures == 0, (name, output)
    assert int(rows[("", "Aggregated")]["Failure Count"]) == 0, output
    assert "Traceback" not in output, output


RESPONSE_LENGTH_SCRIPT = """
import json, sys
from sioclient.contrib.locust import SocketIOClient, _size

class Event:
    def __init__(self):
        self.fired = []
    def fire(self, **kw):
        self.fired.append(kw)

class Answering:
    value = None
    connected = True
    def call(self, event, *args, timeout=None):
        return self.value

values = [None, "héllo", b"ab", {"text": "hello", "n": 42}, {1: "int key"}, {"b": b"x"},
          [1, 2.5, "x"], {"big": 2 ** 70}, 7]
event = Event()
client = SocketIOClient(event, "http://127.0.0.1:9")
client.socket = Answering()
for value in values:
    client.socket.value = value
    assert client.call("ack", 1) is value
print(json.dumps([[kw["response_length"], _size(v)] for kw, v in zip(event.fired, values)]))
"""


def test_call_reports_the_answer_size() -> None:
    """``call()`` reports the ack's JSON size as ``_size`` measures it, whatever the answer."""
    done = subprocess.run(
        [sys.executable, "-c", RESPONSE_LENGTH_SCRIPT],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=_env(),
        cwd=str(ROOT),
    )
    assert done.returncode == 0, done.stderr
    pairs = json.loads(done.stdout)
    assert all(reported == expected for reported, expected in pairs), pairs
    assert pairs[3][0] == len('{"text":"hello","n":42}')
    assert pairs[4][0] == len('{"1":"int key"}')
