// A real local HTTP receiver for webhook tests: records every request (headers and raw body)
// and answers with whatever status the test sets (a number, or a function of the request).
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  json: any;
  at: number;
}

export interface Receiver {
  url: string;
  port: number;
  received: Received[];
  /** Status to answer with (default 200), or a function choosing one per request. */
  respond: number | ((r: Received, index: number) => number);
  /** Resolves once `n` requests have arrived (rejects after `timeoutMs`). */
  waitFor(n: number, timeoutMs?: number): Promise<Received[]>;
  close(): Promise<void>;
}

export async function startReceiver(port = 0): Promise<Receiver> {
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  const r: Receiver = {
    url: '', port: 0, received: [], respond: 200,
    waitFor(n, timeoutMs = 10_000) {
      if (r.received.length >= n) return Promise.resolve(r.received);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`receiver got ${r.received.length} of ${n} requests in ${timeoutMs} ms`)), timeoutMs);
        waiters.push({ n, resolve: () => { clearTimeout(timer); resolve(r.received); } });
      });
    },
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: any;
      try { json = JSON.parse(body); } catch { json = undefined; }
      const rec: Received = { headers: req.headers, body, json, at: Date.now() };
      const index = r.received.length;
      r.received.push(rec);
      const status = typeof r.respond === 'function' ? r.respond(rec, index) : r.respond;
      res.writeHead(status, { 'Content-Type': 'text/plain' }).end(status < 300 ? 'ok' : `error ${status}`);
      for (const w of [...waiters]) if (r.received.length >= w.n) { waiters.splice(waiters.indexOf(w), 1); w.resolve(); }
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  r.port = (server.address() as AddressInfo).port;
  r.url = `http://127.0.0.1:${r.port}/hook`;
  return r;
}

/** Polls `fn` until it returns a truthy value (or throws after `timeoutMs`). */
export async function eventually<T>(fn: () => Promise<T | undefined | false | null>, timeoutMs = 10_000, stepMs = 20): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/**
 * On PostgreSQL every test server shares one database, so any process's delivery worker may
 * deliver any row. Tests that depend on one worker's settings (timeouts, auto-disable, which
 * process delivers) get a schema of their own: a fresh, empty outbox. Undefined on SQLite,
 * where each test server already has its own directory.
 */
export async function isolatedDatabaseUrl(name: string): Promise<string | undefined> {
  const { DATABASE_URL } = await import('./server.js');
  if (!DATABASE_URL) return undefined;
  const { default: postgres } = await import('postgres');
  const schema = `t_${name}_${process.pid}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  const sql = postgres(DATABASE_URL, { onnotice: () => {}, max: 1 });
  try {
    await sql.unsafe(`SET lock_timeout = '10s'; DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}`);
  } finally { await sql.end(); }
  const u = new URL(DATABASE_URL);
  u.searchParams.set('search_path', schema);
  return u.toString();
}

export async function dropIsolatedDatabase(url: string | undefined): Promise<void> {
  if (!url) return;
  const { default: postgres } = await import('postgres');
  const u = new URL(url);
  const schema = u.searchParams.get('search_path')!;
  u.searchParams.delete('search_path');
  const sql = postgres(u.toString(), { onnotice: () => {}, max: 1 });
  try { await sql.unsafe(`SET lock_timeout = '10s'; DROP SCHEMA IF EXISTS ${schema} CASCADE`); } finally { await sql.end(); }
}
