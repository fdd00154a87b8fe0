// The `pinstripe` command line, run as the real binary (bin/pinstripe.js) against servers
// started in the test: keys, trigger (and --list), reset (one account, --all), listen
// (forwarding signed events, filtering, cleanup), errors and exit codes, serve flags, and
// undelivered webhooks surviving kill -9 of a `pinstripe serve` process.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Stripe from 'stripe';
import { DATABASE_URL, freshKey, startTestServer, type TestServer } from './helpers/server.js';
import { dropIsolatedDatabase, eventually, isolatedDatabaseUrl, startReceiver } from './helpers/receiver.js';

const BIN = join(process.cwd(), 'bin', 'pinstripe.js');
const verifier = new Stripe('sk_test_x');

interface Run { code: number | null; stdout: string; stderr: string }

function cli(args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, PINSTRIPE_API_KEY: undefined, STRIPE_API_KEY: undefined, PINSTRIPE_API_BASE: undefined, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A long-running CLI process whose output is watched. */
function spawnCli(args: string[], env: Record<string, string | undefined> = {}) {
  const child: ChildProcess = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const state = { stdout: '', stderr: '' };
  child.stdout!.on('data', (d) => (state.stdout += d));
  child.stderr!.on('data', (d) => (state.stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, state, exited, waitFor: (re: RegExp, ms = 10_000) => eventually(async () => re.exec(state.stdout), ms) };
}

let t: TestServer;
before(async () => { t = await startTestServer({ webhooks: { retryDelays: [0.05, 0.05], pollMs: 50 } }); });
after(() => t.close());

const api = (key: string) => ['--api-key', key, '--api-base', t.url];

describe('pinstripe CLI', () => {
  test('keys prints a fresh matching pair, plain when piped', async () => {
    const a = await cli(['keys']);
    const b = await cli(['keys']);
    assert.equal(a.code, 0);
    const m = /^STRIPE_SECRET_KEY=(sk_test_(\w+))\nSTRIPE_PUBLISHABLE_KEY=(pk_test_(\w+))\n$/.exec(a.stdout);
    assert.ok(m, a.stdout);
    assert.equal(m[2], m[4]);
    assert.doesNotMatch(a.stdout, /\x1b\[/);
    assert.notEqual(a.stdout, b.stdout);
    // The key works against the server.
    const cus = await t.stripe(m[1]).customers.create({ name: 'K' });
    assert.match(cus.id, /^cus_/);
  });

  test('trigger --list shows every trigger', async () => {
    const r = await cli(['trigger', '--list']);
    assert.equal(r.code, 0);
    for (const e of ['customer.created', 'product.created', 'price.created', 'payment_intent.succeeded', 'payment_intent.payment_failed', 'charge.refunded', 'charge.dispute.created',
      'invoice.finalized', 'invoice.paid', 'invoice.payment_failed', 'customer.subscription.created', 'customer.subscription.updated', 'customer.subscription.deleted']) {
      assert.match(r.stdout, new RegExp(`^${e.replace(/\./g, '\\.')}\\s+\\S`, 'm'));
    }
  });

  test('trigger performs the API calls that cause the event', async () => {
    const key = freshKey();
    const s = t.stripe(key);
    for (const [event, expected] of [
      ['customer.created', ['customer.created']],
      ['product.created', ['product.created']],
      ['price.created', ['product.created', 'price.created']],
      ['customer.updated', ['customer.created', 'customer.updated']],
    ] as const) {
      const before = (await s.events.list({ limit: 100 })).data.length;
      const r = await cli(['trigger', event, ...api(key)]);
      assert.equal(r.code, 0, r.stderr);
      const m = new RegExp(`^Trigger succeeded! ${event.replace('.', '\\.')} \\[(evt_\\w+)\\]`).exec(r.stdout);
      assert.ok(m, r.stdout);
      const evs = (await s.events.list({ limit: 100 })).data;
      assert.equal(evs[0]!.id, m[1]);
      assert.deepEqual(evs.slice(0, evs.length - before).map((e) => e.type).reverse(), expected);
    }
  });

  test('payment and billing triggers make their events happen', async () => {
    const key = freshKey();
    const s = t.stripe(key);
    for (const event of ['payment_intent.succeeded', 'payment_intent.payment_failed', 'charge.refunded', 'charge.dispute.created',
      'invoice.finalized', 'invoice.paid', 'invoice.payment_failed', 'customer.subscription.created', 'customer.subscription.updated', 'customer.subscription.deleted']) {
      const r = await cli(['trigger', event, ...api(key)]);
      assert.equal(r.code, 0, `${event}: ${r.stderr}`);
      const id = new RegExp(`^Trigger succeeded! ${event.replace(/\./g, '\\.')} \\[(evt_\\w+)\\]`).exec(r.stdout)?.[1];
      assert.ok(id, r.stdout);
      assert.equal((await s.events.retrieve(id)).type, event);
    }
  });

  test('trigger: unknown events, missing keys, unreachable servers', async () => {
    const key = freshKey();
    const unknown = await cli(['trigger', 'customer.exploded', ...api(key)]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /Unknown trigger 'customer\.exploded'/);
    const none = await cli(['trigger']);
    assert.equal(none.code, 2);
    const noKey = await cli(['trigger', 'customer.created', '--api-base', t.url]);
    assert.equal(noKey.code, 2);
    assert.match(noKey.stderr, /No API key: pass --api-key/);
    const envKey = await cli(['trigger', 'customer.created', '--api-base', t.url], { PINSTRIPE_API_KEY: key });
    assert.equal(envKey.code, 0, envKey.stderr);
    const pk = await cli(['trigger', 'customer.created', '--api-key', 'pk_test_x', '--api-base', t.url]);
    assert.equal(pk.code, 2);
    const probe = await startReceiver();
    const deadPort = probe.port;
    await probe.close();
    const down = await cli(['trigger', 'customer.created', '--api-key', key, '--api-base', `http://127.0.0.1:${deadPort}`]);
    assert.equal(down.code, 3);
    assert.match(down.stderr, new RegExp(`^Error: Cannot reach the Pinstripe server at http://127\\.0\\.0\\.1:${deadPort} \\(ECONNREFUSED\\)\\. Is it running\\?`));
    assert.doesNotMatch(down.stderr, /\x1b\[/);
  });

  test('reset deletes one account\'s data (both modes) and nothing else', async () => {
    const suffix = freshKey().slice('sk_test_'.length);
    const mine = t.stripe(`sk_test_${suffix}`);
    const mineLive = t.stripe(`sk_live_${suffix}`);
    const other = t.stripe(freshKey());
    const c1 = await mine.customers.create({ name: 'gone' });
    const c2 = await mineLive.customers.create({ name: 'gone too' });
    await mine.webhookEndpoints.create({ url: 'http://127.0.0.1:1/x', enabled_events: ['*'] });
    const kept = await other.customers.create({ name: 'kept' });
    const r = await cli(['reset', ...api(`sk_test_${suffix}`)]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Reset account acct_\w{16}/);
    await assert.rejects(mine.customers.retrieve(c1.id), (e: any) => e.statusCode === 404);
    await assert.rejects(mineLive.customers.retrieve(c2.id), (e: any) => e.statusCode === 404);
    assert.deepEqual((await mine.events.list()).data, []);
    assert.deepEqual((await mine.webhookEndpoints.list()).data, []);
    assert.equal((await other.customers.retrieve(kept.id)).id, kept.id);
  });

  test('reset --all asks for confirmation; --yes deletes the whole store', async () => {
    const db = await isolatedDatabaseUrl('cli_reset_all');
    const srv = await startTestServer({ databaseUrl: db, webhooks: false });
    try {
      const a = srv.stripe(freshKey());
      const b = srv.stripe(freshKey());
      const ca = await a.customers.create({ name: 'a' });
      const cb = await b.customers.create({ name: 'b' });
      const refused = await cli(['reset', '--all', '--api-base', srv.url]);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /Not confirmed: nothing was deleted/);
      assert.equal((await a.customers.retrieve(ca.id)).id, ca.id);
      const yes = await cli(['reset', '--all', '--yes', '--api-base', srv.url]);
      assert.equal(yes.code, 0, yes.stderr);
      await assert.rejects(a.customers.retrieve(ca.id), (e: any) => e.statusCode === 404);
      await assert.rejects(b.customers.retrieve(cb.id), (e: any) => e.statusCode === 404);
    } finally { await srv.close(); await dropIsolatedDatabase(db); }
  });

  test('listen prints a whsec_, forwards each subscribed event signed with it, and cleans up on exit', async () => {
    const rx = await startReceiver();
    const key = freshKey();
    const s = t.stripe(key);
    const l = spawnCli(['listen', '--forward-to', rx.url, '--events', 'customer.created,customer.updated', ...api(key)]);
    try {
      const ready = await l.waitFor(/Ready! Your webhook signing secret is (whsec_\w+)/);
      const secret = ready[1]!;
      const [we] = (await s.webhookEndpoints.list()).data;
      assert.deepEqual(we!.enabled_events, ['customer.created', 'customer.updated']);
      const c = await s.customers.create({ name: 'Listen' });
      await s.products.create({ name: 'not forwarded' });
      await s.customers.update(c.id, { name: 'Listen 2' });
      const got = await rx.waitFor(2);
      const events = got.map((g) => verifier.webhooks.constructEvent(g.body, String(g.headers['stripe-signature']), secret));
      assert.deepEqual(events.map((e) => e.type).sort(), ['customer.created', 'customer.updated']);
      assert.equal(got[0]!.headers['content-type'], 'application/json; charset=utf-8');
      for (const e of events) await l.waitFor(new RegExp(`${e.type.replace('.', '\\.')} \\[${e.id}\\]  --> 200 POST ${rx.url.replace(/[.]/g, '\\.')}`));
      assert.doesNotMatch(l.state.stdout, /product\.created/);
      assert.doesNotMatch(l.state.stdout, /\x1b\[/);
      // A failing receiver: its status is shown; the server is not asked to retry.
      rx.respond = 500;
      await s.customers.update(c.id, { name: 'Listen 3' });
      await l.waitFor(/customer\.updated \[evt_\w+\]  --> 500 POST/);
      l.child.kill('SIGINT');
      assert.equal(await l.exited, 0);
      assert.deepEqual((await s.webhookEndpoints.list()).data, []);
    } finally { l.child.kill('SIGKILL'); await rx.close(); }
  });

  test('a listener killed with -9 leaves an endpoint that the next listen removes', async () => {
    const key = freshKey();
    const s = t.stripe(key);
    const other = await s.webhookEndpoints.create({ url: 'http://127.0.0.1:9/not-a-listener', enabled_events: ['*'] });
    const first = spawnCli(['listen', ...api(key)]);
    await first.waitFor(/Ready!/);
    const [stale] = (await s.webhookEndpoints.list()).data.filter((e) => e.id !== other.id);
    first.child.kill('SIGKILL');
    await first.exited;
    const second = spawnCli(['listen', ...api(key)]);
    try {
      await second.waitFor(/Ready!/);
      assert.match(second.state.stdout, new RegExp(`Removed 1 endpoint\\(s\\) of listeners that are gone: ${stale!.id}`));
      const ids = (await s.webhookEndpoints.list()).data.map((e) => e.id);
      assert.ok(!ids.includes(stale!.id));
      assert.ok(ids.includes(other.id)); // not a listener's: kept
      assert.equal(ids.length, 2);
      second.child.kill('SIGTERM');
      assert.equal(await second.exited, 0);
      assert.deepEqual((await s.webhookEndpoints.list()).data.map((e) => e.id), [other.id]);
    } finally { second.child.kill('SIGKILL'); }
  });

  test('listen without a server, and with an unknown event type, exits non-zero', async () => {
    const r = await cli(['listen', '--api-key', freshKey(), '--api-base', 'http://127.0.0.1:9', '--forward-to', 'http://127.0.0.1:9/x']);
    assert.equal(r.code, 3);
    const bad = await cli(['listen', '--events', 'customer.nope', ...api(freshKey())]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /Invalid enabled_events\[0\]/);
  });

  test('colour only on a terminal', async () => {
    const { c, statusText } = await import('../src/cli/output.js');
    const tty = { isTTY: true } as NodeJS.WriteStream;
    const pipe = { isTTY: false } as NodeJS.WriteStream;
    const saved = process.env.NO_COLOR;
    delete process.env.NO_COLOR;
    try {
      assert.equal(c.green('ok', tty), '\x1b[32mok\x1b[0m');
      assert.equal(c.green('ok', pipe), 'ok');
      process.env.NO_COLOR = '1';
      assert.equal(c.green('ok', tty), 'ok');
    } finally { if (saved === undefined) delete process.env.NO_COLOR; else process.env.NO_COLOR = saved; }
    assert.equal(statusText(503), '503'); // tests' stdout is a pipe
    assert.equal(statusText(null), 'error');
  });

  test('the CLI\'s defaults are the server\'s', async () => {
    const d = await import('../src/cli/defaults.js');
    const srv = await import('../src/server.js');
    assert.deepEqual([d.DEFAULT_PORT, d.DEFAULT_HOST, d.DEFAULT_DATA_DIR], [srv.DEFAULT_PORT, srv.DEFAULT_HOST, srv.DEFAULT_DATA_DIR]);
  });

  test('npm start, the bin and the bench run the server with the same Node flags', async () => {
    const { NODE_FLAGS } = await import('../src/cli/defaults.js');
    const root = join(import.meta.dirname, '..', '..');
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    assert.equal(pkg.scripts.start, `node ${NODE_FLAGS.join(' ')} bin/pinstripe.js serve`);
    const shebang = readFileSync(join(root, 'bin', 'pinstripe.js'), 'utf8').split('\n')[0];
    assert.equal(shebang, `#!/usr/bin/env -S node ${NODE_FLAGS.join(' ')}`);
    // The shebang runs: the bin executed directly, as npx and a global install do.
    const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const p = spawn(join(root, 'bin', 'pinstripe.js'), ['--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      p.stdout.on('data', (c) => { out += c; });
      p.on('close', (code) => resolve({ code, out }));
    });
    assert.equal(r.code, 0);
    assert.match(r.out, /Usage: pinstripe/);
  });

  test('serve --help describes every flag, webhooks included', async () => {
    const r = await cli(['serve', '--help']);
    assert.equal(r.code, 0);
    for (const flag of ['--port', '--host', '--data', '--database-url', '--seed', '--log-level', '--webhook-retry-delays', '--webhook-timeout', '--webhook-concurrency', '--webhook-disable-after', '--no-webhooks']) {
      assert.ok(r.stdout.includes(flag), flag);
    }
    const bad = await cli(['serve', '--webhook-retry-delays', 'soon']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /invalid retry delays/);
  });

  test('two `pinstripe serve` processes on one PostgreSQL database deliver each event exactly once', { skip: DATABASE_URL ? false : 'needs PostgreSQL (DATABASE_URL): SQLite processes cannot share a store over the network' }, async () => {
    const db = await isolatedDatabaseUrl('cli_two');
    const rx = await startReceiver();
    const ports: number[] = [];
    for (let i = 0; i < 2; i++) { const p = await startReceiver(); ports.push(p.port); await p.close(); }
    const env = { DATABASE_URL: db!, PINSTRIPE_WEBHOOK_RETRY_DELAYS: '0.2,0.2' };
    const procs = ports.map((port) => spawnCli(['serve', '--port', String(port), '--log-level', 'silent'], env));
    try {
      await Promise.all(procs.map((p) => p.waitFor(/Pinstripe listening/)));
      const key = freshKey();
      const clients = ports.map((port) => new Stripe(key, { host: '127.0.0.1', port, protocol: 'http', maxNetworkRetries: 0 } as any));
      await clients[0]!.webhookEndpoints.create({ url: rx.url, enabled_events: ['customer.created'] });
      const N = 40;
      const created = await Promise.all(Array.from({ length: N }, (_, i) => clients[i % 2]!.customers.create({ name: `p${i}` })));
      await rx.waitFor(N, 15_000);
      await new Promise((res) => setTimeout(res, 1500)); // both processes poll at least once more
      const got = rx.received.map((x) => x.json.data.object.id);
      assert.equal(got.length, N);
      assert.deepEqual([...new Set(got)].sort(), created.map((c) => c.id).sort());
      const events = await clients[1]!.events.list({ limit: 100 });
      assert.ok(events.data.every((e) => e.pending_webhooks === 0));
    } finally {
      for (const p of procs) p.child.kill('SIGTERM');
      await Promise.all(procs.map((p) => p.exited));
      await rx.close();
      await dropIsolatedDatabase(db);
    }
  });

  test('undelivered webhooks survive kill -9 of `pinstripe serve` and go out after the restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pinstripe-kill-'));
    const db = await isolatedDatabaseUrl('cli_kill');
    const probe = await startReceiver();
    const port = probe.port;
    await probe.close();
    const probe2 = await startReceiver();
    const apiPort = probe2.port;
    await probe2.close();
    // A 1 s attempt limit keeps the lease short (2 s + 2 s): a row the killed process held
    // becomes claimable soon after the restart.
    const env = { DATABASE_URL: db ?? '', PINSTRIPE_WEBHOOK_RETRY_DELAYS: '0.3,0.3,0.3,0.3,0.3,0.3', PINSTRIPE_WEBHOOK_TIMEOUT_MS: '1000' };
    const args = ['serve', '--port', String(apiPort), '--data', dir, '--log-level', 'silent'];
    const base = `http://127.0.0.1:${apiPort}`;
    const key = freshKey();
    const s = new Stripe(key, { host: '127.0.0.1', port: apiPort, protocol: 'http', maxNetworkRetries: 0 } as any);
    let first = spawnCli(args, env);
    try {
      await first.waitFor(/Pinstripe listening/);
      await s.webhookEndpoints.create({ url: `http://127.0.0.1:${port}/hook`, enabled_events: ['customer.created'] });
      const c = await s.customers.create({ name: 'Survivor' });
      await eventually(async () => {
        const r = await fetch(`${base}/_pinstripe/webhook_deliveries`, { headers: { Authorization: `Bearer ${key}` } });
        return (await r.json() as any).data[0]?.attempts.length >= 1;
      });
      first.child.kill('SIGKILL');
      await first.exited;
      const rx = await startReceiver(port);
      try {
        first = spawnCli(args, env);
        await first.waitFor(/Pinstripe listening/);
        const [got] = await rx.waitFor(1, 15_000);
        assert.equal(got!.json.data.object.id, c.id);
        const shown = await cli(['deliveries', '--api-key', key, '--api-base', base]);
        assert.equal(shown.code, 0);
        assert.match(shown.stdout, new RegExp(`^${got!.json.id} -> we_\\w+  delivered`, 'm'));
        assert.match(shown.stdout, /^\s+\d\d:\d\d:\d\d  error\s+\d+ ms  "ECONNREFUSED/m);
        assert.match(shown.stdout, /^\s+\d\d:\d\d:\d\d  200\s+\d+ ms  "ok"$/m);
      } finally { await rx.close(); }
    } finally {
      first.child.kill('SIGKILL');
      await first.exited;
      rmSync(dir, { recursive: true, force: true });
      await dropIsolatedDatabase(db);
    }
  });
});
