"""The default parser's decoder (socket.io-parser format), revisions 4 and 5.

Each input is a protocol revision and a few Engine.IO messages: a text packet, then text or
binary messages (attachments, or text arriving while attachments are due).  Every message goes
to ``sioclient.parsers.get('default', protocol).decoder().feed``; the decoder must answer with
packets or a ProtocolError, and the compiled and pure decoders must answer alike.
"""

from __future__ import annotations

import sys

import _common
import atheris

from sioclient import parsers


def decode_all(protocol: int, messages: list) -> list:
    """What one decoder answers to each message in turn (it starts over after an error)."""
    decoder = parsers.get("default", protocol).decoder()
    return [_common.attempt(decoder.feed, m) for m in messages]


def messages_from(fdp: atheris.FuzzedDataProvider) -> list:
    count = fdp.ConsumeIntInRange(1, 5)
    text_len = fdp.ConsumeIntInRange(0, fdp.remaining_bytes())
    text = fdp.ConsumeUnicodeNoSurrogates(text_len)
    if fdp.ConsumeIntInRange(0, 15) == 0:
        # a binary event whose placeholder sits deep inside its data
        head = fdp.PickValueInList(["51-", "2", "3", "61-/a,1", "0", "4"])
        text = head + '["e",' + _common.nested(fdp, text, "[", "]") + "]"
    messages: list = [text]
    for _ in range(count - 1):
        size = fdp.ConsumeIntInRange(0, 64)
        if fdp.ConsumeIntInRange(0, 7) == 0:
            messages.append(fdp.ConsumeUnicodeNoSurrogates(size))
        else:
            messages.append(fdp.ConsumeBytes(size))
    return messages


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    protocol = 4 if fdp.ConsumeBool() else 5
    messages = messages_from(fdp)

    def run(impl: str) -> list:
        _common.use(impl)
        return decode_all(protocol, messages)

    _common.differential(run, protocol, messages)


if __name__ == "__main__":
    _common.main(test_one_input, "sioparser")
    sys.exit(0)
