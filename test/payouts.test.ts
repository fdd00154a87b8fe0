// Payouts against the available balance, paid as the frozen clock passes arrival_date.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
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
    await assert.rejects(s.payouts.cancel(po2.id), (e: any) => e.statusCode === 400);

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
});
