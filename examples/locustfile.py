"""Load test a Socket.IO server with Locust and sioclient.

    pip install "sioclient[locust]"
    python examples/echo_server.py --port 3000 &     # or any server with an `echo` event
    locust -f examples/locustfile.py --host http://127.0.0.1:3000 \\
        --headless --users 500 --spawn-rate 100 --run-time 30s

Each simulated user holds its own Socket.IO connection; connect time, reconnections and the
latency of every emit with an ack show up in Locust's statistics (``--processes -1`` or
``--master``/``--worker`` spread the users over several processes or machines).
"""

from __future__ import annotations

import os

from locust import between, task

from sioclient.contrib.locust import SocketIOUser


class EchoUser(SocketIOUser):
    wait_time = between(0.05, 0.2)
    # sioclient options, Python names; SIO_TRANSPORTS=websocket skips the long-polling start
    options = {"transports": os.environ.get("SIO_TRANSPORTS", "polling,websocket").split(",")}

    def on_start(self) -> None:
        super().on_start()
        self.client.on("chat", lambda message: None)  # server pushes are handled as usual

    @task(10)
    def echo(self) -> None:
        self.client.call("echo", {"text": "hello", "n": 42}, timeout=10)

    @task(2)
    def echo_binary(self) -> None:
        self.client.call("echo", b"\x00" * 1024, timeout=10, name="echo (binary)")

    @task(1)
    def chat(self) -> None:
        self.client.emit("chat", "hi everyone")
