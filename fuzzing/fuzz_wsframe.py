"""The WebSocket frame reader (``_accel.load('wsframe').FrameReader(max_size)``).

Each input is a size bound and a byte stream cut into chunks at fuzzed places.  ``feed`` must
return messages and frames (never raise: a framing violation stops the reader with
``reader.error``, a FrameError carrying a close code).  The compiled and pure readers must
agree chunk by chunk, and the chunked stream must give what the whole stream gives at once.
"""

from __future__ import annotations

import sys

import _common
import atheris


def read(impl: str, max_size: int, chunks: list[bytes]) -> tuple:
    mod = _common.module("wsframe", impl)
    reader = mod.FrameReader(max_size)
    outputs = [_common.describe(reader.feed(chunk)) for chunk in chunks]
    error = None if reader.error is None else (reader.error.code, reader.error.reason)

    whole = mod.FrameReader(max_size)
    at_once = _common.describe(whole.feed(b"".join(chunks)))
    whole_error = None if whole.error is None else (whole.error.code, whole.error.reason)
    flat = [item for out in outputs for item in out]
    if flat != at_once or error != whole_error:
        raise AssertionError(
            f"{impl}: chunked {flat!r} / {error!r}, whole {at_once!r} / {whole_error!r}"
        )
    return outputs, error


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    if fdp.ConsumeBool():
        max_size = fdp.ConsumeIntInRange(0, 300)
    else:
        max_size = fdp.PickValueInList([65535, 65536, 2**31 - 1, 2**62, 2**63 - 1])
    cuts = sorted(fdp.ConsumeIntListInRange(fdp.ConsumeIntInRange(0, 6), 0, 4096))
    stream = fdp.ConsumeBytes(fdp.remaining_bytes())
    chunks = []
    last = 0
    for cut in cuts:
        cut = min(cut, len(stream))
        chunks.append(stream[last:cut])
        last = cut
    chunks.append(stream[last:])

    def run(impl: str) -> tuple:
        return read(impl, max_size, chunks)

    _common.differential(run, max_size, chunks)


if __name__ == "__main__":
    _common.main(test_one_input, "wsframe")
    sys.exit(0)
