"""At-least-once emits: ``retries`` and ``ack_timeout``.

    python examples/at_least_once.py [--url URL]

The server's ``late`` event answers the first deliveries of a key late (longer than
``ack_timeout``): the client sends those emits again, in order, until one try is answered in
time or the retries are spent (``TimeoutError``).  The server sees some emits more than once;
a real server drops the duplicates by an id sent with each emit.
"""

from __future__ import annotations

import time
import uuid

from _server import arguments, server_url, wait_connected
from gevent.event import Event

import sioclient


def run(url: str) -> None:
    # JavaScript: io(url, {retries: 3, ackTimeout: 500})
    socket = sioclient.io(url, retries=3, ack_timeout=0.5)
    wait_connected(socket)

    # One emit: its first delivery is answered 2 s late, so it is sent again after 0.5 s, and
    # that try is answered at once.
    key = uuid.uuid4().hex
    started = time.monotonic()
    answer = socket.call("late", key, 1, 2.0, "hello")
    print(f"answered {answer!r} after {time.monotonic() - started:.1f} s")
    print("the server got:", socket.call("late-log", key))

    # Emits are pipelined (no round trip each).  The first one is answered late, the others at
    # once; the retry sends the first again and the later ones after it, in order, so the last
    # delivery of each reaches the server in the order they were made.
    key = uuid.uuid4().hex
    done = Event()
    results: list[tuple[int, object]] = []

    def acked(i: int):
        def callback(err: Exception | None, *args: object) -> None:
            # with `retries`, callbacks get an error first, as with socket.timeout()
            results.append((i, err if err is not None else args[0]))
            if len(results) == 5:
                done.set()

        return callback

    for i in range(5):
        socket.emit("late", key, 1, 2.0, i, acked(i))
    if not done.wait(10):
        raise SystemExit("the emits were not all answered")
    print("callbacks:", sorted(results))
    print("the server got:", socket.call("late-log", key))

    # Out of retries: one try and three retries, 0.5 s each, answered 5 s late.
    key = uuid.uuid4().hex
    started = time.monotonic()
    try:
        socket.call("late", key, 10, 5.0, "lost")
    except sioclient.TimeoutError as exc:
        print(f"out of retries: {type(exc).__name__} after {time.monotonic() - started:.1f} s")
    print("the server got:", socket.call("late-log", key))
    socket.close()


def main() -> None:
    args = arguments(__doc__).parse_args()
    with server_url(args.url) as url:
        run(url)


if __name__ == "__main__":
    main()
