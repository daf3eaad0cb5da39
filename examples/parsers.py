"""Parsers: msgpack instead of the default JSON-based format, and a custom parser object.

    python examples/parsers.py [--url URL]

The server must use the same parser: with ``--url``, a server that speaks
socket.io-msgpack-parser (start one with ``python examples/echo_server.py --parser msgpack``).
"""

from __future__ import annotations

from typing import Any

from _server import arguments, server_url, wait_connected

import sioclient
from sioclient import parsers


class CountingParser:
    """A custom parser: any object with ``encode(packet)`` and ``decoder()`` will do.

    This one wraps the built-in msgpack parser and counts the messages each way.
    """

    def __init__(self) -> None:
        self.inner = parsers.get("msgpack", protocol=5)
        self.sent = 0
        self.received = 0

    def encode(self, packet: parsers.Packet) -> list[str | bytes]:
        messages = self.inner.encode(packet)
        self.sent += len(messages)
        return messages

    def decoder(self) -> Any:
        parser, inner = self, self.inner.decoder()

        class Decoder:
            def feed(self, message: str | bytes) -> list[parsers.Packet]:
                parser.received += 1
                return inner.feed(message)

        return Decoder()


def run(url: str) -> None:
    # The seed's {parser: require('socket.io-msgpack-parser')}: by name here.
    socket = wait_connected(sioclient.io(url, parser="msgpack", force_new=True))
    print(
        "msgpack round trip:",
        socket.call("echo", {"numbers": [1, 2.5], "raw": b"\x00\x01"}, timeout=5),
    )
    socket.close()

    # What a parser does, without a connection: packets to Engine.IO messages and back.
    packet = parsers.Packet(parsers.EVENT, "/", ["hello", {"a": 1}])
    for name in parsers.NAMES:
        encoded = parsers.get(name, 5).encode(packet)
        back = parsers.get(name, 5).decoder().feed(encoded[0])
        print(f"  {name:8} {encoded[0]!r:60} decodes back: {back == [packet]}")

    counting = CountingParser()
    socket = wait_connected(sioclient.io(url, parser=counting, force_new=True))
    socket.call("echo", "counted", timeout=5)
    socket.close()
    print(f"custom parser: {counting.sent} messages encoded, {counting.received} decoded")


def main() -> None:
    args = arguments(__doc__).parse_args()
    with server_url(args.url, ["--parser", "msgpack"]) as url:
        run(url)


if __name__ == "__main__":
    main()
