"""A custom path: the server listens on ``/myownpath`` instead of ``/socket.io``.

    python examples/custom_path.py [--url URL]

With ``--url`` the server must serve Socket.IO under ``/myownpath`` (start one with
``python examples/echo_server.py --path /myownpath``).
"""

from __future__ import annotations

from _server import arguments, server_url, wait_connected

import sioclient

PATH = "/myownpath"


def run(url: str) -> None:
    # The seed's io('http://localhost/admin', {path: '/mypath'}): the URL's path is the
    # namespace, the `path` option is where the server listens.
    socket = wait_connected(sioclient.io(url + "/admin", path=PATH))
    info = socket.call("handshake", timeout=5)
    print(f"connected to namespace {info['namespace']} through {PATH}/")
    print("the manager's path option:", socket.io.opts["path"])
    socket.close()


def main() -> None:
    args = arguments(__doc__).parse_args()
    with server_url(args.url, ["--path", PATH]) as url:
        run(url)


if __name__ == "__main__":
    main()
