"""sioclient.options: the one place that turns either spelling into snake_case and seconds."""

from __future__ import annotations

import math
import ssl

import pytest

from sioclient.options import check, encode_query, normalize, normalize_socket, parse_query


def test_defaults():
    opts = normalize(None, None)
    assert opts["path"] == "/socket.io"
    assert opts["reconnection"] is True
    assert opts["reconnection_attempts"] == math.inf
    assert opts["reconnection_delay"] == 1.0
    assert opts["reconnection_delay_max"] == 5.0
    assert opts["randomization_factor"] == 0.5
    assert opts["timeout"] == 20.0
    assert opts["auto_connect"] is True
    assert opts["query"] == {}
    assert opts["parser"] == "default"
    assert opts["transports"] == ["polling", "websocket"]
    assert opts["upgrade"] is True and opts["remember_upgrade"] is False
    assert opts["timestamp_param"] == "t"
    assert opts["extra_headers"] == {} and opts["transport_options"] == {}
    assert opts["verify"] is True and opts["protocol"] is None and opts["auth"] is None
    # fresh containers per call: editing one manager's options never leaks into another
    assert normalize()["query"] is not normalize()["query"]


def test_javascript_names_are_milliseconds():
    opts = normalize(
        {
            "reconnectionDelay": 250,
            "reconnectionDelayMax": 2000,
            "timeout": 1500,
            "requestTimeout": 100,
            "reconnectionAttempts": 3,
            "randomizationFactor": 0.1,
            "autoConnect": False,
            "forceNew": True,
            "rememberUpgrade": True,
            "forceBase64": True,
            "timestampRequests": False,
            "timestampParam": "ts",
            "perMessageDeflate": {"threshold": 10},
        }
    )
    assert opts["reconnection_delay"] == 0.25
    assert opts["reconnection_delay_max"] == 2.0
    assert opts["timeout"] == 1.5
    assert opts["request_timeout"] == 0.1
    assert opts["reconnection_attempts"] == 3
    assert opts["randomization_factor"] == 0.1
    assert opts["auto_connect"] is False and opts["force_new"] is True
    assert opts["remember_upgrade"] is True and opts["force_base64"] is True
    assert opts["timestamp_requests"] is False and opts["timestamp_param"] == "ts"
    assert opts["per_message_deflate"] == {"threshold": 10}


def test_snake_case_keys_in_the_dict_are_python():
    opts = normalize({"reconnection_delay": 2, "reconnection_delay_max": 3.5})
    assert opts["reconnection_delay"] == 2.0 and opts["reconnection_delay_max"] == 3.5


def test_kwargs_are_seconds_and_win():
    opts = normalize({"timeout": 1000, "reconnectionDelay": 100}, {"timeout": 3})
    assert opts["timeout"] == 3.0 and opts["reconnection_delay"] == 0.1


def test_force_new_connection_spelling():
    assert normalize({"force new connection": True})["force_new"] is True


def test_javascript_timeout_false_disables():
    assert normalize({"timeout": False})["timeout"] is None
    assert normalize(None, {"timeout": None})["timeout"] is None


@pytest.mark.parametrize("value", [0, None, math.inf, float("inf")])
def test_unlimited_attempts(value):
    assert normalize(None, {"reconnection_attempts": value})["reconnection_attempts"] == math.inf
    assert normalize({"reconnectionAttempts": value})["reconnection_attempts"] == math.inf


def test_unknown_option_in_dict_names_it_with_a_hint():
    with pytest.raises(ValueError, match="'reconectionDelay'.*did you mean 'reconnectionDelay'"):
        normalize({"reconectionDelay": 1})


def test_unknown_kwarg_names_it_with_a_hint():
    with pytest.raises(ValueError, match="'reconnection_dealy'.*'reconnection_delay'"):
        normalize(None, {"reconnection_dealy": 1})


def test_javascript_name_as_kwarg_is_refused_with_the_python_name():
    with pytest.raises(ValueError, match="reconnectionDelay.*reconnection_delay.*snake_case"):
        normalize(None, {"reconnectionDelay": 1})


@pytest.mark.parametrize(
    "kwargs",
    [
        {"randomization_factor": 1.5},
        {"randomization_factor": -0.1},
        {"reconnection_delay": -1},
        {"reconnection_delay": "1"},
        {"reconnection": "yes"},
        {"reconnection_attempts": -2},
        {"reconnection_attempts": 1.5},
        {"transports": []},
        {"transports": ["carrier-pigeon"]},
        {"parser": "yaml"},
        {"parser": object()},
        {"protocol": 3},
        {"auth": "token"},
        {"query": 5},
        {"timeout": float("nan")},
        {"verify": 1},
    ],
)
def test_bad_values(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        normalize(None, kwargs)


def test_options_must_be_a_dict():
    with pytest.raises(ValueError):
        normalize(["timeout"])  # type: ignore[arg-type]


def test_transports_string_and_list():
    assert normalize(None, {"transports": "websocket"})["transports"] == ["websocket"]
    assert normalize({"transports": ("websocket",)})["transports"] == ["websocket"]


def test_transport_options_nested_javascript_names():
    opts = normalize(
        {
            "extraHeaders": {"x-a": 1},
            "transportOptions": {"polling": {"extraHeaders": {"x-clientid": "abc"}}},
        }
    )
    assert opts["extra_headers"] == {"x-a": "1"}
    assert opts["transport_options"] == {"polling": {"extra_headers": {"x-clientid": "abc"}}}
    with pytest.raises(ValueError, match="transport"):
        normalize({"transportOptions": {"pigeon": {}}})


def test_tls_names(tls_files):
    assert normalize({"rejectUnauthorized": False})["verify"] is False
    assert normalize({"rejectUnauthorized": True})["verify"] is True
    assert normalize({"ca": tls_files.ca_cert})["verify"] == tls_files.ca_cert
    opts = normalize(
        None,
        {"verify": tls_files.ca_cert, "cert": tls_files.client_cert, "key": tls_files.client_key},
    )
    assert opts["cert"] == tls_files.client_cert and opts["key"] == tls_files.client_key
    context = ssl.create_default_context()
    assert normalize(None, {"verify": context})["verify"] is context


def test_ca_pem_contents_are_kept_as_pem_text(tls_files):
    pem = tls_files.ca.cert_pem.bytes()
    opts = normalize({"ca": pem})
    assert opts["verify"] == pem.decode("ascii")
    # rejectUnauthorized false is the stronger statement
    assert normalize({"ca": pem, "rejectUnauthorized": False})["verify"] is False


def test_ca_combines_with_cert_and_key(tls_files):
    """Node's mutual TLS spelling: `ca` as PEM text (or a path) with `cert` and `key`."""
    pem = tls_files.ca.cert_pem.bytes().decode("ascii")
    for ca in (pem, tls_files.ca_cert):
        opts = normalize({"ca": ca, "cert": tls_files.client_cert, "key": tls_files.client_key})
        assert opts["verify"] == ca and opts["cert"] == tls_files.client_cert
        # the context the transports build from these loads all three
        from sioclient.transports.tls import create_ssl_context

        ctx = create_ssl_context(opts["verify"], opts["cert"], opts["key"])
        assert ctx.verify_mode == ssl.CERT_REQUIRED
        assert ctx.get_ca_certs()


def test_ca_bundle_must_exist_and_load(tmp_path, tls_files):
    missing = str(tmp_path / "nowhere.pem")
    with pytest.raises(ValueError, match="no CA bundle file or directory"):
        normalize(None, {"verify": missing})
    with pytest.raises(ValueError, match="no CA bundle file or directory"):
        normalize({"ca": missing})
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    with pytest.raises(ValueError, match="could not be loaded"):
        normalize(None, {"verify": str(junk)})
    with pytest.raises(ValueError, match="could not be loaded"):
        normalize({"ca": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"})
    # a directory of hashed certificates is a valid bundle
    assert normalize(None, {"verify": str(tmp_path)})["verify"] == str(tmp_path)


def test_client_certificate_files_must_exist_and_load(tmp_path, tls_files):
    missing = str(tmp_path / "client.pem")
    with pytest.raises(ValueError, match="'cert': no file"):
        normalize(None, {"cert": missing})
    with pytest.raises(ValueError, match="'key': no file"):
        normalize(None, {"cert": tls_files.client_cert, "key": missing})
    with pytest.raises(ValueError, match="needs 'cert'"):
        normalize(None, {"key": tls_files.client_key})
    # a certificate with the key of another one
    with pytest.raises(ValueError, match="could not be loaded"):
        normalize(None, {"cert": tls_files.client_cert, "key": tls_files.key})
    # a certificate file without its key, and no key given
    with pytest.raises(ValueError, match="could not be loaded"):
        normalize(None, {"cert": tls_files.client_cert})
    # never a password prompt on the terminal: an encrypted key is refused
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(open(tls_files.client_key, "rb").read(), password=None)
    encrypted = tmp_path / "encrypted.key"
    encrypted.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"pw"),
        )
    )
    with pytest.raises(ValueError, match="encrypted"):
        normalize(None, {"cert": tls_files.client_cert, "key": str(encrypted)})


def test_a_context_of_the_caller_takes_no_cert(tls_files):
    context = ssl.create_default_context()
    with pytest.raises(ValueError, match="load the client certificate into it"):
        normalize(None, {"verify": context, "cert": tls_files.client_cert})


@pytest.mark.parametrize(
    "value, match",
    [
        ("abc\n", "not valid in HTTP"),
        ("a\r\nX-Injected: 1", "not valid in HTTP"),
        ("a\x00b", "not valid in HTTP"),
        (" padded", "not valid in HTTP"),
        ("caf\u00e9", "not ASCII"),
    ],
)
def test_header_values_http_forbids(value, match):
    for given in (
        {"extraHeaders": {"x-token": value}},
        {"transportOptions": {"polling": {"extraHeaders": {"x-token": value}}}},
        {"transportOptions": {"websocket": {"extraHeaders": {"x-token": value}}}},
    ):
        with pytest.raises(ValueError, match=match) as info:
            normalize(given)
        assert value not in str(info.value)  # header values are often credentials
        assert "x-token" in str(info.value)
    with pytest.raises(ValueError, match=match):
        normalize(None, {"extra_headers": {"x-token": value}})


def test_header_names_http_forbids_and_our_own():
    for name in ("x token", "x:token", "", "x\ntoken"):
        with pytest.raises(ValueError, match="not a valid header name"):
            normalize(None, {"extra_headers": {name: "v"}})
    for name in ("Host", "content-length", "Transfer-Encoding"):
        with pytest.raises(ValueError, match="sets the"):
            normalize(None, {"extra_headers": {name: "1"}})
    # what HTTP allows passes: an empty value, inner spaces and tabs
    opts = normalize(None, {"extra_headers": {"x-a": "", "x-b": "a b\tc", "Authorization": "t"}})
    assert opts["extra_headers"]["x-b"] == "a b\tc"


def test_per_message_deflate_settings():
    good = {
        "threshold": 10,
        "client_no_context_takeover": True,
        "server_no_context_takeover": False,
        "client_max_window_bits": True,
        "server_max_window_bits": 10,
    }
    assert normalize(None, {"per_message_deflate": good})["per_message_deflate"] == good
    assert normalize({"perMessageDeflate": False})["per_message_deflate"] is False
    with pytest.raises(ValueError, match="did you mean 'threshold'"):
        normalize({"perMessageDeflate": {"treshold": 10}})
    with pytest.raises(ValueError, match="unknown setting 'level'"):
        normalize(None, {"per_message_deflate": {"level": 9}})
    for bad in (
        {"threshold": -1},
        {"threshold": "1k"},
        {"client_no_context_takeover": 1},
        {"server_max_window_bits": 16},
        {"client_max_window_bits": 8},
        {"server_max_window_bits": True},
    ):
        with pytest.raises(ValueError):
            normalize(None, {"per_message_deflate": bad})


def test_validate_checks_an_edited_options_dict_again():
    from sioclient.options import validate

    opts = normalize(None, {"query": {"a": 1}})
    assert validate(opts) == opts
    opts["query"] = "x=1&y=2"
    assert validate(opts)["query"] == {"x": "1", "y": "2"}
    for name, bad in (
        ("transports", ["carrier-pigeon"]),
        ("transports", []),
        ("query", 42),
        ("extra_headers", {"x-a": "abc\n"}),
        ("per_message_deflate", {"nope": 1}),
        ("verify", "/nowhere/ca.pem"),
    ):
        edited = dict(opts, **{name: bad})
        with pytest.raises(ValueError):
            validate(edited)
    with pytest.raises(ValueError, match="unknown option"):
        validate(dict(opts, extra_header={}))
    # a JavaScript name set on the live options takes effect, in its own unit
    got = validate(dict(opts, extraHeaders={"x-a": "1"}, reconnectionDelay=500))
    assert got["extra_headers"] == {"x-a": "1"} and got["reconnection_delay"] == 0.5
    assert "extraHeaders" not in got


def test_browser_only_javascript_options_are_ignored():
    opts = normalize({"withCredentials": True, "jsonp": False, "forceJSONP": False})
    assert "withCredentials" not in opts and "jsonp" not in opts


def test_query_from_string_and_values_as_javascript_writes_them():
    assert normalize({"query": "a=1&b=&c=x%20y"})["query"] == {"a": "1", "b": "", "c": "x y"}
    assert normalize(None, {"query": {"t": True, "n": 3}})["query"] == {"t": "true", "n": "3"}
    assert parse_query("?x=1") == {"x": "1"}


def test_encode_query_escapes_like_encode_uri_component():
    assert encode_query({"&a": "&=?a"}) == "%26a=%26%3D%3Fa"
    assert encode_query({"a": "b c", "d": "é!~*'()"}) == "a=b%20c&d=%C3%A9!~*'()"


def test_path_gets_a_leading_slash():
    assert normalize(None, {"path": "myownpath"})["path"] == "/myownpath"


def test_path_must_be_valid_in_a_request():
    assert normalize(None, {"path": "/a%20b/socket.io"})["path"] == "/a%20b/socket.io"
    for bad in ("/a b", "/a\nb", "/caf\u00e9", "/tab\there"):
        with pytest.raises(ValueError, match="URL path"):
            normalize(None, {"path": bad})


def test_normalize_socket():
    assert normalize_socket(None) == {"query": None, "auth": None}
    got = normalize_socket({"query": {"a": "b"}, "auth": {"token": 1}, "forceNew": True})
    assert got == {"query": {"a": "b"}, "auth": {"token": 1}}
    with pytest.raises(ValueError, match="quer"):
        normalize_socket({"quer": 1})


def test_check():
    assert check("timeout", 2) == 2.0
    with pytest.raises(ValueError):
        check("randomization_factor", 2)
    with pytest.raises(ValueError, match="unknown"):
        check("nope", 1)


def test_retries_and_ack_timeout():
    opts = normalize({"retries": 3, "ackTimeout": 500})
    assert opts["retries"] == 3 and opts["ack_timeout"] == 0.5
    assert normalize(None, {"retries": 2.0, "ack_timeout": 1})["retries"] == 2
    defaults = normalize()
    assert defaults["retries"] == 0 and defaults["ack_timeout"] is None
    for bad in ({"retries": -1}, {"retries": 1.5}, {"retries": True}, {"ack_timeout": 0}):
        with pytest.raises(ValueError):
            normalize(None, bad)
    with pytest.raises(ValueError, match="ackTimeout"):
        normalize({"ackTimeout": "soon"})


def test_transport_options_reject_typos_and_what_cannot_be_per_transport():
    with pytest.raises(
        ValueError, match=r"\['polling'\]: unknown option 'extraHeader'.*'extraHeaders'"
    ):
        normalize({"transportOptions": {"polling": {"extraHeader": {"x": "1"}}}})
    with pytest.raises(ValueError, match=r"\['websocket'\]: unknown option 'qurey'.*'query'"):
        normalize(None, {"transport_options": {"websocket": {"qurey": {"a": "1"}}}})
    # a known option that only works for the whole connection is refused, not ignored
    with pytest.raises(ValueError, match="'timeout' cannot be set per transport"):
        normalize({"transportOptions": {"polling": {"timeout": 5000}}})
    # browser-only names pass as at the top level
    opts = normalize({"transportOptions": {"polling": {"withCredentials": True, "query": "a=1"}}})
    assert opts["transport_options"] == {"polling": {"query": {"a": "1"}}}


def test_local_address_is_an_ip_address():
    assert normalize({"localAddress": "127.0.0.2"})["local_address"] == "127.0.0.2"
    assert normalize(None, {"local_address": "::1"})["local_address"] == "::1"
    assert normalize()["local_address"] is None
    with pytest.raises(ValueError, match="'local_address' must be an IP address"):
        normalize(None, {"local_address": "localhost"})
    with pytest.raises(ValueError, match="did you mean 'local_address'"):
        normalize(None, {"localAddress": "127.0.0.2"})


def test_proxy_option():
    assert normalize()["proxy"] is None
    assert normalize(None, {"proxy": False})["proxy"] is False
    url = "http://user:s3cr%40t@127.0.0.1:3128"
    assert normalize({"proxy": url})["proxy"] == url
    for bad, match in (
        ("https://user:s3cr3t@proxy:3128", "only http:// proxies"),
        ("socks5://user:s3cr3t@proxy:1080", "only http:// proxies"),
        ("http://user:s3cr3t@proxy:3128/path", "without a path"),
        ("http://user:s3cr3t@proxy:99999", "invalid port"),
        (True, "must be an 'http://"),
    ):
        with pytest.raises(ValueError, match=match) as info:
            normalize(None, {"proxy": bad})
        assert "s3cr3t" not in str(info.value)  # never the password


def test_proxy_for_reads_the_environment(monkeypatch):
    from sioclient.transports.proxy import parse_proxy, proxy_for

    assert proxy_for(None, "example.com", False) is None
    monkeypatch.setenv("HTTP_PROXY", "http://u:p%40ss@plain.proxy:3128")
    monkeypatch.setenv("https_proxy", "secure.proxy:8080")  # no scheme: http
    plain = proxy_for(None, "example.com", False)
    assert (plain.host, plain.port) == ("plain.proxy", 3128)
    assert plain.authorization == "Basic " + __import__("base64").b64encode(b"u:p@ss").decode()
    assert "p@ss" not in repr(plain)
    secure = proxy_for(None, "example.com", True)
    assert (secure.host, secure.port, secure.authorization) == ("secure.proxy", 8080, None)
    assert proxy_for(False, "example.com", False) is None
    assert proxy_for("http://given:1", "example.com", True) == parse_proxy("http://given:1")
    monkeypatch.setenv("NO_PROXY", "localhost, .internal.example")
    assert proxy_for(None, "db.internal.example", False) is None
    assert proxy_for(None, "localhost", True) is None
    assert proxy_for(None, "example.com", False) is not None
    monkeypatch.setenv("NO_PROXY", "*")
    assert proxy_for(None, "example.com", True) is None
    monkeypatch.delenv("NO_PROXY")
    monkeypatch.delenv("HTTP_PROXY")
    monkeypatch.delenv("https_proxy")
    monkeypatch.setenv("ALL_PROXY", "http://all.proxy:1")
    assert proxy_for(None, "example.com", False).host == "all.proxy"
    monkeypatch.setenv("HTTP_PROXY", "ftp://bad:s3cr3t@x:1")
    with pytest.raises(ValueError, match="HTTP_PROXY") as info:
        proxy_for(None, "example.com", False)
    assert "s3cr3t" not in str(info.value)


def test_proxy_environment_is_read_again_when_it_changes(monkeypatch):
    """The proxy variables are kept between connections, and read again after any change
    of ``os.environ``: an assignment, a deletion, a value changed in place."""
    import os

    from sioclient.url import environment_credentials, proxy_for

    monkeypatch.delenv("ALL_PROXY", raising=False)
    monkeypatch.delenv("all_proxy", raising=False)
    monkeypatch.delenv("http_proxy", raising=False)
    monkeypatch.setenv("HTTP_PROXY", "http://a.proxy:1")
    assert proxy_for(None, "example.com", False).host == "a.proxy"
    assert proxy_for(None, "example.com", False).host == "a.proxy"  # kept
    os.environ["HTTP_PROXY"] = "http://b.proxy:1"  # same length, another value
    assert proxy_for(None, "example.com", False).host == "b.proxy"
    os.environ["http_proxy"] = "http://user:s3cret@c.proxy:2"
    assert proxy_for(None, "example.com", False).host == "c.proxy"  # lower case first
    assert "s3cret" in environment_credentials()
    del os.environ["http_proxy"]
    del os.environ["HTTP_PROXY"]
    assert proxy_for(None, "example.com", False) is None
    assert "s3cret" not in environment_credentials()


def _encrypted_key(tls_files, password: bytes) -> bytes:
    from cryptography.hazmat.primitives import serialization

    with open(tls_files.client_key, "rb") as f:
        key = serialization.load_pem_private_key(f.read(), password=None)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(password),
    )


def test_passphrase_and_pem_text(tmp_path, tls_files):
    encrypted = _encrypted_key(tls_files, b"open sesame")
    path = tmp_path / "encrypted.key"
    path.write_bytes(encrypted)
    cert_pem = open(tls_files.client_cert).read()
    # keyword arguments: paths or PEM text
    opts = normalize(
        None, {"cert": tls_files.client_cert, "key": str(path), "passphrase": "open sesame"}
    )
    assert opts["passphrase"] == "open sesame"
    normalize(None, {"cert": cert_pem, "key": encrypted, "passphrase": b"open sesame"})
    # the JavaScript options dict: PEM contents (a string, or bytes as a Buffer would be)
    opts = normalize(
        {"cert": cert_pem.encode(), "key": encrypted.decode(), "passphrase": "open sesame"}
    )
    assert opts["cert"] == cert_pem and "-----BEGIN ENCRYPTED PRIVATE KEY" in opts["key"]
    with pytest.raises(ValueError, match="give its passphrase"):
        normalize({"cert": cert_pem, "key": encrypted.decode()})
    with pytest.raises(ValueError, match="wrong passphrase|could not be loaded"):
        normalize({"cert": cert_pem, "key": encrypted.decode(), "passphrase": "wrong"})
    with pytest.raises(ValueError, match="'passphrase' must be a string"):
        normalize(None, {"passphrase": 1234})


def test_ca_with_pem_cert_and_key(tls_files):
    ca_pem = open(tls_files.ca_cert).read()
    opts = normalize(
        {
            "ca": ca_pem,
            "cert": open(tls_files.client_cert).read(),
            "key": open(tls_files.client_key).read(),
        }
    )
    assert opts["verify"] == ca_pem
    from sioclient.transports.tls import create_ssl_context

    ctx = create_ssl_context(opts["verify"], opts["cert"], opts["key"])
    assert ctx.verify_mode == ssl.CERT_REQUIRED


def test_ciphers_option():
    assert normalize({"ciphers": "ECDHE-ECDSA-AES128-GCM-SHA256"})["ciphers"]
    with pytest.raises(ValueError, match="knows none of the ciphers"):
        normalize(None, {"ciphers": "NO-SUCH-CIPHER"})
    with pytest.raises(ValueError, match="set the ciphers on it"):
        normalize(
            None,
            {"ciphers": "ECDHE-ECDSA-AES128-GCM-SHA256", "verify": ssl.create_default_context()},
        )
    from sioclient.transports.tls import create_ssl_context

    # as in Node: a list without TLS 1.3 suites turns TLS 1.3 off; with only those, 1.3 only
    ctx = create_ssl_context(False, ciphers="ECDHE-ECDSA-AES128-GCM-SHA256")
    assert ctx.maximum_version == ssl.TLSVersion.TLSv1_2
    ctx = create_ssl_context(False, ciphers="TLS_AES_128_GCM_SHA256")
    assert ctx.minimum_version == ssl.TLSVersion.TLSv1_3
    ctx = create_ssl_context(False, ciphers="TLS_AES_128_GCM_SHA256:ECDHE-ECDSA-AES128-GCM-SHA256")
    assert ctx.maximum_version != ssl.TLSVersion.TLSv1_2
