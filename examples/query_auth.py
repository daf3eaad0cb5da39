"""Query parameters and auth: in the URL, in the options, per namespace, and renewed on
reconnection.

    python examples/query_auth.py [--url URL]

The server's ``/private`` namespace admits a client only with ``token=secret`` in its query or
its auth payload (examples/echo_server.py does this).
"""

from __future__ import annotations

from _server import arguments, server_url, wait_connected
from gevent.event import AsyncResult, Event

import sioclient


def run(url: str) -> None:
    # In the URL, as io('http://localhost?token=abc').
    socket = wait_connected(sioclient.io(url + "/private?token=secret", force_new=True))
    print("query from the URL:", socket.call("handshake", timeout=5)["query"]["token"])
    socket.close()

    # As an option: a dict (or a query string).
    socket = wait_connected(
        sioclient.io(url + "/private", query={"token": "secret"}, force_new=True)
    )
    print("query from the option:", socket.call("handshake", timeout=5)["query"]["token"])
    socket.close()

    # Socket.IO 3.x/4.x servers also read an auth payload sent with the namespace's CONNECT.
    socket = wait_connected(
        sioclient.io(url + "/private", auth={"token": "secret"}, force_new=True)
    )
    print("auth payload:", socket.call("handshake", timeout=5)["auth"])
    socket.close()

    # A refusal: the server's message is in str(err), on connect_error.
    refused = AsyncResult()
    socket = sioclient.io(url + "/private", force_new=True, reconnection=False)
    socket.on("connect_error", refused.set)
    print("without the token:", repr(refused.get(timeout=10)))
    socket.close()

    # The query can be updated for the next attempt from a reconnect_attempt handler.
    socket = wait_connected(sioclient.io(url, query={"token": "cde"}, reconnection_delay=0.1))
    print("first query:", socket.call("handshake", timeout=5)["query"]["token"])

    @socket.on("reconnect_attempt")
    def renew(attempt: int) -> None:
        socket.io.opts["query"] = {"token": "fgh"}

    reconnected = Event()
    socket.on("reconnect", lambda attempt: reconnected.set())
    socket.emit("kick-me")
    if not reconnected.wait(10):
        raise SystemExit("no reconnect")
    print("query after the reconnect:", socket.call("handshake", timeout=5)["query"]["token"])
    socket.close()


def main() -> None:
    args = arguments(__doc__).parse_args()
    with server_url(args.url) as url:
        run(url)


if __name__ == "__main__":
    main()
