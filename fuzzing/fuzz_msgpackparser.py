"""The msgpack parser's decoder (socket.io-msgpack-parser format), revisions 4 and 5.

Each input is a protocol revision and a few messages, mostly binary (msgpack), sometimes text
(revision 4 sends some packets as JSON text), fed in turn to
``sioclient.parsers.get('msgpack', protocol)``'s decoder.  Packets or a ProtocolError, and the
same from the compiled and pure twins.
"""

from __future__ import annotations

import sys

import _common
import atheris

from sioclient import parsers


def decode_all(protocol: int, messages: list) -> list:
    decoder = parsers.get("msgpack", protocol).decoder()
    return [_common.attempt(decoder.feed, m) for m in messages]


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    protocol = 4 if fdp.ConsumeBool() else 5
    messages: list = []
    for _ in range(fdp.ConsumeIntInRange(1, 3)):
        size = fdp.ConsumeIntInRange(0, fdp.remaining_bytes())
        if fdp.ConsumeIntInRange(0, 7) == 0:
            messages.append(fdp.ConsumeUnicodeNoSurrogates(size))
        else:
            messages.append(fdp.ConsumeBytes(size))
        if fdp.ConsumeIntInRange(0, 15) == 0 and isinstance(messages[-1], bytes):
            # {type: 2, nsp: "/", data: [[[...]]]}: one-item arrays nested deep
            data = _common.nested(fdp, messages.pop() or b"\xc0", b"\x91", b"")
            messages.append(b"\x83\xa4type\x02\xa3nsp\xa1/\xa4data" + data)

    def run(impl: str) -> list:
        _common.use(impl)
        return decode_all(protocol, messages)

    _common.differential(run, protocol, messages)


if __name__ == "__main__":
    _common.main(test_one_input, "msgpackparser")
    sys.exit(0)
