"""The sans-I/O core imports and works without gevent (imports flow one way)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import sys
    sys.modules["gevent"] = None  # any "import gevent" now raises ImportError

    import sioclient
    import sioclient.core._eio_py
    import sioclient.core.handshake
    import sioclient.core.namespaces
    import sioclient.core.revisions
    import sioclient.core.session
    import sioclient.parsers
    from sioclient.core import _accel

    _accel.load("eio")  # the compiled twin too, when built
    s = sioclient.core.session.Session()
    s.begin("polling")
    s.receive_payload('0{"sid":"a","upgrades":[],"pingInterval":1,"pingTimeout":1}', 0.0)
    assert s.protocol == 5 and sioclient.protocol == 5
    from sioclient.core.packet import Packet
    conn = sioclient.core.namespaces.Connection()
    ns = conn.namespace("/")
    ns.activate()
    assert [e.packet.type for e in conn.opened(5, "a", 0.0)] == [0]
    assert type(conn.receive(Packet(0, "/", {"sid": "x"}), 0.0)[0]).__name__ == "Connected"
    loaded = sorted(m for m in sys.modules if m == "gevent" or m.startswith("gevent."))
    assert loaded == ["gevent"] and sys.modules["gevent"] is None, loaded
    print("ok")
    """
)


def test_core_imports_without_gevent():
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"
