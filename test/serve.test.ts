// The real `pinstripe serve` binary, as a user runs it: it prints its URL and a key pair,
// finishes in-flight requests on SIGTERM/SIGINT and exits 0, prints the same keys and makes the
// same ids under --seed, and never loses an acknowledged write to kill -9. On PostgreSQL
// (DATABASE_URL set) the child processes share the test database.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import http from 'node:http';
import Stripe from 'stripe';
import { DATABASE_URL, freshKey } from './helpers/server.js';

const BIN = fileURLToPath(new URL('../../bin/pinstripe.js', import.meta.url));
const dirs: string[] = [];
after(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

function dataDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'pinstripe-cli-'));
  dirs.push(d);
  return d;
}

interface Child {
  proc: ChildProcess;
  url: string;
  port: number;
  secret: string;
  publishable: string;
  stdout: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs `pinstripe serve` on a free port and waits for its ready banner. */
async function serve(dir: string, extra: string[] = []): Promise<Child> {
  const env = { ...process.env };
  if (DATABASE_URL) env.DATABASE_URL = DATABASE_URL; else delete env.DATABASE_URL;
  const proc = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--data', dir, '--log-level', 'warn', ...extra], {
    env, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stdout!.setEncoding('utf8').on('data', (s: string) => { out += s; });
  proc.stderr!.setEncoding('utf8').on('data', (s: string) => { err += s; });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.on('exit', (code, signal) => resolve({ code, signal }));
  });
  const deadline = Date.now() + 15_000;
  while (!/publishable key:\s+\S+/.test(out)) {
    if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`server did not start: ${out}\n${err}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const url = /listening on (http:\/\/\S+)/.exec(out)![1]!;
  return {
    proc, url, port: Number(new URL(url).port),
    secret: /secret key:\s+(\S+)/.exec(out)![1]!,
    publishable: /publishable key:\s+(\S+)/.exec(out)![1]!,
    stdout: () => out,
    exited,
  };
}

const sdk = (c: Child, key: string) => new Stripe(key, {
  host: '127.0.0.1', port: c.port, protocol: 'http', maxNetworkRetries: 0, telemetry: false,
} as any);

describe('pinstripe serve (the real binary)', () => {
  test('prints its URL and a ready-to-copy secret and publishable key of one account', async () => {
    const c = await serve(dataDir(), ['--log-level', 'info']);
    try {
      assert.match(c.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.match(c.secret, /^sk_test_[A-Za-z0-9]+$/);
      assert.equal(c.publishable, `pk_test_${c.secret.slice('sk_test_'.length)}`);
      const made = await sdk(c, c.secret).customers.create({ name: 'from the banner key' });
      assert.equal(made.livemode, false);
      // The publishable key is the same account, but cannot call secret-only endpoints.
      await assert.rejects(sdk(c, c.publishable).customers.retrieve(made.id), (e: any) =>
        e.statusCode === 401 && /publishable API key/.test(e.message));
      // Every request is logged (pino, one JSON line) with its Request-Id, errors included.
      const r = await fetch(`${c.url}/v1/customers/cus_missing`, { headers: { Authorization: `Bearer ${c.secret}` } });
      const reqId = r.headers.get('request-id')!;
      const deadline = Date.now() + 5000;
      let line: any;
      while (!line && Date.now() < deadline) {
        line = c.stdout().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)).find((l) => l.reqId === reqId && l.msg === 'request');
        if (!line) await new Promise((res) => setTimeout(res, 20));
      }
      assert.ok(line, `no log line for ${reqId}`);
      assert.equal(line.status, 404);
      assert.equal(line.path, '/v1/customers/cus_missing');
    } finally {
      c.proc.kill('SIGTERM');
      assert.deepEqual(await c.exited, { code: 0, signal: null });
    }
  });

  test('SIGTERM finishes the in-flight request, closes the store and exits 0', async () => {
    const dir = dataDir();
    const c = await serve(dir);
    const key = freshKey();
    const body = `name=${'in-flight'}&description=${'x'.repeat(2000)}`;
    // Send the headers and half the body, so the request is in flight when the signal lands.
    const response = new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = http.request(`${c.url}/v1/customers`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': Buffer.byteLength(body) },
      }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (s: string) => { text += s; }).on('end', () => resolve({ status: res.statusCode!, text }));
      });
      req.on('error', reject);
      req.write(body.slice(0, 1000));
      setTimeout(() => {
        c.proc.kill('SIGTERM');
        setTimeout(() => {
          // Still running: it waits for this request.
          assert.equal(c.proc.exitCode, null);
          req.end(body.slice(1000));
        }, 300);
      }, 200);
    });
    const r = await response;
    const answeredAt = Date.now();
    assert.equal(r.status, 200, r.text);
    const made = JSON.parse(r.text);
    assert.equal(made.name, 'in-flight');
    assert.deepEqual(await c.exited, { code: 0, signal: null });
    // It does not linger on the now idle keep-alive connection (the client would hold it 5 s).
    assert.ok(Date.now() - answeredAt < 3000, `exited ${Date.now() - answeredAt} ms after answering`);
    // New connections are refused once it has gone; the write is on disk for the next process.
    await assert.rejects(fetch(`${c.url}/v1/customers`));
    const again = await serve(dir);
    try {
      const got = await sdk(again, key).customers.retrieve(made.id);
      assert.deepEqual(got, made);
    } finally {
      again.proc.kill('SIGINT');
      assert.deepEqual(await again.exited, { code: 0, signal: null });
    }
  });

  test('SIGINT on an idle server exits 0', async () => {
    const c = await serve(dataDir());
    await sdk(c, freshKey()).customers.list();
    c.proc.kill('SIGINT');
    assert.deepEqual(await c.exited, { code: 0, signal: null });
  });

  test('--seed prints the same keys and makes the same ids on every run', async () => {
    const runs: Array<{ secret: string; ids: string[] }> = [];
    for (let i = 0; i < 2; i++) {
      const c = await serve(dataDir(), ['--seed', '42']);
      try {
        // A fresh account per run: on PostgreSQL both runs share one database.
        const s = sdk(c, freshKey());
        const cus = await s.customers.create({ name: 'seeded' });
        const prod = await s.products.create({ name: 'seeded', default_price_data: { currency: 'usd', unit_amount: 100 } });
        const ev = (await s.events.list({ limit: 1 })).data[0]!;
        runs.push({ secret: c.secret, ids: [cus.id, prod.id, String(prod.default_price), ev.id, cus.invoice_prefix!] });
      } finally {
        c.proc.kill('SIGTERM');
        await c.exited;
      }
    }
    assert.equal(runs[0]!.secret, runs[1]!.secret);
    assert.deepEqual(runs[0]!.ids, runs[1]!.ids);
    const other = await serve(dataDir(), ['--seed', '43']);
    try {
      assert.notEqual(other.secret, runs[0]!.secret);
    } finally {
      other.proc.kill('SIGTERM');
      await other.exited;
    }
  });

  test('two processes on one store share accounts and idempotency keys', async () => {
    const dir = dataDir();
    const [a, b] = await Promise.all([serve(dir), serve(dir)]);
    try {
      const key = freshKey();
      const idem = `shared-${Date.now()}`;
      const post = (c: Child) => fetch(`${c.url}/v1/customers`, {
        method: 'POST', body: 'name=Across',
        headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/x-www-form-urlencoded', 'Idempotency-Key': idem },
      }).then(async (r) => ({ status: r.status, replayed: r.headers.get('idempotent-replayed'), json: await r.json() as any }));
      const results = await Promise.all([a, b, a, b, a, b].map(post));
      const ok = results.filter((r) => r.status === 200);
      assert.ok(ok.length >= 1);
      assert.equal(new Set(ok.map((r) => r.json.id)).size, 1);
      for (const r of results) if (r.status !== 200) assert.equal(r.json.error.code, 'idempotency_key_in_use');
      const later = await post(b);
      assert.equal(later.replayed, 'true');
      assert.equal(later.json.id, ok[0]!.json.id);
      assert.equal((await sdk(a, key).customers.list()).data.length, 1);
      const viaB = await sdk(b, key).customers.update(ok[0]!.json.id, { name: 'Changed on b' });
      assert.equal((await sdk(a, key).customers.retrieve(viaB.id) as Stripe.Customer).name, 'Changed on b');
    } finally {
      a.proc.kill('SIGTERM');
      b.proc.kill('SIGTERM');
      assert.deepEqual(await a.exited, { code: 0, signal: null });
      assert.deepEqual(await b.exited, { code: 0, signal: null });
    }
  });

  test('kill -9 loses no acknowledged write: every acknowledged create and update is there after a restart', async () => {
    const dir = dataDir();
    const c = await serve(dir);
    const key = freshKey();
    const s = sdk(c, key);
    /** id → the last acknowledged body; ids whose update was sent but not acknowledged. */
    const acked = new Map<string, Stripe.Customer>();
    const pendingUpdate = new Set<string>();
    let acks = 0;
    let killed = false;
    const KILL_AFTER = 40;
    const worker = async (w: number) => {
      for (let i = 0; !killed; i++) {
        try {
          const made = await s.customers.create({ name: `w${w}-${i}`, metadata: { step: '1' } });
          if (killed) return;
          acked.set(made.id, made);
          acks++;
          pendingUpdate.add(made.id);
          const updated = await s.customers.update(made.id, { metadata: { step: '2' } });
          if (killed) return;
          acked.set(made.id, updated);
          pendingUpdate.delete(made.id);
          acks++;
          if (acks >= KILL_AFTER && !killed) {
            // Writes of the other workers are still in flight.
            killed = true;
            c.proc.kill('SIGKILL');
          }
        } catch {
          return; // the connection died with the server
        }
      }
    };
    await Promise.all(Array.from({ length: 6 }, (_, w) => worker(w)));
    assert.deepEqual(await c.exited, { code: null, signal: 'SIGKILL' });
    assert.ok(acked.size >= KILL_AFTER / 2, `only ${acked.size} acknowledged`);

    const again = await serve(dir);
    try {
      const s2 = sdk(again, key);
      for (const [id, body] of acked) {
        const got = await s2.customers.retrieve(id) as Stripe.Customer;
        if (pendingUpdate.has(id) && got.metadata.step === '2') {
          // The update was committed but its response never arrived: allowed either way.
          assert.deepEqual({ ...got, metadata: body.metadata }, body);
        } else {
          assert.deepEqual(got, body, id);
        }
      }
      // Their events committed with them.
      const created = new Set<string>();
      for await (const e of s2.events.list({ type: 'customer.created', limit: 100 })) created.add((e.data.object as Stripe.Customer).id);
      for (const id of acked.keys()) assert.ok(created.has(id), `customer.created for ${id}`);
      // And the restarted server keeps working on the same data.
      const more = await s2.customers.create({ name: 'after the crash' });
      assert.equal((await s2.customers.retrieve(more.id) as Stripe.Customer).name, 'after the crash');
    } finally {
      again.proc.kill('SIGTERM');
      assert.deepEqual(await again.exited, { code: 0, signal: null });
    }
  });
});
