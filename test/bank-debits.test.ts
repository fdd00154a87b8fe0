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
    const unverified = await s.paymentIntents.create({ amount: 10_000, currency: 'usd', payment_method_types: ['us_bank_account'], payment_method: pm.id, confirm: true } as any);
    assert.equal(unverified.status, 'requires_action');
    const pi = await s.paymentIntents.verifyMicrodeposits(unverified.id, { amounts: [32, 45] });
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
    assert.deepEqual(types, ['payment_intent.created', 'payment_intent.requires_action', 'mandate.updated', 'charge.pending', 'payment_intent.processing', 'charge.succeeded', 'payment_intent.succeeded']);
  });

  test('ACH and SEPA failures return the intent to requires_payment_method with the failure code', async () => {
    const key = freshKey();
    const s = t.stripe(key);
    const a = await s.paymentIntents.verifyMicrodeposits((await s.paymentIntents.create({ amount: 5000, currency: 'usd', payment_method_types: ['us_bank_account'], payment_method_data: ach('000222222227'), confirm: true } as any)).id, { descriptor_code: 'SM11AA' });
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

  test('the processing test account (000000000009) stays processing; it can be canceled', async () => {
    const key = freshKey();
    const s = t.stripe(key);
    const created = await s.paymentIntents.create({ amount: 5000, currency: 'usd', payment_method_types: ['us_bank_account'], payment_method_data: ach('000000000009'), confirm: true } as any);
    const pi = await s.paymentIntents.verifyMicrodeposits(created.id, { amounts: [32, 45] });
    assert.equal(pi.status, 'processing');
    clock.set(clock.now() + 30 * 86_400);
    await runDueFor(t, key);
    assert.equal((await s.paymentIntents.retrieve(pi.id)).status, 'processing');
    const canceled = await s.paymentIntents.cancel(pi.id);
    assert.equal(canceled.status, 'canceled');
  });

  test('validation: billing name, currency, allowed types', async () => {
    const s = t.stripe(freshKey());
    await assert.rejects(s.paymentMethods.create({ type: 'us_bank_account', us_bank_account: { account_number: '000123456789', routing_number: '110000000' } } as any), (e: any) => e.param === 'billing_details[name]');
    await assert.rejects(s.paymentMethods.create(ach('12')), (e: any) => e.statusCode === 400);
    await assert.rejects(s.paymentIntents.create({ amount: 5000, currency: 'eur', payment_method_types: ['us_bank_account'], payment_method_data: ach('000123456789'), confirm: true } as any), (e: any) => e.param === 'currency');
    await assert.rejects(s.paymentIntents.create({ amount: 5000, currency: 'usd', payment_method_types: ['card'], payment_method_data: ach('000123456789'), confirm: true } as any), (e: any) => e.param === 'payment_method');
  });

  test('Stripe\'s test PaymentMethods pm_usBankAccount_*: verified accounts whose debits succeed, fail with their code, or stay processing', async () => {
    const key = freshKey();
    const s = t.stripe(key);
    const confirm = (payment_method: string) => s.paymentIntents.create({ amount: 5000, currency: 'usd', payment_method_types: ['us_bank_account'], payment_method, confirm: true, mandate_data: { customer_acceptance: { type: 'offline' } } } as any);
    const cases: [string, string | null][] = [
      ['pm_usBankAccount_success', null], ['pm_usBankAccount_accountClosed', 'account_closed'], ['pm_usBankAccount_noAccount', 'no_account'],
      ['pm_usBankAccount_insufficientFunds', 'insufficient_funds'], ['pm_usBankAccount_debitNotAuthorized', 'debit_not_authorized'],
      ['pm_usBankAccount_invalidCurrency', 'invalid_currency'],
    ];
    const pis = [];
    for (const [pm] of cases) pis.push(await confirm(pm));
    const stuck = await confirm('pm_usBankAccount_processing');
    assert.ok([...pis, stuck].every((pi) => pi.status === 'processing'), 'no microdeposits needed');
    const pm = await s.paymentMethods.retrieve(pis[0]!.payment_method as string);
    assert.deepEqual([pm.type, pm.us_bank_account!.last4, pm.us_bank_account!.routing_number], ['us_bank_account', '6789', '110000000']);
    assert.notEqual(pis[0]!.payment_method, (await confirm('pm_usBankAccount_success')).payment_method, 'each use makes a new PaymentMethod');
    clock.set(clock.now() + 11);
    await runDueFor(t, key);
    for (const [i, [name, code]] of cases.entries()) {
      const pi = await s.paymentIntents.retrieve(pis[i]!.id);
      assert.equal(pi.status, code ? 'requires_payment_method' : 'succeeded', name);
      assert.equal(pi.last_payment_error?.code ?? null, code, name);
    }
    assert.equal((await s.paymentIntents.retrieve(stuck.id)).status, 'processing');
    await assert.rejects(confirm('pm_usBankAccount_nope'), (e: any) => e.statusCode === 400 && e.code === 'resource_missing');
  });
});
