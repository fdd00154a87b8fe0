// What happens around a send_invoice invoice's due date, on a test clock: invoice.sent when
// Stripe emails the invoice (finalized with auto_advance, or /send), invoice.will_be_due before
// and invoice.overdue after the due date (Pinstripe's defaults 7 and 1 days, configurable), the
// customer delinquent and a send_invoice subscription past_due once the due date passes unpaid,
// and nothing of it after the invoice is paid or voided.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Stripe from 'stripe';
import { FrozenClock } from '../src/api/clock.js';
import { configureDueDates, configureSendInvoiceDunning, DEFAULT_OVERDUE_DAYS, DEFAULT_SEND_INVOICE_PAST_DUE_DAYS, DEFAULT_WILL_BE_DUE_DAYS } from '../src/engine/billing/invoices.js';
import { freshKey, startTestServer, type TestServer } from './helpers/server.js';

let t: TestServer;
const T0 = Date.UTC(2026, 4, 1) / 1000;
const DAY = 86_400;
const clock = new FrozenClock(T0);
before(async () => { t = await startTestServer({ clock }); });
after(() => t.close());

interface Ev { type: string; created: number; id: string }
async function events(s: Stripe, objectId?: string): Promise<Ev[]> {
  const all = (await s.events.list({ limit: 100 })).data.reverse();
  return all.filter((e) => !objectId || (e.data.object as any).id === objectId).map((e) => ({ type: e.type, created: e.created, id: (e.data.object as any).id }));
}
const types = (evs: Ev[], prefix = 'invoice.') => evs.filter((e) => e.type.startsWith(prefix)).map((e) => e.type);

async function setup(): Promise<{ s: Stripe; clockId: string; customer: Stripe.Customer }> {
  const s = t.stripe(freshKey());
  const clockId = (await s.testHelpers.testClocks.create({ frozen_time: T0 })).id;
  const customer = await s.customers.create({ email: 'billing@example.com', test_clock: clockId });
  return { s, clockId, customer };
}

async function sendInvoiceDraft(s: Stripe, customer: string, extra: Stripe.InvoiceCreateParams = {}): Promise<Stripe.Invoice> {
  await s.invoiceItems.create({ customer, amount: 5000, currency: 'usd', description: 'Consulting' });
  return s.invoices.create({ customer, collection_method: 'send_invoice', days_until_due: 30, pending_invoice_items_behavior: 'include', ...extra });
}

const advance = (s: Stripe, clockId: string, to: number) => s.testHelpers.testClocks.advance(clockId, { frozen_time: to });

describe('send_invoice invoices around their due date', () => {
  test('defaults: will_be_due 7 days before, delinquent at the due date, overdue 1 day after, each once and in time order', async () => {
    assert.deepEqual(DEFAULT_WILL_BE_DUE_DAYS, [7]);
    assert.deepEqual(DEFAULT_OVERDUE_DAYS, [1]);
    const { s, clockId, customer } = await setup();
    const draft = await sendInvoiceDraft(s, customer.id, { auto_advance: true });
    const due = T0 + 30 * DAY;
    assert.equal(draft.due_date, due);
    // The one-hour draft period, then finalization, and Stripe emails it: invoice.sent.
    await advance(s, clockId, T0 + 2 * 3600);
    const open = await s.invoices.retrieve(draft.id);
    assert.equal(open.status, 'open');
    assert.deepEqual(types(await events(s, draft.id)), ['invoice.created', 'invoice.finalized', 'invoice.sent']);
    const sent = (await events(s, draft.id)).find((e) => e.type === 'invoice.sent')!;
    assert.equal(sent.created, T0 + 3600);

    await advance(s, clockId, due - 7 * DAY - 1);
    assert.equal(types(await events(s, draft.id)).includes('invoice.will_be_due'), false, 'not a second early');
    await advance(s, clockId, due - 1);
    let evs = await events(s, draft.id);
    assert.deepEqual(evs.filter((e) => e.type === 'invoice.will_be_due').map((e) => e.created), [due - 7 * DAY]);
    assert.equal((await s.customers.retrieve(customer.id) as Stripe.Customer).delinquent, false, 'not delinquent before the due date');

    await advance(s, clockId, due);
    assert.equal((await s.customers.retrieve(customer.id) as Stripe.Customer).delinquent, true, 'delinquent once the due date passes unpaid');
    assert.equal(types(await events(s, draft.id)).includes('invoice.overdue'), false);

    await advance(s, clockId, due + 40 * DAY);
    evs = await events(s, draft.id);
    assert.deepEqual(evs.filter((e) => e.type === 'invoice.overdue').map((e) => e.created), [due + DAY]);
    assert.deepEqual(types(evs), ['invoice.created', 'invoice.finalized', 'invoice.sent', 'invoice.will_be_due', 'invoice.overdue']);
    const overdue = (await s.events.list({ type: 'invoice.overdue' })).data[0]!;
    assert.equal((overdue.data.object as Stripe.Invoice).status, 'open');
    assert.equal((overdue.data.object as Stripe.Invoice).due_date, due);
    assert.equal((overdue.data.object as any).confirmation_secret, undefined, 'includable fields stay out of event payloads');
    assert.deepEqual(overdue.request, { id: null, idempotency_key: null }, 'automatic events carry no request');
    // The invoice is still payable; paying it clears delinquent.
    await s.invoices.pay(draft.id, { paid_out_of_band: true });
    assert.equal((await s.customers.retrieve(customer.id) as Stripe.Customer).delinquent, false);
  });

  test('paid before the due date, or voided: no will_be_due, no overdue, not delinquent', async () => {
    const { s, clockId, customer } = await setup();
    const a = await s.invoices.finalizeInvoice((await sendInvoiceDraft(s, customer.id)).id, { auto_advance: true });
    const b = await s.invoices.finalizeInvoice((await sendInvoiceDraft(s, customer.id)).id, { auto_advance: true });
    assert.equal(a.status, 'open');
    await advance(s, clockId, T0 + 10 * DAY);
    await s.invoices.pay(a.id, { paid_out_of_band: true });
    await s.invoices.voidInvoice(b.id);
    await advance(s, clockId, T0 + 60 * DAY);
    const evs = await events(s);
    assert.deepEqual(evs.filter((e) => ['invoice.will_be_due', 'invoice.overdue'].includes(e.type)), []);
    assert.equal((await s.customers.retrieve(customer.id) as Stripe.Customer).delinquent, false);
    // Both were sent on finalization (auto_advance), once each.
    assert.deepEqual(evs.filter((e) => e.type === 'invoice.sent').map((e) => e.id).sort(), [a.id, b.id].sort());
  });

  test('auto_advance false: no email (no invoice.sent, no reminders) until /send, but the due date still passes', async () => {
    const { s, clockId, customer } = await setup();
    const draft = await sendInvoiceDraft(s, customer.id);
    const open = await s.invoices.finalizeInvoice(draft.id, { auto_advance: false });
    assert.equal(open.auto_advance, false);
    assert.deepEqual(types(await events(s, draft.id)), ['invoice.created', 'invoice.finalized']);
    await s.invoices.sendInvoice(draft.id);
    assert.deepEqual(types(await events(s, draft.id)), ['invoice.created', 'invoice.finalized', 'invoice.sent']);
    await advance(s, clockId, T0 + 40 * DAY);
    assert.deepEqual(types(await events(s, draft.id)), ['invoice.created', 'invoice.finalized', 'invoice.sent'],
      'Stripe\'s automation stops when auto_advance is off');
    assert.equal((await s.customers.retrieve(customer.id) as Stripe.Customer).delinquent, true);
  });

  test('/send on a draft finalizes and sends it once; on a charge_automatically draft it is refused', async () => {
    const { s, customer } = await setup();
    const draft = await sendInvoiceDraft(s, customer.id, { auto_advance: true });
    const sent = await s.invoices.sendInvoice(draft.id);
    assert.equal(sent.status, 'open');
    assert.deepEqual(types(await events(s, draft.id)), ['invoice.created', 'invoice.finalized', 'invoice.sent']);
    await s.invoiceItems.create({ customer: customer.id, amount: 700, currency: 'usd' });
    const auto = await s.invoices.create({ customer: customer.id, pending_invoice_items_behavior: 'include' });
    await assert.rejects(s.invoices.sendInvoice(auto.id), (e: any) => e.statusCode === 400 && e.type === 'StripeInvalidRequestError');
    assert.equal((await s.invoices.retrieve(auto.id)).status, 'draft', 'refused before finalizing');
  });

  test('moving the due date moves its events', async () => {
    const { s, clockId, customer } = await setup();
    const open = await s.invoices.finalizeInvoice((await sendInvoiceDraft(s, customer.id)).id, { auto_advance: true });
    const later = T0 + 45 * DAY;
    const updated = await s.invoices.update(open.id, { due_date: later });
    assert.equal(updated.due_date, later);
    await advance(s, clockId, T0 + 35 * DAY);
    assert.deepEqual((await events(s, open.id)).filter((e) => e.type === 'invoice.overdue'), [], 'not overdue against the old due date');
    assert.equal((await s.customers.retrieve(customer.id) as Stripe.Customer).delinquent, false);
    await advance(s, clockId, T0 + 50 * DAY);
    const evs = await events(s, open.id);
    assert.deepEqual(evs.filter((e) => e.type === 'invoice.will_be_due').map((e) => e.created), [later - 7 * DAY]);
    assert.deepEqual(evs.filter((e) => e.type === 'invoice.overdue').map((e) => e.created), [later + DAY]);
  });

  test('configured days (PINSTRIPE_INVOICE_WILL_BE_DUE_DAYS / _OVERDUE_DAYS, configureDueDates): one event per entry', async () => {
    const before = configureDueDates({ willBeDueDays: [3, 1], overdueDays: [0, 5] });
    try {
      const { s, clockId, customer } = await setup();
      const open = await s.invoices.finalizeInvoice((await sendInvoiceDraft(s, customer.id, { days_until_due: 10 })).id, { auto_advance: true });
      const due = open.due_date!;
      await advance(s, clockId, due + 10 * DAY);
      const evs = (await events(s, open.id)).filter((e) => ['invoice.will_be_due', 'invoice.overdue'].includes(e.type));
      assert.deepEqual(evs.map((e) => [e.type, e.created - due]), [
        ['invoice.will_be_due', -3 * DAY], ['invoice.will_be_due', -DAY], ['invoice.overdue', 0], ['invoice.overdue', 5 * DAY],
      ]);
    } finally {
      configureDueDates(before);
    }
  });

  test('a send_invoice subscription goes past_due when its invoice passes the due date unpaid, and active again when paid', async () => {
    const { s, clockId, customer } = await setup();
    const product = await s.products.create({ name: 'Support plan' });
    const price = await s.prices.create({ product: product.id, currency: 'usd', unit_amount: 12_000, recurring: { interval: 'month' } });
    const sub = await s.subscriptions.create({ customer: customer.id, items: [{ price: price.id }], collection_method: 'send_invoice', days_until_due: 7 });
    assert.equal(sub.status, 'active');
    const invId = sub.latest_invoice as string;
    const inv = await s.invoices.retrieve(invId);
    assert.equal(inv.status, 'open');
    assert.equal(inv.due_date, T0 + 7 * DAY);
    assert.ok(types(await events(s, invId)).includes('invoice.sent'), 'a subscription\'s send_invoice invoice is emailed');
    await advance(s, clockId, T0 + 7 * DAY - 1);
    assert.equal((await s.subscriptions.retrieve(sub.id)).status, 'active');
    await advance(s, clockId, T0 + 7 * DAY);
    assert.equal((await s.subscriptions.retrieve(sub.id)).status, 'past_due');
    const updated = (await s.events.list({ type: 'customer.subscription.updated' })).data[0]!;
    assert.equal(updated.created, T0 + 7 * DAY);
    assert.equal((updated.data.object as Stripe.Subscription).status, 'past_due');
    assert.equal((updated.data.previous_attributes as any).status, 'active');
    await s.invoices.pay(invId, { paid_out_of_band: true });
    assert.equal((await s.subscriptions.retrieve(sub.id)).status, 'active');
  });
});

// Stripe's "Manage invoices sent to customers" setting: N days after the due date of an unpaid
// send_invoice invoice, its subscription is canceled, marked unpaid, or left past_due.
describe('send_invoice subscriptions past due for N days (configureSendInvoiceDunning)', () => {
  async function sendInvoiceSub(): Promise<{ s: Stripe; clockId: string; sub: Stripe.Subscription; invId: string }> {
    const { s, clockId, customer } = await setup();
    const product = await s.products.create({ name: 'Support plan' });
    const price = await s.prices.create({ product: product.id, currency: 'usd', unit_amount: 9_000, recurring: { interval: 'month' } });
    const sub = await s.subscriptions.create({ customer: customer.id, items: [{ price: price.id }], collection_method: 'send_invoice', days_until_due: 7 });
    assert.equal(sub.status, 'active');
    return { s, clockId, sub, invId: sub.latest_invoice as string };
  }
  async function withSetting(c: Parameters<typeof configureSendInvoiceDunning>[0], fn: () => Promise<void>): Promise<void> {
    const saved = configureSendInvoiceDunning({});
    configureSendInvoiceDunning(c);
    try { await fn(); } finally { configureSendInvoiceDunning(saved); }
  }

  test('defaults: 30 days, the subscription left past_due', () => {
    const c = configureSendInvoiceDunning({});
    assert.equal(DEFAULT_SEND_INVOICE_PAST_DUE_DAYS, 30);
    assert.deepEqual(c, { pastDueDays: 30, subscriptionAction: 'past_due' });
  });

  test('cancel: past_due at the due date, canceled (payment_failed) N days later', () => withSetting({ pastDueDays: 10, subscriptionAction: 'cancel' }, async () => {
    const { s, clockId, sub, invId } = await sendInvoiceSub();
    await advance(s, clockId, T0 + 17 * DAY - 1);
    assert.equal((await s.subscriptions.retrieve(sub.id)).status, 'past_due');
    assert.equal((await s.events.list({ type: 'customer.subscription.deleted' })).data.length, 0);
    await advance(s, clockId, T0 + 17 * DAY);
    const canceled = await s.subscriptions.retrieve(sub.id);
    assert.equal(canceled.status, 'canceled');
    assert.equal(canceled.canceled_at, T0 + 17 * DAY);
    assert.equal(canceled.ended_at, T0 + 17 * DAY);
    assert.equal(canceled.cancellation_details!.reason, 'payment_failed');
    const deleted = (await s.events.list({ type: 'customer.subscription.deleted' })).data;
    assert.equal(deleted.length, 1);
    assert.equal(deleted[0]!.created, T0 + 17 * DAY);
    assert.equal((await s.invoices.retrieve(invId)).due_date, T0 + 7 * DAY);
  }));

  test('unpaid: past_due, then unpaid N days later, active again once the invoice is paid', () => withSetting({ pastDueDays: 3, subscriptionAction: 'unpaid' }, async () => {
    const { s, clockId, sub, invId } = await sendInvoiceSub();
    await advance(s, clockId, T0 + 7 * DAY);
    assert.equal((await s.subscriptions.retrieve(sub.id)).status, 'past_due');
    await advance(s, clockId, T0 + 10 * DAY);
    assert.equal((await s.subscriptions.retrieve(sub.id)).status, 'unpaid');
    const updated = (await s.events.list({ type: 'customer.subscription.updated' })).data[0]!;
    assert.equal(updated.created, T0 + 10 * DAY);
    assert.equal((updated.data.previous_attributes as any).status, 'past_due');
    assert.equal((await s.invoices.retrieve(invId)).status, 'open', 'the invoice itself stays open');
    await s.invoices.pay(invId, { paid_out_of_band: true });
    assert.equal((await s.subscriptions.retrieve(sub.id)).status, 'active');
  }));

  test('past_due (leave): still past_due after N days; an invoice paid in time, or voided, triggers nothing', () => withSetting({ pastDueDays: 5, subscriptionAction: 'past_due' }, async () => {
    const left = await sendInvoiceSub();
    await advance(left.s, left.clockId, T0 + 20 * DAY);
    assert.equal((await left.s.subscriptions.retrieve(left.sub.id)).status, 'past_due');
    configureSendInvoiceDunning({ subscriptionAction: 'cancel' });
    const paid = await sendInvoiceSub();
    await paid.s.invoices.pay(paid.invId, { paid_out_of_band: true });
    await paid.s.testHelpers.testClocks.advance(paid.clockId, { frozen_time: T0 + 20 * DAY });
    assert.equal((await paid.s.subscriptions.retrieve(paid.sub.id)).status, 'active');
    const voided = await sendInvoiceSub();
    await advance(voided.s, voided.clockId, T0 + 8 * DAY);
    assert.equal((await voided.s.subscriptions.retrieve(voided.sub.id)).status, 'past_due');
    await voided.s.invoices.voidInvoice(voided.invId);
    await advance(voided.s, voided.clockId, T0 + 20 * DAY);
    assert.notEqual((await voided.s.subscriptions.retrieve(voided.sub.id)).status, 'canceled');
  }));
});
