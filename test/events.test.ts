// Events: written with the change they describe, with previous_attributes and request info;
// list filters (type with wildcards, types[], created, delivery_success) and retrieve.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Stripe from 'stripe';
import { freshKey, startTestServer, type TestServer } from './helpers/server.js';

let t: TestServer;
before(async () => { t = await startTestServer(); });
after(() => t.close());

describe('events', () => {
  test('create, update and delete of a customer each write one event', async () => {
    const key = freshKey();
    const s = t.stripe(key);
    const c = await s.customers.create({ name: 'Ev', metadata: { a: '1' } }, { idempotencyKey: 'idem-ev-1' });
    await s.customers.update(c.id, { name: 'Ev2', metadata: { a: '', b: '2' } });
    await s.customers.update(c.id, { name: 'Ev2' }); // no change: no event
    await s.customers.del(c.id);
    const list = await s.events.list();
    assert.deepEqual(list.data.map((e) => e.type), ['customer.deleted', 'customer.updated', 'customer.created']);
    const [deleted, updated, created] = list.data as [Stripe.Event, Stripe.Event, Stripe.Event];
    assert.match(created.id, /^evt_[A-Za-z0-9]{24}$/);
    assert.equal(created.object, 'event');
    assert.equal(created.api_version, '2026-10-28.endive');
    assert.equal(created.livemode, false);
    assert.equal(created.pending_webhooks, 0);
    assert.equal((created.data.object as Stripe.Customer).id, c.id);
    assert.equal((created.data.object as Stripe.Customer).name, 'Ev');
    assert.equal(created.data.previous_attributes, undefined);
    assert.equal(created.request?.idempotency_key, 'idem-ev-1');
    assert.match(created.request!.id!, /^req_/);
    assert.equal((updated.data.object as Stripe.Customer).name, 'Ev2');
    assert.deepEqual(updated.data.previous_attributes, { metadata: { a: '1', b: null }, name: 'Ev' });
    assert.equal(updated.request?.idempotency_key !== undefined, true);
    assert.equal((deleted.data.object as Stripe.Customer).id, c.id);
    const got = await s.events.retrieve(created.id);
    assert.deepEqual(got, created);
  });

  test('type filters: exact, wildcard, types[], and bad combinations', async () => {
    const key = freshKey();
    const s = t.stripe(key);
    const c = await s.customers.create({ name: 'F' });
    await s.products.create({ name: 'P', default_price_data: { currency: 'usd', unit_amount: 100 } });
    await s.customers.update(c.id, { name: 'G' });
    const types = async (p: Record<string, unknown>) => (await s.events.list(p as any)).data.map((e) => e.type);
    assert.deepEqual(await types({}), ['customer.updated', 'price.created', 'product.created', 'customer.created']);
    assert.deepEqual(await types({ type: 'customer.created' }), ['customer.created']);
    assert.deepEqual(await types({ type: 'customer.*' }), ['customer.updated', 'customer.created']);
    assert.deepEqual(await types({ type: '*.created' }), ['price.created', 'product.created', 'customer.created']);
    assert.deepEqual(await types({ types: ['price.created', 'customer.updated'] }), ['customer.updated', 'price.created']);
    assert.deepEqual(await types({ delivery_success: true }), await types({}));
    assert.deepEqual(await types({ delivery_success: false }), []);
    const r = await t.request('GET', '/v1/events?type=customer.created&types[]=x', { key });
    assert.equal(r.status, 400);
  });

  test('created filter and pagination over events', async () => {
    const key = freshKey();
    const s = t.stripe(key);
    for (let i = 0; i < 3; i++) await s.customers.create({ name: `n${i}` });
    const all = await s.events.list({ limit: 2 });
    assert.equal(all.has_more, true);
    const next = await s.events.list({ limit: 2, starting_after: all.data[1]!.id });
    assert.equal(next.data.length, 1);
    const now = Math.floor(Date.now() / 1000);
    assert.equal((await s.events.list({ created: { gte: now - 60 } })).data.length, 3);
    assert.equal((await s.events.list({ created: { gt: now + 60 } })).data.length, 0);
  });

  test('events of one account are invisible to another', async () => {
    const a = t.stripe(freshKey());
    const b = t.stripe(freshKey());
    await a.customers.create({ name: 'A' });
    const ev = (await a.events.list()).data[0]!;
    assert.deepEqual((await b.events.list()).data, []);
    await assert.rejects(b.events.retrieve(ev.id), (e: any) => e.statusCode === 404);
  });
});

describe('expand', () => {
  test('product.default_price, data.product on lists, nested paths, and limits', async () => {
    const key = freshKey();
    const s = t.stripe(key);
    const p = await s.products.create({ name: 'Exp', default_price_data: { currency: 'usd', unit_amount: 500 } });
    const withPrice = await s.products.retrieve(p.id, { expand: ['default_price'] });
    assert.equal((withPrice.default_price as Stripe.Price).unit_amount, 500);
    const deep = await s.products.retrieve(p.id, { expand: ['default_price.product'] });
    assert.equal(((deep.default_price as Stripe.Price).product as Stripe.Product).id, p.id);
    const prices = await s.prices.list({ expand: ['data.product'] });
    assert.equal((prices.data[0]!.product as Stripe.Product).name, 'Exp');
    await assert.rejects(s.products.retrieve(p.id, { expand: ['name'] }), (e: any) =>
      e.statusCode === 400 && e.message === 'This property cannot be expanded (name).');
    await assert.rejects(s.prices.list({ expand: ['product'] } as any), (e: any) => e.statusCode === 400);
    await assert.rejects(s.products.retrieve(p.id, { expand: ['default_price.product.default_price.product.default_price'] }), (e: any) => e.statusCode === 400);
    const four = await s.products.retrieve(p.id, { expand: ['default_price.product.default_price.product'] });
    assert.equal((((four.default_price as Stripe.Price).product as Stripe.Product).default_price as Stripe.Price).id, p.default_price);
    const ev = await s.events.list({ type: 'product.created', expand: ['data.data.object.default_price'] } as any).catch((e) => e);
    assert.ok(ev instanceof Error || ev.data.length === 1);
  });
});

describe('the emitted event catalogue', () => {
  test('every event type the code writes is in EMITTED_EVENT_TYPES, and README lists exactly those', async () => {
    const { readFileSync, readdirSync, statSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { EMITTED_EVENT_TYPES } = await import('../src/events/event-types.js');
    const files = (dir: string): string[] => readdirSync(dir).flatMap((n) => {
      const p = join(dir, n);
      return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
    });
    // Literal types: emitEvent(ctx, 'type', …) and the created/updated/deleted of resource definitions.
    const written = new Set<string>();
    for (const f of files(join(process.cwd(), 'src'))) {
      const text = readFileSync(f, 'utf8');
      for (const m of text.matchAll(/emitEvent\(\w+, '([a-z_.]+)'/g)) written.add(m[1]!);
      for (const m of text.matchAll(/\b(?:created|updated|deleted): '([a-z_]+\.[a-z_.]+)'/g)) written.add(m[1]!);
    }
    const listed = new Set(EMITTED_EVENT_TYPES);
    assert.ok(written.size > 40, `the scan found only ${written.size} types`);
    assert.deepEqual([...written].filter((x) => !listed.has(x)).sort(), [], 'written but not in EMITTED_EVENT_TYPES');
    const readme = readFileSync(join(process.cwd(), 'README.md'), 'utf8');
    const para = readme.slice(readme.indexOf('Event types Pinstripe emits today'), readme.indexOf('Endpoints accept every Stripe event type'));
    const inReadme = [...para.matchAll(/`([a-z_]+(?:\.[a-z_]+)+)`/g)].map((m) => m[1]!).filter((x) => x !== 'src/events/event-types.ts');
    assert.deepEqual(inReadme.sort(), [...listed].sort());
  });
});

describe('event JSON written around the object\'s JSON', () => {
  test('is the text JSON.stringify gives for the whole event, whatever the request and changes', async () => {
    const { eventJson } = await import('../src/events/events.js');
    const object = { id: 'cus_1', object: 'customer', email: 'a"b\\u2028@x.com', metadata: { 'k\u0000': 'v' }, n: 1.5e-7 };
    const requests = [{ id: 'req_1' }, { id: null }, { id: 'req_2', idempotency_key: null }, { id: 'req_3', idempotency_key: 'key "quoted" \u00e9' }];
    for (const request of requests) {
      for (const previous of [undefined, { email: null, metadata: { k: 'old' } }]) {
        const event = {
          id: 'evt_1', object: 'event', api_version: '2026-10-28.endive', created: 1_796_217_071,
          data: previous ? { object, previous_attributes: previous } : { object },
          livemode: request.id === null, pending_webhooks: previous ? 2 : 0, request, type: 'customer.updated',
        };
        assert.equal(eventJson(event, JSON.stringify(object)), JSON.stringify(event), JSON.stringify({ request, previous }));
      }
    }
  });
});
