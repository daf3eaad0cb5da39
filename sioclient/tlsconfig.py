"""TLS settings that need no socket: PEM text or paths, the key's passphrase, Node's ciphers.

Used by the options (to check the TLS options when they are set) and by the transports (to
build the ``SSLContext``).  Sans-I/O: the standard library's ``ssl`` only, no gevent.
"""

from __future__ import annotations

import contextlib
import os
import ssl
import tempfile
from typing import Any


def is_pem(value: object) -> bool:
    """True for a value that holds PEM text rather than a path."""
    if isinstance(value, (bytes, bytearray)):
        return b"-----BEGIN" in value
    return isinstance(value, str) and "-----BEGIN" in value


def load_client_certificate(
    ctx: ssl.SSLContext,
    cert: str | bytes,
    key: str | bytes | None = None,
    passphrase: str | bytes | None = None,
) -> None:
    """``ctx.load_cert_chain`` for paths or PEM text (the standard library reads files only:
    PEM text goes through a private temporary file, removed at once)."""
    password: Any = passphrase if passphrase is not None else _no_passphrase
    with contextlib.ExitStack() as stack:
        cert_path = _as_file(stack, cert)
        key_path = None if key is None else _as_file(stack, key)
        ctx.load_cert_chain(cert_path, key_path, password=password)


def _no_passphrase() -> bytes:
    raise ValueError("the key is encrypted; give its passphrase (option 'passphrase')")


def _as_file(stack: contextlib.ExitStack, value: str | bytes) -> str:
    if not is_pem(value):
        return os.fsdecode(value)
    data = value.encode("ascii") if isinstance(value, str) else bytes(value)
    directory = stack.enter_context(tempfile.TemporaryDirectory(prefix="sioclient-"))
    path = os.path.join(directory, "pem")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    return path


def set_ciphers(ctx: ssl.SSLContext, ciphers: str) -> None:
    """Node's ``ciphers`` on ``ctx``; ``ssl.SSLError`` when OpenSSL knows none of the names.

    The TLS 1.2 names restrict the TLS 1.2 suites; TLS 1.3 stays on only when the list names a
    TLS 1.3 suite (``TLS_AES_128_GCM_SHA256``...), as in Node, and then the TLS 1.3 suites are
    OpenSSL's defaults (Python cannot narrow them)."""
    names = [n for n in ciphers.split(":") if n.strip()]
    tls13 = [n for n in names if n.strip().startswith("TLS_")]
    older = [n for n in names if not n.strip().startswith("TLS_")]
    if older:
        ctx.set_ciphers(":".join(older))
    if not tls13:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    elif not older:
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3


__all__ = ["is_pem", "load_client_certificate", "set_ciphers"]
