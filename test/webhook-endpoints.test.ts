// Webhook endpoints API: create (secret only then), retrieve, update (disabled, events, url),
// delete, list, validation of URLs and event types, isolation between accounts and modes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Stripe from 'stripe';
import { freshKey, startTestServer, type TestServer } from './helpers/server.js';

let t: TestServer;
before(async () => { t = await startTestServer({ webhooks: false }); });
after(() => t.close());

describe('webhook endpoints', () => {
  test('create returns every field and the whsec_ secret; retrieve, list and update never show it', async () => {
    const key = freshKey();
    const s = t.stripe(key);
    const we = await s.webhookEndpoints.create({
      url: 'http://localhost:4242/webhooks', enabled_events: ['customer.created', 'price.updated'],
      description: 'local', metadata: { team: 'x' },
    });
    assert.match(we.id, /^we_[A-Za-z0-9]{24}$/);
    assert.deepEqual(Object.keys(we), ['id', 'object', 'api_version', 'application', 'created', 'description', 'enabled_events', 'livemode', 'metadata', 'secret', 'status', 'url']);
    assert.equal(we.object, 'webhook_endpoint');
    assert.equal(we.api_version, null);
    assert.equal(we.application, null);
    assert.equal(we.description, 'local');
    assert.deepEqual(we.enabled_events, ['customer.created', 'price.updated']);
    assert.equal(we.livemode, false);
    assert.deepEqual(we.metadata, { team: 'x' });
    assert.match(we.secret!, /^whsec_[A-Za-z0-9]{32}$/);
    assert.equal(we.status, 'enabled');
    assert.equal(we.url, 'http://localhost:4242/webhooks');

    const got = await s.webhookEndpoints.retrieve(we.id);
    assert.equal(got.secret, undefined);
    const { secret, ...withoutSecret } = we;
    assert.ok(secret);
    assert.deepEqual(JSON.parse(JSON.stringify(got)), JSON.parse(JSON.stringify(withoutSecret)));
    for (const path of [`/v1/webhook_endpoints/${we.id}?expand[]=_secret`, `/v1/webhook_endpoints?expand[]=data._secret`]) {
      const r = await t.request('GET', path, { key });
      assert.equal(r.status, 400, path);
      assert.doesNotMatch(r.text, /whsec_/);
    }
    assert.doesNotMatch((await t.request('GET', `/v1/webhook_endpoints/${we.id}`, { key })).text, /whsec_|_secret/);
    const list = await s.webhookEndpoints.list();
    assert.deepEqual(list.data.map((e) => e.id), [we.id]);
    assert.equal(list.data[0]!.secret, undefined);
    assert.equal(list.url, '/v1/webhook_endpoints');

    const disabled = await s.webhookEndpoints.update(we.id, { disabled: true, description: '', enabled_events: ['*'], url: 'https://example.com/h', metadata: { team: '' } });
    assert.equal(disabled.status, 'disabled');
    assert.equal(disabled.description, null);
    assert.deepEqual(disabled.enabled_events, ['*']);
    assert.equal(disabled.url, 'https://example.com/h');
    assert.deepEqual(disabled.metadata, {});
    assert.equal(disabled.secret, undefined);
    assert.equal((await s.webhookEndpoints.update(we.id, { disabled: false })).status, 'enabled');

    const del = await s.webhookEndpoints.del(we.id);
    assert.deepEqual({ id: del.id, object: del.object, deleted: del.deleted }, { id: we.id, object: 'webhook_endpoint', deleted: true });
    await assert.rejects(s.webhookEndpoints.retrieve(we.id), (e: any) => e.statusCode === 404 && e.message === `No such webhook_endpoint: '${we.id}'`);
    await assert.rejects(s.webhookEndpoints.del(we.id), (e: any) => e.statusCode === 404);
    assert.deepEqual((await s.webhookEndpoints.list()).data, []);
  });

  test('api_version is kept; each endpoint gets its own secret', async () => {
    const s = t.stripe(freshKey());
    const a = await s.webhookEndpoints.create({ url: 'https://a.example/h', enabled_events: ['*'], api_version: '2023-10-16' });
    const b = await s.webhookEndpoints.create({ url: 'https://b.example/h', enabled_events: ['*'] });
    assert.equal(a.api_version, '2023-10-16');
    assert.notEqual(a.secret, b.secret);
    assert.deepEqual((await s.webhookEndpoints.list()).data.map((e) => e.id), [b.id, a.id]);
    assert.deepEqual((await s.webhookEndpoints.list({ limit: 1, starting_after: b.id })).data.map((e) => e.id), [a.id]);
  });

  test('validation: unknown event types, malformed URLs, missing params', async () => {
    const key = freshKey();
    const s = t.stripe(key);
    const bad = (params: any, param: string, message: RegExp) => assert.rejects(s.webhookEndpoints.create(params),
      (e: any) => e.statusCode === 400 && e.type === 'StripeInvalidRequestError' && e.param === param && message.test(e.message));
    await bad({ url: 'https://x.example/h', enabled_events: ['customer.created', 'customer.nope'] }, 'enabled_events[1]', /^Invalid enabled_events\[1\]: must be one of \*, account\.application\.authorized/);
    await bad({ url: 'not a url', enabled_events: ['*'] }, 'url', /^Invalid URL: not a url$/);
    await bad({ url: 'ftp://x.example/h', enabled_events: ['*'] }, 'url', /^Invalid URL/);
    await bad({ url: 'http://', enabled_events: ['*'] }, 'url', /^Invalid URL/);
    await bad({ enabled_events: ['*'] }, 'url', /^Missing required param: url\.$/);
    await bad({ url: 'https://x.example/h' }, 'enabled_events', /^Missing required param: enabled_events\.$/);
    await bad({ url: 'https://x.example/h', enabled_events: ['*'], api_version: '1999-01-01' }, 'api_version', /^Invalid api_version/);
    const we = await s.webhookEndpoints.create({ url: 'http://127.0.0.1:1/h', enabled_events: ['*'] });
    await assert.rejects(s.webhookEndpoints.update(we.id, { url: 'nope' }), (e: any) => e.statusCode === 400 && e.param === 'url');
    await assert.rejects(s.webhookEndpoints.update(we.id, { enabled_events: ['bogus'] as any }), (e: any) => e.statusCode === 400 && e.param === 'enabled_events[0]');
    const r = await t.request('POST', `/v1/webhook_endpoints/${we.id}`, { key, body: 'secret=whsec_x' });
    assert.equal(r.status, 400);
    assert.equal(r.json.error.message, 'Received unknown parameter: secret');
  });

  test('an account and mode may have at most 100 endpoints', async () => {
    const key = freshKey();
    const body = `url=${encodeURIComponent('https://x.example/h')}&enabled_events[]=*`;
    for (let i = 0; i < 100; i++) assert.equal((await t.request('POST', '/v1/webhook_endpoints', { key, body })).status, 200);
    const over = await t.request('POST', '/v1/webhook_endpoints', { key, body });
    assert.equal(over.status, 400);
    assert.match(over.json.error.message, /^You have reached the maximum of 100 webhook endpoints for this account in test mode/);
    assert.equal((await t.request('POST', '/v1/webhook_endpoints', { key: key.replace('sk_test_', 'sk_live_'), body })).status, 200);
  });

  test('endpoints belong to one account and one mode', async () => {
    const owner = t.stripe(freshKey());
    const we = await owner.webhookEndpoints.create({ url: 'https://x.example/h', enabled_events: ['*'] });
    await assert.rejects(t.stripe(freshKey()).webhookEndpoints.retrieve(we.id), (e: any) => e.statusCode === 404);
    const suffix = freshKey().slice('sk_test_'.length);
    const test = t.stripe(`sk_test_${suffix}`);
    const live = t.stripe(`sk_live_${suffix}`);
    const tw = await test.webhookEndpoints.create({ url: 'https://x.example/t', enabled_events: ['*'] });
    const lw = await live.webhookEndpoints.create({ url: 'https://x.example/l', enabled_events: ['*'] });
    assert.equal(lw.livemode, true);
    assert.deepEqual((await test.webhookEndpoints.list()).data.map((e) => e.id), [tw.id]);
    assert.deepEqual((await live.webhookEndpoints.list()).data.map((e) => e.id), [lw.id]);
    await assert.rejects(live.webhookEndpoints.retrieve(tw.id), (e: any) => e.statusCode === 404);
    void Stripe;
  });
});
