"""The Engine.IO handshake (``handshake.parse_open``) and the session fed what a server sends.

Each input first goes, as text, to ``parse_open`` (a Handshake or a ProtocolError).  Then it
drives a ``sioclient.core.session.Session`` as the I/O layer does (see the module docstring):
a protocol (4, 5 or detected), a transport, then a fuzzed sequence of polling bodies or
WebSocket frames (raw, or framed by the encoder around fuzzed packets, the open packet among
them), clock ticks, sends, takes, an upgrade probe and closes.  A ProtocolError from
``receive_*`` is reported back with ``transport_error`` as the I/O layer does; anything else
raised is a bug.  The events and output of the compiled and pure Engine.IO codecs must match.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import _common
import atheris

from sioclient import ProtocolError
from sioclient.core import handshake, session
from sioclient.core.session import POLLING, WEBSOCKET, ProbeSucceeded, Session

RAW = 0
PACKETS = 1
OPEN = 2
TICK = 3
SEND = 4
TAKE = 5
PROBE = 6
PROBE_FRAME = 7
FINISH = 8
END = 9
REFUSED = 10
LAST_OP = 10


def open_json(fdp: atheris.FuzzedDataProvider) -> str:
    """An open packet's JSON, mostly well formed, with fuzzed values."""
    if fdp.ConsumeIntInRange(0, 31) == 0:
        return '{"sid":' + _common.nested(fdp, '"a"', "[", "]") + "}"
    obj: dict[str, Any] = {
        "sid": fdp.ConsumeUnicodeNoSurrogates(fdp.ConsumeIntInRange(0, 8)),
        "upgrades": fdp.PickValueInList([[], ["websocket"], ["websocket", "x"], None, "ws"]),
        "pingInterval": fdp.PickValueInList([0, 1, 25000, 2**31, 2**31 + 1, -1, 0.5, "1", None]),
        "pingTimeout": fdp.PickValueInList([0, 1, 20000, 1e9, True, float("nan")]),
    }
    if fdp.ConsumeBool():
        obj["maxPayload"] = fdp.PickValueInList([0, 1, 10, 1000000, -1, 1.5, False])
    for key in list(obj):
        if fdp.ConsumeIntInRange(0, 15) == 0:
            del obj[key]
    return json.dumps(obj)


def fuzzed_packets(fdp: atheris.FuzzedDataProvider) -> list:
    packets = []
    for _ in range(fdp.ConsumeIntInRange(1, 4)):
        ptype = fdp.ConsumeIntInRange(0, 6)
        if ptype == session.OPEN_PACKET:
            data: Any = open_json(fdp)
        elif fdp.ConsumeIntInRange(0, 3) == 0:
            data = fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 16))
            if ptype != session.MESSAGE_PACKET:
                ptype = session.MESSAGE_PACKET  # revision 4 carries binary in messages only
        else:
            data = fdp.ConsumeUnicodeNoSurrogates(fdp.ConsumeIntInRange(0, 16))
            data = data.replace("\x1e", "")
        packets.append((ptype, data))
    return packets


def framed(s: Session, fdp: atheris.FuzzedDataProvider, packets: list) -> list:
    """``packets`` as the server would send them on the session's current transport."""
    eio = _common.module("eio", "pure")
    revision = s.eio if s.eio is not None else (3 if fdp.ConsumeBool() else 4)
    if s.transport == POLLING:
        return [eio.encode_payload(packets, revision, fdp.ConsumeBool())]
    return [eio.encode_packet(p, d, revision, fdp.ConsumeBool()) for p, d in packets]


def raw(fdp: atheris.FuzzedDataProvider) -> Any:
    size = fdp.ConsumeIntInRange(0, max(0, fdp.remaining_bytes() // 2))
    return fdp.ConsumeBytes(size) if fdp.ConsumeBool() else fdp.ConsumeUnicodeNoSurrogates(size)


def receive(s: Session, what: Any, now: float) -> list:
    try:
        if s.transport == POLLING:
            return s.receive_payload(what, now)
        return s.receive_frame(what, now)
    except ProtocolError as exc:
        return ["ProtocolError", *s.transport_error(exc)]


def plan(data: bytes) -> tuple[dict, list]:
    """The session's options and the steps to run, read from the input once (so that every
    implementation runs exactly the same steps)."""
    fdp = atheris.FuzzedDataProvider(data)
    options = {
        "protocol": fdp.PickValueInList([None, 4, 5]),
        "upgrade": fdp.ConsumeBool(),
        "force_base64": fdp.ConsumeBool(),
        "max_payload": fdp.PickValueInList([None, None, 0, 64, 100000]),
        "transport": POLLING if fdp.ConsumeBool() else WEBSOCKET,
    }
    steps: list = []
    for _ in range(fdp.ConsumeIntInRange(1, 10)):
        op = fdp.ConsumeIntInRange(0, LAST_OP)
        if op == RAW or op == PROBE_FRAME:
            steps.append((op, raw(fdp)))
        elif op == PACKETS:
            steps.append((op, fuzzed_packets(fdp), fdp.ConsumeBytes(4)))
        elif op == OPEN:
            steps.append((op, open_json(fdp), fdp.ConsumeBytes(4)))
        elif op == TICK:
            steps.append((op, fdp.ConsumeIntInRange(0, 60000) / 1000.0))
        elif op == SEND:
            message = raw(fdp)
            if isinstance(message, str):
                # documented: a revision-4 polling body cannot carry it (encode_payload's
                # ValueError); Socket.IO packets never hold it raw (JSON escapes it)
                message = message.replace("\x1e", "")
            steps.append((op, message))
        elif op == END:
            steps.append((op, fdp.ConsumeIntInRange(0, 2)))
        elif op == REFUSED:
            body = raw(fdp)
            if fdp.ConsumeBool():
                body = '{"code":' + _common.nested(fdp, str(body), "[", "]")
            steps.append((op, fdp.PickValueInList([400, 403, 500]), body))
        else:
            steps.append((op,))
    return options, steps


def drive(impl: str, options: dict, steps: list) -> list:
    _common.use(impl)
    opts = dict(options)
    transport = opts.pop("transport")
    s = Session(**opts)
    s.begin(transport)
    now = 0.0
    trace: list = [s.transport_opened(now)] if transport == WEBSOCKET else []
    probe_ok = False
    for step in steps:
        op = step[0]
        if op == RAW:
            trace.append(receive(s, step[1], now))
        elif op == PACKETS or op == OPEN:
            packets = step[1] if op == PACKETS else [(session.OPEN_PACKET, step[1])]
            for item in framed(s, atheris.FuzzedDataProvider(step[2]), packets):
                trace.append(receive(s, item, now))
        elif op == TICK:
            now += step[1]
            trace.append(s.tick(now))
        elif op == SEND:
            s.send_message(step[1])
        elif op == TAKE:
            out = s.take_payload(now) if s.transport == POLLING else s.take_frames(now)
            trace.append((out, s.next_events()))
        elif op == PROBE:
            if s.can_upgrade:
                trace.append(s.start_probe(now))
        elif op == PROBE_FRAME:
            events = s.receive_probe_frame(step[1], now)
            probe_ok = probe_ok or any(isinstance(e, ProbeSucceeded) for e in events)
            trace.append(events)
        elif op == FINISH:
            # after ProbeSucceeded, with polling paused (the in-flight requests are done)
            if probe_ok and s.upgrading and not s.polling_active and s.transport == POLLING:
                trace.append((s.finish_upgrade(now), s.next_events()))
        elif op == END:
            if step[1] == 0:
                trace.append(s.close())
            elif step[1] == 1:
                trace.append(s.transport_closed())
            else:
                trace.append(s.transport_error(OSError("reset")))
        elif op == REFUSED:
            if s.state == session.OPENING and s.handshake is None:
                trace.append(s.handshake_refused(step[1], step[2]))
        trace.append((s.state, s.transport, s.eio, s.next_deadline(), s.wants_write))
    return _common.describe(trace)


def test_one_input(data: bytes) -> None:
    text = data.decode("utf-8", "replace")
    for revision in (3, 4):
        try:
            handshake.parse_open(text, revision)
        except ProtocolError:
            pass
    options, steps = plan(data)
    _common.differential(lambda impl: drive(impl, options, steps), options, steps)


if __name__ == "__main__":
    _common.main(test_one_input, "session")
    sys.exit(0)
