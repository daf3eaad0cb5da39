"""Locust users for the tests (tests/test_locust.py), against the Node test servers.

``EchoUser`` calls with an ack, emits and expects the server's answering event, and receives
pushed events (on a Locust worker it also reports a ``worker`` request named by its index); ``DropUser`` has its connection closed by the server once, then carries on; ``SpreadUser``
connects from two source addresses in turn.
SIO_TRANSPORTS picks the transports (comma-separated).
"""

from __future__ import annotations

import os

from locust import constant, task
from locust.runners import WorkerRunner

from sioclient.contrib.locust import SocketIOUser

TRANSPORTS = os.environ.get("SIO_TRANSPORTS", "websocket").split(",")


class EchoUser(SocketIOUser):
    wait_time = constant(0.05)
    options = {"transports": TRANSPORTS, "reconnection_delay": 0.1}

    def on_start(self) -> None:
        super().on_start()
        runner = self.environment.runner
        if isinstance(runner, WorkerRunner):
            # which worker ran this user: the master's statistics show both
            self.environment.events.request.fire(
                request_type="worker",
                name=str(runner.worker_index),
                response_time=0,
                response_length=0,
                exception=None,
                context={},
            )

    @task(4)
    def ack(self) -> None:
        self.client.call("ack", {"n": 1}, timeout=10)

    @task(4)
    def echo(self) -> None:
        # the server answers `echo` with an `echo` event (and an ack, not asked for here)
        self.client.emit("echo", "hello", name="echo (emit)")
        self.client.expect("echo", 10, match=lambda text: text == "hello")

    @task(1)
    def pushed(self) -> None:
        self.client.call("emit-back", "pushed", 1, 2, timeout=10)


class DropUser(SocketIOUser):
    wait_time = constant(0.05)
    options = {"transports": TRANSPORTS, "reconnection_delay": 0.1, "reconnection_delay_max": 0.2}
    dropped = False

    @task
    def ack(self) -> None:
        if not self.dropped:
            self.dropped = True
            # the server closes the Engine.IO connection: an unexpected disconnect, then a
            # reconnection
            self.client.call("close-engine", timeout=10)
            return
        self.client.call("ack", timeout=10)


class SpreadUser(SocketIOUser):
    """Connections from two source addresses in turn; each reports the one the server saw."""

    wait_time = constant(0.05)
    options = {"transports": TRANSPORTS}
    local_addresses = ["127.0.0.1", "127.0.0.2"]

    def on_start(self) -> None:
        super().on_start()
        handshake = self.client.call("get-handshake", timeout=10)
        address = handshake["address"].removeprefix("::ffff:")
        self.environment.events.request.fire(
            request_type="from",
            name=address,
            response_time=0,
            response_length=0,
            exception=None,
            context={},
        )

    @task
    def ack(self) -> None:
        self.client.call("ack", timeout=10)
