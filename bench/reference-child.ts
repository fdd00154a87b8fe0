// The reference: a bare node:http server answering every request with the bytes Pinstripe
// answered for the scenario being measured (same status, Content-Type application/json, same
// body), after reading the request body like a real server would. Run in its own process,
// pinned to the same CPU as Pinstripe, so ratios against it cancel the machine's speed.
import { createServer } from 'node:http';
import { serve } from './ipc.js';

let status = 200;
let body = Buffer.from('{}');
let length = String(body.length);

const server = createServer((req, res) => {
  const reply = () => {
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': length });
    res.end(body);
  };
  if (req.method === 'GET' || req.method === 'HEAD') { req.resume(); reply(); return; }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => { void Buffer.concat(chunks); reply(); });
});
server.keepAliveTimeout = 60_000;

serve({
  respond(msg) {
    status = msg.status as number;
    body = Buffer.from(msg.body as string);
    length = String(body.length);
    return true;
  },
  close() {
    server.close();
    setImmediate(() => process.exit(0));
    return true;
  },
});

server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  process.send!({ ready: true, port: typeof addr === 'object' && addr ? addr.port : 0, pid: process.pid });
});
