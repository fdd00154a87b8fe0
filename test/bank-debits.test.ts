// us_bank_account and sepa_debit: processing, then succeeded or failed as the clock passes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Stripe from 'stripe';
import { FrozenClock } from '../src/api/clock.js';
import { freshKey, startTestServer, type TestServer } from './helpers/server.js';
import { PAYMENTS_EPOCH, runDueFor } from './helpers/timers.js';

let t: TestServer;
let clock: FrozenClock;
before(async () => { clock = new FrozenClock(PAYMENTS_EPOCH); t = await startTestServer({ clock, schedulerTickMs: false }); });
after(() => t.close());

const ach = (account_number: string): any => ({ type: 'us_bank_account', us_bank_account: { account_holder_type: 'individual', account_number, routing_number: '110000000', account_type: 'checking' }, billing_details: { name: 'Jenny Rosen' } });
const sepa = (iban: string): any => ({ type: 'sepa_debit', sepa_debit: { iban }, billing_details: { name: 'Jenny Rosen', email: 'jenny@example.com' } });

describe('bank debits', () => {
  test('ACH success: processing with a pending charge, then succeeded with a balance transaction', async () => {
    const key = freshKey();
    const s = t.stripe(key);
    const pm = await s.paymentMethods.create(ach('000123456789'));
    assert.deepEqual([pm.type, pm.us_bank_account!.last4, pm.us_bank_account!.bank_name, pm.us_bank_account!.routing_number], ['us_bank_account', '6789', 'STRIPE TEST BANK', '110000000']);
    assert.equal((pm as any).card, undefined);
    const pi = await s.paymentIntents.create({ amount: 10_000, currency: 'usd', payment_method_types: ['us_bank_account'], payment_method: pm.id, confirm: true } as any);
    assert.equal(pi.status, 'processing');
    let ch = await s.charges.retrieve(pi.latest_charge as string);
    assert.deepEqual([ch.status, ch.paid, ch.balance_transaction, ch.payment_method_details!.type], ['pending', false, null, 'us_bank_account']);
    await assert.rejects(s.paymentIntents.confirm(pi.id), (e: any) => e.code === 'payment_intent_unexpected_state');
    clock.set(clock.now() + 11);
    await runDueFor(t, key);
    const done = await s.paymentIntents.retrieve(pi.id);
    assert.equal(done.status, 'succeeded'); assert.equal(done.amount_received, 10_000);
    ch = await s.charges.retrieve(pi.latest_charge as string, { expand: ['balance_transaction'] });
    assert.deepEqual([ch.status, ch.paid], ['succeeded', true]);
    assert.equal((ch.balance_transaction as Stripe.BalanceTransaction).fee, 80);
    const types = (await s.events.list()).data.map((e) => e.type as string).reverse();
    assert.deepEqual(types, ['payment_intent.created', 'charge.pending', 'payment_intent.processing', 'charge.succeeded', 'payment_intent.succeeded']);
  });

  test('ACH and SEPA failures return the intent to requires_payment_method with the failure code', async () => {
    const key = freshKey();
    const s = t.stripe(key);
    const a = await s.paymentIntents.create({ amount: 5000, currency: 'usd', payment_method_types: ['us_bank_account'], payment_method_data: ach('000222222227'), confirm: true } as any);
    const b = await s.paymentIntents.create({ amount: 5000, currency: 'eur', payment_method_types: ['sepa_debit'], payment_method_data: sepa('DE62370400440532013001'), confirm: true } as any);
    const ok = await s.paymentIntents.create({ amount: 5000, currency: 'eur', payment_method_types: ['sepa_debit'], payment_method_data: sepa('DE89370400440532013000'), confirm: true } as any);
    assert.deepEqual([a.status, b.status, ok.status], ['processing', 'processing', 'processing']);
    clock.set(clock.now() + 11);
    await runDueFor(t, key);
    const [fa, fb, fok] = await Promise.all([a, b, ok].map((x) => s.paymentIntents.retrieve(x.id)));
    assert.equal(fa!.status, 'requires_payment_method'); assert.equal(fa!.last_payment_error!.code, 'insufficient_funds');
    assert.equal(fb!.status, 'requires_payment_method');
    assert.equal(fok!.status, 'succeeded');
    const ch = await s.charges.retrieve(a.latest_charge as string);
    assert.deepEqual([ch.status, ch.failure_code], ['failed', 'insufficient_funds']);
  });

  test('validation: billing name, currency, allowed types', async () => {
    const s = t.stripe(freshKey());
    await assert.rejects(s.paymentMethods.create({ type: 'us_bank_account', us_bank_account: { account_number: '000123456789', routing_number: '110000000' } } as any), (e: any) => e.param === 'billing_details[name]');
    await assert.rejects(s.paymentMethods.create(ach('12')), (e: any) => e.statusCode === 400);
    await assert.rejects(s.paymentIntents.create({ amount: 5000, currency: 'eur', payment_method_types: ['us_bank_account'], payment_method_data: ach('000123456789'), confirm: true } as any), (e: any) => e.param === 'currency');
    await assert.rejects(s.paymentIntents.create({ amount: 5000, currency: 'usd', payment_method_types: ['card'], payment_method_data: ach('000123456789'), confirm: true } as any), (e: any) => e.param === 'payment_method');
  });
});
