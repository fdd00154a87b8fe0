// Coupons through the official SDK.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Stripe from 'stripe';
import { FrozenClock } from '../src/api/clock.js';
import { freshKey, startTestServer, type TestServer } from './helpers/server.js';
import { rejects } from './helpers/errors.js';

let t: TestServer;
let clock: FrozenClock;
const T0 = 1_750_000_000;
before(async () => { clock = new FrozenClock(T0); t = await startTestServer({ clock }); });
after(() => t.close());

const account = () => t.stripe(freshKey());

const COUPON_KEYS = ['amount_off', 'created', 'currency', 'duration', 'duration_in_months', 'id', 'livemode', 'max_redemptions', 'metadata',
  'name', 'object', 'percent_off', 'redeem_by', 'times_redeemed', 'valid'];

async function eventTypes(s: Stripe): Promise<string[]> {
  return (await s.events.list({ limit: 100 })).data.map((e) => e.type).reverse();
}

describe('coupons: create', () => {
  test('percent_off coupon: every field, generated 8-character id, duration defaults to once', async () => {
    const c = await account().coupons.create({ percent_off: 25.5 });
    assert.deepEqual(Object.keys(c).sort(), COUPON_KEYS);
    assert.match(c.id, /^[A-Z0-9]{8}$/);
    assert.equal(c.object, 'coupon');
    assert.equal(c.percent_off, 25.5);
    assert.equal(c.amount_off, null);
    assert.equal(c.currency, null);
    assert.equal(c.duration, 'once');
    assert.equal(c.duration_in_months, null);
    assert.equal(c.max_redemptions, null);
    assert.equal(c.redeem_by, null);
    assert.equal(c.name, null);
    assert.deepEqual(c.metadata, {});
    assert.equal(c.times_redeemed, 0);
    assert.equal(c.valid, true);
    assert.equal(c.created, T0);
    assert.equal(c.livemode, false);
    // The includable fields expand on every coupon: no product restriction, no other currency.
    const full = await account().coupons.retrieve(c.id, { expand: ['applies_to', 'currency_options'] }).catch(() => null);
    assert.equal(full, null, 'another account cannot see it');
  });

  test('includable applies_to and currency_options expand on a coupon without them, and stay out of events', async () => {
    const s = account();
    const c = await s.coupons.create({ percent_off: 5 });
    const full = await s.coupons.retrieve(c.id, { expand: ['applies_to', 'currency_options'] });
    assert.deepEqual(full.applies_to, { products: [] });
    assert.deepEqual(full.currency_options, {});
    const ev = (await s.events.list()).data[0]!;
    assert.deepEqual(Object.keys(ev.data.object).sort(), COUPON_KEYS);
  });

  test('amount_off coupon with custom id, currency_options, repeating, applies_to (includable fields on expand)', async () => {
    const s = account();
    const prod = await s.products.create({ name: 'Gold' });
    const c = await s.coupons.create({
      id: 'SUMMER-25', amount_off: 500, currency: 'USD', currency_options: { eur: { amount_off: 450 } }, duration: 'repeating',
      duration_in_months: 3, max_redemptions: 10, redeem_by: T0 + 86_400, name: 'Summer', metadata: { a: '1' },
      applies_to: { products: [prod.id] },
    });
    assert.equal(c.id, 'SUMMER-25');
    assert.deepEqual(Object.keys(c).sort(), COUPON_KEYS);
    assert.equal(c.currency, 'usd');
    assert.equal(c.duration_in_months, 3);
    assert.equal(c.max_redemptions, 10);
    assert.equal(c.redeem_by, T0 + 86_400);
    const full = await s.coupons.retrieve('SUMMER-25', { expand: ['applies_to', 'currency_options'] });
    assert.deepEqual(full.applies_to, { products: [prod.id] });
    assert.deepEqual(full.currency_options, { eur: { amount_off: 450 } });
    assert.deepEqual(await eventTypes(s), ['product.created', 'coupon.created']);
  });

  test('validation: percent/amount exactly one, currency, duration_in_months, ranges, duplicate id, products', async () => {
    const s = account();
    await rejects(s.coupons.create({}), { status: 400, message: 'You must pass either `percent_off` or `amount_off`.', param: 'percent_off' });
    await rejects(s.coupons.create({ percent_off: 10, amount_off: 100, currency: 'usd' }), { status: 400, message: 'You may only specify one of these parameters: amount_off, percent_off.', param: 'amount_off' });
    await rejects(s.coupons.create({ amount_off: 100 }), { status: 400, message: 'You must pass currency when passing amount_off', param: 'currency' });
    await rejects(s.coupons.create({ percent_off: 0 }), { status: 400, message: 'percent_off must be greater than 0 and less than or equal to 100.', param: 'percent_off' });
    await rejects(s.coupons.create({ percent_off: 100.5 }), { status: 400, message: 'percent_off must be greater than 0 and less than or equal to 100.', param: 'percent_off' });
    await rejects(s.coupons.create({ amount_off: 0, currency: 'usd' }), { status: 400, message: 'Invalid positive integer', param: 'amount_off', code: 'parameter_invalid_integer' });
    await rejects(s.coupons.create({ percent_off: 10, currency: 'usd' }), { status: 400, message: 'You may only specify `currency` with `amount_off`.', param: 'currency' });
    await rejects(s.coupons.create({ percent_off: 10, currency_options: { eur: { amount_off: 1 } } }), { status: 400, message: 'You may only specify `currency_options` with `amount_off`.', param: 'currency_options' });
    await rejects(s.coupons.create({ amount_off: 10, currency: 'usd', currency_options: { usd: { amount_off: 1 } } }), { status: 400, message: /matches the top-level currency/, param: 'currency_options[usd]' });
    await rejects(s.coupons.create({ percent_off: 10, duration: 'repeating' }), { status: 400, message: 'Missing required param: duration_in_months.', param: 'duration_in_months', code: 'parameter_missing' });
    await rejects(s.coupons.create({ percent_off: 10, duration: 'forever', duration_in_months: 2 }), { status: 400, message: 'duration_in_months can only be set when duration is `repeating`.', param: 'duration_in_months' });
    await rejects(s.coupons.create({ percent_off: 10, max_redemptions: 0 }), { status: 400, message: 'Invalid positive integer', param: 'max_redemptions', code: 'parameter_invalid_integer' });
    await rejects(s.coupons.create({ percent_off: 10, redeem_by: T0 }), { status: 400, message: 'Redeem by must be in the future', param: 'redeem_by' });
    await rejects(s.coupons.create({ percent_off: 10, name: 'x'.repeat(41) }), { status: 400, message: /must be at most 40 characters/, param: 'name', code: 'parameter_invalid_string' });
    await rejects(s.coupons.create({ percent_off: 10, applies_to: { products: ['prod_missing'] } }), { status: 400, message: "No such product: 'prod_missing'", param: 'applies_to[products][0]', code: 'resource_missing' });
    await s.coupons.create({ id: 'DUP', percent_off: 10 });
    await rejects(s.coupons.create({ id: 'DUP', percent_off: 10 }), { status: 400, message: 'Coupon already exists.', param: 'id', code: 'resource_already_exists' });
    await rejects(s.coupons.create({ percent_off: 10, duration: 'weekly' as any }), { status: 400, message: /Invalid duration/, param: 'duration' });
  });
});

describe('coupons: retrieve, update, delete, list', () => {
  test('update changes only name, metadata and currency_options, with coupon.updated', async () => {
    const s = account();
    const c = await s.coupons.create({ amount_off: 300, currency: 'usd', name: 'Old' });
    const u = await s.coupons.update(c.id, { name: 'New', metadata: { k: 'v' }, currency_options: { gbp: { amount_off: 250 } } });
    assert.equal(u.name, 'New');
    assert.deepEqual(u.metadata, { k: 'v' });
    const full = await s.coupons.retrieve(c.id, { expand: ['currency_options'] });
    assert.deepEqual(full.currency_options, { gbp: { amount_off: 250 } });
    await rejects(s.coupons.update(c.id, { amount_off: 1 } as any), { status: 400, message: 'Received unknown parameter: amount_off', param: 'amount_off', code: 'parameter_unknown' });
    const events = await s.events.list({ type: 'coupon.updated' });
    assert.equal(events.data.length, 1);
    assert.deepEqual((events.data[0]!.data as any).previous_attributes, { metadata: { k: null }, name: 'Old' });
    const pct = await s.coupons.create({ percent_off: 5 });
    await rejects(s.coupons.update(pct.id, { currency_options: { eur: { amount_off: 1 } } }), { status: 400, message: 'You may only specify `currency_options` with `amount_off`.', param: 'currency_options' });
  });

  test('delete answers the deleted shape, emits coupon.deleted; the coupon is then gone', async () => {
    const s = account();
    const c = await s.coupons.create({ id: 'BYE', percent_off: 5 });
    assert.deepEqual(await s.coupons.del(c.id), { id: 'BYE', object: 'coupon', deleted: true });
    await assert.rejects(s.coupons.retrieve('BYE'), (e: any) => e.statusCode === 404 && e.message === "No such coupon: 'BYE'" && e.code === 'resource_missing');
    await assert.rejects(s.coupons.del('BYE'), (e: any) => e.statusCode === 404);
    assert.deepEqual(await eventTypes(s), ['coupon.created', 'coupon.deleted']);
    assert.equal((await s.coupons.list()).data.length, 0);
  });

  test('list newest first with created filter and pagination', async () => {
    const s = account();
    const a = await s.coupons.create({ percent_off: 1 });
    clock.set(clock.now() + 10);
    const b = await s.coupons.create({ percent_off: 2 });
    clock.set(clock.now() + 10);
    const c = await s.coupons.create({ percent_off: 3 });
    assert.deepEqual((await s.coupons.list()).data.map((x) => x.id), [c.id, b.id, a.id]);
    assert.deepEqual((await s.coupons.list({ created: { gte: b.created } })).data.map((x) => x.id), [c.id, b.id]);
    const page = await s.coupons.list({ limit: 1, starting_after: c.id });
    assert.deepEqual(page.data.map((x) => x.id), [b.id]);
    assert.equal(page.has_more, true);
  });

  test('valid turns false once redeem_by passes', async () => {
    const s = account();
    const c = await s.coupons.create({ percent_off: 10, redeem_by: clock.now() + 60 });
    assert.equal((await s.coupons.retrieve(c.id)).valid, true);
    clock.set(clock.now() + 61);
    assert.equal((await s.coupons.retrieve(c.id)).valid, false);
    assert.equal((await s.coupons.list()).data[0]!.valid, false);
    assert.equal((await s.coupons.update(c.id, { name: 'Late' })).valid, false);
  });
});
