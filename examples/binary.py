"""Binary data: bytes anywhere in the arguments travel as binary attachments.

python examples/binary.py [--url URL]
"""

from __future__ import annotations

import os

from _server import arguments, server_url, wait_connected

import sioclient


def run(url: str) -> None:
    socket = wait_connected(sioclient.io(url))

    # The seed's socket.emit('with-binary', 1, '2', { 3: '4', 5: new Buffer(6) }).
    back = socket.call("echo", 1, "2", {"3": "4", "5": bytes(6)}, timeout=5)
    print("mixed arguments:", back)

    # bytes, bytearray and memoryview are sent as they are; they come back as bytes.
    blob = os.urandom(64 * 1024)
    back = socket.call(
        "echo", {"name": "blob", "parts": [bytearray(blob[:10]), memoryview(blob)]}, timeout=5
    )
    print(
        "nested:",
        back["parts"][0] == blob[:10],
        len(back["parts"][1]),
        "bytes back, equal:",
        back["parts"][1] == blob,
    )

    # binary(False) is only a hint that there is none (the parser checks anyway).
    print("binary(False) hint:", socket.binary(False).call("echo", {"text": "only"}, timeout=5))
    socket.close()


def main() -> None:
    args = arguments(__doc__).parse_args()
    with server_url(args.url) as url:
        run(url)


if __name__ == "__main__":
    main()
