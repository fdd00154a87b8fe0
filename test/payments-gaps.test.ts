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
