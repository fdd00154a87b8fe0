// Invoice items through the SDK: pending items and the invoice that pulls them in, items
// added straight to a draft (its totals follow every change), prices, the refused changes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FrozenClock } from '../src/api/clock.js';
import { freshKey, startTestServer, type TestServer } from './helpers/server.js';
import { rejects } from './helpers/errors.js';

let t: TestServer;
const T0 = 1_760_000_000;
before(async () => { t = await startTestServer({ clock: new FrozenClock(T0) }); });
after(() => t.close());
const account = () => t.stripe(freshKey());

describe('invoice items', () => {
  test('create: current shape; amount or a price × quantity; list pending / by invoice', async () => {
    const s = account();
    const c = await s.customers.create({});
    const ii = await s.invoiceItems.create({ customer: c.id, amount: 1234, currency: 'usd', description: 'One-off', metadata: { a: 'b' } });
    assert.deepEqual(Object.keys(ii).sort(), ['amount', 'currency', 'customer', 'customer_account', 'date', 'description', 'discountable', 'discounts', 'id', 'invoice', 'livemode', 'metadata', 'net_amount', 'object', 'parent', 'period', 'pricing', 'proration', 'proration_details', 'quantity', 'quantity_decimal', 'tax_rates', 'test_clock']);
    assert.match(ii.id, /^ii_/);
    assert.equal(ii.date, T0);
    assert.deepEqual(ii.period, { end: T0, start: T0 });
    assert.equal(ii.discountable, true);
    assert.equal(ii.proration, false);
    const product = await s.products.create({ name: 'Seat' });
    const price = await s.prices.create({ product: product.id, unit_amount: 750, currency: 'usd' });
    const byPrice = await s.invoiceItems.create({ customer: c.id, pricing: { price: price.id }, quantity: 3 });
    assert.equal(byPrice.amount, 2250);
    assert.equal(byPrice.currency, 'usd');
    assert.deepEqual(byPrice.pricing!.price_details, { price: price.id, product: product.id });
    assert.equal(String(byPrice.pricing!.unit_amount_decimal), '750');
    const byData = await s.invoiceItems.create({ customer: c.id, price_data: { currency: 'usd', product: product.id, unit_amount: 125 }, quantity: 4 });
    assert.equal(byData.amount, 500);
    assert.deepEqual((await s.invoiceItems.list({ customer: c.id, pending: true })).data.map((x) => x.id), [byData.id, byPrice.id, ii.id]);
    const inv = await s.invoices.create({ customer: c.id, pending_invoice_items_behavior: 'include' });
    assert.equal(inv.total, 1234 + 2250 + 500);
    assert.deepEqual((await s.invoiceItems.list({ customer: c.id, pending: true })).data, []);
    assert.equal((await s.invoiceItems.list({ invoice: inv.id })).data.length, 3);
    // Excluded by default: a later invoice without `include` takes none.
    await s.invoiceItems.create({ customer: c.id, amount: 99, currency: 'usd' });
    assert.equal((await s.invoices.create({ customer: c.id })).total, 0);
    await rejects(s.invoiceItems.create({ customer: c.id, amount: 5 } as any), { status: 400, message: 'Missing required param: currency.', param: 'currency', code: 'parameter_missing' });
    await rejects(s.invoiceItems.create({ amount: 5, currency: 'usd' } as any), { status: 400, message: 'Missing required param: customer.', param: 'customer', code: 'parameter_missing' });
    assert.deepEqual((await s.events.list({ type: 'invoiceitem.created' })).data.length, 4);
  });

  test('on a draft: create with invoice, update and delete move the draft\'s lines and totals; finalized items are frozen', async () => {
    const s = account();
    const c = await s.customers.create({});
    const draft = await s.invoices.create({ customer: c.id });
    const ii = await s.invoiceItems.create({ customer: c.id, amount: 1000, currency: 'usd', invoice: draft.id });
    assert.equal(ii.invoice, draft.id);
    assert.equal((await s.invoices.retrieve(draft.id)).total, 1000);
    const upd = await s.invoiceItems.update(ii.id, { amount: 1500, description: 'bigger' });
    assert.equal(upd.amount, 1500);
    const inv = await s.invoices.retrieve(draft.id);
    assert.equal(inv.total, 1500);
    assert.equal(inv.lines.data[0]!.description, 'bigger');
    const ii2 = await s.invoiceItems.create({ customer: c.id, amount: 300, currency: 'usd', invoice: draft.id });
    assert.equal((await s.invoices.retrieve(draft.id)).total, 1800);
    assert.deepEqual(await s.invoiceItems.del(ii2.id), { id: ii2.id, object: 'invoiceitem', deleted: true });
    assert.equal((await s.invoices.retrieve(draft.id)).total, 1500);
    await s.invoices.finalizeInvoice(draft.id);
    await rejects(s.invoiceItems.update(ii.id, { amount: 1 }), { status: 400, message: 'This invoice item is already attached to an invoice that is no longer editable' });
    assert.equal((await s.invoiceItems.retrieve(ii.id)).amount, 1500, 'the refused update changed nothing');
    await rejects(s.invoiceItems.del(ii.id), { status: 400, message: "Can't delete an invoice item that is attached to an invoice that is no longer editable" });
    // Stripe's own spelling for this family: capitalized, the mode appended.
    await rejects(s.invoiceItems.retrieve(ii2.id), { status: 404, message: `No such Invoice Item: '${ii2.id}'(livemode=false)`, param: 'id', code: 'resource_missing' });
    await rejects(s.invoiceItems.update(ii2.id, { amount: 1 }), { status: 404, message: `No such Invoice Item: '${ii2.id}'(livemode=false)`, param: 'id', code: 'resource_missing' });
    await rejects(s.invoiceItems.del(ii2.id), { status: 404, message: `No such Invoice Item: '${ii2.id}'(livemode=false)`, param: 'id', code: 'resource_missing' });
    await rejects(s.invoiceItems.retrieve('ii_nope'), { status: 404, message: "No such Invoice Item: 'ii_nope'(livemode=false)", param: 'id', code: 'resource_missing' });
    await rejects(s.invoiceItems.retrieve(draft.id), { status: 404, message: `No such Invoice Item: '${draft.id}'(livemode=false)`, param: 'id', code: 'resource_missing' });
    const other = await s.customers.create({});
    await rejects(s.invoiceItems.create({ customer: other.id, amount: 1, currency: 'usd', invoice: draft.id }), { status: 400, message: /no longer editable/, param: 'invoice' });
    const otherDraft = await s.invoices.create({ customer: other.id });
    await rejects(s.invoiceItems.create({ customer: c.id, amount: 1, currency: 'usd', invoice: otherDraft.id }), { status: 400, message: /belongs to customer/, param: 'invoice' });
  });

  test('tax rates and discounts on an item', async () => {
    const s = account();
    const c = await s.customers.create({});
    const rate = await s.taxRates.create({ display_name: 'GST', percentage: 10, inclusive: false });
    const coupon = await s.coupons.create({ amount_off: 200, currency: 'usd' });
    const ii = await s.invoiceItems.create({ customer: c.id, amount: 1000, currency: 'usd', tax_rates: [rate.id], discounts: [{ coupon: coupon.id }] });
    assert.deepEqual(ii.tax_rates!.map((r) => r.id), [rate.id]);
    assert.equal(ii.discounts!.length, 1);
    const inv = await s.invoices.create({ customer: c.id, pending_invoice_items_behavior: 'include' });
    // 1000 − 200 = 800, + 10% = 80: 880.
    assert.equal(inv.subtotal, 800);
    assert.equal(inv.total, 880);
    assert.equal((await s.coupons.retrieve(coupon.id)).times_redeemed, 1);
  });
});
