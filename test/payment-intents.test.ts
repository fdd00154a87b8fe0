// PaymentIntents through the SDK: every transition of the state machine, the failing ones
// included, declines with their failed Charges, capture, cancel, 3DS next actions, the
// publishable-key path, amount rules and the concurrent-confirm race.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Stripe from 'stripe';
import { freshKey, startTestServer, type TestServer } from './helpers/server.js';

let t: TestServer;
let stripe: Stripe;
before(async () => { t = await startTestServer(); stripe = t.stripe(); });
after(() => t.close());

// payment_method_types (older integrations) and allowed_payment_method_types (current SDK) both work.
const card: any = { payment_method_types: ['card'] };
async function rejects(p: Promise<unknown>, check: (e: any) => void) {
  await assert.rejects(p, (e: any) => { check(e); return true; });
}
async function eventTypes(s: Stripe): Promise<string[]> {
  return (await s.events.list({ limit: 100 })).data.map((e) => e.type).reverse();
}

describe('payment intents', () => {
  test('create returns the full shape in requires_payment_method', async () => {
    const pi = await stripe.paymentIntents.create({ amount: 2000, currency: 'USD', metadata: { order: '1' } });
    assert.match(pi.id, /^pi_[A-Za-z0-9]{24}$/);
    assert.match(pi.client_secret!, new RegExp(`^${pi.id}_secret_[A-Za-z0-9]{25}$`));
    assert.equal(pi.status, 'requires_payment_method');
    assert.equal(pi.currency, 'usd');
    assert.deepEqual(pi.automatic_payment_methods, { allow_redirects: 'always', enabled: true });
    assert.equal(pi.capture_method, 'automatic_async');
    assert.deepEqual(pi.payment_method_types, ['card']);
    assert.deepEqual(pi.metadata, { order: '1' });
    for (const k of ['amount_capturable', 'amount_received']) assert.equal((pi as any)[k], 0);
    for (const k of ['canceled_at', 'cancellation_reason', 'customer', 'description', 'last_payment_error', 'latest_charge', 'next_action', 'payment_method', 'review', 'setup_future_usage', 'shipping', 'processing']) {
      assert.equal((pi as any)[k], null, k);
    }
    assert.deepEqual(await stripe.paymentIntents.retrieve(pi.id), pi);
    await rejects(stripe.paymentIntents.retrieve('pi_nope'), (e) => { assert.equal(e.statusCode, 404); assert.equal(e.message, "No such payment_intent: 'pi_nope'"); });
  });

  test('confirm succeeds: charge with outcome, card details, balance transaction and events', async () => {
    const key = freshKey(); const s = t.stripe(key);
    const created = await s.paymentIntents.create({ amount: 1000, currency: 'usd', payment_method: 'pm_card_visa', ...card, description: 'order 7' });
    assert.equal(created.status, 'requires_confirmation');
    assert.match(created.payment_method as string, /^pm_/);
    const pi = await s.paymentIntents.confirm(created.id);
    assert.equal(pi.status, 'succeeded');
    assert.equal(pi.amount_received, 1000);
    const ch = await s.charges.retrieve(pi.latest_charge as string, { expand: ['balance_transaction'] });
    assert.equal(ch.status, 'succeeded');
    assert.equal(ch.paid, true); assert.equal(ch.captured, true); assert.equal(ch.amount_captured, 1000);
    assert.equal(ch.payment_intent, pi.id);
    assert.equal(ch.payment_method, pi.payment_method);
    assert.equal(ch.description, 'order 7');
    assert.equal(ch.outcome!.network_status, 'approved_by_network');
    assert.equal(ch.outcome!.type, 'authorized');
    assert.equal(ch.outcome!.risk_level, 'normal');
    assert.equal(ch.outcome!.seller_message, 'Payment complete.');
    const c = ch.payment_method_details!.card!;
    assert.deepEqual([c.brand, c.last4, c.funding, c.country, c.network], ['visa', '4242', 'credit', 'US', 'visa']);
    assert.equal(c.checks!.cvc_check, 'pass');
    assert.equal(c.three_d_secure, null);
    const txn = ch.balance_transaction as Stripe.BalanceTransaction;
    assert.equal(txn.amount, 1000);
    assert.equal(txn.fee, 59); // 2.9% of 1000 = 29, + 30
    assert.equal(txn.net, 941);
    assert.deepEqual(txn.fee_details, [{ amount: 59, application: null, currency: 'usd', description: 'Stripe processing fees', type: 'stripe_fee' }]);
    assert.equal(txn.source, ch.id);
    assert.equal(txn.status, 'pending');
    assert.equal((ch as any).refunds, undefined);
    const types = await eventTypes(s);
    assert.deepEqual(types, ['payment_intent.created', 'charge.succeeded', 'payment_intent.succeeded']);
    await rejects(s.paymentIntents.confirm(pi.id), (e) => {
      assert.equal(e.statusCode, 400); assert.equal(e.code, 'payment_intent_unexpected_state');
      assert.equal(e.message, 'You cannot confirm this PaymentIntent because it has a status of succeeded. Only a PaymentIntent with one of the following statuses may be confirmed: requires_payment_method, requires_confirmation, requires_action.');
      assert.equal(e.raw.payment_intent.id, pi.id);
    });
    const list = await s.charges.list({ payment_intent: pi.id });
    assert.deepEqual(list.data.map((x) => x.id), [ch.id]);
  });

  test('automatic payment methods need a return_url unless redirects are never allowed', async () => {
    await rejects(stripe.paymentIntents.create({ amount: 1000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true }), (e) => {
      assert.equal(e.statusCode, 400); assert.match(e.message, /^A `return_url` must be specified because this Payment Intent is configured to automatically accept/);
    });
    const never = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true, automatic_payment_methods: { enabled: true, allow_redirects: 'never' } });
    assert.equal(never.status, 'succeeded');
    const withUrl = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true, return_url: 'https://example.com/done' });
    assert.equal(withUrl.status, 'succeeded');
    await rejects(stripe.paymentIntents.create({ amount: 1000, currency: 'usd', automatic_payment_methods: { enabled: true }, ...card }), (e) => assert.equal(e.statusCode, 400));
    const allowed = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd', allowed_payment_method_types: ['card'], payment_method: 'pm_card_visa', confirm: true });
    assert.equal(allowed.status, 'succeeded');
    assert.equal(allowed.automatic_payment_methods, null);
    await rejects(stripe.paymentIntents.create({ amount: 1000, currency: 'usd', payment_method_types: ['bogus'] } as any), (e) => { assert.equal(e.statusCode, 400); assert.equal(e.param, 'payment_method_types[0]'); });
  });

  // Stripe's answers (https://docs.stripe.com/testing#declined-payments). The CVC check failure
  // (4000000000000101) is incorrect_cvc with param cvc and no decline_code, as Stripe sends it.
  const declines: [string, string, string | undefined, string][] = [
    ['pm_card_chargeDeclined', 'card_declined', 'generic_decline', 'Your card was declined.'],
    ['pm_card_chargeDeclinedInsufficientFunds', 'card_declined', 'insufficient_funds', 'Your card has insufficient funds.'],
    ['pm_card_chargeDeclinedLostCard', 'card_declined', 'lost_card', 'Your card was declined.'],
    ['pm_card_chargeDeclinedStolenCard', 'card_declined', 'stolen_card', 'Your card was declined.'],
    ['pm_card_chargeDeclinedExpiredCard', 'expired_card', 'expired_card', 'Your card has expired.'],
    ['pm_card_chargeDeclinedIncorrectCvc', 'incorrect_cvc', 'incorrect_cvc', "Your card's security code is incorrect."],
    ['pm_card_chargeDeclinedProcessingError', 'processing_error', 'processing_error', 'An error occurred while processing your card. Try again in a little bit.'],
    ['pm_card_chargeDeclinedVelocityLimitExceeded', 'card_declined', 'card_velocity_exceeded', 'Your card was declined for making repeated attempts too frequently or exceeding its amount limit.'],
    ['pm_card_cvcCheckFail', 'incorrect_cvc', undefined, "Your card's security code is incorrect."],
    ['pm_card_chargeCustomerFail', 'card_declined', 'generic_decline', 'Your card was declined.'],
  ];
  for (const [pm, code, declineCode, message] of declines) {
    test(`decline ${pm}: 402 ${code}/${declineCode}, failed charge, back to requires_payment_method, then a good card succeeds`, async () => {
      const key = freshKey(); const s = t.stripe(key);
      const pi = await s.paymentIntents.create({ amount: 1500, currency: 'usd', ...card });
      let chargeId = '';
      await rejects(s.paymentIntents.confirm(pi.id, { payment_method: pm }), (e) => {
        assert.equal(e.type, 'StripeCardError');
        assert.equal(e.statusCode, 402);
        assert.equal(e.code, code); assert.equal(e.raw.decline_code, declineCode); assert.equal(e.message, message);
        assert.match(e.raw.charge, /^ch_/); chargeId = e.raw.charge;
        assert.equal(e.raw.payment_intent.id, pi.id);
        assert.equal(e.raw.payment_intent.status, 'requires_payment_method');
        assert.equal(e.raw.payment_intent.last_payment_error.decline_code, declineCode);
        assert.equal(e.param, code === 'incorrect_cvc' ? 'cvc' : undefined);
        assert.equal(e.raw.payment_intent.last_payment_error.param, code === 'incorrect_cvc' ? 'cvc' : undefined);
        assert.equal(e.raw.payment_method.object, 'payment_method');
        assert.match(e.raw.doc_url, /^https:\/\/stripe\.com\/docs\/error-codes\//);
      });
      const after = await s.paymentIntents.retrieve(pi.id);
      assert.equal(after.status, 'requires_payment_method');
      assert.equal(after.payment_method, null);
      assert.equal(after.latest_charge, chargeId);
      assert.equal(after.last_payment_error!.code, code);
      assert.equal(after.last_payment_error!.charge, chargeId);
      const ch = await s.charges.retrieve(chargeId);
      assert.equal(ch.status, 'failed'); assert.equal(ch.paid, false); assert.equal(ch.failure_code, code); assert.equal(ch.failure_message, message);
      assert.equal(ch.balance_transaction, null);
      assert.equal(ch.outcome!.type, 'issuer_declined'); assert.equal(ch.outcome!.network_status, 'declined_by_network');
      assert.deepEqual(await eventTypes(s), ['payment_intent.created', 'charge.failed', 'payment_intent.payment_failed']);
      const ok = await s.paymentIntents.confirm(pi.id, { payment_method: 'pm_card_visa' });
      assert.equal(ok.status, 'succeeded');
      assert.equal(ok.last_payment_error, null);
    });
  }

  test('Radar: always-blocked and highest-risk cards are blocked; elevated risk succeeds into review', async () => {
    // The always-blocked card answers decline_code fraudulent; the highest-risk card generic_decline (as Stripe does).
    for (const [pm, declineCode] of [['pm_card_radarBlock', 'fraudulent'], ['pm_card_riskLevelHighest', 'generic_decline']] as const) {
      const pi = await stripe.paymentIntents.create({ amount: 1500, currency: 'usd', ...card });
      await rejects(stripe.paymentIntents.confirm(pi.id, { payment_method: pm }), (e) => {
        assert.equal(e.statusCode, 402); assert.equal(e.code, 'card_declined'); assert.equal(e.decline_code, declineCode);
      });
      const ch = (await stripe.charges.list({ payment_intent: pi.id })).data[0]!;
      assert.deepEqual([ch.outcome!.type, ch.outcome!.network_status, ch.outcome!.risk_level, ch.outcome!.reason], ['blocked', 'not_sent_to_network', 'highest', 'highest_risk_level']);
    }
    const pi = await stripe.paymentIntents.create({ amount: 1500, currency: 'usd', ...card, payment_method: 'pm_card_riskLevelElevated', confirm: true });
    assert.equal(pi.status, 'succeeded');
    const ch = await stripe.charges.retrieve(pi.latest_charge as string);
    assert.deepEqual([ch.outcome!.type, ch.outcome!.risk_level], ['manual_review', 'elevated']);
    assert.match(ch.review as string, /^prv_/);
    assert.equal(pi.review, ch.review);
    const review = await stripe.reviews.retrieve(ch.review as string);
    assert.deepEqual([review.open, review.charge, review.reason], [true, ch.id, 'rule']);
    const approved = await stripe.reviews.approve(review.id);
    assert.deepEqual([approved.open, approved.reason, approved.closed_reason], [false, 'approved', 'approved']);
    await assert.rejects(stripe.reviews.approve(review.id), (e: any) => e.statusCode === 400);
    const types = (await stripe.events.list({ limit: 100 })).data.map((e) => e.type as string);
    assert.ok(types.includes('review.opened')); assert.ok(types.includes('review.closed'));
  });

  test('address checks: zip failure is reported but the charge succeeds', async () => {
    const pi = await stripe.paymentIntents.create({ amount: 1500, currency: 'usd', ...card, payment_method: 'pm_card_avsZipFail', confirm: true });
    const ch = await stripe.charges.retrieve(pi.latest_charge as string);
    assert.equal(ch.payment_method_details!.card!.checks!.address_postal_code_check, 'fail');
    assert.equal(ch.payment_method_details!.card!.checks!.address_line1_check, 'pass');
  });

  test('manual capture: requires_capture, over-capture rejected, partial capture releases the rest', async () => {
    const key = freshKey(); const s = t.stripe(key);
    const pi = await s.paymentIntents.create({ amount: 5000, currency: 'usd', ...card, capture_method: 'manual', payment_method: 'pm_card_visa', confirm: true });
    assert.equal(pi.status, 'requires_capture');
    assert.equal(pi.amount_capturable, 5000); assert.equal(pi.amount_received, 0);
    let ch = await s.charges.retrieve(pi.latest_charge as string);
    assert.equal(ch.captured, false); assert.equal(ch.paid, true); assert.equal(ch.balance_transaction, null);
    await rejects(s.paymentIntents.capture(pi.id, { amount_to_capture: 6000 }), (e) => { assert.equal(e.statusCode, 400); assert.equal(e.param, 'amount_to_capture'); });
    const cap = await s.paymentIntents.capture(pi.id, { amount_to_capture: 3000 });
    assert.equal(cap.status, 'succeeded'); assert.equal(cap.amount_received, 3000); assert.equal(cap.amount_capturable, 0);
    ch = await s.charges.retrieve(pi.latest_charge as string, { expand: ['balance_transaction'] });
    assert.equal(ch.captured, true); assert.equal(ch.amount_captured, 3000); assert.equal(ch.amount_refunded, 2000);
    assert.equal((ch.balance_transaction as Stripe.BalanceTransaction).amount, 3000);
    await rejects(s.paymentIntents.capture(pi.id), (e) => {
      assert.equal(e.code, 'payment_intent_unexpected_state');
      assert.equal(e.message, 'This PaymentIntent could not be captured because it has a status of succeeded. Only a PaymentIntent with one of the following statuses may be captured: requires_capture.');
    });
    assert.deepEqual(await eventTypes(s), ['payment_intent.created', 'charge.succeeded', 'payment_intent.amount_capturable_updated', 'charge.captured', 'payment_intent.succeeded']);
  });

  test('cancel: from each cancelable state; a canceled intent cannot be confirmed, captured or canceled again', async () => {
    const a = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd', ...card });
    const ca = await stripe.paymentIntents.cancel(a.id, { cancellation_reason: 'abandoned' });
    assert.equal(ca.status, 'canceled'); assert.equal(ca.cancellation_reason, 'abandoned'); assert.ok(ca.canceled_at);
    await rejects(stripe.paymentIntents.cancel(a.id), (e) => { assert.equal(e.code, 'payment_intent_unexpected_state'); assert.match(e.message, /status of canceled/); });
    await rejects(stripe.paymentIntents.confirm(a.id, { payment_method: 'pm_card_visa' }), (e) => assert.equal(e.code, 'payment_intent_unexpected_state'));
    await rejects(stripe.paymentIntents.capture(a.id), (e) => assert.equal(e.code, 'payment_intent_unexpected_state'));
    await rejects(stripe.paymentIntents.update(a.id, { amount: 2000 }), (e) => assert.equal(e.code, 'payment_intent_unexpected_state'));
    const b = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd', ...card, payment_method: 'pm_card_visa' });
    assert.equal((await stripe.paymentIntents.cancel(b.id)).status, 'canceled');
    const c = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd', ...card, capture_method: 'manual', payment_method: 'pm_card_visa', confirm: true });
    const cc = await stripe.paymentIntents.cancel(c.id);
    assert.equal(cc.status, 'canceled'); assert.equal(cc.amount_capturable, 0);
    const ch = await stripe.charges.retrieve(c.latest_charge as string);
    assert.equal(ch.refunded, true); assert.equal(ch.amount_refunded, 1000); assert.equal(ch.captured, false);
    const d = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd', ...card, payment_method: 'pm_card_visa', confirm: true });
    await rejects(stripe.paymentIntents.cancel(d.id), (e) => assert.equal(e.message, 'You cannot cancel this PaymentIntent because it has a status of succeeded. Only a PaymentIntent with one of the following statuses may be canceled: requires_payment_method, requires_capture, requires_confirmation, requires_action, processing.'));
  });

  test('confirm without a payment method, update rules', async () => {
    const pi = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd', ...card });
    await rejects(stripe.paymentIntents.confirm(pi.id), (e) => { assert.equal(e.code, 'payment_intent_unexpected_state'); assert.match(e.message, /missing a payment method/); });
    const up = await stripe.paymentIntents.update(pi.id, { amount: 1234, payment_method: 'pm_card_mastercard', description: 'd' });
    assert.equal(up.amount, 1234); assert.equal(up.status, 'requires_confirmation'); assert.equal(up.description, 'd');
    await rejects(stripe.paymentIntents.update(pi.id, { amount: 10 }), (e) => { assert.equal(e.code, 'amount_too_small'); });
    const done = await stripe.paymentIntents.confirm(pi.id);
    assert.equal(done.status, 'succeeded'); assert.equal(done.amount_received, 1234);
    const meta = await stripe.paymentIntents.update(pi.id, { metadata: { shipped: 'yes' } });
    assert.deepEqual(meta.metadata, { shipped: 'yes' });
    await rejects(stripe.paymentIntents.update(pi.id, { amount: 2000 }), (e) => { assert.equal(e.code, 'payment_intent_unexpected_state'); assert.match(e.message, /status of succeeded/); });
  });

  test('setup_future_usage attaches the PaymentMethod to the customer', async () => {
    const cus = await stripe.customers.create();
    const pi = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd', ...card, customer: cus.id, payment_method: 'pm_card_visa', setup_future_usage: 'off_session', confirm: true });
    assert.equal(pi.status, 'succeeded');
    const pm = await stripe.paymentMethods.retrieve(pi.payment_method as string);
    assert.equal(pm.customer, cus.id);
    assert.equal((await stripe.customers.listPaymentMethods(cus.id)).data.length, 1);
    const offSession = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd', ...card, customer: cus.id, payment_method: pm.id, off_session: true, confirm: true });
    assert.equal(offSession.status, 'succeeded');
  });

  test('3-D Secure: requires_action with use_stripe_sdk or redirect_to_url; off-session is 402 authentication_required', async () => {
    const pi = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd', ...card, payment_method: 'pm_card_authenticationRequired', confirm: true });
    assert.equal(pi.status, 'requires_action');
    assert.equal(pi.next_action!.type, 'use_stripe_sdk');
    assert.equal((pi.next_action as any).use_stripe_sdk.type, 'three_d_secure_redirect');
    const r = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd', ...card, payment_method: 'pm_card_threeDSecure2Required', confirm: true, return_url: 'https://shop.example/return' });
    assert.equal(r.status, 'requires_action');
    assert.equal(r.next_action!.type, 'redirect_to_url');
    assert.equal(r.next_action!.redirect_to_url!.return_url, 'https://shop.example/return');
    assert.match(r.next_action!.redirect_to_url!.url!, /^http:\/\/127\.0\.0\.1:\d+\/pinstripe\/3ds\//);
    const optional = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd', ...card, payment_method: 'pm_card_threeDSecureOptional', confirm: true });
    assert.equal(optional.status, 'succeeded');
    const forced = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd', ...card, payment_method: 'pm_card_threeDSecureOptional', confirm: true, payment_method_options: { card: { request_three_d_secure: 'any' } } });
    assert.equal(forced.status, 'requires_action');
    const cus = await stripe.customers.create();
    const pm = await stripe.paymentMethods.attach('pm_card_authenticationRequired', { customer: cus.id });
    let failedPi = '';
    await rejects(stripe.paymentIntents.create({ amount: 1000, currency: 'usd', ...card, customer: cus.id, payment_method: pm.id, off_session: true, confirm: true }), (e) => {
      assert.equal(e.statusCode, 402); assert.equal(e.code, 'authentication_required'); assert.equal(e.decline_code, 'authentication_required');
      assert.equal(e.message, 'Your card was declined. This transaction requires authentication.');
      failedPi = e.raw.payment_intent.id;
    });
    assert.equal((await stripe.paymentIntents.retrieve(failedPi)).status, 'requires_payment_method');
  });

  test('publishable key: retrieve and confirm need the client_secret; raw card data works', async () => {
    const key = freshKey(); const s = t.stripe(key); const pk = t.stripe(key.replace('sk_', 'pk_'));
    const pi = await s.paymentIntents.create({ amount: 1000, currency: 'usd', ...card });
    await rejects(pk.paymentIntents.create({ amount: 1000, currency: 'usd' }), (e) => assert.equal(e.statusCode, 401));
    await rejects(pk.paymentIntents.retrieve(pi.id), (e) => { assert.equal(e.statusCode, 400); assert.equal(e.param, 'client_secret'); });
    await rejects(pk.paymentIntents.retrieve(pi.id, { client_secret: 'pi_x_secret_y' }), (e) => { assert.equal(e.statusCode, 400); assert.match(e.message, /does not match/); });
    assert.equal((await pk.paymentIntents.retrieve(pi.id, { client_secret: pi.client_secret! })).id, pi.id);
    const confirmed = await pk.paymentIntents.confirm(pi.id, {
      client_secret: pi.client_secret!,
      payment_method_data: { type: 'card', card: { number: '5555555555554444', exp_month: 1, exp_year: 2040, cvc: '314' } as any },
    } as any);
    assert.equal(confirmed.status, 'succeeded');
    const pm = await s.paymentMethods.retrieve(confirmed.payment_method as string);
    assert.equal(pm.card!.brand, 'mastercard');
    await rejects(s.paymentIntents.confirm((await s.paymentIntents.create({ amount: 1000, currency: 'usd', ...card })).id, {
      payment_method_data: { type: 'card', card: { number: '4242424242424242', exp_month: 1, exp_year: 2040 } },
    } as any), (e) => { assert.equal(e.statusCode, 400); assert.match(e.message, /^Sending credit card numbers directly/); });
  });

  test('amounts: minimums per currency, zero- and three-decimal currencies, maximum, unsupported currency', async () => {
    const bad = async (amount: number, currency: string, code: string) => rejects(stripe.paymentIntents.create({ amount, currency }), (e) => { assert.equal(e.statusCode, 400); assert.equal(e.code, code, `${amount} ${currency}`); assert.equal(e.param, code === 'amount_too_small' || code === 'amount_too_large' || code === 'invalid_amount' ? 'amount' : 'currency'); });
    await bad(49, 'usd', 'amount_too_small');
    await rejects(stripe.paymentIntents.create({ amount: 49, currency: 'usd' }), (e) => assert.equal(e.message, 'Amount must be at least $0.50 usd'));
    await bad(29, 'gbp', 'amount_too_small');
    assert.equal((await stripe.paymentIntents.create({ amount: 30, currency: 'gbp' })).amount, 30);
    await bad(49, 'jpy', 'amount_too_small');
    const jpy = await stripe.paymentIntents.create({ amount: 500, currency: 'jpy', ...card, payment_method: 'pm_card_visa', confirm: true });
    assert.equal(jpy.amount_received, 500);
    await bad(1005, 'bhd', 'invalid_amount');
    assert.equal((await stripe.paymentIntents.create({ amount: 1010, currency: 'bhd' })).currency, 'bhd');
    await bad(100_000_000, 'usd', 'amount_too_large');
    await rejects(stripe.paymentIntents.create({ amount: 1000, currency: 'xyz' }), (e) => { assert.equal(e.statusCode, 400); assert.equal(e.param, 'currency'); assert.match(e.message, /^Invalid currency: xyz/); });
  });

  test('list and search', async () => {
    const key = freshKey(); const s = t.stripe(key);
    const cus = await s.customers.create();
    const a = await s.paymentIntents.create({ amount: 1000, currency: 'usd', customer: cus.id, metadata: { k: 'v' } });
    const b = await s.paymentIntents.create({ amount: 2000, currency: 'eur' });
    assert.deepEqual((await s.paymentIntents.list()).data.map((x) => x.id), [b.id, a.id]);
    assert.deepEqual((await s.paymentIntents.list({ customer: cus.id })).data.map((x) => x.id), [a.id]);
    assert.deepEqual((await s.paymentIntents.search({ query: "metadata['k']:'v'" })).data.map((x) => x.id), [a.id]);
    assert.deepEqual((await s.paymentIntents.search({ query: 'currency:"eur"' })).data.map((x) => x.id), [b.id]);
  });

  test('a decline is an idempotent result: the retry replays the 402 and makes no second charge', async () => {
    const key = freshKey();
    const pi = await t.stripe(key).paymentIntents.create({ amount: 1000, currency: 'usd', ...card });
    const send = () => t.request('POST', `/v1/payment_intents/${pi.id}/confirm`, { key, body: 'payment_method=pm_card_chargeDeclined', headers: { 'Idempotency-Key': 'decline-once' } });
    const first = await send();
    assert.equal(first.status, 402);
    const again = await send();
    assert.equal(again.status, 402);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.equal(again.json.error.charge, first.json.error.charge);
    assert.equal((await t.stripe(key).charges.list({ payment_intent: pi.id })).data.length, 1);
  });

  test('fifty concurrent confirms of one PaymentIntent make exactly one charge and no 5xx', async () => {
    const key = freshKey(); const s = t.stripe(key);
    const pi = await s.paymentIntents.create({ amount: 1000, currency: 'usd', ...card, payment_method: 'pm_card_visa' });
    const results = await Promise.allSettled(Array.from({ length: 50 }, () => s.paymentIntents.confirm(pi.id)));
    const ok = results.filter((r) => r.status === 'fulfilled');
    const errors = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason);
    assert.equal(ok.length, 1);
    for (const e of errors) {
      assert.ok(e.statusCode === 400 || e.statusCode === 429, `status ${e.statusCode}: ${e.message}`);
      if (e.statusCode === 400) assert.equal(e.code, 'payment_intent_unexpected_state');
    }
    assert.equal((await s.charges.list({ payment_intent: pi.id })).data.length, 1);
  });
});
