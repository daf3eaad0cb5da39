"""Extra HTTP headers on the requests of the connection.

    python examples/extra_headers.py [--url URL]

``extra_headers`` goes on every HTTP request and on the WebSocket handshake (sioclient writes its
own handshake, so the browser's limit the seed mentions does not apply);
``transport_options={'polling': {...}}`` sets them for one transport only.
"""

from __future__ import annotations

from _server import arguments, server_url, wait_connected

import sioclient


def run(url: str) -> None:
    # The seed's example, as written for JavaScript: a JavaScript options dict is accepted as is.
    socket = wait_connected(
        sioclient.io(
            url,
            {"transportOptions": {"polling": {"extraHeaders": {"x-clientid": "abc"}}}},
            transports=["polling"],
        )
    )
    print(
        "polling request header x-clientid:",
        socket.call("handshake", timeout=5)["headers"].get("x-clientid"),
    )
    socket.close()

    # The Python spelling, for every transport, here over a WebSocket.
    socket = wait_connected(
        sioclient.io(url, extra_headers={"x-clientid": "def"}, transports=["websocket"])
    )
    info = socket.call("handshake", timeout=5)
    print(f"{info['transport']} handshake header x-clientid:", info["headers"].get("x-clientid"))
    socket.close()


def main() -> None:
    args = arguments(__doc__).parse_args()
    with server_url(args.url) as url:
        run(url)


if __name__ == "__main__":
    main()
