// Refunds, balance transactions and the balance: full, partial and several refunds,
// over-refunds, refunds of uncaptured intents, the asynchronous test cards, fees, and
// pending → available as the (frozen) clock moves.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Stripe from 'stripe';
import { FrozenClock } from '../src/api/clock.js';
import { freshKey, startTestServer, type TestServer } from './helpers/server.js';
import { PAYMENTS_EPOCH, runDueFor } from './helpers/timers.js';

const T0 = PAYMENTS_EPOCH;
let t: TestServer;
let clock: FrozenClock;
before(async () => { clock = new FrozenClock(T0); t = await startTestServer({ clock, schedulerTickMs: false }); });
after(() => t.close());

const card: any = { payment_method_types: ['card'] };
async function rejects(p: Promise<unknown>, check: (e: any) => void) {
  await assert.rejects(p, (e: any) => { check(e); return true; });
}
async function paid(s: Stripe, amount: number, pm = 'pm_card_visa', extra: Record<string, unknown> = {}) {
  return s.paymentIntents.create({ amount, currency: 'usd', ...card, payment_method: pm, confirm: true, ...extra });
}

describe('refunds', () => {
  test('partial, several, then full; over-refund rejected with Stripe’s message; events and balance transactions', async () => {
    const s = t.stripe(freshKey());
    const pi = await paid(s, 10_000);
    const r1 = await s.refunds.create({ payment_intent: pi.id, amount: 2500, reason: 'requested_by_customer', metadata: { n: '1' } });
    assert.match(r1.id, /^re_[A-Za-z0-9]{24}$/);
    assert.deepEqual([r1.amount, r1.status, r1.charge, r1.payment_intent, r1.reason, r1.currency], [2500, 'succeeded', pi.latest_charge, pi.id, 'requested_by_customer', 'usd']);
    assert.deepEqual(r1.metadata, { n: '1' });
    const txn = await s.balanceTransactions.retrieve(r1.balance_transaction as string);
    assert.deepEqual([txn.amount, txn.fee, txn.net, txn.type, txn.source, txn.reporting_category], [-2500, 0, -2500, 'refund', r1.id, 'refund']);
    await rejects(s.refunds.create({ charge: pi.latest_charge as string, amount: 8000 }), (e) => {
      assert.equal(e.statusCode, 400); assert.equal(e.param, 'amount');
      assert.equal(e.message, 'Refund amount ($80.00) is greater than unrefunded amount on charge ($75.00)');
    });
    const r2 = await s.refunds.create({ charge: pi.latest_charge as string, amount: 500 });
    let ch = await s.charges.retrieve(pi.latest_charge as string, { expand: ['refunds'] });
    assert.equal(ch.amount_refunded, 3000); assert.equal(ch.refunded, false);
    assert.deepEqual(ch.refunds!.data.map((r) => r.id), [r2.id, r1.id]);
    const rest = await s.refunds.create({ payment_intent: pi.id });
    assert.equal(rest.amount, 7000);
    ch = await s.charges.retrieve(pi.latest_charge as string);
    assert.equal(ch.amount_refunded, 10_000); assert.equal(ch.refunded, true);
    await rejects(s.refunds.create({ charge: ch.id }), (e) => { assert.equal(e.code, 'charge_already_refunded'); assert.equal(e.message, `Charge ${ch.id} has already been refunded.`); });
    assert.deepEqual((await s.refunds.list({ charge: ch.id })).data.map((r) => r.id), [rest.id, r2.id, r1.id]);
    assert.equal((await s.refunds.list({ payment_intent: pi.id, limit: 1 })).has_more, true);
    const types = (await s.events.list({ limit: 100 })).data.map((e) => e.type);
    assert.equal(types.filter((x) => x === 'refund.created').length, 3);
    assert.equal(types.filter((x) => x === 'charge.refunded').length, 3);
    const updated = await s.refunds.update(r1.id, { metadata: { n: '2' } });
    assert.deepEqual(updated.metadata, { n: '2' });
    await rejects(s.refunds.create({ charge: ch.id, payment_intent: pi.id }), (e) => assert.equal(e.statusCode, 400));
    await rejects(s.refunds.create({}), (e) => assert.equal(e.message, 'One of the following params should be provided for this request: payment_intent or charge.'));
    await rejects(s.refunds.retrieve('re_nope'), (e) => { assert.equal(e.statusCode, 404); assert.equal(e.message, "No such refund: 're_nope'"); });
  });

  test('over-refund of an unrefunded charge names the charge amount', async () => {
    const pi = await paid(t.stripe(), 1000);
    await rejects(t.stripe().refunds.create({ payment_intent: pi.id, amount: 2000 }), (e) => assert.equal(e.message, 'Refund amount ($20.00) is greater than charge amount ($10.00)'));
  });

  test('refunding an uncaptured PaymentIntent cancels it; partial refunds of it are refused', async () => {
    const s = t.stripe(freshKey());
    const pi = await paid(s, 4000, 'pm_card_visa', { capture_method: 'manual' });
    await rejects(s.refunds.create({ payment_intent: pi.id, amount: 100 }), (e) => assert.equal(e.param, 'amount'));
    const r = await s.refunds.create({ payment_intent: pi.id });
    assert.equal(r.amount, 4000); assert.equal(r.balance_transaction, null); assert.equal(r.status, 'succeeded');
    const after = await s.paymentIntents.retrieve(pi.id);
    assert.equal(after.status, 'canceled');
    const ch = await s.charges.retrieve(pi.latest_charge as string);
    assert.equal(ch.refunded, true); assert.equal(ch.captured, false);
  });

  test('refunds of failed charges are refused', async () => {
    const s = t.stripe(freshKey());
    const pi = await s.paymentIntents.create({ amount: 1000, currency: 'usd', ...card });
    let charge = '';
    await rejects(s.paymentIntents.confirm(pi.id, { payment_method: 'pm_card_chargeDeclined' }), (e) => { charge = e.raw.charge; });
    await rejects(s.refunds.create({ charge }), (e) => assert.equal(e.statusCode, 400));
    await rejects(s.refunds.create({ payment_intent: pi.id }), (e) => assert.equal(e.statusCode, 400));
  });

  test('pm_card_pendingRefund: pending, then succeeded with refund.updated as the clock passes', async () => {
    const key = freshKey();
    const s = t.stripe(key);
    const pi = await paid(s, 3000, 'pm_card_pendingRefund');
    const r = await s.refunds.create({ payment_intent: pi.id });
    assert.equal(r.status, 'pending');
    assert.equal((await s.refunds.retrieve(r.id)).status, 'pending');
    clock.set(clock.now() + 10);
    await runDueFor(t, key);
    const done = await s.refunds.retrieve(r.id);
    assert.equal(done.status, 'succeeded');
    const ev = (await s.events.list({ type: 'refund.updated' })).data[0]!;
    assert.equal((ev.data.object as Stripe.Refund).status, 'succeeded');
    assert.deepEqual(ev.data.previous_attributes, { status: 'pending' });
  });

  test('pm_card_refundFail: succeeded, then failed with refund.failed, a refund_failure credit and the charge no longer refunded', async () => {
    const key = freshKey();
    const s = t.stripe(key);
    const pi = await paid(s, 3000, 'pm_card_refundFail');
    const r = await s.refunds.create({ payment_intent: pi.id });
    assert.equal(r.status, 'succeeded');
    clock.set(clock.now() + 10);
    await runDueFor(t, key);
    const failed = (await s.refunds.list({ payment_intent: pi.id })).data[0]!;
    assert.equal(failed.status, 'failed');
    assert.equal(failed.failure_reason, 'expired_or_canceled_card');
    const credit = await s.balanceTransactions.retrieve(failed.failure_balance_transaction as string);
    assert.deepEqual([credit.type, credit.amount], ['refund_failure', 3000]);
    const types = (await s.events.list({ limit: 100 })).data.map((e) => e.type);
    assert.ok(types.includes('refund.failed')); assert.ok(types.includes('refund.updated'));
    const ch = await s.charges.retrieve(pi.latest_charge as string);
    assert.equal(ch.amount_refunded, 0); assert.equal(ch.refunded, false);
  });
});

describe('authorization expiry', () => {
  test('an uncaptured authorization expires after seven days: canceled (automatic), charge released; capture then refused', async () => {
    const key = freshKey();
    const s = t.stripe(key);
    const a = await paid(s, 4000, 'pm_card_visa', { capture_method: 'manual' });
    const b = await paid(s, 4000, 'pm_card_visa', { capture_method: 'manual' });
    const ch = await s.charges.retrieve(a.latest_charge as string);
    assert.equal(ch.payment_method_details!.card!.capture_before, clock.now() + 7 * 86400);
    clock.set(clock.now() + 7 * 86400 + 1);
    await runDueFor(t, key);
    await assert.rejects(s.paymentIntents.capture(b.id), (e: any) => e.statusCode === 400 && e.code === 'payment_intent_unexpected_state' && /status of canceled/.test(e.message));
    const expired = await s.paymentIntents.retrieve(a.id);
    assert.deepEqual([expired.status, expired.cancellation_reason], ['canceled', 'automatic']);
    assert.equal((await s.paymentIntents.retrieve(b.id)).status, 'canceled');
    const released = await s.charges.retrieve(a.latest_charge as string);
    assert.deepEqual([released.refunded, released.captured], [true, false]);
  });
});

describe('balance', () => {
  test('fees, pending → available as time passes, bypassPending, refunds debit available; list filters', async () => {
    const key = freshKey();
    const s = t.stripe(key);
    const empty = await s.balance.retrieve();
    assert.deepEqual(empty.available, [{ amount: 0, currency: 'usd', source_types: { card: 0 } }]);
    const a = await paid(s, 10_000); // fee 290 + 30 = 320, net 9680, pending
    const b = await paid(s, 2_000, 'pm_card_bypassPending'); // fee 58 + 30 = 88, net 1912, available now
    let bal = await s.balance.retrieve();
    assert.equal(bal.object, 'balance'); assert.equal(bal.livemode, false);
    assert.deepEqual(bal.pending, [{ amount: 9680, currency: 'usd', source_types: { card: 9680 } }]);
    assert.deepEqual(bal.available, [{ amount: 1912, currency: 'usd', source_types: { card: 1912 } }]);
    const chA = await s.charges.retrieve(a.latest_charge as string);
    const txnA = await s.balanceTransactions.retrieve(chA.balance_transaction as string);
    assert.equal(txnA.status, 'pending');
    assert.equal(txnA.fee, 320);
    assert.ok(txnA.available_on > clock.now());
    assert.equal(txnA.available_on % 86400, 0);
    await s.refunds.create({ payment_intent: b.id, amount: 1000 });
    bal = await s.balance.retrieve();
    assert.equal(bal.available[0]!.amount, 912);

    clock.set(txnA.available_on + 1);

    await runDueFor(t, key);
    assert.equal((await s.balanceTransactions.retrieve(txnA.id)).status, 'available');
    bal = await s.balance.retrieve();
    assert.deepEqual(bal.pending, [{ amount: 0, currency: 'usd', source_types: { card: 0 } }]);
    assert.equal(bal.available[0]!.amount, 912 + 9680);

    const eur = await s.paymentIntents.create({ amount: 5000, currency: 'eur', ...card, payment_method: 'pm_card_visa', confirm: true });
    void eur;
    bal = await s.balance.retrieve();
    assert.deepEqual(bal.pending.map((x) => x.currency), ['eur', 'usd']);

    const all = await s.balanceTransactions.list({ limit: 100 });
    assert.equal(all.data.length, 4);
    assert.deepEqual((await s.balanceTransactions.list({ type: 'refund' })).data.map((x) => x.amount), [-1000]);
    assert.deepEqual((await s.balanceTransactions.list({ currency: 'eur' })).data.map((x) => x.amount), [5000]);
    assert.deepEqual((await s.balanceTransactions.list({ source: chA.id })).data.map((x) => x.id), [txnA.id]);
    assert.deepEqual((await s.balanceTransactions.list({ type: 'charge', currency: 'usd' })).data.length, 2);
    await rejects(s.balanceTransactions.retrieve('txn_nope'), (e) => assert.equal(e.statusCode, 404));
  });
});
