// Prices through the official SDK (and raw HTTP where the SDK hides details: decimal strings,
// includable fields, unrouted DELETE).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Stripe from 'stripe';
import { FrozenClock } from '../src/api/clock.js';
import { freshKey, startTestServer, type TestServer } from './helpers/server.js';

let t: TestServer;
let clock: FrozenClock;
const T0 = 1_760_000_000;
before(async () => { clock = new FrozenClock(T0); t = await startTestServer({ clock }); });
after(() => t.close());

interface Account { key: string; s: Stripe; product: string }

/** A fresh account with one product, so lists, searches and events see only this test's objects. */
async function account(): Promise<Account> {
  const key = freshKey();
  const s = t.stripe(key);
  const product = (await s.products.create({ name: 'Widget' })).id;
  return { key, s, product };
}

interface Expected { status: number; message: string | RegExp; param?: string; code?: string }

async function rejects(p: Promise<unknown>, x: Expected): Promise<void> {
  await assert.rejects(p, (e: any) => {
    assert.ok(e instanceof Stripe.errors.StripeInvalidRequestError, `not an InvalidRequestError: ${e}`);
    assert.equal((e.raw as any).type, 'invalid_request_error');
    assert.equal(e.statusCode, x.status, e.message);
    if (x.message instanceof RegExp) assert.match(e.message, x.message); else assert.equal(e.message, x.message);
    assert.equal(e.param, x.param);
    assert.equal(e.code, x.code);
    return true;
  });
}

/** Raw form POST (the SDK turns decimal strings into Decimal objects). */
async function post(a: Account, path: string, body: string) {
  return t.request('POST', path, { key: a.key, body });
}

const dec = (v: string) => Stripe.Decimal.from(v);

const PRICE_KEYS = [
  'active', 'billing_scheme', 'created', 'currency', 'custom_unit_amount', 'id', 'livemode', 'lookup_key', 'metadata',
  'nickname', 'object', 'product', 'recurring', 'tax_behavior', 'tiers_mode', 'transform_quantity', 'type', 'unit_amount',
  'unit_amount_decimal',
];

async function eventTypes(s: Stripe): Promise<string[]> {
  return (await s.events.list({ limit: 100 })).data.map((e) => e.type).reverse();
}

describe('prices: create', () => {
  test('a one-time price has every field of the current shape, with Stripe defaults', async () => {
    const a = await account();
    const raw = await post(a, '/v1/prices', `product=${a.product}&currency=USD&unit_amount=1000`);
    assert.equal(raw.status, 200);
    const p = raw.json;
    assert.match(p.id, /^price_[A-Za-z0-9]{24}$/);
    assert.deepEqual(Object.keys(p).sort(), PRICE_KEYS);
    assert.deepEqual(p, {
      id: p.id, object: 'price', active: true, billing_scheme: 'per_unit', created: T0, currency: 'usd',
      custom_unit_amount: null, livemode: false, lookup_key: null, metadata: {}, nickname: null, product: a.product,
      recurring: null, tax_behavior: 'unspecified', tiers_mode: null, transform_quantity: null, type: 'one_time',
      unit_amount: 1000, unit_amount_decimal: '1000',
    });
    // tiers and currency_options are includable: absent unless expanded.
    assert.ok(!('tiers' in p) && !('currency_options' in p));
    assert.deepEqual(await eventTypes(a.s), ['product.created', 'price.created']);
  });

  test('a recurring price: defaults, every interval, interval_count limits, trial days', async () => {
    const a = await account();
    const p = await a.s.prices.create({ product: a.product, currency: 'usd', unit_amount: 500, recurring: { interval: 'month' }, nickname: 'Monthly', metadata: { plan: 'm' } });
    assert.equal(p.type, 'recurring');
    assert.deepEqual(p.recurring, { interval: 'month', interval_count: 1, meter: null, trial_period_days: null, usage_type: 'licensed' });
    assert.equal(p.nickname, 'Monthly');
    assert.deepEqual(p.metadata, { plan: 'm' });
    for (const [interval, max, adjective] of [['day', 1095, 'daily'], ['week', 156, 'weekly'], ['month', 36, 'monthly'], ['year', 3, 'yearly']] as const) {
      const ok = await a.s.prices.create({ product: a.product, currency: 'usd', unit_amount: 1, recurring: { interval, interval_count: max } });
      assert.equal(ok.recurring!.interval_count, max);
      await rejects(a.s.prices.create({ product: a.product, currency: 'usd', unit_amount: 1, recurring: { interval, interval_count: max + 1 } }),
        { status: 400, message: `The interval_count for ${adjective} prices can't be greater than ${max}`, param: 'recurring[interval_count]' });
    }
    await rejects(a.s.prices.create({ product: a.product, currency: 'usd', unit_amount: 1, recurring: { interval: 'month', interval_count: 0 } }),
      { status: 400, message: 'Invalid positive integer', param: 'recurring[interval_count]', code: 'parameter_invalid_integer' });
    const trial = await a.s.prices.create({ product: a.product, currency: 'usd', unit_amount: 1, recurring: { interval: 'week', trial_period_days: 14 } });
    assert.equal(trial.recurring!.trial_period_days, 14);
    await rejects(a.s.prices.create({ product: a.product, currency: 'usd', unit_amount: 1, recurring: { interval: 'week', trial_period_days: 0 } }),
      { status: 400, message: 'Invalid positive integer', param: 'recurring[trial_period_days]', code: 'parameter_invalid_integer' });
    await rejects(a.s.prices.create({ product: a.product, currency: 'usd', unit_amount: 1, recurring: { interval: 'fortnight' as any } }),
      { status: 400, message: 'Invalid recurring[interval]: must be one of day, week, month, or year', param: 'recurring[interval]' });
    await rejects(a.s.prices.create({ product: a.product, currency: 'usd', unit_amount: 1, recurring: { interval_count: 2 } as any }),
      { status: 400, message: 'Missing required param: recurring[interval].', param: 'recurring[interval]', code: 'parameter_missing' });
  });

  test('metered prices need a meter; meters do not exist yet, so any meter id is missing', async () => {
    const a = await account();
    await rejects(a.s.prices.create({ product: a.product, currency: 'usd', unit_amount: 5, recurring: { interval: 'month', usage_type: 'metered' } }),
      { status: 400, message: 'Starting with Stripe version `2025-03-31.basil`, metered prices must be backed by meters.' });
    await rejects(a.s.prices.create({ product: a.product, currency: 'usd', unit_amount: 5, recurring: { interval: 'month', usage_type: 'metered', meter: 'mtr_123' } }),
      { status: 400, message: "No such meter: 'mtr_123'", param: 'recurring[meter]', code: 'resource_missing' });
    await rejects(a.s.prices.create({ product: a.product, currency: 'usd', unit_amount: 5, recurring: { interval: 'month', meter: 'mtr_456' } }),
      { status: 400, message: "No such meter: 'mtr_456'", param: 'recurring[meter]', code: 'resource_missing' });
    const licensed = await a.s.prices.create({ product: a.product, currency: 'usd', unit_amount: 5, recurring: { interval: 'month', usage_type: 'licensed' } });
    assert.equal(licensed.recurring!.usage_type, 'licensed');
  });

  test('product or product_data, not both, not neither', async () => {
    const a = await account();
    const p = await a.s.prices.create({ currency: 'eur', unit_amount: 700, product_data: { name: 'Inline', metadata: { x: 'y' }, unit_label: 'seat', statement_descriptor: 'INLINE', id: 'inline_prod' } });
    assert.equal(p.product, 'inline_prod');
    const product = await a.s.products.retrieve('inline_prod');
    assert.equal(product.name, 'Inline');
    assert.deepEqual(product.metadata, { x: 'y' });
    assert.equal(product.unit_label, 'seat');
    assert.equal(product.default_price, null);
    assert.deepEqual((await eventTypes(a.s)).slice(1), ['product.created', 'price.created']);
    const withProduct = await a.s.prices.create({ currency: 'usd', unit_amount: 1, product: a.product, expand: ['product'] });
    assert.equal((withProduct.product as Stripe.Product).name, 'Widget');
    await rejects(a.s.prices.create({ currency: 'usd', unit_amount: 1 }),
      { status: 400, message: 'You must specify either `product` or `product_data` when creating a price.' });
    await rejects(a.s.prices.create({ currency: 'usd', unit_amount: 1, product: a.product, product_data: { name: 'x' } }),
      { status: 400, message: 'You may only specify one of these parameters: product, product_data.', param: 'product' });
    await rejects(a.s.prices.create({ currency: 'usd', unit_amount: 1, product: 'prod_nope' }),
      { status: 400, message: "No such product: 'prod_nope'", param: 'product', code: 'resource_missing' });
    await rejects(a.s.prices.create({ currency: 'usd', unit_amount: 1, product: p.id }),
      { status: 400, message: `No such product: '${p.id}'`, param: 'product', code: 'resource_missing' });
    await rejects(a.s.prices.create({ currency: 'usd', unit_amount: 1, product_data: { name: 'dup', id: 'inline_prod' } }),
      { status: 400, message: 'Product already exists.', param: 'product_data[id]', code: 'resource_already_exists' });
    await rejects(a.s.prices.create({ currency: 'usd', unit_amount: 1, product_data: { name: 'x', statement_descriptor: 'x'.repeat(23) } }),
      { status: 400, message: `Invalid string: ${'x'.repeat(23)}; must be at most 22 characters`, param: 'product_data[statement_descriptor]', code: 'parameter_invalid_string' });
    await rejects(a.s.prices.create({ currency: 'usd', unit_amount: 1, product_data: { unit_label: 'x' } as any }),
      { status: 400, message: 'Missing required param: product_data[name].', param: 'product_data[name]', code: 'parameter_missing' });
    await rejects(a.s.prices.create({ currency: 'usd', unit_amount: 1, product_data: { name: 'x', description: 'd' } as any }),
      { status: 400, message: 'Received unknown parameter: product_data[description]', param: 'product_data[description]', code: 'parameter_unknown' });
    // Failed creates leave nothing behind, not even the inline product.
    assert.equal((await a.s.products.list()).data.length, 2);
  });

  test('amount rules: unit_amount or unit_amount_decimal, exactly one, non-negative, at most 12 decimals', async () => {
    const a = await account();
    const free = await a.s.prices.create({ product: a.product, currency: 'usd', unit_amount: 0 });
    assert.equal(free.unit_amount, 0);
    const frac = await post(a, '/v1/prices', `product=${a.product}&currency=usd&unit_amount_decimal=0012.50`);
    assert.equal(frac.json.unit_amount, null);
    assert.equal(frac.json.unit_amount_decimal, '12.5');
    const whole = await post(a, '/v1/prices', `product=${a.product}&currency=usd&unit_amount_decimal=1000.000`);
    assert.equal(whole.json.unit_amount, 1000);
    assert.equal(whole.json.unit_amount_decimal, '1000');
    const tiny = await post(a, '/v1/prices', `product=${a.product}&currency=usd&unit_amount_decimal=0.000000000001`);
    assert.equal(tiny.json.unit_amount_decimal, '0.000000000001');
    const viaSdk = await a.s.prices.create({ product: a.product, currency: 'usd', unit_amount_decimal: dec('2.25') });
    assert.equal(String(viaSdk.unit_amount_decimal), '2.25');
    assert.equal(viaSdk.unit_amount, null);
    await rejects(a.s.prices.create({ product: a.product, currency: 'usd' }),
      { status: 400, message: 'Prices require an `unit_amount` or `unit_amount_decimal` parameter to be set.' });
    await rejects(a.s.prices.create({ product: a.product, currency: 'usd', recurring: { interval: 'month' } }),
      { status: 400, message: 'Prices require an `unit_amount` or `unit_amount_decimal` parameter to be set.' });
    await rejects(a.s.prices.create({ product: a.product, currency: 'usd', unit_amount: 1, unit_amount_decimal: dec('1') }),
      { status: 400, message: 'You may only specify one of these parameters: unit_amount, unit_amount_decimal.', param: 'unit_amount' });
    await rejects(a.s.prices.create({ product: a.product, currency: 'usd', unit_amount: -5 }),
      { status: 400, message: 'Invalid non-negative integer', param: 'unit_amount', code: 'parameter_invalid_integer' });
    const tooPrecise = await post(a, '/v1/prices', `product=${a.product}&currency=usd&unit_amount_decimal=1.0000000000001`);
    assert.equal(tooPrecise.status, 400);
    assert.deepEqual(tooPrecise.json.error.message, 'Invalid decimal: 1.0000000000001; must have at most 12 decimal places');
    assert.equal(tooPrecise.json.error.param, 'unit_amount_decimal');
    const negative = await post(a, '/v1/prices', `product=${a.product}&currency=usd&unit_amount_decimal=-1.5`);
    assert.equal(negative.status, 400);
    assert.equal(negative.json.error.message, 'Invalid decimal: -1.5; must be greater than or equal to 0');
    assert.equal(negative.json.error.param, 'unit_amount_decimal');
    const notDecimal = await post(a, '/v1/prices', `product=${a.product}&currency=usd&unit_amount_decimal=12abc`);
    assert.equal(notDecimal.status, 400);
    assert.equal(notDecimal.json.error.param, 'unit_amount_decimal');
    await rejects(a.s.prices.create({ product: a.product, currency: 'dollars', unit_amount: 1 }),
      { status: 400, message: /^Invalid currency: dollars\. Stripe currently supports these currencies: usd, /, param: 'currency' });
    await rejects(a.s.prices.create({ product: a.product, unit_amount: 1 } as any),
      { status: 400, message: 'Missing required param: currency.', param: 'currency', code: 'parameter_missing' });
    await rejects(a.s.prices.create({ product: a.product, currency: 'usd', unit_amount: 1, id: 'price_custom' } as any),
      { status: 400, message: 'Received unknown parameter: id', param: 'id', code: 'parameter_unknown' });
  });

  test('tiered prices: graduated and volume, up_to inf last, tiers only when expanded', async () => {
    const a = await account();
    const g = await a.s.prices.create({
      product: a.product, currency: 'usd', billing_scheme: 'tiered', tiers_mode: 'graduated', recurring: { interval: 'month' },
      tiers: [{ up_to: 5, unit_amount: 500 }, { up_to: 10, unit_amount_decimal: dec('450.5'), flat_amount: 100 }, { up_to: 'inf', flat_amount_decimal: dec('99.5') }],
    });
    assert.equal(g.billing_scheme, 'tiered');
    assert.equal(g.tiers_mode, 'graduated');
    assert.equal(g.unit_amount, null);
    assert.equal(g.unit_amount_decimal, null);
    assert.equal(g.tiers, undefined);
    const raw = await t.request('GET', `/v1/prices/${g.id}?expand[]=tiers`, { key: a.key });
    assert.deepEqual(raw.json.tiers, [
      { flat_amount: null, flat_amount_decimal: null, unit_amount: 500, unit_amount_decimal: '500', up_to: 5 },
      { flat_amount: 100, flat_amount_decimal: '100', unit_amount: null, unit_amount_decimal: '450.5', up_to: 10 },
      { flat_amount: null, flat_amount_decimal: '99.5', unit_amount: null, unit_amount_decimal: null, up_to: null },
    ]);
    assert.ok(!('currency_options' in raw.json));
    const v = await a.s.prices.create({
      product: a.product, currency: 'usd', billing_scheme: 'tiered', tiers_mode: 'volume', recurring: { interval: 'year' },
      tiers: [{ up_to: 'inf', unit_amount: 100 }], expand: ['tiers'],
    });
    assert.equal(v.tiers_mode, 'volume');
    assert.deepEqual(v.tiers!.map((x) => x.up_to), [null]);
    const listed = await a.s.prices.list({ type: 'recurring', expand: ['data.tiers'] });
    assert.deepEqual(listed.data.map((p) => p.tiers!.length), [1, 3]);
    const plain = await a.s.prices.list({ type: 'recurring' });
    assert.ok(plain.data.every((p) => !('tiers' in p)));
    const perUnit = await a.s.prices.create({ product: a.product, currency: 'usd', unit_amount: 1, expand: ['tiers'] });
    assert.equal(perUnit.tiers, null);
  });

  test('tier validation errors', async () => {
    const a = await account();
    const base = { product: a.product, currency: 'usd', billing_scheme: 'tiered' as const, tiers_mode: 'graduated' as const, recurring: { interval: 'month' as const } };
    await rejects(a.s.prices.create({ ...base, recurring: undefined, tiers: [{ up_to: 'inf', unit_amount: 1 }] }),
      { status: 400, message: 'Prices with `type=one_time` are not supported with tiered billing.', param: 'interval' });
    await rejects(a.s.prices.create({ ...base }),
      { status: 400, message: 'Missing required param: tiers.', param: 'tiers', code: 'parameter_missing' });
    await rejects(a.s.prices.create({ ...base, tiers_mode: undefined, tiers: [{ up_to: 'inf', unit_amount: 1 }] }),
      { status: 400, message: 'Missing required param: tiers_mode.', param: 'tiers_mode', code: 'parameter_missing' });
    await rejects(a.s.prices.create({ ...base, tiers: [{ up_to: 'inf', unit_amount: 1 }, { up_to: 'inf', unit_amount: 2 }] }),
      { status: 400, message: 'Only the last tier may have `up_to` set to `inf`.', param: 'tiers[0][up_to]' });
    await rejects(a.s.prices.create({ ...base, tiers: [{ up_to: 5, unit_amount: 1 }, { up_to: 10, unit_amount: 2 }] }),
      { status: 400, message: 'The last tier must have `up_to` set to `inf`.', param: 'tiers[1][up_to]' });
    await rejects(a.s.prices.create({ ...base, tiers: [{ up_to: 10, unit_amount: 1 }, { up_to: 10, unit_amount: 2 }, { up_to: 'inf', unit_amount: 3 }] }),
      { status: 400, message: "Tiers must be in ascending order of `up_to`, and each `up_to` must be greater than the previous tier's.", param: 'tiers[1][up_to]' });
    await rejects(a.s.prices.create({ ...base, tiers: [{ up_to: 0, unit_amount: 1 }, { up_to: 'inf', unit_amount: 3 }] }),
      { status: 400, message: 'Invalid positive integer', param: 'tiers[0][up_to]', code: 'parameter_invalid_integer' });
    await rejects(a.s.prices.create({ ...base, tiers: [{ up_to: 'inf' }] }),
      { status: 400, message: 'Each tier must have at least one of `unit_amount`, `unit_amount_decimal`, `flat_amount` or `flat_amount_decimal` set.', param: 'tiers[0]' });
    await rejects(a.s.prices.create({ ...base, tiers: [{ up_to: 'inf', unit_amount: 1, unit_amount_decimal: dec('1') }] }),
      { status: 400, message: 'You may only specify one of these parameters: unit_amount, unit_amount_decimal.', param: 'tiers[0][unit_amount]' });
    await rejects(a.s.prices.create({ ...base, tiers: [{ up_to: 'inf', flat_amount: 1, flat_amount_decimal: dec('1') }] }),
      { status: 400, message: 'You may only specify one of these parameters: flat_amount, flat_amount_decimal.', param: 'tiers[0][flat_amount]' });
    await rejects(a.s.prices.create({ ...base, tiers: [{ up_to: 'inf', flat_amount: -1 }] }),
      { status: 400, message: 'Invalid non-negative integer', param: 'tiers[0][flat_amount]', code: 'parameter_invalid_integer' });
    await rejects(a.s.prices.create({ ...base, tiers: [{ up_to: 'many' as any, unit_amount: 1 }] }),
      { status: 400, message: /^Invalid/, param: 'tiers[0][up_to]' });
    await rejects(a.s.prices.create({ ...base, tiers: [{ unit_amount: 1 } as any] }),
      { status: 400, message: 'Missing required param: tiers[0][up_to].', param: 'tiers[0][up_to]', code: 'parameter_missing' });
    await rejects(a.s.prices.create({ ...base, unit_amount: 5, tiers: [{ up_to: 'inf', unit_amount: 1 }] }),
      { status: 400, message: '`unit_amount` and `unit_amount_decimal` cannot be used with `billing_scheme=tiered`; set the amounts in `tiers` instead.', param: 'unit_amount' });
    await rejects(a.s.prices.create({ ...base, transform_quantity: { divide_by: 2, round: 'up' }, tiers: [{ up_to: 'inf', unit_amount: 1 }] }),
      { status: 400, message: '`transform_quantity` cannot be combined with `billing_scheme=tiered`.', param: 'transform_quantity' });
    await rejects(a.s.prices.create({ product: a.product, currency: 'usd', unit_amount: 1, tiers: [{ up_to: 'inf', unit_amount: 1 }] }),
      { status: 400, message: '`tiers` can only be set when `billing_scheme=tiered`.', param: 'tiers' });
    await rejects(a.s.prices.create({ product: a.product, currency: 'usd', unit_amount: 1, tiers_mode: 'volume' }),
      { status: 400, message: '`tiers_mode` can only be set when `billing_scheme=tiered`.', param: 'tiers_mode' });
    await rejects(a.s.prices.create({ ...base, tiers_mode: 'stepped' as any, tiers: [{ up_to: 'inf', unit_amount: 1 }] }),
      { status: 400, message: 'Invalid tiers_mode: must be one of graduated or volume', param: 'tiers_mode' });
    assert.equal((await a.s.prices.list({ active: true })).data.length + (await a.s.prices.list({ active: false })).data.length, 0);
  });

  test('transform_quantity', async () => {
    const a = await account();
    const p = await a.s.prices.create({ product: a.product, currency: 'usd', unit_amount: 100, transform_quantity: { divide_by: 10, round: 'up' } });
    assert.deepEqual(p.transform_quantity, { divide_by: 10, round: 'up' });
    await rejects(a.s.prices.create({ product: a.product, currency: 'usd', unit_amount: 100, transform_quantity: { divide_by: 0, round: 'down' } }),
      { status: 400, message: 'Invalid positive integer', param: 'transform_quantity[divide_by]', code: 'parameter_invalid_integer' });
    await rejects(a.s.prices.create({ product: a.product, currency: 'usd', unit_amount: 100, transform_quantity: { divide_by: 2 } as any }),
      { status: 400, message: 'Missing required param: transform_quantity[round].', param: 'transform_quantity[round]', code: 'parameter_missing' });
    await rejects(a.s.prices.create({ product: a.product, currency: 'usd', unit_amount: 100, transform_quantity: { divide_by: 2, round: 'nearest' as any } }),
      { status: 400, message: 'Invalid transform_quantity[round]: must be one of down or up', param: 'transform_quantity[round]' });
  });

  test('custom_unit_amount: one-time only, instead of an amount', async () => {
    const a = await account();
    const p = await a.s.prices.create({ product: a.product, currency: 'usd', custom_unit_amount: { enabled: true, minimum: 100, maximum: 10000, preset: 500 } });
    assert.deepEqual(p.custom_unit_amount, { maximum: 10000, minimum: 100, preset: 500 });
    assert.equal(p.unit_amount, null);
    assert.equal(p.unit_amount_decimal, null);
    const open = await a.s.prices.create({ product: a.product, currency: 'usd', custom_unit_amount: { enabled: true } });
    assert.deepEqual(open.custom_unit_amount, { maximum: null, minimum: null, preset: null });
    await rejects(a.s.prices.create({ product: a.product, currency: 'usd', custom_unit_amount: { enabled: false } }),
      { status: 400, message: 'Prices require an `unit_amount` or `unit_amount_decimal` parameter to be set.' });
    await rejects(a.s.prices.create({ product: a.product, currency: 'usd', recurring: { interval: 'month' }, custom_unit_amount: { enabled: true } }),
      { status: 400, message: '`custom_unit_amount` is only supported for one-time prices; it cannot be used with `recurring`.', param: 'custom_unit_amount' });
    await rejects(a.s.prices.create({ product: a.product, currency: 'usd', unit_amount: 5, custom_unit_amount: { enabled: true } }),
      { status: 400, message: 'You may only specify one of these parameters: custom_unit_amount, unit_amount.', param: 'custom_unit_amount' });
    await rejects(a.s.prices.create({ product: a.product, currency: 'usd', unit_amount_decimal: dec('5'), custom_unit_amount: { enabled: true } }),
      { status: 400, message: 'You may only specify one of these parameters: custom_unit_amount, unit_amount_decimal.', param: 'custom_unit_amount' });
    await rejects(a.s.prices.create({ product: a.product, currency: 'usd', custom_unit_amount: { enabled: true, minimum: 500, maximum: 100 } }),
      { status: 400, message: 'custom_unit_amount[minimum] must be less than or equal to custom_unit_amount[maximum].', param: 'custom_unit_amount[minimum]' });
    await rejects(a.s.prices.create({ product: a.product, currency: 'usd', custom_unit_amount: { enabled: true, minimum: 500, preset: 100 } }),
      { status: 400, message: 'custom_unit_amount[preset] must be greater than or equal to custom_unit_amount[minimum].', param: 'custom_unit_amount[preset]' });
    await rejects(a.s.prices.create({ product: a.product, currency: 'usd', custom_unit_amount: { enabled: true, maximum: 500, preset: 600 } }),
      { status: 400, message: 'custom_unit_amount[preset] must be less than or equal to custom_unit_amount[maximum].', param: 'custom_unit_amount[preset]' });
    await rejects(a.s.prices.create({ product: a.product, currency: 'usd', custom_unit_amount: { enabled: true, minimum: -1 } }),
      { status: 400, message: 'Invalid non-negative integer', param: 'custom_unit_amount[minimum]', code: 'parameter_invalid_integer' });
    await rejects(a.s.prices.create({ product: a.product, currency: 'usd', custom_unit_amount: { minimum: 1 } as any }),
      { status: 400, message: 'Missing required param: custom_unit_amount[enabled].', param: 'custom_unit_amount[enabled]', code: 'parameter_missing' });
  });

  test('currency_options: stored, returned only with expand[]=currency_options, own currency included', async () => {
    const a = await account();
    const p = await a.s.prices.create({
      product: a.product, currency: 'usd', unit_amount: 1000, tax_behavior: 'exclusive',
      currency_options: { EUR: { unit_amount: 900, tax_behavior: 'inclusive' }, gbp: { unit_amount_decimal: '800.5' as any } }, // the SDK cannot encode a Decimal inside a map
    });
    assert.equal(p.currency_options, undefined);
    const raw = await t.request('GET', `/v1/prices/${p.id}?expand[]=currency_options`, { key: a.key });
    assert.deepEqual(raw.json.currency_options, {
      eur: { custom_unit_amount: null, tax_behavior: 'inclusive', unit_amount: 900, unit_amount_decimal: '900' },
      gbp: { custom_unit_amount: null, tax_behavior: 'unspecified', unit_amount: null, unit_amount_decimal: '800.5' },
      usd: { custom_unit_amount: null, tax_behavior: 'exclusive', unit_amount: 1000, unit_amount_decimal: '1000' },
    });
    const listed = await t.request('GET', '/v1/prices?expand[]=data.currency_options', { key: a.key });
    assert.deepEqual(Object.keys(listed.json.data[0].currency_options), ['eur', 'gbp', 'usd']);
    const custom = await a.s.prices.create({ product: a.product, currency: 'usd', custom_unit_amount: { enabled: true }, currency_options: { eur: { custom_unit_amount: { enabled: true, minimum: 50 } } }, expand: ['currency_options'] });
    assert.deepEqual(custom.currency_options!.eur!.custom_unit_amount, { maximum: null, minimum: 50, preset: null });
    const tiered = await a.s.prices.create({
      product: a.product, currency: 'usd', billing_scheme: 'tiered', tiers_mode: 'volume', recurring: { interval: 'month' },
      tiers: [{ up_to: 'inf', unit_amount: 10 }], currency_options: { eur: { tiers: [{ up_to: 'inf', unit_amount: 9 }] } }, expand: ['currency_options'],
    });
    const eurTier = tiered.currency_options!.eur!.tiers![0]!;
    assert.deepEqual({ ...eurTier, unit_amount_decimal: String(eurTier.unit_amount_decimal) },
      { flat_amount: null, flat_amount_decimal: null, unit_amount: 9, unit_amount_decimal: '9', up_to: null });
  });

  test('currency_options errors', async () => {
    const a = await account();
    await rejects(a.s.prices.create({ product: a.product, currency: 'usd', unit_amount: 1, currency_options: { usd: { unit_amount: 2 } } }),
      { status: 400, message: 'You are specifying a currency option that matches the top-level currency for this price. Please remove this currency option and use the top-level params instead.', param: 'currency_options[usd]' });
    await rejects(a.s.prices.create({ product: a.product, currency: 'usd', unit_amount: 1, currency_options: { euro: { unit_amount: 2 } } }),
      { status: 400, message: /^Invalid currency: euro\. /, param: 'currency_options[euro]' });
    await rejects(a.s.prices.create({ product: a.product, currency: 'usd', unit_amount: 1, currency_options: { eur: { tax_behavior: 'inclusive' } } }),
      { status: 400, message: 'Prices require an `unit_amount` or `unit_amount_decimal` parameter to be set.', param: 'currency_options[eur]' });
    await rejects(a.s.prices.create({ product: a.product, currency: 'usd', unit_amount: 1, currency_options: { eur: { unit_amount: -1 } } }),
      { status: 400, message: 'Invalid non-negative integer', param: 'currency_options[eur][unit_amount]', code: 'parameter_invalid_integer' });
    await rejects(a.s.prices.create({ product: a.product, currency: 'usd', billing_scheme: 'tiered', tiers_mode: 'volume', recurring: { interval: 'month' }, tiers: [{ up_to: 'inf', unit_amount: 10 }], currency_options: { eur: { unit_amount: 9 } } }),
      { status: 400, message: '`unit_amount` and `unit_amount_decimal` cannot be used with `billing_scheme=tiered`; set the amounts in `tiers` instead.', param: 'currency_options[eur][unit_amount]' });
    await rejects(a.s.prices.create({ product: a.product, currency: 'usd', billing_scheme: 'tiered', tiers_mode: 'volume', recurring: { interval: 'month' }, tiers: [{ up_to: 'inf', unit_amount: 10 }], currency_options: { eur: { tax_behavior: 'exclusive' } } }),
      { status: 400, message: 'Missing required param: currency_options[eur][tiers].', param: 'currency_options[eur][tiers]', code: 'parameter_missing' });
    await rejects(a.s.prices.create({ product: a.product, currency: 'usd', unit_amount: 1, currency_options: { eur: { tiers: [{ up_to: 'inf', unit_amount: 1 }] } } }),
      { status: 400, message: '`tiers` can only be set when `billing_scheme=tiered`.', param: 'currency_options[eur][tiers]' });
  });
});

describe('prices: lookup keys', () => {
  test('a lookup key is unique (inactive holders included) and transfers with transfer_lookup_key', async () => {
    const a = await account();
    const first = await a.s.prices.create({ product: a.product, currency: 'usd', unit_amount: 100, lookup_key: 'standard_monthly' });
    assert.equal(first.lookup_key, 'standard_monthly');
    await rejects(a.s.prices.create({ product: a.product, currency: 'usd', unit_amount: 200, lookup_key: 'standard_monthly' }),
      { status: 400, message: `A price (\`${first.id}\`) already uses that lookup key.`, param: 'lookup_key' });
    await a.s.prices.update(first.id, { active: false });
    await rejects(a.s.prices.create({ product: a.product, currency: 'usd', unit_amount: 200, lookup_key: 'standard_monthly' }),
      { status: 400, message: `A price (\`${first.id}\`) already uses that lookup key.`, param: 'lookup_key' });
    const second = await a.s.prices.create({ product: a.product, currency: 'usd', unit_amount: 200, lookup_key: 'standard_monthly', transfer_lookup_key: true });
    assert.equal(second.lookup_key, 'standard_monthly');
    const old = await a.s.prices.retrieve(first.id);
    assert.equal(old.lookup_key, null);
    assert.equal(old.active, false);
    const types = await eventTypes(a.s);
    assert.deepEqual(types.slice(-3), ['price.updated', 'price.updated', 'price.created']);
    const updated = (await a.s.events.list({ type: 'price.updated', limit: 1 })).data[0]!;
    assert.equal((updated.data.object as Stripe.Price).id, first.id);
    assert.equal((updated.data.object as Stripe.Price).lookup_key, null);
    assert.deepEqual(updated.data.previous_attributes, { lookup_key: 'standard_monthly' });
    assert.deepEqual((await a.s.prices.list({ lookup_keys: ['standard_monthly'] })).data.map((p) => p.id), [second.id]);
  });

  test('lookup keys on update: set, keep, transfer, unset; transfer_lookup_key alone does nothing', async () => {
    const a = await account();
    const one = await a.s.prices.create({ product: a.product, currency: 'usd', unit_amount: 1, lookup_key: 'gold' });
    const two = await a.s.prices.create({ product: a.product, currency: 'usd', unit_amount: 2 });
    await rejects(a.s.prices.update(two.id, { lookup_key: 'gold' }),
      { status: 400, message: `A price (\`${one.id}\`) already uses that lookup key.`, param: 'lookup_key' });
    const same = await a.s.prices.update(one.id, { lookup_key: 'gold' });
    assert.equal(same.lookup_key, 'gold');
    const moved = await a.s.prices.update(two.id, { lookup_key: 'gold', transfer_lookup_key: true });
    assert.equal(moved.lookup_key, 'gold');
    assert.equal((await a.s.prices.retrieve(one.id)).lookup_key, null);
    const noop = await a.s.prices.update(one.id, { transfer_lookup_key: true });
    assert.equal(noop.lookup_key, null);
    const unset = await t.request('POST', `/v1/prices/${two.id}`, { key: a.key, body: 'lookup_key=' });
    assert.equal(unset.json.lookup_key, null);
    const again = await a.s.prices.update(one.id, { lookup_key: 'gold' });
    assert.equal(again.lookup_key, 'gold');
    await rejects(a.s.prices.create({ product: a.product, currency: 'usd', unit_amount: 1, lookup_key: 'k'.repeat(201) }),
      { status: 400, message: `Invalid string: ${'k'.repeat(40)}...; must be at most 200 characters`, param: 'lookup_key', code: 'parameter_invalid_string' });
    const long = await a.s.prices.create({ product: a.product, currency: 'usd', unit_amount: 1, lookup_key: 'k'.repeat(200) });
    assert.equal(long.lookup_key!.length, 200);
  });

  test('lookup keys are per account and mode', async () => {
    const a = await account();
    const b = await account();
    await a.s.prices.create({ product: a.product, currency: 'usd', unit_amount: 1, lookup_key: 'shared' });
    const other = await b.s.prices.create({ product: b.product, currency: 'usd', unit_amount: 1, lookup_key: 'shared' });
    assert.equal(other.lookup_key, 'shared');
  });

  test('concurrent claims of one lookup key: exactly one wins', async () => {
    const a = await account();
    const attempts = await Promise.allSettled(Array.from({ length: 5 }, (_, i) =>
      a.s.prices.create({ product: a.product, currency: 'usd', unit_amount: i + 1, lookup_key: 'race' })));
    const won = attempts.filter((r) => r.status === 'fulfilled');
    assert.equal(won.length, 1);
    for (const r of attempts) {
      if (r.status === 'rejected') assert.match((r.reason as Error).message, /already uses that lookup key|An unknown error occurred/);
    }
    assert.equal((await a.s.prices.list({ lookup_keys: ['race'] })).data.length, 1);
  });
});

describe('prices: update', () => {
  test('mutable fields: active, nickname, metadata, tax_behavior once; price.updated with previous_attributes', async () => {
    const a = await account();
    const p = await a.s.prices.create({ product: a.product, currency: 'usd', unit_amount: 100, nickname: 'n', metadata: { a: '1', b: '2' } });
    const u = await a.s.prices.update(p.id, { active: false, nickname: 'renamed', metadata: { a: '', c: '3' }, tax_behavior: 'exclusive' });
    assert.equal(u.active, false);
    assert.equal(u.nickname, 'renamed');
    assert.deepEqual(u.metadata, { b: '2', c: '3' });
    assert.equal(u.tax_behavior, 'exclusive');
    assert.equal(u.unit_amount, 100);
    const ev = (await a.s.events.list({ type: 'price.updated' })).data[0]!;
    assert.deepEqual(ev.data.previous_attributes, { active: true, metadata: { a: '1', c: null }, nickname: 'n', tax_behavior: 'unspecified' });
    const same = await a.s.prices.update(p.id, { tax_behavior: 'exclusive' });
    assert.equal(same.tax_behavior, 'exclusive');
    await rejects(a.s.prices.update(p.id, { tax_behavior: 'inclusive' }),
      { status: 400, message: 'tax_behavior cannot be changed once it is set to `exclusive`.', param: 'tax_behavior' });
    await rejects(a.s.prices.update(p.id, { tax_behavior: 'unspecified' }),
      { status: 400, message: 'tax_behavior cannot be changed once it is set to `exclusive`.', param: 'tax_behavior' });
    const cleared = await a.s.prices.update(p.id, { metadata: '', active: true });
    assert.deepEqual(cleared.metadata, {});
    assert.equal(cleared.active, true);
    const nick = await t.request('POST', `/v1/prices/${p.id}`, { key: a.key, body: 'nickname=' });
    assert.equal(nick.json.nickname, null);
    assert.equal((await a.s.events.list({ type: 'price.updated' })).data.length, 3);
  });

  test('the amount, currency, product, recurring and scheme cannot be updated', async () => {
    const a = await account();
    const p = await a.s.prices.create({ product: a.product, currency: 'usd', unit_amount: 100 });
    for (const field of ['unit_amount', 'currency', 'product', 'recurring', 'billing_scheme', 'type']) {
      const raw = await t.request('POST', `/v1/prices/${p.id}`, { key: a.key, body: `${field}=1` });
      assert.equal(raw.status, 400);
      assert.equal(raw.json.error.message, `Received unknown parameter: ${field}`);
      assert.equal(raw.json.error.param, field);
    }
  });

  test('currency_options on update: add, replace, remove one, clear; the own currency is refused', async () => {
    const a = await account();
    const p = await a.s.prices.create({ product: a.product, currency: 'usd', unit_amount: 100, currency_options: { eur: { unit_amount: 90, tax_behavior: 'inclusive' } } });
    const opts = async () => (await a.s.prices.retrieve(p.id, { expand: ['currency_options'] })).currency_options!;
    await a.s.prices.update(p.id, { currency_options: { gbp: { unit_amount: 80 }, eur: { unit_amount: 95 } } });
    let o = await opts();
    assert.deepEqual(Object.keys(o), ['eur', 'gbp', 'usd']);
    assert.equal(o.eur!.unit_amount, 95);
    assert.equal(o.eur!.tax_behavior, 'inclusive');
    await rejects(a.s.prices.update(p.id, { currency_options: { eur: { unit_amount: 95, tax_behavior: 'exclusive' } } }),
      { status: 400, message: 'tax_behavior cannot be changed once it is set to `inclusive`.', param: 'currency_options[eur][tax_behavior]' });
    await rejects(a.s.prices.update(p.id, { currency_options: { usd: { unit_amount: 101 } } }), {
      status: 400, param: 'currency_options[usd]',
      message: 'You are specifying an update to a currency option that matches the top-level currency for this price. Please remove this currency option and update the top-level params instead.',
    });
    const removed = await t.request('POST', `/v1/prices/${p.id}`, { key: a.key, body: 'currency_options[gbp]=' });
    assert.equal(removed.status, 200);
    assert.ok(!('currency_options' in removed.json));
    assert.deepEqual(Object.keys(await opts()), ['eur', 'usd']);
    await a.s.prices.update(p.id, { currency_options: '' });
    o = await opts();
    assert.deepEqual(Object.keys(o), ['usd']);
    assert.equal(o.usd!.unit_amount, 100);
    await a.s.prices.update(p.id, { tax_behavior: 'inclusive' });
    assert.equal((await opts()).usd!.tax_behavior, 'inclusive');
  });

  test("the product's default price cannot be archived", async () => {
    const a = await account();
    const product = await a.s.products.create({ name: 'D', default_price_data: { currency: 'usd', unit_amount: 100 } });
    await rejects(a.s.prices.update(product.default_price as string, { active: false }),
      { status: 400, message: 'This price cannot be archived because it is the default price of its product.', param: 'active' });
    await a.s.products.update(product.id, { default_price: '' });
    const archived = await a.s.prices.update(product.default_price as string, { active: false });
    assert.equal(archived.active, false);
  });

  test('unknown prices: retrieve and update are 404s naming `price`; there is no delete', async () => {
    const a = await account();
    const missing = { status: 404, message: "No such price: 'price_nope'", param: 'price', code: 'resource_missing' };
    await rejects(a.s.prices.retrieve('price_nope'), missing);
    await rejects(a.s.prices.update('price_nope', { nickname: 'x' }), missing);
    await rejects(a.s.prices.retrieve(a.product), { ...missing, message: `No such price: '${a.product}'` });
    const p = await a.s.prices.create({ product: a.product, currency: 'usd', unit_amount: 1 });
    const del = await t.request('DELETE', `/v1/prices/${p.id}`, { key: a.key });
    assert.equal(del.status, 404);
    assert.deepEqual(Object.keys(del.json.error).sort(), ['message', 'request_log_url', 'type']);
    assert.equal(del.json.error.type, 'invalid_request_error');
    assert.equal(del.json.error.message, `Unrecognized request URL (DELETE: /v1/prices/${p.id}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`);
    assert.equal((await a.s.prices.retrieve(p.id)).id, p.id);
    assert.equal(typeof (a.s.prices as any).del, 'undefined');
  });
});

describe('prices: list and search', () => {
  async function seed() {
    const a = await account();
    const other = (await a.s.products.create({ name: 'Other' })).id;
    const mk = async (i: number, params: Partial<Stripe.PriceCreateParams>) => {
      clock.set(T0 + 10 * i);
      return a.s.prices.create({ product: a.product, currency: 'usd', unit_amount: 100 + i, ...params } as Stripe.PriceCreateParams);
    };
    const p = [
      await mk(0, { lookup_key: 'basic', metadata: { tier: 'basic' } }),
      await mk(1, { currency: 'eur', recurring: { interval: 'month' }, lookup_key: 'pro_monthly' }),
      await mk(2, { recurring: { interval: 'year' }, product: other, lookup_key: 'pro_yearly', metadata: { tier: 'pro' } }),
      await mk(3, { active: false, recurring: { interval: 'month' } }),
      await mk(4, { currency: 'EUR' }),
    ];
    clock.set(T0);
    return { a, other, p };
  }

  test('list: active by default, filters, created ranges, pagination', async () => {
    const { a, other, p } = await seed();
    const ids = (l: { data: Stripe.Price[] }) => l.data.map((x) => p.findIndex((y) => y.id === x.id));
    assert.deepEqual(ids(await a.s.prices.list()), [4, 2, 1, 0]);
    assert.deepEqual(ids(await a.s.prices.list({ active: true })), [4, 2, 1, 0]);
    assert.deepEqual(ids(await a.s.prices.list({ active: false })), [3]);
    assert.deepEqual(ids(await a.s.prices.list({ currency: 'EUR' })), [4, 1]);
    assert.deepEqual(ids(await a.s.prices.list({ product: other })), [2]);
    assert.deepEqual(ids(await a.s.prices.list({ product: a.product, active: false })), [3]);
    assert.deepEqual(ids(await a.s.prices.list({ type: 'one_time' })), [4, 0]);
    assert.deepEqual(ids(await a.s.prices.list({ type: 'recurring' })), [2, 1]);
    assert.deepEqual(ids(await a.s.prices.list({ recurring: { interval: 'month' } })), [1]);
    assert.deepEqual(ids(await a.s.prices.list({ recurring: { interval: 'month' }, active: false })), [3]);
    assert.deepEqual(ids(await a.s.prices.list({ recurring: { usage_type: 'licensed' } })), [2, 1]);
    assert.deepEqual(ids(await a.s.prices.list({ recurring: { meter: 'mtr_none' } })), []);
    assert.deepEqual(ids(await a.s.prices.list({ lookup_keys: ['basic', 'pro_yearly', 'missing'] })), [2, 0]);
    assert.deepEqual(ids(await a.s.prices.list({ lookup_keys: ['pro_monthly'] })), [1]);
    assert.deepEqual(ids(await a.s.prices.list({ created: { gt: T0 + 10, lte: T0 + 40 } })), [4, 2]);
    assert.deepEqual(ids(await a.s.prices.list({ created: T0 + 10 })), [1]);
    const page = await a.s.prices.list({ limit: 3 });
    assert.equal(page.url, '/v1/prices');
    assert.equal(page.has_more, true);
    assert.deepEqual(ids(page), [4, 2, 1]);
    assert.deepEqual(ids(await a.s.prices.list({ limit: 3, starting_after: p[1]!.id })), [0]);
    assert.deepEqual(ids(await a.s.prices.list({ limit: 2, ending_before: p[0]!.id })), [2, 1]);
    const all: number[] = [];
    for await (const x of a.s.prices.list({ limit: 1 })) all.push(p.findIndex((y) => y.id === x.id));
    assert.deepEqual(all, [4, 2, 1, 0]);
    const expanded = await a.s.prices.list({ product: other, expand: ['data.product'] });
    assert.equal((expanded.data[0]!.product as Stripe.Product).name, 'Other');
  });

  test('list errors', async () => {
    const a = await account();
    await rejects(a.s.prices.list({ product: 'prod_nope' }),
      { status: 400, message: "No such product: 'prod_nope'", param: 'product', code: 'resource_missing' });
    await rejects(a.s.prices.list({ lookup_keys: Array.from({ length: 11 }, (_, i) => `k${i}`) }),
      { status: 400, message: 'You can pass at most 10 lookup_keys.', param: 'lookup_keys' });
    await rejects(a.s.prices.list({ type: 'monthly' as any }), { status: 400, message: 'Invalid type: must be one of one_time or recurring', param: 'type' });
    await rejects(a.s.prices.list({ recurring: { interval: 'fortnight' as any } }),
      { status: 400, message: 'Invalid recurring[interval]: must be one of day, week, month, or year', param: 'recurring[interval]' });
    await rejects(a.s.prices.list({ colour: 'red' } as any), { status: 400, message: 'Received unknown parameter: colour', param: 'colour', code: 'parameter_unknown' });
  });

  test('search: active, currency, lookup_key, product, type, metadata; created is not a price search field', async () => {
    const { a, other, p } = await seed();
    const q = async (query: string) => (await a.s.prices.search({ query })).data.map((x) => p.findIndex((y) => y.id === x.id));
    assert.deepEqual(await q("active:'true'"), [4, 2, 1, 0]);
    assert.deepEqual(await q("active:'false'"), [3]);
    assert.deepEqual(await q("currency:'eur'"), [4, 1]);
    assert.deepEqual(await q("currency:'EUR'"), [4, 1]);
    assert.deepEqual(await q("lookup_key:'pro_yearly'"), [2]);
    assert.deepEqual(await q("lookup_key~'pro_'"), [2, 1]);
    assert.deepEqual(await q(`product:'${other}'`), [2]);
    assert.deepEqual(await q(`product:'${a.product}' AND type:'recurring'`), [3, 1]);
    assert.deepEqual(await q("type:'one_time'"), [4, 0]);
    assert.deepEqual(await q("metadata['tier']:'pro'"), [2]);
    assert.deepEqual(await q("-metadata['tier']:null"), [2, 0]);
    assert.deepEqual(await q("currency:'usd' OR lookup_key:'pro_monthly'"), [3, 2, 1, 0]);
    const page = await a.s.prices.search({ query: "active:'true'", limit: 3, expand: ['total_count'] });
    assert.equal((page as any).total_count, 4);
    assert.equal(page.url, '/v1/prices/search');
    const rest = await a.s.prices.search({ query: "active:'true'", limit: 3, page: page.next_page! });
    assert.deepEqual(rest.data.map((x) => x.id), [p[0]!.id]);
    assert.equal(rest.next_page, null);
    // Stripe documents no `created` query field for prices (docs.stripe.com/search).
    await rejects(a.s.prices.search({ query: `created>${T0}` }), {
      status: 400, param: 'query',
      message: 'Field `created` is an unsupported search field for resource `prices`. See http://stripe.com/docs/search#query-fields-for-prices for a list of supported fields.',
    });
    await rejects(a.s.prices.search({ query: 'foo:"bar"' }), {
      status: 400, param: 'query',
      message: 'Field `foo` is an unsupported search field for resource `prices`. See http://stripe.com/docs/search#query-fields-for-prices for a list of supported fields.',
    });
    await rejects(a.s.prices.search({ query: 'asdf' }), {
      status: 400, param: 'query',
      message: 'We were unable to parse your search query. Try using the format `metadata["key"]:"value"` to query for metadata or key:"value" to query for other fields.',
    });
  });
});
