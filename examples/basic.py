"""Connect, emit, acknowledgements both ways, and the Socket's attributes.

python examples/basic.py [--url URL]
"""

from __future__ import annotations

from _server import arguments, server_url
from gevent.event import AsyncResult, Event

import sioclient


def run(url: str) -> None:
    socket = sioclient.io(url)
    print("before connect: id =", socket.id, "connected =", socket.connected)

    connected = Event()

    @socket.on("connect")
    def on_connect() -> None:
        print("connected: id =", socket.id, "disconnected =", socket.disconnected)
        connected.set()

    # The server asks a question with an ack: the handler gets a callable as its last argument.
    @socket.on("question")
    def on_question(question: str, ack) -> None:
        print("server asks:", question)
        ack("forty-two")

    answer = AsyncResult()
    socket.on("answer", answer.set)

    if not connected.wait(10):
        raise SystemExit("could not connect")

    # The seed's socket.emit('ferret', 'tobi', (data) => ...): a trailing callable is the ack.
    acked = AsyncResult()
    socket.emit("echo", "tobi", acked.set)
    print("ack callback got:", acked.get(timeout=5))

    # The same without a callback: call() blocks this greenlet until the ack comes.
    print("call() returned:", socket.call("echo", {"hello": "world"}, timeout=5))
    print("several ack arguments come back as a tuple:", socket.call("echo", 1, "2", timeout=5))

    # socket.send(...) is emit('message', ...); the echo server does not ack 'message'.
    socket.send("hi")

    socket.emit("ask-me", "the answer?")
    print("server got our answer back:", answer.get(timeout=5))

    socket.close()
    print("closed: connected =", socket.connected)


def main() -> None:
    args = arguments(__doc__).parse_args()
    with server_url(args.url) as url:
        run(url)


if __name__ == "__main__":
    main()
