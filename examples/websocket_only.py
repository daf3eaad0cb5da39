"""WebSocket only (no long-polling first), and back to polling + upgrade on reconnection.

python examples/websocket_only.py [--url URL]
"""

from __future__ import annotations

from _server import arguments, server_url, wait_connected
from gevent.event import Event

import sioclient


def run(url: str) -> None:
    socket = wait_connected(sioclient.io(url, transports=["websocket"], reconnection_delay=0.1))
    engine = socket.io.engine
    print(f"connected over {engine.transport}, protocol revision {engine.protocol} (detected)")

    # As in the seed: the WebSocket may have failed because of a proxy or a firewall, so the
    # next attempt starts with polling again.  The handler runs before the attempt it announces.
    @socket.on("reconnect_attempt")
    def reset_transports(attempt: int) -> None:
        socket.io.opts["transports"] = ["polling", "websocket"]

    reconnected = Event()
    socket.on("reconnect", lambda attempt: reconnected.set())
    socket.emit("kick-me")  # the server drops the connection
    if not reconnected.wait(10):
        raise SystemExit("no reconnect")
    print("reconnected; transports now", socket.io.opts["transports"])
    print("transport right after the reconnect:", socket.io.engine.transport)
    socket.close()


def main() -> None:
    args = arguments(__doc__).parse_args()
    with server_url(args.url) as url:
        run(url)


if __name__ == "__main__":
    main()
