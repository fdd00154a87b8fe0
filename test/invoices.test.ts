// Invoices through the official SDK: the state machine (every transition, refused ones
// included), totals, balance, numbering, payments and dunning.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Stripe from 'stripe';
import { FrozenClock } from '../src/api/clock.js';
import { freshKey, startTestServer, type TestServer } from './helpers/server.js';
import { rejects } from './helpers/errors.js';

let t: TestServer;
const T0 = 1_760_000_000;
const clock = new FrozenClock(T0);
before(async () => { t = await startTestServer({ clock }); });
after(() => t.close());

const account = () => t.stripe(freshKey());

async function eventTypes(s: Stripe, prefix = 'invoice'): Promise<string[]> {
  return (await s.events.list({ limit: 100 })).data.map((e) => e.type).filter((x) => x.startsWith(prefix)).reverse();
}

async function customerWithCard(s: Stripe, pm = 'pm_card_visa', extra: Stripe.CustomerCreateParams = {}): Promise<Stripe.Customer> {
  const c = await s.customers.create({ email: 'a@example.com', ...extra });
  const attached = await s.paymentMethods.attach(pm, { customer: c.id });
  return s.customers.update(c.id, { invoice_settings: { default_payment_method: attached.id } });
}

describe('invoices', () => {
  test('draft → open → paid: pending items pulled in, numbering, URLs, events in order', async () => {
    const s = account();
    const c = await customerWithCard(s);
    const ii = await s.invoiceItems.create({ customer: c.id, amount: 2000, currency: 'usd', description: 'Setup fee' });
    assert.equal(ii.object, 'invoiceitem');
    assert.equal(ii.invoice, null);
    const draft = await s.invoices.create({ customer: c.id, pending_invoice_items_behavior: 'include' });
    assert.equal(draft.status, 'draft');
    assert.equal(draft.number, null);
    assert.equal(draft.hosted_invoice_url, null);
    assert.equal(draft.total, 2000);
    assert.equal(draft.amount_due, 2000);
    assert.equal(draft.lines.data.length, 1);
    assert.equal(draft.lines.data[0]!.parent!.invoice_item_details!.invoice_item, ii.id);
    assert.equal((await s.invoiceItems.retrieve(ii.id)).invoice, draft.id);
    const open = await s.invoices.finalizeInvoice(draft.id);
    assert.equal(open.status, 'open');
    assert.equal(open.number, `${c.invoice_prefix}-0001`);
    assert.match(open.hosted_invoice_url!, new RegExp(`/pinstripe/invoices/.+/test/${open.id}$`));
    assert.equal(open.invoice_pdf, `${open.hosted_invoice_url}/pdf`);
    assert.equal((await s.customers.retrieve(c.id) as Stripe.Customer).next_invoice_sequence, 2);
    const paid = await s.invoices.pay(open.id);
    assert.equal(paid.status, 'paid');
    assert.equal(paid.amount_paid, 2000);
    assert.equal(paid.amount_remaining, 0);
    assert.equal(paid.attempt_count, 1);
    assert.deepEqual(await eventTypes(s), ['invoiceitem.created', 'invoice.created', 'invoice.finalized', 'invoice_payment.paid', 'invoice.updated', 'invoice.paid', 'invoice.payment_succeeded']);
    const withPayments = await s.invoices.retrieve(open.id, { expand: ['payments'] });
    assert.equal(withPayments.payments!.data.length, 1);
    assert.equal(withPayments.payments!.data[0]!.status, 'paid');
  });
});
