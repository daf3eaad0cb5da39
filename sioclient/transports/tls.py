"""TLS for the transports: an ``SSLContext`` from the ``verify``/``cert``/``key`` options.

``create_ssl_context(verify=True, cert=None, key=None)`` follows the conventions of ``requests``:

- ``verify=True``: the system's trusted CAs, certificate and host name checked (the default);
- ``verify=False``: no verification at all (a test server with a self-signed certificate);
- ``verify="<path>"``: trust the CA bundle in that file, or the hashed CA directory;
- ``verify="-----BEGIN CERTIFICATE-----..."``: trust the certificates in that PEM text (Node's
  ``ca`` option);
- ``verify=<ssl.SSLContext>``: the caller's own context, used as it is.

``cert``/``key`` load a client certificate (``key`` may be omitted when ``cert`` holds both):
each is a file path or the PEM text itself (Node's ``cert``/``key`` options hold the PEM text).
``passphrase`` decrypts an encrypted key.  ``ciphers`` is an OpenSSL cipher list, as Node's
``ciphers``: the TLS 1.2 names restrict the TLS 1.2 suites; TLS 1.3 stays on only when the list
names a TLS 1.3 suite (``TLS_AES_128_GCM_SHA256``...), as in Node, and then the TLS 1.3 suites
are OpenSSL's defaults (Python cannot narrow them).

``wrap_socket(sock, context, server_hostname)`` performs the handshake cooperatively: a context
from the standard library wraps its socket in a blocking ``ssl.SSLSocket``, which would stall the
gevent hub when the process is not monkey-patched, so the socket is always gevent's.
"""

from __future__ import annotations

import os
import ssl
from typing import Union

import gevent.ssl

from ..exceptions import ConnectionError
from ..tlsconfig import is_pem, load_client_certificate, set_ciphers

#: what the ``verify`` option accepts
Verify = Union[bool, str, "os.PathLike[str]", ssl.SSLContext]


def create_ssl_context(
    verify: Verify = True,
    cert: str | None = None,
    key: str | None = None,
    passphrase: str | bytes | None = None,
    ciphers: str | None = None,
) -> ssl.SSLContext:
    """An ``SSLContext`` for client connections built from the TLS options (see the module)."""
    if isinstance(verify, ssl.SSLContext):
        if cert is not None or key is not None or ciphers is not None:
            # Loading a certificate into the caller's context would change it behind their back.
            raise ValueError("with an SSLContext as verify, load the client certificate into it")
        return verify
    ctx: ssl.SSLContext  # gevent's subclass
    if verify is True:
        ctx = gevent.ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    elif verify is False:
        ctx = gevent.ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    elif isinstance(verify, str) and "-----BEGIN" in verify:
        ctx = gevent.ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cadata=verify)
    elif isinstance(verify, (str, os.PathLike)):
        path = os.fspath(verify)
        if os.path.isdir(path):
            ctx = gevent.ssl.create_default_context(ssl.Purpose.SERVER_AUTH, capath=path)
        elif os.path.isfile(path):
            ctx = gevent.ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=path)
        else:
            raise ValueError(f"verify: no CA bundle file or directory at {path!r}")
    else:
        raise TypeError(f"verify must be a bool, a path or an ssl.SSLContext, not {verify!r}")
    if cert is not None:
        load_client_certificate(ctx, cert, key, passphrase)
    elif key is not None:
        raise ValueError("key given without cert")
    if ciphers is not None:
        set_ciphers(ctx, ciphers)
    return ctx


def server_name(host: str) -> str:
    """The name to verify: the host without the brackets of an IPv6 literal."""
    if host.startswith("[") and host.endswith("]"):
        return host[1:-1]
    return host


def wrap_socket(sock: object, context: ssl.SSLContext, server_hostname: str) -> ssl.SSLSocket:
    """Wraps a connected gevent socket and completes the TLS handshake (cooperatively).

    Raises ``sioclient.ConnectionError`` when the handshake or the verification fails.
    """
    hostname = server_name(server_hostname)
    tls: ssl.SSLSocket  # gevent's subclass
    if isinstance(context, gevent.ssl.SSLContext):
        tls = context.wrap_socket(sock, server_hostname=hostname, do_handshake_on_connect=False)
    else:
        # gevent's SSLSocket accepts any context; its own wrap_socket passes it the same way.
        tls = gevent.ssl.SSLSocket(
            sock=sock, server_hostname=hostname, _context=context, do_handshake_on_connect=False
        )
    try:
        tls.do_handshake()
    except ssl.SSLCertVerificationError as exc:
        tls.close()
        raise ConnectionError(f"TLS certificate verification failed for {hostname}: {exc}") from exc
    except (ssl.SSLError, ssl.CertificateError) as exc:
        tls.close()
        raise ConnectionError(f"TLS handshake with {hostname} failed: {exc}") from exc
    except BaseException:
        tls.close()  # a timeout, or a reset (the caller reports it)
        raise
    return tls


__all__ = [
    "Verify",
    "create_ssl_context",
    "is_pem",
    "load_client_certificate",
    "server_name",
    "set_ciphers",
    "wrap_socket",
]
