// Credit notes through the SDK: pre-payment (reduces what is due; crediting it all pays the
// invoice), post-payment with refund, customer balance credit or out of band, preview and
// lines, void, and the refused requests.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Stripe from 'stripe';
import { FrozenClock } from '../src/api/clock.js';
import { freshKey, startTestServer, type TestServer } from './helpers/server.js';
import { rejects } from './helpers/errors.js';

let t: TestServer;
const T0 = 1_760_000_000;
before(async () => { t = await startTestServer({ clock: new FrozenClock(T0) }); });
after(() => t.close());
const account = () => t.stripe(freshKey());

async function openInvoice(s: Stripe, amounts: number[], card = true): Promise<{ inv: Stripe.Invoice; customer: Stripe.Customer }> {
  let customer = await s.customers.create({});
  if (card) {
    const pm = await s.paymentMethods.attach('pm_card_visa', { customer: customer.id });
    customer = await s.customers.update(customer.id, { invoice_settings: { default_payment_method: pm.id } });
  }
  for (const a of amounts) await s.invoiceItems.create({ customer: customer.id, amount: a, currency: 'usd' });
  const draft = await s.invoices.create({ customer: customer.id, pending_invoice_items_behavior: 'include' });
  return { inv: await s.invoices.finalizeInvoice(draft.id), customer };
}

describe('credit notes', () => {
  test('pre-payment: line quantity/amount credits reduce amount_due; number; events; crediting the rest pays it', async () => {
    const s = account();
    const { inv } = await openInvoice(s, [1000, 600]);
    const [l1, l2] = inv.lines.data;
    const cn = await s.creditNotes.create({ invoice: inv.id, lines: [{ type: 'invoice_line_item', invoice_line_item: l1!.id, amount: 400 }], reason: 'order_change', memo: 'Partial' });
    assert.equal(cn.object, 'credit_note');
    assert.match(cn.id, /^cn_/);
    assert.equal(cn.type, 'pre_payment');
    assert.equal(cn.status, 'issued');
    assert.equal(cn.number, `${inv.number}-CN-01`);
    assert.equal(cn.amount, 400);
    assert.equal(cn.total, 400);
    assert.equal(cn.subtotal, 400);
    assert.equal(cn.pre_payment_amount, 400);
    assert.equal(cn.post_payment_amount, 0);
    assert.equal(cn.reason, 'order_change');
    assert.equal(cn.lines.data[0]!.invoice_line_item, l1!.id);
    let after = await s.invoices.retrieve(inv.id);
    assert.equal(after.pre_payment_credit_notes_amount, 400);
    assert.equal(after.amount_due, 1200);
    assert.equal(after.amount_remaining, 1200);
    assert.deepEqual((await s.events.list({ type: 'credit_note.created' })).data.map((e) => (e.data.object as any).id), [cn.id]);
    const lines = await s.creditNotes.listLineItems(cn.id);
    assert.equal(lines.data.length, 1);
    assert.equal(lines.url, `/v1/credit_notes/${cn.id}/lines`);
    // Crediting everything still due: the invoice is paid without a charge.
    const rest = await s.creditNotes.create({ invoice: inv.id, lines: [
      { type: 'invoice_line_item', invoice_line_item: l1!.id, amount: 600 },
      { type: 'invoice_line_item', invoice_line_item: l2!.id, quantity: 1 },
    ] });
    assert.equal(rest.number, `${inv.number}-CN-02`);
    assert.equal(rest.total, 1200);
    after = await s.invoices.retrieve(inv.id);
    assert.equal(after.status, 'paid');
    assert.equal(after.amount_paid, 0);
    assert.equal((await s.charges.list()).data.length, 0);
    await rejects(s.creditNotes.create({ invoice: inv.id, amount: 1 }), { status: 400, message: /greater than the amount that can be credited/, param: 'amount' });
  });

  test('post-payment: refund, credit to the balance, out of band; the sum must match', async () => {
    const s = account();
    const { inv, customer } = await openInvoice(s, [5000]);
    const paid = await s.invoices.pay(inv.id);
    await rejects(s.creditNotes.create({ invoice: paid.id, amount: 1000, refund_amount: 500 }), { status: 400, message: 'The sum of credit amount, refund amount and out of band amount ($5.00) must equal the credit note amount ($10.00).' });
    const refunded = await s.creditNotes.create({ invoice: paid.id, amount: 1000, refund_amount: 1000 });
    assert.equal(refunded.type, 'post_payment');
    assert.equal(refunded.post_payment_amount, 1000);
    assert.equal(refunded.refunds.length, 1);
    const refund = await s.refunds.retrieve(refunded.refunds[0]!.refund as string);
    assert.equal(refund.amount, 1000);
    const credited = await s.creditNotes.create({ invoice: paid.id, amount: 1500, credit_amount: 1500 });
    assert.match(credited.customer_balance_transaction as string, /^cbtxn_/);
    assert.equal((await s.customers.retrieve(customer.id) as Stripe.Customer).balance, -1500);
    const oob = await s.creditNotes.create({ invoice: paid.id, amount: 500, out_of_band_amount: 500 });
    assert.equal(oob.out_of_band_amount, 500);
    // Default: the whole credit is refunded.
    const dflt = await s.creditNotes.create({ invoice: paid.id, amount: 200 });
    assert.equal(dflt.refunds[0]!.amount_refunded, 200);
    assert.equal((await s.invoices.retrieve(paid.id)).post_payment_credit_notes_amount, 3200);
    await rejects(s.creditNotes.create({ invoice: paid.id, amount: 1801 }), { status: 400, message: /greater than the amount that can be credited on invoice .* \(1800\)/, param: 'amount' });
    // Void: the balance credit is taken back; a refunded note cannot be voided.
    const v = await s.creditNotes.voidCreditNote(credited.id);
    assert.equal(v.status, 'void');
    assert.equal(v.voided_at, T0);
    assert.equal((await s.customers.retrieve(customer.id) as Stripe.Customer).balance, 0);
    await rejects(s.creditNotes.voidCreditNote(credited.id), { status: 400, message: /already been voided/ });
    await rejects(s.creditNotes.voidCreditNote(refunded.id), { status: 400, message: /has refunds/ });
    assert.deepEqual((await s.creditNotes.list({ invoice: paid.id })).data.map((x) => x.id), [dflt.id, oob.id, credited.id, refunded.id]);
    const upd = await s.creditNotes.update(oob.id, { memo: 'paid by cheque', metadata: { k: 'v' } });
    assert.equal(upd.memo, 'paid by cheque');
    assert.equal((await s.events.list({ type: 'credit_note.updated' })).data.length, 1);
    assert.equal((await s.events.list({ type: 'credit_note.voided' })).data.length, 1);
  });

  test('preview and preview lines store nothing; custom lines with tax; voiding a pre-payment note restores amount_due', async () => {
    const s = account();
    const { inv } = await openInvoice(s, [2000]);
    const rate = await s.taxRates.create({ display_name: 'VAT', percentage: 10, inclusive: false });
    const params = { invoice: inv.id, lines: [{ type: 'custom_line_item' as const, description: 'Goodwill', unit_amount: 300, quantity: 2, tax_rates: [rate.id] }] };
    const preview = await s.creditNotes.preview(params);
    assert.equal(preview.subtotal, 600);
    assert.equal(preview.total, 660);
    const plines = await s.creditNotes.listPreviewLineItems(params);
    assert.equal(plines.data[0]!.amount, 600);
    assert.equal(plines.data[0]!.unit_amount, 300);
    assert.deepEqual((await s.creditNotes.list()).data, []);
    const cn = await s.creditNotes.create(params);
    assert.equal(cn.total, 660);
    assert.equal((await s.invoices.retrieve(inv.id)).amount_due, 1340);
    await s.creditNotes.voidCreditNote(cn.id);
    assert.equal((await s.invoices.retrieve(inv.id)).amount_due, 2000);
    assert.equal((await s.invoices.retrieve(inv.id)).pre_payment_credit_notes_amount, 0);
  });

  test('refused: drafts and void invoices, missing params, unknown lines', async () => {
    const s = account();
    const c = await s.customers.create({});
    await s.invoiceItems.create({ customer: c.id, amount: 100, currency: 'usd' });
    const draft = await s.invoices.create({ customer: c.id, pending_invoice_items_behavior: 'include' });
    await rejects(s.creditNotes.create({ invoice: draft.id, amount: 50 }), { status: 400, message: /This invoice is draft/, param: 'invoice' });
    const open = await s.invoices.finalizeInvoice(draft.id);
    await rejects(s.creditNotes.create({ invoice: open.id } as any), { status: 400, message: /either `lines` or `amount`/, param: 'lines' });
    await rejects(s.creditNotes.create({ invoice: open.id, lines: [{ type: 'invoice_line_item', invoice_line_item: 'il_nope', quantity: 1 }] }), { status: 400, message: /No such invoice line item/, param: 'lines[0][invoice_line_item]', code: 'resource_missing' });
    await rejects(s.creditNotes.create({ amount: 5 } as any), { status: 400, message: 'Missing required param: invoice.', param: 'invoice', code: 'parameter_missing' });
    await rejects(s.creditNotes.create({ invoice: open.id, amount: 50, refund_amount: 50 }), { status: 400, message: /has not been paid/, param: 'refund_amount' });
    await s.invoices.voidInvoice(open.id);
    await rejects(s.creditNotes.create({ invoice: open.id, amount: 50 }), { status: 400, message: /This invoice is void/, param: 'invoice' });
  });
});
