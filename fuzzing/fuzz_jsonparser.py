"""The json parser's decoder (socket.io-json-parser format), revisions 4 and 5.

Each input is a protocol revision and a few messages, text or binary (the decoder reads a
binary message as UTF-8 JSON), fed in turn to ``sioclient.parsers.get('json', protocol)``'s
decoder.  Packets or a ProtocolError, and the same from the compiled and pure twins.
"""

from __future__ import annotations

import sys

import _common
import atheris

from sioclient import parsers


def decode_all(protocol: int, messages: list) -> list:
    decoder = parsers.get("json", protocol).decoder()
    return [_common.attempt(decoder.feed, m) for m in messages]


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    protocol = 4 if fdp.ConsumeBool() else 5
    messages: list = []
    for _ in range(fdp.ConsumeIntInRange(1, 3)):
        size = fdp.ConsumeIntInRange(0, fdp.remaining_bytes())
        if fdp.ConsumeIntInRange(0, 3) == 0:
            messages.append(fdp.ConsumeBytes(size))
        else:
            messages.append(fdp.ConsumeUnicodeNoSurrogates(size))
        if fdp.ConsumeIntInRange(0, 15) == 0:
            # a packet whose data nests deep (bounded by MAX_DEPTH)
            inner = messages.pop()
            if isinstance(inner, bytes):
                inner = inner.decode("utf-8", "replace")
            data = _common.nested(fdp, inner, "[", "]")
            messages.append('{"type":2,"nsp":"/","data":["e",' + data + "]}")

    def run(impl: str) -> list:
        _common.use(impl)
        return decode_all(protocol, messages)

    _common.differential(run, protocol, messages)


if __name__ == "__main__":
    _common.main(test_one_input, "jsonparser")
    sys.exit(0)
