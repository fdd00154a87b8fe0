// Invoices through the official SDK: the state machine (every transition, refused ones
// included), totals against hand-computed examples, balance, numbering, payments, dunning.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Stripe from 'stripe';
import { FrozenClock } from '../src/api/clock.js';
import { configureDunning, registerInvoiceListener, DEFAULT_RETRY_DAYS } from '../src/engine/billing/invoices.js';
import { freshKey, startTestServer, type TestServer } from './helpers/server.js';
import { rejects } from './helpers/errors.js';

let t: TestServer;
const T0 = 1_760_000_000;
const DAY = 86_400;
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

async function draftWith(s: Stripe, customer: string, amounts: number[], extra: Stripe.InvoiceCreateParams = {}): Promise<Stripe.Invoice> {
  for (const a of amounts) await s.invoiceItems.create({ customer, amount: a, currency: 'usd', description: `item ${a}` });
  return s.invoices.create({ customer, pending_invoice_items_behavior: 'include', ...extra });
}

describe('invoices: lifecycle', () => {
  test('draft → open → paid: pending items pulled in, numbering, URLs, payments, events in order', async () => {
    const s = account();
    const c = await customerWithCard(s);
    const ii = await s.invoiceItems.create({ customer: c.id, amount: 2000, currency: 'usd', description: 'Setup fee' });
    assert.equal(ii.invoice, null);
    const draft = await s.invoices.create({ customer: c.id, pending_invoice_items_behavior: 'include' });
    assert.equal(draft.object, 'invoice');
    assert.match(draft.id, /^in_/);
    assert.equal(draft.status, 'draft');
    assert.equal(draft.billing_reason, 'manual');
    assert.equal(draft.number, null);
    assert.equal(draft.hosted_invoice_url, null);
    assert.equal(draft.invoice_pdf, null);
    assert.equal(draft.auto_advance, false);
    assert.equal(draft.total, 2000);
    assert.equal(draft.amount_due, 2000);
    assert.equal(draft.lines.data.length, 1);
    const line = draft.lines.data[0]!;
    assert.equal(line.object, 'line_item');
    assert.equal(line.parent!.type, 'invoice_item_details');
    assert.equal(line.parent!.invoice_item_details!.invoice_item, ii.id);
    assert.equal(line.amount, 2000);
    assert.equal(line.subtotal, 2000);
    assert.equal((draft as any).payment_intent, undefined, 'no top-level payment_intent in the current version');
    assert.equal((await s.invoiceItems.retrieve(ii.id)).invoice, draft.id);
    const open = await s.invoices.finalizeInvoice(draft.id);
    assert.equal(open.status, 'open');
    assert.equal(open.number, `${c.invoice_prefix}-0001`);
    assert.match(open.hosted_invoice_url!, new RegExp(`/pinstripe/invoices/acct_[^/]+/test/${open.id}$`));
    assert.equal(open.invoice_pdf, `${open.hosted_invoice_url}/pdf`);
    assert.equal(open.status_transitions.finalized_at, T0);
    assert.equal((await s.customers.retrieve(c.id) as Stripe.Customer).next_invoice_sequence, 2);
    const withSecret = await s.invoices.retrieve(open.id, { expand: ['confirmation_secret', 'payments'] });
    assert.equal(withSecret.confirmation_secret!.type, 'payment_intent');
    assert.match(withSecret.confirmation_secret!.client_secret, /^pi_.+_secret_/);
    assert.equal(withSecret.payments!.data[0]!.status, 'open');
    assert.equal((open as any).confirmation_secret, undefined, 'includable: only when expanded');
    const paid = await s.invoices.pay(open.id);
    assert.equal(paid.status, 'paid');
    assert.equal(paid.amount_paid, 2000);
    assert.equal(paid.amount_remaining, 0);
    assert.equal(paid.attempt_count, 1);
    assert.equal(paid.attempted, true);
    assert.equal(paid.status_transitions.paid_at, T0);
    assert.deepEqual(await eventTypes(s), ['invoiceitem.created', 'invoice.created', 'invoice.finalized', 'invoice_payment.paid', 'invoice.updated', 'invoice.paid', 'invoice.payment_succeeded']);
    const payments = (await s.invoices.retrieve(open.id, { expand: ['payments'] })).payments!.data;
    assert.equal(payments.length, 1);
    assert.equal(payments[0]!.status, 'paid');
    assert.equal(payments[0]!.amount_paid, 2000);
    const ips = await s.invoicePayments.list({ invoice: open.id });
    assert.deepEqual(ips.data.map((p) => p.id), [payments[0]!.id]);
    assert.deepEqual(await s.invoicePayments.retrieve(payments[0]!.id), payments[0]);
    const pi = await s.paymentIntents.retrieve((payments[0]!.payment as any).payment_intent);
    assert.equal(pi.status, 'succeeded');
    assert.equal(pi.amount, 2000);
    // A second invoice takes the next number.
    const second = await s.invoices.finalizeInvoice((await draftWith(s, c.id, [500])).id);
    assert.equal(second.number, `${c.invoice_prefix}-0002`);
  });

  test('refused transitions: Stripe-shaped 400s, state unchanged', async () => {
    const s = account();
    const c = await customerWithCard(s);
    const draft = await draftWith(s, c.id, [1000]);
    await rejects(s.invoices.voidInvoice(draft.id), { status: 400, message: "You can only pass in open invoices. This invoice isn't open." });
    await rejects(s.invoices.markUncollectible(draft.id), { status: 400, message: "You can only pass in open invoices. This invoice isn't open." });
    const open = await s.invoices.finalizeInvoice(draft.id);
    await rejects(s.invoices.finalizeInvoice(open.id), { status: 400, message: "This invoice is already finalized, you can't re-finalize a non-draft invoice." });
    await rejects(s.invoices.del(open.id), { status: 400, message: 'You can only delete draft invoices.' });
    const rate = await s.taxRates.create({ display_name: 'VAT', percentage: 10, inclusive: false });
    await rejects(s.invoices.update(open.id, { default_tax_rates: [rate.id] }), { status: 400, message: "Finalized invoices can't be updated in this way", param: 'default_tax_rates' });
    const updated = await s.invoices.update(open.id, { description: 'still editable', metadata: { k: 'v' } });
    assert.equal(updated.description, 'still editable');
    await rejects(s.invoiceItems.create({ customer: c.id, amount: 5, currency: 'usd', invoice: open.id }), { status: 400, message: /only add invoice items to draft invoices/, param: 'invoice' });
    const paid = await s.invoices.pay(open.id);
    await rejects(s.invoices.pay(paid.id), { status: 400, message: 'Invoice is already paid' });
    await rejects(s.invoices.voidInvoice(paid.id), { status: 400, message: 'Invoices with `paid` payments cannot be voided.' });
    await rejects(s.invoices.markUncollectible(paid.id), { status: 400, message: "You can only pass in open invoices. This invoice isn't open." });
    await rejects(s.invoices.update(paid.id, { auto_advance: true }), { status: 400, message: "Finalized invoices can't be updated in this way", param: 'auto_advance' });
    assert.equal((await s.invoices.retrieve(paid.id)).status, 'paid');
    // open → uncollectible → paid; open → void; uncollectible → void; void → nothing.
    const u = await s.invoices.markUncollectible((await s.invoices.finalizeInvoice((await draftWith(s, c.id, [700])).id)).id);
    assert.equal(u.status, 'uncollectible');
    assert.equal(u.status_transitions.marked_uncollectible_at, T0);
    await rejects(s.invoices.markUncollectible(u.id), { status: 400, message: 'This invoice has already been marked uncollectible.' });
    assert.equal((await s.invoices.pay(u.id)).status, 'paid');
    const v = await s.invoices.voidInvoice((await s.invoices.finalizeInvoice((await draftWith(s, c.id, [800])).id)).id);
    assert.equal(v.status, 'void');
    assert.equal(v.amount_remaining, 0);
    assert.equal(v.status_transitions.voided_at, T0);
    await rejects(s.invoices.pay(v.id), { status: 400, message: /This invoice is void/ });
    await rejects(s.invoices.voidInvoice(v.id), { status: 400, message: "You can only pass in open invoices. This invoice isn't open." });
    const u2 = await s.invoices.markUncollectible((await s.invoices.finalizeInvoice((await draftWith(s, c.id, [900])).id)).id);
    assert.equal((await s.invoices.voidInvoice(u2.id)).status, 'void');
    const types = await eventTypes(s);
    assert.ok(types.includes('invoice.marked_uncollectible') && types.includes('invoice.voided'));
    await rejects(s.invoices.retrieve('in_missing'), { status: 404, message: "No such invoice: 'in_missing'", param: 'id', code: 'resource_missing' });
  });

  test('a missing invoice in the path: 404 resource_missing, the parameter named as Stripe names it', async () => {
    const s = account();
    const missing = { status: 404, message: "No such invoice: 'in_missing'", code: 'resource_missing' };
    await rejects(s.invoices.listLineItems('in_missing'), { ...missing, param: 'invoice' });
    await rejects(s.invoices.sendInvoice('in_missing'), { ...missing, param: 'invoice' });
    await rejects(s.invoices.del('in_missing'), { ...missing, param: 'invoice' });
    await rejects(s.invoices.list({ status: 'bogus' as any }), { status: 400, message: 'Invalid status: must be one of draft, open, void, paid, or uncollectible', param: 'status' });
    await rejects(s.invoices.addLines('in_missing', { lines: [{ amount: 100, description: 'x' }] }), { ...missing, param: 'invoice' });
    await rejects(s.invoices.update('in_missing', { description: 'x' }), { ...missing, param: 'id' });
    await rejects(s.invoices.pay('in_missing'), { ...missing, param: 'id' });
    await rejects(s.invoices.finalizeInvoice('in_missing'), { ...missing, param: 'id' });
    await rejects(s.invoices.voidInvoice('in_missing'), { ...missing, param: 'id' });
    await rejects(s.invoices.markUncollectible('in_missing'), { ...missing, param: 'id' });
    // A deleted draft is missing too.
    const c = await s.customers.create();
    const draft = await draftWith(s, c.id, [100]);
    await s.invoices.del(draft.id);
    await rejects(s.invoices.listLineItems(draft.id), { ...missing, message: `No such invoice: '${draft.id}'`, param: 'invoice' });
  });

  test('line edits on a finalized invoice: invoice_not_editable', async () => {
    const s = account();
    const c = await s.customers.create();
    const open = await s.invoices.finalizeInvoice((await draftWith(s, c.id, [100])).id);
    const notEditable = { status: 400, message: 'Invalid invoice: This invoice is no longer editable', code: 'invoice_not_editable' };
    await rejects(s.invoices.addLines(open.id, { lines: [{ amount: 100, description: 'x' }] }), notEditable);
    await rejects(s.invoices.removeLines(open.id, { lines: [{ id: open.lines.data[0]!.id, behavior: 'delete' }] }), notEditable);
    await rejects(s.invoices.updateLines(open.id, { lines: [{ id: open.lines.data[0]!.id, description: 'y' }] }), notEditable);
  });

  test('delete a draft: invoice.deleted, its items pending again; out-of-band payment', async () => {
    const s = account();
    const c = await s.customers.create({});
    const draft = await draftWith(s, c.id, [1500]);
    const ii = draft.lines.data[0]!.parent!.invoice_item_details!.invoice_item;
    const del = await s.invoices.del(draft.id);
    assert.deepEqual(del, { id: draft.id, object: 'invoice', deleted: true });
    await rejects(s.invoices.retrieve(draft.id), { status: 404, message: `No such invoice: '${draft.id}'`, param: 'id', code: 'resource_missing' });
    assert.equal((await s.invoiceItems.retrieve(ii)).invoice, null);
    assert.ok((await eventTypes(s)).includes('invoice.deleted'));
    // No payment method: pay refuses; paid_out_of_band settles it.
    const open = await s.invoices.finalizeInvoice((await s.invoices.create({ customer: c.id, pending_invoice_items_behavior: 'include' })).id);
    await rejects(s.invoices.pay(open.id), { status: 400, message: /no attached payment source or default payment method/ });
    const oob = await s.invoices.pay(open.id, { paid_out_of_band: true });
    assert.equal(oob.status, 'paid');
    assert.equal(oob.amount_remaining, 0);
  });

  test('declined payment: 402 card error, attempt recorded, invoice.payment_failed; a new card pays it', async () => {
    const s = account();
    const c = await customerWithCard(s, 'pm_card_chargeCustomerFail');
    const open = await s.invoices.finalizeInvoice((await draftWith(s, c.id, [1200])).id);
    await assert.rejects(s.invoices.pay(open.id), (e: any) => e.type === 'StripeCardError' && e.code === 'card_declined' && e.statusCode === 402);
    const after1 = await s.invoices.retrieve(open.id);
    assert.equal(after1.status, 'open');
    assert.equal(after1.attempt_count, 1);
    assert.equal(after1.attempted, true);
    assert.equal(after1.next_payment_attempt, null, 'manual attempts schedule no retry');
    assert.ok((await eventTypes(s)).includes('invoice.payment_failed'));
    const visa = await s.paymentMethods.attach('pm_card_visa', { customer: c.id });
    const paid = await s.invoices.pay(open.id, { payment_method: visa.id });
    assert.equal(paid.status, 'paid');
    assert.equal(paid.attempt_count, 2);
  });

  test('two concurrent pays of one invoice make one payment', async () => {
    const s = account();
    const c = await customerWithCard(s);
    const open = await s.invoices.finalizeInvoice((await draftWith(s, c.id, [3000])).id);
    const results = await Promise.allSettled([s.invoices.pay(open.id), s.invoices.pay(open.id), s.invoices.pay(open.id)]);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    for (const r of results) if (r.status === 'rejected') assert.equal((r.reason as any).message, 'Invoice is already paid');
    const charges = await s.charges.list({ customer: c.id });
    assert.equal(charges.data.length, 1);
    assert.equal(charges.data[0]!.amount, 3000);
  });

  test('send_invoice: days_until_due required, due_date set, send emits invoice.sent', async () => {
    const s = account();
    const c = await s.customers.create({ email: 'b@example.com' });
    await s.invoiceItems.create({ customer: c.id, amount: 4000, currency: 'usd' });
    await rejects(s.invoices.create({ customer: c.id, collection_method: 'send_invoice' }), { status: 400, message: "If invoice collection method is 'send_invoice', you must specify 'due_date' or 'days_until_due'." });
    await rejects(s.invoices.create({ customer: c.id, days_until_due: 30 }), { status: 400, message: "You can only specify 'due_date' or 'days_until_due' if invoice collection method is 'send_invoice'." });
    await rejects(s.invoices.create({ customer: c.id, due_date: T0 + DAY }), { status: 400, message: "You can only specify 'due_date' or 'days_until_due' if invoice collection method is 'send_invoice'." });
    const draft = await s.invoices.create({ customer: c.id, collection_method: 'send_invoice', days_until_due: 30, pending_invoice_items_behavior: 'include' });
    assert.equal(draft.due_date, T0 + 30 * DAY);
    const sent = await s.invoices.sendInvoice(draft.id);
    assert.equal(sent.status, 'open');
    assert.deepEqual((await eventTypes(s)).slice(-2), ['invoice.finalized', 'invoice.sent']);
    await s.invoices.sendInvoice(sent.id);
    const charge = await customerWithCard(s);
    const auto = await s.invoices.finalizeInvoice((await draftWith(s, charge.id, [100])).id);
    await rejects(s.invoices.sendInvoice(auto.id), { status: 400, message: /collection_method is send_invoice/ });
    const paid = await s.invoices.pay(sent.id, { paid_out_of_band: true });
    await rejects(s.invoices.sendInvoice(paid.id), { status: 400, message: 'This invoice cannot be sent right now. Please contact us via https://support.stripe.com/contact with details, so we can help.' });
  });

  test('lines: the invoice embeds 10 with has_more, GET lines paginates in invoice order; update a line', async () => {
    const s = account();
    const c = await s.customers.create({});
    const amounts = Array.from({ length: 12 }, (_, i) => (i + 1) * 100);
    const draft = await draftWith(s, c.id, amounts);
    assert.equal(draft.lines.data.length, 10);
    assert.equal(draft.lines.has_more, true);
    assert.equal(draft.total, amounts.reduce((a, b) => a + b, 0));
    const page1 = await s.invoices.listLineItems(draft.id, { limit: 5 });
    assert.deepEqual(page1.data.map((l) => l.amount), [100, 200, 300, 400, 500]);
    assert.equal(page1.has_more, true);
    assert.equal(page1.url, `/v1/invoices/${draft.id}/lines`);
    const page3 = await s.invoices.listLineItems(draft.id, { limit: 5, starting_after: page1.data[4]!.id });
    assert.deepEqual(page3.data.map((l) => l.amount), [600, 700, 800, 900, 1000]);
    const all: number[] = [];
    for await (const l of s.invoices.listLineItems(draft.id, { limit: 4 })) all.push(l.amount);
    assert.deepEqual(all, amounts);
    const first = page1.data[0]!;
    const changed = await s.invoices.updateLineItem(draft.id, first.id, { amount: 150, description: 'changed' });
    assert.equal(changed.amount, 150);
    assert.equal(changed.description, 'changed');
    assert.equal((await s.invoices.retrieve(draft.id)).total, draft.total + 50);
    const ii = first.parent!.invoice_item_details!.invoice_item;
    assert.equal((await s.invoiceItems.retrieve(ii)).amount, 150);
    const removed = await s.invoices.removeLines(draft.id, { lines: [{ id: first.id, behavior: 'unassign' }] });
    assert.equal(removed.total, draft.total - 100);
    assert.equal((await s.invoiceItems.retrieve(ii)).invoice, null);
    const added = await s.invoices.addLines(draft.id, { lines: [{ invoice_item: ii }, { amount: 5, description: 'extra' }] });
    assert.equal(added.total, draft.total + 50 + 5);
  });

  test('list filters and search', async () => {
    const s = account();
    const a = await s.customers.create({});
    const b = await s.customers.create({});
    const d1 = await draftWith(s, a.id, [100]);
    const d2 = await draftWith(s, b.id, [200]);
    await s.invoices.finalizeInvoice(d2.id);
    assert.deepEqual((await s.invoices.list({ customer: a.id })).data.map((i) => i.id), [d1.id]);
    assert.deepEqual((await s.invoices.list({ status: 'open' })).data.map((i) => i.id), [d2.id]);
    assert.deepEqual((await s.invoices.list({ status: 'draft' })).data.map((i) => i.id), [d1.id]);
    assert.deepEqual((await s.invoices.list({ collection_method: 'send_invoice' })).data, []);
    assert.deepEqual((await s.invoices.list()).data.map((i) => i.id), [d2.id, d1.id]);
    const found = await s.invoices.search({ query: `customer:"${b.id}" AND status:"open"` });
    assert.deepEqual(found.data.map((i) => i.id), [d2.id]);
  });
});

describe('invoices: totals', () => {
  test('percent_off and amount_off coupons, line and invoice level (hand-computed)', async () => {
    const s = account();
    const c = await s.customers.create({});
    const pct = await s.coupons.create({ percent_off: 25 });
    const off = await s.coupons.create({ amount_off: 300, currency: 'usd' });
    // Invoice-level 25%: 1000 → 250, 999 → 249.75 → 250 (half away from zero), per line.
    const inv = await draftWith(s, c.id, [1000, 999], { discounts: [{ coupon: pct.id }] });
    assert.equal(inv.subtotal, 1999);
    assert.deepEqual(inv.total_discount_amounts, [{ amount: 500, discount: inv.discounts[0] }]);
    assert.equal(inv.total, 1499);
    assert.equal(inv.total_excluding_tax, 1499);
    assert.deepEqual(inv.lines.data.map((l) => l.discount_amounts![0]!.amount), [250, 250]);
    // amount_off 300 spread in proportion over 1000 and 500: 200 and 100.
    const c2 = await s.customers.create({});
    const inv2 = await draftWith(s, c2.id, [1000, 500], { discounts: [{ coupon: off.id }] });
    assert.equal(inv2.total, 1200);
    assert.deepEqual(inv2.lines.data.map((l) => l.discount_amounts![0]!.amount), [200, 100]);
    assert.deepEqual(inv2.total_pretax_credit_amounts, [{ amount: 300, discount: inv2.discounts[0], type: 'discount' } as any]);
    // A line-level discount is incorporated into the subtotal; the invoice-level one then applies to what is left.
    const c3 = await s.customers.create({});
    await s.invoiceItems.create({ customer: c3.id, amount: 2000, currency: 'usd', discounts: [{ coupon: off.id }] });
    const inv3 = await s.invoices.create({ customer: c3.id, pending_invoice_items_behavior: 'include', discounts: [{ coupon: pct.id }] });
    assert.equal(inv3.subtotal, 1700); // 2000 − 300
    assert.equal(inv3.total, 1275); // 1700 − 25% (425)
    assert.equal(inv3.lines.data[0]!.discounts.length, 1);
    // The customer's discount applies when the invoice names none.
    const c4 = await s.customers.create({});
    const { applyCustomerDiscount } = await import('../src/resources/discounts.js');
    void applyCustomerDiscount; // (customer discounts are applied by subscriptions/checkout; covered there)
    assert.equal((await draftWith(s, c4.id, [100])).discounts.length, 0);
  });

  test('exclusive and inclusive tax rates, default and per line (hand-computed)', async () => {
    const s = account();
    const c = await s.customers.create({});
    const vat = await s.taxRates.create({ display_name: 'VAT', percentage: 20, inclusive: true });
    const sales = await s.taxRates.create({ display_name: 'Sales tax', percentage: 8.25, inclusive: false });
    // Exclusive 8.25% of 1999 = 164.9175 → 165; total 2164.
    const ex = await draftWith(s, c.id, [1999], { default_tax_rates: [sales.id] });
    assert.equal(ex.subtotal, 1999);
    assert.equal(ex.subtotal_excluding_tax, 1999);
    assert.equal(ex.total_excluding_tax, 1999);
    assert.equal(ex.total, 2164);
    assert.deepEqual(ex.total_taxes, [{ amount: 165, tax_behavior: 'exclusive', tax_rate_details: { tax_rate: sales.id }, taxability_reason: 'not_available', taxable_amount: 1999, type: 'tax_rate_details' }]);
    assert.deepEqual(ex.default_tax_rates.map((r) => r.id), [sales.id]);
    // Inclusive 20% in 1200: 1200 − 1200/1.2 = 200; total stays 1200, excluding tax 1000.
    const c2 = await s.customers.create({});
    await s.invoiceItems.create({ customer: c2.id, amount: 1200, currency: 'usd', tax_rates: [vat.id] });
    const inc = await s.invoices.create({ customer: c2.id, pending_invoice_items_behavior: 'include' });
    assert.equal(inc.subtotal, 1200);
    assert.equal(inc.subtotal_excluding_tax, 1000);
    assert.equal(inc.total, 1200);
    assert.equal(inc.total_excluding_tax, 1000);
    assert.equal(inc.total_taxes![0]!.amount, 200);
    assert.equal(inc.lines.data[0]!.taxes![0]!.tax_behavior, 'inclusive');
    // Inclusive tax after a 10% discount: 1200 → 1080, tax 1080 − 900 = 180.
    const ten = await s.coupons.create({ percent_off: 10 });
    const c3 = await s.customers.create({});
    await s.invoiceItems.create({ customer: c3.id, amount: 1200, currency: 'usd', tax_rates: [vat.id] });
    const incd = await s.invoices.create({ customer: c3.id, pending_invoice_items_behavior: 'include', discounts: [{ coupon: ten.id }] });
    assert.equal(incd.total, 1080);
    assert.equal(incd.total_excluding_tax, 900);
    assert.equal(incd.total_taxes![0]!.amount, 180);
    // A tax-exempt customer pays none.
    const exempt = await s.customers.create({ tax_exempt: 'exempt' });
    assert.equal((await draftWith(s, exempt.id, [1000], { default_tax_rates: [sales.id] })).total, 1000);
  });

  test('credit balance: applied on finalization; covered invoices are paid at once; below the minimum is carried', async () => {
    const s = account();
    const c = await customerWithCard(s);
    await s.customers.createBalanceTransaction(c.id, { amount: -500, currency: 'usd', description: 'goodwill' });
    const draft = await draftWith(s, c.id, [2000]);
    assert.equal(draft.starting_balance, 0);
    assert.equal(draft.ending_balance, null);
    const open = await s.invoices.finalizeInvoice(draft.id);
    assert.equal(open.starting_balance, -500);
    assert.equal(open.ending_balance, 0);
    assert.equal(open.amount_due, 1500);
    assert.equal(open.total, 2000);
    assert.equal((await s.customers.retrieve(c.id) as Stripe.Customer).balance, 0);
    const txns = await s.customers.listBalanceTransactions(c.id);
    assert.deepEqual(txns.data.map((x) => [x.type, x.amount, x.ending_balance, x.invoice]), [['applied_to_invoice', 500, 0, open.id], ['adjustment', -500, -500, null]]);
    assert.equal((await s.invoices.pay(open.id)).amount_paid, 1500);
    // A credit larger than the invoice: paid on finalization, the rest stays credit.
    await s.customers.createBalanceTransaction(c.id, { amount: -5000, currency: 'usd' });
    const covered = await s.invoices.finalizeInvoice((await draftWith(s, c.id, [1200])).id);
    assert.equal(covered.status, 'paid');
    assert.equal(covered.amount_due, 0);
    assert.equal(covered.amount_paid, 0);
    assert.equal(covered.starting_balance, -5000);
    assert.equal(covered.ending_balance, -3800);
    assert.equal((await s.customers.retrieve(c.id) as Stripe.Customer).balance, -3800);
    assert.deepEqual((await eventTypes(s)).slice(-3), ['invoice.finalized', 'invoice.paid', 'invoice.payment_succeeded']);
    // Voiding an invoice gives the applied credit back.
    const partial = await s.invoices.finalizeInvoice((await draftWith(s, c.id, [1000])).id);
    assert.equal(partial.status, 'paid');
    const c2 = await customerWithCard(s);
    await s.customers.createBalanceTransaction(c2.id, { amount: -300, currency: 'usd' });
    const o2 = await s.invoices.finalizeInvoice((await draftWith(s, c2.id, [1000])).id);
    assert.equal(o2.amount_due, 700);
    await s.invoices.voidInvoice(o2.id);
    assert.equal((await s.customers.retrieve(c2.id) as Stripe.Customer).balance, -300);
    // 30 cents is below USD's 50-cent minimum: paid, carried to the balance as owed.
    const c3 = await customerWithCard(s);
    const small = await s.invoices.finalizeInvoice((await draftWith(s, c3.id, [30])).id);
    assert.equal(small.status, 'paid');
    assert.equal(small.amount_due, 0);
    assert.equal(small.ending_balance, 30);
    assert.equal((await s.customers.retrieve(c3.id) as Stripe.Customer).balance, 30);
    // …and added to the next invoice.
    const next = await s.invoices.finalizeInvoice((await draftWith(s, c3.id, [1000])).id);
    assert.equal(next.starting_balance, 30);
    assert.equal(next.amount_due, 1030);
  });

  test('create_preview: pending items and invoice_items, nothing stored', async () => {
    const s = account();
    const c = await s.customers.create({});
    await s.invoiceItems.create({ customer: c.id, amount: 1000, currency: 'usd' });
    const pct = await s.coupons.create({ percent_off: 10 });
    const preview = await s.invoices.createPreview({ customer: c.id, invoice_items: [{ amount: 500, currency: 'usd', description: 'more' }], discounts: [{ coupon: pct.id }] });
    assert.equal(preview.object, 'invoice');
    assert.equal(preview.subtotal, 1500);
    assert.equal(preview.total, 1350);
    assert.equal(preview.lines.data.length, 2);
    assert.equal((await s.invoices.list({ customer: c.id })).data.length, 0);
    assert.equal((await s.coupons.retrieve(pct.id)).times_redeemed, 0);
  });
});

describe('invoices: automatic collection and dunning on a test clock', () => {
  test('auto_advance: finalized an hour after creation, paid; events in order', async () => {
    const s = account();
    const tc = await s.testHelpers.testClocks.create({ frozen_time: T0 });
    const c = await customerWithCard(s, 'pm_card_visa', { test_clock: tc.id });
    const draft = await draftWith(s, c.id, [2500], { auto_advance: true });
    assert.equal(draft.automatically_finalizes_at, T0 + 3600);
    assert.equal(draft.created, T0);
    await s.testHelpers.testClocks.advance(tc.id, { frozen_time: T0 + 1800 });
    assert.equal((await s.invoices.retrieve(draft.id)).status, 'draft');
    await s.testHelpers.testClocks.advance(tc.id, { frozen_time: T0 + 7200 });
    const paid = await s.invoices.retrieve(draft.id);
    assert.equal(paid.status, 'paid');
    assert.equal(paid.status_transitions.finalized_at, T0 + 3600);
    assert.equal(paid.status_transitions.paid_at, T0 + 3600);
    assert.equal(paid.automatically_finalizes_at, null);
    assert.deepEqual(await eventTypes(s), ['invoiceitem.created', 'invoice.created', 'invoice.finalized', 'invoice_payment.paid', 'invoice.updated', 'invoice.paid', 'invoice.payment_succeeded']);
  });

  test('dunning: retries on the documented schedule to final failure; listeners see each failure', async () => {
    const s = account();
    const tc = await s.testHelpers.testClocks.create({ frozen_time: T0 });
    const c = await customerWithCard(s, 'pm_card_chargeCustomerFail', { test_clock: tc.id });
    const draft = await draftWith(s, c.id, [1800], { auto_advance: true });
    const seen: Array<{ attempt: number; final: boolean; at: number }> = [];
    const off = registerInvoiceListener({ paymentFailed: (_ctx, inv, info) => { if (inv.id === draft.id) seen.push({ attempt: inv.attempt_count, final: info.final, at: _ctx.now() }); } });
    try {
      await s.testHelpers.testClocks.advance(tc.id, { frozen_time: T0 + 3600 });
      const first = await s.invoices.retrieve(draft.id);
      assert.equal(first.status, 'open');
      assert.equal(first.attempt_count, 1);
      const firstFail = T0 + 3600;
      assert.equal(first.next_payment_attempt, firstFail + DEFAULT_RETRY_DAYS[0]! * DAY);
      assert.equal((await s.customers.retrieve(c.id) as Stripe.Customer).delinquent, true);
      await s.testHelpers.testClocks.advance(tc.id, { frozen_time: T0 + 20 * DAY });
      const last = await s.invoices.retrieve(draft.id);
      assert.equal(last.attempt_count, DEFAULT_RETRY_DAYS.length + 1);
      assert.equal(last.next_payment_attempt, null);
      assert.equal(last.status, 'open', 'left open after the last retry (default)');
      assert.deepEqual(seen.map((x) => x.at), [firstFail, ...DEFAULT_RETRY_DAYS.map((d) => firstFail + d * DAY)]);
      assert.deepEqual(seen.map((x) => x.final), [...DEFAULT_RETRY_DAYS.map(() => false), true]);
      const failed = (await eventTypes(s)).filter((x) => x === 'invoice.payment_failed');
      assert.equal(failed.length, DEFAULT_RETRY_DAYS.length + 1);
      // Nothing more happens later.
      await s.testHelpers.testClocks.advance(tc.id, { frozen_time: T0 + 60 * DAY });
      assert.equal((await s.invoices.retrieve(draft.id)).attempt_count, DEFAULT_RETRY_DAYS.length + 1);
    } finally { off(); }
  });

  test('configurable schedule and final action: two retries, then marked uncollectible', async () => {
    const saved = configureDunning({});
    configureDunning({ retryDays: [1, 3], finalAction: 'mark_uncollectible' });
    try {
      const s = account();
      const tc = await s.testHelpers.testClocks.create({ frozen_time: T0 });
      const c = await customerWithCard(s, 'pm_card_chargeCustomerFail', { test_clock: tc.id });
      const draft = await draftWith(s, c.id, [600], { auto_advance: true });
      await s.testHelpers.testClocks.advance(tc.id, { frozen_time: T0 + 3600 + 2 * DAY });
      const mid = await s.invoices.retrieve(draft.id);
      assert.equal(mid.attempt_count, 2);
      assert.equal(mid.next_payment_attempt, T0 + 3600 + 3 * DAY);
      await s.testHelpers.testClocks.advance(tc.id, { frozen_time: T0 + 10 * DAY });
      const last = await s.invoices.retrieve(draft.id);
      assert.equal(last.attempt_count, 3);
      assert.equal(last.status, 'uncollectible');
      assert.equal(last.status_transitions.marked_uncollectible_at, T0 + 3600 + 3 * DAY);
      assert.deepEqual((await eventTypes(s)).slice(-2), ['invoice.payment_failed', 'invoice.marked_uncollectible']);
    } finally { configureDunning(saved); }
  });

  test('3-D Secure card off-session: invoice.payment_action_required; a retry that succeeds stops dunning', async () => {
    const s = account();
    const tc = await s.testHelpers.testClocks.create({ frozen_time: T0 });
    const c = await customerWithCard(s, 'pm_card_authenticationRequired', { test_clock: tc.id });
    const draft = await draftWith(s, c.id, [990], { auto_advance: true });
    await s.testHelpers.testClocks.advance(tc.id, { frozen_time: T0 + 3600 });
    const types = await eventTypes(s);
    assert.deepEqual(types.slice(-3), ['invoice.updated', 'invoice.payment_failed', 'invoice.payment_action_required']);
    // The customer switches to a working card before the first retry.
    const visa = await s.paymentMethods.attach('pm_card_visa', { customer: c.id });
    await s.customers.update(c.id, { invoice_settings: { default_payment_method: visa.id } });
    await s.testHelpers.testClocks.advance(tc.id, { frozen_time: T0 + 3600 + 2 * DAY });
    const paid = await s.invoices.retrieve(draft.id);
    assert.equal(paid.status, 'paid');
    assert.equal(paid.attempt_count, 2);
    assert.equal(paid.next_payment_attempt, null);
    assert.equal((await s.customers.retrieve(c.id) as Stripe.Customer).delinquent, false);
  });
});
