// SetupIntents and SetupAttempts: every transition, declines, 3-D Secure through the test
// page, attach on success, off-session use of the saved card afterwards.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Stripe from 'stripe';
import { freshKey, startTestServer, type TestServer } from './helpers/server.js';

let t: TestServer;
let stripe: Stripe;
before(async () => { t = await startTestServer(); stripe = t.stripe(); });
after(() => t.close());

const card: any = { payment_method_types: ['card'] };
async function rejects(p: Promise<unknown>, check: (e: any) => void) {
  await assert.rejects(p, (e: any) => { check(e); return true; });
}

describe('setup intents', () => {
  test('create, confirm: succeeded, attached, a SetupAttempt, events; confirm/cancel afterwards refused', async () => {
    const s = t.stripe(freshKey());
    const cus = await s.customers.create();
    const si = await s.setupIntents.create({ customer: cus.id, ...card, metadata: { a: '1' } });
    assert.match(si.id, /^seti_[A-Za-z0-9]{24}$/);
    assert.match(si.client_secret!, new RegExp(`^${si.id}_secret_`));
    assert.deepEqual([si.status, si.usage, si.payment_method, si.latest_attempt, si.last_setup_error], ['requires_payment_method', 'off_session', null, null, null]);
    await rejects(s.setupIntents.confirm(si.id), (e) => assert.equal(e.code, 'setup_intent_unexpected_state'));
    const upd = await s.setupIntents.update(si.id, { payment_method: 'pm_card_visa' });
    assert.equal(upd.status, 'requires_confirmation');
    const done = await s.setupIntents.confirm(si.id);
    assert.equal(done.status, 'succeeded');
    const pm = await s.paymentMethods.retrieve(done.payment_method as string);
    assert.equal(pm.customer, cus.id);
    const attempts = await s.setupAttempts.list({ setup_intent: si.id });
    assert.equal(attempts.data.length, 1);
    assert.deepEqual([attempts.data[0]!.status, attempts.data[0]!.payment_method, attempts.data[0]!.id], ['succeeded', pm.id, done.latest_attempt]);
    assert.equal(attempts.data[0]!.payment_method_details.card!.last4, '4242');
    await rejects(s.setupIntents.confirm(si.id), (e) => { assert.equal(e.code, 'setup_intent_unexpected_state'); assert.equal(e.message, 'You cannot confirm this SetupIntent because it has already succeeded.'); });
    await rejects(s.setupIntents.cancel(si.id), (e) => assert.equal(e.code, 'setup_intent_unexpected_state'));
    const types = (await s.events.list()).data.map((e) => e.type).reverse();
    assert.deepEqual(types, ['customer.created', 'setup_intent.created', 'payment_method.attached', 'setup_intent.succeeded']);
    assert.deepEqual((await s.setupIntents.list({ customer: cus.id })).data.map((x) => x.id), [si.id]);
  });

  test('a declined card: 402 with setup_intent, back to requires_payment_method, failed attempt', async () => {
    const si = await stripe.setupIntents.create({ ...card });
    await rejects(stripe.setupIntents.confirm(si.id, { payment_method: 'pm_card_chargeDeclinedInsufficientFunds' }), (e) => {
      assert.equal(e.statusCode, 402); assert.equal(e.decline_code, 'insufficient_funds'); assert.equal(e.raw.setup_intent.id, si.id);
    });
    const after = await stripe.setupIntents.retrieve(si.id);
    assert.equal(after.status, 'requires_payment_method');
    assert.equal(after.last_setup_error!.decline_code, 'insufficient_funds');
    const att = await stripe.setupAttempts.list({ setup_intent: si.id });
    assert.equal(att.data[0]!.status, 'failed');
    assert.equal(att.data[0]!.setup_error!.decline_code, 'insufficient_funds');
    // chargeCustomerFail sets up fine.
    const ok = await stripe.setupIntents.create({ ...card, payment_method: 'pm_card_chargeCustomerFail', confirm: true });
    assert.equal(ok.status, 'succeeded');
  });

  test('3-D Secure: requires_action, the test page completes it, the card then works off-session', async () => {
    const cus = await stripe.customers.create();
    const si = await stripe.setupIntents.create({ customer: cus.id, ...card, payment_method: 'pm_card_authenticationRequiredOnSetup', confirm: true, return_url: 'https://app.example/saved' });
    assert.equal(si.status, 'requires_action');
    const url = si.next_action!.redirect_to_url!.url!;
    const html = await (await fetch(url)).text();
    const action = /<form id="complete" method="post" action="([^"]+)">/.exec(html)![1]!;
    const res = await fetch(new URL(action, url), { method: 'POST', body: new URLSearchParams({ client_secret: si.client_secret! }), redirect: 'manual', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    assert.equal(res.status, 303);
    const loc = new URL(res.headers.get('location')!);
    assert.equal(loc.searchParams.get('setup_intent'), si.id);
    assert.equal(loc.searchParams.get('setup_intent_client_secret'), si.client_secret);
    assert.equal(loc.searchParams.get('redirect_status'), 'succeeded');
    const done = await stripe.setupIntents.retrieve(si.id);
    assert.equal(done.status, 'succeeded');
    const pi = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd', ...card, customer: cus.id, payment_method: done.payment_method as string, off_session: true, confirm: true });
    assert.equal(pi.status, 'succeeded');
    const failing = await stripe.setupIntents.create({ ...card, payment_method: 'pm_card_authenticationRequired', confirm: true });
    assert.equal(failing.next_action!.type, 'use_stripe_sdk');
    const page = (failing.next_action as any).use_stripe_sdk.stripe_js as string;
    const failAction = /<form id="fail" method="post" action="([^"]+)">/.exec(await (await fetch(page)).text())![1]!;
    await fetch(new URL(failAction, page), { method: 'POST', body: new URLSearchParams({ client_secret: failing.client_secret! }), headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    const failed = await stripe.setupIntents.retrieve(failing.id);
    assert.equal(failed.status, 'requires_payment_method');
    assert.equal(failed.last_setup_error!.code, 'setup_intent_authentication_failure');
  });

  test('cancel, publishable-key retrieve and confirm with client_secret, return_url rule', async () => {
    const key = freshKey(); const s = t.stripe(key); const pk = t.stripe(key.replace('sk_', 'pk_'));
    const a = await s.setupIntents.create({ ...card });
    const c = await s.setupIntents.cancel(a.id, { cancellation_reason: 'abandoned' });
    assert.deepEqual([c.status, c.cancellation_reason], ['canceled', 'abandoned']);
    await rejects(s.setupIntents.confirm(a.id, { payment_method: 'pm_card_visa' }), (e) => assert.equal(e.code, 'setup_intent_unexpected_state'));
    const b = await s.setupIntents.create({});
    await rejects(s.setupIntents.confirm(b.id, { payment_method: 'pm_card_visa' }), (e) => assert.match(e.message, /^A `return_url` must be specified/));
    await rejects(pk.setupIntents.retrieve(b.id), (e) => assert.equal(e.param, 'client_secret'));
    assert.equal((await pk.setupIntents.retrieve(b.id, { client_secret: b.client_secret! })).id, b.id);
    const ok = await pk.setupIntents.confirm(b.id, { client_secret: b.client_secret!, return_url: 'https://x.example', payment_method_data: { type: 'card', card: { number: '4000056655665556', exp_month: 2, exp_year: 2040, cvc: '123' } } } as any);
    assert.equal(ok.status, 'succeeded');
    await rejects(s.setupIntents.retrieve('seti_nope'), (e) => { assert.equal(e.statusCode, 404); assert.equal(e.message, "No such setup_intent: 'seti_nope'"); });
  });
});
