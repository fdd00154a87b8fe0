// Payments API surface beyond the core flows: incremental authorization, a charge's own refunds
// list, mandates, microdeposit verification and the publishable-key view of intents.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Stripe from 'stripe';
import { FrozenClock } from '../src/api/clock.js';
import { freshKey, startTestServer, type TestServer } from './helpers/server.js';
import { PAYMENTS_EPOCH } from './helpers/timers.js';

let t: TestServer;
let clock: FrozenClock;
// A clock no other suite's tick reaches (uncaptured authorizations must not expire under the tests).
before(async () => { clock = new FrozenClock(PAYMENTS_EPOCH); t = await startTestServer({ clock, schedulerTickMs: false }); });
after(() => t.close());

const card: any = { payment_method_types: ['card'] };
async function rejects(p: Promise<unknown>, check: (e: any) => void) {
  await assert.rejects(p, (e: any) => { check(e); return true; });
}
const incremental = { card: { request_incremental_authorization: 'if_available' as const } };

describe('incremental authorization', () => {
  test('manual-capture card intents that request it: increments, amount_capturable_updated, capture of the new total', async () => {
    const s = t.stripe(freshKey());
    const pi = await s.paymentIntents.create({ amount: 1000, currency: 'usd', ...card, capture_method: 'manual', payment_method: 'pm_card_visa', payment_method_options: incremental, confirm: true });
    assert.equal(pi.status, 'requires_capture');
    assert.equal(pi.payment_method_options!.card!.request_incremental_authorization, 'if_available');
    let ch = await s.charges.retrieve(pi.latest_charge as string);
    assert.equal(ch.payment_method_details!.card!.incremental_authorization!.status, 'available');
    const inc = await s.paymentIntents.incrementAuthorization(pi.id, { amount: 1500, metadata: { tip: 'yes' } });
    assert.deepEqual([inc.status, inc.amount, inc.amount_capturable, inc.metadata.tip], ['requires_capture', 1500, 1500, 'yes']);
    ch = await s.charges.retrieve(pi.latest_charge as string);
    assert.deepEqual([ch.amount, ch.payment_method_details!.card!.amount_authorized, ch.captured], [1500, 1500, false]);
    const events = (await s.events.list({ limit: 20 })).data;
    assert.equal(events[0]!.type, 'payment_intent.amount_capturable_updated');
    assert.equal((events[0]!.data.object as Stripe.PaymentIntent).amount_capturable, 1500);
    const chUpdated = events.find((e) => e.type === 'charge.updated')!;
    assert.deepEqual(chUpdated.data.previous_attributes, { amount: 1000, payment_method_details: { card: { amount_authorized: 1000, overcapture: { maximum_amount_capturable: 1000 } } } });
    // Not an increase.
    await rejects(s.paymentIntents.incrementAuthorization(pi.id, { amount: 1500 }), (e) => { assert.equal(e.statusCode, 400); assert.equal(e.param, 'amount'); });
    // Above the issuer's limit (+$500 or +500%): declined, nothing changes.
    await rejects(s.paymentIntents.incrementAuthorization(pi.id, { amount: 60_000 }), (e) => {
      assert.equal(e.statusCode, 402); assert.equal(e.type, 'StripeCardError'); assert.equal(e.code, 'card_declined'); assert.equal(e.raw.decline_code, 'generic_decline');
      assert.equal(e.raw.payment_intent.amount, 1500);
    });
    assert.equal((await s.paymentIntents.retrieve(pi.id)).amount, 1500);
    const captured = await s.paymentIntents.capture(pi.id);
    assert.deepEqual([captured.status, captured.amount_received], ['succeeded', 1500]);
    await rejects(s.paymentIntents.incrementAuthorization(pi.id, { amount: 2000 }), (e) => {
      assert.equal(e.code, 'payment_intent_unexpected_state');
      assert.equal(e.message, 'This PaymentIntent could not be incremented because it has a status of succeeded. Only a PaymentIntent with one of the following statuses may be incremented: requires_capture.');
    });
  });

  test('refused: not requested, automatic capture, a brand without it, too many attempts, missing amount', async () => {
    const s = t.stripe(freshKey());
    const notRequested = await s.paymentIntents.create({ amount: 1000, currency: 'usd', ...card, capture_method: 'manual', payment_method: 'pm_card_visa', confirm: true });
    assert.equal((await s.charges.retrieve(notRequested.latest_charge as string)).payment_method_details!.card!.incremental_authorization!.status, 'unavailable');
    const msg = 'This PaymentIntent is not eligible for incremental authorization because you did not request support using `request_incremental_authorization` when you created or confirmed it.';
    await rejects(s.paymentIntents.incrementAuthorization(notRequested.id, { amount: 2000 }), (e) => { assert.equal(e.statusCode, 400); assert.equal(e.message, msg); });
    const jcb = await s.paymentIntents.create({ amount: 1000, currency: 'usd', ...card, capture_method: 'manual', payment_method: 'pm_card_jcb', payment_method_options: incremental, confirm: true });
    await rejects(s.paymentIntents.incrementAuthorization(jcb.id, { amount: 2000 }), (e) => assert.equal(e.message, msg));
    const auto = await s.paymentIntents.create({ amount: 1000, currency: 'usd', ...card, payment_method: 'pm_card_visa', payment_method_options: incremental, confirm: true });
    await rejects(s.paymentIntents.incrementAuthorization(auto.id, { amount: 2000 }), (e) => assert.equal(e.code, 'payment_intent_unexpected_state'));
    const unconfirmed = await s.paymentIntents.create({ amount: 1000, currency: 'usd', ...card, capture_method: 'manual' });
    await rejects(s.paymentIntents.incrementAuthorization(unconfirmed.id, { amount: 2000 }), (e) => assert.match(e.message, /status of requires_payment_method/));
    await rejects(s.paymentIntents.incrementAuthorization(unconfirmed.id, {} as any), (e) => { assert.equal(e.code, 'parameter_missing'); assert.equal(e.param, 'amount'); });
    const pi = await s.paymentIntents.create({ amount: 1000, currency: 'usd', ...card, capture_method: 'manual', payment_method: 'pm_card_mastercard', payment_method_options: incremental, confirm: true });
    for (let i = 1; i <= 10; i++) {
      if (i % 2) await s.paymentIntents.incrementAuthorization(pi.id, { amount: 1000 + i });
      else await rejects(s.paymentIntents.incrementAuthorization(pi.id, { amount: 10_000_000 }), (e) => assert.equal(e.statusCode, 402));
    }
    await rejects(s.paymentIntents.incrementAuthorization(pi.id, { amount: 5000 }), (e) => {
      assert.equal(e.statusCode, 400); assert.equal(e.message, 'This PaymentIntent has reached the maximum of 10 incremental authorization attempts.');
    });
    assert.equal((await s.paymentIntents.retrieve(pi.id)).amount, 1009);
  });
});

describe('a charge’s refunds', () => {
  test('GET /v1/charges/{id}/refunds lists and retrieves that charge’s refunds only', async () => {
    const key = freshKey();
    const s = t.stripe(key);
    const a = await s.paymentIntents.create({ amount: 5000, currency: 'usd', ...card, payment_method: 'pm_card_visa', confirm: true });
    const b = await s.paymentIntents.create({ amount: 5000, currency: 'usd', ...card, payment_method: 'pm_card_visa', confirm: true });
    const r1 = await s.refunds.create({ charge: a.latest_charge as string, amount: 1000 });
    const r2 = await s.refunds.create({ charge: a.latest_charge as string, amount: 500 });
    const other = await s.refunds.create({ charge: b.latest_charge as string, amount: 700 });
    const list: any = await s.rawRequest('GET', `/v1/charges/${a.latest_charge}/refunds`);
    assert.deepEqual([list.object, list.url, list.has_more], ['list', `/v1/charges/${a.latest_charge}/refunds`, false]);
    assert.deepEqual(list.data.map((r: any) => r.id), [r2.id, r1.id]);
    const page: any = await s.rawRequest('GET', `/v1/charges/${a.latest_charge}/refunds?limit=1&starting_after=${r2.id}`);
    assert.deepEqual([page.data.map((r: any) => r.id), page.has_more], [[r1.id], false]);
    const one: any = await s.rawRequest('GET', `/v1/charges/${a.latest_charge}/refunds/${r1.id}`);
    const { lastResponse: _l, ...viaRefunds } = await s.refunds.retrieve(r1.id) as any;
    const { lastResponse: _m, ...viaCharge } = one;
    assert.deepEqual(viaCharge, viaRefunds);
    assert.deepEqual([one.id, one.amount, one.charge], [r1.id, 1000, a.latest_charge]);
    const miss = await t.request('GET', `/v1/charges/${a.latest_charge}/refunds/${other.id}`, { key });
    assert.deepEqual([miss.status, miss.json.error.message, miss.json.error.code], [404, `No such refund: '${other.id}'`, 'resource_missing']);
    const noCharge = await t.request('GET', '/v1/charges/ch_nope/refunds', { key });
    assert.deepEqual([noCharge.status, noCharge.json.error.message], [404, "No such charge: 'ch_nope'"]);
  });
});

const ach = (account_number: string): any => ({ type: 'us_bank_account', us_bank_account: { account_holder_type: 'individual', account_number, routing_number: '110000000', account_type: 'checking' }, billing_details: { name: 'Jenny Rosen' } });
const sepa = (iban: string): any => ({ type: 'sepa_debit', sepa_debit: { iban }, billing_details: { name: 'Jenny Rosen', email: 'jenny@example.com' } });
const online = { customer_acceptance: { type: 'online' as const, online: { ip_address: '203.0.113.7', user_agent: 'Mozilla/5.0' } } };

describe('mandates', () => {
  test('SEPA: a confirmation makes an active mandate from mandate_data; the charge names it; GET /v1/mandates/{id}', async () => {
    const s = t.stripe(freshKey());
    const pi = await s.paymentIntents.create({ amount: 5000, currency: 'eur', payment_method_types: ['sepa_debit'], payment_method_data: sepa('DE89370400440532013000'), mandate_data: online, confirm: true } as any);
    assert.equal(pi.status, 'processing');
    const ch = await s.charges.retrieve(pi.latest_charge as string);
    const details = ch.payment_method_details!.sepa_debit!;
    assert.deepEqual(Object.keys(details).sort(), ['bank_code', 'branch_code', 'country', 'fingerprint', 'last4', 'mandate']);
    assert.deepEqual([details.last4, details.country], ['3000', 'DE']);
    const m = await s.mandates.retrieve(details.mandate as string);
    assert.match(m.id, /^mandate_/);
    assert.deepEqual([m.object, m.status, m.type, m.payment_method, m.livemode], ['mandate', 'active', 'single_use', pi.payment_method, false]);
    assert.deepEqual(m.single_use, { amount: 5000, currency: 'eur' });
    assert.equal(m.multi_use, undefined);
    assert.deepEqual(m.customer_acceptance, { accepted_at: m.customer_acceptance.accepted_at, online: { ip_address: '203.0.113.7', user_agent: 'Mozilla/5.0' }, type: 'online' });
    assert.equal(m.payment_method_details.type, 'sepa_debit');
    assert.ok(m.payment_method_details.sepa_debit!.reference);
    assert.equal((m as any).created, undefined);
    // Saving the method for later makes a multi-use mandate; no mandate_data is an offline acceptance.
    const cus = await s.customers.create();
    const saved = await s.paymentIntents.create({ amount: 5000, currency: 'eur', customer: cus.id, setup_future_usage: 'off_session', payment_method_types: ['sepa_debit'], payment_method_data: sepa('DE89370400440532013000'), confirm: true } as any);
    const m2 = await s.mandates.retrieve((await s.charges.retrieve(saved.latest_charge as string)).payment_method_details!.sepa_debit!.mandate as string);
    assert.deepEqual([m2.type, m2.multi_use, m2.customer_acceptance.type, m2.customer_acceptance.offline], ['multi_use', {}, 'offline', {}]);
    await rejects(s.mandates.retrieve('mandate_nope'), (e) => { assert.equal(e.statusCode, 404); assert.equal(e.message, "No such mandate: 'mandate_nope'"); });
  });

  test('SEPA SetupIntents: succeeded at once with a multi-use mandate, the method attached', async () => {
    const s = t.stripe(freshKey());
    const cus = await s.customers.create();
    const si = await s.setupIntents.create({ customer: cus.id, payment_method_types: ['sepa_debit'], payment_method_data: sepa('DE89370400440532013000'), mandate_data: online, confirm: true } as any);
    assert.equal(si.status, 'succeeded');
    const m = await s.mandates.retrieve(si.mandate as string);
    assert.deepEqual([m.status, m.type, m.payment_method], ['active', 'multi_use', si.payment_method]);
    assert.equal((await s.paymentMethods.retrieve(si.payment_method as string)).customer, cus.id);
    const att = (await s.setupAttempts.list({ setup_intent: si.id })).data[0]!;
    assert.deepEqual([att.status, att.payment_method_details.type], ['succeeded', 'sepa_debit']);
  });
});

describe('microdeposits (us_bank_account)', () => {
  test('PaymentIntent: requires_action with verify_with_microdeposits; wrong values mismatch; 32/45 verify, the mandate activates and the debit starts', async () => {
    const s = t.stripe(freshKey());
    const pi = await s.paymentIntents.create({ amount: 10_000, currency: 'usd', payment_method_types: ['us_bank_account'], payment_method_data: ach('000123456789'), mandate_data: online, confirm: true } as any);
    assert.equal(pi.status, 'requires_action');
    assert.equal(pi.next_action!.type, 'verify_with_microdeposits');
    const v = pi.next_action!.verify_with_microdeposits!;
    assert.equal(v.microdeposit_type, 'descriptor_code');
    assert.ok(v.arrival_date > pi.created);
    assert.match(v.hosted_verification_url, /^http/);
    assert.equal(pi.latest_charge, null);
    await rejects(s.paymentIntents.verifyMicrodeposits(pi.id, { amounts: [1, 2] }), (e) => {
      assert.equal(e.statusCode, 400); assert.equal(e.code, 'payment_method_microdeposit_verification_amounts_mismatch');
      assert.equal(e.message, 'The amounts provided do not match the amounts that were sent to the bank account.');
    });
    await rejects(s.paymentIntents.verifyMicrodeposits(pi.id, { amounts: [32] }), (e) => assert.equal(e.code, 'payment_method_microdeposit_verification_amounts_invalid'));
    await rejects(s.paymentIntents.verifyMicrodeposits(pi.id, { descriptor_code: 'SMXXXX' }), (e) => assert.equal(e.code, 'payment_method_microdeposit_verification_descriptor_code_mismatch'));
    await rejects(s.paymentIntents.verifyMicrodeposits(pi.id, {}), (e) => assert.equal(e.statusCode, 400));
    await rejects(s.paymentIntents.verifyMicrodeposits(pi.id, { amounts: [32, 45], descriptor_code: 'SM11AA' }), (e) => assert.equal(e.statusCode, 400));
    const verified = await s.paymentIntents.verifyMicrodeposits(pi.id, { amounts: [32, 45] });
    assert.deepEqual([verified.status, verified.next_action], ['processing', null]);
    const ch = await s.charges.retrieve(verified.latest_charge as string);
    const details = ch.payment_method_details!.us_bank_account!;
    assert.deepEqual(Object.keys(details).sort(), ['account_holder_type', 'account_type', 'bank_name', 'fingerprint', 'last4', 'mandate', 'payment_reference', 'routing_number']);
    const m = await s.mandates.retrieve(details.mandate as string);
    assert.deepEqual([m.status, m.payment_method_details.type], ['active', 'us_bank_account']);
    const upd = (await s.events.list({ type: 'mandate.updated' })).data[0]!;
    assert.deepEqual(upd.data.previous_attributes, { status: 'pending' });
    await rejects(s.paymentIntents.verifyMicrodeposits(pi.id, { amounts: [32, 45] }), (e) => assert.equal(e.code, 'payment_intent_unexpected_state'));
    // A verified account is not asked again.
    const again = await s.paymentIntents.create({ amount: 2000, currency: 'usd', payment_method_types: ['us_bank_account'], payment_method: verified.payment_method as string, confirm: true } as any);
    assert.equal(again.status, 'processing');
  });

  test('PaymentIntent: SM33CC exceeds the attempts, 40/41 time out, three mismatches exceed: the intent fails back to requires_payment_method', async () => {
    const s = t.stripe(freshKey());
    const make = () => s.paymentIntents.create({ amount: 1000, currency: 'usd', payment_method_types: ['us_bank_account'], payment_method_data: ach('000123456789'), confirm: true } as any);
    const a = await make();
    await rejects(s.paymentIntents.verifyMicrodeposits(a.id, { descriptor_code: 'SM33CC' }), (e) => {
      assert.equal(e.code, 'payment_method_microdeposit_verification_attempts_exceeded');
      assert.equal(e.raw.payment_intent.status, 'requires_payment_method');
    });
    const fa = await s.paymentIntents.retrieve(a.id);
    assert.deepEqual([fa.status, fa.last_payment_error!.code, fa.payment_method], ['requires_payment_method', 'payment_method_microdeposit_verification_attempts_exceeded', null]);
    const b = await make();
    await rejects(s.paymentIntents.verifyMicrodeposits(b.id, { amounts: [40, 41] }), (e) => assert.equal(e.code, 'payment_method_microdeposit_verification_timeout'));
    assert.equal((await s.paymentIntents.retrieve(b.id)).last_payment_error!.code, 'payment_method_microdeposit_verification_timeout');
    const c = await make();
    for (let i = 0; i < 2; i++) await rejects(s.paymentIntents.verifyMicrodeposits(c.id, { amounts: [1, 2] }), (e) => assert.equal(e.code, 'payment_method_microdeposit_verification_amounts_mismatch'));
    await rejects(s.paymentIntents.verifyMicrodeposits(c.id, { amounts: [1, 2] }), (e) => assert.equal(e.code, 'payment_method_microdeposit_verification_attempts_exceeded'));
    assert.equal((await s.paymentIntents.retrieve(c.id)).status, 'requires_payment_method');
    const types = (await s.events.list({ type: 'payment_intent.payment_failed' })).data.length;
    assert.equal(types, 3);
    // Not awaiting verification.
    const card = await s.paymentIntents.create({ amount: 1000, currency: 'usd', payment_method_types: ['card'] } as any);
    await rejects(s.paymentIntents.verifyMicrodeposits(card.id, { amounts: [32, 45] }), (e) => assert.equal(e.code, 'payment_intent_unexpected_state'));
  });

  test('SetupIntent: SM11AA verifies (succeeded, mandate active, method attached); a failure returns it to requires_payment_method', async () => {
    const s = t.stripe(freshKey());
    const cus = await s.customers.create();
    const si = await s.setupIntents.create({ customer: cus.id, payment_method_types: ['us_bank_account'], payment_method_data: ach('000123456789'), mandate_data: online, confirm: true } as any);
    assert.deepEqual([si.status, si.next_action!.type], ['requires_action', 'verify_with_microdeposits']);
    assert.equal((await s.mandates.retrieve(si.mandate as string)).status, 'pending');
    const done = await s.setupIntents.verifyMicrodeposits(si.id, { descriptor_code: 'SM11AA' });
    assert.deepEqual([done.status, done.next_action], ['succeeded', null]);
    assert.equal((await s.mandates.retrieve(si.mandate as string)).status, 'active');
    assert.equal((await s.paymentMethods.retrieve(si.payment_method as string)).customer, cus.id);
    const bad = await s.setupIntents.create({ payment_method_types: ['us_bank_account'], payment_method_data: ach('000123456789'), confirm: true } as any);
    await rejects(s.setupIntents.verifyMicrodeposits(bad.id, { descriptor_code: 'SM44DD' }), (e) => {
      assert.equal(e.code, 'payment_method_microdeposit_verification_timeout'); assert.equal(e.raw.setup_intent.status, 'requires_payment_method');
    });
    const failed = await s.setupIntents.retrieve(bad.id);
    assert.deepEqual([failed.status, failed.last_setup_error!.code], ['requires_payment_method', 'payment_method_microdeposit_verification_timeout']);
    await rejects(s.setupIntents.verifyMicrodeposits(done.id, { descriptor_code: 'SM11AA' }), (e) => assert.equal(e.code, 'setup_intent_unexpected_state'));
  });
});

describe('the publishable-key view of intents', () => {
  const pkFor = (sk: string) => `pk_test_${sk.slice('sk_test_'.length)}`;

  test('PaymentIntents: retrieve and confirm with pk + client_secret show only the publishable fields', async () => {
    const sk = freshKey();
    const s = t.stripe(sk);
    const pk = t.stripe(pkFor(sk));
    const cus = await s.customers.create();
    const pi = await s.paymentIntents.create({ amount: 2000, currency: 'usd', ...card, customer: cus.id, metadata: { order: '7' }, description: 'Order 7' });
    const view: any = await pk.paymentIntents.retrieve(pi.id, { client_secret: pi.client_secret! });
    const { lastResponse: _l, ...fields } = view;
    assert.deepEqual(Object.keys(fields), [
      'id', 'object', 'amount', 'automatic_payment_methods', 'canceled_at', 'cancellation_reason', 'capture_method', 'client_secret',
      'confirmation_method', 'created', 'currency', 'description', 'last_payment_error', 'livemode', 'next_action', 'payment_method',
      'payment_method_configuration_details', 'payment_method_types', 'processing', 'receipt_email', 'setup_future_usage', 'shipping', 'source', 'status',
    ]);
    assert.deepEqual([view.amount, view.description, view.status], [2000, 'Order 7', 'requires_payment_method']);
    for (const hidden of ['customer', 'metadata', 'latest_charge', 'amount_received', 'amount_capturable', 'payment_method_options', 'transfer_group']) assert.equal(view[hidden], undefined, hidden);
    await rejects(pk.paymentIntents.retrieve(pi.id), (e) => { assert.equal(e.param, 'client_secret'); assert.equal(e.message, 'The client_secret parameter is required when using a publishable key to retrieve this PaymentIntent.'); });
    await rejects(pk.paymentIntents.retrieve(pi.id, { client_secret: `${pi.id}_secret_wrong` }), (e) => assert.equal(e.message, 'The client_secret provided does not match the client_secret associated with the PaymentIntent.'));
    const confirmed: any = await pk.paymentIntents.confirm(pi.id, { client_secret: pi.client_secret!, payment_method: 'pm_card_visa' } as any);
    assert.equal(confirmed.status, 'succeeded');
    assert.equal(confirmed.customer, undefined); assert.equal(confirmed.latest_charge, undefined);
    // The secret key still sees everything.
    const full = await s.paymentIntents.retrieve(pi.id);
    assert.deepEqual([full.customer, full.metadata.order, typeof full.latest_charge], [cus.id, '7', 'string']);
    // A decline's error carries the publishable view too.
    const other = await s.paymentIntents.create({ amount: 2000, currency: 'usd', ...card, customer: cus.id });
    await rejects(pk.paymentIntents.confirm(other.id, { client_secret: other.client_secret!, payment_method: 'pm_card_chargeDeclined' } as any), (e) => {
      assert.equal(e.statusCode, 402); assert.equal(e.raw.payment_intent.id, other.id); assert.equal(e.raw.payment_intent.customer, undefined);
      assert.equal(e.raw.payment_intent.last_payment_error.code, 'card_declined');
    });
  });

  test('SetupIntents: retrieve and confirm with pk + client_secret show only the publishable fields', async () => {
    const sk = freshKey();
    const s = t.stripe(sk);
    const pk = t.stripe(pkFor(sk));
    const cus = await s.customers.create();
    const si = await s.setupIntents.create({ ...card, customer: cus.id, metadata: { k: 'v' } });
    const view: any = await pk.setupIntents.retrieve(si.id, { client_secret: si.client_secret! });
    const { lastResponse: _l, ...fields } = view;
    assert.deepEqual(Object.keys(fields), [
      'id', 'object', 'automatic_payment_methods', 'cancellation_reason', 'client_secret', 'created', 'description', 'last_setup_error',
      'livemode', 'next_action', 'payment_method', 'payment_method_configuration_details', 'payment_method_types', 'status', 'usage',
    ]);
    await rejects(pk.setupIntents.retrieve(si.id), (e) => assert.equal(e.param, 'client_secret'));
    const done: any = await pk.setupIntents.confirm(si.id, { client_secret: si.client_secret!, payment_method: 'pm_card_visa' } as any);
    assert.deepEqual([done.status, done.customer, done.metadata], ['succeeded', undefined, undefined]);
    assert.equal((await s.setupIntents.retrieve(si.id)).customer, cus.id);
  });
});
