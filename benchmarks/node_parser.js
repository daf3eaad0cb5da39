// Encode+decode cost of Node's socket.io parsers on the cases of benchmarks/parser.py.
//
// Run by benchmarks/parser.py (modules resolved from tests/node/node_modules):
//   node benchmarks/node_parser.js [repeats] [ms_per_repeat]
// Prints one JSON object: versions, and per implementation and case the ns/op of each repeat.
"use strict";

const path = require("path");
const { performance } = require("perf_hooks");

const NODE_MODULES = path.join(__dirname, "..", "tests", "node", "node_modules");
const need = (name) => require(path.join(NODE_MODULES, name));
const version = (name) => need(path.join(name, "package.json")).version;

const repeats = parseInt(process.argv[2] || "7", 10);
const msPerRepeat = parseFloat(process.argv[3] || "60");

const parserV3 = need("socket.io-parser-v3");
const parserV4 = need("socket.io-parser-v4");
const msgpackV3 = need("socket.io-msgpack-parser-v3");
const hasBinary = need("has-binary2"); // what socket.io-client 2.x checks before each emit

function cases() {
  const small = ["chat", { user: "alice", text: "hello world", ts: 1700000000 }];
  const bulk = [];
  for (let i = 0; i < 1000; i++) bulk.push({ id: i, name: "item" + i, ok: true });
  return {
    a: { type: 2, nsp: "/", data: small },
    b: { type: 2, nsp: "/admin", data: small, id: 42 },
    c: {
      type: 2,
      nsp: "/",
      data: [
        "upload",
        { meta: { a: Buffer.alloc(1024, 120), b: [Buffer.alloc(1024, 121)] } },
        Buffer.alloc(4096, 122),
      ],
    },
    d: { type: 2, nsp: "/", data: ["bulk", bulk] },
  };
}

// Each factory returns cycle(packet) -> the decoded packet (encode, then feed every message).
const impls = {
  "socket.io-parser v3": () => {
    const encoder = new parserV3.Encoder();
    const decoder = new parserV3.Decoder();
    let out = null;
    decoder.on("decoded", (p) => {
      out = p;
    });
    return (packet) => {
      // 3.x writes into the packet it encodes, and the 2.x client picks the binary type
      const p = { type: packet.type, nsp: packet.nsp, data: packet.data, id: packet.id };
      if (hasBinary(p.data)) p.type += 3;
      encoder.encode(p, (messages) => {
        for (const m of messages) decoder.add(m);
      });
      return out;
    };
  },
  "socket.io-parser v4": () => {
    const encoder = new parserV4.Encoder();
    const decoder = new parserV4.Decoder();
    let out = null;
    decoder.on("decoded", (p) => {
      out = p;
    });
    return (packet) => {
      for (const m of encoder.encode(packet)) decoder.add(m);
      return out;
    };
  },
  "socket.io-msgpack-parser v3": () => {
    const encoder = new msgpackV3.Encoder();
    const decoder = new msgpackV3.Decoder();
    let out = null;
    decoder.on("decoded", (p) => {
      out = p;
    });
    return (packet) => {
      for (const m of encoder.encode(packet)) decoder.add(m);
      return out;
    };
  },
};

function measure(cycle, packet) {
  // calibrate: iterations that take about msPerRepeat
  let n = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) cycle(packet);
    const dt = performance.now() - t0;
    if (dt > msPerRepeat / 4) {
      n = Math.max(1, Math.round((n * msPerRepeat) / dt));
      break;
    }
    n *= 4;
  }
  const samples = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) cycle(packet);
    const dt = Number(process.hrtime.bigint() - t0);
    samples.push(dt / n);
  }
  return samples;
}

function main() {
  const data = cases();
  const results = {};
  for (const [name, factory] of Object.entries(impls)) {
    results[name] = {};
    for (const [key, packet] of Object.entries(data)) {
      const cycle = factory();
      const decoded = cycle(packet);
      if (!decoded || decoded.nsp !== packet.nsp) {
        throw new Error(`${name} ${key}: round trip failed`);
      }
      results[name][key] = measure(cycle, packet);
    }
  }
  const out = {
    node: process.version,
    versions: {
      "socket.io-parser v3": version("socket.io-parser-v3"),
      "socket.io-parser v4": version("socket.io-parser-v4"),
      "socket.io-msgpack-parser v3": version("socket.io-msgpack-parser-v3"),
    },
    results,
  };
  process.stdout.write(JSON.stringify(out) + "\n");
}

main();
