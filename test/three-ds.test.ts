// 3-D Secure end to end without a browser: follow next_action to Pinstripe's test page,
// submit its Complete or Fail form, follow the redirect to the return_url.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Stripe from 'stripe';
import { freshKey, startTestServer, type TestServer } from './helpers/server.js';
import { submitThreeDSPage } from './helpers/three-ds-page.js';

let t: TestServer;
let stripe: Stripe;
before(async () => { t = await startTestServer(); stripe = t.stripe(); });
after(() => t.close());

const card: any = { payment_method_types: ['card'] };

/** Loads the page, finds the form, submits it; returns the response (redirects not followed). */
const submit = submitThreeDSPage;

describe('3-D Secure', () => {
  test('redirect_to_url: completing authenticates, the charge succeeds, the browser returns with Stripe’s parameters', async () => {
    const s = t.stripe(freshKey());
    const pi = await s.paymentIntents.create({ amount: 2500, currency: 'eur', ...card, payment_method: 'pm_card_authenticationRequired', confirm: true, return_url: 'https://shop.example/return?order=9' });
    assert.equal(pi.status, 'requires_action');
    const res = await submit(pi.next_action!.redirect_to_url!.url!, 'complete');
    assert.equal(res.status, 303);
    const loc = new URL(res.headers.get('location')!);
    assert.equal(loc.origin + loc.pathname, 'https://shop.example/return');
    assert.equal(loc.searchParams.get('order'), '9');
    assert.equal(loc.searchParams.get('payment_intent'), pi.id);
    assert.equal(loc.searchParams.get('payment_intent_client_secret'), pi.client_secret);
    assert.equal(loc.searchParams.get('redirect_status'), 'succeeded');
    const done = await s.paymentIntents.retrieve(pi.id);
    assert.equal(done.status, 'succeeded'); assert.equal(done.next_action, null);
    const ch = await s.charges.retrieve(done.latest_charge as string);
    assert.equal(ch.payment_method_details!.card!.three_d_secure!.result, 'authenticated');
    assert.equal(ch.payment_method_details!.card!.three_d_secure!.version, '2.2.0');
    const types = (await s.events.list()).data.map((e) => e.type).reverse();
    assert.deepEqual(types, ['payment_intent.created', 'payment_intent.requires_action', 'charge.succeeded', 'payment_intent.succeeded']);
    // The page is spent: a second visit shows no forms.
    const again = await (await fetch(pi.next_action!.redirect_to_url!.url!)).text();
    assert.ok(!again.includes('<form'));
  });

  test('failing authentication returns the intent to requires_payment_method without a charge', async () => {
    const s = t.stripe(freshKey());
    const pi = await s.paymentIntents.create({ amount: 2500, currency: 'usd', ...card, payment_method: 'pm_card_threeDSecure2Required', confirm: true, return_url: 'https://shop.example/r' });
    const res = await submit(pi.next_action!.redirect_to_url!.url!, 'fail');
    assert.equal(res.status, 303);
    assert.equal(new URL(res.headers.get('location')!).searchParams.get('redirect_status'), 'failed');
    const after = await s.paymentIntents.retrieve(pi.id);
    assert.equal(after.status, 'requires_payment_method');
    assert.equal(after.last_payment_error!.code, 'payment_intent_authentication_failure');
    assert.equal(after.last_payment_error!.type, 'invalid_request_error');
    assert.equal(after.latest_charge, null);
    assert.equal((await s.charges.list()).data.length, 0);
    const retry = await s.paymentIntents.confirm(pi.id, { payment_method: 'pm_card_visa', return_url: 'https://shop.example/r' });
    assert.equal(retry.status, 'succeeded');
  });

  test('use_stripe_sdk: the stripe_js page completes it too; manual capture lands in requires_capture', async () => {
    const pi = await stripe.paymentIntents.create({ amount: 2500, currency: 'usd', ...card, payment_method: 'pm_card_authenticationRequired', confirm: true, capture_method: 'manual' });
    assert.equal(pi.next_action!.type, 'use_stripe_sdk');
    const res = await submit((pi.next_action as any).use_stripe_sdk.stripe_js, 'complete');
    assert.equal(res.status, 200);
    assert.match(await res.text(), /Authentication complete/);
    const after = await stripe.paymentIntents.retrieve(pi.id);
    assert.equal(after.status, 'requires_capture'); assert.equal(after.amount_capturable, 2500);
  });

  test('authenticated but then declined (insufficient funds): failed charge, redirect_status failed', async () => {
    const pi = await stripe.paymentIntents.create({ amount: 2500, currency: 'usd', ...card, payment_method: 'pm_card_authenticationRequiredChargeDeclinedInsufficientFunds', confirm: true, return_url: 'https://shop.example/r' });
    const res = await submit(pi.next_action!.redirect_to_url!.url!, 'complete');
    assert.equal(new URL(res.headers.get('location')!).searchParams.get('redirect_status'), 'failed');
    const after = await stripe.paymentIntents.retrieve(pi.id);
    assert.equal(after.status, 'requires_payment_method');
    assert.equal(after.last_payment_error!.decline_code, 'insufficient_funds');
    const ch = await stripe.charges.retrieve(after.latest_charge as string);
    assert.equal(ch.status, 'failed');
  });

  test('authenticationRequiredOnSetup: authenticate once with setup_future_usage, later off-session payments need none', async () => {
    const cus = await stripe.customers.create();
    const pi = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd', ...card, customer: cus.id, setup_future_usage: 'off_session', payment_method: 'pm_card_authenticationRequiredOnSetup', confirm: true, return_url: 'https://shop.example/r' });
    assert.equal(pi.status, 'requires_action');
    await submit(pi.next_action!.redirect_to_url!.url!, 'complete');
    const done = await stripe.paymentIntents.retrieve(pi.id);
    assert.equal(done.status, 'succeeded');
    const pm = await stripe.paymentMethods.retrieve(done.payment_method as string);
    assert.equal(pm.customer, cus.id);
    const later = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd', ...card, customer: cus.id, payment_method: pm.id, off_session: true, confirm: true });
    assert.equal(later.status, 'succeeded');
    // The same card never set up: off-session needs authentication.
    const fresh = await stripe.paymentMethods.attach('pm_card_authenticationRequiredOnSetup', { customer: cus.id });
    await assert.rejects(stripe.paymentIntents.create({ amount: 1000, currency: 'usd', ...card, customer: cus.id, payment_method: fresh.id, off_session: true, confirm: true }), (e: any) => e.code === 'authentication_required');
  });

  test('a wrong client secret gets a 404 page and settles nothing', async () => {
    const pi = await stripe.paymentIntents.create({ amount: 2500, currency: 'usd', ...card, payment_method: 'pm_card_authenticationRequired', confirm: true, return_url: 'https://shop.example/r' });
    const url = new URL(pi.next_action!.redirect_to_url!.url!);
    url.searchParams.set('client_secret', 'wrong');
    assert.equal((await fetch(url)).status, 404);
    const post = await fetch(url.origin + url.pathname + '/complete', { method: 'POST', body: 'client_secret=wrong', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, redirect: 'manual' });
    assert.equal(post.status, 404);
    assert.equal((await stripe.paymentIntents.retrieve(pi.id)).status, 'requires_action');
  });
});
