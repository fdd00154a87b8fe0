// Test harness: a Pinstripe server on a free port, on the store the run selects —
// PostgreSQL when PINSTRIPE_TEST_DATABASE_URL (or DATABASE_URL) is set, otherwise SQLite in a
// fresh temporary directory — plus an SDK client and a raw HTTP helper.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import Stripe from 'stripe';
import { startServer, type RunningServer, type ServerOptions } from '../../src/server.js';

const SHARED_DATABASE_URL = process.env.PINSTRIPE_TEST_DATABASE_URL ?? process.env.DATABASE_URL;

/**
 * On PostgreSQL each test file (its own process under node --test) works in its own schema of
 * the test database, as SQLite runs get their own directories: every server's scheduler tick
 * runs all the due timers it can see, and test files run their servers on different frozen
 * clocks, so one file's servers must not see another's timers. Processes a file spawns share
 * its schema through this URL. scripts/run-tests.mjs drops the schemas of earlier runs.
 */
async function fileSchema(url: string): Promise<string> {
  const { default: postgres } = await import('postgres');
  const file = basename(process.argv[1] ?? 'repl').replace(/\.test\.js$/, '');
  const schema = `tf_${file}_${process.pid}`.toLowerCase().replace(/[^a-z0-9_]/g, '_').slice(0, 63);
  const sql = postgres(url, { onnotice: () => {}, max: 1 });
  try {
    await sql.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}`);
  } finally { await sql.end(); }
  const u = new URL(url);
  u.searchParams.set('search_path', schema);
  return u.toString();
}

export const DATABASE_URL = SHARED_DATABASE_URL ? await fileSchema(SHARED_DATABASE_URL) : undefined;

export interface TestServer {
  server: RunningServer;
  url: string;
  port: number;
  /** A fresh secret key: its own account. */
  key: string;
  stripe(key?: string, options?: Record<string, unknown>): Stripe;
  request(method: string, path: string, opts?: RawOptions): Promise<RawResponse>;
  close(): Promise<void>;
}

export interface RawOptions {
  key?: string | null;
  body?: string;
  headers?: Record<string, string>;
}

export interface RawResponse {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

export function freshKey(mode: 'test' | 'live' = 'test', kind: 'sk' | 'pk' | 'rk' = 'sk'): string {
  return `${kind}_${mode}_${randomBytes(12).toString('hex')}`;
}

export async function startTestServer(opts: ServerOptions = {}): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'pinstripe-test-'));
  const server = await startServer({ port: 0, dataDir: dir, databaseUrl: DATABASE_URL, logLevel: 'silent', ...opts });
  const key = freshKey();
  const request = async (method: string, path: string, o: RawOptions = {}): Promise<RawResponse> => {
    const headers: Record<string, string> = { ...(o.headers ?? {}) };
    const k = o.key === undefined ? key : o.key;
    if (k !== null) headers.Authorization ??= `Bearer ${k}`;
    if (o.body !== undefined) headers['Content-Type'] ??= 'application/x-www-form-urlencoded';
    const res = await fetch(server.url + path, { method, headers, body: o.body });
    const text = await res.text();
    let json: any;
    try { json = JSON.parse(text); } catch { json = undefined; }
    return { status: res.status, headers: res.headers, text, json };
  };
  return {
    server, url: server.url, port: server.port, key, request,
    stripe: (k = key, options = {}) => new Stripe(k, {
      host: '127.0.0.1', port: server.port, protocol: 'http', maxNetworkRetries: 0, telemetry: false, ...options,
    } as any),
    async close() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
