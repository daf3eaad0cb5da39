"""Connection state recovery (socket.io 4.6+ servers with ``connectionStateRecovery``).

    python examples/recovery.py [--url URL]

The server emits ``tick`` events on a timer and drops the connection in the middle (as a
network cut would); the client comes back with the same session: ``socket.recovered`` is True,
``socket.id`` is unchanged, and the ticks emitted during the gap arrive right after ``connect``,
once each and in order.  No option is needed on the client.

python-socketio does not recover sessions, so without ``--url`` this example starts the Node
test server ``tests/node/server.js`` (socket.io 4.8 with ``connectionStateRecovery``); it needs
``node`` and the packages of ``tests/node`` (``npm ci --prefix tests/node``).  With ``--url``,
the server must answer the events of ``tests/node/server.js`` (``stream``, ``close-engine``).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager

import gevent
from _server import arguments, wait_connected
from gevent import subprocess
from gevent.event import Event

import sioclient

NODE_SERVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "node")


@contextmanager
def node_server() -> Iterator[str]:
    node = shutil.which("node")
    if node is None or not os.path.isdir(os.path.join(NODE_SERVER, "node_modules")):
        raise SystemExit("this example needs node and `npm ci --prefix tests/node`, or --url")
    config = json.dumps({"version": 4, "recovery": True, "pingInterval": 1000})
    proc = subprocess.Popen(
        [node, os.path.join(NODE_SERVER, "server.js"), config],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        with gevent.Timeout(30, RuntimeError("the Node server did not start")):
            line = proc.stdout.readline()
        yield f"http://127.0.0.1:{json.loads(line)['port']}"
    finally:
        assert proc.stdin is not None
        proc.stdin.close()  # the server's signal to stop
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def run(url: str) -> None:
    socket = sioclient.io(url, reconnection_delay=0.5, randomization_factor=0)
    ticks: list[int] = []
    all_in = Event()

    @socket.on("tick")
    def on_tick(i: int) -> None:  # the offset the server appends never reaches a handler
        ticks.append(i)
        if len(ticks) == 30:
            all_in.set()

    socket.on("disconnect", lambda reason: print(f"disconnect: {reason} after {len(ticks)} ticks"))
    socket.on("connect", lambda: print(f"connect: recovered={socket.recovered} id={socket.id}"))
    wait_connected(socket)
    first_id = socket.id

    socket.call("stream", 30, 50)  # `tick` 0..29, one every 50 ms
    gevent.sleep(0.3)  # a few ticks arrive, then the server drops the connection
    socket.emit("close-engine")
    if not all_in.wait(15):
        raise SystemExit(f"only {len(ticks)} ticks arrived")
    print(f"same session: {socket.recovered and socket.id == first_id}")
    print(f"30 ticks, each once and in order: {ticks == list(range(30))}")
    socket.close()


def main() -> None:
    args = arguments(__doc__).parse_args()
    if args.url is not None:
        run(args.url)
        return
    with node_server() as url:
        run(url)


if __name__ == "__main__":
    main()
