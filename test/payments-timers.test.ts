// Time-driven payments work runs on the scheduler's timers: refunds settling, payouts paid, bank
// debits settling, uncaptured authorizations expiring, funds becoming available. It happens
// when the tick (real time) or a test clock advance runs it, not when somebody reads.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Stripe from 'stripe';
import { FrozenClock } from '../src/api/clock.js';
import { DATABASE_URL, freshKey, startTestServer, type TestServer } from './helpers/server.js';
import { PAYMENTS_EPOCH, runDueFor } from './helpers/timers.js';

const DAY = 86_400;
let t: TestServer;
let clock: FrozenClock;
// No automatic tick: each test runs the scheduler itself, so "nothing happened yet" is checkable.
before(async () => { clock = new FrozenClock(PAYMENTS_EPOCH); t = await startTestServer({ clock, schedulerTickMs: false, webhooks: false }); });
after(() => t.close());

const card: any = { payment_method_types: ['card'] };
const tick = (key: string) => runDueFor(t, key);
const later = async (key: string, seconds: number) => { clock.set(clock.now() + seconds); await tick(key); };
async function events(s: Stripe, type: string): Promise<Stripe.Event[]> {
  return (await s.events.list({ type, limit: 100 })).data;
}
async function withEndpoint(s: Stripe): Promise<void> {
  await s.webhookEndpoints.create({ url: 'http://127.0.0.1:9/hook', enabled_events: ['*'] });
}
const ach = (account_number: string): any => ({ type: 'us_bank_account', us_bank_account: { account_holder_type: 'individual', account_number, routing_number: '110000000', account_type: 'checking' }, billing_details: { name: 'Jenny Rosen' } });

describe('payments timers (real time)', () => {
  test('refunds: pending → succeeded and succeeded → failed when the tick runs, not on read; events are the scheduler’s and go to webhooks', async () => {
    const key = freshKey();
    const s = t.stripe(key);
    await withEndpoint(s);
    const a = await s.paymentIntents.create({ amount: 3000, currency: 'usd', ...card, payment_method: 'pm_card_pendingRefund', confirm: true });
    const b = await s.paymentIntents.create({ amount: 3000, currency: 'usd', ...card, payment_method: 'pm_card_refundFail', confirm: true });
    const ra = await s.refunds.create({ payment_intent: a.id });
    const rb = await s.refunds.create({ payment_intent: b.id });
    assert.deepEqual([ra.status, rb.status], ['pending', 'succeeded']);
    clock.set(clock.now() + 10);
    // Reads no longer settle anything.
    assert.equal((await s.refunds.retrieve(ra.id)).status, 'pending');
    assert.equal((await s.refunds.list({ charge: b.latest_charge as string })).data[0]!.status, 'succeeded');
    assert.equal((await events(s, 'refund.updated')).length, 0);
    await tick(key);
    assert.equal((await s.refunds.retrieve(ra.id)).status, 'succeeded');
    const failed = await s.refunds.retrieve(rb.id);
    assert.deepEqual([failed.status, failed.failure_reason], ['failed', 'expired_or_canceled_card']);
    const updated = await events(s, 'refund.updated');
    assert.equal(updated.length, 2);
    for (const e of updated) { assert.deepEqual(e.request, { id: null, idempotency_key: null }); assert.equal(e.pending_webhooks, 1); }
    const [refundFailed] = await events(s, 'refund.failed');
    assert.equal((refundFailed!.data.object as Stripe.Refund).id, rb.id);
    assert.equal((await events(s, 'charge.refund.updated')).length, 1);
    const ch = await s.charges.retrieve(b.latest_charge as string);
    assert.deepEqual([ch.amount_refunded, ch.refunded], [0, false]);
    // Each settles exactly once.
    await later(key, 60);
    assert.equal((await events(s, 'refund.updated')).length, 2);
  });

  test('payouts: paid at arrival_date by the tick (payout.updated, payout.paid); a canceled payout never pays', async () => {
    const key = freshKey();
    const s = t.stripe(key);
    await s.paymentIntents.create({ amount: 10_000, currency: 'usd', ...card, payment_method: 'pm_card_bypassPending', confirm: true });
    const po = await s.payouts.create({ amount: 3000, currency: 'usd' });
    const po2 = await s.payouts.create({ amount: 1000, currency: 'usd' });
    await s.payouts.cancel(po2.id);
    await tick(key);
    assert.equal((await s.payouts.retrieve(po.id)).status, 'pending');
    clock.set(po.arrival_date);
    assert.equal((await s.payouts.retrieve(po.id)).status, 'pending', 'reads do not pay it');
    await tick(key);
    assert.equal((await s.payouts.retrieve(po.id)).status, 'paid');
    assert.equal((await s.payouts.retrieve(po2.id)).status, 'canceled');
    const paid = await events(s, 'payout.paid');
    assert.deepEqual(paid.map((e) => (e.data.object as Stripe.Payout).id), [po.id]);
    assert.equal(paid[0]!.created, po.arrival_date);
    const [upd] = await events(s, 'payout.updated');
    assert.equal((upd!.data.previous_attributes as any).status, 'pending');
  });

  test('instant payouts are paid on the next tick', async () => {
    const key = freshKey();
    const s = t.stripe(key);
    await s.paymentIntents.create({ amount: 10_000, currency: 'usd', ...card, payment_method: 'pm_card_bypassPending', confirm: true });
    const po = await s.payouts.create({ amount: 3000, currency: 'usd', method: 'instant' });
    assert.equal(po.status, 'pending');
    await tick(key);
    assert.equal((await s.payouts.retrieve(po.id)).status, 'paid');
  });

  test('bank debits: processing until the tick settles them (succeeded or failed), with their charge and intent events', async () => {
    const key = freshKey();
    const s = t.stripe(key);
    const ok = await s.paymentIntents.create({ amount: 10_000, currency: 'usd', payment_method_types: ['us_bank_account'], payment_method_data: ach('000123456789'), confirm: true } as any);
    const bad = await s.paymentIntents.create({ amount: 5000, currency: 'usd', payment_method_types: ['us_bank_account'], payment_method_data: ach('000111111113'), confirm: true } as any);
    clock.set(clock.now() + 11);
    assert.equal((await s.paymentIntents.retrieve(ok.id)).status, 'processing');
    assert.equal((await s.charges.retrieve(ok.latest_charge as string)).status, 'pending');
    await tick(key);
    const done = await s.paymentIntents.retrieve(ok.id);
    assert.deepEqual([done.status, done.amount_received], ['succeeded', 10_000]);
    const failed = await s.paymentIntents.retrieve(bad.id);
    assert.deepEqual([failed.status, failed.last_payment_error!.code], ['requires_payment_method', 'account_closed']);
    assert.equal((await s.charges.retrieve(bad.latest_charge as string)).failure_code, 'account_closed');
    const succeeded = await events(s, 'payment_intent.succeeded');
    assert.deepEqual(succeeded.map((e) => [(e.data.object as any).id, e.request!.id]), [[ok.id, null]]);
    assert.equal((await events(s, 'charge.succeeded')).length, 1);
    assert.equal((await events(s, 'charge.failed')).length, 1);
    assert.equal((await events(s, 'payment_intent.payment_failed')).length, 1);
  });

  test('uncaptured authorizations expire by the tick: canceled (automatic), charge refunded, charge.expired', async () => {
    const key = freshKey();
    const s = t.stripe(key);
    const a = await s.paymentIntents.create({ amount: 4000, currency: 'usd', ...card, capture_method: 'manual', payment_method: 'pm_card_visa', confirm: true });
    const captured = await s.paymentIntents.create({ amount: 4000, currency: 'usd', ...card, capture_method: 'manual', payment_method: 'pm_card_mastercard', confirm: true });
    const canceled = await s.paymentIntents.create({ amount: 4000, currency: 'usd', ...card, capture_method: 'manual', payment_method: 'pm_card_visa', confirm: true });
    await s.paymentIntents.capture(captured.id);
    await s.paymentIntents.cancel(canceled.id, { cancellation_reason: 'requested_by_customer' });
    const ch = await s.charges.retrieve(a.latest_charge as string);
    assert.equal(ch.payment_method_details!.card!.capture_before, a.created + 7 * DAY);
    await later(key, 7 * DAY - 1);
    assert.equal((await s.paymentIntents.retrieve(a.id)).status, 'requires_capture');
    await later(key, 1);
    const expired = await s.paymentIntents.retrieve(a.id);
    assert.deepEqual([expired.status, expired.cancellation_reason, expired.canceled_at, expired.amount_capturable], ['canceled', 'automatic', a.created + 7 * DAY, 0]);
    const released = await s.charges.retrieve(a.latest_charge as string, { expand: ['refunds'] });
    assert.deepEqual([released.status, released.captured, released.refunded, released.amount_refunded, released.refunds!.data.length], ['succeeded', false, true, 4000, 1]);
    const [exp] = await events(s, 'charge.expired');
    assert.equal((exp!.data.object as Stripe.Charge).id, a.latest_charge);
    const cancelEvents = await events(s, 'payment_intent.canceled');
    assert.deepEqual(cancelEvents.map((e) => [(e.data.object as any).id, (e.data.object as any).cancellation_reason]), [[a.id, 'automatic'], [canceled.id, 'requested_by_customer']]);
    assert.equal((await s.paymentIntents.retrieve(captured.id)).status, 'succeeded');
    await assert.rejects(s.paymentIntents.capture(a.id), (e: any) => e.code === 'payment_intent_unexpected_state' && /status of canceled/.test(e.message));
  });

  test('Visa merchant-initiated (off-session) authorizations expire after 4 days 18 hours', async () => {
    const key = freshKey();
    const s = t.stripe(key);
    const cus = await s.customers.create();
    const pi = await s.paymentIntents.create({ amount: 4000, currency: 'usd', ...card, customer: cus.id, capture_method: 'manual', payment_method: 'pm_card_visa', off_session: true, confirm: true });
    const ch = await s.charges.retrieve(pi.latest_charge as string);
    assert.equal(ch.payment_method_details!.card!.capture_before, pi.created + 4 * DAY + 18 * 3600);
    const onSession = await s.paymentIntents.create({ amount: 4000, currency: 'usd', ...card, capture_method: 'manual', payment_method: 'pm_card_visa', confirm: true });
    await later(key, 4 * DAY + 18 * 3600);
    assert.equal((await s.paymentIntents.retrieve(pi.id)).status, 'canceled');
    assert.equal((await s.paymentIntents.retrieve(onSession.id)).status, 'requires_capture');
  });

  test('funds becoming available emit balance.available with the new balance', async () => {
    const key = freshKey();
    const s = t.stripe(key);
    const pi = await s.paymentIntents.create({ amount: 10_000, currency: 'usd', ...card, payment_method: 'pm_card_visa', confirm: true });
    const txn = await s.balanceTransactions.retrieve((await s.charges.retrieve(pi.latest_charge as string)).balance_transaction as string);
    await tick(key);
    assert.equal((await events(s, 'balance.available')).length, 0);
    clock.set(txn.available_on);
    await tick(key);
    const [ev] = await events(s, 'balance.available');
    assert.equal(ev!.created, txn.available_on);
    const bal = ev!.data.object as Stripe.Balance;
    assert.equal(bal.object, 'balance');
    assert.deepEqual(bal.available, [{ amount: 9680, currency: 'usd', source_types: { card: 9680 } }]);
    assert.deepEqual(bal.pending, [{ amount: 0, currency: 'usd', source_types: { card: 0 } }]);
  });
});

describe('payments timers (the server tick)', () => {
  // On PostgreSQL every suite shares the database: a server-wide tick here would run other suites'
  // timers (scheduler.test.ts covers the tick there).
  test('the server’s own tick pays a payout and settles a refund with nobody reading', { skip: DATABASE_URL ? 'server-wide tick on a shared database' : false }, async () => {
    const s = t.stripe(freshKey());
    await s.paymentIntents.create({ amount: 10_000, currency: 'usd', ...card, payment_method: 'pm_card_bypassPending', confirm: true });
    const po = await s.payouts.create({ amount: 3000, currency: 'usd' });
    const paid = await s.paymentIntents.create({ amount: 3000, currency: 'usd', ...card, payment_method: 'pm_card_pendingRefund', confirm: true });
    const refund = await s.refunds.create({ payment_intent: paid.id });
    clock.set(po.arrival_date);
    await t.server.scheduler.tick();
    assert.equal((await s.payouts.retrieve(po.id)).status, 'paid');
    assert.equal((await s.refunds.retrieve(refund.id)).status, 'succeeded');
  });
});

describe('payments timers (test clocks)', () => {
  test('a customer’s test clock drives its refunds, bank debits and authorization expiry; real time does not', async () => {
    const key = freshKey();
    const s = t.stripe(key);
    const start = clock.now();
    const tc = await s.testHelpers.testClocks.create({ frozen_time: start });
    const cus = await s.customers.create({ test_clock: tc.id });
    const paid = await s.paymentIntents.create({ amount: 3000, currency: 'usd', ...card, customer: cus.id, payment_method: 'pm_card_pendingRefund', confirm: true });
    const refund = await s.refunds.create({ payment_intent: paid.id });
    const debit = await s.paymentIntents.create({ amount: 5000, currency: 'usd', customer: cus.id, payment_method_types: ['us_bank_account'], payment_method_data: ach('000123456789'), confirm: true } as any);
    const hold = await s.paymentIntents.create({ amount: 4000, currency: 'usd', ...card, customer: cus.id, capture_method: 'manual', payment_method: 'pm_card_visa', confirm: true });
    await later(key, 8 * DAY);
    assert.equal((await s.refunds.retrieve(refund.id)).status, 'pending');
    assert.equal((await s.paymentIntents.retrieve(debit.id)).status, 'processing');
    assert.equal((await s.paymentIntents.retrieve(hold.id)).status, 'requires_capture');
    await s.testHelpers.testClocks.advance(tc.id, { frozen_time: start + 60 });
    assert.equal((await s.refunds.retrieve(refund.id)).status, 'succeeded');
    assert.equal((await s.paymentIntents.retrieve(debit.id)).status, 'succeeded');
    assert.equal((await s.paymentIntents.retrieve(hold.id)).status, 'requires_capture');
    const [upd] = await events(s, 'refund.updated');
    assert.equal(upd!.created, refund.created + 5, 'the event takes the clock’s time');
    await s.testHelpers.testClocks.advance(tc.id, { frozen_time: hold.created + 7 * DAY });
    const expired = await s.paymentIntents.retrieve(hold.id);
    assert.deepEqual([expired.status, expired.cancellation_reason], ['canceled', 'automatic']);
  });
});
