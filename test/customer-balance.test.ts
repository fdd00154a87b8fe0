// Customer balance transactions through the SDK: adjustments move customer.balance (with
// customer.updated), list / retrieve / update, setting `balance` on the customer records an
// adjustment, and the refused requests.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FrozenClock } from '../src/api/clock.js';
import { freshKey, startTestServer, type TestServer } from './helpers/server.js';
import { rejects } from './helpers/errors.js';
import type Stripe from 'stripe';

let t: TestServer;
const T0 = 1_760_000_000;
before(async () => { t = await startTestServer({ clock: new FrozenClock(T0) }); });
after(() => t.close());
const account = () => t.stripe(freshKey());

describe('customer balance transactions', () => {
  test('create: Stripe\'s shape, ending_balance, customer.balance and currency, customer.updated', async () => {
    const s = account();
    const c = await s.customers.create({ email: 'x@example.com' });
    const credit = await s.customers.createBalanceTransaction(c.id, { amount: -1500, currency: 'usd', description: 'Refund as credit', metadata: { ticket: '42' } });
    assert.deepEqual(Object.keys(credit).sort(), ['amount', 'checkout_session', 'created', 'credit_note', 'currency', 'customer', 'customer_account', 'description', 'ending_balance', 'id', 'invoice', 'livemode', 'metadata', 'object', 'type']);
    assert.match(credit.id, /^cbtxn_/);
    assert.equal(credit.object, 'customer_balance_transaction');
    assert.equal(credit.type, 'adjustment');
    assert.equal(credit.amount, -1500);
    assert.equal(credit.ending_balance, -1500);
    assert.equal(credit.created, T0);
    assert.deepEqual(credit.metadata, { ticket: '42' });
    const debit = await s.customers.createBalanceTransaction(c.id, { amount: 400, currency: 'usd' });
    assert.equal(debit.ending_balance, -1100);
    const after = await s.customers.retrieve(c.id) as Stripe.Customer;
    assert.equal(after.balance, -1100);
    assert.equal(after.currency, 'usd');
    const updates = (await s.events.list({ type: 'customer.updated' })).data;
    assert.equal(updates.length, 2);
    assert.deepEqual(updates[0]!.data.previous_attributes, { balance: -1500 });
  });

  test('list, retrieve, update; refused requests', async () => {
    const s = account();
    const c = await s.customers.create({});
    const a = await s.customers.createBalanceTransaction(c.id, { amount: 100, currency: 'usd' });
    const b = await s.customers.createBalanceTransaction(c.id, { amount: 200, currency: 'usd' });
    const list = await s.customers.listBalanceTransactions(c.id, { limit: 1 });
    assert.deepEqual(list.data.map((x) => x.id), [b.id]);
    assert.equal(list.has_more, true);
    assert.equal(list.url, `/v1/customers/${c.id}/balance_transactions`);
    assert.deepEqual(await s.customers.retrieveBalanceTransaction(c.id, a.id), a);
    const upd = await s.customers.updateBalanceTransaction(c.id, a.id, { description: 'note', metadata: { x: '1' } });
    assert.equal(upd.description, 'note');
    assert.equal(upd.amount, 100);
    await rejects(s.customers.createBalanceTransaction(c.id, { amount: 5, currency: 'eur' }), { status: 400, message: /must match the customer's currency \(usd\)/, param: 'currency' });
    await rejects(s.customers.createBalanceTransaction(c.id, { currency: 'usd' } as any), { status: 400, message: 'Missing required param: amount.', param: 'amount', code: 'parameter_missing' });
    await rejects(s.customers.createBalanceTransaction('cus_missing', { amount: 5, currency: 'usd' }), { status: 404, message: "No such customer: 'cus_missing'", param: 'customer', code: 'resource_missing' });
    const other = await s.customers.create({});
    await rejects(s.customers.retrieveBalanceTransaction(other.id, a.id), { status: 404, message: `No such customer_balance_transaction: '${a.id}'`, param: 'transaction', code: 'resource_missing' });
  });

  test('setting the customer balance records it: initial on create, adjustment on update', async () => {
    const s = account();
    const c = await s.customers.create({ balance: 700 });
    await s.customers.update(c.id, { balance: -300 });
    const txns = (await s.customers.listBalanceTransactions(c.id)).data;
    assert.deepEqual(txns.map((x) => [x.type, x.amount, x.ending_balance]), [['adjustment', -1000, -300], ['initial', 700, 700]]);
  });
});
