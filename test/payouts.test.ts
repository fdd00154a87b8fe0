// Payouts against the available balance, paid as the frozen clock passes arrival_date.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type Stripe from 'stripe';
import { FrozenClock } from '../src/api/clock.js';
import { freshKey, startTestServer, type TestServer } from './helpers/server.js';
import { PAYMENTS_EPOCH, runDueFor } from './helpers/timers.js';

const T0 = PAYMENTS_EPOCH;
let t: TestServer;
let clock: FrozenClock;
before(async () => { clock = new FrozenClock(T0); t = await startTestServer({ clock, schedulerTickMs: false }); });
after(() => t.close());

describe('payouts', () => {
  test('balance_insufficient when short; pending → paid by the clock; cancel while pending; filters', async () => {
    const key = freshKey();
    const s = t.stripe(key);
    await assert.rejects(s.payouts.create({ amount: 1000, currency: 'usd' }), (e: any) => e.statusCode === 400 && e.code === 'balance_insufficient' && /insufficient funds/.test(e.message));
    await s.paymentIntents.create({ amount: 10_000, currency: 'usd', payment_method_types: ['card'], payment_method: 'pm_card_bypassPending', confirm: true } as any);
    // available: 10000 - 320 = 9680
    await assert.rejects(s.payouts.create({ amount: 9681, currency: 'usd' }), (e: any) => e.code === 'balance_insufficient');
    const po = await s.payouts.create({ amount: 5000, currency: 'usd', description: 'weekly', metadata: { w: '1' } });
    assert.match(po.id, /^po_[A-Za-z0-9]{24}$/);
    assert.deepEqual([po.status, po.amount, po.method, po.type, po.automatic, po.source_type], ['pending', 5000, 'standard', 'bank_account', false, 'card']);
    assert.ok(po.arrival_date > clock.now());
    const txn = await s.balanceTransactions.retrieve(po.balance_transaction as string);
    assert.deepEqual([txn.type, txn.amount, txn.source], ['payout', -5000, po.id]);
    assert.deepEqual((await s.balanceTransactions.list({ payout: po.id })).data.map((x) => x.id), [txn.id]);
    assert.equal((await s.balance.retrieve()).available[0]!.amount, 4680);

    const po2 = await s.payouts.create({ amount: 1000, currency: 'usd' });
    const canceled = await s.payouts.cancel(po2.id);
    assert.equal(canceled.status, 'canceled');
    assert.equal((await s.balance.retrieve()).available[0]!.amount, 4680);
    await assert.rejects(s.payouts.cancel(po2.id), (e: any) => e.statusCode === 400 && e.message === 'Payouts can only be canceled while they are pending.');

    assert.deepEqual((await s.payouts.list({ status: 'pending' })).data.map((p) => p.id), [po.id]);
    clock.set(po.arrival_date + 1);
    await runDueFor(t, key);
    const paid = await s.payouts.retrieve(po.id);
    assert.equal(paid.status, 'paid');
    await assert.rejects(s.payouts.cancel(po.id), (e: any) => e.statusCode === 400);
    assert.deepEqual((await s.payouts.list({ status: 'paid' })).data.map((p) => p.id), [po.id]);
    assert.deepEqual((await s.payouts.list({ status: 'pending' })).data.map((p) => p.id), []);
    assert.equal((await s.payouts.list({ arrival_date: { lte: po.arrival_date } })).data.length, 2);
    const types = (await s.events.list({ limit: 100 })).data.map((e) => e.type as string);
    for (const ty of ['payout.created', 'payout.canceled', 'payout.updated', 'payout.paid']) assert.ok(types.includes(ty), ty);
    const up = await s.payouts.update(po.id, { metadata: { w: '2' } });
    assert.deepEqual(up.metadata, { w: '2' });
    await assert.rejects(s.payouts.retrieve('po_nope'), (e: any) => e.statusCode === 404 && e.message === "No such payout: 'po_nope'");
  });

  test('payouts to Stripe\'s failing test bank accounts: pending → failed with the bank\'s code, the funds returned, payout.failed', async () => {
    const key = freshKey();
    const s = t.stripe(key);
    await s.paymentIntents.create({ amount: 20_000, currency: 'usd', payment_method_types: ['card'], payment_method: 'pm_card_bypassPending', confirm: true } as any);
    const start = (await s.balance.retrieve()).available[0]!.amount;
    const bank = (account_number: string) => s.tokens.create({ bank_account: { country: 'US', currency: 'usd', routing_number: '110000000', account_number, account_holder_name: 'Jane Austen', account_holder_type: 'individual' } } as any);
    const ok = await bank('000123456789');
    assert.match(ok.id, /^btok_/);
    assert.equal(ok.type, 'bank_account');
    assert.deepEqual([ok.bank_account!.object, ok.bank_account!.last4, ok.bank_account!.routing_number, ok.bank_account!.bank_name, ok.bank_account!.status, ok.bank_account!.country, ok.bank_account!.currency],
      ['bank_account', '6789', '110000000', 'STRIPE TEST BANK', 'new', 'US', 'usd']);
    assert.match(ok.bank_account!.id, /^ba_/);
    assert.ok(!JSON.stringify(ok).includes('000123456789'));
    assert.equal((await s.tokens.retrieve(ok.id)).bank_account!.id, ok.bank_account!.id);
    await assert.rejects(s.tokens.create({ bank_account: { country: 'US', routing_number: '110000000' } } as any), (e: any) => e.statusCode === 400 && e.param === 'bank_account[account_number]');
    await assert.rejects(s.payouts.create({ amount: 100, currency: 'usd', destination: 'ba_nope' }), (e: any) => e.statusCode === 400 && e.code === 'resource_missing' && e.param === 'destination');

    const cases: [string, string, RegExp][] = [
      ['000111111116', 'no_account', /No bank account could be located/],
      ['000111111113', 'account_closed', /has been closed/],
      ['000222222227', 'insufficient_funds', /insufficient funds to cover the payout/],
      ['000333333335', 'debit_not_authorized', /Debit transactions are not approved/],
      ['000444444440', 'invalid_currency', /because of its currency/],
    ];
    const good = await s.payouts.create({ amount: 1000, currency: 'usd', destination: ok.bank_account!.id });
    assert.equal(good.destination, ok.bank_account!.id);
    const failing: Stripe.Payout[] = [];
    for (const [number] of cases) {
      const tok = await bank(number);
      failing.push(await s.payouts.create({ amount: 500, currency: 'usd', destination: tok.bank_account!.id }));
    }
    assert.ok(failing.every((p) => p.status === 'pending' && p.failure_code === null));
    assert.equal((await s.balance.retrieve()).available[0]!.amount, start - 1000 - 5 * 500);
    clock.set(good.arrival_date + 1);
    await runDueFor(t, key);
    assert.equal((await s.payouts.retrieve(good.id)).status, 'paid');
    for (const [i, [, code, message]] of cases.entries()) {
      const po = await s.payouts.retrieve(failing[i]!.id);
      assert.equal(po.status, 'failed', code);
      assert.equal(po.failure_code, code);
      assert.match(po.failure_message!, message);
      const back = await s.balanceTransactions.retrieve(po.failure_balance_transaction as string);
      assert.deepEqual([back.type, back.amount, back.source, back.reporting_category, back.status], ['payout_failure', 500, po.id, 'payout_reversal', 'available']);
      assert.deepEqual((await s.balanceTransactions.list({ payout: po.id })).data.map((x) => x.type).sort(), ['payout', 'payout_failure']);
      await assert.rejects(s.payouts.cancel(po.id), (e: any) => e.statusCode === 400);
    }
    assert.equal((await s.balance.retrieve()).available[0]!.amount, start - 1000);
    assert.deepEqual((await s.payouts.list({ status: 'failed' })).data.map((p) => p.id).sort(), failing.map((p) => p.id).sort());
    const events = (await s.events.list({ type: 'payout.failed', limit: 100 })).data;
    assert.deepEqual(events.map((e) => (e.data.object as Stripe.Payout).id).sort(), failing.map((p) => p.id).sort());
    assert.ok(events.every((e) => (e.data.object as Stripe.Payout).status === 'failed'));
    const updated = (await s.events.list({ type: 'payout.updated', limit: 100 })).data.filter((e) => (e.data.object as Stripe.Payout).status === 'failed');
    assert.equal(updated.length, 5);
    assert.equal((updated[0]!.data.previous_attributes as any).status, 'pending');
    // A failing destination canceled while pending never fails.
    const tok = await bank('000111111116');
    const canceled = await s.payouts.cancel((await s.payouts.create({ amount: 100, currency: 'usd', destination: tok.bank_account!.id })).id);
    clock.set(clock.now() + 3 * 86_400);
    await runDueFor(t, key);
    assert.deepEqual([(await s.payouts.retrieve(canceled.id)).status, (await s.payouts.retrieve(canceled.id)).failure_code], ['canceled', null]);
  });
});
