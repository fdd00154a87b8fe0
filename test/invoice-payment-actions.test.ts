// Invoice payments failing on the customer's side, and off-session attempts that need 3-D Secure.
//  - A customer's own attempt on an invoice's PaymentIntent (Stripe.js confirming the invoice's
//    confirmation_secret with a declining card, failing the 3-D Secure page) records the attempt:
//    invoice.payment_failed, the invoice open, no automatic retry from it.
//  - An automatic (off-session) attempt with a card that needs authentication leaves the invoice's
//    PaymentIntent requires_action (Stripe Billing's SCA behaviour): invoice.payment_failed and
//    invoice.payment_action_required, a renewal's subscription past_due; the customer then
//    authenticates on-session and the invoice is paid, the subscription active again.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Stripe from 'stripe';
import { FrozenClock } from '../src/api/clock.js';
import { freshKey, startTestServer, type TestServer } from './helpers/server.js';
import { submitThreeDSPage } from './helpers/three-ds-page.js';

let t: TestServer;
const T0 = Date.UTC(2026, 5, 1) / 1000; // 1 June 2026
const DAY = 86_400;
const clock = new FrozenClock(T0);
before(async () => { t = await startTestServer({ clock }); });
after(() => t.close());

interface Setup { s: Stripe; pk: Stripe; clockId: string; customer: Stripe.Customer; price: Stripe.Price }

async function setup(pm: string | null): Promise<Setup> {
  const key = freshKey();
  const s = t.stripe(key);
  const pk = t.stripe(key.replace('sk_', 'pk_'));
  const clockId = (await s.testHelpers.testClocks.create({ frozen_time: T0 })).id;
  const customer = await s.customers.create({ test_clock: clockId, ...(pm ? { payment_method: pm, invoice_settings: { default_payment_method: pm } } : {}) });
  const product = await s.products.create({ name: 'Pro' });
  const price = await s.prices.create({ product: product.id, currency: 'usd', unit_amount: 2000, recurring: { interval: 'month' } });
  return { s, pk, clockId, customer, price };
}

const eventTypes = async (s: Stripe) => (await s.events.list({ limit: 100 })).data.map((e) => e.type).reverse();
const count = async (s: Stripe, type: string) => (await s.events.list({ type, limit: 100 })).data.length;

async function submit(url: string, which: 'complete' | 'fail'): Promise<void> {
  const posted = await submitThreeDSPage(url, which);
  assert.ok(posted.status === 200 || posted.status === 303, `the page answered ${posted.status}`);
}

async function intentOf(s: Stripe, invoiceId: string): Promise<Stripe.PaymentIntent> {
  const inv = await s.invoices.retrieve(invoiceId, { expand: ['payments'] });
  return s.paymentIntents.retrieve((inv.payments!.data[0]!.payment as any).payment_intent as string);
}

/** An active monthly subscription whose first invoice the customer paid (3-D Secure cards authenticate on the page). */
async function activeSubscription(x: Setup): Promise<Stripe.Subscription> {
  const sub = await x.s.subscriptions.create({ customer: x.customer.id, items: [{ price: x.price.id }] });
  if (sub.status === 'incomplete') {
    const pi = await intentOf(x.s, sub.latest_invoice as string);
    assert.equal(pi.status, 'requires_action');
    await submit((pi.next_action as any).use_stripe_sdk.stripe_js, 'complete');
  }
  const active = await x.s.subscriptions.retrieve(sub.id);
  assert.equal(active.status, 'active');
  return active;
}

/** Advances past the first renewal (1 July) and its one-hour draft period. */
async function renew(x: Setup, sub: Stripe.Subscription): Promise<Stripe.Invoice> {
  await x.s.testHelpers.testClocks.advance(x.clockId, { frozen_time: T0 + 30 * DAY + 2 * 3600 });
  const renewed = await x.s.subscriptions.retrieve(sub.id);
  assert.notEqual(renewed.latest_invoice, sub.latest_invoice);
  return x.s.invoices.retrieve(renewed.latest_invoice as string);
}

describe('invoice.payment_failed for a failure on the customer\'s side', () => {
  test('Stripe.js confirms the confirmation_secret with a declining card: invoice.payment_failed, invoice open, no retry', async () => {
    const { s, pk, customer, price } = await setup(null);
    const sub = await s.subscriptions.create({ customer: customer.id, items: [{ price: price.id }], payment_behavior: 'default_incomplete', expand: ['latest_invoice.confirmation_secret'] });
    const inv = sub.latest_invoice as Stripe.Invoice;
    assert.equal(inv.attempt_count, 0);
    const secret = inv.confirmation_secret!.client_secret;
    const piId = secret.split('_secret_')[0]!;
    const before = (await eventTypes(s)).length;
    await assert.rejects(pk.paymentIntents.confirm(piId, { client_secret: secret, payment_method: 'pm_card_chargeDeclined' } as any),
      (e: any) => e.statusCode === 402 && e.code === 'card_declined');
    const types = (await eventTypes(s)).slice(before).filter((x) => !x.startsWith('charge.'));
    assert.deepEqual(types, ['payment_intent.payment_failed', 'invoice.updated', 'invoice.payment_failed']);
    const failed = (await s.events.list({ type: 'invoice.payment_failed' })).data[0]!;
    const open = failed.data.object as Stripe.Invoice;
    assert.equal(open.id, inv.id);
    assert.equal(open.status, 'open');
    assert.equal(open.attempted, true);
    assert.equal(open.attempt_count, 1);
    assert.equal(open.next_payment_attempt, null, 'a customer\'s own attempt schedules no retry');
    assert.equal((await s.subscriptions.retrieve(sub.id)).status, 'incomplete');
    assert.equal((await s.customers.retrieve(customer.id) as Stripe.Customer).delinquent, false, 'only automatic failures make the customer delinquent');
    // A second declined attempt: another event; the count stays at the first attempt.
    await assert.rejects(pk.paymentIntents.confirm(piId, { client_secret: secret, payment_method: 'pm_card_visa_chargeDeclinedInsufficientFunds' } as any), (e: any) => e.statusCode === 402);
    assert.equal(await count(s, 'invoice.payment_failed'), 2);
    assert.equal((await s.invoices.retrieve(inv.id)).attempt_count, 1);
    // Then a good card pays it.
    await pk.paymentIntents.confirm(piId, { client_secret: secret, payment_method: 'pm_card_visa' } as any);
    assert.equal((await s.invoices.retrieve(inv.id)).status, 'paid');
    assert.equal((await s.subscriptions.retrieve(sub.id)).status, 'active');
  });

  test('failing the 3-D Secure page: invoice.payment_failed once more, invoice open, subscription still incomplete', async () => {
    const { s, customer, price } = await setup('pm_card_authenticationRequired');
    const sub = await s.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
    assert.equal(sub.status, 'incomplete');
    assert.equal(await count(s, 'invoice.payment_action_required'), 1);
    assert.equal(await count(s, 'invoice.payment_failed'), 1, 'the on-session attempt that needed action');
    const pi = await intentOf(s, sub.latest_invoice as string);
    const before = (await eventTypes(s)).length;
    await submit((pi.next_action as any).use_stripe_sdk.stripe_js, 'fail');
    assert.deepEqual((await eventTypes(s)).slice(before), ['payment_intent.payment_failed', 'invoice.updated', 'invoice.payment_failed']);
    const inv = await s.invoices.retrieve(sub.latest_invoice as string);
    assert.equal(inv.status, 'open');
    assert.equal(inv.attempt_count, 1);
    assert.equal((await s.subscriptions.retrieve(sub.id)).status, 'incomplete');
  });

  test('a plain PaymentIntent (no invoice) failing emits no invoice event', async () => {
    const { s, customer } = await setup(null);
    await assert.rejects(s.paymentIntents.create({ amount: 500, currency: 'usd', customer: customer.id, payment_method: 'pm_card_chargeDeclined', confirm: true, automatic_payment_methods: { enabled: true, allow_redirects: 'never' } }), (e: any) => e.statusCode === 402);
    assert.equal(await count(s, 'invoice.payment_failed'), 0);
  });
});

describe('off-session invoice payments with 3-D Secure cards', () => {
  for (const card of ['pm_card_authenticationRequired', 'pm_card_threeDSecure2Required']) {
    test(`renewal with ${card}: requires_action, payment_action_required, past_due; authenticating pays and reactivates`, async () => {
      const x = await setup(card);
      const sub = await activeSubscription(x);
      const before = (await eventTypes(x.s)).length;
      const inv = await renew(x, sub);
      assert.equal(inv.billing_reason, 'subscription_cycle');
      assert.equal(inv.status, 'open');
      assert.equal(inv.attempt_count, 1);
      assert.equal(inv.attempted, true);
      assert.ok(inv.next_payment_attempt! > inv.status_transitions.finalized_at!, 'the retry schedule stands');
      const pi = await intentOf(x.s, inv.id);
      assert.equal(pi.status, 'requires_action', 'not declined: Billing leaves the intent for the customer to authenticate');
      assert.ok(pi.payment_method, 'the payment method stays on the intent');
      assert.equal(pi.last_payment_error, null);
      assert.equal((pi.next_action as any).type, 'use_stripe_sdk');
      const types = (await eventTypes(x.s)).slice(before);
      const i = types.indexOf('payment_intent.requires_action');
      assert.ok(i >= 0, 'payment_intent.requires_action');
      assert.ok(types.indexOf('invoice.payment_failed') > i);
      assert.ok(types.indexOf('invoice.payment_action_required') > types.indexOf('invoice.payment_failed'));
      const past = await x.s.subscriptions.retrieve(sub.id);
      assert.equal(past.status, 'past_due');
      const action = (await x.s.events.list({ type: 'invoice.payment_action_required' })).data[0]!;
      assert.equal((action.data.object as Stripe.Invoice).id, inv.id);
      assert.equal(action.created, inv.status_transitions.finalized_at);
      // The customer authenticates on-session (the 3-D Secure page): paid, active.
      await submit((pi.next_action as any).use_stripe_sdk.stripe_js, 'complete');
      const paid = await x.s.invoices.retrieve(inv.id);
      assert.equal(paid.status, 'paid');
      assert.equal(paid.next_payment_attempt, null);
      assert.equal((await x.s.subscriptions.retrieve(sub.id)).status, 'active');
      assert.equal((await x.s.customers.retrieve(x.customer.id) as Stripe.Customer).delinquent, false);
    });
  }

  test('confirming the requires_action intent again on-session, then 3-D Secure, pays the invoice', async () => {
    const x = await setup('pm_card_authenticationRequired');
    const sub = await activeSubscription(x);
    const inv = await renew(x, sub);
    const pi = await intentOf(x.s, inv.id);
    const again = await x.s.paymentIntents.confirm(pi.id, { return_url: 'https://example.com/back' });
    assert.equal(again.status, 'requires_action');
    assert.equal((again.next_action as any).type, 'redirect_to_url');
    await submit((again.next_action as any).redirect_to_url.url, 'complete');
    assert.equal((await x.s.invoices.retrieve(inv.id)).status, 'paid');
    assert.equal((await x.s.subscriptions.retrieve(sub.id)).status, 'active');
  });

  test('a retry before the customer authenticates asks again; failing 3-D Secure is another invoice.payment_failed', async () => {
    const x = await setup('pm_card_authenticationRequired');
    const sub = await activeSubscription(x);
    const inv = await renew(x, sub);
    await x.s.testHelpers.testClocks.advance(x.clockId, { frozen_time: inv.next_payment_attempt! });
    const retried = await x.s.invoices.retrieve(inv.id);
    assert.equal(retried.attempt_count, 2);
    assert.equal(retried.status, 'open');
    const pi = await intentOf(x.s, inv.id);
    assert.equal(pi.status, 'requires_action');
    assert.equal(await count(x.s, 'invoice.payment_action_required'), 3, 'first invoice (on-session), renewal, retry');
    const failedBefore = await count(x.s, 'invoice.payment_failed');
    await submit((pi.next_action as any).use_stripe_sdk.stripe_js, 'fail');
    assert.equal(await count(x.s, 'invoice.payment_failed'), failedBefore + 1);
    assert.equal((await x.s.invoices.retrieve(inv.id)).attempt_count, 2, 'the customer\'s attempt does not count as a retry');
    assert.equal((await x.s.subscriptions.retrieve(sub.id)).status, 'past_due');
  });

  test('a one-off auto_advance invoice charged off-session with a 3-D Secure card requires action, then is paid on the page', async () => {
    const x = await setup('pm_card_threeDSecure2Required');
    await x.s.invoiceItems.create({ customer: x.customer.id, amount: 3100, currency: 'usd' });
    const draft = await x.s.invoices.create({ customer: x.customer.id, pending_invoice_items_behavior: 'include', auto_advance: true });
    await x.s.testHelpers.testClocks.advance(x.clockId, { frozen_time: T0 + 2 * 3600 });
    const open = await x.s.invoices.retrieve(draft.id);
    assert.equal(open.status, 'open');
    assert.equal(open.attempt_count, 1);
    assert.equal(await count(x.s, 'invoice.payment_action_required'), 1);
    const pi = await intentOf(x.s, draft.id);
    assert.equal(pi.status, 'requires_action');
    await submit((pi.next_action as any).use_stripe_sdk.stripe_js, 'complete');
    assert.equal((await x.s.invoices.retrieve(draft.id)).status, 'paid');
  });

  test('a card that just declines off-session still declines (requires_payment_method, no action required)', async () => {
    const x = await setup('pm_card_visa');
    const sub = await activeSubscription(x);
    const declining = await x.s.paymentMethods.attach('pm_card_chargeCustomerFail', { customer: x.customer.id });
    await x.s.customers.update(x.customer.id, { invoice_settings: { default_payment_method: declining.id } });
    const inv = await renew(x, sub);
    const pi = await intentOf(x.s, inv.id);
    assert.equal(pi.status, 'requires_payment_method');
    assert.equal(pi.last_payment_error!.code, 'card_declined');
    assert.equal(await count(x.s, 'invoice.payment_action_required'), 0);
    assert.equal((await x.s.subscriptions.retrieve(sub.id)).status, 'past_due');
  });
});

describe('POST /v1/invoices/{id}/pay off-session with a card that needs authentication', () => {
  const MESSAGE = 'This payment requires additional user action before it can be completed successfully. Payment can be completed using the PaymentIntent associated with the invoice. For more details see https://stripe.com/docs/billing/subscriptions/overview#requires-action';
  for (const card of ['pm_card_authenticationRequired', 'pm_card_threeDSecure2Required']) {
    test(`${card}: 402 invoice_payment_intent_requires_action, the intent requires_action, then paid on the 3-D Secure page`, async () => {
      const x = await setup(card);
      await x.s.invoiceItems.create({ customer: x.customer.id, amount: 4200, currency: 'usd' });
      const draft = await x.s.invoices.create({ customer: x.customer.id, pending_invoice_items_behavior: 'include', auto_advance: false });
      const open = await x.s.invoices.finalizeInvoice(draft.id);
      assert.equal(open.status, 'open');
      const before = (await eventTypes(x.s)).length;
      let caught: any;
      await assert.rejects(x.s.invoices.pay(open.id), (e: any) => { caught = e; return true; });
      assert.ok(caught instanceof Stripe.errors.StripeCardError, `a card error, got ${caught?.type}`);
      assert.equal(caught.statusCode, 402);
      assert.equal(caught.type, 'StripeCardError');
      assert.equal(caught.code, 'invoice_payment_intent_requires_action');
      assert.equal(caught.message, MESSAGE);
      assert.equal(caught.doc_url, 'https://stripe.com/docs/error-codes/invoice-payment-intent-requires-action');
      assert.equal((caught.raw as any).decline_code, undefined);
      assert.equal((caught.raw as any).payment_intent.status, 'requires_action');
      const pi = await intentOf(x.s, open.id);
      assert.equal((caught.raw as any).payment_intent.id, pi.id);
      assert.equal(pi.status, 'requires_action', 'not requires_payment_method: the customer can authenticate');
      assert.ok(pi.payment_method);
      assert.equal(pi.last_payment_error, null);
      assert.equal((pi.next_action as any).type, 'use_stripe_sdk');
      const types = (await eventTypes(x.s)).slice(before);
      assert.ok(types.includes('payment_intent.requires_action'));
      assert.ok(types.indexOf('invoice.payment_action_required') > types.indexOf('invoice.payment_failed'));
      assert.ok(types.indexOf('invoice.payment_failed') >= 0);
      const after = await x.s.invoices.retrieve(open.id);
      assert.equal(after.status, 'open');
      assert.equal(after.attempt_count, 1);
      assert.equal(after.attempted, true);
      assert.equal(after.next_payment_attempt, null, 'an API attempt schedules no retry');
      // Paying again while the intent waits for the customer asks again.
      await assert.rejects(x.s.invoices.pay(open.id), (e: any) => e.code === 'invoice_payment_intent_requires_action');
      assert.equal(await count(x.s, 'invoice.payment_action_required'), 2);
      assert.equal((await intentOf(x.s, open.id)).status, 'requires_action');
      // The customer authenticates: the invoice is paid.
      await submit(((await intentOf(x.s, open.id)).next_action as any).use_stripe_sdk.stripe_js, 'complete');
      assert.equal((await x.s.invoices.retrieve(open.id)).status, 'paid');
    });
  }

  test('payment_method given to /pay: the same error, that card on the requires_action intent', async () => {
    const x = await setup('pm_card_visa');
    const tds = await x.s.paymentMethods.attach('pm_card_authenticationRequired', { customer: x.customer.id });
    await x.s.invoiceItems.create({ customer: x.customer.id, amount: 1500, currency: 'usd' });
    const inv = await x.s.invoices.create({ customer: x.customer.id, pending_invoice_items_behavior: 'include', auto_advance: false });
    await assert.rejects(x.s.invoices.pay(inv.id, { payment_method: tds.id }), (e: any) => e.statusCode === 402 && e.code === 'invoice_payment_intent_requires_action');
    const pi = await intentOf(x.s, inv.id);
    assert.equal(pi.status, 'requires_action');
    assert.equal(pi.payment_method, tds.id);
    assert.equal((await x.s.invoices.retrieve(inv.id)).status, 'open', 'the draft was finalized by /pay');
    // A plain decline through /pay stays a card_declined error.
    const x2 = await setup('pm_card_visa');
    const declining = await x2.s.paymentMethods.attach('pm_card_chargeCustomerFail', { customer: x2.customer.id });
    await x2.s.invoiceItems.create({ customer: x2.customer.id, amount: 1500, currency: 'usd' });
    const inv2 = await x2.s.invoices.create({ customer: x2.customer.id, pending_invoice_items_behavior: 'include', auto_advance: false });
    await assert.rejects(x2.s.invoices.pay(inv2.id, { payment_method: declining.id }), (e: any) => e.statusCode === 402 && e.code === 'card_declined');
    assert.equal((await intentOf(x2.s, inv2.id)).status, 'requires_payment_method');
    assert.equal(await count(x2.s, 'invoice.payment_action_required'), 0);
  });
});
