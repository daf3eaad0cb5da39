"""A gevent web server that is itself a client of another Socket.IO server.

    python examples/gevent_bridge.py [--url URL] [--requests N]

The process is monkey-patched, as gevent servers usually are (sioclient needs no patching, and
works with it).  A pywsgi HTTP server answers ``GET /echo?text=...`` by asking the upstream
Socket.IO server through one shared sioclient connection; many requests, each on its own
greenlet, wait for their acks at the same time.
"""

from gevent import monkey

monkey.patch_all()

import json  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402
from typing import Any  # noqa: E402
from urllib.parse import parse_qs, quote  # noqa: E402

import gevent.pool  # noqa: E402
from _server import arguments, server_url, wait_connected  # noqa: E402
from gevent import pywsgi  # noqa: E402

import sioclient  # noqa: E402


def make_app(upstream: sioclient.Socket) -> Any:
    def app(environ: dict, start_response: Any) -> list[bytes]:
        if environ["PATH_INFO"] != "/echo":
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found"]
        text = parse_qs(environ.get("QUERY_STRING", "")).get("text", [""])[0]
        try:
            # Blocks this request's greenlet only; the others and the connection keep going.
            answer = upstream.call("echo", text, timeout=5)
        except sioclient.SocketIOError as exc:
            start_response("502 Bad Gateway", [("Content-Type", "text/plain")])
            return [str(exc).encode()]
        body = json.dumps({"upstream_said": answer}).encode()
        start_response("200 OK", [("Content-Type", "application/json")])
        return [body]

    return app


def run(url: str, requests: int) -> None:
    upstream = wait_connected(sioclient.io(url))
    print(f"upstream connected over {upstream.io.engine.transport}, id {upstream.id}")
    web = pywsgi.WSGIServer(("127.0.0.1", 0), make_app(upstream), log=None)
    web.start()
    base = f"http://127.0.0.1:{web.server_port}/echo?text="
    try:

        def fetch(i: int) -> dict:
            with urllib.request.urlopen(base + quote(f"request {i}"), timeout=10) as response:
                return json.loads(response.read())

        t0 = time.perf_counter()
        answers = gevent.pool.Pool(50).map(fetch, range(requests))
        dt = time.perf_counter() - t0
        assert all(a["upstream_said"] == f"request {i}" for i, a in enumerate(answers))
        print(f"{requests} HTTP requests relayed over one Socket.IO connection in {dt:.2f} s")
        print("first answer:", answers[0])
    finally:
        web.stop(timeout=1)
        upstream.close()


def main() -> None:
    ap = arguments(__doc__)
    ap.add_argument("--requests", type=int, default=200)
    args = ap.parse_args()
    with server_url(args.url) as url:
        run(url, args.requests)


if __name__ == "__main__":
    main()
