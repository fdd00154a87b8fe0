// Customers through the official SDK, as an integration uses them.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Stripe from 'stripe';
import { freshKey, startTestServer, type TestServer } from './helpers/server.js';

let t: TestServer;
let stripe: Stripe;
before(async () => { t = await startTestServer(); stripe = t.stripe(); });
after(() => t.close());

describe('customers', () => {
  test('create returns every field of the current shape with Stripe defaults', async () => {
    const c = await stripe.customers.create({ email: 'jenny@example.com', name: 'Jenny Rosen', metadata: { order: '6735' } });
    assert.match(c.id, /^cus_[A-Za-z0-9]{14}$/);
    assert.equal(c.object, 'customer');
    assert.equal(c.email, 'jenny@example.com');
    assert.equal(c.balance, 0);
    assert.equal(c.livemode, false);
    assert.equal(c.delinquent, false);
    assert.equal(c.tax_exempt, 'none');
    assert.deepEqual(c.preferred_locales, []);
    assert.equal(c.next_invoice_sequence, 1);
    assert.match(c.invoice_prefix!, /^[A-Z0-9]{8}$/);
    assert.deepEqual(c.invoice_settings, { custom_fields: null, default_payment_method: null, footer: null, rendering_options: null });
    assert.deepEqual(c.metadata, { order: '6735' });
    for (const k of ['address', 'currency', 'default_source', 'description', 'discount', 'phone', 'shipping', 'test_clock']) {
      assert.equal((c as any)[k], null, k);
    }
    assert.ok(Math.abs(c.created - Date.now() / 1000) < 5);
  });

  test('retrieve, update with unset and metadata rules, delete, retrieve deleted', async () => {
    const c = await stripe.customers.create({ description: 'first', address: { line1: '1 Main St', city: 'SF' }, metadata: { a: '1', b: '2' } });
    assert.deepEqual(c.address, { city: 'SF', country: null, line1: '1 Main St', line2: null, postal_code: null, state: null });
    const got = await stripe.customers.retrieve(c.id);
    assert.deepEqual(got, c);

    const u = await stripe.customers.update(c.id, { description: '', metadata: { a: '', c: '3' }, shipping: { name: 'J', address: { line1: 'x' } } });
    assert.equal(u.description, null);
    assert.deepEqual(u.metadata, { b: '2', c: '3' });
    assert.equal(u.shipping?.name, 'J');
    const cleared = await stripe.customers.update(c.id, { metadata: '' as any });
    assert.deepEqual(cleared.metadata, {});

    const del = await stripe.customers.del(c.id);
    assert.deepEqual(del, { id: c.id, object: 'customer', deleted: true });
    const after = await stripe.customers.retrieve(c.id);
    assert.deepEqual({ ...after }, { id: c.id, object: 'customer', deleted: true });
    await assert.rejects(stripe.customers.update(c.id, { name: 'x' }), (e: any) => e.statusCode === 404 && e.code === 'resource_missing');
    await assert.rejects(stripe.customers.del(c.id), (e: any) => e.statusCode === 404);
  });

  test('retrieve of an unknown id is a 404 naming the id', async () => {
    await assert.rejects(stripe.customers.retrieve('cus_doesnotexist'), (e: any) => {
      assert.ok(e instanceof Stripe.errors.StripeInvalidRequestError);
      assert.equal(e.statusCode, 404);
      assert.equal(e.code, 'resource_missing');
      assert.equal(e.param, 'id');
      assert.equal(e.message, "No such customer: 'cus_doesnotexist'");
      return true;
    });
  });

  test('metadata limits are enforced with Stripe-shaped errors', async () => {
    const many = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v']));
    await assert.rejects(stripe.customers.create({ metadata: many }), (e: any) => e.statusCode === 400 && e.param === 'metadata' && e.message === "Metadata can have up to 50 keys, but you've set 51.");
    await assert.rejects(stripe.customers.create({ metadata: { ['k'.repeat(41)]: 'v' } }), (e: any) => e.statusCode === 400 && e.message === `Metadata keys can have up to 40 characters, but you passed in a key that is 41 characters. Invalid key: ${'k'.repeat(41)}`);
    await assert.rejects(stripe.customers.create({ metadata: { k: 'v'.repeat(501) } }), (e: any) => e.statusCode === 400 && /up to 500 characters/.test(e.message));
    const ok = await stripe.customers.create({ metadata: Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, 'v'.repeat(500)])) });
    assert.equal(Object.keys(ok.metadata).length, 50);
  });

  test('invalid values are rejected naming the parameter', async () => {
    await assert.rejects(stripe.customers.create({ tax_exempt: 'sometimes' as any }), (e: any) =>
      e.statusCode === 400 && e.param === 'tax_exempt' && e.message === 'Invalid tax_exempt: must be one of none, reverse, or exempt');
    await assert.rejects(stripe.customers.create({ balance: 'abc' as any }), (e: any) => e.message === 'Invalid integer: abc' && e.param === 'balance');
    await assert.rejects(stripe.customers.create({ invoice_prefix: 'lower' }), (e: any) => e.param === 'invoice_prefix');
    await assert.rejects(stripe.customers.create({ foo: 'bar' } as any), (e: any) => e.message === 'Received unknown parameter: foo' && e.param === 'foo');
    await assert.rejects(stripe.customers.create({ address: { line9: 'x' } } as any), (e: any) => e.message === 'Received unknown parameter: address[line9]');
    await assert.rejects(stripe.customers.create({ test_clock: 'clock_missing' }), (e: any) => e.statusCode === 400 && e.code === 'resource_missing' && e.param === 'test_clock');
  });

  test('list filters by email and paginates newest first', async () => {
    const key = freshKey();
    const s = t.stripe(key);
    const made = [];
    for (let i = 0; i < 5; i++) made.push(await s.customers.create({ email: i % 2 ? 'odd@example.com' : 'even@example.com' }));
    const all = await s.customers.list({ limit: 3 });
    assert.equal(all.object, 'list');
    assert.equal(all.url, '/v1/customers');
    assert.equal(all.has_more, true);
    assert.deepEqual(all.data.map((c) => c.id), made.slice(2).reverse().map((c) => c.id));
    const rest = await s.customers.list({ limit: 3, starting_after: all.data[2]!.id });
    assert.deepEqual(rest.data.map((c) => c.id), [made[1]!.id, made[0]!.id]);
    assert.equal(rest.has_more, false);
    const back = await s.customers.list({ limit: 2, ending_before: made[1]!.id });
    assert.deepEqual(back.data.map((c) => c.id), [made[3]!.id, made[2]!.id]);
    assert.equal(back.has_more, true);
    const odd = await s.customers.list({ email: 'odd@example.com' });
    assert.deepEqual(odd.data.map((c) => c.id), [made[3]!.id, made[1]!.id]);
    // The email filter is case-sensitive (API reference), while search's email is not.
    const upper = await s.customers.create({ email: 'Odd@Example.com' });
    assert.deepEqual((await s.customers.list({ email: 'Odd@Example.com' })).data.map((c) => c.id), [upper.id]);
    assert.deepEqual((await s.customers.list({ email: 'odd@example.com' })).data.map((c) => c.id), [made[3]!.id, made[1]!.id]);
    assert.deepEqual((await s.customers.list({ email: 'ODD@EXAMPLE.COM' })).data, []);
    assert.deepEqual((await s.customers.search({ query: "email:'ODD@example.com'" })).data.map((c) => c.id), [upper.id, made[3]!.id, made[1]!.id]);
    // An update that changes the email moves the customer between filter results; one that
    // leaves it keeps the customer findable.
    await s.customers.update(made[3]!.id, { email: 'even@example.com' });
    assert.deepEqual((await s.customers.list({ email: 'odd@example.com' })).data.map((c) => c.id), [made[1]!.id]);
    assert.deepEqual((await s.customers.list({ email: 'even@example.com' })).data.map((c) => c.id), [made[4]!.id, made[3]!.id, made[2]!.id, made[0]!.id]);
    await s.customers.update(made[1]!.id, { name: 'still odd' });
    assert.deepEqual((await s.customers.list({ email: 'odd@example.com' })).data.map((c) => c.id), [made[1]!.id]);
    assert.deepEqual((await s.customers.search({ query: "email:'odd@example.com'" })).data.map((c) => c.id), [upper.id, made[1]!.id]);
    await s.customers.update(made[1]!.id, { email: '' });
    assert.deepEqual((await s.customers.list({ email: 'odd@example.com' })).data, []);
    await s.customers.del(upper.id);
    assert.deepEqual((await s.customers.search({ query: "email:'odd@example.com'" })).data, []);
    const ids: string[] = [];
    for await (const c of s.customers.list({ limit: 2 })) ids.push(c.id);
    assert.deepEqual(ids, made.map((c) => c.id).reverse());
  });

  test('accounts are isolated by key, and test and live mode never mix', async () => {
    const a = t.stripe(freshKey());
    const suffix = freshKey().slice('sk_test_'.length);
    const test = t.stripe(`sk_test_${suffix}`);
    const live = t.stripe(`sk_live_${suffix}`);
    const c = await test.customers.create({ name: 'test mode' });
    await assert.rejects(a.customers.retrieve(c.id), (e: any) => e.statusCode === 404);
    await assert.rejects(live.customers.retrieve(c.id), (e: any) => e.statusCode === 404);
    const lc = await live.customers.create({ name: 'live mode' });
    assert.equal(lc.livemode, true);
    assert.deepEqual((await live.customers.list()).data.map((x) => x.id), [lc.id]);
    assert.deepEqual((await test.customers.list()).data.map((x) => x.id), [c.id]);
  });

  test('search: exact, substring, metadata, created ranges, paging, total_count', async () => {
    const s = t.stripe(freshKey());
    const a = await s.customers.create({ email: 'ann@example.com', name: 'Ann Smith', metadata: { tier: 'gold' } });
    const b = await s.customers.create({ email: 'bob@example.org', name: 'Bob Stone', metadata: { tier: 'silver' } });
    const c = await s.customers.create({ email: 'cat@example.com', name: 'Cat Smith' });
    const q = async (query: string, extra: Record<string, unknown> = {}) => (await s.customers.search({ query, ...extra } as any));
    assert.deepEqual((await q("email:'ann@example.com'")).data.map((x) => x.id), [a.id]);
    assert.deepEqual((await q("email:'ANN@Example.com'")).data.map((x) => x.id), [a.id]);
    await s.customers.update(a.id, { email: 'ann@new.example' });
    assert.deepEqual((await q("email:'ann@example.com'")).data, []);
    assert.deepEqual((await q("email:'ann@new.example'")).data.map((x) => x.id), [a.id]);
    await s.customers.update(a.id, { email: 'ann@example.com' });
    assert.deepEqual((await q("email~'example.com'")).data.map((x) => x.id), [c.id, a.id]);
    assert.deepEqual((await q("metadata['tier']:'silver'")).data.map((x) => x.id), [b.id]);
    assert.deepEqual((await q("name:'smith' AND -email:'cat@example.com'")).data.map((x) => x.id), [a.id]);
    assert.deepEqual((await q(`created>=${a.created} AND created<=${c.created}`)).data.length, 3);
    const page1 = await q("email~'example'", { limit: 2, expand: ['total_count'] });
    assert.equal(page1.object, 'search_result');
    assert.equal(page1.url, '/v1/customers/search');
    assert.equal(page1.has_more, true);
    assert.equal((page1 as any).total_count, 3);
    assert.ok(page1.next_page);
    const page2 = await q("email~'example'", { limit: 2, page: page1.next_page });
    assert.deepEqual(page2.data.map((x) => x.id), [a.id]);
    assert.equal(page2.next_page, null);
    await assert.rejects(q('email:'), (e: any) => e.statusCode === 400 && e.param === 'query');
    await assert.rejects(q("nosuchfield:'x'"), (e: any) => e.statusCode === 400 && /unsupported search field/.test(e.message));
    await assert.rejects(q("name:'a' AND email:'b' OR phone:'c'"), (e: any) => e.statusCode === 400);
  });
});
