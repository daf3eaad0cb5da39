'use strict';
// A Socket.IO test server for socket.io 2.x, 3.x and 4.x with one event vocabulary
// (see README.md in this folder). Configured by a JSON object given as the first
// argument or in the SIO_SERVER_CONFIG environment variable.
//
// stdout carries one JSON line: {"event":"listening","port":N} once bound, or
// {"event":"error",...} if the listen failed. Logs go to stderr only with `debug`.

const fs = require('fs');
const http = require('http');
const https = require('https');

const cfg = Object.assign(
  {},
  JSON.parse(process.env.SIO_SERVER_CONFIG || '{}'),
  JSON.parse(process.argv[2] || '{}'),
);
const version = Number(cfg.version || 4);
if (![2, 3, 4].includes(version)) {
  throw new Error(`unsupported version ${cfg.version}`);
}

const STATIC_NAMESPACES = ['/', '/admin', '/custom', '/private', '/early'];
// Dynamic namespaces: /dynamic-<anything>; socket.io >= 2.1 accepts a regex in of().
const DYNAMIC_NAMESPACE = /^\/dynamic-[\w.-]+$/;

function log(...args) {
  if (cfg.debug) process.stderr.write(`[sio${version}] ${args.join(' ')}\n`);
}

function out(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

function loadParser() {
  const gen = version === 2 ? 'v2' : 'v3';
  switch (cfg.parser || 'default') {
    case 'default':
      return null;
    case 'json':
      return require(`socket.io-json-parser-${gen}`);
    case 'msgpack':
      return require(`socket.io-msgpack-parser-${gen}`);
    default:
      throw new Error(`unknown parser ${cfg.parser}`);
  }
}

function serverOptions() {
  const opts = { path: cfg.path || '/socket.io', serveClient: false };
  for (const key of ['transports', 'pingInterval', 'pingTimeout', 'maxHttpBufferSize',
    'upgradeTimeout']) {
    if (cfg[key] !== undefined && cfg[key] !== null) opts[key] = cfg[key];
  }
  if (cfg.perMessageDeflate !== undefined) {
    // true means Node's usual settings: compress frames of 1024 bytes and more.
    opts.perMessageDeflate = cfg.perMessageDeflate === true ? { threshold: 1024 }
      : cfg.perMessageDeflate;
  }
  if (cfg.cookie !== undefined) {
    // Absent: each generation's default (engine.io 3.x sets an `io` cookie, later ones none).
    let cookie = cfg.cookie;
    if (cookie === true) cookie = { name: 'io' };
    else if (typeof cookie === 'string') cookie = { name: cookie };
    if (version === 2) {
      opts.cookie = cookie ? cookie.name : false;
      if (cookie && cookie.path !== undefined) opts.cookiePath = cookie.path;
      if (cookie && cookie.httpOnly !== undefined) opts.cookieHttpOnly = cookie.httpOnly;
    } else {
      opts.cookie = cookie ? Object.assign({ path: '/', httpOnly: true, sameSite: 'lax' },
        cookie) : false;
    }
  }
  if (version >= 3 && cfg.allowEIO3) opts.allowEIO3 = true;
  // Connection state recovery exists from socket.io 4.6 on; older servers run without it, so
  // that a test can check that nothing changes there. `recovery`: true or the longest gap (ms).
  if (version === 4 && cfg.recovery) {
    opts.connectionStateRecovery = {
      maxDisconnectionDuration: cfg.recovery === true ? 120000 : Number(cfg.recovery),
      skipMiddlewares: true,
    };
  }
  const parser = loadParser();
  if (parser) opts.parser = parser;
  return opts;
}

function createHttpServer() {
  if (!cfg.key && !cfg.cert) return http.createServer();
  const tls = { key: fs.readFileSync(cfg.key), cert: fs.readFileSync(cfg.cert) };
  if (cfg.clientCa) {
    tls.ca = fs.readFileSync(cfg.clientCa);
    tls.requestCert = true;
    tls.rejectUnauthorized = true;
  }
  if (cfg.ciphers) tls.ciphers = cfg.ciphers;
  if (cfg.maxVersion) tls.maxVersion = cfg.maxVersion;
  return https.createServer(tls);
}

function createIo(httpServer, opts) {
  if (version === 2) return require('socket.io-v2')(httpServer, opts);
  const { Server } = require(version === 3 ? 'socket.io-v3' : 'socket.io-v4');
  return new Server(httpServer, opts);
}

function connectedCount(nsp) {
  // 2.x keeps connected sockets in an object, 3.x/4.x in a Map.
  return version === 2 ? Object.keys(nsp.connected).length : nsp.sockets.size;
}

function parseCookies(header) {
  const cookies = {};
  if (!header) return cookies;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    if (name && !(name in cookies)) cookies[name] = decodeURIComponent(part.slice(eq + 1).trim());
  }
  return cookies;
}

// `record`: a file that gets one JSON line [namespace, event, args] per event received, on
// every namespace, across restarts (it is appended to). Lines are written every few ms and on
// shutdown, so an event whose ack the client got is in the file once the server has stopped.
const recordPath = cfg.record || null;
let recordLines = [];

function flushRecord() {
  if (!recordPath || recordLines.length === 0) return;
  const text = recordLines.join('');
  recordLines = [];
  fs.appendFileSync(recordPath, text);
}

if (recordPath) setInterval(flushRecord, 20).unref();

function popAck(args) {
  return typeof args[args.length - 1] === 'function' ? args.pop() : null;
}

// Values the handshake must carry on guarded namespaces (auth in 3.x/4.x, or query).
const required = cfg.auth || { token: 'secret' };
const guarded = new Set(cfg.authNamespaces || ['/private']);

function authorize(socket, next) {
  const hs = socket.handshake;
  const ok = Object.keys(required).every((k) => {
    const want = String(required[k]);
    const fromAuth = hs.auth && hs.auth[k] !== undefined ? String(hs.auth[k]) : undefined;
    const fromQuery = hs.query && hs.query[k] !== undefined ? String(hs.query[k]) : undefined;
    return fromAuth === want || fromQuery === want;
  });
  if (ok) return next();
  const err = new Error('not authorized');
  // 2.x would send err.data instead of the message, so data is set from 3.x on only.
  if (version >= 3) err.data = { code: 401 };
  log('refused', socket.nsp.name);
  return next(err);
}

// /early: its middleware emits `early` (i) events, each asking for an ack, before the socket
// joins; it lets the socket join only when the handshake carries `accept`, and otherwise never
// answers the CONNECT. `early` and `accept` come from the auth payload or the query.
function early(socket, next) {
  const hs = socket.handshake;
  const get = (k) => (hs.auth && hs.auth[k] !== undefined ? hs.auth[k]
    : hs.query && hs.query[k]);
  const n = Number(get('early')) || 0;
  for (let i = 0; i < n; i++) socket.emit('early', i, () => {});
  if (get('accept')) next();
}

function handshakeOf(socket) {
  const hs = socket.handshake;
  return {
    query: hs.query,
    headers: hs.headers,
    auth: version >= 3 ? hs.auth : null,
    url: hs.url,
    transport: socket.conn.transport.name,
    eio: socket.conn.protocol || 3,
    cookies: parseCookies(hs.headers.cookie),
    nsp: socket.nsp.name,
    id: socket.id,
    address: hs.address,
  };
}

// `flaky` (key, n, value): the first n deliveries of a key are left unanswered, the later ones
// acked with `value`; `flaky-log` (key) answers every value delivered for that key, in order.
// Both count across sockets and reconnections.
const flakyCounts = new Map();
const flakyLog = new Map();

// `ack` events answered, across sockets and namespaces; `acks-answered` tells how many (a load
// generator's calls counted by the server, over any window of its run).
let acksAnswered = 0;

function onConnection(socket) {
  const nsp = socket.nsp;
  log('connect', nsp.name, socket.id);
  const received = [];

  socket.use((packet, next) => {
    if (packet[0] !== 'get-received') {
      const args = packet.slice(1);
      popAck(args);
      received.push([packet[0], args]);
      if (recordPath) recordLines.push(JSON.stringify([nsp.name, packet[0], args]) + '\n');
    }
    next();
  });

  socket.on('echo', (...args) => {
    const ack = popAck(args);
    socket.emit('echo', ...args);
    if (ack) ack(...args);
  });
  socket.on('ack', (...args) => {
    const ack = popAck(args);
    if (ack) {
      acksAnswered += 1;
      ack(...args);
    }
  });
  socket.on('acks-answered', (...args) => {
    const ack = popAck(args);
    if (ack) ack(acksAnswered);
  });
  socket.on('emit-back', (event, ...args) => {
    const ack = popAck(args);
    socket.emit(event, ...args);
    if (ack) ack();
  });
  socket.on('server-ack', (event, ...args) => {
    const ack = popAck(args);
    socket.emit(event, ...args, (...res) => socket.emit('server-ack-result', ...res));
    if (ack) ack();
  });
  socket.on('flood', (count, payload, ...rest) => {
    const ack = popAck(rest);
    const n = Number(count) || 0;
    for (let i = 0; i < n; i++) socket.emit('flood', i, payload);
    socket.emit('flood-done', n);
    if (ack) ack(n);
  });
  socket.on('flaky', (key, n, value, ...rest) => {
    const ack = popAck(rest);
    const count = (flakyCounts.get(key) || 0) + 1;
    flakyCounts.set(key, count);
    if (!flakyLog.has(key)) flakyLog.set(key, []);
    flakyLog.get(key).push(value);
    if (count > Number(n) && ack) ack(value);
  });
  socket.on('flaky-log', (key, ...rest) => {
    const ack = popAck(rest);
    if (ack) ack(flakyLog.get(key) || []);
  });
  // `stream` (count, every): `tick` 0..count-1, one every `every` ms, on this socket even while
  // it is disconnected (a server with recovery keeps them for the client's return).
  socket.on('stream', (count, every, ...rest) => {
    const ack = popAck(rest);
    let i = 0;
    const timer = setInterval(() => {
      if (i >= count) {
        clearInterval(timer);
        return;
      }
      socket.emit('tick', i);
      i += 1;
    }, Number(every) || 10);
    if (ack) ack();
  });
  socket.on('disconnect-me', (...args) => {
    const ack = popAck(args);
    if (ack) ack();
    socket.disconnect();
  });
  socket.on('close-engine', (...args) => {
    const ack = popAck(args);
    if (ack) ack();
    socket.conn.close();
  });
  socket.on('get-handshake', (...args) => {
    const ack = popAck(args);
    if (ack) ack(handshakeOf(socket));
  });
  socket.on('count', (...args) => {
    const ack = popAck(args);
    if (ack) ack(connectedCount(nsp));
  });
  socket.on('get-received', (...args) => {
    const ack = popAck(args);
    if (ack) ack(received.slice());
  });
  socket.on('disconnect', (reason) => log('disconnect', nsp.name, socket.id, reason));
  // Without a listener 2.x prints socket errors; they are expected in tests.
  socket.on('error', (err) => log('socket error', nsp.name, err && err.message));
}

const httpServer = createHttpServer();
const io = createIo(httpServer, serverOptions());

for (const name of STATIC_NAMESPACES) {
  const nsp = io.of(name);
  if (guarded.has(name)) nsp.use(authorize);
  if (name === '/early') nsp.use(early);
  nsp.on('connection', onConnection);
}
const dynamic = io.of(DYNAMIC_NAMESPACE);
if (guarded.has('dynamic')) dynamic.use(authorize);
dynamic.on('connection', onConnection);

let closing = false;
function shutdown(code) {
  if (closing) return;
  closing = true;
  log('shutting down');
  try {
    io.close();
  } catch (e) {
    // Closing twice or while listening failed: nothing left to release.
  }
  flushRecord();
  process.exit(code);
}

httpServer.on('error', (err) => {
  out({ event: 'error', code: err.code || null, message: String(err.message) });
  process.exit(1);
});
httpServer.listen({ port: Number(cfg.port || 0), host: cfg.host || '127.0.0.1' }, () => {
  out({ event: 'listening', port: httpServer.address().port });
  log('listening on', httpServer.address().address, httpServer.address().port);
});

process.on('SIGTERM', () => shutdown(0));
process.on('SIGINT', () => shutdown(0));
if (cfg.exitOnStdinClose !== false) {
  // The parent holds our stdin: when it goes away (even by crashing), so do we.
  process.stdin.on('end', () => shutdown(0));
  process.stdin.on('close', () => shutdown(0));
  process.stdin.on('error', () => shutdown(0));
  process.stdin.resume();
}
