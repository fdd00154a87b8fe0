// An invoice's PaymentIntent succeeding outside invoices.pay: the customer confirms it with
// Stripe.js (publishable key + the invoice's confirmation_secret) or completes 3-D Secure on the
// test page after an attempt required action. As on Stripe, the invoice becomes paid in the same
// moment (invoice_payment.paid, invoice.paid, invoice.payment_succeeded) and the subscription
// active; failing authentication leaves the invoice open.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Stripe from 'stripe';
import { FrozenClock } from '../src/api/clock.js';
import { freshKey, startTestServer, type TestServer } from './helpers/server.js';
import { submitThreeDSPage } from './helpers/three-ds-page.js';

let t: TestServer;
const T0 = Date.UTC(2026, 3, 1) / 1000;
const clock = new FrozenClock(T0);
before(async () => { t = await startTestServer({ clock }); });
after(() => t.close());

interface Setup { key: string; s: Stripe; pk: Stripe; customer: Stripe.Customer; price: Stripe.Price }

async function setup(pm: string | null): Promise<Setup> {
  const key = freshKey();
  const s = t.stripe(key);
  const pk = t.stripe(key.replace('sk_', 'pk_'));
  const clockId = (await s.testHelpers.testClocks.create({ frozen_time: T0 })).id;
  const customer = await s.customers.create({ test_clock: clockId, ...(pm ? { payment_method: pm, invoice_settings: { default_payment_method: pm } } : {}) });
  const product = await s.products.create({ name: 'Basic' });
  const price = await s.prices.create({ product: product.id, currency: 'usd', unit_amount: 1000, recurring: { interval: 'month' } });
  return { key, s, pk, customer, price };
}

const eventTypes = async (s: Stripe) => (await s.events.list({ limit: 100 })).data.map((e) => e.type).reverse();

/** Loads the 3-D Secure page, submits its Complete or Fail form (redirects not followed). */
const submit = submitThreeDSPage;

async function paymentIntentOf(s: Stripe, invoiceId: string): Promise<{ payment: Stripe.InvoicePayment; pi: Stripe.PaymentIntent }> {
  const inv = await s.invoices.retrieve(invoiceId, { expand: ['payments'] });
  const payment = inv.payments!.data[0]!;
  return { payment, pi: await s.paymentIntents.retrieve((payment.payment as any).payment_intent as string) };
}

function assertPaid(inv: Stripe.Invoice, attempts: number): void {
  assert.equal(inv.status, 'paid');
  assert.equal(inv.amount_paid, 1000);
  assert.equal(inv.amount_remaining, 0);
  assert.equal(inv.attempted, true);
  assert.equal(inv.attempt_count, attempts);
  assert.equal(inv.status_transitions.paid_at, T0, 'paid at the customer\'s test clock time');
  assert.equal(inv.next_payment_attempt, null);
}

describe('invoices paid by confirming their PaymentIntent outside invoices.pay', () => {
  test('default_incomplete: Stripe.js confirms latest_invoice.confirmation_secret → invoice paid, subscription active', async () => {
    const { s, pk, customer, price } = await setup(null);
    const sub = await s.subscriptions.create({
      customer: customer.id, items: [{ price: price.id }], payment_behavior: 'default_incomplete', expand: ['latest_invoice.confirmation_secret'],
    });
    assert.equal(sub.status, 'incomplete');
    const inv = sub.latest_invoice as Stripe.Invoice;
    assert.equal(inv.status, 'open');
    assert.equal(inv.attempt_count, 0);
    const secret = inv.confirmation_secret!.client_secret;
    const piId = secret.split('_secret_')[0]!;
    const before = (await eventTypes(s)).length;
    const confirmed = await pk.paymentIntents.confirm(piId, { client_secret: secret, payment_method: 'pm_card_visa' } as any);
    assert.equal(confirmed.status, 'succeeded');
    assert.equal((confirmed as any).customer, undefined, 'the publishable view');
    const paid = await s.invoices.retrieve(inv.id);
    assertPaid(paid, 1);
    const { payment } = await paymentIntentOf(s, inv.id);
    assert.equal(payment.status, 'paid');
    assert.equal(payment.amount_paid, 1000);
    assert.equal(payment.status_transitions.paid_at, T0);
    const active = await s.subscriptions.retrieve(sub.id);
    assert.equal(active.status, 'active');
    const types = (await eventTypes(s)).slice(before);
    assert.deepEqual(types.filter((x) => !x.startsWith('charge.') && x !== 'payment_method.attached' && x !== 'customer.updated'), [
      'payment_intent.succeeded', 'invoice_payment.paid', 'invoice.updated', 'invoice.paid', 'invoice.payment_succeeded', 'customer.subscription.updated',
    ]);
    const updated = (await s.events.list({ type: 'customer.subscription.updated', limit: 1 })).data[0]!;
    assert.equal((updated.data.object as Stripe.Subscription).status, 'active');
    assert.equal((updated.data.previous_attributes as any).status, 'incomplete');
    // Settled once: invoices.pay now refuses, and no second invoice.paid exists.
    await assert.rejects(s.invoices.pay(inv.id), (e: any) => e.statusCode === 400 && /already paid/i.test(e.message));
    assert.equal((await s.events.list({ type: 'invoice.paid' })).data.length, 1);
  });

  test('a declined Stripe.js confirmation leaves the invoice open and the subscription incomplete', async () => {
    const { s, pk, customer, price } = await setup(null);
    const sub = await s.subscriptions.create({ customer: customer.id, items: [{ price: price.id }], payment_behavior: 'default_incomplete', expand: ['latest_invoice.confirmation_secret'] });
    const inv = sub.latest_invoice as Stripe.Invoice;
    const secret = inv.confirmation_secret!.client_secret;
    await assert.rejects(pk.paymentIntents.confirm(secret.split('_secret_')[0]!, { client_secret: secret, payment_method: 'pm_card_chargeDeclined' } as any), (e: any) => e.statusCode === 402);
    assert.equal((await s.invoices.retrieve(inv.id)).status, 'open');
    assert.equal((await s.subscriptions.retrieve(sub.id)).status, 'incomplete');
    assert.equal((await s.events.list({ type: 'invoice.paid' })).data.length, 0);
    // Then a good card through Stripe.js pays it.
    const ok = await pk.paymentIntents.confirm(secret.split('_secret_')[0]!, { client_secret: secret, payment_method: 'pm_card_visa' } as any);
    assert.equal(ok.status, 'succeeded');
    assert.equal((await s.invoices.retrieve(inv.id)).status, 'paid');
    assert.equal((await s.subscriptions.retrieve(sub.id)).status, 'active');
  });

  test('3-D Secure card: the attempt requires action; completing the test page pays the invoice and activates the subscription', async () => {
    const { s, customer, price } = await setup('pm_card_authenticationRequired');
    const sub = await s.subscriptions.create({ customer: customer.id, items: [{ price: price.id }], expand: ['latest_invoice'] });
    assert.equal(sub.status, 'incomplete');
    const inv = sub.latest_invoice as Stripe.Invoice;
    assert.equal(inv.status, 'open');
    assert.equal(inv.attempt_count, 1);
    const { pi } = await paymentIntentOf(s, inv.id);
    assert.equal(pi.status, 'requires_action');
    const before = (await eventTypes(s)).length;
    const res = await submit((pi.next_action as any).use_stripe_sdk.stripe_js, 'complete');
    assert.equal(res.status, 200);
    assert.equal((await s.paymentIntents.retrieve(pi.id)).status, 'succeeded');
    assertPaid(await s.invoices.retrieve(inv.id), 1);
    assert.equal((await s.subscriptions.retrieve(sub.id)).status, 'active');
    const types = (await eventTypes(s)).slice(before);
    assert.deepEqual(types.filter((x) => !x.startsWith('charge.') && x !== 'customer.updated'), [
      'payment_intent.succeeded', 'invoice_payment.paid', 'invoice.updated', 'invoice.paid', 'invoice.payment_succeeded', 'customer.subscription.updated',
    ]);
  });

  test('3-D Secure failed on the test page: the invoice stays open, the subscription incomplete, then a new card pays it', async () => {
    const { s, customer, price } = await setup('pm_card_authenticationRequired');
    const sub = await s.subscriptions.create({ customer: customer.id, items: [{ price: price.id }], expand: ['latest_invoice'] });
    const inv = sub.latest_invoice as Stripe.Invoice;
    const { pi } = await paymentIntentOf(s, inv.id);
    const res = await submit((pi.next_action as any).use_stripe_sdk.stripe_js, 'fail');
    assert.equal(res.status, 200);
    const failed = await s.paymentIntents.retrieve(pi.id);
    assert.equal(failed.status, 'requires_payment_method');
    assert.equal(failed.last_payment_error!.code, 'payment_intent_authentication_failure');
    const open = await s.invoices.retrieve(inv.id);
    assert.equal(open.status, 'open');
    assert.equal(open.attempt_count, 1);
    assert.equal(open.attempted, true);
    assert.equal((await s.subscriptions.retrieve(sub.id)).status, 'incomplete');
    assert.equal((await s.events.list({ type: 'invoice.paid' })).data.length, 0);
    const paid = await s.invoices.pay(inv.id, { payment_method: 'pm_card_visa' });
    assert.equal(paid.status, 'paid');
    assert.equal(paid.attempt_count, 2);
    assert.equal((await s.subscriptions.retrieve(sub.id)).status, 'active');
    assert.equal((await s.events.list({ type: 'invoice.paid' })).data.length, 1);
  });

  test('a standalone invoice paid with invoices.pay (off_session false) needing 3-D Secure is paid when the page completes', async () => {
    const { s, customer } = await setup('pm_card_authenticationRequired');
    await s.invoiceItems.create({ customer: customer.id, amount: 1000, currency: 'usd' });
    const draft = await s.invoices.create({ customer: customer.id, pending_invoice_items_behavior: 'include' });
    await s.invoices.finalizeInvoice(draft.id, { auto_advance: false });
    const open = await s.invoices.pay(draft.id, { off_session: false });
    assert.equal(open.status, 'open');
    const { pi } = await paymentIntentOf(s, draft.id);
    assert.equal(pi.status, 'requires_action');
    await submit((pi.next_action as any).use_stripe_sdk.stripe_js, 'complete');
    assertPaid(await s.invoices.retrieve(draft.id), 1);
    assert.equal((await s.events.list({ type: 'invoice.payment_succeeded' })).data.length, 1);
    assert.equal((await s.events.list({ type: 'invoice_payment.paid' })).data.length, 1);
  });

  test('invoices.pay confirming the PaymentIntent itself settles the invoice once', async () => {
    const { s, customer, price } = await setup('pm_card_visa');
    const sub = await s.subscriptions.create({ customer: customer.id, items: [{ price: price.id }], expand: ['latest_invoice'] });
    assert.equal(sub.status, 'active');
    const inv = sub.latest_invoice as Stripe.Invoice;
    assertPaid(await s.invoices.retrieve(inv.id), 1);
    for (const type of ['invoice.paid', 'invoice.payment_succeeded', 'invoice_payment.paid']) {
      assert.equal((await s.events.list({ type: type as any })).data.length, 1, type);
    }
  });
});
