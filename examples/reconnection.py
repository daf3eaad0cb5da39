"""Reconnection events: the server goes away, the client retries with backoff, the server
comes back, the client reconnects and sends what was emitted meanwhile.

    python examples/reconnection.py

This one always runs its own echo server, since it stops and restarts it.
"""

from __future__ import annotations

import gevent
from _server import EchoServer, arguments, wait_connected
from gevent.event import AsyncResult, Event

import sioclient


def run() -> None:
    server = EchoServer().start()
    try:
        socket = sioclient.io(
            server.url, reconnection_delay=0.2, reconnection_delay_max=1.0, randomization_factor=0
        )
        manager = socket.io
        # Manager events: fired on the manager and on each of its sockets.
        manager.on("reconnect_attempt", lambda n: print(f"  reconnect_attempt {n}"))
        manager.on("reconnect_error", lambda err: print(f"  reconnect_error {err!r}"))
        socket.on("disconnect", lambda reason: print(f"  disconnect: {reason}"))
        reconnected = AsyncResult()
        socket.on("reconnect", reconnected.set)
        errors = Event()
        manager.on("reconnect_error", lambda err: errors.set())

        wait_connected(socket)
        print("connected, id", socket.id)

        print("stopping the server")
        server.stop()
        if not errors.wait(10):
            raise SystemExit("no reconnect_error")
        # Emits while disconnected are buffered and sent, in order, once connected again.
        pending = AsyncResult()
        socket.emit("echo", "sent while the server was down", pending.set)

        print("starting the server again on the same port")
        server.start()
        print(f"reconnect after {reconnected.get(timeout=15)} attempt(s)")
        # `reconnect` means the connection is back; the namespace's `connect` follows.
        wait_connected(socket)
        print("connected again, new id", socket.id)
        print("buffered emit acked:", pending.get(timeout=5))

        # A manager that gives up: reconnection_attempts bounds the retries.
        socket.close()
        server.stop()
        failed = Event()
        doomed = sioclient.io(
            server.url, reconnection_attempts=2, reconnection_delay=0.1, force_new=True
        )
        doomed.on("reconnect_failed", failed.set)
        doomed.on("connect_error", lambda err: print(f"  connect_error {err!r}"))
        if not failed.wait(15):
            raise SystemExit("no reconnect_failed")
        print("reconnect_failed after 2 attempts")
        doomed.close()
        gevent.sleep(0)
    finally:
        server.stop()


def main() -> None:
    arguments(__doc__).parse_args()
    run()


if __name__ == "__main__":
    main()
