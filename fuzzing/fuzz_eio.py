"""Engine.IO packets and payloads, revisions 3 and 4 (``_accel.load('eio')``).

Each input picks a revision and one of ``decode_payload`` (a polling body, ``str`` or
``bytes``, with or without ``max_payload``), ``decode_packet`` (a WebSocket frame, ``str`` or
``bytes``) or ``detect_revision``.  The answer must be the decoded packets or a ProtocolError,
the same from the compiled and pure twins; decoded payloads must also survive
``encode_payload`` and decoding again unchanged.
"""

from __future__ import annotations

import sys
from types import ModuleType

import _common
import atheris

PAYLOAD = 0
PACKET = 1
DETECT = 2


def check_roundtrip(mod: ModuleType, packets: list, revision: int) -> None:
    """What a payload decodes to must encode and decode back to itself."""
    if revision == 4:
        # a revision-4 payload can carry neither an empty packet list nor '\x1e' in text
        if not packets or any(isinstance(d, str) and "\x1e" in d for _, d in packets):
            return
    again = mod.decode_payload(mod.encode_payload(packets, revision), revision)
    if _common.describe(again) != _common.describe(packets):
        raise AssertionError(f"payload round trip changed {packets!r} into {again!r}")


def decode(impl: str, op: int, revision: int, body: object, max_payload: int | None) -> object:
    mod = _common.module("eio", impl)
    if op == DETECT:
        return mod.detect_revision(body)
    if op == PACKET:
        return _common.attempt(mod.decode_packet, body, revision)
    result = _common.attempt(mod.decode_payload, body, revision, max_payload)
    if result != "ProtocolError":
        check_roundtrip(mod, mod.decode_payload(body, revision, max_payload), revision)
    return result


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    revision = 3 if fdp.ConsumeBool() else 4
    op = fdp.ConsumeIntInRange(0, 2)
    max_payload = fdp.ConsumeIntInRange(0, 4096) if fdp.ConsumeIntInRange(0, 7) == 0 else None
    size = fdp.remaining_bytes()
    body: object = fdp.ConsumeBytes(size) if fdp.ConsumeBool() else fdp.ConsumeUnicode(size)

    def run(impl: str) -> object:
        return decode(impl, op, revision, body, max_payload)

    _common.differential(run, op, revision, body, max_payload)


if __name__ == "__main__":
    _common.main(test_one_input, "eio")
    sys.exit(0)
