// Test harness: a Pinstripe server on a free port, on the store the run selects —
// PostgreSQL when PINSTRIPE_TEST_DATABASE_URL (or DATABASE_URL) is set, otherwise SQLite in a
// fresh temporary directory — plus an SDK client and a raw HTTP helper.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import Stripe from 'stripe';
import { startServer, type RunningServer, type ServerOptions } from '../../src/server.js';

export const DATABASE_URL = process.env.PINSTRIPE_TEST_DATABASE_URL ?? process.env.DATABASE_URL;

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
