"""Build script: compiles the hot paths with Cython when it can.

Each hot module is an ordinary Python file, ``sioclient/core/_<name>_py.py``, that runs as it is
(the pure-Python twin).  The compiled twin ``sioclient.core._<name>_c`` is built from the very
same file, typed by the augmenting declarations in ``_speedups/_<name>_c.pxd`` (gevent's
approach: one source of truth).  Cython only pairs a ``.pxd`` with the ``.py`` of the same name in
the same folder, so the build copies both into ``build/cython/`` and compiles from there; the
generated C stays out of the source tree and out of the wheel.

Hand-written Cython sources (``_speedups/*.pyx``) are compiled as they are.

Without a compiler (or without Cython) the install still succeeds with the pure-Python code and
says so in a warning.  ``SIOCLIENT_REQUIRE_EXTENSIONS=1`` turns that warning into an error, for
release builds and CI.
"""

import os
import shutil
import sys
import warnings

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))
SPEEDUPS = os.path.join(HERE, "_speedups")
STAGING = os.path.join("build", "cython")

REQUIRE = os.environ.get("SIOCLIENT_REQUIRE_EXTENSIONS", "") not in ("", "0")
DISABLED = os.environ.get("SIOCLIENT_NO_EXTENSIONS", "") not in ("", "0")


def _twin_modules():
    """Names of hot modules that have a pure-Python source and an augmenting .pxd."""
    names = []
    for fname in sorted(os.listdir(SPEEDUPS)):
        if fname.startswith("_") and fname.endswith("_c.pxd"):
            name = fname[1 : -len("_c.pxd")]
            if os.path.exists(os.path.join(HERE, "sioclient", "core", f"_{name}_py.py")):
                names.append(name)
    return names


def _stage(name):
    """Copy the twin and its declarations side by side so that Cython pairs them."""
    dest = os.path.join(HERE, STAGING, "sioclient", "core")
    os.makedirs(dest, exist_ok=True)
    src_py = os.path.join(HERE, "sioclient", "core", f"_{name}_py.py")
    src_pxd = os.path.join(SPEEDUPS, f"_{name}_c.pxd")
    out_py = os.path.join(dest, f"_{name}_c.py")
    out_pxd = os.path.join(dest, f"_{name}_c.pxd")
    # Always rewrite: a .pxd-only edit must re-run Cython too.
    shutil.copyfile(src_py, out_py)
    shutil.copyfile(src_pxd, out_pxd)
    return os.path.relpath(out_py, HERE)


def _extensions():
    if DISABLED:
        return []
    exts = [
        # _speedups holds the C headers the declarations include (_packet.h)
        Extension(
            f"sioclient.core._{name}_c",
            [_stage(name)],
            include_dirs=[SPEEDUPS],
            optional=not REQUIRE,
        )
        for name in _twin_modules()
    ]
    for fname in sorted(os.listdir(SPEEDUPS)):
        if fname.endswith(".pyx"):
            mod = fname[: -len(".pyx")]
            pkg = "sioclient.transports" if mod.startswith("_ws") else "sioclient.core"
            exts.append(
                Extension(f"{pkg}.{mod}", [os.path.join("_speedups", fname)], optional=not REQUIRE)
            )
    return exts


def _cythonize(exts):
    try:
        from Cython.Build import cythonize
    except ImportError:
        if REQUIRE:
            raise
        warnings.warn(
            "Cython is not installed: sioclient installs its pure-Python code only", stacklevel=2
        )
        return []
    compiled = cythonize(
        exts,
        build_dir=STAGING,
        # the staging folder mirrors the package path, so Cython pairs each .py with its .pxd
        include_path=[os.path.join(HERE, STAGING), SPEEDUPS],
        force=True,
        language_level=3,
        compiler_directives={
            "annotation_typing": False,
            "boundscheck": False,
            "wraparound": False,
            "cdivision": True,
            "infer_types": True,
            "binding": False,
            "embedsignature": False,
        },
        quiet=True,
    )
    # cythonize() drops the optional flag; put it back.
    for ext in compiled:
        ext.optional = not REQUIRE
    return compiled


class OptionalBuildExt(build_ext):
    """Builds the extensions, falling back to pure Python when a compiler is missing."""

    def run(self):
        try:
            super().run()
        except Exception as exc:  # noqa: BLE001 - any build failure falls back
            if REQUIRE:
                raise
            self._warn(exc)

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as exc:  # noqa: BLE001
            if REQUIRE:
                raise
            self._warn(exc)

    @staticmethod
    def _warn(exc):
        msg = (
            f"sioclient: the compiled speedups could not be built ({exc}); "
            "the pure-Python implementation will be used"
        )
        warnings.warn(msg, stacklevel=2)
        print(msg, file=sys.stderr)


setup(
    ext_modules=_cythonize(_extensions()),
    cmdclass={"build_ext": OptionalBuildExt},
    zip_safe=False,
)
