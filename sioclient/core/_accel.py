"""Chooses between the compiled hot paths and their pure-Python twins.

``sioclient/core/_<name>_py.py`` is the source; ``sioclient.core._<name>_c`` is the same file
compiled by Cython (see setup.py).  ``SIOCLIENT_NO_EXTENSIONS=1`` forces the pure-Python code.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

NO_EXTENSIONS = os.environ.get("SIOCLIENT_NO_EXTENSIONS", "") not in ("", "0")

#: the hot modules; each exists as _<name>_py and, when built, _<name>_c
HOT_MODULES = ("sioparser", "eio", "msgpack", "wsframe")

_loaded: dict[str, ModuleType] = {}


def pure(name: str) -> ModuleType:
    return importlib.import_module(f"sioclient.core._{name}_py")


def compiled(name: str) -> ModuleType | None:
    """The compiled twin, or None when it was not built."""
    try:
        return importlib.import_module(f"sioclient.core._{name}_c")
    except ImportError:
        return None


def load(name: str) -> ModuleType:
    """The implementation in use for hot module ``name``."""
    mod = _loaded.get(name)
    if mod is None:
        mod = None if NO_EXTENSIONS else compiled(name)
        if mod is None:
            mod = pure(name)
        _loaded[name] = mod
    return mod


def speedups_in_use() -> bool:
    """True when every hot module in use is compiled."""
    if NO_EXTENSIONS:
        return False
    return all(load(name).__name__.endswith("_c") for name in HOT_MODULES)
