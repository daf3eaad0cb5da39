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


def test_tls_names():
    assert normalize({"rejectUnauthorized": False})["verify"] is False
    assert normalize({"rejectUnauthorized": True})["verify"] is True
    assert normalize({"ca": "/etc/ca.pem"})["verify"] == "/etc/ca.pem"
    assert normalize(None, {"verify": "/etc/ca.pem", "cert": "c.pem", "key": "k.pem"})["cert"]
    context = ssl.create_default_context()
    assert normalize(None, {"verify": context})["verify"] is context


def test_ca_pem_contents_become_a_context():
    trustme = pytest.importorskip("trustme")
    pem = trustme.CA().cert_pem.bytes()
    opts = normalize({"ca": pem})
    assert isinstance(opts["verify"], ssl.SSLContext)
    # rejectUnauthorized false is the stronger statement
    assert normalize({"ca": pem, "rejectUnauthorized": False})["verify"] is False


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
