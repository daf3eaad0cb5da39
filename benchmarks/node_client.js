'use strict';
// The Node peer of benchmarks/e2e.py: the same scenarios with socket.io-client
// (v4 for protocol revision 5, v2 for revision 4), over WebSocket.
//
//   node benchmarks/node_client.js <url> <protocol 4|5> <scenarios|clients> '<params json>'
//
// Prints one line `RESULT {...}` on stdout, as the Python workers do.

const path = require('path');

const modules = path.join(__dirname, '..', 'tests', 'node', 'node_modules');
const [url, protocolArg, mode, paramsArg] = process.argv.slice(2);
const protocol = Number(protocolArg);
const p = JSON.parse(paramsArg);
const io = require(path.join(modules, protocol === 4 ? 'socket.io-client-v2' : 'socket.io-client-v4'));
const timeoutMs = p.timeout * 1000;
const CONNECT_CONCURRENCY = 200;

function now() {
  return Number(process.hrtime.bigint()) / 1e9;
}

function bounded(promise, what) {
  let timer;
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out`)), timeoutMs * 4);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

function connected() {
  return new Promise((resolve, reject) => {
    const sock = io(url, { transports: ['websocket'], forceNew: true, reconnection: false });
    sock.once('connect', () => resolve(sock));
    sock.once('connect_error', (err) => reject(err));
  });
}

function ack(sock, value) {
  return new Promise((resolve) => sock.emit('ack', value, resolve));
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

// CPU time of this process (user+system) in µs per operation since `from`
function cpuPerOp(from, ops) {
  const used = process.cpuUsage(from);
  return (used.user + used.system) / Math.max(ops, 1);
}

function rssKib() {
  return process.memoryUsage().rss / 1024;
}

async function clients() {
  const n = p.clients;
  const warm = await bounded(connected(), 'connect');
  const base = rssKib();
  const socks = [];
  let next = 0;
  const t0 = now();
  const c0 = process.cpuUsage();
  async function lane() {
    while (next < n) {
      next += 1;
      socks.push(await connected());
    }
  }
  const lanes = [];
  for (let i = 0; i < Math.min(CONNECT_CONCURRENCY, n); i++) lanes.push(lane());
  await bounded(Promise.all(lanes), 'clients');
  const elapsed = now() - t0;
  const cpu = cpuPerOp(c0, n);
  const after = rssKib();
  for (const s of socks) s.disconnect();
  warm.disconnect();
  return { clients_s: elapsed, clients_cpu: cpu, kib: (after - base) / n };
}

async function scenarios() {
  const out = {};
  const samples = [];
  const cpus = [];
  for (let i = 0; i < p.connects; i++) {
    const t0 = now();
    const c0 = process.cpuUsage();
    const sock = await bounded(connected(), 'connect');
    samples.push((now() - t0) * 1000);
    cpus.push(cpuPerOp(c0, 1));
    sock.disconnect();
  }
  out.connect = median(samples);
  out.connect_cpu = median(cpus);

  const sock = await bounded(connected(), 'connect');
  let n = 0;
  let t0 = now();
  let c0 = process.cpuUsage();
  const end = t0 + p.rtt_seconds;
  while (now() < end) {
    await bounded(ack(sock, n), 'rtt');
    n += 1;
  }
  out.rtt = n / (now() - t0);
  out.rtt_cpu = cpuPerOp(c0, n);

  const total = p.pipelined;
  let sent = 0;
  let acked = 0;
  t0 = now();
  c0 = process.cpuUsage();
  await bounded(new Promise((resolve) => {
    function onAck() {
      acked += 1;
      if (acked === total) resolve();
      else if (sent < total) {
        sent += 1;
        sock.emit('ack', sent, onAck);
      }
    }
    for (let i = 0; i < Math.min(p.window, total); i++) {
      sent += 1;
      sock.emit('ack', sent, onAck);
    }
  }), 'pipelined');
  out.pipelined = total / (now() - t0);
  out.pipelined_cpu = cpuPerOp(c0, total);

  const count = p.flood;
  let got = 0;
  t0 = now();
  c0 = process.cpuUsage();
  await bounded(new Promise((resolve) => {
    sock.on('flood', () => {
      got += 1;
      if (got === count) resolve();
    });
    sock.emit('flood', count, p.payload);
  }), 'flood');
  out.flood = count / (now() - t0);
  out.flood_cpu = cpuPerOp(c0, count);
  sock.disconnect();
  return out;
}

(mode === 'clients' ? clients() : scenarios()).then(
  (result) => {
    process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
    process.exit(0);
  },
  (err) => {
    process.stderr.write(`${err && err.stack ? err.stack : err}\n`);
    process.exit(1);
  },
);
