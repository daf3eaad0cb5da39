// A WebSocket peer for the transport tests, on Node's `ws`.
//
//   node ws_server.js '{"perMessageDeflate": true}'
//   node ws_server.js '{"cert": "server.pem", "key": "server.key"}'    (wss://)
//
// Listens on 127.0.0.1 (a free port) and prints {"event":"listening","port":N}.  The path of
// the upgrade request picks the behaviour:
//   /echo             echoes every message (text stays text, binary stays binary)
//   /inspect          answers each message with {"binary","length","compressed"} (JSON text)
//   /headers          sends the request headers and negotiated extensions as JSON; sets a cookie
//   /burst?n=&size=&binary=1   sends n messages of size bytes as fast as it can
//   /big?size=        sends one message of size bytes
//   /count            counts messages; on the text "done" answers {"count","bytes"}
//   /close?code=&reason=       closes at once
//   /ping             pings with "hello"; answers the pong with the text "pong:<payload>"
//   /fragmented       sends "hello" as two frames
//   /garbage          writes a frame with RSV2 set (a protocol violation)
//   /refuse           answers the upgrade with HTTP 400 and a JSON body
'use strict';

const fs = require('fs');
const http = require('http');
const https = require('https');
const { WebSocketServer } = require('ws');

const opts = JSON.parse(process.argv[2] || '{}');
let deflate = false;
if (opts.perMessageDeflate === true) deflate = { threshold: 1024 };
else if (opts.perMessageDeflate) deflate = opts.perMessageDeflate;

const plain = (req, res) => {
  res.writeHead(426, { 'Content-Type': 'text/plain' });
  res.end('upgrade required');
};
const server = opts.cert
  ? https.createServer({ cert: fs.readFileSync(opts.cert), key: fs.readFileSync(opts.key) }, plain)
  : http.createServer(plain);
const wss = new WebSocketServer({ noServer: true, perMessageDeflate: deflate, maxPayload: 256 * 1024 * 1024 });

wss.on('headers', (headers, req) => {
  if (req.url.startsWith('/headers')) headers.push('Set-Cookie: ws_sticky=abc123; Path=/');
});

server.on('upgrade', (req, socket, head) => {
  if (req.url.startsWith('/refuse')) {
    const body = JSON.stringify({ code: 5, message: 'Unsupported protocol version' });
    socket.end(
      'HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
    );
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
});

wss.on('connection', (ws, req) => {
  const url = new URL(req.url, 'http://localhost');
  const q = (name, dflt) => (url.searchParams.has(name) ? url.searchParams.get(name) : dflt);
  switch (url.pathname) {
    case '/echo':
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
      break;
    case '/inspect':
      ws.on('message', (data, isBinary) => {
        // The receiver still holds the flags of the message it just emitted.
        const compressed = Boolean(ws._receiver._compressed);
        ws.send(JSON.stringify({ binary: isBinary, length: data.length, compressed }));
      });
      break;
    case '/headers':
      ws.send(JSON.stringify({ headers: req.headers, extensions: ws.extensions }));
      break;
    case '/burst': {
      const n = Number(q('n', '1000'));
      const size = Number(q('size', '20'));
      const binary = q('binary', '0') === '1';
      const payload = binary ? Buffer.alloc(size, 7) : 'x'.repeat(size);
      for (let i = 0; i < n; i++) ws.send(payload, { binary });
      break;
    }
    case '/big': {
      const size = Number(q('size', '100000'));
      ws.send('y'.repeat(size));
      break;
    }
    case '/count': {
      let count = 0;
      let bytes = 0;
      ws.on('message', (data, isBinary) => {
        if (!isBinary && data.length === 4 && data.toString() === 'done') {
          ws.send(JSON.stringify({ count, bytes }));
          count = 0;
          bytes = 0;
        } else {
          count += 1;
          bytes += data.length;
        }
      });
      break;
    }
    case '/close':
      ws.close(Number(q('code', '1000')), q('reason', ''));
      break;
    case '/ping':
      ws.on('pong', (data) => ws.send('pong:' + data.toString()));
      ws.ping('hello');
      break;
    case '/fragmented':
      ws.send('hel', { fin: false, compress: false });
      ws.send('lo', { fin: true, compress: false });
      break;
    case '/garbage':
      ws._socket.write(Buffer.from([0xa1, 0x02, 0x68, 0x69])); // FIN|RSV2|text "hi"
      break;
    default:
      ws.close(4004, 'unknown path');
  }
  ws.on('error', () => {});
});

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ event: 'listening', port: server.address().port }) + '\n');
});

// Exit with the test run even if the fixture's teardown never ran.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
