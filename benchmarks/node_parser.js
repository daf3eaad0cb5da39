// Node's socket.io parsers, measured for benchmarks/parser.py the way that script measures ours.
//
// Run by benchmarks/parser.py (modules resolved from tests/node/node_modules):
//   node benchmarks/node_parser.js
// It answers one JSON request per line on stdin with one JSON line on stdout, so that the
// Python side can interleave Node's repeats with its own:
//   {"op": "versions"}                                  -> {"node": ..., "versions": {...}}
//   {"op": "run", "impl": I, "case": C, "what": "encode"|"decode", "ms": 50}
//                                                       -> {"ns": <ns per operation>}
// The first "run" of an (impl, case, what) calibrates its iteration count to about "ms"
// milliseconds; every "run" is then one timed repeat of that many iterations.
//
// encode = build the packet as socket.io-client 4's Socket.emit does ({type, data: [event,
// ...args], options}, then the ack id and the namespace), then Encoder.encode(packet).
// decode = Decoder.add() of each message of that packet into one long-lived Decoder.
"use strict";

const path = require("path");
const readline = require("readline");

const NODE_MODULES = path.join(__dirname, "..", "tests", "node", "node_modules");
const need = (name) => require(path.join(NODE_MODULES, name));
const version = (name) => need(path.join(name, "package.json")).version;

const IMPLS = {
  "socket.io-parser v4": need("socket.io-parser-v4"),
  "socket.io-msgpack-parser v3": need("socket.io-msgpack-parser-v3"),
};

function cases() {
  const small = { user: "alice", text: "hello world", ts: 1700000000 };
  const bulk = [];
  for (let i = 0; i < 1000; i++) bulk.push({ id: i, name: "item" + i, ok: true });
  return {
    a: { nsp: "/", event: "chat", args: [small], id: undefined },
    b: { nsp: "/admin", event: "chat", args: [small], id: 42 },
    c: {
      nsp: "/",
      event: "upload",
      args: [
        { meta: { a: Buffer.alloc(1024, 120), b: [Buffer.alloc(1024, 121)] } },
        Buffer.alloc(4096, 122),
      ],
      id: undefined,
    },
    d: { nsp: "/", event: "bulk", args: [bulk], id: undefined },
  };
}

// What Socket.emit and Socket.packet do before the manager hands the packet to the encoder.
function emitPacket(c) {
  const packet = { type: 2, data: [c.event, ...c.args] };
  packet.options = { compress: true };
  if (c.id !== undefined) packet.id = c.id;
  packet.nsp = c.nsp;
  return packet;
}

// One closure per (impl, case, what), each with its own encoder or decoder, so that no
// call site is shared between implementations.
function makeLoop(parser, c, what) {
  if (what === "encode") {
    const encoder = new parser.Encoder();
    return (n) => {
      let out = null;
      for (let i = 0; i < n; i++) out = encoder.encode(emitPacket(c));
      return out;
    };
  }
  const messages = new parser.Encoder().encode(emitPacket(c));
  const decoder = new parser.Decoder();
  let last = null;
  decoder.on("decoded", (p) => {
    last = p;
  });
  const loop = (n) => {
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < messages.length; j++) decoder.add(messages[j]);
    }
    return last;
  };
  loop(1);
  if (last === null || last.nsp !== c.nsp || last.data[0] !== c.event) {
    throw new Error("round trip failed");
  }
  return loop;
}

const state = new Map();
const WARM_MS = 300;

// "cpu": the process's user+system time (V8's helper threads included), which leaves out the
// time a loaded machine spends running something else; "wall": the monotonic clock
let clockName = "cpu";
function now() {
  if (clockName === "wall") return process.hrtime.bigint();
  const u = process.cpuUsage();
  return BigInt(u.user + u.system) * 1000n;
}

function timed(loop, n) {
  const t0 = now();
  loop(n);
  return Number(now() - t0);
}

function run(req, data) {
  clockName = req.clock || "wall";
  const key = `${req.impl}|${req.case}|${req.what}`;
  let entry = state.get(key);
  if (entry === undefined) {
    const loop = makeLoop(IMPLS[req.impl], data[req.case], req.what);
    // warm the JIT up first (V8 compiles hot code in tiers, the last ones after thousands of
    // calls): run for WARM_MS, then calibrate, growing n until a batch takes a quarter of "ms"
    const warmEnd = process.hrtime.bigint() + BigInt(WARM_MS * 1e6);
    while (process.hrtime.bigint() < warmEnd) loop(100);
    let n = 1;
    for (;;) {
      const dt = timed(loop, n);
      if (dt > (req.ms * 1e6) / 4) {
        n = Math.max(1, Math.round((n * req.ms * 1e6) / dt));
        break;
      }
      n *= 4;
    }
    entry = { loop, n };
    state.set(key, entry);
  }
  return timed(entry.loop, entry.n) / entry.n;
}

function main() {
  const data = cases();
  const rl = readline.createInterface({ input: process.stdin });
  rl.on("line", (line) => {
    const req = JSON.parse(line);
    let out;
    try {
      if (req.op === "versions") {
        out = {
          node: process.version,
          versions: {
            "socket.io-parser v4": version("socket.io-parser-v4"),
            "socket.io-msgpack-parser v3": version("socket.io-msgpack-parser-v3"),
          },
        };
      } else {
        out = { ns: run(req, data) };
      }
    } catch (err) {
      out = { error: String(err && err.stack ? err.stack : err) };
    }
    process.stdout.write(JSON.stringify(out) + "\n");
  });
}

main();
