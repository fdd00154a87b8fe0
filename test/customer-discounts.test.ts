// Customer discounts: the discount object in the current shape, DELETE /v1/customers/{id}/discount
// and the customer.discount.* events. The current API takes no coupon on customers, so the
// discount is applied through the engine (as subscriptions and invoices will) and observed through the SDK.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Stripe from 'stripe';
import { FrozenClock } from '../src/api/clock.js';
import { freshKey, startTestServer, type TestServer } from './helpers/server.js';
import { asAccount } from './helpers/context.js';
import { applyCustomerDiscount } from '../src/resources/discounts.js';

let t: TestServer;
const T0 = Date.UTC(2025, 0, 31, 10) / 1000;
before(async () => { t = await startTestServer({ clock: new FrozenClock(T0) }); });
after(() => t.close());

const DISCOUNT_KEYS = ['checkout_session', 'customer', 'customer_account', 'end', 'id', 'invoice', 'invoice_item', 'object', 'promotion_code',
  'source', 'start', 'subscription', 'subscription_item'];

describe('customer discounts', () => {
  test('a repeating coupon: discount shape, end after duration_in_months, events, expand source.coupon, DELETE', async () => {
    const key = freshKey();
    const s = t.stripe(key);
    const coupon = await s.coupons.create({ percent_off: 50, duration: 'repeating', duration_in_months: 1, id: 'HALF' });
    const cus = await s.customers.create({ email: 'd@example.com' });
    const d = await asAccount(t, key, (ctx) => applyCustomerDiscount(ctx, cus.id, { coupon: 'HALF' }));
    assert.deepEqual(Object.keys(d).sort(), DISCOUNT_KEYS);
    const got = await s.customers.retrieve(cus.id) as Stripe.Customer;
    const disc = got.discount!;
    assert.match(disc.id, /^di_[A-Za-z0-9]{24}$/);
    assert.equal(disc.object, 'discount');
    assert.equal(disc.customer, cus.id);
    assert.deepEqual(disc.source, { coupon: 'HALF', type: 'coupon' });
    assert.equal(disc.start, T0);
    assert.equal(disc.end, Date.UTC(2025, 1, 28, 10) / 1000); // Jan 31 + 1 month = Feb 28
    for (const k of ['checkout_session', 'customer_account', 'invoice', 'invoice_item', 'promotion_code', 'subscription', 'subscription_item'] as const) assert.equal(disc[k], null, k);
    assert.equal((await s.coupons.retrieve(coupon.id)).times_redeemed, 1);
    const expanded = await s.customers.retrieve(cus.id, { expand: ['discount.source.coupon'] }) as Stripe.Customer;
    assert.equal((expanded.discount!.source.coupon as Stripe.Coupon).percent_off, 50);

    const removed = await s.customers.deleteDiscount(cus.id);
    assert.deepEqual(removed, { ...Object.fromEntries(Object.entries(disc).filter(([k]) => k !== 'end')), deleted: true });
    assert.equal((await s.customers.retrieve(cus.id) as Stripe.Customer).discount, null);
    const events = (await s.events.list({ limit: 20 })).data.map((e) => e.type).reverse();
    assert.deepEqual(events, ['coupon.created', 'customer.created', 'customer.discount.created', 'customer.updated', 'customer.discount.deleted', 'customer.updated']);
    const deletedEvent = (await s.events.list({ type: 'customer.discount.deleted' })).data[0]!;
    assert.equal((deletedEvent.data.object as any).deleted, true);

    await assert.rejects(s.customers.deleteDiscount(cus.id), (e: any) => e.statusCode === 404 && e.message === `No active discount for customer: ${cus.id}` && e.code === 'resource_missing');
    await assert.rejects(s.customers.deleteDiscount('cus_missing'), (e: any) => e.statusCode === 404 && e.message === "No such customer: 'cus_missing'");
  });

  test('through a promotion code: restrictions checked, promotion_code set; switching coupons is a customer.discount.updated', async () => {
    const key = freshKey();
    const s = t.stripe(key);
    const coupon = await s.coupons.create({ amount_off: 300, currency: 'usd', duration: 'forever' });
    const cus = await s.customers.create({});
    const other = await s.customers.create({});
    const promo = await s.promotionCodes.create({ promotion: { type: 'coupon', coupon: coupon.id }, code: 'VIP', customer: cus.id });
    await assert.rejects(asAccount(t, key, (ctx) => applyCustomerDiscount(ctx, other.id, { promotion_code: promo.id })), /cannot be redeemed by this customer/);
    await assert.rejects(asAccount(t, key, (ctx) => applyCustomerDiscount(ctx, cus.id, { coupon: coupon.id, promotion_code: promo.id })), /only specify one/);
    await assert.rejects(asAccount(t, key, (ctx) => applyCustomerDiscount(ctx, cus.id, { coupon: 'NOPE' })), /No such coupon: 'NOPE'/);
    const first = await asAccount(t, key, (ctx) => applyCustomerDiscount(ctx, cus.id, { coupon: coupon.id }));
    const second = await asAccount(t, key, (ctx) => applyCustomerDiscount(ctx, cus.id, { promotion_code: promo.id }));
    assert.equal(second.promotion_code, promo.id);
    assert.equal(second.end, null);
    assert.equal((await s.promotionCodes.retrieve(promo.id)).times_redeemed, 1);
    assert.equal((await s.coupons.retrieve(coupon.id)).times_redeemed, 2);
    const types = (await s.events.list({ limit: 20 })).data.map((e) => e.type).reverse().slice(-4);
    assert.deepEqual(types, ['customer.discount.created', 'customer.updated', 'customer.discount.updated', 'customer.updated']);
    const upd = (await s.events.list({ type: 'customer.discount.updated' })).data[0]!;
    assert.equal((upd.data.object as any).id, second.id);
    assert.equal((upd.data as any).previous_attributes.id, first.id);
    assert.equal((upd.data as any).previous_attributes.promotion_code, null);
    assert.equal(((await s.customers.retrieve(cus.id)) as Stripe.Customer).discount!.id, second.id);
  });
});
