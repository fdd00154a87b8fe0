// Tokens, customer card sources and the legacy Charges API through the card network.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Stripe from 'stripe';
import { freshKey, startTestServer, type TestServer } from './helpers/server.js';

let t: TestServer;
let stripe: Stripe;
before(async () => { t = await startTestServer(); stripe = t.stripe(); });
after(() => t.close());

async function rejects(p: Promise<unknown>, check: (e: any) => void) {
  await assert.rejects(p, (e: any) => { check(e); return true; });
}

describe('tokens', () => {
  test('card tokens need a publishable key; retrieve; single use', async () => {
    const key = freshKey(); const s = t.stripe(key); const pk = t.stripe(key.replace('sk_', 'pk_'));
    await rejects(s.tokens.create({ card: { number: '4242424242424242', exp_month: '12', exp_year: '2035', cvc: '123' } }), (e) => assert.match(e.message, /^Sending credit card numbers directly/));
    const tok = await pk.tokens.create({ card: { number: '5555555555554444', exp_month: '12', exp_year: '2035', cvc: '123', name: 'Jenny' } });
    assert.match(tok.id, /^tok_[A-Za-z0-9]{24}$/);
    assert.deepEqual([tok.type, tok.used, tok.card!.brand, tok.card!.last4, tok.card!.funding, tok.card!.name, tok.card!.cvc_check], ['card', false, 'MasterCard', '4444', 'credit', 'Jenny', 'unchecked']);
    assert.match(tok.card!.id, /^card_/);
    assert.equal((await s.tokens.retrieve(tok.id)).id, tok.id);
    const ch = await s.charges.create({ amount: 1000, currency: 'usd', source: tok.id });
    assert.equal(ch.status, 'succeeded');
    await rejects(s.charges.create({ amount: 1000, currency: 'usd', source: tok.id }), (e) => { assert.equal(e.statusCode, 400); assert.equal(e.message, `You cannot use a Stripe token more than once: ${tok.id}.`); });
    await rejects(s.tokens.retrieve('tok_nope'), (e) => assert.equal(e.statusCode, 404));
  });
});

describe('legacy charges', () => {
  test('charges.create with a test token: succeeded, captured, source card, balance transaction', async () => {
    const s = t.stripe(freshKey());
    const ch = await s.charges.create({ amount: 2000, currency: 'usd', source: 'tok_amex', description: 'legacy', metadata: { a: 'b' } });
    assert.match(ch.id, /^ch_/);
    assert.deepEqual([ch.status, ch.paid, ch.captured, ch.amount_captured, ch.payment_intent, ch.description], ['succeeded', true, true, 2000, null, 'legacy']);
    assert.equal((ch.source as Stripe.Card).brand, 'American Express');
    assert.equal(ch.payment_method, (ch.source as Stripe.Card).id);
    assert.equal(ch.payment_method_details!.card!.brand, 'amex');
    const txn = await s.balanceTransactions.retrieve(ch.balance_transaction as string);
    assert.deepEqual([txn.amount, txn.fee, txn.source], [2000, 88, ch.id]);
    assert.deepEqual((await s.events.list()).data.map((e) => e.type), ['charge.succeeded']);
    assert.deepEqual((await s.charges.search({ query: "payment_method_details.card.last4:'0005' AND status:'succeeded'" })).data.map((c) => c.id), [ch.id]);
    assert.deepEqual((await s.charges.search({ query: "metadata['a']:'b'" })).data.map((c) => c.id), [ch.id]);
    assert.deepEqual((await s.charges.search({ query: "status:'failed'" })).data, []);
  });

  test('declines are 402 with the failed charge id; the failed charge is kept', async () => {
    const s = t.stripe(freshKey());
    let id = '';
    await rejects(s.charges.create({ amount: 2000, currency: 'usd', source: 'tok_chargeDeclinedInsufficientFunds' }), (e) => {
      assert.equal(e.statusCode, 402); assert.equal(e.decline_code, 'insufficient_funds'); assert.match(e.raw.charge, /^ch_/); id = e.raw.charge;
    });
    const ch = await s.charges.retrieve(id);
    assert.deepEqual([ch.status, ch.failure_code, ch.paid], ['failed', 'card_declined', false]);
    await rejects(s.charges.create({ amount: 2000, currency: 'usd', source: 'tok_radarBlock' }), (e) => assert.equal(e.decline_code, 'fraudulent'));
    await rejects(s.charges.create({ amount: 2000, currency: 'usd', source: 'tok_authenticationRequired' }), (e) => assert.equal(e.code, 'authentication_required'));
  });

  test('capture=false then capture (partial); capture twice refused; update emits charge.updated', async () => {
    const s = t.stripe(freshKey());
    const ch = await s.charges.create({ amount: 3000, currency: 'usd', source: 'tok_visa', capture: false });
    assert.deepEqual([ch.captured, ch.balance_transaction], [false, null]);
    const cap = await s.charges.capture(ch.id, { amount: 2000 });
    assert.deepEqual([cap.captured, cap.amount_captured, cap.amount_refunded], [true, 2000, 1000]);
    await rejects(s.charges.capture(ch.id), (e) => assert.equal(e.code, 'charge_already_captured'));
    const up = await s.charges.update(ch.id, { description: 'new', metadata: { x: 'y' } });
    assert.equal(up.description, 'new');
    const ev = (await s.events.list({ type: 'charge.updated' })).data[0]!;
    assert.deepEqual(ev.data.previous_attributes, { description: null, metadata: { x: null } });
    const types = (await s.events.list()).data.map((e) => e.type);
    assert.ok(types.includes('charge.captured'));
  });

  test('PaymentIntent charges capture through their intent', async () => {
    const pi = await stripe.paymentIntents.create({ amount: 3000, currency: 'usd', payment_method_types: ['card'], capture_method: 'manual', payment_method: 'pm_card_visa', confirm: true } as any);
    const cap = await stripe.charges.capture(pi.latest_charge as string);
    assert.equal(cap.captured, true);
    assert.equal((await stripe.paymentIntents.retrieve(pi.id)).status, 'succeeded');
  });

  test('customer sources: create with a token, charge the default source, list by customer', async () => {
    const s = t.stripe(freshKey());
    const cus = await s.customers.create({ source: 'tok_visa' });
    assert.match(cus.default_source as string, /^card_/);
    const ch = await s.charges.create({ amount: 1500, currency: 'usd', customer: cus.id });
    assert.equal(ch.status, 'succeeded');
    assert.equal(ch.customer, cus.id);
    assert.equal((ch.source as Stripe.Card).id, cus.default_source);
    assert.deepEqual((await s.charges.list({ customer: cus.id })).data.map((c) => c.id), [ch.id]);
    const bare = await s.customers.create();
    await rejects(s.charges.create({ amount: 1500, currency: 'usd', customer: bare.id }), (e) => { assert.equal(e.statusCode, 400); assert.equal(e.message, 'Cannot charge a customer that has no active card'); });
    await rejects(s.charges.create({ amount: 10, currency: 'usd', source: 'tok_visa' }), (e) => assert.equal(e.code, 'amount_too_small'));
    const other = await s.customers.create({ source: 'tok_mastercard' });
    await rejects(s.charges.create({ amount: 1500, currency: 'usd', customer: bare.id, source: other.default_source as string }), (e) => assert.equal(e.statusCode, 400));
  });

  test('customer sources API: create from a token, list, retrieve, update, delete', async () => {
    const s = t.stripe(freshKey());
    const cus = await s.customers.create();
    const card = await s.customers.createSource(cus.id, { source: 'tok_mastercard' }) as Stripe.Card;
    assert.deepEqual([card.object, card.brand, card.customer, card.last4], ['card', 'MasterCard', cus.id, '4444']);
    assert.equal((await s.customers.retrieve(cus.id) as Stripe.Customer).default_source, card.id);
    const second = await s.customers.createSource(cus.id, { source: 'tok_visa' }) as Stripe.Card;
    assert.deepEqual((await s.customers.listSources(cus.id)).data.map((c) => c.id), [second.id, card.id]);
    const expanded = await s.customers.retrieve(cus.id, { expand: ['sources'] }) as Stripe.Customer;
    assert.deepEqual(expanded.sources!.data.map((c) => c.id), [second.id, card.id]);
    assert.equal((expanded.sources!.data[0] as any).created, undefined);
    assert.equal(((await s.customers.retrieveSource(cus.id, card.id)) as Stripe.Card).id, card.id);
    const up = await s.customers.updateSource(cus.id, card.id, { name: 'J R', metadata: { a: '1' } }) as Stripe.Card;
    assert.deepEqual([up.name, up.metadata], ['J R', { a: '1' }]);
    const del = await s.customers.deleteSource(cus.id, card.id);
    assert.deepEqual({ ...del }, { id: card.id, object: 'card', deleted: true });
    assert.equal((await s.customers.retrieve(cus.id) as Stripe.Customer).default_source, null);
    await assert.rejects(s.customers.retrieveSource(cus.id, card.id), (e: any) => e.statusCode === 404);
    const ch = await s.charges.create({ amount: 1000, currency: 'usd', customer: cus.id, source: second.id });
    assert.equal(ch.status, 'succeeded');
    const types = (await s.events.list({ limit: 100 })).data.map((e) => e.type as string);
    for (const ty of ['customer.source.created', 'customer.source.updated', 'customer.source.deleted']) assert.ok(types.includes(ty), ty);
  });
});
