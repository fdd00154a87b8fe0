// Shipping rates through the official SDK.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Stripe from 'stripe';
import { FrozenClock } from '../src/api/clock.js';
import { freshKey, startTestServer, type TestServer } from './helpers/server.js';
import { rejects } from './helpers/errors.js';

let t: TestServer;
const T0 = 1_750_000_000;
const clock = new FrozenClock(T0);
before(async () => { t = await startTestServer({ clock }); });
after(() => t.close());

const account = () => t.stripe(freshKey());

const KEYS = ['active', 'created', 'delivery_estimate', 'display_name', 'fixed_amount', 'id', 'livemode', 'metadata', 'object', 'tax_behavior', 'tax_code', 'type'];

describe('shipping rates', () => {
  test('create: every field and defaults; with delivery estimate, currency options, tax code', async () => {
    const s = account();
    const r = await s.shippingRates.create({ display_name: 'Ground', fixed_amount: { amount: 500, currency: 'USD' } });
    assert.deepEqual(Object.keys(r).sort(), KEYS);
    assert.match(r.id, /^shr_[A-Za-z0-9]{24}$/);
    assert.equal(r.object, 'shipping_rate');
    assert.equal(r.active, true);
    assert.equal(r.type, 'fixed_amount');
    assert.deepEqual(r.fixed_amount, { amount: 500, currency: 'usd' });
    assert.equal(r.delivery_estimate, null);
    assert.equal(r.tax_behavior, 'unspecified');
    assert.equal(r.tax_code, null);
    assert.deepEqual(r.metadata, {});
    assert.equal(r.created, T0);
    const full = await s.shippingRates.create({
      display_name: 'Express', type: 'fixed_amount', tax_behavior: 'exclusive', tax_code: 'txcd_92010001', metadata: { a: 'b' },
      fixed_amount: { amount: 1500, currency: 'usd', currency_options: { eur: { amount: 1400, tax_behavior: 'inclusive' }, gbp: { amount: 1200 } } },
      delivery_estimate: { minimum: { unit: 'business_day', value: 1 }, maximum: { unit: 'business_day', value: 2 } },
      expand: ['fixed_amount.currency_options'],
    });
    assert.deepEqual(full.delivery_estimate, { maximum: { unit: 'business_day', value: 2 }, minimum: { unit: 'business_day', value: 1 } });
    assert.deepEqual(full.fixed_amount!.currency_options, { eur: { amount: 1400, tax_behavior: 'inclusive' }, gbp: { amount: 1200, tax_behavior: 'unspecified' } });
    assert.equal(full.tax_code, 'txcd_92010001');
    assert.deepEqual(await s.shippingRates.retrieve(full.id, { expand: ['fixed_amount.currency_options'] }), full);
    // fixed_amount.currency_options is includable: only returned when expanded.
    assert.deepEqual((await s.shippingRates.retrieve(full.id)).fixed_amount, { amount: 1500, currency: 'usd' });
    assert.deepEqual((await s.shippingRates.list({ expand: ['data.fixed_amount.currency_options'] })).data[1]!.fixed_amount!.currency_options, {});
    assert.equal((await s.events.list()).data.length, 0, 'Stripe sends no shipping_rate events');
  });

  test('create validation', async () => {
    const s = account();
    await rejects(s.shippingRates.create({ display_name: 'X' }), { status: 400, message: 'Missing required param: fixed_amount.', param: 'fixed_amount', code: 'parameter_missing' });
    await rejects(s.shippingRates.create({ fixed_amount: { amount: 1, currency: 'usd' } } as any), { status: 400, message: 'Missing required param: display_name.', param: 'display_name', code: 'parameter_missing' });
    await rejects(s.shippingRates.create({ display_name: 'X', fixed_amount: { amount: -1, currency: 'usd' } }), { status: 400, message: 'Invalid non-negative integer', param: 'fixed_amount[amount]', code: 'parameter_invalid_integer' });
    await rejects(s.shippingRates.create({ display_name: 'X', fixed_amount: { amount: 1, currency: 'dollars' } }), { status: 400, message: /^Invalid currency: dollars/, param: 'fixed_amount[currency]' });
    await rejects(s.shippingRates.create({ display_name: 'X', fixed_amount: { amount: 1, currency: 'usd', currency_options: { usd: { amount: 2 } } } }), { status: 400, message: /matches the top-level currency/, param: 'fixed_amount[currency_options][usd]' });
    await rejects(s.shippingRates.create({ display_name: 'X', fixed_amount: { amount: 1, currency: 'usd' }, tax_code: 'food' }), { status: 400, message: /^Invalid tax code: food/, param: 'tax_code' });
    await rejects(s.shippingRates.create({ display_name: 'X', fixed_amount: { amount: 1, currency: 'usd' }, delivery_estimate: { minimum: { unit: 'week', value: 2 }, maximum: { unit: 'day', value: 3 } } }),
      { status: 400, message: 'The delivery estimate minimum must not be greater than its maximum.', param: 'delivery_estimate[minimum]' });
    await rejects(s.shippingRates.create({ display_name: 'X', fixed_amount: { amount: 1, currency: 'usd' }, delivery_estimate: { minimum: { unit: 'day', value: 0 } } }),
      { status: 400, message: 'Invalid positive integer', param: 'delivery_estimate[minimum][value]', code: 'parameter_invalid_integer' });
  });

  test('update: active, metadata, tax_behavior once, currency options; nothing else', async () => {
    const s = account();
    const r = await s.shippingRates.create({ display_name: 'Ground', fixed_amount: { amount: 500, currency: 'usd', currency_options: { eur: { amount: 450 } } } });
    const u = await s.shippingRates.update(r.id, { active: false, metadata: { k: 'v' }, tax_behavior: 'inclusive', fixed_amount: { currency_options: { eur: { amount: 480 }, gbp: { amount: 400, tax_behavior: 'exclusive' } } }, expand: ['fixed_amount.currency_options'] });
    assert.equal(u.active, false);
    assert.deepEqual(u.metadata, { k: 'v' });
    assert.equal(u.tax_behavior, 'inclusive');
    assert.deepEqual(u.fixed_amount!.currency_options, { eur: { amount: 480, tax_behavior: 'unspecified' }, gbp: { amount: 400, tax_behavior: 'exclusive' } });
    await rejects(s.shippingRates.update(r.id, { tax_behavior: 'exclusive' }), { status: 400, message: 'tax_behavior cannot be changed once it is set to `inclusive`.', param: 'tax_behavior' });
    await rejects(s.shippingRates.update(r.id, { fixed_amount: { currency_options: { gbp: { amount: 1, tax_behavior: 'inclusive' } } } }), { status: 400, message: 'tax_behavior cannot be changed once it is set to `exclusive`.', param: 'fixed_amount[currency_options][gbp][tax_behavior]' });
    await rejects(s.shippingRates.update(r.id, { display_name: 'New' } as any), { status: 400, message: 'Received unknown parameter: display_name', param: 'display_name', code: 'parameter_unknown' });
    await assert.rejects(s.shippingRates.retrieve('shr_missing'), (e: any) => e.statusCode === 404 && e.message === "No such shipping_rate: 'shr_missing'");
  });

  test('list filters: active, currency (top-level or option), created', async () => {
    const s = account();
    const a = await s.shippingRates.create({ display_name: 'A', fixed_amount: { amount: 1, currency: 'usd' } });
    clock.set(clock.now() + 5);
    const b = await s.shippingRates.create({ display_name: 'B', fixed_amount: { amount: 1, currency: 'eur', currency_options: { usd: { amount: 2 } } } });
    clock.set(clock.now() + 5);
    const c = await s.shippingRates.create({ display_name: 'C', fixed_amount: { amount: 1, currency: 'gbp' } });
    await s.shippingRates.update(c.id, { active: false });
    const ids = async (p: Stripe.ShippingRateListParams) => (await s.shippingRates.list(p)).data.map((x) => x.id);
    assert.deepEqual(await ids({}), [c.id, b.id, a.id]);
    assert.deepEqual(await ids({ active: true }), [b.id, a.id]);
    assert.deepEqual(await ids({ active: false }), [c.id]);
    assert.deepEqual(await ids({ currency: 'USD' }), [b.id, a.id]);
    assert.deepEqual(await ids({ currency: 'gbp' }), [c.id]);
    assert.deepEqual(await ids({ created: { gte: b.created } }), [c.id, b.id]);
  });
});
