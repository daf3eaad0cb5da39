"""The source distribution carries everything a build from it needs (the .pxd declarations
beside the pure-Python sources), and no generated C or compiled extension."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_sdist_contents(tmp_path):
    out = subprocess.run(
        [sys.executable, "setup.py", "-q", "sdist", "-d", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ, SIOCLIENT_NO_EXTENSIONS="1"),
    )
    assert out.returncode == 0, out.stderr[-2000:]
    (archive,) = tmp_path.glob("sioclient-*.tar.gz")
    with tarfile.open(archive) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    for pxd in os.listdir(os.path.join(ROOT, "_speedups")):
        if pxd.endswith((".pxd", ".pyx")):
            assert f"_speedups/{pxd}" in names
    for base, _dirs, files in os.walk(os.path.join(ROOT, "sioclient")):
        for f in files:
            if f.endswith(".py"):
                rel = os.path.relpath(os.path.join(base, f), ROOT)
                assert rel in names, rel
    assert "sioclient/py.typed" in names
    assert {"setup.py", "pyproject.toml", "README.md", "LICENSE"} <= names
    assert not [n for n in names if n.endswith((".c", ".so"))]
