// Encodes and decodes Socket.IO packets with the real npm parsers, for byte-compatibility tests.
//
// One JSON request per line on stdin, one JSON response per line on stdout:
//   {"id": 1, "op": "encode", "parser": "msgpack-v3", "packet": {"type": 2, "nsp": "/", ...}}
//     -> {"id": 1, "ok": true, "messages": [{"s": "text"} | {"b": "<base64>"}, ...]}
//   {"id": 2, "op": "decode", "parser": "json-v2", "messages": [...]}
//     -> {"id": 2, "ok": true, "packets": [{"type": 2, "nsp": "/", "data": [...], "id": 7}]}
//   any failure -> {"id": n, "ok": false, "error": "message"}
// Inside data, {"$bin": "<base64>"} stands for a Buffer, {"$undefined": 1} for undefined and
// {"$date": <ms>} for a Date, both ways.
//
// The packet object is built with its keys in the order socket.io-client builds them
// (type, data, id, nsp; an ACK is type, id, data, nsp), absent keys left out: that order is
// what the msgpack and JSON encodings write.

"use strict";

const readline = require("readline");

const PARSERS = {
  "default-v3": require("socket.io-parser-v3"),
  "default-v4": require("socket.io-parser-v4"),
  "json-v2": require("socket.io-json-parser-v2"),
  "json-v3": require("socket.io-json-parser-v3"),
  "msgpack-v2": require("socket.io-msgpack-parser-v2"),
  "msgpack-v3": require("socket.io-msgpack-parser-v3"),
};

function fromWire(value) {
  if (Array.isArray(value)) return value.map(fromWire);
  if (value !== null && typeof value === "object") {
    if (typeof value.$bin === "string") return Buffer.from(value.$bin, "base64");
    if (value.$undefined === 1) return undefined;
    if (typeof value.$date === "number") return new Date(value.$date);
    const out = {};
    for (const key of Object.keys(value)) out[key] = fromWire(value[key]);
    return out;
  }
  return value;
}

function toWire(value) {
  if (value === undefined) return { $undefined: 1 };
  if (Buffer.isBuffer(value)) return { $bin: value.toString("base64") };
  if (value instanceof ArrayBuffer) return { $bin: Buffer.from(value).toString("base64") };
  if (ArrayBuffer.isView(value)) {
    return { $bin: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64") };
  }
  if (value instanceof Date) return { $date: value.getTime() };
  if (Array.isArray(value)) return value.map(toWire);
  if (value !== null && typeof value === "object") {
    const out = {};
    for (const key of Object.keys(value)) out[key] = toWire(value[key]);
    return out;
  }
  return value;
}

function buildPacket(spec) {
  const packet = { type: spec.type };
  const ack = spec.type === 3 || spec.type === 6;
  if (ack && "id" in spec) packet.id = spec.id;
  if ("data" in spec) packet.data = fromWire(spec.data);
  if (!ack && "id" in spec) packet.id = spec.id;
  packet.nsp = spec.nsp;
  return packet;
}

function encodeWith(parser, packet) {
  const encoder = new parser.Encoder();
  let result;
  // 2.x encoders answer through a callback, 3.x+ return the array
  const returned = encoder.encode(packet, (messages) => {
    result = messages;
  });
  return result || returned;
}

function wireMessage(message) {
  if (typeof message === "string") return { s: message };
  return { b: Buffer.from(message).toString("base64") };
}

function decodeWith(parser, messages) {
  const decoder = new parser.Decoder();
  const packets = [];
  decoder.on("decoded", (packet) => packets.push(packet));
  for (const message of messages) {
    decoder.add("s" in message ? message.s : Buffer.from(message.b, "base64"));
  }
  return packets.map((packet) => {
    const out = { type: packet.type, nsp: packet.nsp };
    if (packet.data !== undefined) out.data = toWire(packet.data);
    if (packet.id !== undefined) out.id = packet.id;
    return out;
  });
}

function handle(request) {
  const parser = PARSERS[request.parser];
  if (!parser) throw new Error(`unknown parser ${request.parser}`);
  if (request.op === "encode") {
    return { messages: encodeWith(parser, buildPacket(request.packet)).map(wireMessage) };
  }
  if (request.op === "decode") {
    return { packets: decodeWith(parser, request.messages) };
  }
  throw new Error(`unknown op ${request.op}`);
}

const lines = readline.createInterface({ input: process.stdin, terminal: false });
lines.on("line", (line) => {
  if (!line.trim()) return;
  let request = {};
  let response;
  try {
    request = JSON.parse(line);
    response = Object.assign({ id: request.id, ok: true }, handle(request));
  } catch (err) {
    response = { id: request.id, ok: false, error: String((err && err.message) || err) };
  }
  process.stdout.write(JSON.stringify(response) + "\n");
});
lines.on("close", () => process.exit(0));
