// Products through the official SDK (and raw HTTP where the SDK hides details).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Stripe from 'stripe';
import { FrozenClock } from '../src/api/clock.js';
import { freshKey, startTestServer, type TestServer } from './helpers/server.js';

let t: TestServer;
let clock: FrozenClock;
const T0 = 1_750_000_000;
before(async () => { clock = new FrozenClock(T0); t = await startTestServer({ clock }); });
after(() => t.close());

/** A client on its own account, so lists, searches and events see only this test's objects. */
const account = () => t.stripe(freshKey());

interface Expected { status: number; message: string | RegExp; param?: string; code?: string }

/** Asserts a Stripe invalid_request_error with exactly this status, code, param and message. */
async function rejects(p: Promise<unknown>, x: Expected): Promise<void> {
  await assert.rejects(p, (e: any) => {
    assert.ok(e instanceof Stripe.errors.StripeInvalidRequestError, `not an InvalidRequestError: ${e}`);
    assert.equal((e.raw as any).type, 'invalid_request_error');
    assert.equal(e.statusCode, x.status);
    if (x.message instanceof RegExp) assert.match(e.message, x.message); else assert.equal(e.message, x.message);
    assert.equal(e.param, x.param);
    assert.equal(e.code, x.code);
    return true;
  });
}

const PRODUCT_KEYS = [
  'active', 'created', 'default_price', 'description', 'id', 'images', 'livemode', 'marketing_features', 'metadata',
  'name', 'object', 'package_dimensions', 'shippable', 'statement_descriptor', 'tax_code', 'tax_details', 'type',
  'unit_label', 'updated', 'url',
];

async function eventTypes(s: Stripe): Promise<string[]> {
  return (await s.events.list({ limit: 100 })).data.map((e) => e.type).reverse();
}

describe('products: create', () => {
  test('returns every field of the current shape with Stripe defaults', async () => {
    const p = await account().products.create({ name: 'Gold' });
    assert.match(p.id, /^prod_[A-Za-z0-9]{14}$/);
    assert.deepEqual(Object.keys(p).sort(), PRODUCT_KEYS);
    assert.equal(p.object, 'product');
    assert.equal(p.name, 'Gold');
    assert.equal(p.active, true);
    assert.equal(p.type, 'service');
    assert.equal(p.livemode, false);
    assert.deepEqual(p.images, []);
    assert.deepEqual(p.marketing_features, []);
    assert.deepEqual(p.metadata, {});
    for (const k of ['default_price', 'description', 'package_dimensions', 'shippable', 'statement_descriptor', 'tax_code', 'tax_details', 'unit_label', 'url'] as const) {
      assert.equal(p[k], null, k);
    }
    assert.equal(p.created, T0);
    assert.equal(p.updated, T0);
  });

  test('sets every creatable field', async () => {
    const p = await account().products.create({
      name: 'T-shirt', active: false, description: 'Comfortable gray cotton t-shirt', images: ['https://example.com/a.png'],
      marketing_features: [{ name: 'Soft' }, { name: 'Grey' }], metadata: { sku: 'ts-1' },
      package_dimensions: { height: 1.5, length: 2, weight: 3.25, width: 4 }, shippable: true,
      statement_descriptor: 'SHIRTS', tax_code: 'txcd_99999999', tax_details: { tax_code: 'txcd_99999999' },
      type: 'good', unit_label: 'shirt', url: 'https://example.com/shirt',
    });
    assert.equal(p.active, false);
    assert.equal(p.description, 'Comfortable gray cotton t-shirt');
    assert.deepEqual(p.images, ['https://example.com/a.png']);
    assert.deepEqual(p.marketing_features, [{ name: 'Soft' }, { name: 'Grey' }]);
    assert.deepEqual(p.metadata, { sku: 'ts-1' });
    assert.deepEqual(p.package_dimensions, { height: 1.5, length: 2, weight: 3.25, width: 4 });
    assert.equal(p.shippable, true);
    assert.equal(p.statement_descriptor, 'SHIRTS');
    assert.equal(p.tax_code, 'txcd_99999999');
    assert.deepEqual(p.tax_details, { performance_location: null, tax_code: 'txcd_99999999' });
    assert.equal(p.type, 'good');
    assert.equal(p.unit_label, 'shirt');
    assert.equal(p.url, 'https://example.com/shirt');
  });

  test('a custom id is used; a taken id is refused', async () => {
    const s = account();
    const p = await s.products.create({ id: 'gold_plan', name: 'Gold' });
    assert.equal(p.id, 'gold_plan');
    assert.equal((await s.products.retrieve('gold_plan')).name, 'Gold');
    await rejects(s.products.create({ id: 'gold_plan', name: 'Again' }),
      { status: 400, message: 'Product already exists.', param: 'id', code: 'resource_already_exists' });
  });

  test('default_price_data creates the price: product.created then price.created, default_price set', async () => {
    const s = account();
    const p = await s.products.create({
      name: 'Pro', default_price_data: { currency: 'USD', unit_amount: 2000, recurring: { interval: 'month', interval_count: 3 }, tax_behavior: 'exclusive', metadata: { a: 'b' } },
    });
    assert.match(p.default_price as string, /^price_[A-Za-z0-9]{24}$/);
    const price = await s.prices.retrieve(p.default_price as string);
    assert.equal(price.product, p.id);
    assert.equal(price.currency, 'usd');
    assert.equal(price.unit_amount, 2000);
    assert.equal(price.type, 'recurring');
    assert.deepEqual(price.recurring, { interval: 'month', interval_count: 3, meter: null, trial_period_days: null, usage_type: 'licensed' });
    assert.equal(price.tax_behavior, 'exclusive');
    assert.deepEqual(price.metadata, { a: 'b' });
    assert.deepEqual(await eventTypes(s), ['product.created', 'price.created']);
    const created = (await s.events.list({ type: 'product.created' })).data[0]!;
    assert.equal((created.data.object as Stripe.Product).default_price, price.id);
    const expanded = await s.products.retrieve(p.id, { expand: ['default_price'] });
    assert.equal((expanded.default_price as Stripe.Price).id, price.id);
  });

  test('default_price_data accepts unit_amount_decimal, custom_unit_amount and currency_options', async () => {
    const s = account();
    const a = await s.products.create({ name: 'A', default_price_data: { currency: 'usd', unit_amount_decimal: Stripe.Decimal.from('12.5') } });
    const pa = await s.prices.retrieve(a.default_price as string);
    assert.equal(pa.unit_amount, null);
    assert.equal(String(pa.unit_amount_decimal), '12.5');
    const b = await s.products.create({ name: 'B', default_price_data: { currency: 'usd', custom_unit_amount: { enabled: true, minimum: 500 } } });
    const pb = await s.prices.retrieve(b.default_price as string);
    assert.deepEqual(pb.custom_unit_amount, { maximum: null, minimum: 500, preset: null });
    const c = await s.products.create({ name: 'C', default_price_data: { currency: 'usd', unit_amount: 1000, currency_options: { eur: { unit_amount: 900 } } } });
    const pc = await s.prices.retrieve(c.default_price as string, { expand: ['currency_options'] });
    assert.equal(pc.currency_options!.eur!.unit_amount, 900);
  });

  test('default_price_data errors name the nested param and create nothing', async () => {
    const s = account();
    await rejects(s.products.create({ name: 'X', default_price_data: { currency: 'usd' } }),
      { status: 400, message: 'Prices require an `unit_amount` or `unit_amount_decimal` parameter to be set.' });
    await rejects(s.products.create({ name: 'X', default_price_data: { currency: 'usd', unit_amount: -1 } }),
      { status: 400, message: 'Invalid non-negative integer', param: 'default_price_data[unit_amount]', code: 'parameter_invalid_integer' });
    await rejects(s.products.create({ name: 'X', default_price_data: { currency: 'usd', unit_amount: 1, recurring: { interval: 'year', interval_count: 4 } } }),
      { status: 400, message: "The interval_count for yearly prices can't be greater than 3", param: 'default_price_data[recurring][interval_count]' });
    await rejects(s.products.create({ name: 'X', default_price_data: { currency: 'usd', unit_amount: 1, unit_amount_decimal: Stripe.Decimal.from('1') } }),
      { status: 400, message: 'You may only specify one of these parameters: unit_amount, unit_amount_decimal.', param: 'default_price_data[unit_amount]' });
    await rejects(s.products.create({ name: 'X', default_price_data: { currency: 'dollars', unit_amount: 1 } }),
      { status: 400, message: /^Invalid currency: dollars\. Stripe currently supports these currencies: usd, /, param: 'default_price_data[currency]' });
    await rejects(s.products.create({ name: 'X', default_price_data: { unit_amount: 1 } as any }),
      { status: 400, message: 'Missing required param: default_price_data[currency].', param: 'default_price_data[currency]', code: 'parameter_missing' });
    await rejects(s.products.create({ name: 'X', default_price_data: { currency: 'usd', unit_amount: 1, lookup_key: 'k' } as any }),
      { status: 400, message: 'Received unknown parameter: default_price_data[lookup_key]', param: 'default_price_data[lookup_key]', code: 'parameter_unknown' });
    assert.deepEqual((await s.products.list()).data, []);
    assert.deepEqual((await s.prices.list()).data, []);
    assert.deepEqual(await eventTypes(s), []);
  });

  test('validation errors name the parameter', async () => {
    const s = account();
    await rejects(s.products.create({} as any), { status: 400, message: 'Missing required param: name.', param: 'name', code: 'parameter_missing' });
    await rejects(s.products.create({ name: '' }), {
      status: 400, param: 'name', code: 'parameter_invalid_empty',
      message: "You passed an empty string for 'name'. We assume empty values are an attempt to unset a parameter; however 'name' cannot be unset. You should remove 'name' from your request or supply a non-empty value.",
    });
    await rejects(s.products.create({ name: 'X', type: 'digital' as any }), { status: 400, message: 'Invalid type: must be one of good or service', param: 'type' });
    await rejects(s.products.create({ name: 'X', colour: 'red' } as any), { status: 400, message: 'Received unknown parameter: colour', param: 'colour', code: 'parameter_unknown' });
    await rejects(s.products.create({ name: 'X', statement_descriptor: 'A'.repeat(23) }),
      { status: 400, message: 'Invalid string: AAAAAAAAAAAAAAAAAAAAAAA; must be at most 22 characters', param: 'statement_descriptor', code: 'parameter_invalid_string' });
    await rejects(s.products.create({ name: 'X', statement_descriptor: 'BAD<CHARS' }),
      { status: 400, message: 'The statement descriptor contains one or more prohibited characters: < > \\ \' " *', param: 'statement_descriptor' });
    await rejects(s.products.create({ name: 'X', statement_descriptor: '12345' }),
      { status: 400, message: 'The statement descriptor must contain at least one letter.', param: 'statement_descriptor' });
    await rejects(s.products.create({ name: 'X', unit_label: 'thirteen char' }),
      { status: 400, message: 'Invalid string: thirteen char; must be at most 12 characters', param: 'unit_label', code: 'parameter_invalid_string' });
    await rejects(s.products.create({ name: 'X', url: 'https://example.com/' + 'a'.repeat(2030) }),
      { status: 400, message: /^Invalid string: https:\/\/example\.com\/a{20}\.\.\.; must be at most 2048 characters$/, param: 'url', code: 'parameter_invalid_string' });
    await rejects(s.products.create({ name: 'X', images: Array.from({ length: 9 }, (_, i) => `https://example.com/${i}.png`) }),
      { status: 400, message: 'You can specify at most 8 images.', param: 'images' });
    await rejects(s.products.create({ name: 'X', marketing_features: Array.from({ length: 16 }, (_, i) => ({ name: `f${i}` })) }),
      { status: 400, message: 'You can specify at most 15 marketing features.', param: 'marketing_features' });
    await rejects(s.products.create({ name: 'X', marketing_features: [{ name: 'x'.repeat(81) }] }),
      { status: 400, message: `Invalid string: ${'x'.repeat(40)}...; must be at most 80 characters`, param: 'marketing_features[0][name]', code: 'parameter_invalid_string' });
    await rejects(s.products.create({ name: 'X', package_dimensions: { height: 1, length: 1, weight: 1 } } as any),
      { status: 400, message: 'Missing required param: package_dimensions[width].', param: 'package_dimensions[width]', code: 'parameter_missing' });
    await rejects(s.products.create({ name: 'X', metadata: { ['k'.repeat(41)]: 'v' } }),
      // The metadata rules (and their wording) are shared by every resource: see src/api/metadata.ts.
      { status: 400, message: /40 characters/, param: `metadata[${'k'.repeat(41)}]` });
    assert.deepEqual((await s.products.list()).data, []);
  });
});

describe('products: retrieve, update, delete', () => {
  test('retrieve returns the stored product; an unknown id is a 404', async () => {
    const s = account();
    const p = await s.products.create({ name: 'R', metadata: { a: '1' } });
    assert.deepEqual(await s.products.retrieve(p.id), p);
    await rejects(s.products.retrieve('prod_missing'), { status: 404, message: "No such product: 'prod_missing'", param: 'id', code: 'resource_missing' });
    await rejects(s.products.update('prod_missing', { name: 'x' }), { status: 404, message: "No such product: 'prod_missing'", param: 'id', code: 'resource_missing' });
    await rejects(s.products.del('prod_missing'), { status: 404, message: "No such product: 'prod_missing'", param: 'id', code: 'resource_missing' });
  });

  test('update sets and unsets fields, bumps updated, emits product.updated with previous_attributes', async () => {
    const s = account();
    const p = await s.products.create({ name: 'Old', description: 'first', images: ['https://x/1.png'], metadata: { a: '1', b: '2' }, url: 'https://x', unit_label: 'seat', package_dimensions: { height: 1, length: 1, weight: 1, width: 1 } });
    clock.set(T0 + 100);
    try {
      const u = await s.products.update(p.id, {
        name: 'New', description: '', images: '', metadata: { a: '', c: '3' }, url: '', unit_label: '', package_dimensions: '',
        marketing_features: [{ name: 'Fast' }], shippable: false, active: false, statement_descriptor: 'NEWDESC', tax_code: 'txcd_10000000',
        tax_details: { performance_location: 'taxloc_1' },
      } as any);
      assert.equal(u.name, 'New');
      assert.equal(u.description, null);
      assert.deepEqual(u.images, []);
      assert.deepEqual(u.metadata, { b: '2', c: '3' });
      assert.equal(u.url, null);
      assert.equal(u.unit_label, null);
      assert.equal(u.package_dimensions, null);
      assert.deepEqual(u.marketing_features, [{ name: 'Fast' }]);
      assert.equal(u.shippable, false);
      assert.equal(u.active, false);
      assert.equal(u.statement_descriptor, 'NEWDESC');
      assert.equal(u.tax_code, 'txcd_10000000');
      assert.deepEqual(u.tax_details, { performance_location: 'taxloc_1', tax_code: null });
      assert.equal(u.created, T0);
      assert.equal(u.updated, T0 + 100);
      const cleared = await s.products.update(p.id, { metadata: '', marketing_features: '', tax_code: '', tax_details: '' } as any);
      assert.deepEqual(cleared.metadata, {});
      assert.deepEqual(cleared.marketing_features, []);
      assert.equal(cleared.tax_code, null);
      assert.equal(cleared.tax_details, null);
      const ev = (await s.events.list({ type: 'product.updated' })).data;
      assert.equal(ev.length, 2);
      const first = ev[1]!;
      assert.equal((first.data.object as Stripe.Product).name, 'New');
      assert.deepEqual(first.data.previous_attributes, {
        active: true, description: 'first', images: ['https://x/1.png'], marketing_features: [], metadata: { a: '1', c: null },
        name: 'Old', package_dimensions: { height: 1, length: 1, weight: 1, width: 1 }, shippable: null, statement_descriptor: null,
        tax_code: null, tax_details: null, unit_label: 'seat', updated: T0, url: 'https://x',
      });
    } finally {
      clock.set(T0);
    }
  });

  test('an update that changes nothing keeps updated and emits no event', async () => {
    const s = account();
    const p = await s.products.create({ name: 'Same', description: 'd' });
    clock.set(T0 + 50);
    try {
      const u = await s.products.update(p.id, { name: 'Same', description: 'd' });
      assert.equal(u.updated, T0);
      assert.deepEqual(await eventTypes(s), ['product.created']);
    } finally {
      clock.set(T0);
    }
  });

  test('update refuses an empty name and validates like create', async () => {
    const s = account();
    const p = await s.products.create({ name: 'N' });
    await rejects(s.products.update(p.id, { name: '' }), {
      status: 400, param: 'name', code: 'parameter_invalid_empty',
      message: "You passed an empty string for 'name'. We assume empty values are an attempt to unset a parameter; however 'name' cannot be unset. You should remove 'name' from your request or supply a non-empty value.",
    });
    await rejects(s.products.update(p.id, { type: 'good' } as any), { status: 400, message: 'Received unknown parameter: type', param: 'type', code: 'parameter_unknown' });
    await rejects(s.products.update(p.id, { statement_descriptor: 'x'.repeat(23) }),
      { status: 400, message: `Invalid string: ${'x'.repeat(23)}; must be at most 22 characters`, param: 'statement_descriptor', code: 'parameter_invalid_string' });
    assert.equal((await s.products.retrieve(p.id)).name, 'N');
  });

  test('default_price must be an active price of this product; "" unsets it', async () => {
    const s = account();
    const p = await s.products.create({ name: 'P' });
    const other = await s.products.create({ name: 'Other' });
    const price = await s.prices.create({ product: p.id, currency: 'usd', unit_amount: 100 });
    const second = await s.prices.create({ product: p.id, currency: 'usd', unit_amount: 200 });
    const foreign = await s.prices.create({ product: other.id, currency: 'usd', unit_amount: 300 });
    const u = await s.products.update(p.id, { default_price: price.id });
    assert.equal(u.default_price, price.id);
    const withPrice = await s.products.update(p.id, { default_price: second.id, expand: ['default_price'] });
    assert.equal((withPrice.default_price as Stripe.Price).unit_amount, 200);
    await rejects(s.products.update(p.id, { default_price: 'price_missing' }),
      { status: 400, message: "No such price: 'price_missing'", param: 'default_price', code: 'resource_missing' });
    await rejects(s.products.update(p.id, { default_price: foreign.id }),
      { status: 400, message: `The price \`${foreign.id}\` does not belong to this product (\`${p.id}\`); the default price must be one of the product's prices.`, param: 'default_price' });
    await s.prices.update(price.id, { active: false });
    await rejects(s.products.update(p.id, { default_price: price.id }),
      { status: 400, message: 'The price specified is inactive. This field only accepts active prices.', param: 'default_price' });
    assert.equal((await s.products.retrieve(p.id)).default_price, second.id);
    const unset = await s.products.update(p.id, { default_price: '' });
    assert.equal(unset.default_price, null);
  });

  test('delete is refused while the product has prices, active or archived', async () => {
    const key = freshKey();
    const s = t.stripe(key);
    const p = await s.products.create({ name: 'Priced' });
    const price = await s.prices.create({ product: p.id, currency: 'usd', unit_amount: 100 });
    const message = 'This product cannot be deleted because it has one or more user-created prices.';
    await rejects(s.products.del(p.id), { status: 400, message });
    await s.prices.update(price.id, { active: false });
    await s.products.update(p.id, { active: false });
    await rejects(s.products.del(p.id), { status: 400, message });
    assert.equal((await s.products.retrieve(p.id)).id, p.id);
    const raw = await t.request('DELETE', `/v1/products/${p.id}`, { key });
    assert.equal(raw.status, 400);
    assert.deepEqual(Object.keys(raw.json.error).sort(), ['message', 'request_log_url', 'type']);
    assert.deepEqual(await eventTypes(s), ['product.created', 'price.created', 'price.updated', 'product.updated']);
  });

  test('a product without prices deletes; it then retrieves, updates and deletes as 404', async () => {
    const key = freshKey();
    const s = t.stripe(key);
    const p = await s.products.create({ name: 'Gone' });
    const del = await s.products.del(p.id);
    assert.deepEqual({ ...del }, { id: p.id, object: 'product', deleted: true });
    const missing = { status: 404, message: `No such product: '${p.id}'`, param: 'id', code: 'resource_missing' };
    await rejects(s.products.retrieve(p.id), missing);
    await rejects(s.products.update(p.id, { name: 'x' }), missing);
    await rejects(s.products.del(p.id), missing);
    await rejects(s.prices.create({ product: p.id, currency: 'usd', unit_amount: 1 }),
      { status: 400, message: `No such product: '${p.id}'`, param: 'product', code: 'resource_missing' });
    assert.deepEqual((await s.products.list()).data, []);
    assert.deepEqual(await eventTypes(s), ['product.created', 'product.deleted']);
    const raw = await t.request('DELETE', `/v1/products/${p.id}`, { key });
    assert.equal(raw.status, 404);
    assert.equal(raw.json.error.type, 'invalid_request_error');
  });
});

describe('products: list and search', () => {
  test('list filters by active, ids, shippable, type, url and created, newest first, paginated', async () => {
    const s = account();
    const made: Stripe.Product[] = [];
    const specs: Stripe.ProductCreateParams[] = [
      { name: 'a', shippable: true, url: 'https://a', type: 'good' },
      { name: 'b', active: false },
      { name: 'c', shippable: false, url: 'https://c' },
      { name: 'd', active: false, shippable: true },
      { name: 'e', url: 'https://a' },
    ];
    for (const [i, spec] of specs.entries()) {
      clock.set(T0 + 10 * i);
      made.push(await s.products.create(spec));
    }
    clock.set(T0);
    const ids = (l: { data: Stripe.Product[] }) => l.data.map((p) => p.name);
    assert.deepEqual(ids(await s.products.list()), ['e', 'd', 'c', 'b', 'a']);
    assert.deepEqual(ids(await s.products.list({ active: true })), ['e', 'c', 'a']);
    assert.deepEqual(ids(await s.products.list({ active: false })), ['d', 'b']);
    assert.deepEqual(ids(await s.products.list({ shippable: true })), ['d', 'a']);
    assert.deepEqual(ids(await s.products.list({ shippable: false })), ['c']);
    assert.deepEqual(ids(await s.products.list({ url: 'https://a' })), ['e', 'a']);
    assert.deepEqual(ids(await s.products.list({ type: 'good' })), ['a']);
    assert.deepEqual(ids(await s.products.list({ ids: [made[0]!.id, made[3]!.id, 'prod_unknown'] })), ['d', 'a']);
    assert.deepEqual(ids(await s.products.list({ ids: [made[0]!.id, made[3]!.id], active: true })), ['a']);
    assert.deepEqual(ids(await s.products.list({ created: { gte: T0 + 10, lt: T0 + 40 } })), ['d', 'c', 'b']);
    assert.deepEqual(ids(await s.products.list({ created: T0 + 20 })), ['c']);
    const page = await s.products.list({ limit: 2 });
    assert.equal(page.has_more, true);
    assert.equal(page.url, '/v1/products');
    assert.deepEqual(ids(page), ['e', 'd']);
    const next = await s.products.list({ limit: 2, starting_after: page.data[1]!.id });
    assert.deepEqual(ids(next), ['c', 'b']);
    const back = await s.products.list({ limit: 2, ending_before: made[1]!.id });
    assert.deepEqual(ids(back), ['d', 'c']);
    const all: string[] = [];
    for await (const p of s.products.list({ limit: 2, active: true })) all.push(p.name);
    assert.deepEqual(all, ['e', 'c', 'a']);
  });

  test('list errors', async () => {
    const s = account();
    const p = await s.products.create({ name: 'x' });
    await rejects(s.products.list({ ids: [p.id], starting_after: p.id }),
      { status: 400, message: 'You may only specify one of these parameters: ids, starting_after.', param: 'ids' });
    await rejects(s.products.list({ ids: [p.id], ending_before: p.id }),
      { status: 400, message: 'You may only specify one of these parameters: ids, ending_before.', param: 'ids' });
    await rejects(s.products.list({ shippable: 'maybe' as any }), { status: 400, message: 'Invalid boolean: maybe', param: 'shippable' });
    await rejects(s.products.list({ type: 'digital' as any }), { status: 400, message: 'Invalid type: must be one of good or service', param: 'type' });
  });

  test('search: active, description, name, shippable, url, metadata; total_count; unsupported fields', async () => {
    const s = account();
    const a = await s.products.create({ name: 'Gold Plan', description: 'The best t-shirts', shippable: true, url: 'https://shop.example/dinosaur_swag', metadata: { tier: 'gold' } });
    const b = await s.products.create({ name: 'Silver plan', active: false, description: 'Second best', metadata: { tier: 'silver' } });
    const c = await s.products.create({ name: 'Bronze', shippable: false });
    const q = async (query: string) => (await s.products.search({ query })).data.map((p) => p.id);
    assert.deepEqual(await q("active:'true'"), [c.id, a.id]);
    assert.deepEqual(await q("active:'false'"), [b.id]);
    assert.deepEqual(await q("description~'t-shirts'"), [a.id]);
    assert.deepEqual(await q("name:'plan'"), [b.id, a.id]);
    assert.deepEqual(await q("name~'ron'"), [c.id]);
    assert.deepEqual(await q("shippable:'true'"), [a.id]);
    assert.deepEqual(await q("url~'/dinosaur_swag'"), [a.id]);
    assert.deepEqual(await q('url:null'), [c.id, b.id]);
    assert.deepEqual(await q("metadata['tier']:'silver'"), [b.id]);
    assert.deepEqual(await q("active:'true' AND metadata['tier']:'gold'"), [a.id]);
    assert.deepEqual(await q("-metadata['tier']:null"), [b.id, a.id]);
    const r = await s.products.search({ query: "active:'true' OR active:'false'", limit: 1, expand: ['total_count'] });
    assert.equal(r.object, 'search_result');
    assert.equal(r.url, '/v1/products/search');
    assert.equal((r as any).total_count, 3);
    assert.ok(r.next_page);
    // Stripe documents no `created` query field for products (docs.stripe.com/search).
    await rejects(s.products.search({ query: `created>${T0 - 1}` }), {
      status: 400, param: 'query',
      message: 'Field `created` is an unsupported search field for resource `products`. See http://stripe.com/docs/search#query-fields-for-products for a list of supported fields.',
    });
    await rejects(s.products.search({ query: 'name:' }), {
      status: 400, param: 'query',
      message: 'We were unable to parse your search query. Try using the format `metadata["key"]:"value"` to query for metadata or key:"value" to query for other fields.',
    });
    await rejects(s.products.search({} as any), { status: 400, message: 'Missing required param: query.', param: 'query', code: 'parameter_missing' });
  });
});

describe('products: modes and accounts', () => {
  test('products are isolated per account and mode', async () => {
    const suffix = freshKey().slice('sk_test_'.length);
    const testMode = t.stripe(`sk_test_${suffix}`);
    const live = t.stripe(`sk_live_${suffix}`);
    const p = await testMode.products.create({ name: 'test' });
    await rejects(live.products.retrieve(p.id), { status: 404, message: `No such product: '${p.id}'; a similar object exists in test mode, but a live mode key was used to make this request.`, param: 'id', code: 'resource_missing' });
    await rejects(account().products.retrieve(p.id), { status: 404, message: `No such product: '${p.id}'`, param: 'id', code: 'resource_missing' });
    const lp = await live.products.create({ name: 'live', id: p.id });
    assert.equal(lp.livemode, true);
    assert.equal(lp.id, p.id);
  });
});
