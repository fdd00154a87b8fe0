// The create-and-confirm path's cheaper pieces: time-ordered ids (format, lengths, ordering,
// seeded determinism), the per-transaction webhook endpoint look-up (endpoints created,
// disabled, re-enabled and deleted between events; two servers on one store), and test-card
// PaymentMethods stored without a hidden card reference row (refunds, captures, setup).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshKey, startTestServer, type TestServer } from './helpers/server.js';
import { dropIsolatedDatabase, eventually, isolatedDatabaseUrl, startReceiver, type Receiver } from './helpers/receiver.js';
import { createIdGenerator, idTimeMs, timePart, EPOCH_S } from '../src/api/ids.js';
import { authenticate } from '../src/http/auth.js';
import { startServer } from '../src/server.js';

/** What the benchmark's pay request sends. */
const PAY: any = { amount: 1000, currency: 'usd', payment_method: 'pm_card_visa', payment_method_types: ['card'], confirm: true };
const card: any = { payment_method_types: ['card'] };
const FAST = { retryDelays: [0.05, 0.05, 0.05], pollMs: 50, timeoutMs: 2000 };

describe('ids', () => {
  test("Stripe's prefixes and lengths, base62, a version digit on long ids", () => {
    const g = createIdGenerator();
    for (const [prefix, n] of [['cus', 14], ['prod', 14], ['req', 14], ['acct', 16], ['tok', 24], ['pi', 24], ['ch', 24], ['evt', 24], ['txn', 24], ['price', 24]] as const) {
      const id = g.id(prefix);
      assert.match(id, new RegExp(`^${prefix}_[0-9A-Za-z]{${n}}$`), id);
      if (n >= 20) assert.equal(id[prefix.length + 1], '1', id);
    }
    assert.match(g.id('mevid', 24), /^mevid_1[0-9A-Za-z]{23}$/);
    assert.match(g.id('x', 6), /^x_[0-9A-Za-z]{6}$/); // too short for a time part: all random
  });

  test('the leading characters are the creation time; later ids sort later', async () => {
    const g = createIdGenerator();
    const before = Date.now();
    const first = [g.id('pi'), g.id('cus'), g.id('acct')];
    for (const id of first) {
      const t = idTimeMs(id);
      assert.ok(t >= before && t <= Date.now(), `${id}: ${t} not in [${before}, ${Date.now()}]`);
    }
    await new Promise((r) => setTimeout(r, 5));
    const later = [g.id('pi'), g.id('cus'), g.id('acct')];
    for (let i = 0; i < 3; i++) assert.ok(later[i]! > first[i]!, `${later[i]} should sort after ${first[i]}`);
    // The alphabet is in ASCII order, the time part fixed-width: string order is time order.
    const times = [0, 1, 61, 62, 999, 1000, 59_999, 3_600_000, 86_400_000 * 365 * 20].map((d) => (EPOCH_S * 1000) + d);
    const parts = times.map(timePart);
    assert.deepEqual([...parts].sort(), parts);
    for (const p of parts) assert.equal(p.length, 7);
    // Ids made today lead with the characters Stripe's ids made today have (pi_1Pgafy… was July 2024).
    assert.equal(timePart(Date.UTC(2024, 6, 25)).slice(0, 2), 'Pg');
  });

  test('ids made in one millisecond still differ; secrets are random, not time-prefixed', () => {
    const g = createIdGenerator();
    const seen = new Set<string>();
    for (let i = 0; i < 50_000; i++) seen.add(g.id('cus'));
    assert.equal(seen.size, 50_000);
    const t = timePart(Date.now()).slice(0, 4);
    const secrets = Array.from({ length: 20 }, () => g.random(24));
    assert.ok(secrets.filter((s) => s.startsWith(t)).length < 2, 'random() must not carry the time part');
  });

  test('--seed: the same sequence on every run, from a counter rather than the clock', async () => {
    const run = () => { const g = createIdGenerator(42); return [g.id('cus'), g.id('pi'), g.random(24), g.id('evt'), g.id('prod')]; };
    const a = run();
    await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(run(), a);
    const other = createIdGenerator(43);
    assert.notEqual(other.id('cus'), a[0]);
    // Still time-ordered: each id one virtual millisecond after the one before.
    const g = createIdGenerator(7);
    const ids = Array.from({ length: 200 }, () => g.id('pi'));
    assert.deepEqual([...ids].sort(), ids);
    assert.equal(idTimeMs(ids[1]!) - idTimeMs(ids[0]!), 1);
  });

  test('objects made through the API get time-ordered ids', async () => {
    const t = await startTestServer();
    try {
      const s = t.stripe();
      const pis = [];
      for (let i = 0; i < 3; i++) {
        pis.push(await s.paymentIntents.create(PAY));
        await new Promise((r) => setTimeout(r, 3));
      }
      assert.ok(pis[0]!.id < pis[1]!.id && pis[1]!.id < pis[2]!.id, pis.map((p) => p.id).join(' '));
      const charges = pis.map((p) => p.latest_charge as string);
      assert.ok(charges[0]! < charges[1]! && charges[1]! < charges[2]!);
      for (const p of pis) assert.ok(Math.abs(idTimeMs(p.id) - p.created * 1000) < 2000);
    } finally { await t.close(); }
  });
});


describe('webhook endpoints looked up once per transaction', () => {
  let t: TestServer;
  let rx: Receiver;
  before(async () => { t = await startTestServer({ webhooks: FAST }); rx = await startReceiver(); });
  after(async () => { await t.close(); await rx.close(); });

  async function pendingOf(key: string, piId: string): Promise<Record<string, number>> {
    const events = (await t.stripe(key).events.list({ limit: 100 })).data.filter((e) => (e.data.object as any).id === piId || (e.data.object as any).payment_intent === piId);
    // Deliveries queued per event (pending_webhooks falls as they are delivered).
    const out: Record<string, number> = {};
    for (const e of events) {
      const r = await t.request('GET', `/_pinstripe/webhook_deliveries?event=${e.id}`, { key });
      assert.equal(r.status, 200);
      out[e.type] = r.json.data.length;
    }
    return out;
  }

  test('every event of a payment reaches each subscribed endpoint; changes between requests are seen at once', async () => {
    const key = freshKey();
    const s = t.stripe(key);
    // Events flow before any endpoint exists.
    const before = await s.paymentIntents.create(PAY);
    assert.deepEqual(await pendingOf(key, before.id), { 'payment_intent.created': 0, 'charge.succeeded': 0, 'payment_intent.succeeded': 0 });

    // An endpoint created now gets every event of the next payment; one subscribed to one type gets that one.
    const all = await s.webhookEndpoints.create({ url: rx.url + '?all', enabled_events: ['*'] });
    const one = await s.webhookEndpoints.create({ url: rx.url + '?one', enabled_events: ['charge.succeeded'] });
    const first = await s.paymentIntents.create(PAY);
    assert.deepEqual(await pendingOf(key, first.id), { 'payment_intent.created': 1, 'charge.succeeded': 2, 'payment_intent.succeeded': 1 });
    const got = await eventually(async () => {
      const mine = rx.received.filter((r) => [first.id, first.latest_charge].includes(r.json?.data?.object?.id));
      return mine.length === 4 ? mine : undefined;
    });
    assert.deepEqual(got.filter((r) => r.headers['stripe-signature'] && true).map((r) => r.json.type).sort(), ['charge.succeeded', 'charge.succeeded', 'payment_intent.created', 'payment_intent.succeeded']);

    // Disabled: the next payment's events skip it; re-enabled: they reach it again.
    await s.webhookEndpoints.update(all.id, { disabled: true });
    const second = await s.paymentIntents.create(PAY);
    assert.deepEqual(await pendingOf(key, second.id), { 'payment_intent.created': 0, 'charge.succeeded': 1, 'payment_intent.succeeded': 0 });
    await s.webhookEndpoints.update(all.id, { disabled: false });
    await s.webhookEndpoints.update(one.id, { enabled_events: ['payment_intent.succeeded'] });
    const third = await s.paymentIntents.create(PAY);
    assert.deepEqual(await pendingOf(key, third.id), { 'payment_intent.created': 1, 'charge.succeeded': 1, 'payment_intent.succeeded': 2 });

    // Deleted: nothing more.
    await s.webhookEndpoints.del(all.id);
    await s.webhookEndpoints.del(one.id);
    const fourth = await s.paymentIntents.create(PAY);
    assert.deepEqual(await pendingOf(key, fourth.id), { 'payment_intent.created': 0, 'charge.succeeded': 0, 'payment_intent.succeeded': 0 });
  });

  test('payments concurrent with an endpoint being created: all events of one payment agree', async () => {
    const key = freshKey();
    const s = t.stripe(key);
    await s.webhookEndpoints.create({ url: rx.url + '?c', enabled_events: ['*'] });
    const [pis] = await Promise.all([
      Promise.all(Array.from({ length: 10 }, () => s.paymentIntents.create(PAY))),
      s.webhookEndpoints.create({ url: rx.url + '?c2', enabled_events: ['*'] }),
    ]);
    for (const pi of pis) {
      const p = await pendingOf(key, pi.id);
      const n = p['payment_intent.created']!;
      assert.ok(n === 1 || n === 2, JSON.stringify(p));
      assert.deepEqual(p, { 'payment_intent.created': n, 'charge.succeeded': n, 'payment_intent.succeeded': n });
    }
    // After both commits every payment sees both.
    const next = await s.paymentIntents.create(PAY);
    assert.deepEqual(await pendingOf(key, next.id), { 'payment_intent.created': 2, 'charge.succeeded': 2, 'payment_intent.succeeded': 2 });
  });

  test('an endpoint created through another server on the same store gets the next event', async () => {
    // Two servers (two stores) on one SQLite file or PostgreSQL database, as two processes would be.
    // On PostgreSQL a database of their own: a server starting (its schema statements) beside
    // this file's busy test server can deadlock with it.
    const dataDir = mkdtempSync(join(tmpdir(), 'pinstripe-payfast-'));
    const db = await isolatedDatabaseUrl('payfast_two');
    const a = await startServer({ port: 0, dataDir, databaseUrl: db, logLevel: 'silent', webhooks: false });
    const b = await startServer({ port: 0, dataDir, databaseUrl: db, logLevel: 'silent', webhooks: false }).catch(async (e) => { await a.close(); throw e; });
    try {
      const key = freshKey();
      const Stripe = (await import('stripe')).default;
      const sdk = (srv: { port: number }) => new Stripe(key, { host: '127.0.0.1', port: srv.port, protocol: 'http', maxNetworkRetries: 0 } as any);
      const sa = sdk(a);
      const sb = sdk(b);
      const p0 = await sb.paymentIntents.create(PAY); // b has looked endpoints up (none)
      const we = await sa.webhookEndpoints.create({ url: rx.url + '?ab', enabled_events: ['*'] });
      const p1 = await sb.paymentIntents.create(PAY);
      await sa.webhookEndpoints.update(we.id, { disabled: true });
      const p2 = await sb.paymentIntents.create(PAY);
      // Deliveries queued for the event (on PostgreSQL another test server's worker may already have delivered them).
      const pending = async (id: string) => {
        const ev = (await sb.events.list({ type: 'payment_intent.succeeded', limit: 10 })).data.find((e) => (e.data.object as any).id === id)!;
        const r = await fetch(`http://127.0.0.1:${b.port}/_pinstripe/webhook_deliveries?event=${ev.id}`, { headers: { Authorization: `Bearer ${key}` } });
        return ((await r.json()) as { data: unknown[] }).data.length;
      };
      assert.equal(await pending(p0.id), 0);
      assert.equal(await pending(p1.id), 1);
      assert.equal(await pending(p2.id), 0);
    } finally { await a.close(); await b.close(); await dropIsolatedDatabase(db); }
  });
});

describe('test-card PaymentMethods without a card reference row', () => {
  let t: TestServer;
  before(async () => { t = await startTestServer(); });
  after(async () => { await t.close(); });
  const refRow = (key: string, pmId: string) => t.server.services.store.get(authenticate(`Bearer ${key}`).scope, `${pmId}.card`);

  test('a pm_card_* payment writes no reference row; refunds, captures and disputes still know the card', async () => {
    const key = freshKey();
    const s = t.stripe(key);
    const pi = await s.paymentIntents.create(PAY);
    assert.equal(pi.status, 'succeeded');
    assert.equal(await refRow(key, pi.payment_method as string), null);
    const re = await s.refunds.create({ payment_intent: pi.id });
    assert.equal(re.status, 'succeeded');

    // The refund-failing card is still known as such when refunded.
    const failing = await s.paymentIntents.create({ ...PAY, payment_method: 'pm_card_refundFail' });
    const rf = await s.refunds.create({ payment_intent: failing.id });
    await eventually(async () => (await s.refunds.retrieve(rf.id)).status === 'failed');

    // Manual capture of a bypassPending card: the captured funds are available at once.
    const held = await s.paymentIntents.create({ ...PAY, payment_method: 'pm_card_bypassPending', capture_method: 'manual' });
    assert.equal(held.status, 'requires_capture');
    const captured = await s.paymentIntents.capture(held.id, { expand: ['latest_charge.balance_transaction'] });
    assert.equal(((captured.latest_charge as any).balance_transaction as any).status, 'available');

    // A dispute card disputes after capture.
    const disputed = await s.paymentIntents.create({ ...PAY, payment_method: 'pm_card_createDispute' });
    await eventually(async () => (await s.charges.retrieve(disputed.latest_charge as string)).disputed);
  });

  test('setting a test card up writes its reference row; later off-session payments need no authentication', async () => {
    const key = freshKey();
    const s = t.stripe(key);
    const cus = await s.customers.create({ name: 'Setup' });
    const pi = await s.paymentIntents.create({ ...PAY, payment_method: 'pm_card_visa', customer: cus.id, setup_future_usage: 'off_session' });
    assert.equal(pi.status, 'succeeded');
    const row = await refRow(key, pi.payment_method as string);
    assert.equal(row?.data.setUp, true);
    assert.equal(row?.data.key, 'visa');

    // The card that needs authentication unless set up: attached (not set up, no row) it cannot pay off-session.
    const pm = await s.paymentMethods.attach('pm_card_authenticationRequiredOnSetup', { customer: cus.id });
    assert.equal(await refRow(key, pm.id), null);
    await assert.rejects(s.paymentIntents.create({ amount: 500, currency: 'usd', customer: cus.id, payment_method: pm.id, ...card, confirm: true, off_session: true }), (e: any) => e.code === 'authentication_required');
    // The set-up visa pays off-session.
    const off = await s.paymentIntents.create({ amount: 500, currency: 'usd', customer: cus.id, payment_method: pi.payment_method as string, ...card, confirm: true, off_session: true });
    assert.equal(off.status, 'succeeded');
  });

  test('balance transactions listed by currency (no index entry): filtered, paginated, newest first', async () => {
    const s = t.stripe(freshKey());
    const made: Array<{ currency: string; id: string }> = [];
    for (const currency of ['usd', 'eur', 'usd', 'eur', 'usd']) {
      const pi = await s.paymentIntents.create({ ...PAY, currency });
      made.push({ currency, id: (await s.charges.retrieve(pi.latest_charge as string)).balance_transaction as string });
    }
    const first = await s.balanceTransactions.list({ currency: 'eur', limit: 1 });
    assert.equal(first.has_more, true);
    const all: string[] = [];
    for await (const x of s.balanceTransactions.list({ currency: 'eur', limit: 1 })) all.push(x.id);
    assert.deepEqual(all, made.filter((m) => m.currency === 'eur').map((m) => m.id).reverse());
    assert.equal((await s.balanceTransactions.list({ currency: 'USD', limit: 10 })).data.length, 3);
    assert.equal((await s.balanceTransactions.list({ currency: 'gbp' })).data.length, 0);
  });

  test('the derived card matches the stored one for every pm_card_* id', async () => {
    const { TEST_CARDS, derivedCardRef, paymentMethodCard } = await import('../src/engine/payments/network.js');
    for (const card of TEST_CARDS) {
      const avs = card.behaviour.line1Check !== undefined || card.behaviour.postalCheck !== undefined;
      const ref = { key: card.key, cvc: true, line1: avs, postal: avs, setUp: false };
      const pm = { object: 'payment_method', type: 'card', card: paymentMethodCard('acct_x', card, ref, { month: 1, year: 2030 }) };
      const got = derivedCardRef('acct_x', pm);
      assert.equal(got?.card.key, card.key);
      assert.deepEqual(got?.ref, ref);
      assert.equal(derivedCardRef('acct_other', pm), null, 'fingerprints are per account');
    }
  });
});
