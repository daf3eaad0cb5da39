"""The runnable examples: each one that needs only the embedded echo server runs to completion.

Every example is a subprocess with a time limit; each starts (and stops) its own server.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
TIMEOUT = 90.0

#: example -> (extra arguments, a line its output must contain)
RUNS = {
    "basic.py": ([], "server got our answer back: forty-two"),
    "namespaces.py": ([], "one connection: True"),
    "custom_path.py": ([], "connected to namespace /admin through /myownpath/"),
    "query_auth.py": ([], "query after the reconnect: fgh"),
    "extra_headers.py": ([], "websocket handshake header x-clientid: def"),
    "websocket_only.py": ([], "reconnected; transports now ['polling', 'websocket']"),
    "parsers.py": ([], "custom parser: 3 messages encoded, 3 decoded"),
    "binary.py": ([], "65536 bytes back, equal: True"),
    "reconnection.py": ([], "reconnect_failed after 2 attempts"),
    "gevent_bridge.py": (["--requests", "50"], "50 HTTP requests relayed"),
    "many_clients.py": (["--clients", "20", "--duration", "0.5"], "20/20 clients connected"),
    "demo.py": ([], "closed; bye"),
    "at_least_once.py": ([], "out of retries: TimeoutError"),
    # the Node test server (socket.io 4.8 with connectionStateRecovery)
    "recovery.py": ([], "30 ticks, each once and in order: True"),
}

#: not programs of their own, or covered elsewhere (tests/test_locust.py)
NOT_RUN = {"_server.py", "echo_server.py", "locustfile.py"}


def test_every_example_is_run() -> None:
    scripts = {p.name for p in EXAMPLES.glob("*.py")}
    assert scripts - NOT_RUN == set(RUNS)


#: examples that start the Node test server
NEEDS_NODE = {"recovery.py"}


@pytest.mark.parametrize(
    "script",
    [pytest.param(s, marks=[pytest.mark.node] if s in NEEDS_NODE else []) for s in sorted(RUNS)],
)
def test_example(script: str, request: pytest.FixtureRequest) -> None:
    args, expected = RUNS[script]
    if script in NEEDS_NODE:
        request.getfixturevalue("node_peers")  # node and tests/node/node_modules
    env = dict(os.environ)
    # the package from this tree, also when it is not installed in the environment
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    try:
        done = subprocess.run(
            [sys.executable, str(EXAMPLES / script), *args],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"{script} did not finish in {TIMEOUT} s; output so far:\n{exc.stdout}")
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert expected in done.stdout, output
    assert "Traceback" not in output, output
