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
