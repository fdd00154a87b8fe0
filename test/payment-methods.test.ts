// PaymentMethods and the card table through the SDK: raw numbers only with a publishable key,
// magic pm_card_* ids, tokens, attach/detach events, customer lists and the default method.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Stripe from 'stripe';
import { freshKey, startTestServer, type TestServer } from './helpers/server.js';
import { TEST_CARDS, cardByNumber, fingerprint, luhnValid } from '../src/engine/payments/cards.js';

let t: TestServer;
let stripe: Stripe;
before(async () => { t = await startTestServer(); stripe = t.stripe(); });
after(() => t.close());

const pkOf = (sk: string) => sk.replace(/^sk_/, 'pk_');
const card = (number: string, extra: Record<string, unknown> = {}) => ({ type: 'card' as const, card: { number, exp_month: 12, exp_year: 2034, cvc: number.startsWith('3') && number.length === 15 ? '1234' : '123', ...extra } as any });

describe('card table', () => {
  test('every test number passes Luhn and has a unique number, pm id and token', () => {
    const numbers = new Set<string>(); const pms = new Set<string>(); const toks = new Set<string>();
    for (const c of TEST_CARDS) {
      assert.ok(luhnValid(c.number), c.number);
      assert.ok(!numbers.has(c.number), c.number); numbers.add(c.number);
      if (c.pm) { assert.ok(!pms.has(c.pm), c.pm); pms.add(c.pm); assert.match(c.pm, /^pm_card_/); }
      if (c.tok) { assert.ok(!toks.has(c.tok), c.tok); toks.add(c.tok); assert.match(c.tok, /^tok_/); }
    }
    assert.ok(TEST_CARDS.length >= 70);
    assert.deepEqual(cardByNumber('4242424242424241'), { error: 'incorrect_number' });
    assert.deepEqual(cardByNumber('4111111111111111'), { error: 'live_card' });
    assert.equal((cardByNumber('4242 4242 4242 4242') as any).card.key, 'visa');
  });
  test('fingerprints are stable per number and account', () => {
    const visa = TEST_CARDS[0]!;
    assert.equal(fingerprint('acct_a', visa), fingerprint('acct_a', visa));
    assert.notEqual(fingerprint('acct_a', visa), fingerprint('acct_b', visa));
    assert.notEqual(fingerprint('acct_a', visa), fingerprint('acct_a', TEST_CARDS[1]!));
  });
});

describe('payment methods', () => {
  test('raw card numbers need a publishable key; with one the card is described and never echoed', async () => {
    const key = freshKey();
    await assert.rejects(t.stripe(key).paymentMethods.create(card('4242424242424242')), (e: any) => {
      assert.equal(e.statusCode, 400);
      assert.equal(e.type, 'StripeInvalidRequestError');
      assert.match(e.message, /^Sending credit card numbers directly to the Stripe API is generally unsafe/);
      return true;
    });
    const pk = t.stripe(pkOf(key));
    const pm = await pk.paymentMethods.create({ ...card('4000056655665556'), billing_details: { name: 'Jenny', address: { postal_code: '94103' } } });
    assert.match(pm.id, /^pm_[A-Za-z0-9]{24}$/);
    assert.equal(pm.type, 'card');
    assert.equal(pm.customer, null);
    assert.equal(pm.card!.brand, 'visa');
    assert.equal(pm.card!.funding, 'debit');
    assert.equal(pm.card!.last4, '5556');
    assert.equal(pm.card!.country, 'US');
    assert.equal(pm.card!.exp_month, 12);
    assert.equal(pm.card!.exp_year, 2034);
    assert.deepEqual(pm.card!.checks, { address_line1_check: null, address_postal_code_check: 'unchecked', cvc_check: 'unchecked' });
    assert.match(pm.card!.fingerprint!, /^[A-Za-z0-9]{16}$/);
    assert.equal(pm.billing_details.name, 'Jenny');
    const raw = await t.request('GET', `/v1/payment_methods/${pm.id}`, { key });
    assert.equal(raw.status, 200);
    assert.ok(!raw.text.includes('4000056655665556'));
    // Same number, same account: same fingerprint; another account: different.
    const again = await pk.paymentMethods.create(card('4000056655665556'));
    assert.equal(again.card!.fingerprint, pm.card!.fingerprint);
    const other = await t.stripe(pkOf(freshKey())).paymentMethods.create(card('4000056655665556'));
    assert.notEqual(other.card!.fingerprint, pm.card!.fingerprint);
  });

  test('bad card data gets Stripe card errors', async () => {
    const pk = t.stripe(pkOf(freshKey()));
    const expect = async (p: any, status: number, code: string, param?: string) => assert.rejects(pk.paymentMethods.create(p), (e: any) => {
      assert.equal(e.statusCode, status); assert.equal(e.code, code); if (param) assert.equal(e.param, param); return true;
    });
    await expect(card('4242424242424241'), 402, 'incorrect_number', 'card[number]');
    await expect(card('4111111111111111'), 402, 'card_declined');
    await expect(card('4242424242424242', { exp_month: 13 }), 402, 'invalid_expiry_month', 'card[exp_month]');
    await expect(card('4242424242424242', { exp_year: 2001 }), 402, 'invalid_expiry_year', 'card[exp_year]');
    await expect(card('4242424242424242', { cvc: '12' }), 402, 'invalid_cvc', 'card[cvc]');
    await expect({ type: 'card', card: { number: '4242424242424242', exp_year: 2030 } }, 400, 'parameter_missing', 'card[exp_month]');
    await expect({ card: { token: 'tok_visa' } }, 400, 'parameter_missing', 'type');
  });

  test('tokens and magic ids create PaymentMethods with the documented brand, funding and country', async () => {
    const cases: [string, string, string, string][] = [
      ['tok_mastercard_prepaid', 'mastercard', 'prepaid', 'US'], ['tok_amex', 'amex', 'credit', 'US'], ['tok_jcb', 'jcb', 'credit', 'JP'],
      ['tok_unionpay', 'unionpay', 'credit', 'CN'], ['tok_gb_debit', 'visa', 'debit', 'GB'], ['tok_br', 'visa', 'credit', 'BR'],
    ];
    for (const [tok, brand, funding, country] of cases) {
      const pm = await stripe.paymentMethods.create({ type: 'card', card: { token: tok } });
      assert.deepEqual([pm.card!.brand, pm.card!.funding, pm.card!.country], [brand, funding, country], tok);
    }
    const magic = await stripe.paymentMethods.retrieve('pm_card_visa');
    assert.equal(magic.card!.last4, '4242');
    await assert.rejects(stripe.paymentMethods.retrieve('pm_nope'), (e: any) => e.statusCode === 404 && e.message === "No such PaymentMethod: 'pm_nope'");
    await assert.rejects(stripe.paymentMethods.create({ type: 'card', card: { token: 'tok_nope' } }), (e: any) => e.statusCode === 400 && e.code === 'resource_missing');
  });

  test('attach, list by customer and type, update, default method, detach, with events', async () => {
    const key = freshKey(); const s = t.stripe(key);
    const cus = await s.customers.create({ email: 'pm@example.com' });
    const pm = await s.paymentMethods.attach('pm_card_mastercard', { customer: cus.id });
    assert.match(pm.id, /^pm_/);
    assert.notEqual(pm.id, 'pm_card_mastercard');
    assert.equal(pm.customer, cus.id);
    const pm2 = await s.paymentMethods.create({ type: 'card', card: { token: 'tok_visa' } });
    await assert.rejects(s.paymentMethods.update(pm2.id, { metadata: { a: '1' } }), (e: any) => e.statusCode === 400 && /save this PaymentMethod to a customer/.test(e.message));
    await s.paymentMethods.attach(pm2.id, { customer: cus.id });
    const other = await s.customers.create();
    await assert.rejects(s.paymentMethods.attach(pm2.id, { customer: other.id }), (e: any) => e.statusCode === 400 && e.message === 'The payment method you provided has already been attached to a customer.');
    await assert.rejects(s.paymentMethods.attach(pm2.id, { customer: 'cus_nope' }), (e: any) => e.statusCode === 400 && e.message === "No such customer: 'cus_nope'");

    const list = await s.customers.listPaymentMethods(cus.id);
    assert.deepEqual(list.data.map((p) => p.id), [pm2.id, pm.id]);
    const list2 = await s.paymentMethods.list({ customer: cus.id, type: 'card', limit: 1 });
    assert.equal(list2.data.length, 1); assert.equal(list2.has_more, true);
    assert.equal((await s.customers.retrievePaymentMethod(cus.id, pm.id)).id, pm.id);
    await assert.rejects(s.customers.retrievePaymentMethod(other.id, pm.id), (e: any) => e.statusCode === 404);

    const up = await s.paymentMethods.update(pm.id, { metadata: { a: '1' }, billing_details: { name: 'J R' }, card: { exp_month: 3, exp_year: 2035 } });
    assert.deepEqual([up.metadata, up.billing_details.name, up.card!.exp_month, up.card!.exp_year], [{ a: '1' }, 'J R', 3, 2035]);

    await assert.rejects(s.customers.update(cus.id, { invoice_settings: { default_payment_method: 'pm_nope' } }), (e: any) => e.statusCode === 400 && e.message === "No such PaymentMethod: 'pm_nope'");
    const loose = await s.paymentMethods.create({ type: 'card', card: { token: 'tok_visa' } });
    await assert.rejects(s.customers.update(cus.id, { invoice_settings: { default_payment_method: loose.id } }), (e: any) => e.statusCode === 400 && /must be attached to the customer/.test(e.message));
    const withDefault = await s.customers.update(cus.id, { invoice_settings: { default_payment_method: pm.id } });
    assert.equal(withDefault.invoice_settings.default_payment_method, pm.id);

    const det = await s.paymentMethods.detach(pm.id);
    assert.equal(det.customer, null);
    assert.equal((await s.customers.retrieve(cus.id) as Stripe.Customer).invoice_settings.default_payment_method, null);
    await assert.rejects(s.paymentMethods.detach(pm.id), (e: any) => e.statusCode === 400 && /not attached to a customer/.test(e.message));

    const types = (await s.events.list({ limit: 100 })).data.map((e) => e.type);
    assert.equal(types.filter((x) => x === 'payment_method.attached').length, 2);
    assert.equal(types.filter((x) => x === 'payment_method.detached').length, 1);
    assert.ok(types.includes('payment_method.updated'));
  });

  test('customers.create with payment_method attaches it and can make it the default', async () => {
    const cus = await stripe.customers.create({ payment_method: 'pm_card_visa', invoice_settings: { default_payment_method: 'pm_card_visa' } });
    const pmId = cus.invoice_settings.default_payment_method as string;
    assert.match(pmId, /^pm_[A-Za-z0-9]{24}$/);
    const pm = await stripe.paymentMethods.retrieve(pmId);
    assert.equal(pm.customer, cus.id);
  });

  test('deleting a customer detaches its PaymentMethods', async () => {
    const cus = await stripe.customers.create({ payment_method: 'pm_card_visa' });
    const pm = (await stripe.customers.listPaymentMethods(cus.id)).data[0]!;
    await stripe.customers.del(cus.id);
    assert.equal((await stripe.paymentMethods.retrieve(pm.id)).customer, null);
  });

  test('decline cards fail to attach; chargeCustomerFail attaches', async () => {
    const cus = await stripe.customers.create();
    await assert.rejects(stripe.paymentMethods.attach('pm_card_chargeDeclined', { customer: cus.id }), (e: any) => {
      assert.equal(e.statusCode, 402); assert.equal(e.type, 'StripeCardError'); assert.equal(e.code, 'card_declined'); assert.equal(e.decline_code, 'generic_decline');
      return true;
    });
    const ok = await stripe.paymentMethods.attach('pm_card_chargeCustomerFail', { customer: cus.id });
    assert.equal(ok.customer, cus.id);
  });
});
