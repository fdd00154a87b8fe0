// Tax rates through the official SDK.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Stripe from 'stripe';
import { FrozenClock } from '../src/api/clock.js';
import { freshKey, startTestServer, type TestServer } from './helpers/server.js';
import { rejects } from './helpers/errors.js';
import { taxAmount } from '../src/resources/tax-rates.js';

let t: TestServer;
const T0 = 1_750_000_000;
const clock = new FrozenClock(T0);
before(async () => { t = await startTestServer({ clock }); });
after(() => t.close());

const account = () => t.stripe(freshKey());

const KEYS = ['active', 'country', 'created', 'description', 'display_name', 'effective_percentage', 'flat_amount', 'id', 'inclusive',
  'jurisdiction', 'jurisdiction_level', 'livemode', 'metadata', 'object', 'percentage', 'rate_type', 'state', 'tax_type'];

describe('tax rates', () => {
  test('create: every field, defaults, optional fields', async () => {
    const s = account();
    const r = await s.taxRates.create({ display_name: 'VAT', percentage: 19, inclusive: false });
    assert.deepEqual(Object.keys(r).sort(), KEYS);
    assert.match(r.id, /^txr_[A-Za-z0-9]{24}$/);
    assert.equal(r.object, 'tax_rate');
    assert.equal(r.active, true);
    assert.equal(r.percentage, 19);
    assert.equal(r.effective_percentage, 19);
    assert.equal(r.inclusive, false);
    for (const k of ['country', 'description', 'flat_amount', 'jurisdiction', 'jurisdiction_level', 'rate_type', 'state', 'tax_type'] as const) assert.equal(r[k], null, k);
    assert.equal(r.created, T0);
    const full = await s.taxRates.create({
      display_name: 'Sales tax', percentage: 8.875, inclusive: true, active: false, country: 'us', state: 'ny', jurisdiction: 'US - NY',
      description: 'NYC', tax_type: 'sales_tax', metadata: { a: 'b' },
    });
    assert.equal(full.country, 'US');
    assert.equal(full.state, 'NY');
    assert.equal(full.jurisdiction, 'US - NY');
    assert.equal(full.description, 'NYC');
    assert.equal(full.tax_type, 'sales_tax');
    assert.equal(full.active, false);
    assert.equal(full.inclusive, true);
    assert.equal(full.percentage, 8.875);
    assert.deepEqual(full.metadata, { a: 'b' });
    assert.deepEqual((await s.taxRates.retrieve(full.id)), full);
    const events = (await s.events.list()).data.map((e) => e.type);
    assert.deepEqual(events, ['tax_rate.created', 'tax_rate.created']);
  });

  test('create validation', async () => {
    const s = account();
    await rejects(s.taxRates.create({ display_name: 'VAT', inclusive: false } as any), { status: 400, message: 'Missing required param: percentage.', param: 'percentage', code: 'parameter_missing' });
    await rejects(s.taxRates.create({ percentage: 5, inclusive: false } as any), { status: 400, message: 'Missing required param: display_name.', param: 'display_name', code: 'parameter_missing' });
    await rejects(s.taxRates.create({ display_name: 'VAT', percentage: 5 } as any), { status: 400, message: 'Missing required param: inclusive.', param: 'inclusive', code: 'parameter_missing' });
    await rejects(s.taxRates.create({ display_name: 'VAT', percentage: 101, inclusive: false }), { status: 400, message: 'The percentage must be between 0 and 100 (inclusive).', param: 'percentage' });
    await rejects(s.taxRates.create({ display_name: 'VAT', percentage: -1, inclusive: false }), { status: 400, message: 'The percentage must be between 0 and 100 (inclusive).', param: 'percentage' });
    await rejects(s.taxRates.create({ display_name: 'VAT', percentage: 1.23456, inclusive: false }), { status: 400, message: 'The percentage can have at most 4 decimal places.', param: 'percentage' });
    await rejects(s.taxRates.create({ display_name: 'x'.repeat(51), percentage: 1, inclusive: false }), { status: 400, message: /must be at most 50 characters/, param: 'display_name', code: 'parameter_invalid_string' });
    await rejects(s.taxRates.create({ display_name: 'VAT', percentage: 1, inclusive: false, country: 'USA' }), { status: 400, message: /^Country 'USA' is unknown/, param: 'country' });
    await rejects(s.taxRates.create({ display_name: 'VAT', percentage: 1, inclusive: false, tax_type: 'poll_tax' as any }), { status: 400, message: /Invalid tax_type/, param: 'tax_type' });
  });

  test('update: mutable fields with tax_rate.updated; percentage and inclusive cannot change; no delete', async () => {
    const key = freshKey();
    const s = t.stripe(key);
    const r = await s.taxRates.create({ display_name: 'VAT', percentage: 20, inclusive: true });
    const u = await s.taxRates.update(r.id, { display_name: 'TVA', active: false, country: 'FR', jurisdiction: 'FR', description: 'France', tax_type: 'vat', metadata: { k: 'v' } });
    assert.equal(u.display_name, 'TVA');
    assert.equal(u.active, false);
    assert.equal(u.country, 'FR');
    assert.equal(u.tax_type, 'vat');
    assert.equal(u.percentage, 20);
    const ev = (await s.events.list({ type: 'tax_rate.updated' })).data;
    assert.equal(ev.length, 1);
    assert.deepEqual((ev[0]!.data as any).previous_attributes, { active: true, country: null, description: null, display_name: 'VAT', jurisdiction: null, metadata: { k: null }, tax_type: null });
    await rejects(s.taxRates.update(r.id, { percentage: 10 } as any), { status: 400, message: 'Received unknown parameter: percentage', param: 'percentage', code: 'parameter_unknown' });
    await rejects(s.taxRates.update(r.id, { inclusive: false } as any), { status: 400, message: 'Received unknown parameter: inclusive', param: 'inclusive', code: 'parameter_unknown' });
    await rejects(s.taxRates.update(r.id, { display_name: '' }), { status: 400, message: /'display_name' cannot be unset/, param: 'display_name', code: 'parameter_invalid_empty' });
    const del = await t.request('DELETE', `/v1/tax_rates/${r.id}`, { key });
    assert.equal(del.status, 404);
    await assert.rejects(s.taxRates.retrieve('txr_missing'), (e: any) => e.statusCode === 404 && e.message === "No such tax_rate: 'txr_missing'");
  });

  test('list filters: active, inclusive, created', async () => {
    const s = account();
    const a = await s.taxRates.create({ display_name: 'A', percentage: 1, inclusive: false });
    clock.set(clock.now() + 5);
    const b = await s.taxRates.create({ display_name: 'B', percentage: 2, inclusive: true });
    clock.set(clock.now() + 5);
    const c = await s.taxRates.create({ display_name: 'C', percentage: 3, inclusive: true, active: false });
    const ids = async (p: Stripe.TaxRateListParams) => (await s.taxRates.list(p)).data.map((x) => x.id);
    assert.deepEqual(await ids({}), [c.id, b.id, a.id]);
    assert.deepEqual(await ids({ active: true }), [b.id, a.id]);
    assert.deepEqual(await ids({ active: false }), [c.id]);
    assert.deepEqual(await ids({ inclusive: true }), [c.id, b.id]);
    assert.deepEqual(await ids({ inclusive: false, active: true }), [a.id]);
    assert.deepEqual(await ids({ created: { lt: c.created } }), [b.id, a.id]);
  });

  test('taxAmount: exclusive adds, inclusive extracts, rounded to the minor unit', () => {
    assert.equal(taxAmount({ percentage: 19, inclusive: false }, 1000), 190);
    assert.equal(taxAmount({ percentage: 8.875, inclusive: false }, 1999), 177); // 177.41
    assert.equal(taxAmount({ percentage: 20, inclusive: true }, 1200), 200);
    assert.equal(taxAmount({ percentage: 19, inclusive: true }, 1000), 160); // 159.66
    assert.equal(taxAmount({ percentage: 0, inclusive: true }, 1000), 0);
  });
});
