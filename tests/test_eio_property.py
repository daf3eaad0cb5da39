"""Property tests of the Engine.IO codec: round trips, and the two builds agreeing.

Random packet lists (text with astral characters, binary) go through encode_payload /
decode_payload in both revisions; the compiled and the pure module must give the same bytes,
and must agree on which random or damaged inputs they reject (always with ProtocolError).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sioclient import ProtocolError
from sioclient.core import _accel

TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)),
    max_size=40,
)
SETTINGS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module")
def twins():
    """(compiled, pure); the pure module twice when extensions are disabled on purpose."""
    pure = _accel.pure("eio")
    if _accel.NO_EXTENSIONS:
        return pure, pure
    compiled = _accel.compiled("eio")
    if compiled is None:
        pytest.fail("compiled module sioclient.core._eio_c is not built")
    return compiled, pure


def _packets(revision: int):
    text_packet = st.tuples(st.integers(0, 6), TEXT)
    if revision == 4:
        text_packet = st.tuples(st.integers(0, 6), TEXT.filter(lambda s: "\x1e" not in s))
        binary_packet = st.tuples(st.just(4), st.binary(max_size=40))
    else:
        binary_packet = st.tuples(st.integers(0, 6), st.binary(max_size=40))
    return st.lists(st.one_of(text_packet, binary_packet), max_size=8)


def _outcome(fn, *args):
    try:
        return ("ok", fn(*args))
    except ProtocolError as exc:
        return ("error", str(exc))


@SETTINGS
@given(packets=_packets(3))
def test_roundtrip_revision3(twins, packets):
    compiled, pure = twins
    for b64 in (True, False):
        body = pure.encode_payload(packets, 3, b64)
        assert compiled.encode_payload(packets, 3, b64) == body
        for mod in twins:
            assert mod.decode_payload(body, 3) == packets
            if isinstance(body, str):
                # as the I/O layer receives it, undecoded
                assert mod.decode_payload(body.encode("utf-8"), 3) == packets


@SETTINGS
@given(packets=_packets(4).filter(lambda p: len(p) > 0))
def test_roundtrip_revision4(twins, packets):
    compiled, pure = twins
    body = pure.encode_payload(packets, 4)
    assert compiled.encode_payload(packets, 4) == body
    for mod in twins:
        assert mod.decode_payload(body, 4) == packets
        assert mod.decode_payload(body.encode("utf-8"), 4) == packets


@SETTINGS
@given(revision=st.sampled_from([3, 4]), ptype=st.integers(0, 6), data=TEXT | st.binary())
def test_frame_roundtrip(twins, revision, ptype, data):
    compiled, pure = twins
    if revision == 4 and isinstance(data, bytes):
        ptype = 4
    for binary_ok in (True, False):
        frame = pure.encode_packet(ptype, data, revision, binary_ok)
        assert compiled.encode_packet(ptype, data, revision, binary_ok) == frame
        for mod in twins:
            assert mod.decode_packet(frame, revision) == (ptype, data)


@SETTINGS
@given(revision=st.sampled_from([3, 4]), body=st.text(max_size=60) | st.binary(max_size=60))
def test_random_payloads_agree(twins, revision, body):
    compiled, pure = twins
    assert _outcome(compiled.decode_payload, body, revision) == _outcome(
        pure.decode_payload, body, revision
    )
    assert _outcome(compiled.decode_packet, body, revision) == _outcome(
        pure.decode_packet, body, revision
    )
    assert compiled.detect_revision(body) == pure.detect_revision(body)


@SETTINGS
@given(
    revision=st.sampled_from([3, 4]),
    packets=st.lists(st.tuples(st.integers(0, 6), TEXT | st.binary(max_size=20)), max_size=5),
    cut=st.integers(0, 400),
    junk=st.binary(max_size=3),
    b64=st.booleans(),
)
def test_damaged_payloads_agree(twins, revision, packets, cut, junk, b64):
    compiled, pure = twins
    if revision == 4:
        packets = [
            (4, d) if isinstance(d, bytes) else (t, d.replace("\x1e", "")) for t, d in packets
        ]
    body = pure.encode_payload(packets, revision, b64)
    raw = body.encode("utf-8") if isinstance(body, str) else body
    # cut the body short and splice junk in: both builds must fail (or succeed) alike
    damaged = raw[:cut] + junk + raw[cut:][len(junk) :]
    assert _outcome(compiled.decode_payload, damaged, revision) == _outcome(
        pure.decode_payload, damaged, revision
    )
