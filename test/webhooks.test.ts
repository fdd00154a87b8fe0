// Webhook delivery from the outbox to a real local HTTP receiver: signatures (verified with
// stripe.webhooks.constructEvent), filtering, retries after 5xx and outages, exhaustion,
// disabled and deleted endpoints, auto-disable, API versions, pending_webhooks and
// delivery_success, isolation between accounts and modes, restart with undelivered rows.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Stripe from 'stripe';
import { DATABASE_URL, freshKey, startTestServer, type TestServer } from './helpers/server.js';
import { dropIsolatedDatabase, eventually, isolatedDatabaseUrl, startReceiver, type Receiver } from './helpers/receiver.js';
import { startServer } from '../src/server.js';
import { parseRetryDelays, signatureHeader } from '../src/events/webhooks.js';

const verifier = new Stripe('sk_test_x');
const FAST = { retryDelays: [0.05, 0.05, 0.05], pollMs: 50, timeoutMs: 2000 };

let t: TestServer;
let rx: Receiver;
before(async () => {
  t = await startTestServer({ webhooks: FAST });
  rx = await startReceiver();
});
after(async () => { await t.close(); await rx.close(); });

/** A receiver of its own, for tests that set its answers. */
async function ownReceiver(): Promise<Receiver> { return startReceiver(); }

async function deliveries(key: string, event: string) {
  const r = await t.request('GET', `/_pinstripe/webhook_deliveries?event=${event}`, { key });
  assert.equal(r.status, 200);
  return r.json.data as any[];
}

describe('webhook delivery', () => {
  test('signed POST that constructEvent verifies; tampered bodies and other secrets are rejected', async () => {
    const r = await ownReceiver();
    try {
      const key = freshKey();
      const s = t.stripe(key);
      const we = await s.webhookEndpoints.create({ url: r.url, enabled_events: ['customer.created'] });
      const c = await s.customers.create({ name: 'Signed' });
      const [got] = await r.waitFor(1);
      const h = got!.headers;
      assert.equal(h['content-type'], 'application/json; charset=utf-8');
      assert.equal(h['user-agent'], 'Stripe/1.0 (+https://stripe.com/docs/webhooks)');
      const sig = String(h['stripe-signature']);
      assert.match(sig, /^t=\d+,v1=[0-9a-f]{64}$/);
      const event = verifier.webhooks.constructEvent(got!.body, sig, we.secret!);
      assert.equal(event.type, 'customer.created');
      assert.equal((event.data.object as Stripe.Customer).id, c.id);
      // The body is the event as the API renders it.
      const stored = await s.events.retrieve(event.id);
      assert.equal(stored.type, 'customer.created');
      assert.deepEqual({ ...JSON.parse(got!.body), pending_webhooks: 0 }, JSON.parse(JSON.stringify({ ...stored, lastResponse: undefined, pending_webhooks: 0 })));
      assert.equal(got!.body, JSON.stringify(JSON.parse(got!.body), null, 2));
      const tampered = got!.body.replace('Signed', 'Sigxed');
      assert.throws(() => verifier.webhooks.constructEvent(tampered, sig, we.secret!), /No signatures found matching/);
      assert.throws(() => verifier.webhooks.constructEvent(got!.body, sig, 'whsec_other'), /No signatures found matching/);
      // Our signer agrees with the SDK's test header generator.
      const ts = Math.floor(Date.now() / 1000);
      assert.equal(signatureHeader('whsec_k', '{"a":1}', ts), verifier.webhooks.generateTestHeaderString({ payload: '{"a":1}', secret: 'whsec_k', timestamp: ts }));
      // Delivered: pending_webhooks back to 0, one attempt recorded.
      await eventually(async () => (await s.events.retrieve(event.id)).pending_webhooks === 0);
      const [d] = await deliveries(key, event.id);
      assert.equal(d.state, 'delivered');
      assert.equal(d.webhook_endpoint, we.id);
      assert.equal(d.attempts.length, 1);
      assert.equal(d.attempts[0].status, 200);
      assert.equal(d.attempts[0].response_excerpt, 'ok');
      assert.equal(typeof d.attempts[0].latency_ms, 'number');
    } finally { await r.close(); }
  });

  test('only subscribed types go out; * gets everything; one delivery per endpoint', async () => {
    const r1 = await ownReceiver();
    const r2 = await ownReceiver();
    try {
      const s = t.stripe(freshKey());
      await s.webhookEndpoints.create({ url: r1.url, enabled_events: ['product.created'] });
      await s.webhookEndpoints.create({ url: r2.url, enabled_events: ['*'] });
      const c = await s.customers.create({ name: 'F' });
      await s.products.create({ name: 'P', default_price_data: { currency: 'usd', unit_amount: 100 } });
      await s.customers.update(c.id, { name: 'G' });
      await r2.waitFor(4);
      await r1.waitFor(1);
      await new Promise((res) => setTimeout(res, 150));
      assert.deepEqual(r1.received.map((x) => x.json.type), ['product.created']);
      assert.deepEqual(r2.received.map((x) => x.json.type).sort(), ['customer.created', 'customer.updated', 'price.created', 'product.created']);
      const events = await s.events.list();
      const product = events.data.find((e) => e.type === 'product.created')!;
      assert.equal(product.pending_webhooks, 0);
    } finally { await r1.close(); await r2.close(); }
  });

  test('retries after 5xx until a 2xx; pending_webhooks and delivery_success follow', async () => {
    const r = await ownReceiver();
    try {
      r.respond = (_x, i) => (i < 2 ? 500 : 200);
      const key = freshKey();
      const s = t.stripe(key);
      const we = await s.webhookEndpoints.create({ url: r.url, enabled_events: ['*'] });
      const other = await ownReceiver();
      await s.webhookEndpoints.create({ url: other.url, enabled_events: ['customer.created'] });
      await s.customers.create({ name: 'R' });
      const [ev] = (await s.events.list()).data;
      assert.equal(ev!.pending_webhooks, 2);
      assert.deepEqual((await s.events.list({ delivery_success: false })).data.map((e) => e.id), [ev!.id]);
      await r.waitFor(3);
      await other.close();
      await eventually(async () => (await s.events.retrieve(ev!.id)).pending_webhooks === 0);
      assert.deepEqual((await s.events.list({ delivery_success: true })).data.map((e) => e.id), [ev!.id]);
      assert.deepEqual((await s.events.list({ delivery_success: false })).data, []);
      const ids = new Set(r.received.map((x) => x.json.id));
      assert.deepEqual([...ids], [ev!.id]);
      const d = (await deliveries(key, ev!.id)).find((x) => x.attempts.length === 3)!;
      assert.deepEqual(d.attempts.map((a: any) => a.status), [500, 500, 200]);
      assert.equal(d.attempts[0].response_excerpt, 'error 500');
      assert.equal(d.state, 'delivered');
      // Each attempt is signed afresh (and still verifies).
      const secret = await secretOf(key, we.id);
      for (const x of r.received) assert.equal(verifier.webhooks.constructEvent(x.body, String(x.headers['stripe-signature']), secret).id, ev!.id);
    } finally { await r.close(); }
  });

  test('after the schedule is exhausted the delivery is failed and the event stays pending', async () => {
    const r = await ownReceiver();
    try {
      r.respond = 503;
      const key = freshKey();
      const s = t.stripe(key);
      await s.webhookEndpoints.create({ url: r.url, enabled_events: ['*'] });
      await s.customers.create({ name: 'X' });
      await r.waitFor(4);
      const [ev] = (await s.events.list()).data;
      const d = await eventually(async () => (await deliveries(key, ev!.id)).find((x) => x.state === 'failed'));
      assert.deepEqual(d.attempts.map((a: any) => a.status), [503, 503, 503, 503]);
      assert.equal(d.next_attempt_ms, null);
      await new Promise((res) => setTimeout(res, 200));
      assert.equal(r.received.length, 4);
      assert.equal((await s.events.retrieve(ev!.id)).pending_webhooks, 1);
      assert.deepEqual((await s.events.list({ delivery_success: false })).data.map((e) => e.id), [ev!.id]);
    } finally { await r.close(); }
  });

  test('a receiver that is down (connection refused) gets the event once it is back', async () => {
    const probe = await ownReceiver();
    const port = probe.port;
    await probe.close(); // nothing listens on `port` now
    const db = await isolatedDatabaseUrl('outage');
    const srv = await startTestServer({ databaseUrl: db, webhooks: { retryDelays: [0.3, 0.3, 0.3], pollMs: 50 } });
    try {
      const key = freshKey();
      const s = srv.stripe(key);
      const we = await s.webhookEndpoints.create({ url: `http://127.0.0.1:${port}/hook`, enabled_events: ['*'] });
      await s.customers.create({ name: 'Down' });
      const [ev] = (await s.events.list()).data;
      const rows = async () => (await srv.request('GET', `/_pinstripe/webhook_deliveries?event=${ev!.id}`, { key })).json.data;
      const first = await eventually(async () => (await rows())[0]?.attempts.length >= 1 && (await rows())[0]);
      assert.equal(first.attempts[0].status, null);
      assert.match(first.attempts[0].response_excerpt, /ECONNREFUSED/);
      assert.equal(first.state, 'pending');
      const back = await startReceiver(port);
      try {
        const [got] = await back.waitFor(1, 5000);
        const secret = (await srv.server.services.store.get(await authScope(key), we.id))!.data._secret;
        assert.equal(verifier.webhooks.constructEvent(got!.body, String(got!.headers['stripe-signature']), secret).id, ev!.id);
        const done = await eventually(async () => (await rows())[0]?.state === 'delivered' && (await rows())[0]);
        assert.equal(done.attempts.at(-1).status, 200);
        assert.equal(done.attempts[0].status, null);
      } finally { await back.close(); }
    } finally { await srv.close(); await dropIsolatedDatabase(db); }
  });

  test('timeouts count as failures', async () => {
    const { createServer } = await import('node:http');
    const hang = createServer(() => { /* never answers */ });
    await new Promise<void>((res) => hang.listen(0, '127.0.0.1', res));
    const port = (hang.address() as any).port;
    const db = await isolatedDatabaseUrl('timeout');
    const srv = await startTestServer({ databaseUrl: db, webhooks: { retryDelays: [], timeoutMs: 200, pollMs: 50 } });
    try {
      const key = freshKey();
      const s = srv.stripe(key);
      await s.webhookEndpoints.create({ url: `http://127.0.0.1:${port}/`, enabled_events: ['*'] });
      await s.customers.create({ name: 'Slow' });
      const [ev] = (await s.events.list()).data;
      const d = await eventually(async () => {
        const rows = (await srv.request('GET', `/_pinstripe/webhook_deliveries?event=${ev!.id}`, { key })).json.data;
        return rows[0]?.state === 'failed' && rows[0];
      }, 5000);
      assert.equal(d.attempts[0].status, null);
      assert.equal(d.attempts[0].response_excerpt, 'timed out after 200 ms');
      assert.ok(d.attempts[0].latency_ms >= 150);
    } finally { hang.closeAllConnections(); hang.close(); await srv.close(); await dropIsolatedDatabase(db); }
  });

  test('a receiver that never answers holds at most `concurrency` requests and never slows the API', async () => {
    const { createServer } = await import('node:http');
    let open = 0;
    let peak = 0;
    const hang = createServer((req) => { open++; peak = Math.max(peak, open); req.on('close', () => open--); });
    await new Promise<void>((res) => hang.listen(0, '127.0.0.1', res));
    const port = (hang.address() as any).port;
    const db = await isolatedDatabaseUrl('hang');
    const srv = await startTestServer({ databaseUrl: db, webhooks: { retryDelays: [30], timeoutMs: 20_000, concurrency: 3, pollMs: 50 } });
    try {
      const s = srv.stripe(freshKey());
      await s.webhookEndpoints.create({ url: `http://127.0.0.1:${port}/`, enabled_events: ['*'] });
      const slowest = { ms: 0 };
      for (let i = 0; i < 20; i++) {
        const t0 = performance.now();
        await s.customers.create({ name: `H${i}` });
        slowest.ms = Math.max(slowest.ms, performance.now() - t0);
      }
      await eventually(async () => open === 3, 5000);
      await new Promise((res) => setTimeout(res, 200));
      assert.equal(peak, 3);
      assert.ok(slowest.ms < 1000, `slowest API call ${slowest.ms} ms`);
      const t0 = performance.now();
      await srv.close(); // aborts the hanging attempts and gives their rows back
      assert.ok(performance.now() - t0 < 3000);
    } finally { hang.closeAllConnections(); hang.close(); await srv.close(); await dropIsolatedDatabase(db); }
  });

  test('disabled and deleted endpoints receive nothing; pending rows stop when an endpoint is disabled', async () => {
    const r = await ownReceiver();
    try {
      const key = freshKey();
      const s = t.stripe(key);
      const disabled = await s.webhookEndpoints.create({ url: r.url + '?d', enabled_events: ['*'] });
      await s.webhookEndpoints.update(disabled.id, { disabled: true });
      const deleted = await s.webhookEndpoints.create({ url: r.url + '?x', enabled_events: ['*'] });
      await s.webhookEndpoints.del(deleted.id);
      await s.customers.create({ name: 'Nobody' });
      const [ev] = (await s.events.list()).data;
      assert.equal(ev!.pending_webhooks, 0);
      await new Promise((res) => setTimeout(res, 200));
      assert.equal(r.received.length, 0);

      // An endpoint disabled while its delivery is being retried gets no more attempts.
      r.respond = 500;
      const live = await s.webhookEndpoints.create({ url: r.url, enabled_events: ['customer.updated'] });
      const c = (await s.customers.list()).data[0]!;
      await s.customers.update(c.id, { name: 'Once' });
      await r.waitFor(1);
      await s.webhookEndpoints.update(live.id, { disabled: true });
      const [upd] = (await s.events.list({ type: 'customer.updated' })).data;
      const d = await eventually(async () => (await deliveries(key, upd!.id)).find((x) => x.state === 'failed'), 5000);
      assert.ok(d.attempts.length >= 1 && d.attempts.length < 4, `attempts: ${d.attempts.length}`);
      assert.equal(r.received.length, d.attempts.length);
    } finally { await r.close(); }
  });

  test('an endpoint failing for longer than disableAfterMs is disabled', async () => {
    const r = await ownReceiver();
    r.respond = 500;
    const db = await isolatedDatabaseUrl('disable');
    // Seven attempts 100 ms apart, disabled once failing for 250 ms: disabling cuts the schedule
    // short (margins wide enough for a loaded machine, where each attempt may run late).
    const srv = await startTestServer({ databaseUrl: db, webhooks: { retryDelays: [0.1, 0.1, 0.1, 0.1, 0.1, 0.1], pollMs: 50, disableAfterMs: 250 } });
    try {
      const s = srv.stripe(freshKey());
      const we = await s.webhookEndpoints.create({ url: r.url, enabled_events: ['*'] });
      await s.customers.create({ name: 'Failing' });
      await eventually(async () => (await s.webhookEndpoints.retrieve(we.id)).status === 'disabled', 5000);
      const n = r.received.length;
      assert.ok(n >= 2 && n < 7, `attempts before disabling: ${n}`);
      await s.customers.create({ name: 'After' });
      await new Promise((res) => setTimeout(res, 200));
      assert.equal(r.received.length, n);
    } finally { await srv.close(); await r.close(); await dropIsolatedDatabase(db); }
  });

  test('events go out in the endpoint api_version', async () => {
    const r = await ownReceiver();
    try {
      const s = t.stripe(freshKey());
      await s.webhookEndpoints.create({ url: r.url, enabled_events: ['product.created'], api_version: '2023-10-16' });
      await s.products.create({ name: 'Old', marketing_features: [{ name: 'Fast' }] });
      const [got] = await r.waitFor(1);
      assert.equal(got!.json.api_version, '2023-10-16');
      assert.deepEqual(got!.json.data.object.features, [{ name: 'Fast' }]);
      assert.equal(got!.json.data.object.marketing_features, undefined);
    } finally { await r.close(); }
  });

  test('no account receives another account\'s events; test and live endpoints are separate', async () => {
    const ra = await ownReceiver();
    const rb = await ownReceiver();
    const rl = await ownReceiver();
    try {
      const suffix = freshKey().slice('sk_test_'.length);
      const a = t.stripe(`sk_test_${suffix}`);
      const live = t.stripe(`sk_live_${suffix}`);
      const b = t.stripe(freshKey());
      await a.webhookEndpoints.create({ url: ra.url, enabled_events: ['*'] });
      await b.webhookEndpoints.create({ url: rb.url, enabled_events: ['*'] });
      await live.webhookEndpoints.create({ url: rl.url, enabled_events: ['*'] });
      const ca = await a.customers.create({ name: 'A' });
      const cb = await b.customers.create({ name: 'B' });
      const cl = await live.customers.create({ name: 'L' });
      await Promise.all([ra.waitFor(1), rb.waitFor(1), rl.waitFor(1)]);
      await new Promise((res) => setTimeout(res, 150));
      assert.deepEqual(ra.received.map((x) => x.json.data.object.id), [ca.id]);
      assert.deepEqual(rb.received.map((x) => x.json.data.object.id), [cb.id]);
      assert.deepEqual(rl.received.map((x) => x.json.data.object.id), [cl.id]);
      assert.equal(rl.received[0]!.json.livemode, true);
      assert.equal(ra.received[0]!.json.livemode, false);
    } finally { await ra.close(); await rb.close(); await rl.close(); }
  });

  test('undelivered rows survive a restart and go out after it', async () => {
    const r = await ownReceiver();
    const dir = mkdtempSync(join(tmpdir(), 'pinstripe-restart-'));
    const db = await isolatedDatabaseUrl('restart');
    try {
      const key = freshKey();
      // First process: no delivery worker, so the outbox row stays undelivered.
      const a = await startTestServer({ dataDir: dir, databaseUrl: db, webhooks: false });
      const sa = a.stripe(key);
      await sa.webhookEndpoints.create({ url: r.url, enabled_events: ['*'] });
      const c = await sa.customers.create({ name: 'Later' });
      await a.server.close();
      await new Promise((res) => setTimeout(res, 100));
      assert.equal(r.received.length, 0);
      const b = await startServer({ port: 0, dataDir: dir, databaseUrl: db, logLevel: 'silent', webhooks: FAST });
      try {
        const [got] = await r.waitFor(1);
        assert.equal(got!.json.data.object.id, c.id);
      } finally { await b.close(); }
    } finally { await r.close(); rmSync(dir, { recursive: true, force: true }); await dropIsolatedDatabase(db); }
  });

  test('two server processes on PostgreSQL deliver each event exactly once', { skip: DATABASE_URL ? false : 'needs PostgreSQL (DATABASE_URL): SQLite has one writer per file' }, async () => {
    const r = await ownReceiver();
    const db = await isolatedDatabaseUrl('two');
    const one = await startTestServer({ databaseUrl: db, webhooks: { ...FAST, concurrency: 4 } });
    const two = await startTestServer({ databaseUrl: db, webhooks: { ...FAST, concurrency: 4 } });
    try {
      const key = freshKey();
      await one.stripe(key).webhookEndpoints.create({ url: r.url, enabled_events: ['customer.created'] });
      const N = 60;
      await Promise.all(Array.from({ length: N }, (_, i) => (i % 2 ? one : two).stripe(key).customers.create({ name: `c${i}` })));
      await r.waitFor(N, 15_000);
      await new Promise((res) => setTimeout(res, 300));
      const ids = r.received.map((x) => x.json.id);
      assert.equal(ids.length, N);
      assert.equal(new Set(ids).size, N);
      // Both processes took part, and together made exactly one successful attempt per event.
      // Outcomes commit just after the receiver answers: wait for them.
      await eventually(async () => one.server.webhooks!.stats.delivered + two.server.webhooks!.stats.delivered >= N, 10_000);
      const a = one.server.webhooks!.stats.delivered;
      const b = two.server.webhooks!.stats.delivered;
      assert.equal(a + b, N);
      assert.equal(r.received.length, N);
      assert.ok(a > 0 && b > 0, `deliveries per process: ${a}, ${b}`);
      assert.equal((await one.server.services.store.listDeliveries(await authScope(key), { limit: 100 })).filter((d) => d.state === 'delivered').length, N);
    } finally { await one.close(); await two.close(); await r.close(); await dropIsolatedDatabase(db); }
  });

  test('finished deliveries expire; pending ones are kept', async () => {
    const db = await isolatedDatabaseUrl('expire');
    const r = await ownReceiver();
    const srv = await startTestServer({ databaseUrl: db, webhooks: FAST });
    try {
      const key = freshKey();
      const s = srv.stripe(key);
      const good = await s.webhookEndpoints.create({ url: r.url, enabled_events: ['*'] });
      await s.customers.create({ name: 'E' });
      const store = srv.server.services.store;
      const scope = await authScope(key);
      await eventually(async () => (await store.listDeliveries(scope, { limit: 10 }))[0]?.state === 'delivered');
      await srv.server.webhooks!.close(); // nothing delivers from here on
      await s.webhookEndpoints.update(good.id, { url: r.url + '?later' });
      await s.customers.create({ name: 'Pending' });
      assert.deepEqual((await store.listDeliveries(scope, { limit: 10 })).map((d) => d.state), ['pending', 'delivered']);
      assert.equal(await store.expireDeliveries(Date.now() - 60_000), 0);
      assert.equal(await store.expireDeliveries(Date.now() + 60_000), 1);
      assert.deepEqual((await store.listDeliveries(scope, { limit: 10 })).map((d) => d.state), ['pending']);
      const bad = await srv.request('GET', '/_pinstripe/webhook_deliveries?limit=0', { key });
      assert.equal(bad.status, 400);
      assert.equal(bad.json.error.param, 'limit');
      assert.equal((await srv.request('GET', '/_pinstripe/webhook_deliveries', { key: null })).status, 401);
    } finally { await srv.close(); await r.close(); await dropIsolatedDatabase(db); }
  });

  test('retry delays parse from PINSTRIPE_WEBHOOK_RETRY_DELAYS syntax', () => {
    assert.deepEqual(parseRetryDelays('1,5,30'), [1, 5, 30]);
    assert.deepEqual(parseRetryDelays(' 0.5 , 2 '), [0.5, 2]);
    assert.throws(() => parseRetryDelays('1,x'), /invalid retry delays/);
    assert.throws(() => parseRetryDelays(''), /invalid retry delays/);
    assert.throws(() => parseRetryDelays('-1'), /invalid retry delays/);
  });
});

async function authScope(key: string) {
  const { authenticate } = await import('../src/http/auth.js');
  return authenticate(`Bearer ${key}`).scope;
}

async function secretOf(key: string, endpointId: string): Promise<string> {
  return (await t.server.services.store.get(await authScope(key), endpointId))!.data._secret;
}
