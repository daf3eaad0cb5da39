"""Namespaces and multiplexing: one connection for several namespaces, or several connections.

    python examples/namespaces.py [--url URL]

The server must serve the namespaces ``/`` and ``/admin`` (examples/echo_server.py does).
"""

from __future__ import annotations

from _server import arguments, server_url, wait_connected

import sioclient


def run(url: str) -> None:
    # The namespace is the URL's path; both sockets share one Manager, hence one connection.
    main_ns = wait_connected(sioclient.io(url))
    admin = wait_connected(sioclient.io(url + "/admin"))
    print("one connection:", main_ns.io is admin.io, "engine id", admin.io.engine.id)
    print("  / id:", main_ns.id, "| /admin id:", admin.id)
    print("  /admin echoes:", admin.call("handshake", timeout=5)["namespace"])

    # force_new=True (forceNew in a JavaScript options dict) asks for a connection of its own.
    own = wait_connected(sioclient.io(url + "/admin", {"forceNew": True}))
    print("force_new: another connection:", own.io is not admin.io)

    # Asking again for a namespace the shared manager already has also opens a new connection.
    again = wait_connected(sioclient.io(url))
    print("same namespace twice: another connection:", again.io is not main_ns.io)

    # manager.socket() is the other way to reach a namespace of one connection.
    manager = sioclient.Manager(url)
    sockets = [wait_connected(manager.socket(nsp)) for nsp in ("/", "/admin")]
    print(
        "manager.nsps:", sorted(manager.nsps), "all connected:", all(s.connected for s in sockets)
    )

    for socket in (main_ns, admin, own, again, *sockets):
        socket.close()  # a manager closes its connection when its last socket leaves
    print("closed; manager state:", manager.ready_state)


def main() -> None:
    args = arguments(__doc__).parse_args()
    with server_url(args.url) as url:
        run(url)


if __name__ == "__main__":
    main()
